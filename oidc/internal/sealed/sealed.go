// Package sealed makes and opens self-contained opaque tokens: a payload encrypted and
// authenticated with SM4-GCM (GB/T 32907-2016, NIST SP 800-38D) under a key derived from the
// provider's token key, so that a token needs no database row to be checked. tongban's opaque
// access tokens are sealed tokens (docs/design/token-transactions.md).
//
// Format (ASCII):
//
//	prefix ‖ base64url-nopad( version (1 byte, 0x01) ‖ epoch (4 bytes, big-endian)
//	                          ‖ nonce (12 bytes) ‖ ciphertext ‖ tag (16 bytes) )
//
// epoch is the hour of sealing (Unix time / 3600). Each epoch has its own key,
// HMAC-SM3(token key, "tongban/sealed/" ‖ prefix ‖ "/" ‖ epoch)[:16], so one key never seals
// more than an hour of tokens: far below the 2^32 messages SP 800-38D §8.3 allows one key with
// random 96-bit nonces. The additional data is prefix ‖ version ‖ epoch, so neither can be
// changed, and a token of one prefix never opens as one of another. The payload is opaque
// here.
//
// Written here rather than taken from a library: no served module seals tokens with SM4-GCM.
package sealed

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	smcrypto "github.com/tongban/tongban/sm-crypto"
)

// Version is the format version byte.
const Version byte = 0x01

// headerSize is the version and epoch.
const headerSize = 1 + 4

// MaxTokenSize bounds a token Open accepts, in characters. A sealed access token is 250 to
// 600 characters; only a claims request near its 4,096-byte limit makes one longer, up to
// about 11 KiB. Sealers refuse to issue a longer one (see fositeadapter.sealAccessToken).
const MaxTokenSize = 16 << 10

// Errors of Open.
var (
	// ErrMalformed: the token does not have the shape of a sealed token of this prefix.
	ErrMalformed = errors.New("sealed: malformed token")
	// ErrInvalid: the token has the shape but does not open: another key, another prefix, or
	// a changed byte.
	ErrInvalid = errors.New("sealed: token does not authenticate")
)

// Sealer seals and opens tokens of one prefix under one token key. It is safe for concurrent
// use.
type Sealer struct {
	key    []byte
	prefix string
	now    func() time.Time

	mu   sync.Mutex
	aead map[uint32]*smcrypto.SM4GCM // by epoch; the few most recent
}

// New returns a Sealer for tokens starting with prefix (e.g. "tb_at_"), with keys derived from
// tokenKey; now gives the sealing time (nil means time.Now).
func New(tokenKey []byte, prefix string, now func() time.Time) *Sealer {
	if now == nil {
		now = time.Now
	}
	return &Sealer{key: tokenKey, prefix: prefix, now: now, aead: map[uint32]*smcrypto.SM4GCM{}}
}

// Prefix returns the prefix of the Sealer's tokens.
func (s *Sealer) Prefix() string { return s.prefix }

// Has reports whether token has the shape of a sealed token of s (its prefix, then base64url
// only); it checks nothing cryptographic.
func (s *Sealer) Has(token string) bool {
	body, ok := strings.CutPrefix(token, s.prefix)
	return ok && len(body) > 0 && !strings.ContainsAny(body, ".=+/")
}

// Seal returns the token sealing payload now.
func (s *Sealer) Seal(payload []byte) (string, error) {
	epoch := uint32(s.now().Unix() / 3600)
	g, err := s.cipher(epoch)
	if err != nil {
		return "", err
	}
	var hdr [headerSize]byte
	hdr[0] = Version
	binary.BigEndian.PutUint32(hdr[1:], epoch)
	sealed, err := g.Seal(nil, payload, s.aad(hdr))
	if err != nil {
		return "", fmt.Errorf("sealed: %w", err)
	}
	raw := make([]byte, 0, headerSize+len(sealed))
	raw = append(append(raw, hdr[:]...), sealed...)
	return s.prefix + base64.RawURLEncoding.EncodeToString(raw), nil
}

// Open authenticates and decrypts token and returns its payload. Errors: ErrMalformed (wrong
// prefix, not base64url, too short or too long, unknown version), ErrInvalid (does not
// authenticate).
func (s *Sealer) Open(token string) ([]byte, error) {
	body, ok := strings.CutPrefix(token, s.prefix)
	if !ok || len(token) > MaxTokenSize {
		return nil, ErrMalformed
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(body)
	if err != nil || len(raw) < headerSize+smcrypto.SealOverhead || raw[0] != Version {
		return nil, ErrMalformed
	}
	var hdr [headerSize]byte
	copy(hdr[:], raw)
	g, err := s.cipher(binary.BigEndian.Uint32(hdr[1:]))
	if err != nil {
		return nil, err
	}
	payload, err := g.Open(raw[headerSize:], s.aad(hdr))
	if err != nil {
		return nil, ErrInvalid
	}
	return payload, nil
}

func (s *Sealer) aad(hdr [headerSize]byte) []byte {
	return append([]byte(s.prefix), hdr[:]...)
}

// keepEpochs is how many recent epochs the Sealer keeps a cipher for; tokens of older (or
// future) epochs — rare, or forged — get their key derived on each use.
const keepEpochs = 8

// cipher returns the SM4-GCM of epoch, deriving its key when it is not cached.
func (s *Sealer) cipher(epoch uint32) (*smcrypto.SM4GCM, error) {
	current := uint32(s.now().Unix() / 3600)
	cacheable := epoch <= current+1 && epoch+keepEpochs > current
	s.mu.Lock()
	defer s.mu.Unlock()
	if g, ok := s.aead[epoch]; ok {
		return g, nil
	}
	key := smcrypto.HMACSM3(s.key, []byte("tongban/sealed/"+s.prefix+"/"+strconv.FormatUint(uint64(epoch), 10)))[:smcrypto.SM4KeySize]
	g, err := smcrypto.NewSM4GCM(key)
	if err != nil {
		return nil, fmt.Errorf("sealed: %w", err)
	}
	if cacheable {
		for e := range s.aead {
			if e+keepEpochs <= current {
				delete(s.aead, e)
			}
		}
		s.aead[epoch] = g
	}
	return g, nil
}
