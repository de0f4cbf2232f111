package smjose

import (
	"crypto/ecdsa"
	"encoding/json"
	"fmt"

	"github.com/go-jose/go-jose/v4"
)

// KeySet is a JWK Set (RFC 7517 §5) split by what can read each member.
type KeySet struct {
	// Standard holds the public keys go-jose understands (RSA, EC P-256,
	// P-384, P-521, Ed25519), in document order.
	Standard jose.JSONWebKeySet
	// SM2 holds the SM2 public keys, in document order.
	SM2 []JWK
	// Skipped lists the members that were not usable, with the reason.
	Skipped []SkippedKey
}

// SkippedKey is a JWK Set member that ParseJWKS left out.
type SkippedKey struct {
	// Index is the member's position in the "keys" array, from 0.
	Index int
	// KeyID is the member's "kid", if it had a readable one.
	KeyID string
	// Err says why.
	Err error
}

type member struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	Alg string `json:"alg"`
	Kid string `json:"kid"`
}

// ParseJWKS parses a JWK Set member by member, so that one member that
// go-jose cannot read (an SM2 key, an unknown kty, a broken key) never fails
// the others — RFC 7517 §5 asks readers to ignore such members. A member
// whose crv is "SM2-P-256" or whose alg is "SGD_SM3_SM2" is parsed with
// ParseJWK into SM2; every other member is parsed by go-jose into Standard,
// which accepts only public keys. Members that fail either parser, and
// members with private or symmetric key material, are listed in Skipped.
//
// Errors: ErrMalformedJWKS when data is not a JSON object with a "keys"
// array; never for a bad member.
func ParseJWKS(data []byte) (*KeySet, error) {
	var doc struct {
		Keys *[]json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedJWKS, err)
	}
	if doc.Keys == nil {
		return nil, fmt.Errorf("%w: no \"keys\" array", ErrMalformedJWKS)
	}
	set := &KeySet{Standard: jose.JSONWebKeySet{Keys: []jose.JSONWebKey{}}}
	for i, raw := range *doc.Keys {
		var m member
		if err := json.Unmarshal(raw, &m); err != nil {
			set.skip(i, "", fmt.Errorf("%w: %v", ErrMalformedJWK, err))
			continue
		}
		if m.Crv == CurveSM2 || m.Alg == string(AlgSM2) {
			k, err := ParseJWK(raw)
			if err != nil {
				set.skip(i, m.Kid, err)
				continue
			}
			set.SM2 = append(set.SM2, *k)
			continue
		}
		k, err := parseStandard(raw)
		if err != nil {
			set.skip(i, m.Kid, err)
			continue
		}
		set.Standard.Keys = append(set.Standard.Keys, k)
	}
	return set, nil
}

func (s *KeySet) skip(i int, kid string, err error) {
	s.Skipped = append(s.Skipped, SkippedKey{Index: i, KeyID: kid, Err: err})
}

// parseStandard parses a non-SM2 member with go-jose, public keys only.
func parseStandard(raw json.RawMessage) (jose.JSONWebKey, error) {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(raw, &members); err != nil {
		return jose.JSONWebKey{}, fmt.Errorf("%w: %v", ErrMalformedJWK, err)
	}
	if m := hasPrivate(members); m != "" {
		return jose.JSONWebKey{}, fmt.Errorf("%w: contains private member %q", ErrMalformedJWK, m)
	}
	var k jose.JSONWebKey
	if err := k.UnmarshalJSON(raw); err != nil {
		return jose.JSONWebKey{}, fmt.Errorf("%w: go-jose: %v", ErrMalformedJWK, err)
	}
	if k.Key == nil || !k.IsPublic() {
		return jose.JSONWebKey{}, fmt.Errorf("%w: not a public key", ErrMalformedJWK)
	}
	return k, nil
}

// MarshalJWKS writes a JWK Set with the standard keys first, then the SM2
// keys, each SM2 member carrying "alg":"SGD_SM3_SM2". Errors: those of
// jose.JSONWebKey.MarshalJSON and JWK.MarshalJSON; ErrMalformedJWK for a
// standard key that is not public.
func MarshalJWKS(standard []jose.JSONWebKey, sm2 []JWK) ([]byte, error) {
	keys := make([]json.RawMessage, 0, len(standard)+len(sm2))
	for _, k := range standard {
		if !k.IsPublic() {
			return nil, fmt.Errorf("%w: standard key %q is not public", ErrMalformedJWK, k.KeyID)
		}
		b, err := k.MarshalJSON()
		if err != nil {
			return nil, err
		}
		keys = append(keys, b)
	}
	for _, k := range sm2 {
		b, err := k.MarshalJSON()
		if err != nil {
			return nil, err
		}
		keys = append(keys, b)
	}
	return json.Marshal(struct {
		Keys []json.RawMessage `json:"keys"`
	}{keys})
}

// MarshalJSON writes s with MarshalJWKS (Skipped members are dropped).
func (s *KeySet) MarshalJSON() ([]byte, error) {
	return MarshalJWKS(s.Standard.Keys, s.SM2)
}

// VerifySM2 verifies a compact JWS signed with AlgSM2 by one of the SM2
// keys of s and returns its payload. Candidate keys are those whose use is
// "sig" or absent and, when the JWS header has a kid, whose kid equals it;
// without a kid every SM2 signing key is tried. Claims are not checked.
//
// Errors: ErrMalformedJWS, ErrAlgorithm (alg is not SGD_SM3_SM2; verify
// standard algorithms with go-jose and s.Standard), ErrUnknownKey,
// ErrInvalidSignature wrapping the smcrypto reason.
func (s *KeySet) VerifySM2(token string) ([]byte, error) {
	jws, err := parseCompact(token)
	if err != nil {
		return nil, err
	}
	kid := jws.Signatures[0].Header.KeyID
	var keys []*ecdsa.PublicKey
	for _, k := range s.SM2 {
		if k.Use != "" && k.Use != "sig" {
			continue
		}
		if kid != "" && k.KeyID != kid {
			continue
		}
		keys = append(keys, k.Key)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: kid %q", ErrUnknownKey, kid)
	}
	return verifyWith(jws, keys)
}
