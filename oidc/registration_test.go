package oidc_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/tongban/tongban/keyring"
	tboidc "github.com/tongban/tongban/oidc"
	smcrypto "github.com/tongban/tongban/sm-crypto"
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
		{"fail/name with a text-direction override", tboidc.NewClient{ID: "rlo", Name: "a\u202eb", RedirectURIs: []string{cb}}, []error{tboidc.ErrInvalidClientName}, nil},
		{"fail/id reserved for metric labels", tboidc.NewClient{ID: tboidc.LabelOtherClients, RedirectURIs: []string{cb}}, []error{tboidc.ErrInvalidClientID}, nil},
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
		{"fail/auth-method", tboidc.NewClient{ID: "c4", RedirectURIs: []string{cb}, TokenEndpointAuthMethod: "client_secret_jwt"}, []error{tboidc.ErrInvalidAuthMethod}, nil},
		{"fail/private-key-jwt-without-keys", tboidc.NewClient{ID: "c4b", RedirectURIs: []string{cb}, TokenEndpointAuthMethod: "private_key_jwt"}, []error{tboidc.ErrInvalidJWKS}, nil},
		{"fail/keys-without-private-key-jwt", tboidc.NewClient{ID: "c4c", RedirectURIs: []string{cb}, JWKS: []byte(`{"keys":[]}`)}, []error{tboidc.ErrInvalidJWKS}, nil},
		{"fail/department-and-logo", tboidc.NewClient{ID: "c4d", RedirectURIs: []string{cb}, Department: "Gong An", LogoURI: "http://x.example/l.png"}, []error{tboidc.ErrInvalidDepartment, tboidc.ErrInvalidLogoURI}, nil},
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
