package sm3otp_test

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os/exec"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm3"

	"github.com/tongban/tongban/sm-crypto/sm3otp"
)

func u64(v uint64) *uint64 { return &v }
func u32(v uint32) *uint32 { return &v }

var (
	k1, _ = hex.DecodeString("1234567890abcdef1234567890abcdef")
	k2    = []byte("12345678901234567890")
)

// vectors were computed by testdata/vectors.py with OpenSSL's SM3 (see the package doc: not
// official GM/T 0021-2012 Appendix B vectors, which could not be found).
var vectors = []struct {
	name   string
	key    []byte
	f      sm3otp.Factors
	digits int
	s      string // SM3(K ‖ ID), hex
	od     uint32
	p      string
}{
	{"time/T0=59", k1, sm3otp.Factors{T: u64(59 / 60)}, 6,
		"d32548f86f0f07132cddd125a9f1b6db25947d6c68446e63b98c557724a9cbae", 2232607999, "607999"},
	{"time/T0=1111111109", k1, sm3otp.Factors{T: u64(1111111109 / 60)}, 6,
		"8f9d862375c52fa751fe552cb91e285fe322cea9769df141d08de695b0573c7f", 3945076307, "076307"},
	{"time/T0=1234567890", k1, sm3otp.Factors{T: u64(1234567890 / 60)}, 6,
		"f8d7748422d514b06102fc12089b7a354cab76e2cf9602efbb556495c66aee74", 592235605, "235605"},
	{"time/T0=2000000000", k1, sm3otp.Factors{T: u64(2000000000 / 60)}, 6,
		"f963a462da8d76e8c577907adb82470e249ada6c42a29d59eec7d6e58396ddea", 1317478246, "478246"},
	{"time+event+challenge", k1, sm3otp.Factors{T: u64(1313712000 / 60), C: u32(1234), Q: []byte("5678")}, 6,
		"f00e5a099125a17527276449942e1b25e59532d26dc557300efcf89d8f65cf79", 776391940, "391940"},
	{"event+challenge", k1, sm3otp.Factors{C: u32(1), Q: []byte("12345678")}, 6,
		"c237ec1014bc02c1ba004779eb5031ff4fa2e2d93c0006739e246ec85aee9742", 16406431, "406431"},
	{"challenge/padded", k1, sm3otp.Factors{Q: []byte("1234")}, 6,
		"033e8f37447fd38eb07e1482626db9ec96914815aa76bc741c2afbf87a8a9629", 845662173, "662173"},
	{"key20/time", k2, sm3otp.Factors{T: u64(1234567890 / 60)}, 6,
		"a1ef3c06a5b841993b20e5e86a3f8394483841fce14e9bfcefe1807b33c92d31", 976843455, "843455"},
	{"key20/time/8digits", k2, sm3otp.Factors{T: u64(1234567890 / 60)}, 8,
		"a1ef3c06a5b841993b20e5e86a3f8394483841fce14e9bfcefe1807b33c92d31", 976843455, "76843455"},
	{"key20/time30/8digits", k2, sm3otp.Factors{T: u64(1234567890 / 30)}, 8,
		"170819dae7a105934bc9233d37c2d583fbee01ed9e1ece1d3986a32ee8098f27", 1037179532, "37179532"},
	{"key20/event-max/10digits", k2, sm3otp.Factors{C: u32(0xffffffff)}, 10,
		"8ce7e0eb04628149b15c2f2d273b677fa55213ec97cf937292725f8f8c3867ca", 3316541335, "3316541335"},
}

func TestVectors(t *testing.T) {
	for _, v := range vectors {
		t.Run(v.name, func(t *testing.T) {
			s := sm3.Sum(append(append([]byte{}, v.key...), v.f.ID()...))
			if got := hex.EncodeToString(s[:]); got != v.s {
				t.Fatalf("S = %s, want %s", got, v.s)
			}
			if od := sm3otp.Truncate(s); od != v.od {
				t.Errorf("OD = %d, want %d", od, v.od)
			}
			p, err := sm3otp.Compute(v.key, v.f, v.digits)
			if err != nil || p != v.p {
				t.Errorf("P = %q %v, want %q", p, err, v.p)
			}
			// One flipped bit of the key or of ID changes the password.
			k := bytes.Clone(v.key)
			k[len(k)-1] ^= 1
			if p2, _ := sm3otp.Compute(k, v.f, v.digits); p2 == v.p {
				t.Errorf("key with a flipped bit gives the same password %s", p2)
			}
		})
	}
}

