package storagetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/tongban/tongban/storage"
)

// testSelfService checks storage.SelfService: the sessions of a person on every device, their
// consents, their grants per app and the recovery codes.
func testSelfService(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	must(t, "CreateClient", s.CreateClient(ctx, testClient("app-a")))
	must(t, "CreateClient", s.CreateClient(ctx, testClient("app-b")))
	for _, id := range []string{"alice", "bob"} {
		must(t, "CreatePerson", s.CreatePerson(ctx, storage.Person{ID: id, Kind: storage.NaturalPerson, IDNumberIndex: index(id)}))
	}

	t.Run("ListLoginSessionsForPerson", func(t *testing.T) {
		sessions := []storage.LoginSession{
			{ID: "a-old", PersonID: "alice", AuthTime: t0, CreatedAt: t0, ExpiresAt: t0.Add(8 * time.Hour),
				Device: "Firefox · Windows", ClientIP: "198.51.100.*", LastSeen: t0.Add(time.Minute)},
			{ID: "a-new", PersonID: "alice", AuthTime: t0, AMR: []string{"pwd"}, CreatedAt: t0.Add(time.Hour), ExpiresAt: t0.Add(9 * time.Hour),
				Device: "Safari · iOS", ClientIP: "2001:db8:1::*", LastSeen: t0.Add(2 * time.Hour)},
			{ID: "a-never-seen", PersonID: "alice", AuthTime: t0, CreatedAt: t0.Add(3 * time.Hour), ExpiresAt: t0.Add(10 * time.Hour)},
			{ID: "a-expired", PersonID: "alice", AuthTime: t0, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour), LastSeen: t0.Add(time.Minute)},
			{ID: "b-1", PersonID: "bob", AuthTime: t0, CreatedAt: t0, ExpiresAt: t0.Add(8 * time.Hour)},
		}
		for _, ls := range sessions {
			must(t, "CreateLoginSession", s.CreateLoginSession(ctx, ls))
		}
		for _, tc := range []struct {
			name   string
			person string
			now    time.Time
			want   []storage.LoginSession
		}{
			{"ok/newest seen first, expired left out, never seen last", "alice", t0.Add(time.Hour),
				[]storage.LoginSession{sessions[1], sessions[0], sessions[2]}},
			{"ok/at expiry left out", "alice", t0.Add(9 * time.Hour), []storage.LoginSession{sessions[2]}},
			{"ok/another person's", "bob", t0, []storage.LoginSession{sessions[4]}},
			{"ok/none is empty, not nil", "carol", t0, []storage.LoginSession{}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, err := s.ListLoginSessionsForPerson(ctx, tc.person, tc.now)
				must(t, "ListLoginSessionsForPerson", err)
				want := make([]storage.LoginSession, 0, len(tc.want))
				for _, ls := range tc.want {
					want = append(want, wantLoginSession(ls))
				}
				if got == nil {
					t.Error("ListLoginSessionsForPerson: nil list, want empty")
				}
				checkEqual(t, "sessions", got, want)
			})
		}
	})

	t.Run("TouchLoginSession", func(t *testing.T) {
		must(t, "CreateLoginSession", s.CreateLoginSession(ctx, storage.LoginSession{ID: "touch", PersonID: "bob",
			AuthTime: t0, CreatedAt: t0, ExpiresAt: t0.Add(8 * time.Hour)}))
		for _, tc := range []struct {
			name    string
			id      string
			at      time.Time
			want    time.Time
			wantErr error
		}{
			{"ok/first use", "touch", t0.Add(time.Minute), t0.Add(time.Minute), nil},
			{"ok/later", "touch", t0.Add(time.Hour), t0.Add(time.Hour), nil},
			{"ok/earlier does not go back", "touch", t0.Add(30 * time.Minute), t0.Add(time.Hour), nil},
			{"ok/same time again", "touch", t0.Add(time.Hour), t0.Add(time.Hour), nil},
			{"fail/unknown", "nothing", t0, time.Time{}, storage.ErrNotFound},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if !checkErr(t, "TouchLoginSession", s.TouchLoginSession(ctx, tc.id, tc.at), tc.wantErr) || tc.wantErr != nil {
					return
				}
				got, err := s.GetLoginSession(ctx, tc.id, t0)
				must(t, "GetLoginSession", err)
				if !got.LastSeen.Equal(stored(tc.want)) {
					t.Errorf("LastSeen %v, want %v", got.LastSeen, stored(tc.want))
				}
			})
		}
	})

	t.Run("ListConsents", func(t *testing.T) {
		b := storage.Consent{PersonID: "alice", ClientID: "app-b", Scopes: []string{"openid", "phone"}, GrantedAt: t0}
		a := storage.Consent{PersonID: "alice", ClientID: "app-a", Scopes: []string{}, GrantedAt: pre1970}
		other := storage.Consent{PersonID: "bob", ClientID: "app-a", Scopes: []string{"openid"}, GrantedAt: t0}
		for _, c := range []storage.Consent{b, a, other} {
			must(t, "SaveConsent", s.SaveConsent(ctx, c))
		}
		for _, tc := range []struct {
			name   string
			person string
			want   []storage.Consent
		}{
			{"ok/ordered by client", "alice", []storage.Consent{a, b}},
			{"ok/only the person's", "bob", []storage.Consent{other}},
			{"ok/none is empty, not nil", "carol", []storage.Consent{}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, err := s.ListConsents(ctx, tc.person)
				must(t, "ListConsents", err)
				for i := range tc.want {
					tc.want[i].GrantedAt = stored(tc.want[i].GrantedAt)
				}
				if got == nil {
					t.Error("ListConsents: nil list, want empty")
				}
				checkEqual(t, "consents", got, tc.want)
			})
		}
		t.Run("ok/a deleted consent is gone from the list", func(t *testing.T) {
			must(t, "DeleteConsent", s.DeleteConsent(ctx, "alice", "app-b"))
			got, err := s.ListConsents(ctx, "alice")
			must(t, "ListConsents", err)
			if len(got) != 1 || got[0].ClientID != "app-a" {
				t.Errorf("after DeleteConsent: %+v, want app-a only", got)
			}
		})
	})

	t.Run("ListGrants", func(t *testing.T) {
		n := 0
		token := func(kind storage.TokenKind, req, client, subject string, exp time.Time, active bool) {
			n++
			must(t, "CreateToken", s.CreateToken(ctx, storage.TokenRecord{Kind: kind, Signature: fmt.Sprintf("sig-%d", n),
				RequestID: req, ClientID: client, Subject: subject, Active: active, RequestedAt: t0, ExpiresAt: exp}))
		}
		token(storage.KindRefreshToken, "g-a1", "app-a", "alice", t0.Add(time.Hour), true)
		token(storage.KindRefreshToken, "g-a1", "app-a", "alice", t0.Add(2*time.Hour), false) // rotated: same grant
		token(storage.KindAuthorizeCode, "g-a2", "app-a", "alice", t0.Add(time.Minute), false)
		token(storage.KindRefreshToken, "g-a0", "app-a", "alice", t0, true) // expired at t0
		token(storage.KindRefreshToken, "g-b1", "app-b", "alice", t0.Add(time.Hour), true)
		token(storage.KindRefreshToken, "g-bob", "app-a", "bob", t0.Add(time.Hour), true)
		token(storage.KindAccessToken, "g-cc", "app-a", "", t0.Add(time.Hour), true) // client credentials
		for _, tc := range []struct {
			name            string
			subject, client string
			now             time.Time
			want            []string
		}{
			{"ok/one app, distinct, expired left out", "alice", "app-a", t0, []string{"g-a1", "g-a2"}},
			{"ok/every app", "alice", "", t0, []string{"g-a1", "g-a2", "g-b1"}},
			{"ok/later, the code expired", "alice", "app-a", t0.Add(30 * time.Minute), []string{"g-a1"}},
			{"ok/another person's", "bob", "", t0, []string{"g-bob"}},
			{"ok/none is empty, not nil", "alice", "app-unknown", t0, []string{}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, err := s.ListGrants(ctx, tc.subject, tc.client, tc.now)
				must(t, "ListGrants", err)
				if got == nil || fmt.Sprint(got) != fmt.Sprint(tc.want) {
					t.Errorf("ListGrants(%q, %q) = %#v, want %#v", tc.subject, tc.client, got, tc.want)
				}
			})
		}
	})

	t.Run("RecoveryCodes", func(t *testing.T) { testRecoveryCodes(t, s) })
}

