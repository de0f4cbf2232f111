package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tongban/tongban/oidc"
	"github.com/tongban/tongban/storage"
	"github.com/tongban/tongban/storage/storagetest"
	"github.com/tongban/tongban/wallet/wallettest"
)

// refusingStore is a wallet store that answers storage.ErrUnavailable — as a database that
// refuses writes or lost its connection does — to the session calls and to the reads of
// licences, status indexes and keys while refuse is set.
type refusingStore struct {
	storage.Storage
	refuse atomic.Bool
	calls  atomic.Int64 // calls refused
}

func (s *refusingStore) err(op string) error {
	if s.refuse.Load() {
		s.calls.Add(1)
		return fmt.Errorf("test: %s: connection lost: %w", op, storage.ErrUnavailable)
	}
	return nil
}

func (s *refusingStore) CreateLoginSession(ctx context.Context, ls storage.LoginSession) error {
	if err := s.err("create session"); err != nil {
		return err
	}
	return s.Storage.CreateLoginSession(ctx, ls)
}

func (s *refusingStore) GetLoginSession(ctx context.Context, id string, now time.Time) (storage.LoginSession, error) {
	if err := s.err("get session"); err != nil {
		return storage.LoginSession{}, err
	}
	return s.Storage.GetLoginSession(ctx, id, now)
}

func (s *refusingStore) DeleteLoginSession(ctx context.Context, id string) error {
	if err := s.err("delete session"); err != nil {
		return err
	}
	return s.Storage.DeleteLoginSession(ctx, id)
}

func (s *refusingStore) ListLicencesByHolder(ctx context.Context, index []byte) ([]storage.Licence, error) {
	if err := s.err("list licences"); err != nil {
		return nil, err
	}
	return s.Storage.ListLicencesByHolder(ctx, index)
}

func (s *refusingStore) ListLicenceStatuses(ctx context.Context) ([]storage.LicenceStatusEntry, error) {
	if err := s.err("list statuses"); err != nil {
		return nil, err
	}
	return s.Storage.ListLicenceStatuses(ctx)
}

func (s *refusingStore) ListKeys(ctx context.Context, purpose storage.KeyPurpose) ([]storage.KeyRecord, error) {
	if err := s.err("list keys"); err != nil {
		return nil, err
	}
	return s.Storage.ListKeys(ctx, purpose)
}

