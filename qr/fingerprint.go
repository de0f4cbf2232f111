package qr

import (
	"crypto/ecdsa"
	"fmt"

	smcrypto "github.com/tongban/tongban/sm-crypto"
)

// AnchorFingerprint returns the fingerprint of a trust-list signing key (a trust anchor) as
// operators compare it by phone or on paper: its COSE kid (smcrypto.KeyID, the first 8 bytes
// of SM3 over the 65-byte public key) in hex, in four groups of four, e.g.
// "3f2a 9c01 77be 0d45".
func AnchorFingerprint(pub *ecdsa.PublicKey) string {
	id := smcrypto.KeyID(pub)
	return fmt.Sprintf("%x %x %x %x", id[0:2], id[2:4], id[4:6], id[6:8])
}
