package qr

import (
	"crypto/ecdsa"
	"encoding/pem"
	"errors"
	"fmt"

	smcrypto "github.com/tongban/tongban/sm-crypto"
)

// ErrBadTrustAnchor: a trust-anchor file holds no SM2 public key, or a PEM block of another
// type, or a key that is not SM2 (ParseTrustAnchors).
var ErrBadTrustAnchor = errors.New("qr: bad trust anchor")

// ParseTrustAnchors reads a trust anchor file, the keys a verifier pins for trust lists: one
// or more PKIX "PUBLIC KEY" PEM blocks (RFC 7468 §13) of SM2 keys; text outside the blocks
// (comment lines with the fingerprint) is ignored. Errors wrap ErrBadTrustAnchor: no block, a
// block of another type, or a key that is not SM2.
func ParseTrustAnchors(data []byte) ([]*ecdsa.PublicKey, error) {
	var out []*ecdsa.PublicKey
	for {
		var blk *pem.Block
		blk, data = pem.Decode(data)
		if blk == nil {
			break
		}
		if blk.Type != "PUBLIC KEY" {
			return nil, fmt.Errorf("%w: PEM block %q, want PUBLIC KEY", ErrBadTrustAnchor, blk.Type)
		}
		k, err := smcrypto.ParsePublicKeyPEM(pem.EncodeToMemory(&pem.Block{Type: blk.Type, Bytes: blk.Bytes}))
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadTrustAnchor, err)
		}
		out = append(out, k)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no PUBLIC KEY PEM block", ErrBadTrustAnchor)
	}
	return out, nil
}
