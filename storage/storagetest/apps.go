package storagetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tongban/tongban/storage"
)

// wantLifecycle is c's lifecycle fields as the store returns them.
func wantLifecycle(c storage.Client) storage.Client {
	c.PendingChange = storedBytes(c.PendingChange)
	c.RegistrationTokenHash = storedBytes(c.RegistrationTokenHash)
	c.PreviousSecretHash = storedBytes(c.PreviousSecretHash)
	c.JWKS = storedBytes(c.JWKS)
	if !c.PreviousSecretExpiresAt.IsZero() {
		c.PreviousSecretExpiresAt = stored(c.PreviousSecretExpiresAt)
	}
	if !c.UpdatedAt.IsZero() {
		c.UpdatedAt = stored(c.UpdatedAt)
	}
	if !c.FederationExpiresAt.IsZero() { // federation_rp.go
		c.FederationExpiresAt = stored(c.FederationExpiresAt)
	}
	if !c.TokensNotBefore.IsZero() {
		c.TokensNotBefore = stored(c.TokensNotBefore)
	}
	return c
}

// lifecycleClient is testClient with every lifecycle field set.
func lifecycleClient(id, department, status string) storage.Client {
	c := testClient(id)
	c.Status = status
	c.Department = department
	c.LogoURI = "https://app.example.gov.cn/logo.png"
	c.ReviewNote = "材料不全"
	c.PendingChange = []byte(`{"redirect_uris":["https://app.example.gov.cn/new"]}`)
	c.RegistrationTokenHash = index("rat " + id)
	c.PreviousSecretHash = index("old secret " + id)
	c.PreviousSecretExpiresAt = t0.Add(24 * time.Hour)
	c.JWKS = []byte(`{"keys":[]}`)
	c.UpdatedAt = t0.Add(time.Hour)
	return c
}

