package storagetest

import (
	"bytes"
	"testing"
	"time"

	"github.com/tongban/tongban/storage"
)

func wantScanLogin(sl storage.ScanLogin) storage.ScanLogin {
	if !sl.AuthTime.IsZero() {
		sl.AuthTime = stored(sl.AuthTime)
	}
	sl.CreatedAt = stored(sl.CreatedAt)
	sl.ExpiresAt = stored(sl.ExpiresAt)
	return sl
}

// testScanLogins: scan-to-login requests round-trip, move pending → scanned → approved|denied
// → used only along that path, only for the phone session that scanned them and only before
// they expire; the last step has exactly one winner among concurrent finishers.
func testScanLogins(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	exp := t0.Add(2 * time.Minute)
	newScan := func(id string) storage.ScanLogin {
		return storage.ScanLogin{ID: id, BindingHash: bytes.Repeat([]byte{0xb1}, 32), Pending: "eyJxIjoiIn0.mac",
			ClientID: "app", Browser: "Chrome · Windows · 203.0.113.*", State: storage.ScanPending, CreatedAt: t0, ExpiresAt: exp}
	}
	must(t, "CreateScanLogin", s.CreateScanLogin(ctx, newScan("approve")))
	must(t, "CreateScanLogin", s.CreateScanLogin(ctx, newScan("deny")))
	must(t, "CreateScanLogin", s.CreateScanLogin(ctx, newScan("unopened")))
	accountPage := newScan("account")
	accountPage.ClientID, accountPage.Browser = "", ""
	must(t, "CreateScanLogin", s.CreateScanLogin(ctx, accountPage))

	t.Run("CreateScanLogin/fail/duplicate ID", func(t *testing.T) {
		checkErr(t, "CreateScanLogin", s.CreateScanLogin(ctx, newScan("approve")), storage.ErrConflict)
	})
	t.Run("GetScanLogin", func(t *testing.T) {
		for _, tc := range []struct {
			name    string
			id      string
			want    storage.ScanLogin
			wantErr error
		}{
			{"ok/every field of a new request", "approve", newScan("approve"), nil},
			{"ok/empty client and browser", "account", accountPage, nil},
			{"fail/unknown", "nothing", storage.ScanLogin{}, storage.ErrNotFound},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, err := s.GetScanLogin(ctx, tc.id)
				if checkErr(t, "GetScanLogin", err, tc.wantErr) && tc.wantErr == nil {
					checkEqual(t, "scan login", got, wantScanLogin(tc.want))
				}
			})
		}
	})

	authTime := t0.Add(-time.Hour)
	approve := storage.ScanDecision{Approve: true, ACR: "urn:tongban:acr:mfa", AMR: []string{"pwd", "otp", "mca"}, AuthTime: authTime}
	deny := storage.ScanDecision{Approve: false, ACR: "ignored", AMR: []string{"ignored"}, AuthTime: authTime}
	before := exp.Add(-time.Microsecond)
	type step struct {
		name    string
		do      func(now time.Time) error
		now     time.Time
		wantErr error
	}
	scan := func(id, person, session string) func(time.Time) error {
		return func(now time.Time) error { return s.MarkScanLoginScanned(ctx, id, person, session, now) }
	}
	decide := func(id, session string, d storage.ScanDecision) func(time.Time) error {
		return func(now time.Time) error { return s.DecideScanLogin(ctx, id, session, d, now) }
	}
	use := func(id string) func(time.Time) error {
		return func(now time.Time) error { _, err := s.UseScanLogin(ctx, id, now); return err }
	}
	for _, tc := range []step{
		{"fail/use a pending request", use("approve"), t0, storage.ErrAlreadyUsed},
		{"fail/decide a pending request", decide("approve", "phone-1", approve), t0, storage.ErrAlreadyUsed},
		{"fail/scan at expiry", scan("approve", "alice", "phone-1"), exp, storage.ErrExpired},
		{"fail/scan unknown", scan("nothing", "alice", "phone-1"), t0, storage.ErrNotFound},
		{"ok/scan", scan("approve", "alice", "phone-1"), t0, nil},
		{"ok/scan again from the same session (reload)", scan("approve", "alice", "phone-1"), t0, nil},
		{"fail/scan from a second phone", scan("approve", "mallory", "phone-2"), t0, storage.ErrAlreadyUsed},
		{"fail/same session, other person", scan("approve", "mallory", "phone-1"), t0, storage.ErrAlreadyUsed},
		{"fail/use a scanned, unconfirmed request", use("approve"), t0, storage.ErrAlreadyUsed},
		{"fail/decide from a second phone", decide("approve", "phone-2", approve), t0, storage.ErrAlreadyUsed},
		{"fail/decide at expiry", decide("approve", "phone-1", approve), exp, storage.ErrExpired},
		{"ok/approve one microsecond before expiry", decide("approve", "phone-1", approve), before, nil},
		{"fail/decide twice", decide("approve", "phone-1", deny), t0, storage.ErrAlreadyUsed},
		{"fail/scan an approved request", scan("approve", "alice", "phone-1"), t0, storage.ErrAlreadyUsed},
		{"fail/use at expiry", use("approve"), exp, storage.ErrExpired},
		{"ok/use", use("approve"), before, nil},
		{"fail/use twice", use("approve"), t0, storage.ErrAlreadyUsed},
		{"ok/scan the other", scan("deny", "alice", "phone-1"), t0, nil},
		{"ok/deny", decide("deny", "phone-1", deny), t0, nil},
		{"fail/approve after deny", decide("deny", "phone-1", approve), t0, storage.ErrAlreadyUsed},
		{"fail/use a denied request", use("deny"), t0, storage.ErrAlreadyUsed},
		{"fail/use unknown", use("nothing"), t0, storage.ErrNotFound},
		{"fail/decide unknown", decide("nothing", "phone-1", approve), t0, storage.ErrNotFound},
	} {
		t.Run("Transitions/"+tc.name, func(t *testing.T) {
			checkErr(t, tc.name, tc.do(tc.now), tc.wantErr)
		})
	}
	t.Run("Transitions/ok/states and decisions as stored", func(t *testing.T) {
		want := newScan("approve")
		want.State, want.SessionID, want.PersonID = storage.ScanUsed, "phone-1", "alice"
		want.ACR, want.AMR, want.AuthTime = approve.ACR, approve.AMR, approve.AuthTime
		got, err := s.GetScanLogin(ctx, "approve")
		must(t, "GetScanLogin", err)
		checkEqual(t, "used request", got, wantScanLogin(want))
		denied := newScan("deny")
		denied.State, denied.SessionID, denied.PersonID = storage.ScanDenied, "phone-1", "alice"
		got, err = s.GetScanLogin(ctx, "deny")
		must(t, "GetScanLogin", err)
		denied.AMR = nil // a denial records no decision
		checkEqual(t, "denied request", got, wantScanLogin(denied))
		got, err = s.GetScanLogin(ctx, "unopened")
		must(t, "GetScanLogin", err)
		checkEqual(t, "unopened request", got, wantScanLogin(newScan("unopened")))
	})

	t.Run("UseScanLogin/ok/returns the request as used", func(t *testing.T) {
		sl := newScan("returned")
		must(t, "CreateScanLogin", s.CreateScanLogin(ctx, sl))
		must(t, "MarkScanLoginScanned", s.MarkScanLoginScanned(ctx, sl.ID, "bob", "phone-3", t0))
		must(t, "DecideScanLogin", s.DecideScanLogin(ctx, sl.ID, "phone-3", approve, t0))
		got, err := s.UseScanLogin(ctx, sl.ID, t0)
		must(t, "UseScanLogin", err)
		sl.State, sl.SessionID, sl.PersonID, sl.ACR, sl.AMR, sl.AuthTime = storage.ScanUsed, "phone-3", "bob", approve.ACR, approve.AMR, approve.AuthTime
		checkEqual(t, "UseScanLogin", got, wantScanLogin(sl))
	})

	t.Run("UseScanLogin/ok/one of 32 finishers wins", func(t *testing.T) {
		sl := newScan("raced")
		must(t, "CreateScanLogin", s.CreateScanLogin(ctx, sl))
		must(t, "MarkScanLoginScanned", s.MarkScanLoginScanned(ctx, sl.ID, "bob", "phone-3", t0))
		must(t, "DecideScanLogin", s.DecideScanLogin(ctx, sl.ID, "phone-3", approve, t0))
		checkOneWinner(t, "UseScanLogin", race(Redeemers, func(int) error {
			_, err := s.UseScanLogin(ctx, sl.ID, t0)
			return err
		}))
	})
	t.Run("MarkScanLoginScanned/ok/one of 32 phones wins", func(t *testing.T) {
		sl := newScan("raced-scan")
		must(t, "CreateScanLogin", s.CreateScanLogin(ctx, sl))
		errs := race(Redeemers, func(i int) error {
			return s.MarkScanLoginScanned(ctx, sl.ID, "p", "phone-"+string(rune('A'+i)), t0)
		})
		checkOneWinner(t, "MarkScanLoginScanned", errs)
	})

	t.Run("DeleteExpiredScanLogins", func(t *testing.T) {
		later := newScan("later")
		later.ExpiresAt = exp.Add(time.Hour)
		must(t, "CreateScanLogin", s.CreateScanLogin(ctx, later))
		n, err := s.DeleteExpiredScanLogins(ctx, exp)
		must(t, "DeleteExpiredScanLogins", err)
		if n != 0 {
			t.Errorf("DeleteExpiredScanLogins(at expiry) = %d, want 0 (ExpiresAt < before only)", n)
		}
		n, err = s.DeleteExpiredScanLogins(ctx, exp.Add(time.Microsecond))
		must(t, "DeleteExpiredScanLogins", err)
		if n != 7 {
			t.Errorf("DeleteExpiredScanLogins = %d, want 7", n)
		}
		_, err = s.GetScanLogin(ctx, "approve")
		checkErr(t, "GetScanLogin after purge", err, storage.ErrNotFound)
		_, err = s.GetScanLogin(ctx, "later")
		must(t, "GetScanLogin of an unexpired request", err)
		n, err = s.DeleteExpiredScanLogins(ctx, exp.Add(time.Microsecond))
		must(t, "DeleteExpiredScanLogins again", err)
		if n != 0 {
			t.Errorf("DeleteExpiredScanLogins again = %d, want 0", n)
		}
	})
}
