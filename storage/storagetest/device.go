package storagetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/tongban/tongban/storage"
)

// device returns a pending device authorization of client "tv-app" created at t0.
func device(name string) storage.DeviceAuthorization {
	return storage.DeviceAuthorization{
		DeviceCodeHash: "dc-" + name, UserCodeHash: "uc-" + name, RequestID: "req-" + name, ClientID: "tv-app",
		Scopes: []string{"openid", "offline_access"}, DeviceKind: "tv",
		CreatedAt: t0, ExpiresAt: t0.Add(10 * time.Minute), Interval: 5 * time.Second,
	}
}

// wantDevice is d as the store returns it while pending.
func wantDevice(d storage.DeviceAuthorization) storage.DeviceAuthorization {
	d.CreatedAt, d.ExpiresAt = stored(d.CreatedAt), stored(d.ExpiresAt)
	d.LastPollAt = d.CreatedAt
	d.Status = storage.DevicePending
	return d
}

func testDeviceAuthorizations(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	must(t, "CreateClient", s.CreateClient(ctx, testClient("tv-app")))
	must(t, "CreateClient", s.CreateClient(ctx, testClient("other-app")))
	a := device("a")
	noScopes := device("no-scopes")
	noScopes.Scopes = []string{}

	t.Run("CreateDeviceAuthorization", func(t *testing.T) {
		dupDevice := device("x")
		dupDevice.DeviceCodeHash = a.DeviceCodeHash
		dupUser := device("y")
		dupUser.UserCodeHash = a.UserCodeHash
		unknownClient := device("z")
		unknownClient.ClientID = "nobody"
		decided := device("decision-ignored")
		decided.Status, decided.PersonID, decided.ACR = storage.DeviceIssued, "mallory", "x"
		for _, tc := range []struct {
			name    string
			d       storage.DeviceAuthorization
			wantErr error
		}{
			{"ok/pending", a, nil},
			{"ok/empty scope list", noScopes, nil},
			{"ok/decision fields ignored", decided, nil},
			{"fail/duplicate device code", dupDevice, storage.ErrConflict},
			{"fail/duplicate user code", dupUser, storage.ErrConflict},
			{"fail/unknown client", unknownClient, storage.ErrNotFound},
		} {
			t.Run(tc.name, func(t *testing.T) {
				checkErr(t, "CreateDeviceAuthorization", s.CreateDeviceAuthorization(ctx, tc.d), tc.wantErr)
			})
		}
	})

	t.Run("GetDeviceAuthorizationByUserCode", func(t *testing.T) {
		for _, tc := range []struct {
			name    string
			hash    string
			want    storage.DeviceAuthorization
			wantErr error
		}{
			{"ok/every field", a.UserCodeHash, wantDevice(a), nil},
			{"ok/empty scope list stays empty", noScopes.UserCodeHash, wantDevice(noScopes), nil},
			{"ok/created pending whatever the record said", "uc-decision-ignored", wantDevice(device("decision-ignored")), nil},
			{"fail/unknown", "uc-nothing", storage.DeviceAuthorization{}, storage.ErrNotFound},
			{"fail/device code hash is not a user code hash", a.DeviceCodeHash, storage.DeviceAuthorization{}, storage.ErrNotFound},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, err := s.GetDeviceAuthorizationByUserCode(ctx, tc.hash)
				if checkErr(t, "GetDeviceAuthorizationByUserCode", err, tc.wantErr) {
					checkEqual(t, "authorization", got, tc.want)
				}
			})
		}
	})

	t.Run("PollDeviceAuthorization", func(t *testing.T) {
		must(t, "create", s.CreateDeviceAuthorization(ctx, device("poll")))
		created := stored(t0)
		const step = 5 * time.Second
		for _, tc := range []struct {
			name         string
			hash, client string
			now          time.Time
			wantFast     bool
			wantInterval time.Duration
			wantLast     time.Time
			wantErr      error
		}{
			{"fail/another client's device code", "dc-poll", "other-app", created.Add(time.Hour), false, 0, time.Time{}, storage.ErrNotFound},
			{"fail/unknown device code", "dc-nothing", "tv-app", created.Add(time.Hour), false, 0, time.Time{}, storage.ErrNotFound},
			{"ok/one microsecond before the interval: slow down", "dc-poll", "tv-app", created.Add(step - time.Microsecond), true, 10 * time.Second, created.Add(step - time.Microsecond), nil},
			{"ok/the old interval is no longer enough", "dc-poll", "tv-app", created.Add(step - time.Microsecond + 9*time.Second), true, 15 * time.Second, created.Add(step - time.Microsecond + 9*time.Second), nil},
			{"ok/exactly the new interval", "dc-poll", "tv-app", created.Add(step - time.Microsecond + 24*time.Second), false, 15 * time.Second, created.Add(step - time.Microsecond + 24*time.Second), nil},
			{"ok/later", "dc-poll", "tv-app", created.Add(time.Hour), false, 15 * time.Second, created.Add(time.Hour), nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, fast, err := s.PollDeviceAuthorization(ctx, tc.hash, tc.client, tc.now, step)
				if !checkErr(t, "PollDeviceAuthorization", err, tc.wantErr) || err != nil {
					return
				}
				if fast != tc.wantFast || got.Interval != tc.wantInterval || !got.LastPollAt.Equal(tc.wantLast) {
					t.Errorf("tooFast %v interval %v last poll %v; want %v %v %v", fast, got.Interval, got.LastPollAt,
						tc.wantFast, tc.wantInterval, tc.wantLast)
				}
				if got.Status != storage.DevicePending || got.ClientID != "tv-app" {
					t.Errorf("status %q client %q", got.Status, got.ClientID)
				}
			})
		}
		// The refused poll by another client changed nothing.
		got, err := s.GetDeviceAuthorizationByUserCode(ctx, "uc-poll")
		must(t, "get", err)
		if !got.LastPollAt.Equal(created.Add(time.Hour)) || got.Interval != 15*time.Second {
			t.Errorf("after the polls: last %v interval %v", got.LastPollAt, got.Interval)
		}
	})

	approve := storage.DeviceDecision{Approve: true, PersonID: "alice", AuthTime: t0.Add(-time.Minute), ACR: "urn:tongban:acr:mfa",
		AMR: []string{"pwd", "otp"}, At: t0.Add(time.Minute)}
	t.Run("DecideDeviceAuthorization", func(t *testing.T) {
		for _, n := range []string{"approve", "deny", "expired"} {
			must(t, "create", s.CreateDeviceAuthorization(ctx, device(n)))
		}
		deny := storage.DeviceDecision{PersonID: "bob", At: t0.Add(time.Minute)}
		atExpiry := approve
		atExpiry.At = stored(device("expired").ExpiresAt)
		for _, tc := range []struct {
			name    string
			hash    string
			dec     storage.DeviceDecision
			wantErr error
		}{
			{"fail/at expiry", "uc-expired", atExpiry, storage.ErrExpired},
			{"ok/approve", "uc-approve", approve, nil},
			{"fail/approve twice", "uc-approve", approve, storage.ErrAlreadyUsed},
			{"fail/deny after approval", "uc-approve", deny, storage.ErrAlreadyUsed},
			{"ok/deny", "uc-deny", deny, nil},
			{"fail/approve after denial", "uc-deny", approve, storage.ErrAlreadyUsed},
			{"fail/unknown", "uc-nothing", approve, storage.ErrNotFound},
		} {
			t.Run(tc.name, func(t *testing.T) {
				checkErr(t, "DecideDeviceAuthorization", s.DecideDeviceAuthorization(ctx, tc.hash, tc.dec), tc.wantErr)
			})
		}
		want := wantDevice(device("approve"))
		want.Status, want.PersonID, want.AuthTime, want.ACR, want.AMR, want.DecidedAt =
			storage.DeviceApproved, "alice", stored(approve.AuthTime), approve.ACR, approve.AMR, stored(approve.At)
		got, err := s.GetDeviceAuthorizationByUserCode(ctx, "uc-approve")
		must(t, "get", err)
		checkEqual(t, "approved", got, want)
		want = wantDevice(device("deny"))
		want.Status, want.PersonID, want.DecidedAt = storage.DeviceDenied, "bob", stored(deny.At)
		got, err = s.GetDeviceAuthorizationByUserCode(ctx, "uc-deny")
		must(t, "get", err)
		checkEqual(t, "denied", got, want)
		got, err = s.GetDeviceAuthorizationByUserCode(ctx, "uc-expired")
		must(t, "get", err)
		checkEqual(t, "expired", got, wantDevice(device("expired")))
	})

	t.Run("RedeemDeviceAuthorization", func(t *testing.T) {
		for _, tc := range []struct {
			name    string
			hash    string
			wantErr error
		}{
			{"fail/pending", a.DeviceCodeHash, storage.ErrAlreadyUsed},
			{"fail/denied", "dc-deny", storage.ErrAlreadyUsed},
			{"fail/unknown", "dc-nothing", storage.ErrNotFound},
			{"ok/approved", "dc-approve", nil},
			{"fail/issued already", "dc-approve", storage.ErrAlreadyUsed},
		} {
			t.Run(tc.name, func(t *testing.T) {
				checkErr(t, "RedeemDeviceAuthorization", s.RedeemDeviceAuthorization(ctx, tc.hash), tc.wantErr)
			})
		}
		got, err := s.GetDeviceAuthorizationByUserCode(ctx, "uc-approve")
		must(t, "get", err)
		if got.Status != storage.DeviceIssued || got.PersonID != "alice" {
			t.Errorf("after redemption: status %q person %q", got.Status, got.PersonID)
		}
	})

	t.Run("RedeemDeviceAuthorization/rolled back", func(t *testing.T) {
		must(t, "create", s.CreateDeviceAuthorization(ctx, device("rollback")))
		must(t, "approve", s.DecideDeviceAuthorization(ctx, "uc-rollback", approve))
		err := s.InTx(ctx, func(ctx context.Context) error {
			if err := s.RedeemDeviceAuthorization(ctx, "dc-rollback"); err != nil {
				return err
			}
			return errBoom
		})
		if !errors.Is(err, errBoom) {
			t.Fatalf("InTx: %v", err)
		}
		checkErr(t, "redeem after rollback", s.RedeemDeviceAuthorization(ctx, "dc-rollback"), nil)
	})

	t.Run("concurrent decisions and redemptions", func(t *testing.T) {
		must(t, "create", s.CreateDeviceAuthorization(ctx, device("race")))
		const n = 8
		race := func(f func(i int) error) (wins int) {
			var wg sync.WaitGroup
			errs := make([]error, n)
			for i := range n {
				wg.Go(func() { errs[i] = f(i) })
			}
			wg.Wait()
			for _, err := range errs {
				switch {
				case err == nil:
					wins++
				case !errors.Is(err, storage.ErrAlreadyUsed):
					t.Errorf("unexpected error %v", err)
				}
			}
			return wins
		}
		if w := race(func(i int) error {
			d := approve
			d.Approve = i%2 == 0
			return s.DecideDeviceAuthorization(ctx, "uc-race", d)
		}); w != 1 {
			t.Errorf("%d concurrent decisions won, want 1", w)
		}
		got, err := s.GetDeviceAuthorizationByUserCode(ctx, "uc-race")
		must(t, "get", err)
		if got.Status == storage.DeviceDenied {
			return // a denial won; nothing to redeem
		}
		if w := race(func(int) error {
			return s.InTx(ctx, func(ctx context.Context) error { return s.RedeemDeviceAuthorization(ctx, "dc-race") })
		}); w != 1 {
			t.Errorf("%d concurrent redemptions won, want 1", w)
		}
	})

	t.Run("DeleteExpiredDeviceAuthorizations", func(t *testing.T) {
		// Every authorization above expires at t0+10m; one more expires later.
		later := device("later")
		later.ExpiresAt = t0.Add(time.Hour)
		must(t, "create", s.CreateDeviceAuthorization(ctx, later))
		exp := stored(t0.Add(10 * time.Minute))
		n, err := s.DeleteExpiredDeviceAuthorizations(ctx, exp)
		must(t, "delete at expiry", err)
		if n != 0 {
			t.Errorf("deleted %d at the expiry instant, want 0 (kept until after)", n)
		}
		n, err = s.DeleteExpiredDeviceAuthorizations(ctx, exp.Add(time.Microsecond))
		must(t, "delete", err)
		if n < 5 {
			t.Errorf("deleted %d, want every authorization but one", n)
		}
		if _, err := s.GetDeviceAuthorizationByUserCode(ctx, a.UserCodeHash); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("expired authorization still there: %v", err)
		}
		if _, err := s.GetDeviceAuthorizationByUserCode(ctx, later.UserCodeHash); err != nil {
			t.Errorf("unexpired authorization gone: %v", err)
		}
	})
}
