package storagetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/tongban/tongban/storage"
)

// tokenState returns "active", "inactive" or "missing" for the token record (kind, sig).
func tokenState(t *testing.T, s storage.Storage, kind storage.TokenKind, sig string) string {
	t.Helper()
	r, err := s.GetToken(context.Background(), kind, sig)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return "missing"
	case err != nil:
		t.Fatalf("GetToken %s %s: %v", kind, sig, err)
	case r.Active:
		return "active"
	}
	return "inactive"
}

func testTransactions(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	must(t, "CreateClient", s.CreateClient(ctx, testClient("client")))
	exp := t0.Add(time.Hour)

	t.Run("ok/commit makes every write visible", func(t *testing.T) {
		err := s.InTx(ctx, func(ctx context.Context) error {
			if err := s.CreateToken(ctx, token(storage.KindAccessToken, "commit-a", "r-commit", true, exp)); err != nil {
				return err
			}
			// The transaction reads its own write.
			if _, err := s.GetToken(ctx, storage.KindAccessToken, "commit-a"); err != nil {
				return fmt.Errorf("read own write: %w", err)
			}
			return s.CreateToken(ctx, token(storage.KindRefreshToken, "commit-r", "r-commit", true, exp))
		})
		must(t, "InTx", err)
		for _, k := range []struct {
			kind storage.TokenKind
			sig  string
		}{{storage.KindAccessToken, "commit-a"}, {storage.KindRefreshToken, "commit-r"}} {
			if got := tokenState(t, s, k.kind, k.sig); got != "active" {
				t.Errorf("%s after commit: %s", k.sig, got)
			}
		}
	})

	t.Run("fail/an error rolls every write back and is returned as is", func(t *testing.T) {
		must(t, "CreateToken", s.CreateToken(ctx, token(storage.KindAuthorizeCode, "rb-code", "r-rb", true, exp)))
		err := s.InTx(ctx, func(ctx context.Context) error {
			if err := s.InvalidateToken(ctx, storage.KindAuthorizeCode, "rb-code"); err != nil {
				return err
			}
			if err := s.CreateToken(ctx, token(storage.KindAccessToken, "rb-a", "r-rb", true, exp)); err != nil {
				return err
			}
			if err := s.RevokeGrant(ctx, "r-rb", 1, exp); err != nil {
				return err
			}
			if _, err := s.AppendAudit(ctx, storage.AuditEvent{Time: t0, Actor: "a", Action: "rb"}); err != nil {
				return err
			}
			return errBoom
		})
		if !errors.Is(err, errBoom) {
			t.Fatalf("InTx: %v, want the function's error", err)
		}
		if got := tokenState(t, s, storage.KindAuthorizeCode, "rb-code"); got != "active" {
			t.Errorf("code after rollback: %s, want active", got)
		}
		if got := tokenState(t, s, storage.KindAccessToken, "rb-a"); got != "missing" {
			t.Errorf("access token after rollback: %s, want missing", got)
		}
		if below, err := s.GrantRevokedBelow(ctx, "r-rb"); err != nil || below != 0 {
			t.Errorf("revocation after rollback: %d %v", below, err)
		}
		events, err := s.ListAudit(ctx, 0, 1000)
		must(t, "ListAudit", err)
		for _, e := range events {
			if e.Action == "rb" {
				t.Errorf("audit event of a rolled-back transaction: %+v", e)
			}
		}
	})

	t.Run("fail/a panic rolls back and goes on", func(t *testing.T) {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("the panic did not go on")
				}
			}()
			_ = s.InTx(ctx, func(ctx context.Context) error {
				_ = s.CreateToken(ctx, token(storage.KindAccessToken, "panic-a", "r-panic", true, exp))
				panic("boom")
			})
		}()
		if got := tokenState(t, s, storage.KindAccessToken, "panic-a"); got != "missing" {
			t.Errorf("after panic: %s, want missing", got)
		}
		// The write connection went back to the pool: the store still writes.
		must(t, "CreateToken after panic", s.CreateToken(ctx, token(storage.KindAccessToken, "panic-b", "r-panic", true, exp)))
	})

	t.Run("ok/nested calls and updaters join the outer transaction", func(t *testing.T) {
		must(t, "CreatePerson", s.CreatePerson(ctx, storage.Person{ID: "tx-person", Kind: storage.NaturalPerson, Name: "before", IDNumberIndex: index("tx-person")}))
		err := s.InTx(ctx, func(ctx context.Context) error {
			if err := s.UpdatePerson(ctx, "tx-person", func(p *storage.Person) error { p.Name = "inside"; return nil }); err != nil {
				return err
			}
			if err := s.UpdateClient(ctx, "client", func(c *storage.Client) error { c.Name = "inside"; return nil }); err != nil {
				return err
			}
			return s.InTx(ctx, func(ctx context.Context) error {
				p, err := s.GetPerson(ctx, "tx-person")
				if err != nil || p.Name != "inside" {
					return fmt.Errorf("nested InTx does not see the outer write: %q %v", p.Name, err)
				}
				return errBoom
			})
		})
		if !errors.Is(err, errBoom) {
			t.Fatalf("InTx: %v", err)
		}
		p, err := s.GetPerson(ctx, "tx-person")
		must(t, "GetPerson", err)
		c, err := s.GetClient(ctx, "client")
		must(t, "GetClient", err)
		if p.Name != "before" || c.Name == "inside" {
			t.Errorf("updaters committed on their own: person %q, client %q", p.Name, c.Name)
		}
	})

	t.Run("ok/uncommitted writes are invisible outside", func(t *testing.T) {
		inside := make(chan struct{})
		release := make(chan struct{})
		done := make(chan error, 1)
		go func() {
			done <- s.InTx(ctx, func(ctx context.Context) error {
				if err := s.CreateToken(ctx, token(storage.KindAccessToken, "iso-a", "r-iso", true, exp)); err != nil {
					return err
				}
				close(inside)
				<-release
				return nil
			})
		}()
		select {
		case <-inside:
		case err := <-done:
			t.Fatalf("InTx: %v", err)
		}
		if got := tokenState(t, s, storage.KindAccessToken, "iso-a"); got != "missing" {
			t.Errorf("an uncommitted write is visible outside its transaction: %s", got)
		}
		close(release)
		must(t, "InTx", <-done)
		if got := tokenState(t, s, storage.KindAccessToken, "iso-a"); got != "active" {
			t.Errorf("after commit: %s", got)
		}
	})

	// A claim inside a transaction holds the record until the transaction ends: a concurrent
	// claim waits, then loses to a commit and wins after a rollback. It never sees the claim
	// half done.
	for _, outcome := range []string{"commit", "rollback"} {
		t.Run("ok/a concurrent claim waits for the "+outcome, func(t *testing.T) {
			sig := "wait-" + outcome
			must(t, "CreateToken", s.CreateToken(ctx, token(storage.KindAuthorizeCode, sig, "r-"+sig, true, exp)))
			claimed := make(chan struct{})
			release := make(chan struct{})
			first := make(chan error, 1)
			go func() {
				first <- s.InTx(ctx, func(ctx context.Context) error {
					if err := s.InvalidateToken(ctx, storage.KindAuthorizeCode, sig); err != nil {
						return err
					}
					close(claimed)
					<-release
					if outcome == "rollback" {
						return errBoom
					}
					return nil
				})
			}()
			select {
			case <-claimed:
			case err := <-first:
				t.Fatalf("first claim: %v", err)
			}
			second := make(chan error, 1)
			go func() {
				second <- s.InTx(ctx, func(ctx context.Context) error {
					return s.InvalidateToken(ctx, storage.KindAuthorizeCode, sig)
				})
			}()
			select {
			case err := <-second:
				t.Fatalf("the second claim returned (%v) while the first transaction was open", err)
			case <-time.After(100 * time.Millisecond):
			}
			close(release)
			ferr := <-first
			serr := <-second
			if outcome == "commit" {
				if ferr != nil || !errors.Is(serr, storage.ErrAlreadyUsed) {
					t.Errorf("first %v, second %v; want nil, ErrAlreadyUsed", ferr, serr)
				}
			} else if !errors.Is(ferr, errBoom) || serr != nil {
				t.Errorf("first %v, second %v; want errBoom, nil", ferr, serr)
			}
		})
	}

	t.Run("ok/one of 32 redeeming transactions wins and only its tokens exist", func(t *testing.T) {
		must(t, "CreateToken", s.CreateToken(ctx, token(storage.KindAuthorizeCode, "race-code", "r-race", true, exp)))
		errs := race(Redeemers, func(i int) error {
			return s.InTx(ctx, func(ctx context.Context) error {
				if err := s.InvalidateToken(ctx, storage.KindAuthorizeCode, "race-code"); err != nil {
					return err
				}
				return s.CreateToken(ctx, token(storage.KindAccessToken, fmt.Sprintf("race-a-%d", i), "r-race", true, exp))
			})
		})
		checkOneWinner(t, "InTx(InvalidateToken, CreateToken)", errs)
		for i, err := range errs {
			want := "missing"
			if err == nil {
				want = "active"
			}
			if got := tokenState(t, s, storage.KindAccessToken, fmt.Sprintf("race-a-%d", i)); got != want {
				t.Errorf("redeemer %d (%v): access token %s, want %s", i, err, got, want)
			}
		}
	})
}

