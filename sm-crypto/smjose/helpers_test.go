package smjose

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/hex"
	"testing"

	"github.com/emmansun/gmsm/sm2"
	"github.com/go-jose/go-jose/v4"
	smcrypto "github.com/tongban/tongban/sm-crypto"
)

// The GM/T 0003.5-2012 Annex A.2 example key (see smcrypto's tests).
const katD = "3945208f7b2144b13f36e38ac6d39f95889393692860b51a42fb81ef4df7c5b8"

// katJWK is the JWK of the example key, written by hand from the
// standard's xA and yA (09f9df31… and ccea490c…).
const katJWK = `{"kty":"EC","crv":"SM2-P-256","x":"CfnfMR5UIaFQ3X0WHkvFxnIXn60YM_wHa7CP81bzUCA","y":"zOpJDOJndaUtxupxjMGqYArtBfvzXghKZjL2By2prRM","kid":"5qT5dl_Kieg","alg":"SGD_SM3_SM2","use":"sig"}`

func katKey(t testing.TB) *sm2.PrivateKey {
	t.Helper()
	d, _ := hex.DecodeString(katD)
	priv, err := sm2.NewPrivateKey(d)
	if err != nil {
		t.Fatal(err)
	}
	return priv
}

func newSM2(t testing.TB) *sm2.PrivateKey {
	t.Helper()
	k, err := smcrypto.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newES256(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newRSA(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// signSM2 makes a compact JWS with go-jose and NewSigner.
func signSM2(t testing.TB, priv *sm2.PrivateKey, kid string, payload []byte) string {
	t.Helper()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: AlgSM2, Key: NewSigner(priv, kid)}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	jws, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// signStd makes a compact JWS with a standard go-jose key.
func signStd(t testing.TB, alg jose.SignatureAlgorithm, key any, kid string, payload []byte) string {
	t.Helper()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: key, KeyID: kid}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
