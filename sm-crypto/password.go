package smcrypto

import (
	"crypto/pbkdf2"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/emmansun/gmsm/sm3"
)

// PasswordParams are the PBKDF2-HMAC-SM3 parameters of a password hash
// (PBKDF2 as in RFC 8018 §5.2 with HMAC-SM3 as the PRF).
type PasswordParams struct {
	// Iterations is the PBKDF2 iteration count, 1 to MaxPasswordIterations.
	Iterations int
	// SaltLen is the length of the random salt in bytes, 16 to 64.
	SaltLen int
	// KeyLen is the length of the derived hash in bytes, 16 to 64.
	KeyLen int
}

// DefaultPasswordParams: 16-byte salt, 32-byte hash (one PBKDF2 block) and
// 125,000 iterations, which cost ≈50 ms per hash on one core.
//
// Measured on the development machine (Intel Xeon, amd64 with AVX2, gmsm
// v0.44.1 SM3, Go 1.26.8, 2 cores shared with other jobs) with
//
//	go test -run '^$' -bench 'BenchmarkHashPassword$' -benchtime=2s -count=3 ./sm-crypto/
//
// which reported 49.9, 52.3 and 54.1 ms/op (load average ≈3; the quietest
// runs gave 0.40 µs per iteration, i.e. 50 ms); see
// docs/crypto/sm-profile.md §6. Re-measure on production hardware and raise
// Iterations as it gets faster: old hashes keep verifying because the count
// is stored in each hash string, and NeedsRehash tells a caller when to
// re-hash at login.
var DefaultPasswordParams = PasswordParams{Iterations: 125_000, SaltLen: 16, KeyLen: 32}

const (
	passwordHashID   = "pbkdf2-sm3"
	passwordPrefix   = "$" + passwordHashID + "$"
	minIterations    = 1
	maxIterations    = MaxPasswordIterations
	minSaltOrKeyLen  = 16
	maxSaltOrKeyLen  = 64
	maxEncodedLength = 256
)

// MaxPasswordIterations caps the PBKDF2 iteration count, of new hashes (HashPassword) and of
// stored ones (CheckPassword): ten times DefaultPasswordParams, ≈0.5 s of one core. A hash
// string is data — imported, or written by anyone with access to the database — and without
// a cap one crafted string would make each login against it cost a minute of CPU.
const MaxPasswordIterations = 10 * 125_000

var b64 = base64.RawStdEncoding.Strict()

func (p PasswordParams) validate() error {
	if p.Iterations < minIterations || p.Iterations > maxIterations {
		return fmt.Errorf("%w: iterations %d not in [%d, %d]", ErrPasswordParams, p.Iterations, minIterations, maxIterations)
	}
	if p.SaltLen < minSaltOrKeyLen || p.SaltLen > maxSaltOrKeyLen {
		return fmt.Errorf("%w: salt length %d not in [%d, %d]", ErrPasswordParams, p.SaltLen, minSaltOrKeyLen, maxSaltOrKeyLen)
	}
	if p.KeyLen < minSaltOrKeyLen || p.KeyLen > maxSaltOrKeyLen {
		return fmt.Errorf("%w: key length %d not in [%d, %d]", ErrPasswordParams, p.KeyLen, minSaltOrKeyLen, maxSaltOrKeyLen)
	}
	return nil
}

// HashPassword derives a PBKDF2-HMAC-SM3 hash of pw with a fresh random
// salt from crypto/rand and returns the self-describing string
//
//	$pbkdf2-sm3$i=<iterations>$<salt>$<hash>
//
// where <iterations> is decimal without leading zeros and <salt> and <hash>
// are standard base64 without padding (RFC 4648 §4, the PHC string
// convention). pw is used as given, byte for byte: normalise Unicode before
// calling if you need to. Errors: ErrPasswordParams.
func HashPassword(pw []byte, p PasswordParams) (string, error) {
	return hashPassword(nil, pw, p)
}

func hashPassword(rand io.Reader, pw []byte, p PasswordParams) (string, error) {
	if err := p.validate(); err != nil {
		return "", err
	}
	salt := make([]byte, p.SaltLen)
	if _, err := io.ReadFull(randOrDefault(rand), salt); err != nil {
		return "", fmt.Errorf("smcrypto: password salt: %w", err)
	}
	dk, err := derive(pw, salt, p.Iterations, p.KeyLen)
	if err != nil {
		return "", err
	}
	return encodePasswordHash(p.Iterations, salt, dk), nil
}

func derive(pw, salt []byte, iter, keyLen int) ([]byte, error) {
	dk, err := pbkdf2.Key(sm3.New, string(pw), salt, iter, keyLen)
	if err != nil {
		return nil, fmt.Errorf("smcrypto: pbkdf2: %w", err)
	}
	return dk, nil
}