func testApps(t *testing.T, s storage.Storage) {
	ctx := t.Context()

	t.Run("Client/ok/lifecycle fields round trip", func(t *testing.T) {
		c := lifecycleClient("life-1", "gongan", storage.ClientSuspended)
		must(t, "CreateClient", s.CreateClient(ctx, c))
		got, err := s.GetClient(ctx, c.ID)
		must(t, "GetClient", err)
		checkEqual(t, "GetClient", got, wantClient(c))
		must(t, "UpdateClient", s.UpdateClient(ctx, c.ID, func(c *storage.Client) error {
			c.Status = storage.ClientPublished
			c.ReviewNote = ""
			c.PendingChange = nil
			c.PreviousSecretHash = nil
			c.PreviousSecretExpiresAt = time.Time{}
			c.UpdatedAt = t0.Add(2 * time.Hour)
			return nil
		}))
		got, err = s.GetClient(ctx, c.ID)
		must(t, "GetClient", err)
		c.Status, c.ReviewNote, c.PendingChange, c.PreviousSecretHash, c.PreviousSecretExpiresAt, c.UpdatedAt =
			storage.ClientPublished, "", nil, nil, time.Time{}, t0.Add(2*time.Hour)
		checkEqual(t, "GetClient after update", got, wantClient(c))
		if got.EffectiveStatus() != storage.ClientPublished || (storage.Client{}).EffectiveStatus() != storage.ClientPublished {
			t.Error("EffectiveStatus")
		}
		must(t, "DeleteClient", s.DeleteClient(ctx, c.ID))
	})

	t.Run("ListClientsPage/ok/keyset pages and filters", func(t *testing.T) {
		var all []string
		for i := range 25 {
			dep, status := "gongan", storage.ClientPendingReview
			if i%2 == 1 {
				dep = "shebao"
			}
			switch i % 5 {
			case 0:
				status = "" // an old row: published
			case 1:
				status = storage.ClientPublished
			case 2:
				status = storage.ClientSuspended
			}
			c := testClient(fmt.Sprintf("page-%02d", i))
			c.Department, c.Status = dep, status
			must(t, "CreateClient", s.CreateClient(ctx, c))
			all = append(all, c.ID)
		}
		collect := func(q storage.ClientQuery) []string {
			var ids []string
			for pages := 0; ; pages++ {
				if pages > 30 {
					t.Fatal("paging does not end")
				}
				page, err := s.ListClientsPage(ctx, q)
				must(t, "ListClientsPage", err)
				for _, c := range page {
					ids = append(ids, c.ID)
					if c.Name == "" || len(c.RedirectURIs) == 0 {
						t.Fatalf("page row %q not fully read: %+v", c.ID, c)
					}
				}
				if len(page) < q.Limit {
					return ids
				}
				q.After = page[len(page)-1].ID
			}
		}
		if got := collect(storage.ClientQuery{Limit: 7}); !slices.Equal(got, all) {
			t.Errorf("all pages = %v, want %v", got, all)
		}
		var want []string
		for i, id := range all {
			if i%2 == 1 && (i%5 == 0 || i%5 == 1) {
				want = append(want, id)
			}
		}
		if got := collect(storage.ClientQuery{Department: "shebao", Status: storage.ClientPublished, Limit: 2}); !slices.Equal(got, want) {
			t.Errorf("shebao published = %v, want %v", got, want)
		}
		want = nil
		for i, id := range all {
			if i%5 == 2 {
				want = append(want, id)
			}
		}
		if got := collect(storage.ClientQuery{Status: storage.ClientSuspended, Limit: 3}); !slices.Equal(got, want) {
			t.Errorf("suspended = %v, want %v", got, want)
		}
		if got := collect(storage.ClientQuery{Department: "nobody", Limit: 3}); len(got) != 0 {
			t.Errorf("unknown department = %v", got)
		}
		page, err := s.ListClientsPage(ctx, storage.ClientQuery{After: all[len(all)-1]})
		must(t, "ListClientsPage", err)
		if len(page) != 0 {
			t.Errorf("after the last: %d", len(page))
		}
		page, err = s.ListClientsPage(ctx, storage.ClientQuery{Limit: 100000})
		must(t, "ListClientsPage", err)
		if len(page) != len(all) {
			t.Errorf("large limit: %d rows", len(page))
		}
		for _, id := range all {
			must(t, "DeleteClient", s.DeleteClient(ctx, id))
		}
	})

	t.Run("InitialAccessToken/ok/uses, expiry and unknown", func(t *testing.T) {
		iat := storage.InitialAccessToken{Hash: index("iat-1"), Department: "gongan", CreatedBy: "operator",
			CreatedAt: t0, ExpiresAt: t0.Add(time.Hour), UsesLeft: 2}
		must(t, "CreateInitialAccessToken", s.CreateInitialAccessToken(ctx, iat))
		if err := s.CreateInitialAccessToken(ctx, iat); !errors.Is(err, storage.ErrConflict) {
			t.Errorf("duplicate: %v, want ErrConflict", err)
		}
		got, err := s.UseInitialAccessToken(ctx, iat.Hash, t0.Add(time.Minute))
		must(t, "UseInitialAccessToken", err)
		want := iat
		want.CreatedAt, want.ExpiresAt = stored(iat.CreatedAt), stored(iat.ExpiresAt)
		checkEqual(t, "UseInitialAccessToken", got, want)
		if _, err := s.UseInitialAccessToken(ctx, iat.Hash, t0.Add(time.Hour)); !errors.Is(err, storage.ErrExpired) {
			t.Errorf("at expiry: %v, want ErrExpired", err)
		}
		if _, err := s.UseInitialAccessToken(ctx, iat.Hash, t0.Add(time.Minute)); err != nil {
			t.Errorf("second use: %v", err)
		}
		if _, err := s.UseInitialAccessToken(ctx, iat.Hash, t0.Add(time.Minute)); !errors.Is(err, storage.ErrAlreadyUsed) {
			t.Errorf("third use: %v, want ErrAlreadyUsed", err)
		}
		if _, err := s.UseInitialAccessToken(ctx, index("nope"), t0); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("unknown: %v, want ErrNotFound", err)
		}
		n, err := s.PurgeInitialAccessTokens(ctx, t0.Add(time.Hour+time.Microsecond))
		must(t, "PurgeInitialAccessTokens", err)
		if n != 1 {
			t.Errorf("purged %d, want 1", n)
		}
		if _, err := s.UseInitialAccessToken(ctx, iat.Hash, t0); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("after purge: %v, want ErrNotFound", err)
		}
	})

	t.Run("InitialAccessToken/ok/single use under concurrency", func(t *testing.T) {
		iat := storage.InitialAccessToken{Hash: index("iat-race"), Department: "shebao", CreatedBy: "operator",
			CreatedAt: t0, ExpiresAt: t0.Add(time.Hour), UsesLeft: 1}
		must(t, "CreateInitialAccessToken", s.CreateInitialAccessToken(ctx, iat))
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok, used := 0, 0
		for range 8 {
			wg.Go(func() {
				_, err := s.UseInitialAccessToken(ctx, iat.Hash, t0)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					ok++
				case errors.Is(err, storage.ErrAlreadyUsed) || errors.Is(err, storage.ErrTxAborted):
					used++
				default:
					t.Errorf("UseInitialAccessToken: %v", err)
				}
			})
		}
		wg.Wait()
		if ok != 1 {
			t.Errorf("%d callers used a single-use token", ok)
		}
	})

	t.Run("RevokeClientGrants/ok/codes and refresh tokens of the client only", func(t *testing.T) {
		for _, id := range []string{"rev-a", "rev-b"} {
			must(t, "CreateClient", s.CreateClient(ctx, testClient(id)))
		}
		mk := func(kind storage.TokenKind, sig, req, client string, exp time.Time) {
			must(t, "CreateToken", s.CreateToken(ctx, storage.TokenRecord{Kind: kind, Signature: sig, RequestID: req,
				ClientID: client, Subject: "p", Active: true, RequestedAt: t0, ExpiresAt: exp}))
		}
		mk(storage.KindRefreshToken, "r1", "g1", "rev-a", t0.Add(30*24*time.Hour))
		mk(storage.KindAuthorizeCode, "c1", "g1", "rev-a", t0.Add(time.Minute))
		mk(storage.KindRefreshToken, "r2", "g2", "rev-a", t0.Add(2*time.Hour))
		mk(storage.KindRefreshToken, "r3", "g3", "rev-b", t0.Add(2*time.Hour))
		n, err := s.RevokeClientGrants(ctx, "rev-a")
		must(t, "RevokeClientGrants", err)
		if n != 2 {
			t.Errorf("revoked %d grants, want 2", n)
		}
		for _, sig := range []struct {
			kind   storage.TokenKind
			sig    string
			active bool
		}{{storage.KindRefreshToken, "r1", false}, {storage.KindAuthorizeCode, "c1", false},
			{storage.KindRefreshToken, "r2", false}, {storage.KindRefreshToken, "r3", true}} {
			r, err := s.GetToken(ctx, sig.kind, sig.sig)
			must(t, "GetToken", err)
			if r.Active != sig.active {
				t.Errorf("%s active = %v, want %v", sig.sig, r.Active, sig.active)
			}
		}
		for _, g := range []struct {
			id   string
			want int64
		}{{"g1", storage.RevokedAll}, {"g2", storage.RevokedAll}, {"g3", 0}} {
			below, err := s.GrantRevokedBelow(ctx, g.id)
			must(t, "GrantRevokedBelow", err)
			if below != g.want {
				t.Errorf("grant %s revoked below %d, want %d", g.id, below, g.want)
			}
		}
		// The entry lives as long as the grant's longest-lived record.
		if n, err := s.PurgeRevocations(ctx, t0.Add(29*24*time.Hour)); err != nil || n != 1 {
			t.Errorf("purge: %d, %v; want only g2's entry gone", n, err)
		}
		if n, err := s.RevokeClientGrants(ctx, "rev-a"); err != nil || n != 0 {
			t.Errorf("second revocation: %d, %v", n, err)
		}
	})
}

