package smcrypto

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strconv"
	"strings"
	"testing"
)

// fastParams keep tests quick; production uses DefaultPasswordParams.
var fastParams = PasswordParams{Iterations: 1000, SaltLen: 16, KeyLen: 32}

// pbkdf2Ref is PBKDF2 from RFC 8018 §5.2 written out with HMACSM3, to
// cross-check the library path.
func pbkdf2Ref(pw, salt []byte, iter, keyLen int) []byte {
	var out []byte
	for block := uint32(1); len(out) < keyLen; block++ {
		u := HMACSM3(pw, binary.BigEndian.AppendUint32(bytes.Clone(salt), block))
		t := bytes.Clone(u)
		for range iter - 1 {
			u = HMACSM3(pw, u)
			for i := range t {
				t[i] ^= u[i]
			}
		}
		out = append(out, t...)
	}
	return out[:keyLen]
}

func TestHashPasswordFormat(t *testing.T) {
	pw := []byte("correct horse battery staple")
	got, err := hashPassword(fixedReader(0x5a), pw, fastParams)
	if err != nil {
		t.Fatal(err)
	}
	salt := bytes.Repeat([]byte{0x5a}, 16)
	want := encodePasswordHash(1000, salt, pbkdf2Ref(pw, salt, 1000, 32))
	if got != want {
		t.Fatalf("hash = %s, want %s", got, want)
	}
	// Golden string, also in docs/crypto/sm-profile.md.
	const golden = "$pbkdf2-sm3$i=1000$WlpaWlpaWlpaWlpaWlpaWg$2vKrhKCmkkc4vB0LuIV9xZTVCdKgS5VfMghN1rpIAn8"
	if got != golden {
		t.Fatalf("hash = %s, want %s", got, golden)
	}
	// 48-byte key: two PBKDF2 blocks.
	p := PasswordParams{Iterations: 3, SaltLen: 20, KeyLen: 48}
	got, err = hashPassword(fixedReader(1), pw, p)
	if err != nil {
		t.Fatal(err)
	}
	salt = bytes.Repeat([]byte{1}, 20)
	if want := encodePasswordHash(3, salt, pbkdf2Ref(pw, salt, 3, 48)); got != want {
		t.Fatalf("two-block hash = %s, want %s", got, want)
	}
}