func TestID(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    sm3otp.Factors
		want string
	}{
		{"time-only/padded", sm3otp.Factors{T: u64(0x0102030405060708)}, "01020304050607080000000000000000"},
		{"event-only/padded", sm3otp.Factors{C: u32(0x0a0b0c0d)}, "0a0b0c0d000000000000000000000000"},
		{"all/unpadded", sm3otp.Factors{T: u64(1), C: u32(2), Q: []byte("ABCD")}, "00000000000000010000000241424344"},
		{"long-challenge", sm3otp.Factors{Q: []byte("0123456789abcdefXY")}, hex.EncodeToString([]byte("0123456789abcdefXY"))},
	} {
		if got := hex.EncodeToString(tc.f.ID()); got != tc.want {
			t.Errorf("%s: ID = %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestTruncateWraps(t *testing.T) {
	var s [32]byte
	for i := 0; i < 32; i += 4 {
		binary.BigEndian.PutUint32(s[i:], 0xffffffff)
	}
	// 8 × (2^32 − 1) mod 2^32 = 2^32 − 8
	if od := sm3otp.Truncate(s); od != 0xfffffff8 {
		t.Fatalf("OD = %#x, want 0xfffffff8", od)
	}
}

func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		key    []byte
		f      sm3otp.Factors
		digits int
		want   error
	}{
		{"fail/short-key", k1[:15], sm3otp.Factors{T: u64(1)}, 6, sm3otp.ErrShortKey},
		{"fail/nil-key", nil, sm3otp.Factors{T: u64(1)}, 6, sm3otp.ErrShortKey},
		{"fail/5-digits", k1, sm3otp.Factors{T: u64(1)}, 5, sm3otp.ErrDigits},
		{"fail/11-digits", k1, sm3otp.Factors{T: u64(1)}, 11, sm3otp.ErrDigits},
		{"fail/short-challenge", k1, sm3otp.Factors{Q: []byte("123")}, 6, sm3otp.ErrShortChallenge},
		{"fail/no-factor", k1, sm3otp.Factors{}, 6, sm3otp.ErrNoFactor},
		{"ok/16-byte-key", k1, sm3otp.Factors{T: u64(1)}, 6, nil},
	} {
		_, err := sm3otp.Compute(tc.key, tc.f, tc.digits)
		if (tc.want == nil && err != nil) || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
	for _, p := range []time.Duration{-time.Second, 61 * time.Second, 1500 * time.Millisecond} {
		if _, err := sm3otp.Generate(k1, time.Unix(0, 0), sm3otp.Opts{Period: p}); !errors.Is(err, sm3otp.ErrPeriod) {
			t.Errorf("period %v: err = %v, want ErrPeriod", p, err)
		}
	}
}

// TestGenerateValidate: a fixed clock, the default 60-second period, and the period edges.
func TestGenerateValidate(t *testing.T) {
	at := time.Unix(1234567890, 0) // T = 20576131, the vector "time/T0=1234567890"
	p, err := sm3otp.Generate(k1, at, sm3otp.Opts{})
	if err != nil || p != "235605" {
		t.Fatalf("Generate = %q %v, want 235605", p, err)
	}
	start := time.Unix(20576131*60, 0)
	for _, tc := range []struct {
		name string
		at   time.Time
		want bool
	}{
		{"ok/period-start", start, true},
		{"ok/period-end", start.Add(59 * time.Second), true},
		{"fail/next-period", start.Add(60 * time.Second), false},
		{"fail/previous-period", start.Add(-time.Second), false},
	} {
		ok, err := sm3otp.Validate("235605", k1, tc.at, sm3otp.Opts{})
		if err != nil || ok != tc.want {
			t.Errorf("%s: Validate = %v %v, want %v", tc.name, ok, err, tc.want)
		}
	}
	for _, bad := range []string{"235606", "23560", "2356050", "", "235605 "} {
		if ok, _ := sm3otp.Validate(bad, k1, at, sm3otp.Opts{}); ok {
			t.Errorf("Validate(%q) accepted", bad)
		}
	}
	if tf, _ := sm3otp.TimeFactor(time.Unix(-5, 0), sm3otp.Opts{}); tf != 0 {
		t.Errorf("TimeFactor before 1970 = %d, want 0", tf)
	}
}

// TestAgainstOpenSSL computes S with OpenSSL's SM3 (an implementation independent of gmsm)
// over K ‖ ID for varied factors, and the password from it with the truncation written out
// again here. Skipped where openssl has no SM3.
func TestAgainstOpenSSL(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("no openssl")
	}
	if out, err := exec.Command("openssl", "dgst", "-sm3", "-binary").Output(); err != nil || len(out) != 32 {
		t.Skip("openssl without SM3")
	}
	for i := range 8 {
		key := bytes.Repeat([]byte{byte(0x30 + i)}, 16+i)
		f := sm3otp.Factors{T: u64(uint64(1700000000+i*977) / 60)}
		if i%2 == 1 {
			f.C = u32(uint32(i * 1000003))
		}
		if i%3 == 0 {
			f.Q = []byte(fmt.Sprintf("Q%07d", i))
		}
		cmd := exec.Command("openssl", "dgst", "-sm3", "-binary")
		cmd.Stdin = bytes.NewReader(append(bytes.Clone(key), f.ID()...))
		s, err := cmd.Output()
		if err != nil || len(s) != 32 {
			t.Fatalf("openssl: %v", err)
		}
		var sum uint32
		for j := 0; j < 32; j += 4 {
			sum += uint32(s[j])<<24 | uint32(s[j+1])<<16 | uint32(s[j+2])<<8 | uint32(s[j+3])
		}
		want := fmt.Sprintf("%06d", sum%1000000)
		if got, err := sm3otp.Compute(key, f, 6); err != nil || got != want {
			t.Errorf("case %d: Compute = %q %v, OpenSSL-based %q", i, got, err, want)
		}
	}
}
