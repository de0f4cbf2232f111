package web

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	smcrypto "github.com/tongban/tongban/sm-crypto"
	"github.com/tongban/tongban/sm-crypto/smjose"
)

func TestKeySetSM2(t *testing.T) {
	good, err := smcrypto.GenerateKey(nil)
	mustNoErr(t, err)
	evil, err := smcrypto.GenerateKey(nil)
	mustNoErr(t, err)
	kid := smcrypto.KeyIDString(&good.PublicKey)
	jwk := smjose.JWK{Key: &good.PublicKey, KeyID: kid, Use: "sig"}
	set, err := smjose.MarshalJWKS(nil, []smjose.JWK{jwk})
	mustNoErr(t, err)
	var fetches atomic.Int32
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Write(set)
	}))
	defer hs.Close()
	ks := &keySet{url: hs.URL, hc: hs.Client(), now: time.Now}

	sign := func(priv any, kid string) string {
		signer, err := jose.NewSigner(jose.SigningKey{Algorithm: smjose.AlgSM2, Key: priv},
			(&jose.SignerOptions{}).WithHeader("kid", kid))
		mustNoErr(t, err)
		obj, err := signer.Sign([]byte(`{"sub":"x"}`))
		mustNoErr(t, err)
		tok, err := obj.CompactSerialize()
		mustNoErr(t, err)
		return tok
	}
	if _, err := ks.VerifySignature(t.Context(), sign(smjose.NewSigner(good, kid), kid)); err != nil {
		t.Fatalf("good token: %v", err)
	}
	if _, err := ks.VerifySignature(t.Context(), sign(smjose.NewSigner(evil, kid), kid)); err == nil {
		t.Fatal("token signed by another key under the same kid accepted")
	}
	if _, err := ks.VerifySignature(t.Context(), sign(smjose.NewSigner(evil, "other"), "other")); err == nil {
		t.Fatal("token with an unknown kid accepted")
	}
	if _, err := ks.VerifySignature(t.Context(), "not.a.token"); err == nil {
		t.Fatal("garbage accepted")
	}
	if n := fetches.Load(); n > 2 {
		t.Errorf("JWKS fetched %d times: the refetch is not rate-limited", n)
	}
}

// TestKeySetPinsAlgorithm: the provider publishes SM2 and ES256 keys; a wallet registered for
// SGD_SM3_SM2 refuses an ES256 ID token that verifies under the published ES256 key, and one
// registered for ES256 refuses the SM2 token.
func TestKeySetPinsAlgorithm(t *testing.T) {
	sm2Key, err := smcrypto.GenerateKey(nil)
	mustNoErr(t, err)
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	mustNoErr(t, err)
	sm2Kid := smcrypto.KeyIDString(&sm2Key.PublicKey)
	set, err := smjose.MarshalJWKS(
		[]jose.JSONWebKey{{Key: &ecKey.PublicKey, KeyID: "es", Algorithm: "ES256", Use: "sig"}},
		[]smjose.JWK{{Key: &sm2Key.PublicKey, KeyID: sm2Kid, Use: "sig"}})
	mustNoErr(t, err)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(set)
	}))
	defer hs.Close()
	sign := func(alg jose.SignatureAlgorithm, priv any, kid string) string {
		signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: priv},
			(&jose.SignerOptions{}).WithHeader("kid", kid))
		mustNoErr(t, err)
		obj, err := signer.Sign([]byte(`{"sub":"x"}`))
		mustNoErr(t, err)
		tok, err := obj.CompactSerialize()
		mustNoErr(t, err)
		return tok
	}
	sm2Tok := sign(smjose.AlgSM2, smjose.NewSigner(sm2Key, sm2Kid), sm2Kid)
	esTok := sign(jose.ES256, ecKey, "es")

	pinnedSM2 := &keySet{url: hs.URL, alg: DefaultIDTokenAlg, hc: hs.Client(), now: time.Now}
	if _, err := pinnedSM2.VerifySignature(t.Context(), sm2Tok); err != nil {
		t.Fatalf("SM2 token refused by an SM2 wallet: %v", err)
	}
	if _, err := pinnedSM2.VerifySignature(t.Context(), esTok); err == nil {
		t.Fatal("ES256 token accepted by a wallet registered for SGD_SM3_SM2")
	}
	pinnedES := &keySet{url: hs.URL, alg: "ES256", hc: hs.Client(), now: time.Now}
	if _, err := pinnedES.VerifySignature(t.Context(), esTok); err != nil {
		t.Fatalf("ES256 token refused by an ES256 wallet: %v", err)
	}
	if _, err := pinnedES.VerifySignature(t.Context(), sm2Tok); err == nil {
		t.Fatal("SM2 token accepted by a wallet registered for ES256")
	}
}