// TestStoreUnavailable: while the wallet's store answers storage.ErrUnavailable (a lost
// PostgreSQL connection reads no better than it writes), every page that needs to know who is
// logged in answers 503 with Retry-After and the plain "temporarily unavailable" page — not
// the landing page or a redirect to the login, as if the person were logged out — /code.json
// and the API answer 503 temporarily_unavailable, and the trust and status lists their 503
// with Retry-After. Nothing is logged above debug for it. Afterwards the same session works
// again.
func TestStoreUnavailable(t *testing.T) {
	store := &refusingStore{Storage: storagetest.SQLite(t)}
	w := newWorldOpts(t, worldOptions{alg: oidc.AlgSM2, walletStore: store})
	tok := w.token(t, wallettest.NewBrowser(t), mobileApp)
	b := wallettest.NewBrowser(t)
	home := b.LoginWallet(w.wal.URL, citizen, password)
	action, vals, ok := b.Get(w.wal.URL + "/logout").Form("csrf") // the logout confirmation
	if !ok {
		t.Fatal("no logout form")
	}
	id := idRE.FindStringSubmatch(home.Body)[1]
	logsBefore := len(w.logs.String())

	store.refuse.Store(true)
	// Each request is answered where it was made (no redirect through the login), after one
	// refused lookup.
	for _, tc := range []struct {
		name   string
		do     func() *wallettest.Page
		path   string
		status int
		want   string // in the body
	}{
		{"fail/home", func() *wallettest.Page { return b.Get(w.wal.URL + "/") }, "/", 503, unavailableZH},
		{"fail/home-en", func() *wallettest.Page { return b.Get(w.wal.URL + "/?lang=en") }, "/", 503, unavailableEN},
		{"fail/bundle", func() *wallettest.Page { return b.Get(w.wal.URL + "/bundle") }, "/bundle", 503, unavailableZH},
		{"fail/show", func() *wallettest.Page { return b.Get(w.wal.URL + "/show?l=" + id) }, "/show", 503, unavailableZH},
		{"fail/code.png", func() *wallettest.Page { return b.Get(w.wal.URL + "/code.png?l=" + id) }, "/code.png", 503, unavailableZH},
		{"fail/logout", func() *wallettest.Page { return b.PostForm(action, vals) }, "/logout", 503, unavailableZH},
		{"fail/code.json", func() *wallettest.Page { return b.Get(w.wal.URL + "/code.json?l=" + id) }, "/code.json", 503,
			`{"error":"temporarily_unavailable","error_description":"` + unavailableZH + `"}`},
		{"fail/code.json-en", func() *wallettest.Page { return b.Get(w.wal.URL + "/code.json?lang=en&l=" + id) }, "/code.json", 503,
			`{"error":"temporarily_unavailable","error_description":"` + unavailableEN + `"}`},
		// A message page for another reason: its header shows no session, and still the
		// refused lookup is not logged above debug.
		{"fail/stale-callback", func() *wallettest.Page { return b.Get(w.wal.URL + "/callback?code=x&state=y") }, "/callback", 400, "登录请求已失效"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := store.calls.Load()
			p := tc.do()
			if p.Status != tc.status || p.URL.Path != tc.path || !strings.Contains(p.Body, tc.want) {
				t.Fatalf("%d %s\n%s", p.Status, p.URL, p.Body)
			}
			if got := p.Header.Get("Retry-After"); tc.status == 503 && got != "5" {
				t.Errorf("Retry-After %q, want 5", got)
			}
			if strings.Contains(p.Body, "110101********002X") || strings.Contains(p.Body, `name="csrf"`) {
				t.Error("the page shows a session the wallet could not check")
			}
			if n := store.calls.Load() - before; n != 1 {
				t.Errorf("%d refused session lookups, want 1", n)
			}
		})
	}
	r := api(t, "GET", w.wal.URL+"/api/v1/licences", tok, "", "")
	if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") != "5" ||
		r.raw != `{"error":"temporarily_unavailable","error_description":"`+unavailableAPI+`"}`+"\n" {
		t.Errorf("API list: %d %v %s", r.status, r.header, r.raw)
	}
	for _, list := range []string{"trust-list", "status-list"} {
		r := api(t, "GET", w.wal.URL+"/"+list, "", "", "")
		if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") != "5" || r.raw != strings.ReplaceAll(list, "-", " ")+" unavailable\n" {
			t.Errorf("%s: %d %v %q", list, r.status, r.header, r.raw)
		}
	}
	levels := logLevels(t, w.logs.String()[logsBefore:])
	if len(levels["ERROR"])+len(levels["WARN"]) != 0 || len(levels["DEBUG"]) < 12 {
		t.Errorf("12 refused requests logged %v, want debug lines only", levels)
	}

	store.refuse.Store(false)
	if p := b.Get(w.wal.URL + "/"); p.Status != http.StatusOK || !strings.Contains(p.Body, "110101********002X") {
		t.Fatalf("home once the store answers again: %d\n%s", p.Status, p.Body)
	}
	// The logout goes through the provider (which ends its session at once: logout_hint) and
	// back to the wallet.
	p := b.PostForm(action, vals)
	if u, _ := url.Parse(w.wal.URL); p.URL.Host != u.Host || p.URL.Path != "/" || p.URL.Query().Get("state") == "" {
		t.Errorf("logout once the store answers again ended at %s", p.URL)
	}
	if r := api(t, "GET", w.wal.URL+"/api/v1/licences", tok, "", ""); r.status != http.StatusOK {
		t.Errorf("API list once the store answers again: %d %s", r.status, r.raw)
	}
	w.checkLogs(t, tok)
}