func testRevocations(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	if below, err := s.GrantRevokedBelow(ctx, "never"); err != nil || below != 0 {
		t.Errorf("unknown grant: %d %v, want 0 nil", below, err)
	}
	must(t, "RevokeGrant", s.RevokeGrant(ctx, "g1", 2, t0.Add(time.Hour)))
	for _, c := range []struct {
		name  string
		below int64
		exp   time.Time
		want  int64
	}{
		{"ok/higher generation raises", 5, t0.Add(time.Minute), 5},
		{"ok/lower generation keeps the higher", 3, t0.Add(2 * time.Hour), 5},
		{"ok/all", storage.RevokedAll, t0, storage.RevokedAll},
		{"ok/nothing undoes all", 1, t0, storage.RevokedAll},
	} {
		t.Run(c.name, func(t *testing.T) {
			must(t, "RevokeGrant", s.RevokeGrant(ctx, "g1", c.below, c.exp))
			if got, err := s.GrantRevokedBelow(ctx, "g1"); err != nil || got != c.want {
				t.Errorf("GrantRevokedBelow = %d %v, want %d", got, err, c.want)
			}
		})
	}
	must(t, "RevokeGrant", s.RevokeGrant(ctx, "g2", storage.RevokedAll, t0.Add(30*time.Minute)))
	// g1 expires at t0+2h (the latest of its calls), g2 at t0+30m.
	n, err := s.PurgeRevocations(ctx, t0.Add(time.Hour))
	if err != nil || n != 1 {
		t.Errorf("PurgeRevocations = %d %v, want 1", n, err)
	}
	if got, _ := s.GrantRevokedBelow(ctx, "g2"); got != 0 {
		t.Errorf("g2 after purge: %d", got)
	}
	if got, _ := s.GrantRevokedBelow(ctx, "g1"); got != storage.RevokedAll {
		t.Errorf("g1 purged too early: %d", got)
	}
}

func testHeartbeat(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	for i := range 3 {
		must(t, "Heartbeat", s.Heartbeat(ctx, "replica-a", t0.Add(time.Duration(i)*time.Second)))
	}
	must(t, "Heartbeat", s.Heartbeat(ctx, "replica-b", t0))
}
