package storagetest

import (
	"testing"
	"time"

	"github.com/tongban/tongban/storage"
)

func wantLoginSession(ls storage.LoginSession) storage.LoginSession {
	ls.AuthTime = stored(ls.AuthTime)
	ls.CreatedAt = stored(ls.CreatedAt)
	ls.ExpiresAt = stored(ls.ExpiresAt)
	ls.LastSeen = stored(ls.LastSeen)
	return ls
}

func testLoginSessions(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	full := storage.LoginSession{ID: "c2Vzc2lvbi1mdWxs", PersonID: "alice", AuthTime: t0, ACR: "urn:tongban:acr:otp",
		AMR: []string{"pwd", "otp"}, CreatedAt: t0, ExpiresAt: t0.Add(8 * time.Hour),
		Device: "Chrome · Android", ClientIP: "203.0.113.*", LastSeen: t0.Add(time.Minute)}
	nilAMR := storage.LoginSession{ID: "nil-amr", PersonID: "alice", AuthTime: t0, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	emptyAMR := storage.LoginSession{ID: "empty-amr", PersonID: "bob", AuthTime: pre1970, AMR: []string{}, CreatedAt: pre1970,
		ExpiresAt: t0.Add(time.Hour)}

	t.Run("CreateLoginSession", func(t *testing.T) {
		for _, tc := range []struct {
			name    string
			ls      storage.LoginSession
			wantErr error
		}{
			{"ok/every field", full, nil},
			{"ok/nil AMR", nilAMR, nil},
			{"ok/empty AMR", emptyAMR, nil},
			{"ok/person not in people (wallet sessions name IdP subjects)", storage.LoginSession{ID: "foreign", PersonID: "idp-sub",
				ExpiresAt: t0.Add(time.Hour)}, nil},
			{"fail/duplicate ID", storage.LoginSession{ID: full.ID, PersonID: "bob", ExpiresAt: t0}, storage.ErrConflict},
		} {
			t.Run(tc.name, func(t *testing.T) {
				checkErr(t, "CreateLoginSession", s.CreateLoginSession(ctx, tc.ls), tc.wantErr)
			})
		}
	})

	t.Run("GetLoginSession", func(t *testing.T) {
		exp := stored(full.ExpiresAt)
		for _, tc := range []struct {
			name    string
			id      string
			now     time.Time
			want    storage.LoginSession
			wantErr error
		}{
			{"ok/every field", full.ID, t0, full, nil},
			{"ok/nil AMR stays nil", nilAMR.ID, t0, nilAMR, nil},
			{"ok/empty AMR stays empty", emptyAMR.ID, t0, emptyAMR, nil},
			{"ok/one microsecond before expiry", full.ID, exp.Add(-time.Microsecond), full, nil},
			{"ok/now in another zone", full.ID, exp.Add(-time.Microsecond).In(time.FixedZone("X", -5*3600)), full, nil},
			{"fail/at expiry", full.ID, exp, storage.LoginSession{}, storage.ErrExpired},
			{"fail/after expiry", full.ID, exp.Add(time.Hour), storage.LoginSession{}, storage.ErrExpired},
			{"fail/unknown", "nothing", t0, storage.LoginSession{}, storage.ErrNotFound},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, err := s.GetLoginSession(ctx, tc.id, tc.now)
				if checkErr(t, "GetLoginSession", err, tc.wantErr) && tc.wantErr == nil {
					checkEqual(t, "login session", got, wantLoginSession(tc.want))
				}
			})
		}
	})

	t.Run("DeleteLoginSession", func(t *testing.T) {
		for _, tc := range []struct {
			name    string
			id      string
			wantErr error
		}{
			{"ok/existing", emptyAMR.ID, nil},
			{"fail/already deleted", emptyAMR.ID, storage.ErrNotFound},
			{"fail/unknown", "nothing", storage.ErrNotFound},
		} {
			t.Run(tc.name, func(t *testing.T) {
				checkErr(t, "DeleteLoginSession", s.DeleteLoginSession(ctx, tc.id), tc.wantErr)
			})
		}
	})

	t.Run("DeleteLoginSessionsForPerson", func(t *testing.T) {
		must(t, "CreateLoginSession", s.CreateLoginSession(ctx, storage.LoginSession{ID: "bob-2", PersonID: "bob", ExpiresAt: t0.Add(time.Hour)}))
		for _, tc := range []struct {
			name     string
			personID string
			want     int64
		}{
			{"ok/every session of the person", "alice", 2},
			{"ok/again", "alice", 0},
			{"ok/unknown person", "nobody", 0},
		} {
			t.Run(tc.name, func(t *testing.T) {
				n, err := s.DeleteLoginSessionsForPerson(ctx, tc.personID)
				must(t, "DeleteLoginSessionsForPerson", err)
				if n != tc.want {
					t.Errorf("DeleteLoginSessionsForPerson = %d, want %d", n, tc.want)
				}
			})
		}
		_, err := s.GetLoginSession(ctx, full.ID, t0)
		checkErr(t, "GetLoginSession of logged-out person", err, storage.ErrNotFound)
		_, err = s.GetLoginSession(ctx, "bob-2", t0)
		checkErr(t, "GetLoginSession of another person", err, nil)
	})

	// Left from above: "foreign" and "bob-2", both expiring at t0+1h.
	t.Run("DeleteExpiredLoginSessions", func(t *testing.T) {
		for _, ls := range []storage.LoginSession{
			{ID: "expired-pre1970", PersonID: "carol", ExpiresAt: pre1970},
			{ID: "expired", PersonID: "carol", ExpiresAt: t0.Add(-time.Minute)},
			{ID: "wallet:expired", PersonID: "idp-sub", ExpiresAt: t0.Add(-time.Second)},
			{ID: "expires-at-t0", PersonID: "carol", ExpiresAt: t0},
		} {
			must(t, "CreateLoginSession", s.CreateLoginSession(ctx, ls))
		}
		for _, tc := range []struct {
			name   string
			before time.Time
			want   int64
		}{
			{"ok/expiry equal to before is kept", pre1970, 0},
			{"ok/expired before t0", t0, 3},
			{"ok/again (idempotent)", t0, 0},
			{"ok/one microsecond later", t0.Add(time.Microsecond), 1},
			{"ok/unexpired kept", t0.Add(time.Hour), 0},
		} {
			t.Run(tc.name, func(t *testing.T) {
				n, err := s.DeleteExpiredLoginSessions(ctx, tc.before)
				must(t, "DeleteExpiredLoginSessions", err)
				if n != tc.want {
					t.Errorf("DeleteExpiredLoginSessions = %d, want %d", n, tc.want)
				}
			})
		}
		for _, id := range []string{"expired-pre1970", "expired", "wallet:expired", "expires-at-t0"} {
			_, err := s.GetLoginSession(ctx, id, pre1970)
			checkErr(t, "GetLoginSession of purged "+id, err, storage.ErrNotFound)
		}
		for _, id := range []string{"foreign", "bob-2"} {
			_, err := s.GetLoginSession(ctx, id, t0)
			checkErr(t, "GetLoginSession of unexpired "+id, err, nil)
		}
	})
}

