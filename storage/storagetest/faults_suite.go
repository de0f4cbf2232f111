package storagetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/tongban/tongban/storage"
)

// RunFaults proves that the token endpoint's transactions leave nothing half done: for each
// sequence of writes the identity provider commits together (redeeming an authorization code,
// rotating a refresh token, answering a replay), it makes the 1st, 2nd, 3rd… statement of the
// transaction fail (Faults.Arm) until the sequence runs through, and checks after every
// failure that the database holds exactly what it held before — and after the success, all of
// the sequence. newStore must return a new, empty store whose statements f counts and fails
// (SQLiteWithFaults, PostgresWithFaults).
func RunFaults(t *testing.T, newStore func(t *testing.T, f *Faults) storage.Storage) {
	for _, c := range []struct {
		name string
		seq  faultSequence
	}{
		{"RedeemCode", redeemCodeSequence},
		{"RotateRefresh", rotateRefreshSequence},
		{"Replay", replaySequence},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := &Faults{}
			testFaultSequence(t, newStore(t, f), f, c.seq)
		})
	}
}

// faultSequence is one transaction of the token endpoint: setup stores what exists before it
// (outside the fault count), run is the transaction's body, and state describes everything
// the sequence touches, so that "before" and "after" can be compared.
type faultSequence struct {
	setup func(ctx context.Context, s storage.Storage, round string) error
	run   func(ctx context.Context, s storage.Storage, round string) error
	state func(t *testing.T, s storage.Storage, round string) string
}

func testFaultSequence(t *testing.T, s storage.Storage, f *Faults, seq faultSequence) {
	ctx := t.Context()
	must(t, "CreateClient", s.CreateClient(ctx, testClient("client")))
	for n := 1; ; n++ {
		round := fmt.Sprintf("n%d", n)
		f.Arm(0)
		must(t, "setup", seq.setup(ctx, s, round))
		before := seq.state(t, s, round)
		f.Arm(n)
		err := s.InTx(ctx, func(ctx context.Context) error { return seq.run(ctx, s, round) })
		failed := f.Failed()
		f.Arm(0)
		after := seq.state(t, s, round)
		if err == nil {
			if len(failed) != 0 {
				t.Fatalf("statement %d (%s) failed, yet the transaction committed", n, failed[0])
			}
			if after == before {
				t.Fatalf("the sequence changed nothing: %s", after)
			}
			if n < 3 {
				t.Fatalf("the sequence ran through with only %d statements", n-1)
			}
			t.Logf("statements 1…%d each failed in turn and left nothing behind; after: %s", n-1, after)
			return
		}
		if !errors.Is(err, ErrInjected) {
			t.Fatalf("statement %d: error %v, want the injected fault", n, err)
		}
		if after != before {
			t.Errorf("statement %d (%s) failed and left the transaction half done:\n  before %s\n  after  %s", n, failed, before, after)
		}
		if n > 50 {
			t.Fatal("the sequence never ran through")
		}
	}
}

var faultExp = t0.Add(time.Hour)

// redeemCodeSequence is an authorization code's redemption: claim the code, store the
// refresh token, remember that the code's OIDC data was used.
var redeemCodeSequence = faultSequence{
	setup: func(ctx context.Context, s storage.Storage, r string) error {
		return s.CreateToken(ctx, token(storage.KindAuthorizeCode, "code-"+r, "req-"+r, true, faultExp))
	},
	run: func(ctx context.Context, s storage.Storage, r string) error {
		if err := s.InvalidateToken(ctx, storage.KindAuthorizeCode, "code-"+r); err != nil {
			return err
		}
		if err := s.CreateToken(ctx, token(storage.KindRefreshToken, "rt-"+r, "req-"+r, true, faultExp)); err != nil {
			return err
		}
		if err := s.CreateToken(ctx, token(storage.KindAccessToken, "at-"+r, "req-"+r, true, faultExp)); err != nil {
			return err
		}
		_, err := s.AppendAudit(ctx, storage.AuditEvent{Time: t0, Actor: "client", Action: "token.issue", Detail: r})
		return err
	},
	state: func(t *testing.T, s storage.Storage, r string) string {
		return fmt.Sprintf("code %s, refresh %s, access %s, audit %d",
			tokenState(t, s, storage.KindAuthorizeCode, "code-"+r), tokenState(t, s, storage.KindRefreshToken, "rt-"+r),
			tokenState(t, s, storage.KindAccessToken, "at-"+r), auditCount(t, s, r))
	},
}

