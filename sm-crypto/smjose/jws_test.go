package smjose

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"
	smcrypto "github.com/tongban/tongban/sm-crypto"
)

func TestGoJoseInterop(t *testing.T) {
	priv := newSM2(t)
	kid := smcrypto.KeyIDString(&priv.PublicKey)
	payload := []byte(`{"iss":"https://idp.example.gov.cn","sub":"u1"}`)
	tok := signSM2(t, priv, kid, payload)

	// The header names the alg and kid; go-jose's ParseSigned accepts
	// AlgSM2 when it is in the allowed list.
	jws, err := jose.ParseSigned(tok, []jose.SignatureAlgorithm{AlgSM2})
	if err != nil {
		t.Fatalf("ParseSigned = %v", err)
	}
	h := jws.Signatures[0].Protected
	if h.Algorithm != string(AlgSM2) || h.KeyID != kid || h.ExtraHeaders["typ"] != "JWT" {
		t.Fatalf("header = %+v", h)
	}
	got, err := jws.Verify(NewVerifier(&priv.PublicKey))
	if err != nil {
		t.Fatalf("Verify = %v", err)
	}
	if string(got) != string(payload) {
		t.Fatalf("payload = %s", got)
	}

	// The signature is raw r ‖ s over the JWS signing input (RFC 7515 §5.1).
	parts := strings.Split(tok, ".")
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(sig) != smcrypto.SignatureSize {
		t.Fatalf("signature is %d bytes (%v), want 64", len(sig), err)
	}
	if err := smcrypto.Verify(&priv.PublicKey, []byte(parts[0]+"."+parts[1]), sig); err != nil {
		t.Fatalf("smcrypto.Verify(signing input) = %v", err)
	}

	// Only listed algorithms parse.
	if _, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.ES256}); err == nil {
		t.Fatal("ParseSignedCompact accepted SGD_SM3_SM2 when only ES256 is allowed")
	}
	// Another key fails.
	if _, err := jws.Verify(NewVerifier(&newSM2(t).PublicKey)); err == nil {
		t.Fatal("verified with another key")
	}
	// A gmsm key handed to go-jose directly never verifies SM2 (DESIGN §8).
	if _, err := jws.Verify(&priv.PublicKey); err == nil {
		t.Fatal("go-jose verified SGD_SM3_SM2 with a bare ecdsa key")
	}
}

func TestTamperedTokens(t *testing.T) {
	priv := newSM2(t)
	tok := signSM2(t, priv, "k1", []byte(`{"sub":"u1"}`))
	parts := strings.Split(tok, ".")
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	flipped := append([]byte(nil), sig...)
	flipped[10] ^= 1
	otherPayload := base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"u2"}`))
	esTok := signStd(t, jose.ES256, newES256(t), "k1", []byte(`{"sub":"u1"}`))
	noneHeader := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none"}`))
	tests := []struct {
		name    string
		token   string
		wantErr error
	}{
		{name: "ok/untouched", token: tok},
		{name: "fail/payload replaced", token: parts[0] + "." + otherPayload + "." + parts[2], wantErr: smcrypto.ErrInvalidSignature},
		{name: "fail/signature byte", token: parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(flipped), wantErr: smcrypto.ErrInvalidSignature},
		{name: "fail/signature truncated", token: parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(sig[:63]), wantErr: smcrypto.ErrSignatureLength},
		{name: "fail/signature zero", token: parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(make([]byte, 64)), wantErr: smcrypto.ErrSignatureRange},
		{name: "fail/alg none", token: noneHeader + "." + parts[1] + ".", wantErr: ErrAlgorithm},
		{name: "fail/ES256 token", token: esTok, wantErr: ErrAlgorithm},
		{name: "fail/two parts", token: parts[0] + "." + parts[1], wantErr: ErrMalformedJWS},
		{name: "fail/empty", token: "", wantErr: ErrMalformedJWS},
		{name: "fail/bad base64", token: "!!." + parts[1] + "." + parts[2], wantErr: ErrMalformedJWS},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := VerifyCompact(tt.token, &priv.PublicKey)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("VerifyCompact = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr != nil && errors.Is(tt.wantErr, smcrypto.ErrInvalidSignature) && !errors.Is(err, ErrInvalidSignature) {
				t.Fatalf("VerifyCompact = %v, want it to wrap ErrInvalidSignature too", err)
			}
			// Plain go-jose with NewVerifier agrees on the signature cases.
			if jws, perr := jose.ParseSignedCompact(tt.token, []jose.SignatureAlgorithm{AlgSM2}); perr == nil {
				_, verr := jws.Verify(NewVerifier(&priv.PublicKey))
				if (verr == nil) != (tt.wantErr == nil) {
					t.Fatalf("go-jose Verify = %v, want error %v", verr, tt.wantErr)
				}
			}
		})
	}
	if _, err := VerifyCompact(tok); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("VerifyCompact(no keys) = %v", err)
	}
	// Several keys: the right one is found.
	if _, err := VerifyCompact(tok, &newSM2(t).PublicKey, &priv.PublicKey); err != nil {
		t.Fatalf("VerifyCompact(two keys) = %v", err)
	}
}

