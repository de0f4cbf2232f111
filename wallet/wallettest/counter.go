package wallettest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
)

// Counter is a verifying counter's key as the browser verifier (receipts.js) holds it: an
// ECDSA P-256 key, its public JWK and, once enrolled, its kid and counter ID. Receipt signs
// receipts as the browser does (WebCrypto ECDSA with SHA-256: r ‖ s, 64 bytes).
type Counter struct {
	Key       *ecdsa.PrivateKey
	KeyID     string // set after enrolment
	CounterID string // set after enrolment
}

// NewCounter generates a counter key from rand (crypto/rand.Reader when nil).
func NewCounter(r io.Reader) (*Counter, error) {
	if r == nil {
		r = rand.Reader
	}
	k, err := ecdsa.GenerateKey(elliptic.P256(), r)
	if err != nil {
		return nil, err
	}
	return &Counter{Key: k}, nil
}

// JWK returns the public key as a JWK (RFC 7518 §6.2.1): {"kty":"EC","crv":"P-256","x","y"}.
func (c *Counter) JWK() []byte {
	pt, _ := c.Key.PublicKey.Bytes() // uncompressed: 0x04 ‖ x ‖ y
	b, _ := json.Marshal(map[string]string{"kty": "EC", "crv": "P-256",
		"x": base64.RawURLEncoding.EncodeToString(pt[1:33]), "y": base64.RawURLEncoding.EncodeToString(pt[33:])})
	return b
}

// Receipt returns a compact JWS receipt for the code with cti, verified at iat (Unix
// seconds): header {"alg":"ES256","typ":"tongban-receipt+jwt","kid":KeyID}, claims
// {"cti","ctr","iat"}. header, when not nil, replaces the header (for bad-input tests).
func (c *Counter) Receipt(cti []byte, iat int64, header map[string]any) string {
	claims, _ := json.Marshal(map[string]any{"cti": base64.RawURLEncoding.EncodeToString(cti), "ctr": c.CounterID, "iat": iat})
	return c.Sign(header, claims)
}

// Sign returns a compact JWS over claims with the given header (nil: the receipt header).
func (c *Counter) Sign(header map[string]any, claims []byte) string {
	if header == nil {
		header = map[string]any{"alg": "ES256", "typ": "tongban-receipt+jwt", "kid": c.KeyID}
	}
	h, _ := json.Marshal(header)
	input := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(claims)
	d := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, c.Key, d[:])
	if err != nil {
		panic(err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}
