package idpserver

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tongban/tongban/storage"
	"github.com/tongban/tongban/storage/storagetest"
)

// BenchmarkAdminListApps pages through 10,000 apps 100 at a time, as an operator logged in
// with password and TOTP, through the real handler and adapters over HTTP: the API
// (GET /admin/api/v1/apps?limit=100, following next) and the console page
// (GET /admin/apps?limit=100, following its next link). One op is one page; server-ns/page is
// the time the handler spent (without the client's side of HTTP). Budget: 50 ms of server
// time per page (docs/design/app-management.md). SQLite always, PostgreSQL when
// TONGBAN_TEST_POSTGRES is set.
func BenchmarkAdminListApps(b *testing.B) {
	backends := []struct{ name, db string }{{"sqlite", ""}}
	if os.Getenv(storagetest.EnvPostgres) != "" {
		backends = append(backends, struct{ name, db string }{"postgres", ""})
	}
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			db := be.db
			if be.name == "postgres" {
				db = storagetest.PostgresDSN(b)
			}
			s := newAdminSvc(b, db)
			seedApps(b, s.store, 10_000)
			br := s.login(s.user("王运维", storage.RoleOperator))
			b.Run("api", func(b *testing.B) {
				after := ""
				s.serverTime.Store(0)
				for b.Loop() {
					st, body := br.get("/admin/api/v1/apps?limit=100&after=" + url.QueryEscape(after))
					var page struct {
						Apps []json.RawMessage `json:"apps"`
						Next string            `json:"next"`
					}
					if st != 200 || json.Unmarshal([]byte(body), &page) != nil || len(page.Apps) == 0 {
						b.Fatalf("page after %q: %d %.200s", after, st, body)
					}
					after = page.Next // "" after the last page: start again
				}
				b.ReportMetric(float64(s.serverTime.Load())/float64(b.N), "server-ns/page")
			})
			b.Run("console", func(b *testing.B) {
				next := "/admin/apps?limit=100"
				s.serverTime.Store(0)
				for b.Loop() {
					st, body := br.get(next)
					if st != 200 || strings.Count(body, `<tr><td data-label=`) == 0 {
						b.Fatalf("page %s: %d %.300s", next, st, body)
					}
					next = "/admin/apps?limit=100"
					if i := strings.Index(body, `<p class="pager"><a href="`); i >= 0 {
						rest := body[i+len(`<p class="pager"><a href="`):]
						next = strings.ReplaceAll(rest[:strings.IndexByte(rest, '"')], "&amp;", "&")
					}
				}
				b.ReportMetric(float64(s.serverTime.Load())/float64(b.N), "server-ns/page")
			})
		})
	}
}

// seedApps stores n published apps of ten departments, in one transaction.
func seedApps(b *testing.B, store storage.Storage, n int) {
	b.Helper()
	now := time.Now().UTC()
	err := store.InTx(context.Background(), func(ctx context.Context) error {
		for i := range n {
			id := fmt.Sprintf("app-%05d", i)
			if err := store.CreateClient(ctx, storage.Client{ID: id, Name: "应用 " + id, SecretHash: make([]byte, 32),
				RedirectURIs: []string{"https://" + id + ".example.gov.cn/cb"}, GrantTypes: []string{"authorization_code", "refresh_token"},
				ResponseTypes: []string{"code"}, Scopes: []string{"openid", "profile"}, IDTokenSignedResponseAlg: "RS256",
				TokenEndpointAuthMethod: "client_secret_basic", SubjectType: "public", CreatedAt: now,
				Status: storage.ClientPublished, Department: fmt.Sprintf("dept-%d", i%10)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}
