package oidc_test

import (
	"context"
	"net/url"
	"testing"

	"github.com/tongban/tongban/audit"
	tboidc "github.com/tongban/tongban/oidc"
	"github.com/tongban/tongban/storage"
	"github.com/tongban/tongban/storage/storagetest"
)

// BenchmarkTokenExchange measures token exchanges (RFC 8693: a citizen's sealed access token
// checked as introspection does, the policy read, a sealed token issued, token.issue and
// token.exchange audited in the request's transaction) against client-credentials grants
// (audited by group commit, no transaction) on the same provider and store, in the same run:
// the ratio of the two ns/op is the report's exchanges/s against client-credentials grants/s.
func BenchmarkTokenExchange(b *testing.B) {
	e := benchEnv(b, storagetest.SQLite(b))
	ctx := context.Background()
	_, num := e.person("基准", "")
	app := e.newRP(tboidc.NewClient{GrantTypes: []string{"authorization_code", "refresh_token", tboidc.GrantTokenExchange}})
	if _, err := tboidc.SetExchangePolicy(ctx, e.store, audit.Shell, storage.ExchangePolicy{ClientID: app.client.ID, Audience: audB}); err != nil {
		b.Fatal(err)
	}
	a := app.authURL()
	tok, err := app.exchange(e.browser().signIn(a, num), a.verifier)
	if err != nil {
		b.Fatal(err)
	}
	svc := e.newRP(tboidc.NewClient{GrantTypes: []string{"client_credentials"}, Scopes: []string{"profile"}})
	client := e.hs.Client()
	b.Run("grant=client_credentials", func(b *testing.B) {
		form := url.Values{"grant_type": {"client_credentials"}, "scope": {"profile"}}
		parallelism(b)
		runTimed(b, func() error { return postToken(client, e.issuer, svc.client.ID, svc.secret, form) })
	})
	b.Run("grant=token-exchange", func(b *testing.B) {
		form := exchangeForm(tok.AccessToken, "scope", "profile")
		parallelism(b)
		runTimed(b, func() error { return postToken(client, e.issuer, app.client.ID, app.secret, form) })
	})
}
