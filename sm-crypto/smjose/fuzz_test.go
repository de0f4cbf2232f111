package smjose

import (
	"encoding/json"
	"errors"
	"testing"

	smcrypto "github.com/tongban/tongban/sm-crypto"
)

func FuzzParseJWK(f *testing.F) {
	f.Add([]byte(katJWK))
	f.Add([]byte(`{"kty":"EC","crv":"SM2-P-256","x":"","y":""}`))
	f.Add([]byte(`{"kty":"EC","crv":"P-256"}`))
	f.Add([]byte(`{"d":"x"}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := ParseJWK(data)
		if err != nil {
			if !errors.Is(err, ErrMalformedJWK) && !errors.Is(err, ErrNotSM2JWK) && !errors.Is(err, smcrypto.ErrWrongCurve) && !errors.Is(err, smcrypto.ErrMalformedKey) {
				t.Fatalf("undocumented error %v", err)
			}
			return
		}
		out, err := json.Marshal(k)
		if err != nil {
			t.Fatalf("re-marshal: %v", err)
		}
		k2, err := ParseJWK(out)
		if err != nil || !k2.Key.Equal(k.Key) || k2.KeyID != k.KeyID || k2.Use != k.Use {
			t.Fatalf("round trip: %+v %v", k2, err)
		}
		// Canonical output is a fixed point.
		out2, _ := json.Marshal(k2)
		if string(out2) != string(out) {
			t.Fatalf("not canonical: %s vs %s", out, out2)
		}
	})
}

func FuzzParseJWKS(f *testing.F) {
	f.Add([]byte(`{"keys":[` + katJWK + `]}`))
	f.Add([]byte(`{"keys":[{"kty":"EC","crv":"P-256","x":"AA","y":"AA"},` + katJWK + `,7]}`))
	f.Add([]byte(`{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"oct","k":"AAAA"}]}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		set, err := ParseJWKS(data)
		if err != nil {
			if !errors.Is(err, ErrMalformedJWKS) {
				t.Fatalf("undocumented error %v", err)
			}
			return
		}
		for _, k := range set.Standard.Keys {
			if !k.IsPublic() {
				t.Fatal("private key kept")
			}
		}
		out, err := json.Marshal(set)
		if err != nil {
			return // go-jose may refuse to re-marshal keys it parsed; not ours to fix
		}
		set2, err := ParseJWKS(out)
		if err != nil || len(set2.SM2) != len(set.SM2) {
			t.Fatalf("re-parse: %v", err)
		}
	})
}

func FuzzVerifyCompact(f *testing.F) {
	priv := katKey(f)
	tok := signSM2(f, priv, "k", []byte(`{"a":1}`))
	f.Add(tok)
	f.Add(tok[:len(tok)-2])
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Add("..")
	f.Fuzz(func(t *testing.T, token string) {
		payload, err := VerifyCompact(token, &priv.PublicKey)
		if err == nil {
			if string(payload) != `{"a":1}` {
				t.Fatalf("forged token accepted: %q", payload)
			}
			return
		}
		if !errors.Is(err, ErrMalformedJWS) && !errors.Is(err, ErrAlgorithm) && !errors.Is(err, ErrInvalidSignature) {
			t.Fatalf("undocumented error %v", err)
		}
	})
}
