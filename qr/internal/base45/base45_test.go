package base45

import (
	"bytes"
	"errors"
	"testing"
)

// RFC 9285 §4.3 and §4.4 examples, plus the edges of the value ranges.
var vectors = []struct {
	raw, enc string
}{
	{"AB", "BB8"},
	{"Hello!!", "%69 VD92EX0"},
	{"base-45", "UJCLQE7W581"},
	{"ietf!", "QED8WEX0"},
	{"", ""},
	{"\x00", "00"},
	{"\xff", "U5"},
	{"\x00\x00", "000"},
	{"\xff\xff", "FGW"},
}

func TestVectors(t *testing.T) {
	for _, v := range vectors {
		if got := Encode([]byte(v.raw)); got != v.enc {
			t.Errorf("Encode(%q) = %q, want %q", v.raw, got, v.enc)
		}
		got, err := Decode(v.enc)
		if err != nil || string(got) != v.raw {
			t.Errorf("Decode(%q) = %q, %v, want %q", v.enc, got, err, v.raw)
		}
	}
}

func TestDecodeStrict(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		offset int
		want   error
	}{
		{"fail/lowercase", "bB8", 0, ErrInvalidChar},
		{"fail/char-outside-alphabet", "BB#", 2, ErrInvalidChar},
		{"fail/second-char", "B_8", 1, ErrInvalidChar},
		{"fail/non-ascii", "BB\xc3", 2, ErrInvalidChar},
		{"fail/triplet-over-65535", "GGW", 0, ErrOverflow},
		{"fail/triplet-max", ":::", 0, ErrOverflow},
		{"fail/pair-over-255", "V5", 0, ErrOverflow},
		{"fail/later-chunk", "BB8GGW", 3, ErrOverflow},
		{"fail/dangling-one", "B", 0, ErrInvalidLength},
		{"fail/dangling-four", "BB8B", 3, ErrInvalidLength},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode(tt.in)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Decode(%q) error = %v, want %v", tt.in, err, tt.want)
			}
			var ce *CorruptInputError
			if !errors.As(err, &ce) || ce.Offset != tt.offset {
				t.Errorf("Decode(%q) error = %#v, want offset %d", tt.in, err, tt.offset)
			}
			if got != nil {
				t.Errorf("Decode(%q) returned %x with an error", tt.in, got)
			}
		})
	}
}

func TestRoundTripAllPairs(t *testing.T) {
	for n := 0; n < 1<<16; n++ {
		b := []byte{byte(n >> 8), byte(n)}
		got, err := Decode(Encode(b))
		if err != nil || !bytes.Equal(got, b) {
			t.Fatalf("round trip %x: %x, %v", b, got, err)
		}
	}
}

func TestLengths(t *testing.T) {
	for n := 0; n < 10; n++ {
		enc := Encode(make([]byte, n))
		if len(enc) != EncodedLen(n) || DecodedLen(len(enc)) != n {
			t.Errorf("n=%d: len %d, EncodedLen %d, DecodedLen %d", n, len(enc), EncodedLen(n), DecodedLen(len(enc)))
		}
	}
}

// FuzzDecode checks that Decode never panics and that whatever it accepts
// is canonical: encoding the result reproduces the input exactly.
func FuzzDecode(f *testing.F) {
	for _, v := range vectors {
		f.Add(v.enc)
	}
	f.Add("GGW")
	f.Add("bB8")
	f.Add("B")
	f.Fuzz(func(t *testing.T, s string) {
		b, err := Decode(s)
		if err != nil {
			return
		}
		if got := Encode(b); got != s {
			t.Fatalf("Encode(Decode(%q)) = %q", s, got)
		}
	})
}

// FuzzEncode checks Decode(Encode(b)) == b.
func FuzzEncode(f *testing.F) {
	f.Add([]byte("Hello!!"))
	f.Add([]byte{0xff, 0xff, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := Decode(Encode(b))
		if err != nil || !bytes.Equal(got, b) {
			t.Fatalf("Decode(Encode(%x)) = %x, %v", b, got, err)
		}
	})
}