func TestCheckPassword(t *testing.T) {
	pw := []byte("密码 correct horse")
	enc, err := HashPassword(pw, fastParams)
	if err != nil {
		t.Fatal(err)
	}
	enc2, _ := HashPassword(pw, fastParams)
	if enc == enc2 {
		t.Fatal("two hashes of the same password are equal (salt not random)")
	}
	parts := strings.Split(enc, "$")
	tests := []struct {
		name    string
		enc     string
		pw      []byte
		wantErr error
	}{
		{name: "ok/match", enc: enc, pw: pw},
		{name: "fail/wrong password", enc: enc, pw: []byte("密码 correct horsf"), wantErr: ErrPasswordMismatch},
		{name: "fail/empty password", enc: enc, pw: nil, wantErr: ErrPasswordMismatch},
		{name: "fail/empty string", enc: "", pw: pw, wantErr: ErrUnknownHashFormat},
		{name: "fail/bcrypt", enc: "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy", pw: pw, wantErr: ErrUnknownHashFormat},
		{name: "fail/argon2id", enc: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA", pw: pw, wantErr: ErrUnknownHashFormat},
		{name: "fail/plain text", enc: "hunter2", pw: pw, wantErr: ErrUnknownHashFormat},
		{name: "fail/pbkdf2-sha256", enc: "$pbkdf2-sha256$i=1000$" + parts[3] + "$" + parts[4], pw: pw, wantErr: ErrUnknownHashFormat},
		{name: "fail/missing hash", enc: "$pbkdf2-sm3$i=1000$" + parts[3], pw: pw, wantErr: ErrMalformedHash},
		{name: "fail/extra field", enc: enc + "$x", pw: pw, wantErr: ErrMalformedHash},
		{name: "fail/iterations zero", enc: "$pbkdf2-sm3$i=0$" + parts[3] + "$" + parts[4], pw: pw, wantErr: ErrMalformedHash},
		{name: "fail/iterations leading zero", enc: "$pbkdf2-sm3$i=01000$" + parts[3] + "$" + parts[4], pw: pw, wantErr: ErrMalformedHash},
		{name: "fail/iterations sign", enc: "$pbkdf2-sm3$i=+1000$" + parts[3] + "$" + parts[4], pw: pw, wantErr: ErrMalformedHash},
		{name: "fail/iterations huge", enc: "$pbkdf2-sm3$i=999999999$" + parts[3] + "$" + parts[4], pw: pw, wantErr: ErrPasswordParams},
		{name: "fail/iterations above cap", enc: "$pbkdf2-sm3$i=" + strconv.Itoa(MaxPasswordIterations+1) + "$" + parts[3] + "$" + parts[4], pw: pw, wantErr: ErrPasswordParams},
		{name: "fail/iterations overflow", enc: "$pbkdf2-sm3$i=99999999999999999999$" + parts[3] + "$" + parts[4], pw: pw, wantErr: ErrMalformedHash},
		{name: "fail/no i=", enc: "$pbkdf2-sm3$1000$" + parts[3] + "$" + parts[4], pw: pw, wantErr: ErrMalformedHash},
		{name: "fail/padded salt", enc: "$pbkdf2-sm3$i=1000$" + parts[3] + "==$" + parts[4], pw: pw, wantErr: ErrMalformedHash},
		{name: "fail/url base64 salt", enc: "$pbkdf2-sm3$i=1000$" + strings.Repeat("_", 22) + "$" + parts[4], pw: pw, wantErr: ErrMalformedHash},
		{name: "fail/short salt", enc: "$pbkdf2-sm3$i=1000$c2FsdA$" + parts[4], pw: pw, wantErr: ErrMalformedHash},
		{name: "fail/short hash", enc: "$pbkdf2-sm3$i=1000$" + parts[3] + "$aGFzaA", pw: pw, wantErr: ErrMalformedHash},
		{name: "fail/too long", enc: enc + strings.Repeat("A", 300), pw: pw, wantErr: ErrMalformedHash},
		{name: "fail/flipped hash byte", enc: flippedHash(t, enc), pw: pw, wantErr: ErrPasswordMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckPassword(tt.enc, tt.pw)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("CheckPassword = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

// flippedHash returns enc with one byte of the derived hash changed.
func flippedHash(t *testing.T, enc string) string {
	t.Helper()
	d, err := parsePasswordHash(enc)
	if err != nil {
		t.Fatal(err)
	}
	return encodePasswordHash(d.iter, d.salt, flip(d.dk, 7))
}

func TestHashPasswordParams(t *testing.T) {
	bad := []PasswordParams{
		{},
		{Iterations: 0, SaltLen: 16, KeyLen: 32},
		{Iterations: 1000, SaltLen: 8, KeyLen: 32},
		{Iterations: 1000, SaltLen: 16, KeyLen: 8},
		{Iterations: 1000, SaltLen: 65, KeyLen: 32},
		{Iterations: 1000, SaltLen: 16, KeyLen: 65},
		{Iterations: 100_000_001, SaltLen: 16, KeyLen: 32},
		{Iterations: MaxPasswordIterations + 1, SaltLen: 16, KeyLen: 32},
	}
	if MaxPasswordIterations != 10*DefaultPasswordParams.Iterations {
		t.Errorf("MaxPasswordIterations = %d, want 10 × DefaultPasswordParams.Iterations", MaxPasswordIterations)
	}
	for _, p := range bad {
		if _, err := HashPassword([]byte("x"), p); !errors.Is(err, ErrPasswordParams) {
			t.Errorf("HashPassword(%+v) = %v, want ErrPasswordParams", p, err)
		}
	}
	if err := DefaultPasswordParams.validate(); err != nil {
		t.Fatalf("DefaultPasswordParams invalid: %v", err)
	}
	if _, err := hashPassword(errReader{}, []byte("x"), fastParams); err == nil {
		t.Fatal("failing rand accepted")
	}
}

func TestNeedsRehash(t *testing.T) {
	enc, _ := HashPassword([]byte("x"), fastParams)
	if NeedsRehash(enc, fastParams) {
		t.Fatal("same params need rehash")
	}
	if !NeedsRehash(enc, DefaultPasswordParams) {
		t.Fatal("fewer iterations not flagged")
	}
	if !NeedsRehash("$2a$10$abc", fastParams) {
		t.Fatal("foreign hash not flagged")
	}
}

func TestCheckPasswordDummy(t *testing.T) {
	if testing.Short() {
		t.Skip("spends one full default hash")
	}
	if err := CheckPasswordDummy([]byte("x")); !errors.Is(err, ErrPasswordMismatch) {
		t.Fatalf("CheckPasswordDummy = %v, want ErrPasswordMismatch", err)
	}
}