// rotateRefreshSequence is a refresh: claim the presented refresh token, revoke the access
// tokens issued before (the stored ones and, for self-contained ones, the grant below the new
// generation), store the successor.
var rotateRefreshSequence = faultSequence{
	setup: func(ctx context.Context, s storage.Storage, r string) error {
		if err := s.CreateToken(ctx, token(storage.KindRefreshToken, "rt-"+r, "req-"+r, true, faultExp)); err != nil {
			return err
		}
		return s.CreateToken(ctx, token(storage.KindAccessToken, "at-"+r, "req-"+r, true, faultExp))
	},
	run: func(ctx context.Context, s storage.Storage, r string) error {
		if err := s.InvalidateToken(ctx, storage.KindRefreshToken, "rt-"+r); err != nil {
			return err
		}
		if _, err := s.RevokeByRequestID(ctx, storage.KindAccessToken, "req-"+r); err != nil {
			return err
		}
		if err := s.RevokeGrant(ctx, "req-"+r, 1, faultExp); err != nil {
			return err
		}
		return s.CreateToken(ctx, token(storage.KindRefreshToken, "rt2-"+r, "req-"+r, true, faultExp))
	},
	state: func(t *testing.T, s storage.Storage, r string) string {
		below, err := s.GrantRevokedBelow(context.Background(), "req-"+r)
		must(t, "GrantRevokedBelow", err)
		return fmt.Sprintf("refresh %s, access %s, revoked below %d, successor %s",
			tokenState(t, s, storage.KindRefreshToken, "rt-"+r), tokenState(t, s, storage.KindAccessToken, "at-"+r),
			below, tokenState(t, s, storage.KindRefreshToken, "rt2-"+r))
	},
}

// replaySequence is the answer to a replayed code: mark the replay, revoke the grant's
// refresh tokens, stored access tokens and self-contained access tokens.
var replaySequence = faultSequence{
	setup: func(ctx context.Context, s storage.Storage, r string) error {
		if err := s.CreateToken(ctx, token(storage.KindRefreshToken, "rt-"+r, "req-"+r, true, faultExp)); err != nil {
			return err
		}
		return s.CreateToken(ctx, token(storage.KindAccessToken, "at-"+r, "req-"+r, true, faultExp))
	},
	run: func(ctx context.Context, s storage.Storage, r string) error {
		if err := s.UseNonce(ctx, "code-replayed", "req-"+r, faultExp); err != nil {
			return err
		}
		if _, err := s.RevokeByRequestID(ctx, storage.KindRefreshToken, "req-"+r); err != nil {
			return err
		}
		if _, err := s.RevokeByRequestID(ctx, storage.KindAccessToken, "req-"+r); err != nil {
			return err
		}
		return s.RevokeGrant(ctx, "req-"+r, storage.RevokedAll, faultExp)
	},
	state: func(t *testing.T, s storage.Storage, r string) string {
		below, err := s.GrantRevokedBelow(context.Background(), "req-"+r)
		must(t, "GrantRevokedBelow", err)
		return fmt.Sprintf("replay marked %v, refresh %s, access %s, revoked below %d", nonceUsed(t, s, "code-replayed", "req-"+r),
			tokenState(t, s, storage.KindRefreshToken, "rt-"+r), tokenState(t, s, storage.KindAccessToken, "at-"+r), below)
	},
}

// auditCount returns the number of audit events whose detail is r.
func auditCount(t *testing.T, s storage.Storage, r string) int {
	t.Helper()
	events, err := s.ListAudit(context.Background(), 0, 10000)
	must(t, "ListAudit", err)
	n := 0
	for _, e := range events {
		if e.Detail == r {
			n++
		}
	}
	return n
}

// errProbe rolls back the transaction of nonceUsed.
var errProbe = errors.New("storagetest: probe rolled back")

// nonceUsed reports whether (namespace, value) is recorded, without recording it: it tries
// UseNonce in a transaction that it then rolls back.
func nonceUsed(t *testing.T, s storage.Storage, namespace, value string) bool {
	t.Helper()
	var used bool
	err := s.InTx(context.Background(), func(ctx context.Context) error {
		err := s.UseNonce(ctx, namespace, value, faultExp)
		if err != nil && !errors.Is(err, storage.ErrAlreadyUsed) {
			return err
		}
		used = err != nil
		return errProbe
	})
	if !errors.Is(err, errProbe) {
		t.Fatalf("nonceUsed: %v", err)
	}
	return used
}