func encodePasswordHash(iter int, salt, dk []byte) string {
	return passwordPrefix + "i=" + strconv.Itoa(iter) + "$" + b64.EncodeToString(salt) + "$" + b64.EncodeToString(dk)
}

// decodedHash is a parsed $pbkdf2-sm3$ string.
type decodedHash struct {
	iter     int
	salt, dk []byte
}

// parsePasswordHash parses encoded strictly: the canonical form written by
// HashPassword and nothing else, so decode → encode reproduces the input.
func parsePasswordHash(encoded string) (decodedHash, error) {
	var d decodedHash
	if len(encoded) > maxEncodedLength {
		return d, fmt.Errorf("%w: longer than %d bytes", ErrMalformedHash, maxEncodedLength)
	}
	parts := strings.Split(encoded, "$")
	if len(parts) < 2 || parts[0] != "" {
		return d, fmt.Errorf("%w: not a $id$... hash string", ErrUnknownHashFormat)
	}
	if parts[1] != passwordHashID {
		return d, fmt.Errorf("%w: %q", ErrUnknownHashFormat, parts[1])
	}
	if len(parts) != 5 {
		return d, fmt.Errorf("%w: want 5 '$'-separated fields, got %d", ErrMalformedHash, len(parts))
	}
	num, ok := strings.CutPrefix(parts[2], "i=")
	if !ok || num == "" || len(num) > 9 || (num[0] == '0') || strings.Trim(num, "0123456789") != "" {
		return d, fmt.Errorf("%w: bad iteration field %q", ErrMalformedHash, parts[2])
	}
	iter, err := strconv.Atoi(num)
	if err != nil || iter < minIterations {
		return d, fmt.Errorf("%w: iterations %q out of range", ErrMalformedHash, num)
	}
	if iter > maxIterations {
		return d, fmt.Errorf("%w: iterations %d above the cap %d", ErrPasswordParams, iter, maxIterations)
	}
	salt, err := b64.DecodeString(parts[3])
	if err != nil || len(salt) < minSaltOrKeyLen || len(salt) > maxSaltOrKeyLen {
		return d, fmt.Errorf("%w: bad salt", ErrMalformedHash)
	}
	dk, err := b64.DecodeString(parts[4])
	if err != nil || len(dk) < minSaltOrKeyLen || len(dk) > maxSaltOrKeyLen {
		return d, fmt.Errorf("%w: bad hash", ErrMalformedHash)
	}
	return decodedHash{iter: iter, salt: salt, dk: dk}, nil
}

// CheckPassword reports whether pw matches encoded, a string made by
// HashPassword. The derived key is compared in constant time
// (crypto/subtle); the time taken depends only on the iteration count in
// encoded. It returns nil on a match, or ErrPasswordMismatch,
// ErrUnknownHashFormat (another $id$, or no $id$ at all), ErrPasswordParams
// (an iteration count above MaxPasswordIterations, refused before any work)
// or ErrMalformedHash (a $pbkdf2-sm3$ string that is not canonical or whose
// iteration count, salt or hash length is otherwise out of bounds — the
// bounds of PasswordParams).
//
// For a user that does not exist call CheckPasswordDummy instead, so both
// paths cost the same.
func CheckPassword(encoded string, pw []byte) error {
	d, err := parsePasswordHash(encoded)
	if err != nil {
		return err
	}
	dk, err := derive(pw, d.salt, d.iter, len(d.dk))
	if err != nil {
		return err
	}
	if subtle.ConstantTimeCompare(dk, d.dk) != 1 {
		return ErrPasswordMismatch
	}
	return nil
}

// dummySalt is a fixed salt for CheckPasswordDummy; the result is discarded.
var dummySalt = []byte("tongban-dummy-salt-for-unknown-users")[:16]

// CheckPasswordDummy spends the work of one CheckPassword with
// DefaultPasswordParams and always returns ErrPasswordMismatch. Call it when
// the user is unknown, so that response time does not reveal which
// accounts exist.
func CheckPasswordDummy(pw []byte) error {
	if p := DefaultPasswordParams; p.validate() == nil {
		dk, err := derive(pw, dummySalt, p.Iterations, p.KeyLen)
		if err == nil {
			subtle.ConstantTimeCompare(dk, dk)
		}
	}
	return ErrPasswordMismatch
}

// NeedsRehash reports whether encoded was made with parameters other than p
// (fewer or more iterations, another salt or hash length) or cannot be
// parsed, so that a caller can re-hash the password after a successful
// login.
func NeedsRehash(encoded string, p PasswordParams) bool {
	d, err := parsePasswordHash(encoded)
	if err != nil {
		return true
	}
	return d.iter != p.Iterations || len(d.salt) != p.SaltLen || len(d.dk) != p.KeyLen
}