func testConsents(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	must(t, "CreateClient", s.CreateClient(ctx, testClient("client")))
	must(t, "CreateClient", s.CreateClient(ctx, testClient("client-2")))
	must(t, "CreatePerson", s.CreatePerson(ctx, storage.Person{ID: "alice", Kind: storage.NaturalPerson, IDNumberIndex: index("alice")}))
	first := storage.Consent{PersonID: "alice", ClientID: "client", Scopes: []string{"openid", "profile"}, GrantedAt: t0}
	replaced := storage.Consent{PersonID: "alice", ClientID: "client", Scopes: []string{"openid"}, GrantedAt: t0.Add(time.Hour)}
	emptyScopes := storage.Consent{PersonID: "alice", ClientID: "client-2", Scopes: []string{}, GrantedAt: pre1970}

	for _, tc := range []struct {
		name    string
		save    *storage.Consent // saved before the get, when not nil
		saveErr error
		person  string
		client  string
		want    storage.Consent
		wantErr error
	}{
		{"ok/save and get", &first, nil, "alice", "client", first, nil},
		{"ok/save replaces", &replaced, nil, "alice", "client", replaced, nil},
		{"ok/empty scopes stay empty", &emptyScopes, nil, "alice", "client-2", emptyScopes, nil},
		{"fail/unknown person", &storage.Consent{PersonID: "nobody", ClientID: "client"}, storage.ErrNotFound, "nobody", "client", storage.Consent{}, storage.ErrNotFound},
		{"fail/unknown client", &storage.Consent{PersonID: "alice", ClientID: "nobody"}, storage.ErrNotFound, "alice", "nobody", storage.Consent{}, storage.ErrNotFound},
		{"fail/get unknown pair", nil, nil, "client", "alice", storage.Consent{}, storage.ErrNotFound},
	} {
		t.Run("SaveConsent,GetConsent/"+tc.name, func(t *testing.T) {
			if tc.save != nil {
				checkErr(t, "SaveConsent", s.SaveConsent(ctx, *tc.save), tc.saveErr)
			}
			got, err := s.GetConsent(ctx, tc.person, tc.client)
			if checkErr(t, "GetConsent", err, tc.wantErr) && tc.wantErr == nil {
				want := tc.want
				want.GrantedAt = stored(want.GrantedAt)
				checkEqual(t, "consent", got, want)
			}
		})
	}

	for _, tc := range []struct {
		name           string
		person, client string
		wantErr        error
	}{
		{"ok/existing", "alice", "client", nil},
		{"fail/already deleted", "alice", "client", storage.ErrNotFound},
		{"fail/unknown", "nobody", "client", storage.ErrNotFound},
	} {
		t.Run("DeleteConsent/"+tc.name, func(t *testing.T) {
			checkErr(t, "DeleteConsent", s.DeleteConsent(ctx, tc.person, tc.client), tc.wantErr)
		})
	}
	_, err := s.GetConsent(ctx, "alice", "client-2")
	checkErr(t, "GetConsent of the other client", err, nil)
}
