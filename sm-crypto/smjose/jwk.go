package smjose

import (
	"bytes"
	"crypto/ecdsa"
	"encoding/base64"
	"encoding/json"
	"fmt"

	smcrypto "github.com/tongban/tongban/sm-crypto"
)

// coordSize is the length of x and y in an SM2 JWK (RFC 7518 §6.2.1.2:
// the full field size, left-padded).
const coordSize = 32

// privateMembers are JWK members that carry private or symmetric key
// material (RFC 7517, RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 "d").
var privateMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k", "priv"}

// JWK is an SM2 public key as a JSON Web Key (RFC 7517):
//
//	{"kty":"EC","crv":"SM2-P-256","x":"<32 bytes>","y":"<32 bytes>",
//	 "kid":"…","alg":"SGD_SM3_SM2","use":"sig"}
//
// x and y are base64url without padding (RFC 7515 §2) of the 32-byte
// big-endian coordinates. The fields mirror jose.JSONWebKey.
type JWK struct {
	// Key is the public key, on sm2.P256().
	Key *ecdsa.PublicKey
	// KeyID is "kid". MarshalJSON omits it when empty.
	KeyID string
	// Algorithm is "alg": AlgSM2 or empty. MarshalJSON always writes
	// AlgSM2, because go-oidc skips keys by their alg and would otherwise
	// fail on the whole set (DESIGN §8).
	Algorithm string
	// Use is "use", normally "sig". MarshalJSON omits it when empty.
	Use string
}

type rawJWK struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
	Kid string `json:"kid,omitempty"`
	Alg string `json:"alg,omitempty"`
	Use string `json:"use,omitempty"`
}

// MarshalJSON encodes k with members in the order kty, crv, x, y, kid, alg,
// use. Errors: smcrypto.ErrMalformedKey or smcrypto.ErrWrongCurve (Key is
// not a valid SM2 key), ErrNotSM2JWK (Algorithm is set to something else).
func (k JWK) MarshalJSON() ([]byte, error) {
	pt := smcrypto.MarshalPublicKey(k.Key)
	if pt == nil {
		if k.Key == nil {
			return nil, fmt.Errorf("%w: nil key", smcrypto.ErrMalformedKey)
		}
		return nil, smcrypto.ErrWrongCurve
	}
	if k.Algorithm != "" && k.Algorithm != string(AlgSM2) {
		return nil, fmt.Errorf("%w: alg %q", ErrNotSM2JWK, k.Algorithm)
	}
	return json.Marshal(rawJWK{
		Kty: "EC",
		Crv: CurveSM2,
		X:   base64.RawURLEncoding.EncodeToString(pt[1 : 1+coordSize]),
		Y:   base64.RawURLEncoding.EncodeToString(pt[1+coordSize:]),
		Kid: k.KeyID,
		Alg: string(AlgSM2),
		Use: k.Use,
	})
}

// UnmarshalJSON parses an SM2 public JWK strictly; see ParseJWK.
func (k *JWK) UnmarshalJSON(data []byte) error {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(data, &members); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformedJWK, err)
	}
	if m := hasPrivate(members); m != "" {
		return fmt.Errorf("%w: contains private member %q", ErrMalformedJWK, m)
	}
	var raw rawJWK
	if err := json.Unmarshal(data, &raw); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformedJWK, err)
	}
	if raw.Kty != "EC" || raw.Crv != CurveSM2 {
		return fmt.Errorf("%w: kty %q crv %q", ErrNotSM2JWK, raw.Kty, raw.Crv)
	}
	if raw.Alg != "" && raw.Alg != string(AlgSM2) {
		return fmt.Errorf("%w: alg %q", ErrNotSM2JWK, raw.Alg)
	}
	x, errX := base64.RawURLEncoding.Strict().DecodeString(raw.X)
	y, errY := base64.RawURLEncoding.Strict().DecodeString(raw.Y)
	if errX != nil || errY != nil || len(x) != coordSize || len(y) != coordSize {
		return fmt.Errorf("%w: x and y must be %d-byte base64url without padding", ErrMalformedJWK, coordSize)
	}
	pub, err := smcrypto.ParsePublicKey(bytes.Join([][]byte{{0x04}, x, y}, nil))
	if err != nil {
		return err
	}
	*k = JWK{Key: pub, KeyID: raw.Kid, Algorithm: raw.Alg, Use: raw.Use}
	return nil
}

func hasPrivate(members map[string]json.RawMessage) string {
	for _, m := range privateMembers {
		if _, ok := members[m]; ok {
			return m
		}
	}
	return ""
}

// MarshalJWK returns the JWK of pub with alg SGD_SM3_SM2, the given use
// (normally "sig"; empty omits it) and kid; an empty kid means
// smcrypto.KeyIDString(pub). Errors: those of JWK.MarshalJSON.
func MarshalJWK(pub *ecdsa.PublicKey, kid, use string) ([]byte, error) {
	if kid == "" {
		kid = smcrypto.KeyIDString(pub)
	}
	return JWK{Key: pub, KeyID: kid, Algorithm: string(AlgSM2), Use: use}.MarshalJSON()
}

// ParseJWK parses one SM2 public JWK. It requires kty "EC", crv
// "SM2-P-256", alg absent or "SGD_SM3_SM2", x and y exactly 32 bytes each
// in unpadded base64url, a point on the SM2 curve, and no private members
// ("d" …). Unknown members are ignored (RFC 7517 §4).
//
// Errors: ErrMalformedJWK, ErrNotSM2JWK, smcrypto.ErrWrongCurve (the point
// is not on the SM2 curve).
func ParseJWK(data []byte) (*JWK, error) {
	var k JWK
	if err := k.UnmarshalJSON(data); err != nil {
		return nil, err
	}
	return &k, nil
}
