package smjose

import (
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	smcrypto "github.com/tongban/tongban/sm-crypto"
)

func TestMarshalJWKKnownAnswer(t *testing.T) {
	priv := katKey(t)
	got, err := MarshalJWK(&priv.PublicKey, "", "sig")
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != katJWK {
		t.Fatalf("MarshalJWK =\n%s\nwant\n%s", got, katJWK)
	}
	k, err := ParseJWK(got)
	if err != nil {
		t.Fatal(err)
	}
	if !k.Key.Equal(&priv.PublicKey) || k.KeyID != "5qT5dl_Kieg" || k.Algorithm != string(AlgSM2) || k.Use != "sig" {
		t.Fatalf("ParseJWK = %+v", k)
	}
	again, err := json.Marshal(k)
	if err != nil || string(again) != katJWK {
		t.Fatalf("re-marshal = %s, %v", again, err)
	}
}

func TestJWKRoundTrip(t *testing.T) {
	for range 20 { // coordinates with leading zero bytes must stay 32 bytes
		priv := newSM2(t)
		b, err := MarshalJWK(&priv.PublicKey, "kid-1", "")
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), `"use"`) {
			t.Fatalf("empty use written: %s", b)
		}
		k, err := ParseJWK(b)
		if err != nil {
			t.Fatal(err)
		}
		if !k.Key.Equal(&priv.PublicKey) || k.KeyID != "kid-1" {
			t.Fatal("round trip changed the key")
		}
	}
}

func TestParseJWK(t *testing.T) {
	es := newES256(t)
	tests := []struct {
		name    string
		in      string
		wantErr error
	}{
		{name: "ok/standard", in: katJWK},
		{name: "ok/no alg no kid no use", in: `{"kty":"EC","crv":"SM2-P-256","x":"CfnfMR5UIaFQ3X0WHkvFxnIXn60YM_wHa7CP81bzUCA","y":"zOpJDOJndaUtxupxjMGqYArtBfvzXghKZjL2By2prRM"}`},
		{name: "ok/unknown member", in: strings.Replace(katJWK, `"use":"sig"`, `"use":"sig","x5t":"abc"`, 1)},
		{name: "fail/not JSON", in: `{`, wantErr: ErrMalformedJWK},
		{name: "fail/array", in: `[]`, wantErr: ErrMalformedJWK},
		{name: "fail/private d", in: strings.Replace(katJWK, `"use":"sig"`, `"use":"sig","d":"OUUgj3shRLE_NuOKxtOflYiTk2koYLUaQvuB703<xbg"`, 1), wantErr: ErrMalformedJWK},
		{name: "fail/kty RSA", in: strings.Replace(katJWK, `"kty":"EC"`, `"kty":"RSA"`, 1), wantErr: ErrNotSM2JWK},
		{name: "fail/crv P-256", in: strings.Replace(katJWK, `"crv":"SM2-P-256"`, `"crv":"P-256"`, 1), wantErr: ErrNotSM2JWK},
		{name: "fail/alg ES256", in: strings.Replace(katJWK, `"alg":"SGD_SM3_SM2"`, `"alg":"ES256"`, 1), wantErr: ErrNotSM2JWK},
		{name: "fail/x missing", in: strings.Replace(katJWK, `"x":"CfnfMR5UIaFQ3X0WHkvFxnIXn60YM_wHa7CP81bzUCA",`, ``, 1), wantErr: ErrMalformedJWK},
		{name: "fail/x 31 bytes", in: strings.Replace(katJWK, `"x":"CfnfMR5UIaFQ3X0WHkvFxnIXn60YM_wHa7CP81bzUCA"`, `"x":"+fnfMR5UIaFQ3X0WHkvFxnIXn60YM_wHa7CP81bzUA"`, 1), wantErr: ErrMalformedJWK},
		{name: "fail/x padded", in: strings.Replace(katJWK, `UCA"`, `UCA="`, 1), wantErr: ErrMalformedJWK},
		{name: "fail/x std alphabet", in: strings.Replace(katJWK, `YM_wHa`, `YM/wHa`, 1), wantErr: ErrMalformedJWK},
		{name: "fail/x number", in: strings.Replace(katJWK, `"x":"CfnfMR5UIaFQ3X0WHkvFxnIXn60YM_wHa7CP81bzUCA"`, `"x":5`, 1), wantErr: ErrMalformedJWK},
		{name: "fail/point off curve", in: strings.Replace(katJWK, `"y":"zOpJ`, `"y":"zOpK`, 1), wantErr: smcrypto.ErrWrongCurve},
		{name: "fail/P-256 coordinates", in: p256AsSM2(t, es), wantErr: smcrypto.ErrWrongCurve},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseJWK([]byte(tt.in))
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("ParseJWK = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestMarshalJWKErrors(t *testing.T) {
	if _, err := MarshalJWK(nil, "k", "sig"); !errors.Is(err, smcrypto.ErrMalformedKey) {
		t.Fatalf("MarshalJWK(nil) = %v", err)
	}
	if _, err := MarshalJWK(&newES256(t).PublicKey, "k", "sig"); !errors.Is(err, smcrypto.ErrWrongCurve) {
		t.Fatalf("MarshalJWK(P-256) = %v", err)
	}
	if _, err := (JWK{Key: &newSM2(t).PublicKey, Algorithm: "ES256"}).MarshalJSON(); !errors.Is(err, ErrNotSM2JWK) {
		t.Fatalf("MarshalJSON(alg ES256) = %v", err)
	}
}

// p256AsSM2 writes a P-256 public key with crv SM2-P-256.
func p256AsSM2(t *testing.T, k *ecdsa.PrivateKey) string {
	t.Helper()
	pub := k.PublicKey
	x := pub.X.FillBytes(make([]byte, 32))
	y := pub.Y.FillBytes(make([]byte, 32))
	raw, _ := json.Marshal(rawJWK{Kty: "EC", Crv: CurveSM2, X: b64(x), Y: b64(y)})
	return string(raw)
}
