package wallet

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/tongban/tongban/sm-crypto"
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
