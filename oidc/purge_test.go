package oidc_test

import (
	"context"
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/tongban/tongban/audit"
	tboidc "github.com/tongban/tongban/oidc"
	"github.com/tongban/tongban/storage"
	"github.com/tongban/tongban/storage/storagetest"
)

// TestPurge checks that Purge deletes expired login sessions (the provider's and the
// wallet's, in a shared database) along with expired tokens, keeps live ones, and is
// idempotent.
func TestPurge(t *testing.T) {
	e := newEnv(t, storagetest.SQLite(t), envOptions{})
	ctx := context.Background()
	_, num := e.person("曹二", "")
	r := e.newRP(tboidc.NewClient{})
	b := e.browser()
	_ = b.signIn(r.authURL(), num) // an SSO session (8 h) and a code (1 min)
	// A revoked grant: an entry of the revoked-grant list until its access tokens expire.
	tok := r.login(t, e.browser(), num)
	if status, _ := e.postForm("/revoke", r.client.ID, r.secret, url.Values{"token": {tok.AccessToken}}); status != 200 {
		t.Fatalf("revoke: %d", status)
	}

	now := e.clock.Now()
	for _, ls := range []storage.LoginSession{
		{ID: "wallet:expired", PersonID: "wallet:sub", AMR: []string{}, ExpiresAt: now.Add(-time.Minute)},
		{ID: "wallet:live", PersonID: "wallet:sub", AMR: []string{}, ExpiresAt: now.Add(24 * time.Hour)},
	} {
		if err := e.store.CreateLoginSession(ctx, ls); err != nil {
			t.Fatal(err)
		}
	}

	// Initial access tokens (RFC 7591): one valid a minute, one a day.
	shortIAT, _, err := tboidc.IssueInitialAccessToken(ctx, e.store, e.kr, audit.Shell, "gongan", tboidc.MinInitialAccessTokenTTL)
	if err != nil {
		t.Fatal(err)
	}
	longIAT, _, err := tboidc.IssueInitialAccessToken(ctx, e.store, e.kr, audit.Shell, "gongan", 0)
	if err != nil {
		t.Fatal(err)
	}

	got, err := e.srv.Purge(ctx)
	if err != nil || got.LoginSessions != 1 || got.Tokens != 0 || got.Revocations != 0 || got.InitialAccessTokens != 0 {
		t.Errorf("Purge now = %+v, %v; want 1 login session, no tokens, no revocations, no initial access tokens", got, err)
	}
	if _, err := e.store.GetLoginSession(ctx, "wallet:expired", now.Add(-time.Hour)); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("expired session after purge: %v, want ErrNotFound", err)
	}
	// The browser is still signed in: a new request needs no login.
	if p := b.get(r.authURL().url); p.isLogin() {
		t.Error("live SSO session purged: login page shown")
	}

	// After the SSO lifetime the browser's session goes too (and the code and tokens).
	e.clock.Advance(tboidc.DefaultSessionLifetime + time.Minute)
	defer e.clock.Advance(-tboidc.DefaultSessionLifetime - time.Minute)
	got, err = e.srv.Purge(ctx)
	if err != nil || got.LoginSessions != 2 || got.Tokens < 1 || got.Revocations != 1 || got.InitialAccessTokens != 1 {
		t.Errorf("Purge after session lifetime = %+v, %v; want 2 login sessions, some tokens, 1 revocation and 1 initial access token", got, err)
	}
	if _, err := e.store.UseInitialAccessToken(ctx, e.kr.ClientSecretHash(shortIAT), now); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("expired initial access token after purge: %v, want ErrNotFound", err)
	}
	if _, err := e.store.UseInitialAccessToken(ctx, e.kr.ClientSecretHash(longIAT), now); err != nil {
		t.Errorf("live initial access token after purge: %v", err)
	}
	if _, err := e.store.GetLoginSession(ctx, "wallet:live", now); err != nil {
		t.Errorf("live session after purge: %v", err)
	}
	if p := b.get(r.authURL().url); !p.isLogin() {
		t.Errorf("after the purge of the expired session: want the login page, got %d", p.status)
	}

	// Idempotent: a second run (another replica) finds nothing.
	got, err = e.srv.Purge(ctx)
	if err != nil || got != (tboidc.PurgeCounts{}) {
		t.Errorf("second Purge = %+v, %v; want zero counts", got, err)
	}
}
