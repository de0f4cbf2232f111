package walletserver

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tongban/tongban/cmd/internal/app"
	"github.com/tongban/tongban/qr"
	"github.com/tongban/tongban/storage"
	"github.com/tongban/tongban/wallet"
	"github.com/tongban/tongban/wallet/web"
)

func TestDefaultConfig(t *testing.T) {
	c := DefaultConfig()
	c.ClientSecret = "s"
	var p app.Problems
	c.Validate(&p)
	if err := p.Err(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
	if c.HTTP.Addr != DefaultAddr || c.Issuer != DefaultIssuer || c.PublicURL != DefaultPublicURL || c.ClientID != DefaultClientID ||
		c.IDTokenAlg != web.DefaultIDTokenAlg || c.KeyIssuer != wallet.DefaultKeyIssuer || c.SessionLifetime != web.DefaultSessionLifetime ||
		c.StatusListValidity != qr.DefaultStatusListValidity || c.PurgeInterval != app.DefaultPurgeInterval {
		t.Errorf("defaults %+v", c)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*Config)
		want   string // "" means valid
	}{
		{"ok/secret", func(c *Config) {}, ""},
		{"ok/secret file", func(c *Config) { c.ClientSecret, c.ClientSecretFile = "", "secret" }, ""},
		{"ok/https public URL with a slash", func(c *Config) { c.PublicURL = "https://wallet.example.gov.cn/" }, ""},
		{"fail/no secret", func(c *Config) { c.ClientSecret = "" }, "client-secret: required"},
		{"fail/two secrets", func(c *Config) { c.ClientSecretFile = "secret" }, "both set"},
		{"fail/issuer relative", func(c *Config) { c.Issuer = "/idp" }, "issuer"},
		{"fail/public URL with a path", func(c *Config) { c.PublicURL = "https://example.gov.cn/wallet" }, "public-url"},
		{"fail/public URL not http", func(c *Config) { c.PublicURL = "ftp://example.gov.cn" }, "public-url"},
		{"fail/id-token-alg", func(c *Config) { c.IDTokenAlg = "HS256" }, "id-token-alg"},
		{"fail/empty api client", func(c *Config) { c.APIClients = []string{"app", ""} }, "api-client: empty"},
		{"fail/purge interval", func(c *Config) { c.PurgeInterval = time.Millisecond }, "purge-interval"},
		{"fail/addr", func(c *Config) { c.HTTP.Addr = "nowhere" }, "addr"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			c.ClientSecret = "s"
			tt.modify(&c)
			var p app.Problems
			c.Validate(&p)
			err := p.Err()
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("Validate = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestLoadSecret(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(path, []byte("  s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := Config{ClientSecretFile: path}
	if err := c.LoadSecret(); err != nil || c.ClientSecret != "s3cret" || c.ClientSecretFile != "" {
		t.Fatalf("LoadSecret: %v, %+v", err, c)
	}
	c = Config{ClientSecret: "kept"}
	if err := c.LoadSecret(); err != nil || c.ClientSecret != "kept" {
		t.Fatalf("no file: %v, %+v", err, c)
	}
	c = Config{ClientSecretFile: filepath.Join(t.TempDir(), "missing")}
	var ue *app.UsageError
	if err := c.LoadSecret(); !errors.As(err, &ue) || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
}

// openBackend opens a fresh SQLite backend under t's temporary directory.
func openBackend(t *testing.T) *app.Backend {
	t.Helper()
	dir := t.TempDir()
	b, err := app.OpenBackend(t.Context(), app.Common{DB: filepath.Join(dir, "tongban.db"), KEKFile: filepath.Join(dir, "kek")}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// TestNewService builds the wallet as `wallet serve` and the demo do and checks that the
// handler serves the trust list, the status list, the pages and the operations endpoints, with
// the settings of cfg applied.
func TestNewService(t *testing.T) {
	b := openBackend(t)
	cfg := DefaultConfig()
	cfg.ClientSecret, cfg.KeyIssuer, cfg.StatusListValidity = "s", "测试钱包", 10*time.Minute
	svc, err := NewService(t.Context(), cfg, b, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(svc.Handler)
	defer srv.Close()
	get := func(path string) (int, []byte) {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, body
	}
	for _, path := range []string{"/healthz", "/readyz", "/metrics", "/"} {
		if code, body := get(path); code != http.StatusOK {
			t.Errorf("%s: %d %s", path, code, body)
		}
	}
	anchors, err := svc.Wallet.TrustAnchors(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	_, tl := get("/trust-list")
	list, err := qr.ParseTrustList(tl, anchors)
	if err != nil || len(list.Keys) != 1 || list.Keys[0].Issuer != "测试钱包" {
		t.Fatalf("trust list: %v %+v", err, list)
	}
	_, sl := get("/status-list")
	status, err := qr.ParseStatusList(sl, list)
	if err != nil || status.ExpiresAt.Sub(status.IssuedAt) != 10*time.Minute {
		t.Fatalf("status list: %v %+v", err, status)
	}

	// A configuration web.NewServer refuses is a usage error.
	cfg.PublicURL = "not a URL"
	var ue *app.UsageError
	if _, err := NewService(t.Context(), cfg, b, slog.New(slog.DiscardHandler)); !errors.As(err, &ue) {
		t.Errorf("bad public URL: %v", err)
	}
}

// TestServicePurge: the purge loop deletes an expired wallet session and keeps a live one.
func TestServicePurge(t *testing.T) {
	b := openBackend(t)
	cfg := DefaultConfig()
	cfg.ClientSecret = "s"
	svc, err := NewService(t.Context(), cfg, b, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	now := time.Now()
	for _, ls := range []storage.LoginSession{
		{ID: "wallet:expired", PersonID: "wallet:p", AMR: []string{}, ExpiresAt: now.Add(-time.Minute)},
		{ID: "wallet:live", PersonID: "wallet:p", AMR: []string{}, ExpiresAt: now.Add(time.Hour)},
	} {
		if err := b.Store.CreateLoginSession(ctx, ls); err != nil {
			t.Fatal(err)
		}
	}
	counts, err := svc.Purge(ctx)
	if err != nil || counts["login_sessions"] != 1 {
		t.Fatalf("Purge = %v, %v; want 1 login session", counts, err)
	}
	if _, err := b.Store.GetLoginSession(ctx, "wallet:live", now); err != nil {
		t.Errorf("live session: %v", err)
	}
}

// TestRun serves until the context ends, calling ready with the address it listens on.
func TestRun(t *testing.T) {
	b := openBackend(t)
	cfg := DefaultConfig()
	cfg.ClientSecret, cfg.HTTP.Addr, cfg.PurgeInterval = "s", "127.0.0.1:0", 0
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	addrs := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg, b, slog.New(slog.DiscardHandler), func(a net.Addr) { addrs <- a }) }()
	var addr net.Addr
	select {
	case addr = <-addrs:
	case err := <-done:
		t.Fatalf("Run: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not become ready")
	}
	resp, err := http.Get("http://" + addr.String() + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/readyz: %d", resp.StatusCode)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run after cancel: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not stop")
	}
}
