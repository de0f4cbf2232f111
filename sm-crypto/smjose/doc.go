// Package smjose plugs SM2 into JOSE (go-jose v4) for tongban's ID tokens
// and JWKS.
//
//   - JWS alg "SGD_SM3_SM2" (AlgSM2): SM2 with SM3 over the JWS signing
//     input, Z_A from smcrypto.DefaultUID, signature raw r ‖ s (64 bytes).
//     go-jose cannot sign or verify SM2 itself; NewSigner and NewVerifier
//     are its OpaqueSigner and OpaqueVerifier. Never hand a gmsm key to
//     go-jose directly: it takes the ECDSA path and fails.
//   - JWK {"kty":"EC","crv":"SM2-P-256","x","y","kid","alg","use"} (JWK,
//     MarshalJWK, ParseJWK). go-jose cannot parse these, and a plain
//     encoding/json decode into jose.JSONWebKeySet fails on the whole set
//     when one member is SM2; ParseJWKS parses member by member.
//   - at_hash / c_hash for SM2-signed ID tokens: HalfHashSM3.
//
// The profile, with sources, is docs/crypto/sm-profile.md. Every error
// wraps one of the Err* sentinels here or in smcrypto (errors.Is).
package smjose
