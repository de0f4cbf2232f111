package smjose

import (
	"encoding/base64"

	smcrypto "github.com/tongban/tongban/sm-crypto"
)

// HalfHashSM3 returns base64url without padding of the left 16 bytes of
// SM3(b): the at_hash and c_hash value of an ID token signed with
// SGD_SM3_SM2 (OpenID Connect Core 1.0 §3.1.3.6 and §3.3.2.11 take the left
// half of the hash named by the JWS alg; for SGD_SM3_SM2 that hash is SM3).
// b is the ASCII access token or code. The result is 22 characters.
func HalfHashSM3(b []byte) string {
	sum := smcrypto.SM3(b)
	return base64.RawURLEncoding.EncodeToString(sum[:smcrypto.SM3Size/2])
}
