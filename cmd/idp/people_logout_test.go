package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tongban/tongban/keyring"
	"github.com/tongban/tongban/oidc"
	smcrypto "github.com/tongban/tongban/sm-crypto"
	"github.com/tongban/tongban/storage"
	"github.com/tongban/tongban/storage/sqlite"
)

// TestPeopleCommandsQueueLogouts: the offline `idp people end-sessions` and `idp people disable`
// put the back-channel logout deliveries of the person's apps in the outbox (for the running
// server's worker), revoke the sessions' grants and forget the session records — as the console
// does.
func TestPeopleCommandsQueueLogouts(t *testing.T) {
	dir := t.TempDir()
	initVar(t, dir)
	r := idp(t, dir, testPassword+"\n", nil, "people", "add", "--id-number", testIDNumber, "--name", "张三", "--json")
	mustOK(t, r, "people add")
	person := decode[personJSON](t, r)

	// What a login at the running server records: a session, and the app's grant from it.
	session := func(id, request string) {
		ctx := context.Background()
		store, kr := openStore(t, dir)
		defer store.Close()
		if _, err := store.GetClient(ctx, "bcl-app"); err != nil {
			if _, _, err := oidc.CreateClient(ctx, store, kr, oidc.NewClient{ID: "bcl-app", Name: "app",
				RedirectURIs: []string{"https://app.example.gov.cn/cb"}, BackchannelLogoutURI: "https://app.example.gov.cn/bcl"}); err != nil {
				t.Fatal(err)
			}
		}
		now := time.Now()
		if err := store.CreateLoginSession(ctx, storage.LoginSession{ID: id, PersonID: person.ID, AuthTime: now,
			CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if err := store.RecordSessionClient(ctx, storage.SessionClient{SessionID: id, RequestID: request, ClientID: "bcl-app",
			Subject: "sub-at-app", PersonID: person.ID, ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	outbox := func() []storage.LogoutDelivery {
		store, _ := openStore(t, dir)
		defer store.Close()
		now := time.Now().Add(time.Minute)
		ds, err := store.ClaimDueLogouts(context.Background(), now, now, 10)
		if err != nil {
			t.Fatal(err)
		}
		if left, _ := store.ListSessionClients(context.Background(), []string{"s1", "s2"}); len(left) != 0 {
			t.Errorf("session records left: %v", left)
		}
		return ds
	}

	session("s1", "req-1")
	mustOK(t, idp(t, dir, "", nil, "people", "end-sessions", "--person", person.ID), "end-sessions")
	ds := outbox()
	if len(ds) != 1 || ds[0].ClientID != "bcl-app" || ds[0].URI != "https://app.example.gov.cn/bcl" ||
		ds[0].Subject != "sub-at-app" || len(ds[0].SID) != 22 || ds[0].Attempts != 0 {
		t.Fatalf("outbox after end-sessions: %+v", ds)
	}
	store, _ := openStore(t, dir)
	rv, err := store.GrantRevokedBelow(context.Background(), "req-1")
	store.Close()
	if err != nil || rv != storage.RevokedAll {
		t.Errorf("grant req-1 not revoked: %v %v", rv, err)
	}

	session("s2", "req-2")
	mustOK(t, idp(t, dir, "", nil, "people", "disable", "--person", person.ID, "--reason", "ticket 7"), "disable")
	ds = outbox() // both: the first claim's lease (now + 1 min) has run out for this one
	if len(ds) != 2 || ds[1].Subject != "sub-at-app" || len(ds[1].SID) != 22 || ds[0].SID == ds[1].SID {
		t.Fatalf("outbox after disable: %+v", ds)
	}
}

// openStore opens dir's database and keyring (the operator's KEK); close the store after use.
func openStore(t *testing.T, dir string) (storage.Storage, *keyring.Keyring) {
	t.Helper()
	ctx := context.Background()
	text, err := os.ReadFile(filepath.Join(dir, "var", "kek"))
	if err != nil {
		t.Fatal(err)
	}
	kek, err := smcrypto.ParseKEK(strings.TrimSpace(string(text)))
	if err != nil {
		t.Fatal(err)
	}
	store, err := sqlite.Open(ctx, filepath.Join(dir, "var", "tongban.db"))
	if err != nil {
		t.Fatal(err)
	}
	kr, err := keyring.Open(ctx, store, kek)
	if err != nil {
		store.Close()
		t.Fatal(err)
	}
	return store, kr
}
