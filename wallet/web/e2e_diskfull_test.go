package web_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tongban/tongban/credentials"
	"github.com/tongban/tongban/oidc"
	"github.com/tongban/tongban/storage"
	"github.com/tongban/tongban/storage/sqlite"
	"github.com/tongban/tongban/storage/storagetest"
	"github.com/tongban/tongban/wallet/wallettest"
)

// The plain page and the API error of the wallet while its database refuses writes
// (docs/design/storage-faults.md).
const (
	unavailableZH  = "服务暂时不可用，请稍后再试。"
	unavailableEN  = "The service is temporarily unavailable. Please try again in a moment."
	unavailableAPI = "the wallet cannot store data right now; try again later"
)

// exhaust writes audit events of size bytes, then of 64 bytes, into s until the store refuses
// them with storage.ErrUnavailable: on a full file system SQLite still writes into space its
// WAL already holds, so filling the disk alone may leave room for a small row.
func exhaust(t *testing.T, s storage.Storage) {
	t.Helper()
	for _, size := range []int{4096, 64} {
		var err error
		for i := 0; i < 20000 && err == nil; i++ {
			_, err = s.AppendAudit(t.Context(), storage.AuditEvent{Time: time.Now().UTC(), Actor: "filler",
				Action: "fill", Subject: "disk", Detail: strings.Repeat("x", size)})
		}
		if !errors.Is(err, storage.ErrUnavailable) {
			t.Fatalf("writes of %d bytes on a full disk end with %v, want storage.ErrUnavailable", size, err)
		}
	}
}

// logLevels counts the wallet's log lines by level (the logs are JSON).
func logLevels(t *testing.T, logs string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, l := range strings.Split(strings.TrimSpace(logs), "\n") {
		var rec struct{ Level, Msg string }
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		out[rec.Level] = append(out[rec.Level], rec.Msg)
	}
	return out
}

// TestDiskFull runs the wallet on a store whose file system is really full (a tmpfs, filled;
// the provider keeps its own store): the login callback, which stores the session, answers 503
// with Retry-After and the plain "temporarily unavailable" page in the browser's language; the
// API answers 503 temporarily_unavailable where it must write (a pre-fetched code's status
// index); nothing is logged above debug for it; and once space is freed the same requests
// succeed.
func TestDiskFull(t *testing.T) {
	dir := storagetest.SmallFilesystem(t, 4<<20)
	ws, err := sqlite.Open(t.Context(), filepath.Join(dir, "wallet.db"))
	must(t, err)
	t.Cleanup(func() { ws.Close() })
	w := newWorldOpts(t, worldOptions{alg: oidc.AlgSM2, walletStore: ws})
	tok := w.token(t, wallettest.NewBrowser(t), mobileApp)
	recs, err := w.svc.Licences(context.Background(), citizen)
	must(t, err)
	// A licence never pre-fetched yet: its first pre-fetched code stores a status index.
	prefetch := ""
	for _, r := range recs {
		if r.Licence.Kind == credentials.ResidentID {
			prefetch = `{"licences":["` + r.ID + `"],"prefetch_seconds":3600}`
		}
	}
	codes := w.wal.URL + "/api/v1/codes"
	logsBefore := len(w.logs.String())

	filler := storagetest.FillFilesystem(t, dir)
	exhaust(t, ws)

	// The login callback cannot store the session.
	login := func(b *wallettest.Browser) *wallettest.Page {
		return b.LoginAndConsent(b.Get(w.wal.URL+"/login"), citizen, password)
	}
	for _, tc := range []struct {
		name, lang, want string
	}{
		{"zh", "zh", unavailableZH},
		{"en", "en", unavailableEN},
	} {
		t.Run("fail/callback-"+tc.name, func(t *testing.T) {
			b := wallettest.NewBrowser(t)
			b.Get(w.wal.URL + "/lang?set=" + tc.lang + "&next=/")
			p := login(b)
			if p.Status != http.StatusServiceUnavailable || p.URL.Path != "/callback" || !strings.Contains(p.Body, tc.want) {
				t.Fatalf("callback on a full disk: %d %s\n%s", p.Status, p.URL, p.Body)
			}
			if got := p.Header.Get("Retry-After"); got != "5" {
				t.Errorf("Retry-After %q, want 5", got)
			}
			if ct := p.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
			u, _ := url.Parse(w.wal.URL)
			for _, c := range b.Client.Jar.Cookies(u) {
				if c.Name == "tbw_session" {
					t.Error("a session cookie was set for a session that was not stored")
				}
			}
		})
	}

	// The API, where it must write.
	r := api(t, "POST", codes, tok, "application/json", prefetch)
	if r.status != http.StatusServiceUnavailable || r.header.Get("Content-Type") != "application/json" ||
		r.body["error"] != "temporarily_unavailable" || r.body["error_description"] != unavailableAPI {
		t.Fatalf("API on a full disk: %d %s %s", r.status, r.header.Get("Content-Type"), r.raw)
	}
	if got := r.header.Get("Retry-After"); got != "5" {
		t.Errorf("API Retry-After %q, want 5", got)
	}

	// Logged at debug only: the readiness monitor logs the refusals once per interval.
	levels := logLevels(t, w.logs.String()[logsBefore:])
	if len(levels["ERROR"])+len(levels["WARN"]) != 0 {
		t.Errorf("refused writes logged above debug: %v", levels)
	}
	if len(levels["DEBUG"]) < 3 {
		t.Errorf("%d debug lines for 3 refused requests: %v", len(levels["DEBUG"]), levels)
	}
	w.checkLogs(t, tok)

	// Space again: the same requests succeed.
	must(t, os.Remove(filler))
	p := login(wallettest.NewBrowser(t))
	if p.Status != http.StatusOK || p.URL.Path != "/" || !strings.Contains(p.Body, "110101********002X") {
		t.Fatalf("login after space was freed: %d %s\n%s", p.Status, p.URL, p.Body)
	}
	if r := api(t, "POST", codes, tok, "application/json", prefetch); r.status != http.StatusOK {
		t.Fatalf("API after space was freed: %d %s", r.status, r.raw)
	}
}