// testRecoveryCodes checks PutAccessRecoveryCode, CheckAccessRecoveryCode, DeleteAccessRecoveryCode and
// PurgeAccessRecoveryCodes; the people "alice" and "bob" exist.
func testRecoveryCodes(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	const maxAttempts = 5
	right, wrong := index("right code"), index("wrong code")
	put := func(t *testing.T, person string, exp time.Time) {
		t.Helper()
		must(t, "PutAccessRecoveryCode", s.PutAccessRecoveryCode(ctx, storage.AccessRecoveryCode{PersonID: person, CodeHash: right,
			CreatedAt: t0, ExpiresAt: exp}))
	}
	check := func(person string, hash []byte, now time.Time) error {
		return s.CheckAccessRecoveryCode(ctx, person, hash, now, maxAttempts)
	}

	t.Run("ok/right code redeems once", func(t *testing.T) {
		put(t, "alice", t0.Add(10*time.Minute))
		checkErr(t, "CheckAccessRecoveryCode", check("alice", right, t0), nil)
		checkErr(t, "CheckAccessRecoveryCode again", check("alice", right, t0), storage.ErrNotFound)
	})
	t.Run("fail/wrong code counts, then the right one still works", func(t *testing.T) {
		put(t, "alice", t0.Add(10*time.Minute))
		checkErr(t, "CheckAccessRecoveryCode wrong", check("alice", wrong, t0), storage.ErrWrongCode)
		checkErr(t, "CheckAccessRecoveryCode other person's code", check("bob", right, t0), storage.ErrNotFound)
		checkErr(t, "CheckAccessRecoveryCode right", check("alice", right, t0), nil)
	})
	t.Run("fail/attempts exhausted kill the code", func(t *testing.T) {
		put(t, "alice", t0.Add(10*time.Minute))
		for i := range maxAttempts {
			checkErr(t, fmt.Sprintf("CheckAccessRecoveryCode wrong #%d", i+1), check("alice", wrong, t0), storage.ErrWrongCode)
		}
		checkErr(t, "CheckAccessRecoveryCode right after the limit", check("alice", right, t0), storage.ErrAlreadyUsed)
		checkErr(t, "CheckAccessRecoveryCode wrong after the limit", check("alice", wrong, t0), storage.ErrAlreadyUsed)
	})
	t.Run("ok/a new code replaces the old one and resets the attempts", func(t *testing.T) {
		put(t, "alice", t0.Add(10*time.Minute))
		for range maxAttempts - 1 {
			checkErr(t, "CheckAccessRecoveryCode wrong", check("alice", wrong, t0), storage.ErrWrongCode)
		}
		must(t, "PutAccessRecoveryCode", s.PutAccessRecoveryCode(ctx, storage.AccessRecoveryCode{PersonID: "alice", CodeHash: wrong,
			CreatedAt: t0, ExpiresAt: t0.Add(10 * time.Minute)}))
		checkErr(t, "CheckAccessRecoveryCode old code", check("alice", right, t0), storage.ErrWrongCode)
		checkErr(t, "CheckAccessRecoveryCode new code", check("alice", wrong, t0), nil)
	})
	t.Run("fail/expired", func(t *testing.T) {
		exp := t0.Add(10 * time.Minute)
		put(t, "alice", exp)
		checkErr(t, "CheckAccessRecoveryCode at expiry", check("alice", right, stored(exp)), storage.ErrExpired)
		checkErr(t, "CheckAccessRecoveryCode wrong after expiry", check("alice", wrong, exp.Add(time.Hour)), storage.ErrExpired)
		checkErr(t, "CheckAccessRecoveryCode a microsecond before", check("alice", right, stored(exp).Add(-time.Microsecond)), nil)
	})
	t.Run("fail/unknown person", func(t *testing.T) {
		checkErr(t, "PutAccessRecoveryCode", s.PutAccessRecoveryCode(ctx, storage.AccessRecoveryCode{PersonID: "nobody", CodeHash: right,
			CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}), storage.ErrNotFound)
		checkErr(t, "CheckAccessRecoveryCode", check("nobody", right, t0), storage.ErrNotFound)
	})
	t.Run("ok/delete", func(t *testing.T) {
		put(t, "alice", t0.Add(10*time.Minute))
		must(t, "DeleteAccessRecoveryCode", s.DeleteAccessRecoveryCode(ctx, "alice"))
		checkErr(t, "CheckAccessRecoveryCode", check("alice", right, t0), storage.ErrNotFound)
		must(t, "DeleteAccessRecoveryCode again", s.DeleteAccessRecoveryCode(ctx, "alice"))
	})
	t.Run("ok/purge", func(t *testing.T) {
		put(t, "alice", t0.Add(10*time.Minute))
		put(t, "bob", t0.Add(time.Hour))
		n, err := s.PurgeAccessRecoveryCodes(ctx, t0.Add(30*time.Minute))
		must(t, "PurgeAccessRecoveryCodes", err)
		if n != 1 {
			t.Errorf("PurgeAccessRecoveryCodes: %d, want 1", n)
		}
		checkErr(t, "CheckAccessRecoveryCode purged", check("alice", right, t0), storage.ErrNotFound)
		checkErr(t, "CheckAccessRecoveryCode kept", check("bob", right, t0), nil)
	})
	t.Run("ok/concurrent redeemers: one wins", func(t *testing.T) {
		put(t, "alice", t0.Add(10*time.Minute))
		errs := race(Redeemers, func(int) error { return check("alice", right, t0) })
		winners := 0
		for _, err := range errs {
			switch {
			case err == nil:
				winners++
			case !errors.Is(err, storage.ErrNotFound):
				t.Errorf("CheckAccessRecoveryCode: %v, want nil or ErrNotFound", err)
			}
		}
		if winners != 1 {
			t.Errorf("CheckAccessRecoveryCode: %d of %d redeemers won, want exactly 1", winners, len(errs))
		}
	})
}
