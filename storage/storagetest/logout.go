package storagetest

import (
	"testing"
	"time"

	"github.com/tongban/tongban/storage"
)

// testSingleLogout checks storage.SingleLogout (migration 00022): the clients' logout endpoints
// round-trip, session ↔ client records (upsert keeps the later expiry, list by sessions,
// delete, purge), and the outbox (enqueue, claim with a lease, reschedule, delete).
func testSingleLogout(t *testing.T, s storage.Storage) {
	ctx := t.Context()

	t.Run("ClientFields", func(t *testing.T) {
		c := testClient("slo-app")
		c.BackchannelLogoutURI = "https://app.example.gov.cn/bcl"
		c.BackchannelLogoutSessionRequired = true
		c.FrontchannelLogoutURI = "https://app.example.gov.cn/fcl"
		must(t, "CreateClient", s.CreateClient(ctx, c))
		got, err := s.GetClient(ctx, c.ID)
		must(t, "GetClient", err)
		if got.BackchannelLogoutURI != c.BackchannelLogoutURI || !got.BackchannelLogoutSessionRequired ||
			got.FrontchannelLogoutURI != c.FrontchannelLogoutURI || got.FrontchannelLogoutSessionRequired {
			t.Errorf("logout fields = %q %v %q %v", got.BackchannelLogoutURI, got.BackchannelLogoutSessionRequired,
				got.FrontchannelLogoutURI, got.FrontchannelLogoutSessionRequired)
		}
		must(t, "UpdateClient", s.UpdateClient(ctx, c.ID, func(c *storage.Client) error {
			c.BackchannelLogoutURI, c.BackchannelLogoutSessionRequired = "", false
			c.FrontchannelLogoutSessionRequired = true
			return nil
		}))
		got, err = s.GetClient(ctx, c.ID)
		must(t, "GetClient after update", err)
		if got.BackchannelLogoutURI != "" || got.BackchannelLogoutSessionRequired || !got.FrontchannelLogoutSessionRequired {
			t.Errorf("after update = %q %v %v", got.BackchannelLogoutURI, got.BackchannelLogoutSessionRequired, got.FrontchannelLogoutSessionRequired)
		}
	})

	t.Run("SessionClients", func(t *testing.T) {
		a1 := storage.SessionClient{SessionID: "s-a", RequestID: "r-1", ClientID: "app-2", Subject: "sub-2", PersonID: "p", ExpiresAt: t0.Add(time.Hour)}
		a2 := storage.SessionClient{SessionID: "s-a", RequestID: "r-2", ClientID: "app-1", Subject: "sub-1", PersonID: "p", ExpiresAt: t0.Add(time.Hour)}
		b1 := storage.SessionClient{SessionID: "s-b", RequestID: "r-3", ClientID: "app-1", Subject: "sub-1", PersonID: "p", ExpiresAt: t0.Add(time.Minute)}
		for _, x := range []storage.SessionClient{a1, a2, b1} {
			must(t, "RecordSessionClient", s.RecordSessionClient(ctx, x))
		}
		// An earlier expiry does not shorten the record; a later one extends it.
		early := a1
		early.ExpiresAt = t0
		must(t, "RecordSessionClient earlier", s.RecordSessionClient(ctx, early))
		later := b1
		later.ExpiresAt = t0.Add(2 * time.Hour)
		must(t, "RecordSessionClient later", s.RecordSessionClient(ctx, later))

		want := func(xs ...storage.SessionClient) []storage.SessionClient {
			out := []storage.SessionClient{}
			for _, x := range xs {
				x.ExpiresAt = stored(x.ExpiresAt)
				out = append(out, x)
			}
			return out
		}
		got, err := s.ListSessionClients(ctx, []string{"s-b", "s-a", "s-none"})
		must(t, "ListSessionClients", err)
		checkEqual(t, "session clients", got, want(a2, a1, later))
		got, err = s.ListSessionClients(ctx, nil)
		must(t, "ListSessionClients none", err)
		checkEqual(t, "no sessions", got, []storage.SessionClient{})

		ids, err := s.ListSessionIDsForPerson(ctx, "p")
		must(t, "ListSessionIDsForPerson", err)
		checkEqual(t, "session IDs of p", ids, []string{"s-a", "s-b"})
		ids, err = s.ListSessionIDsForPerson(ctx, "nobody")
		must(t, "ListSessionIDsForPerson nobody", err)
		checkEqual(t, "session IDs of nobody", ids, []string{})

		n, err := s.PurgeSessionClients(ctx, t0.Add(90*time.Minute))
		must(t, "PurgeSessionClients", err)
		if n != 2 {
			t.Errorf("PurgeSessionClients = %d, want 2 (s-a's)", n)
		}
		must(t, "RecordSessionClient again", s.RecordSessionClient(ctx, a1))
		n, err = s.DeleteSessionClients(ctx, []string{"s-a", "s-b"})
		must(t, "DeleteSessionClients", err)
		if n != 2 {
			t.Errorf("DeleteSessionClients = %d, want 2", n)
		}
		got, err = s.ListSessionClients(ctx, []string{"s-a", "s-b"})
		must(t, "ListSessionClients after delete", err)
		checkEqual(t, "after delete", got, []storage.SessionClient{})
	})

	t.Run("Outbox", func(t *testing.T) {
		d1 := storage.LogoutDelivery{ID: "d-1", ClientID: "app-1", URI: "https://a/bcl", Subject: "sub-1", SID: "sid", NextAttempt: t0, CreatedAt: t0}
		d2 := storage.LogoutDelivery{ID: "d-2", ClientID: "app-2", URI: "https://b/bcl", SID: "sid", NextAttempt: t0.Add(time.Second), CreatedAt: t0}
		d3 := storage.LogoutDelivery{ClientID: "app-3", URI: "https://c/bcl", Subject: "sub-3", NextAttempt: t0.Add(time.Hour), CreatedAt: t0}
		must(t, "EnqueueLogouts", s.EnqueueLogouts(ctx, []storage.LogoutDelivery{d1, d2, d3}))
		checkErr(t, "EnqueueLogouts duplicate", s.EnqueueLogouts(ctx, []storage.LogoutDelivery{d1}), storage.ErrConflict)
		n, err := s.CountLogouts(ctx)
		must(t, "CountLogouts", err)
		if n != 3 {
			t.Fatalf("CountLogouts = %d, want 3", n)
		}

		lease := t0.Add(30 * time.Second)
		got, err := s.ClaimDueLogouts(ctx, t0.Add(time.Second), lease, 0)
		must(t, "ClaimDueLogouts", err)
		w1, w2 := d1, d2
		w1.NextAttempt, w1.CreatedAt = stored(d1.NextAttempt), stored(t0)
		w2.NextAttempt, w2.CreatedAt = stored(d2.NextAttempt), stored(t0)
		checkEqual(t, "claimed", got, []storage.LogoutDelivery{w1, w2})
		// Claimed rows are leased: not due again before the lease ends.
		got, err = s.ClaimDueLogouts(ctx, t0.Add(2*time.Second), lease, 10)
		must(t, "ClaimDueLogouts leased", err)
		checkEqual(t, "claimed while leased", got, []storage.LogoutDelivery{})

		must(t, "RescheduleLogout", s.RescheduleLogout(ctx, "d-2", 1, t0.Add(3*time.Second)))
		checkErr(t, "RescheduleLogout missing", s.RescheduleLogout(ctx, "nope", 1, t0), storage.ErrNotFound)
		got, err = s.ClaimDueLogouts(ctx, t0.Add(3*time.Second), lease, 1)
		must(t, "ClaimDueLogouts rescheduled", err)
		if len(got) != 1 || got[0].ID != "d-2" || got[0].Attempts != 1 {
			t.Errorf("rescheduled claim = %+v, want d-2 with 1 attempt", got)
		}
		must(t, "DeleteLogout", s.DeleteLogout(ctx, "d-1"))
		checkErr(t, "DeleteLogout again", s.DeleteLogout(ctx, "d-1"), storage.ErrNotFound)
		got, err = s.ClaimDueLogouts(ctx, t0.Add(2*time.Hour), t0.Add(3*time.Hour), 10)
		must(t, "ClaimDueLogouts all", err)
		if len(got) != 2 || got[0].ID != "d-2" || got[1].ClientID != "app-3" || len(got[1].ID) != 22 {
			t.Errorf("claim all = %+v", got)
		}
	})
}
