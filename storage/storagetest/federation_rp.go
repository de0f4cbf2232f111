package storagetest

import (
	"testing"
	"time"

	"github.com/tongban/tongban/storage"
)

// testFederationRP is the conformance suite of the OpenID Federation fields of clients and
// upstreams (migrations 00030 and 00031): round trips through create, get, list and update, a
// zero expiry staying zero, and an upstream without a client secret.
func testFederationRP(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	fed := testClient("https://app.b.example/rp")
	fed.SecretHash = nil
	fed.TokenEndpointAuthMethod = "private_key_jwt"
	fed.JWKS = []byte(`{"keys":[]}`)
	fed.Source = storage.ClientSourceFederation
	fed.TrustAnchor = "https://national.example"
	fed.FederationExpiresAt = t0.Add(time.Hour)
	plain := testClient("plain")

	t.Run("Clients/ok/round trip", func(t *testing.T) {
		must(t, "CreateClient", s.CreateClient(ctx, fed))
		must(t, "CreateClient", s.CreateClient(ctx, plain))
		got, err := s.GetClient(ctx, fed.ID)
		must(t, "GetClient", err)
		checkEqual(t, "federation client", got, wantClient(fed))
		got, err = s.GetClient(ctx, plain.ID)
		must(t, "GetClient", err)
		checkEqual(t, "plain client", got, wantClient(plain))
		if !got.FederationExpiresAt.IsZero() || got.Source != "" {
			t.Errorf("plain client: source %q, expiry %v; want none", got.Source, got.FederationExpiresAt)
		}
		list, err := s.ListClients(ctx)
		must(t, "ListClients", err)
		checkEqual(t, "clients", list, wantClients(fed, plain))
	})
	t.Run("Clients/ok/update refreshes the expiry", func(t *testing.T) {
		later := pre1970
		must(t, "UpdateClient", s.UpdateClient(ctx, fed.ID, func(c *storage.Client) error {
			c.FederationExpiresAt, c.TrustAnchor = later, "https://other-anchor.example"
			return nil
		}))
		want := fed
		want.FederationExpiresAt, want.TrustAnchor = later, "https://other-anchor.example"
		got, err := s.GetClient(ctx, fed.ID)
		must(t, "GetClient", err)
		checkEqual(t, "federation client", got, wantClient(want))
	})
	t.Run("Upstreams/ok/federation without secret", func(t *testing.T) {
		u := storage.Upstream{ID: "province-a", Issuer: "https://a.example", ClientID: "https://b.example",
			Scopes: []string{"openid"}, LabelZH: "甲省", LabelEN: "A", Federation: true, CreatedAt: t0, UpdatedAt: t0}
		must(t, "CreateUpstream", s.CreateUpstream(ctx, u))
		got, err := s.GetUpstream(ctx, u.ID)
		must(t, "GetUpstream", err)
		checkEqual(t, "upstream", got, wantUpstream(u))
		if !got.Federation || got.ClientSecretSealed != nil {
			t.Errorf("upstream: federation %t, secret %q; want true, none", got.Federation, got.ClientSecretSealed)
		}
	})
}
