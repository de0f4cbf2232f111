package oidc

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/token/jwt"

	"github.com/tongban/tongban/keyring"
	"github.com/tongban/tongban/oidc/internal/fositeadapter"
	smcrypto "github.com/tongban/tongban/sm-crypto"
	"github.com/tongban/tongban/sm-crypto/smjose"
	"github.com/tongban/tongban/storage"
	"github.com/tongban/tongban/storage/storagetest"
)

func testKeyring(t *testing.T) *keyring.Keyring { return testKeyringB(t) }

func testKeyringB(t testing.TB) *keyring.Keyring {
	t.Helper()
	store := storagetest.SQLite(t)
	kek, _ := smcrypto.GenerateKEK(nil)
	kr, err := keyring.Open(context.Background(), store, kek)
	if err != nil {
		t.Fatal(err)
	}
	if err := kr.EnsureSigningKeys(context.Background(), storage.PurposeIDToken, AlgSM2, AlgES256, AlgRS256); err != nil {
		t.Fatal(err)
	}
	return kr
}

func TestIDTokenSigner(t *testing.T) {
	kr := testKeyring(t)
	ctx := context.Background()
	now := time.Now()
	s := newIDTokenSigner(kr, func() time.Time { return now })
	for _, alg := range SigningAlgorithms {
		t.Run("ok/"+alg, func(t *testing.T) {
			claims := jwt.MapClaims{"sub": "p1", "exp": now.Add(time.Minute).Unix()}
			tok, sig, err := s.Generate(ctx, claims, &jwt.Headers{Extra: map[string]any{"alg": alg}})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasSuffix(tok, "."+sig) {
				t.Error("signature part")
			}
			got, err := s.Decode(ctx, tok)
			if err != nil {
				t.Fatal(err)
			}
			key, _ := kr.Active(ctx, storage.PurposeIDToken, alg)
			if got.Header["alg"] != alg || got.Header["kid"] != key.ID || got.Claims["sub"] != "p1" {
				t.Errorf("decoded %v %v", got.Header, got.Claims)
			}
			if _, err := s.Validate(ctx, tok); err != nil {
				t.Error(err)
			}
		})
		t.Run("fail/tampered/"+alg, func(t *testing.T) {
			tok, _, _ := s.Generate(ctx, jwt.MapClaims{"sub": "p1", "exp": now.Add(time.Minute).Unix()}, &jwt.Headers{Extra: map[string]any{"alg": alg}})
			parts := strings.Split(tok, ".")
			parts[1] = base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"p2","exp":9999999999}`))
			_, err := s.Decode(ctx, strings.Join(parts, "."))
			var ve *jwt.ValidationError
			if !errors.As(err, &ve) || !ve.Has(jwt.ValidationErrorSignatureInvalid) {
				t.Errorf("tampered token: %v", err)
			}
		})
		t.Run("fail/expired/"+alg, func(t *testing.T) {
			tok, _, _ := s.Generate(ctx, jwt.MapClaims{"sub": "p1", "exp": now.Add(-time.Second).Unix()}, &jwt.Headers{Extra: map[string]any{"alg": alg}})
			got, err := s.Decode(ctx, tok)
			var ve *jwt.ValidationError
			if !errors.As(err, &ve) || !ve.Has(jwt.ValidationErrorExpired) || got == nil || got.Claims["sub"] != "p1" {
				t.Errorf("expired token: %v", err)
			}
		})
	}
	t.Run("fail/unknown-alg", func(t *testing.T) {
		if _, _, err := s.Generate(ctx, jwt.MapClaims{}, &jwt.Headers{Extra: map[string]any{"alg": "HS256"}}); err == nil {
			t.Error("HS256 accepted")
		}
	})
	t.Run("fail/foreign-key", func(t *testing.T) {
		other := newIDTokenSigner(testKeyring(t), time.Now)
		tok, _, _ := other.Generate(ctx, jwt.MapClaims{"exp": now.Add(time.Minute).Unix()}, &jwt.Headers{Extra: map[string]any{"alg": AlgSM2}})
		if _, err := s.Decode(ctx, tok); err == nil {
			t.Error("token of another provider accepted")
		}
	})
	t.Run("ok/jwks", func(t *testing.T) {
		body, err := s.JWKS(ctx)
		if err != nil {
			t.Fatal(err)
		}
		ks, err := smjose.ParseJWKS(body)
		if err != nil || len(ks.SM2) != 1 || len(ks.Standard.Keys) != 2 {
			t.Fatalf("%v %+v", err, ks)
		}
		tok, _, _ := s.Generate(ctx, jwt.MapClaims{"exp": now.Add(time.Minute).Unix()}, &jwt.Headers{Extra: map[string]any{"alg": AlgSM2}})
		if _, err := ks.VerifySM2(tok); err != nil {
			t.Errorf("published SM2 key does not verify: %v", err)
		}
		again, _ := s.JWKS(ctx)
		if &again[0] != &body[0] {
			t.Error("JWKS not cached")
		}
	})
}

func TestHalfHash(t *testing.T) {
	tok := "tb_at_abc.def"
	sum := sha256.Sum256([]byte(tok))
	if got := halfHash(AlgRS256, tok); got != base64.RawURLEncoding.EncodeToString(sum[:16]) {
		t.Errorf("RS256 at_hash %s", got)
	}
	if got := halfHash(AlgES256, tok); got != halfHash(AlgRS256, tok) {
		t.Error("ES256 at_hash differs from RS256")
	}
	sm3 := smcrypto.SM3([]byte(tok))
	if got := halfHash(AlgSM2, tok); got != base64.RawURLEncoding.EncodeToString(sm3[:16]) {
		t.Errorf("SGD_SM3_SM2 at_hash %s is not the left half of SM3", got)
	}
}

func TestPendingAuth(t *testing.T) {
	now := time.Now()
	s := &Server{now: func() time.Time { return now }}
	s.keys.authz = make([]byte, 32)
	p := pendingAuth{Query: "client_id=a&state=12345678", RequestedAt: now.UnixMicro(), Expires: now.Add(time.Minute).UnixMicro()}
	v := s.encodePending(p)
	got, err := s.decodePending(v)
	if got.N == "" || s.encodePending(p) == v {
		t.Error("encodings of a pending request are not unique")
	}
	p.N = got.N
	if err != nil || got != p {
		t.Fatalf("%+v %v", got, err)
	}
	for name, bad := range map[string]string{
		"fail/tampered-body": tamperAt(v, 0),
		"fail/tampered-mac":  tamperAt(tamperAt(v, len(v)-1), len(v)-2),
		"fail/no-mac":        strings.Split(v, ".")[0],
		"fail/empty":         "",
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := s.decodePending(bad); !errors.Is(err, errInvalidAuthRequest) {
				t.Errorf("err = %v", err)
			}
		})
	}
	s.now = func() time.Time { return now.Add(2 * time.Minute) }
	if _, err := s.decodePending(v); !errors.Is(err, errInvalidAuthRequest) {
		t.Errorf("expired pending request: %v", err)
	}
}

func TestRedirectSecure(t *testing.T) {
	for _, tc := range []struct {
		uri string
		ok  bool
	}{
		{"https://app.example/cb", true},
		{"http://127.0.0.1:1234/cb", true},
		{"http://[::1]/cb", true},
		{"http://localhost/cb", false}, // RFC 8252 §8.3: the loopback IP literal instead
		{"https://*.example/cb", false},
		{"https://app.example/a/../cb", false},
		{"HTTPS://APP.example/cb", false},
		{"cn.gov.example.app:/cb", true},
		{"http://app.example/cb", false},
		{"http://evil.localhost/cb", false},
		{"http://127.0.0.1.nip.io/cb", false},
		{"myapp:/cb", false},
		{"javascript:alert(1)", false},
	} {
		err := validateRedirectURI(tc.uri)
		if (err == nil) != tc.ok {
			t.Errorf("%s: %v", tc.uri, err)
		}
	}
}

func TestScopeClaims(t *testing.T) {
	got := releasedClaims(fosite.Arguments{"openid", "profile", "phone"}, map[string]*fositeadapter.ClaimSpec{"name": nil, "id_number": nil})
	if len(got) != 1 || got[0] != ClaimName {
		t.Errorf("released %v", got)
	}
	if got := releasedClaims(fosite.Arguments{"openid", "id_number"}, nil); len(got) != 2 {
		t.Errorf("released %v", got)
	}
	if l := requiredACRLevel([]string{"unknown", ACRMultiFactor}); l != 1 {
		t.Errorf("level %d", l)
	}
	if l := requiredACRLevel([]string{ACRMultiFactor, ACRPassword}); l != 0 {
		t.Errorf("level %d", l)
	}
}

func TestLoopbackVariant(t *testing.T) {
	reg := "http://127.0.0.1:4000/callback"
	for _, tc := range []struct {
		name, uri, reg string
		ok             bool
	}{
		{"ok/other-port", "http://127.0.0.1:5000/callback", reg, true},
		{"ok/no-port", "http://127.0.0.1/callback", reg, true},
		{"ok/ipv6", "http://[::1]:9/cb", "http://[::1]/cb", true},
		{"fail/userinfo", "http://evil@127.0.0.1:9999/callback", reg, false},
		{"fail/userinfo-registered-port", "http://evil@127.0.0.1:4000/callback", reg, false},
		{"fail/path", "http://127.0.0.1:5000/callbackx", reg, false},
		{"fail/encoded-path", "http://127.0.0.1:5000/%63allback", reg, false},
		{"fail/query", "http://127.0.0.1:5000/callback?x=1", reg, false},
		{"fail/host", "http://127.0.0.2:5000/callback", reg, false},
		{"fail/https", "https://127.0.0.1:5000/callback", reg, false},
		{"fail/bad-port", "http://127.0.0.1:99999/callback", reg, false},
		{"fail/localhost", "http://localhost:5000/cb", "http://localhost/cb", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := loopbackVariant(tc.uri, tc.reg); got != tc.ok {
				t.Errorf("loopbackVariant(%q, %q) = %v", tc.uri, tc.reg, got)
			}
		})
	}
}

// tamperAt returns s with the character at i replaced by a different base64url character, so
// the result always differs from s (a fixed replacement would leave s unchanged whenever the
// random token already had that character there).
func tamperAt(s string, i int) string {
	c := byte('A')
	if s[i] == c {
		c = 'B'
	}
	return s[:i] + string(c) + s[i+1:]
}