func TestSignerEdges(t *testing.T) {
	priv := newSM2(t)
	s := NewSigner(priv, "k1")
	if algs := s.Algs(); len(algs) != 1 || algs[0] != AlgSM2 {
		t.Fatalf("Algs = %v", algs)
	}
	pub := s.Public()
	if pub.KeyID != "k1" || pub.Algorithm != string(AlgSM2) || pub.Use != "sig" || !pub.IsPublic() {
		t.Fatalf("Public = %+v", pub)
	}
	if _, err := s.SignPayload([]byte("x"), jose.ES256); !errors.Is(err, ErrAlgorithm) {
		t.Fatalf("SignPayload(ES256) = %v", err)
	}
	if _, err := NewSigner(nil, "k").SignPayload([]byte("x"), AlgSM2); !errors.Is(err, smcrypto.ErrMalformedKey) {
		t.Fatalf("SignPayload(nil key) = %v", err)
	}
	if NewSigner(nil, "k").Public().KeyID != "k" {
		t.Fatal("Public with nil key")
	}
	// go-jose refuses to use the signer for another alg.
	if _, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: s}, nil); err == nil {
		t.Fatal("go-jose accepted the SM2 signer for ES256")
	}
	// EmbedJWK fails cleanly: go-jose cannot marshal an SM2 key.
	js, err := jose.NewSigner(jose.SigningKey{Algorithm: AlgSM2, Key: s}, &jose.SignerOptions{EmbedJWK: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.Sign([]byte("x")); err == nil {
		t.Fatal("EmbedJWK with an SM2 key did not fail")
	}
	if err := NewVerifier(&priv.PublicKey).VerifyPayload([]byte("x"), make([]byte, 64), jose.ES256); !errors.Is(err, ErrAlgorithm) {
		t.Fatalf("VerifyPayload(ES256) = %v", err)
	}
}

func TestHalfHashSM3(t *testing.T) {
	// SM3("abc") = 66c7f0f462eeedd9d1f2d46bdc10e4e2 4167c487… (GB/T 32905
	// Annex A.1); the left half in base64url:
	if got := HalfHashSM3([]byte("abc")); got != "Zsfw9GLu7dnR8tRr3BDk4g" {
		t.Fatalf("HalfHashSM3(abc) = %s", got)
	}
	if got := HalfHashSM3([]byte("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y")); len(got) != 22 {
		t.Fatalf("len = %d", len(got))
	}
}

// One verifier and one signer are shared by many goroutines (run with -race).
func TestConcurrentUse(t *testing.T) {
	priv := newSM2(t)
	signer := NewSigner(priv, "k")
	v := NewVerifier(&priv.PublicKey)
	done := make(chan error)
	for i := range 8 {
		go func() {
			sig, err := signer.SignPayload([]byte{byte(i)}, AlgSM2)
			if err == nil {
				err = v.VerifyPayload([]byte{byte(i)}, sig, AlgSM2)
			}
			if err == nil && v.VerifyPayload([]byte{byte(i + 1)}, sig, AlgSM2) == nil {
				err = errors.New("wrong payload verified")
			}
			done <- err
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}