// BenchListClientsPage stores 10,000 apps (in 10 departments) and pages through them, 100 a
// page, with ListClientsPage; it reports ms/page, whose budget is 50 ms
// (docs/design/app-management.md), and fails when the mean is above it.
func BenchListClientsPage(b *testing.B, s storage.Storage) {
	ctx := b.Context()
	const apps = 10000
	err := s.InTx(ctx, func(ctx context.Context) error {
		for i := range apps {
			c := testClient(fmt.Sprintf("bench-app-%05d", i))
			c.Department = fmt.Sprintf("dept-%d", i%10)
			c.Status = storage.ClientPublished
			if err := s.CreateClient(ctx, c); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	pages := 0
	b.ResetTimer()
	for b.Loop() {
		for _, q := range []storage.ClientQuery{{Limit: 100}, {Department: "dept-3", Limit: 100}} {
			for {
				page, err := s.ListClientsPage(ctx, q)
				if err != nil {
					b.Fatal(err)
				}
				pages++
				if len(page) < q.Limit {
					break
				}
				q.After = page[len(page)-1].ID
			}
		}
	}
	perPage := b.Elapsed().Seconds() * 1000 / float64(pages)
	b.ReportMetric(perPage, "ms/page")
	if perPage > 50 {
		b.Errorf("listing takes %.1f ms a page, budget 50 ms", perPage)
	}
}
