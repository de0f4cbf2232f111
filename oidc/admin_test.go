package oidc_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tongban/tongban/keyring"
	tboidc "github.com/tongban/tongban/oidc"
	"github.com/tongban/tongban/sm-crypto"
	"github.com/tongban/tongban/storage"
	"github.com/tongban/tongban/storage/storagetest"
)

func adminEnv(t *testing.T) (storage.Storage, *keyring.Keyring) {
	t.Helper()
	store := storagetest.SQLite(t)
	kek, _ := smcrypto.GenerateKEK(nil)
	kr, err := keyring.Open(context.Background(), store, kek)
	if err != nil {
		t.Fatal(err)
	}
	return store, kr
}

func TestCreatePerson(t *testing.T) {
	store, kr := adminEnv(t)
	ctx := context.Background()
	num := residentID(t)
	pw := []byte("password-1")
	for _, tc := range []struct {
		name    string
		p       tboidc.NewPerson
		wantErr []error
	}{
		{"ok/natural", tboidc.NewPerson{IDNumber: num, Name: "张三", Phone: "+86 138 0013 8000", Password: pw}, nil},
		{"ok/lowercase-x-and-spaces", tboidc.NewPerson{IDNumber: lowerX(t), Name: "李四", Password: pw}, nil},
		{"ok/legal", tboidc.NewPerson{Kind: storage.LegalPerson, IDNumber: "91110108551385082Q", Name: "某某科技有限公司", Password: pw}, nil},
		{"fail/duplicate-number", tboidc.NewPerson{IDNumber: num, Name: "王五", Password: pw}, []error{tboidc.ErrPersonExists}},
		{"fail/duplicate-phone", tboidc.NewPerson{IDNumber: residentID(t), Name: "王五", Phone: "13800138000", Password: pw}, []error{tboidc.ErrPersonExists}},
		{"fail/check-digit", tboidc.NewPerson{IDNumber: num[:17] + otherCheck(num[17]), Name: "赵六", Password: pw}, []error{tboidc.ErrInvalidIDNumber}},
		{"fail/credit-code-as-natural", tboidc.NewPerson{Kind: storage.NaturalPerson, IDNumber: "91110108551385082Q", Name: "赵六", Password: pw}, []error{tboidc.ErrInvalidIDNumber}},
		{"fail/kind-detected-duplicate", tboidc.NewPerson{IDNumber: "91110108551385082Q", Name: "某某", Password: pw}, []error{tboidc.ErrPersonExists}},
		{"fail/kind", tboidc.NewPerson{Kind: "robot", IDNumber: num, Name: "赵六", Password: pw}, []error{tboidc.ErrInvalidPersonKind}},
		{"fail/everything", tboidc.NewPerson{IDNumber: "123", Name: " ", Phone: "12345", Password: []byte("short")},
			[]error{tboidc.ErrInvalidIDNumber, tboidc.ErrInvalidName, tboidc.ErrInvalidPhone, tboidc.ErrInvalidPassword}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := tboidc.CreatePerson(ctx, store, kr, tc.p, testPasswordParams)
			if len(tc.wantErr) > 0 {
				switch tc.name {
				case "fail/upper-case":
					if err == nil || !strings.Contains(err.Error(), `"https://app.example/cb"`) {
						t.Errorf("message does not name the canonical form: %v", err)
					}
				case "fail/localhost":
					if err == nil || !strings.Contains(err.Error(), "http://127.0.0.1/cb") {
						t.Errorf("message does not suggest the loopback IP: %v", err)
					}
				}
				for _, want := range tc.wantErr {
					if !errors.Is(err, want) {
						t.Errorf("err = %v, want %v", err, want)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.ID == "" || p.Kind == "" || len(p.IDNumberIndex) != 32 || p.IDNumberSealed == nil || p.PasswordHash == "" {
				t.Fatalf("person %+v", p)
			}
			if !strings.Contains(p.IDNumberMasked, "********") || strings.Contains(string(p.IDNumberSealed), tc.p.IDNumber) {
				t.Errorf("masked %q", p.IDNumberMasked)
			}
			if smcrypto.CheckPassword(p.PasswordHash, pw) != nil {
				t.Error("password hash does not verify")
			}
			got, err := store.GetPersonByIDNumberIndex(ctx, p.IDNumberIndex)
			if err != nil || got.ID != p.ID {
				t.Errorf("lookup by index: %v", err)
			}
		})
	}
}

func lowerX(t *testing.T) string {
	for {
		n := residentID(t)
		if n[17] == 'X' {
			return strings.ToLower(n[:6] + " " + n[6:])
		}
	}
}

func otherCheck(c byte) string {
	if c == '0' {
		return "1"
	}
	return "0"
}

func TestCreateClient(t *testing.T) {
	store, kr := adminEnv(t)
	ctx := context.Background()
	cb := "https://app.example.gov.cn/cb"
	for _, tc := range []struct {
		name    string
		nc      tboidc.NewClient
		wantErr []error
		check   func(*testing.T, storage.Client, string)
	}{
		{"ok/defaults", tboidc.NewClient{ID: "a1", RedirectURIs: []string{cb}}, nil, func(t *testing.T, c storage.Client, secret string) {
			if !slices.Equal(c.Scopes, []string{"openid", "profile", "offline_access"}) ||
				!slices.Equal(c.GrantTypes, []string{"authorization_code", "refresh_token"}) ||
				c.IDTokenSignedResponseAlg != "RS256" || c.TokenEndpointAuthMethod != "client_secret_basic" || c.SubjectType != "public" {
				t.Errorf("defaults %+v", c)
			}
			raw, err := base64.RawURLEncoding.DecodeString(secret)
			if err != nil || len(raw) != 32 {
				t.Errorf("secret %q is not 256 bits base64url", secret)
			}
			if !bytes.Equal(c.SecretHash, kr.ClientSecretHash(secret)) {
				t.Error("secret stored other than as ClientSecretHash")
			}
		}},
		{"ok/public-sm2-native", tboidc.NewClient{ID: "a2", Public: true, IDTokenAlg: "SGD_SM3_SM2",
			RedirectURIs: []string{"http://127.0.0.1/cb", "cn.gov.example.app:/cb", "http://[::1]:8080/cb"}}, nil,
			func(t *testing.T, c storage.Client, secret string) {
				if secret != "" || c.SecretHash != nil || c.TokenEndpointAuthMethod != "none" {
					t.Errorf("public client %+v secret %q", c, secret)
				}
			}},
		{"ok/client-credentials-only", tboidc.NewClient{ID: "svc", GrantTypes: []string{"client_credentials"}, Scopes: []string{"profile"}}, nil, nil},
		{"ok/pairwise", tboidc.NewClient{ID: "a3", SubjectType: "pairwise", RedirectURIs: []string{cb, "https://app.example.gov.cn/other"}}, nil, nil},
		{"fail/duplicate", tboidc.NewClient{ID: "a1", RedirectURIs: []string{cb}}, []error{tboidc.ErrClientExists}, nil},
		{"fail/id", tboidc.NewClient{ID: "bad id!", RedirectURIs: []string{cb}}, []error{tboidc.ErrInvalidClientID}, nil},
		{"fail/http-redirect", tboidc.NewClient{ID: "b1", RedirectURIs: []string{"http://app.example.gov.cn/cb"}}, []error{tboidc.ErrInvalidRedirectURI}, nil},
		{"fail/dot-localhost", tboidc.NewClient{ID: "b2", RedirectURIs: []string{"http://evil.localhost/cb"}}, []error{tboidc.ErrInvalidRedirectURI}, nil},
		{"fail/wildcard-host", tboidc.NewClient{ID: "d1", RedirectURIs: []string{"https://*.example/cb"}}, []error{tboidc.ErrInvalidRedirectURI}, nil},
		{"fail/wildcard-path", tboidc.NewClient{ID: "d2", RedirectURIs: []string{"https://app.example/*"}}, []error{tboidc.ErrInvalidRedirectURI}, nil},
		{"fail/dot-segment", tboidc.NewClient{ID: "d3", RedirectURIs: []string{"https://app.example/a/../cb"}}, []error{tboidc.ErrInvalidRedirectURI}, nil},
		{"fail/dot-segment-encoded", tboidc.NewClient{ID: "d4", RedirectURIs: []string{"https://app.example/a/%2E%2e/cb"}}, []error{tboidc.ErrInvalidRedirectURI}, nil},
		{"fail/upper-case", tboidc.NewClient{ID: "d5", RedirectURIs: []string{"HTTPS://APP.example/cb"}}, []error{tboidc.ErrInvalidRedirectURI}, nil},
		{"fail/localhost", tboidc.NewClient{ID: "d6", Public: true, RedirectURIs: []string{"http://localhost/cb"}}, []error{tboidc.ErrInvalidRedirectURI}, nil},
		{"fail/fragment", tboidc.NewClient{ID: "b3", RedirectURIs: []string{cb + "#x"}}, []error{tboidc.ErrInvalidRedirectURI}, nil},
		{"fail/relative", tboidc.NewClient{ID: "b4", RedirectURIs: []string{"/cb"}}, []error{tboidc.ErrInvalidRedirectURI}, nil},
		{"fail/no-redirect", tboidc.NewClient{ID: "b5"}, []error{tboidc.ErrInvalidRedirectURI}, nil},
		{"fail/implicit", tboidc.NewClient{ID: "b6", RedirectURIs: []string{cb}, GrantTypes: []string{"implicit"}}, []error{tboidc.ErrInvalidGrantType}, nil},
		{"fail/password", tboidc.NewClient{ID: "b7", RedirectURIs: []string{cb}, GrantTypes: []string{"password"}}, []error{tboidc.ErrInvalidGrantType}, nil},
		{"fail/refresh-alone", tboidc.NewClient{ID: "b8", GrantTypes: []string{"refresh_token"}}, []error{tboidc.ErrInvalidGrantType}, nil},
		{"fail/public-cc", tboidc.NewClient{ID: "b9", Public: true, GrantTypes: []string{"client_credentials"}}, []error{tboidc.ErrInvalidGrantType}, nil},
		{"fail/scope", tboidc.NewClient{ID: "c1", RedirectURIs: []string{cb}, Scopes: []string{"openid", "email"}}, []error{tboidc.ErrInvalidScope}, nil},
		{"fail/no-openid", tboidc.NewClient{ID: "c2", RedirectURIs: []string{cb}, Scopes: []string{"profile"}}, []error{tboidc.ErrInvalidScope}, nil},
		{"fail/alg", tboidc.NewClient{ID: "c3", RedirectURIs: []string{cb}, IDTokenAlg: "HS256"}, []error{tboidc.ErrInvalidAlgorithm}, nil},
		{"fail/auth-method", tboidc.NewClient{ID: "c4", RedirectURIs: []string{cb}, TokenEndpointAuthMethod: "private_key_jwt"}, []error{tboidc.ErrInvalidAuthMethod}, nil},
		{"fail/public-secret-method", tboidc.NewClient{ID: "c5", Public: true, RedirectURIs: []string{cb}, TokenEndpointAuthMethod: "client_secret_basic"}, []error{tboidc.ErrInvalidAuthMethod}, nil},
		{"fail/pairwise-two-hosts", tboidc.NewClient{ID: "c6", SubjectType: "pairwise", RedirectURIs: []string{cb, "https://other.example/cb"}}, []error{tboidc.ErrInvalidSubjectType}, nil},
		{"fail/subject-type", tboidc.NewClient{ID: "c7", SubjectType: "secret", RedirectURIs: []string{cb}}, []error{tboidc.ErrInvalidSubjectType}, nil},
		{"fail/several", tboidc.NewClient{ID: "", RedirectURIs: []string{"ftp://x"}, IDTokenAlg: "none"},
			[]error{tboidc.ErrInvalidClientID, tboidc.ErrInvalidRedirectURI, tboidc.ErrInvalidAlgorithm}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, secret, err := tboidc.CreateClient(ctx, store, kr, tc.nc)
			if len(tc.wantErr) > 0 {
				switch tc.name {
				case "fail/upper-case":
					if err == nil || !strings.Contains(err.Error(), `"https://app.example/cb"`) {
						t.Errorf("message does not name the canonical form: %v", err)
					}
				case "fail/localhost":
					if err == nil || !strings.Contains(err.Error(), "http://127.0.0.1/cb") {
						t.Errorf("message does not suggest the loopback IP: %v", err)
					}
				}
				for _, want := range tc.wantErr {
					if !errors.Is(err, want) {
						t.Errorf("err = %v, want %v", err, want)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.check != nil {
				tc.check(t, c, secret)
			}
			if got, err := store.GetClient(ctx, c.ID); err != nil || got.ID != c.ID {
				t.Errorf("stored: %v", err)
			}
		})
	}
	t.Run("ok/reset-secret", func(t *testing.T) {
		s2, err := tboidc.ResetClientSecret(ctx, store, kr, "a1")
		if err != nil {
			t.Fatal(err)
		}
		c, _ := store.GetClient(ctx, "a1")
		if !bytes.Equal(c.SecretHash, kr.ClientSecretHash(s2)) {
			t.Error("new secret not stored")
		}
		if _, err := tboidc.ResetClientSecret(ctx, store, kr, "a2"); !errors.Is(err, tboidc.ErrInvalidAuthMethod) {
			t.Errorf("public client: %v", err)
		}
		if _, err := tboidc.ResetClientSecret(ctx, store, kr, "nope"); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("unknown client: %v", err)
		}
	})
}

func TestNewServerConfig(t *testing.T) {
	store, kr := adminEnv(t)
	ctx := context.Background()
	quiet := slog.New(slog.DiscardHandler)
	for _, tc := range []struct {
		name    string
		cfg     tboidc.Config
		wantErr error
		wantMsg []string
	}{
		{"ok/https", tboidc.Config{Issuer: "https://idp.example.gov.cn/", Store: store, Keyring: kr, Logger: quiet}, nil, nil},
		{"ok/http-dev", tboidc.Config{Issuer: "http://127.0.0.1:8080", Store: store, Keyring: kr, InsecureCookies: true, Logger: quiet}, nil, nil},
		{"fail/empty", tboidc.Config{}, tboidc.ErrInvalidConfig, []string{"Issuer is required", "Store is required", "Keyring is required"}},
		{"fail/http-without-insecure-cookies", tboidc.Config{Issuer: "http://idp.example", Store: store, Keyring: kr}, tboidc.ErrInvalidConfig, []string{"InsecureCookies"}},
		{"fail/query", tboidc.Config{Issuer: "https://idp.example/?a=b", Store: store, Keyring: kr}, tboidc.ErrInvalidConfig, []string{"query"}},
		{"fail/relative", tboidc.Config{Issuer: "idp.example", Store: store, Keyring: kr}, tboidc.ErrInvalidConfig, []string{"absolute"}},
		{"fail/code-lifetime", tboidc.Config{Issuer: "https://idp.example", Store: store, Keyring: kr, CodeLifetime: 20 * 60e9}, tboidc.ErrInvalidConfig, []string{"CodeLifetime"}},
		{"fail/password-params", tboidc.Config{Issuer: "https://idp.example", Store: store, Keyring: kr, PasswordParams: smcrypto.PasswordParams{Iterations: 1}}, tboidc.ErrInvalidConfig, []string{"PasswordParams"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, err := tboidc.NewServer(ctx, tc.cfg)
			if tc.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				if strings.HasSuffix(srv.Issuer(), "/") {
					t.Errorf("issuer %q keeps its trailing slash", srv.Issuer())
				}
				return
			}
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			for _, m := range tc.wantMsg {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not mention %q", err, m)
				}
			}
		})
	}
	t.Run("ok/metrics-registered", func(t *testing.T) {
		reg := prometheus.NewRegistry()
		if _, err := tboidc.NewServer(ctx, tboidc.Config{Issuer: "https://idp.example", Store: store, Keyring: kr, Registerer: reg, Logger: quiet}); err != nil {
			t.Fatal(err)
		}
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		_ = mfs // vectors without observations are not gathered; registration succeeding is the check
		if _, err := tboidc.NewServer(ctx, tboidc.Config{Issuer: "https://idp.example", Store: store, Keyring: kr, Registerer: reg, Logger: quiet}); err == nil {
			t.Error("registering twice on one registry succeeded")
		}
	})
}

func TestEnrollTOTP(t *testing.T) {
	store, kr := adminEnv(t)
	ctx := context.Background()
	p, err := tboidc.CreatePerson(ctx, store, kr, tboidc.NewPerson{IDNumber: residentID(t), Name: "甲", Password: []byte("password-1")}, testPasswordParams)
	if err != nil {
		t.Fatal(err)
	}
	uri, err := tboidc.EnrollTOTP(ctx, store, kr, p.ID)
	if err != nil || !strings.HasPrefix(uri, "otpauth://totp/") || !strings.Contains(uri, "secret=") {
		t.Fatalf("%q %v", uri, err)
	}
	if strings.Contains(uri, "张") || strings.Contains(uri, p.ID) {
		t.Error("otpauth URI carries personal data")
	}
	got, _ := store.GetPerson(ctx, p.ID)
	if got.OTPSecretSealed == nil {
		t.Error("secret not stored")
	}
	if _, err := tboidc.EnrollTOTP(ctx, store, kr, "nobody"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("unknown person: %v", err)
	}
}
