package sealed

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"
)

var (
	key  = bytes.Repeat([]byte{7}, 32)
	when = time.Date(2026, 12, 5, 10, 30, 0, 0, time.UTC)
)

func fixed(t time.Time) func() time.Time { return func() time.Time { return t } }

func TestRoundTrip(t *testing.T) {
	s := New(key, "tb_at_", fixed(when))
	for _, payload := range [][]byte{{}, []byte(`{"id":"r1"}`), bytes.Repeat([]byte("x"), 1000)} {
		tok, err := s.Seal(payload)
		if err != nil {
			t.Fatal(err)
		}
		if !s.Has(tok) || strings.ContainsAny(tok, ".=+/ ") {
			t.Errorf("token shape: %q", tok)
		}
		got, err := s.Open(tok)
		if err != nil || !bytes.Equal(got, payload) {
			t.Errorf("Open = %q, %v; want %q", got, err, payload)
		}
	}
	a, _ := s.Seal([]byte("same"))
	b, _ := s.Seal([]byte("same"))
	if a == b {
		t.Error("two seals of one payload are equal: the nonce is not random")
	}
}

// TestEpochs: a token opens in later hours (its epoch's key is derived again), and a sealer of
// another hour seals with another key.
func TestEpochs(t *testing.T) {
	tok, err := New(key, "tb_at_", fixed(when)).Seal([]byte("p"))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []time.Duration{0, time.Hour, 30 * time.Hour, -2 * time.Hour} {
		if got, err := New(key, "tb_at_", fixed(when.Add(d))).Open(tok); err != nil || string(got) != "p" {
			t.Errorf("opened %v later: %q %v", d, got, err)
		}
	}
	s := New(key, "tb_at_", fixed(when))
	raw, _ := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(tok, "tb_at_"))
	raw[4] ^= 1 // the epoch is authenticated
	if _, err := s.Open("tb_at_" + base64.RawURLEncoding.EncodeToString(raw)); !errors.Is(err, ErrInvalid) {
		t.Errorf("changed epoch: %v, want ErrInvalid", err)
	}
}

// TestTamper flips every bit of a token in turn: none opens.
func TestTamper(t *testing.T) {
	s := New(key, "tb_at_", fixed(when))
	tok, _ := s.Seal([]byte(`{"id":"r1","cid":"app"}`))
	raw, _ := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(tok, "tb_at_"))
	for i := range raw {
		for bit := range 8 {
			c := bytes.Clone(raw)
			c[i] ^= 1 << bit
			_, err := s.Open("tb_at_" + base64.RawURLEncoding.EncodeToString(c))
			want := ErrInvalid
			if i == 0 {
				want = ErrMalformed // the version byte
			}
			if !errors.Is(err, want) {
				t.Fatalf("byte %d bit %d flipped: %v, want %v", i, bit, err, want)
			}
		}
	}
}

func TestOpenErrors(t *testing.T) {
	s := New(key, "tb_at_", fixed(when))
	tok, _ := s.Seal([]byte("p"))
	other, _ := New(bytes.Repeat([]byte{8}, 32), "tb_at_", fixed(when)).Seal([]byte("p"))
	refresh, _ := New(key, "tb_rt_", fixed(when)).Seal([]byte("p"))
	for _, c := range []struct {
		name, tok string
		want      error
	}{
		{"fail/other key", other, ErrInvalid},
		{"fail/other prefix", "tb_at_" + strings.TrimPrefix(refresh, "tb_rt_"), ErrInvalid},
		{"fail/no prefix", strings.TrimPrefix(tok, "tb_at_"), ErrMalformed},
		{"fail/empty", "", ErrMalformed},
		{"fail/prefix only", "tb_at_", ErrMalformed},
		{"fail/short", tok[:20], ErrMalformed},
		{"fail/padding", tok + "=", ErrMalformed},
		{"fail/not base64url", tok[:len(tok)-1] + "+", ErrMalformed},
		{"fail/legacy HMAC shape", "tb_at_abc.def", ErrMalformed},
		{"fail/too long", "tb_at_" + strings.Repeat("A", MaxTokenSize), ErrMalformed},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got, err := s.Open(c.tok); !errors.Is(err, c.want) || got != nil {
				t.Errorf("Open = %q, %v; want %v", got, err, c.want)
			}
		})
	}
}

func FuzzOpen(f *testing.F) {
	s := New(key, "tb_at_", fixed(when))
	tok, _ := s.Seal([]byte(`{"id":"r1"}`))
	f.Add(tok)
	f.Add("tb_at_")
	f.Add("tb_at_AQAAAAA")
	f.Fuzz(func(t *testing.T, tok string) {
		p, err := s.Open(tok)
		if err == nil {
			// Only a real seal opens; re-sealing its payload opens to the same payload.
			again, err := s.Seal(p)
			if err != nil {
				t.Fatal(err)
			}
			if q, err := s.Open(again); err != nil || !bytes.Equal(p, q) {
				t.Fatalf("re-seal: %q %v", q, err)
			}
		} else if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrInvalid) {
			t.Fatalf("unexpected error %v", err)
		}
	})
}

func BenchmarkSeal(b *testing.B) {
	s := New(key, "tb_at_", nil)
	payload := []byte(`{"id":"3NZq2XnBqUXQ1Kx9ZK0O2A","rat":1733400000000000000,"cid":"bench-svc","s":{"ae":1733400600000000000}}`)
	for b.Loop() {
		if _, err := s.Seal(payload); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen(b *testing.B) {
	s := New(key, "tb_at_", nil)
	tok, _ := s.Seal([]byte(`{"id":"3NZq2XnBqUXQ1Kx9ZK0O2A","rat":1733400000000000000,"cid":"bench-svc","s":{"ae":1733400600000000000}}`))
	for b.Loop() {
		if _, err := s.Open(tok); err != nil {
			b.Fatal(err)
		}
	}
}
