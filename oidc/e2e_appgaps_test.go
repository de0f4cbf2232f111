package oidc_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/tongban/tongban/audit"
	tboidc "github.com/tongban/tongban/oidc"
	"github.com/tongban/tongban/storage"
	"github.com/tongban/tongban/storage/storagetest"
)

// Access tokens that stay dead (storage.Client.TokensNotBefore): a client_credentials token
// has no grant record that a suspension could revoke, so without the cut it would be active
// again after the resume, for the rest of its lifetime. Over real HTTPS, opaque (sealed) and
// RFC 9068 JWT access tokens, SQLite and PostgreSQL. The provider's clock is not moved: the
// lifecycle functions stamp TokensNotBefore with the wall clock.

func TestAppTokensCutSQLite(t *testing.T)   { runTokensCut(t, storagetest.SQLite(t)) }
func TestAppTokensCutPostgres(t *testing.T) { runTokensCut(t, storagetest.Postgres(t)) }

func runTokensCut(t *testing.T, store storage.Storage) {
	e := newEnv(t, store, envOptions{})
	rs := e.newRP(tboidc.NewClient{}) // a resource server that introspects
	for _, format := range []string{tboidc.AccessTokenOpaque, tboidc.AccessTokenJWT} {
		t.Run("ok/"+format+"/suspend-resume", func(t *testing.T) {
			e.t = t
			ctx := context.Background()
			svc := e.newRP(tboidc.NewClient{GrantTypes: []string{tboidc.GrantClientCredentials}, Scopes: []string{"profile"},
				AccessTokenFormat: format})
			cc := func() string {
				t.Helper()
				status, out := e.postForm("/token", svc.client.ID, svc.secret, url.Values{"grant_type": {"client_credentials"}, "scope": {"profile"}})
				tok, _ := out["access_token"].(string)
				if status != 200 || tok == "" {
					t.Fatalf("client_credentials: %d %v", status, out)
				}
				return tok
			}
			old := cc()
			if !active(e.introspect(rs, old)) {
				t.Fatal("fresh token inactive")
			}
			if err := tboidc.SuspendClient(ctx, e.store, audit.Shell, svc.client.ID, "安全检查"); err != nil {
				t.Fatal(err)
			}
			if active(e.introspect(rs, old)) {
				t.Error("token of a suspended app active")
			}
			if err := tboidc.ResumeClient(ctx, e.store, audit.Shell, svc.client.ID); err != nil {
				t.Fatal(err)
			}
			if active(e.introspect(rs, old)) {
				t.Error("a token issued before the suspension is active again after the resume")
			}
			fresh := cc()
			if got := e.introspect(rs, fresh); !active(got) || got["client_id"] != svc.client.ID {
				t.Errorf("token issued after the resume: %v", got)
			}
			// Retiring cuts too (and the status alone would): nothing of the app is active.
			if err := tboidc.RetireClient(ctx, e.store, audit.Shell, svc.client.ID, ""); err != nil {
				t.Fatal(err)
			}
			if active(e.introspect(rs, fresh)) {
				t.Error("token of a retired app active")
			}
		})
	}

	t.Run("ok/rotate-without-overlap-cuts-access-tokens-not-refresh", func(t *testing.T) {
		e.t = t
		ctx := context.Background()
		_, num := e.person("轮换", "")
		r := e.newRP(tboidc.NewClient{})
		b := e.browser()
		tok := r.login(t, b, num)
		if status, _ := e.userinfo(tok.AccessToken); status != 200 {
			t.Fatalf("userinfo before: %d", status)
		}
		if _, err := tboidc.RotateClientSecret(ctx, e.store, e.kr, audit.Shell, r.client.ID, 0); err != nil {
			t.Fatal(err)
		}
		if status, _ := e.userinfo(tok.AccessToken); status != 401 {
			t.Errorf("userinfo with a token from before a rotation without overlap: %d", status)
		}
		if active(e.introspect(rs, tok.AccessToken)) {
			t.Error("access token from before a rotation without overlap active")
		}
		c, err := e.store.GetClient(ctx, r.client.ID)
		if err != nil {
			t.Fatal(err)
		}
		next, err := tboidc.RotateClientSecret(ctx, e.store, e.kr, audit.Shell, r.client.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		// The refresh token stays: the app refreshes with its new secret and works again.
		status, out := e.postForm("/token", r.client.ID, next, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}})
		at, _ := out["access_token"].(string)
		if status != 200 || at == "" {
			t.Fatalf("refresh after the rotation: %d %v", status, out)
		}
		if status, _ := e.userinfo(at); status != 200 {
			t.Errorf("userinfo with the refreshed token: %d", status)
		}
		// A rotation with overlap leaves the tokens alone.
		if _, err := tboidc.RotateClientSecret(ctx, e.store, e.kr, audit.Shell, r.client.ID, time.Hour); err != nil {
			t.Fatal(err)
		}
		if after, _ := e.store.GetClient(ctx, r.client.ID); !after.TokensNotBefore.After(c.TokensNotBefore) {
			t.Errorf("TokensNotBefore did not move with the rotation without overlap: %v then %v", c.TokensNotBefore, after.TokensNotBefore)
		}
		if status, _ := e.userinfo(at); status != 200 {
			t.Errorf("userinfo after a rotation with overlap: %d", status)
		}
	})
}
