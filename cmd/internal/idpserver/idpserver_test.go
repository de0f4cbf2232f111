package idpserver

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tongban/tongban/cmd/internal/app"
	"github.com/tongban/tongban/storage"
)

func TestDefaultConfigValid(t *testing.T) {
	c := DefaultConfig()
	var p app.Problems
	c.Validate(&p)
	if err := p.Err(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
	if c.HTTP.Addr != DefaultAddr || c.Issuer != DefaultIssuer || c.DB != app.DefaultDB || c.PasswordIterations < 1 {
		t.Errorf("defaults %+v", c)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*Config)
		want   string
	}{
		{"fail/http-issuer", func(c *Config) { c.Issuer = "http://id.example.gov.cn" }, "http is allowed only on a loopback host"},
		{"fail/issuer-query", func(c *Config) { c.Issuer = "https://id.example.gov.cn/?a=b" }, "must not have a query"},
		{"fail/issuer-relative", func(c *Config) { c.Issuer = "/idp" }, "want an absolute URL"},
		{"fail/code-lifetime", func(c *Config) { c.CodeLifetime = 0 }, "code-lifetime: must be at least 1s"},
		{"fail/iterations", func(c *Config) { c.PasswordIterations = 0 }, "password-iterations"},
		{"fail/ip-header", func(c *Config) { c.ClientIPHeader = "Forwarded" }, "client-ip-header"},
		{"fail/pprof-public", func(c *Config) { c.PprofAddr = "0.0.0.0:6060" }, "pprof-addr"},
		{"fail/purge-interval", func(c *Config) { c.PurgeInterval = -time.Minute }, "purge-interval"},
		{"fail/account-lock-window-below-max-delay", func(c *Config) { c.AccountLockWindow = 10 * time.Minute }, "account-lock-window: must be at least 15m0s"},
		{"fail/notifier", func(c *Config) { c.Notifier = "sms" }, "notifier: want none or console"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			tt.modify(&c)
			var p app.Problems
			c.Validate(&p)
			if err := p.Err(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate = %v, want %q", err, tt.want)
			}
		})
	}
	for _, ok := range []string{"https://id.example.gov.cn", "https://example.gov.cn/idp", "http://localhost:8080", "http://[::1]:8080"} {
		c := DefaultConfig()
		c.Issuer = ok
		var p app.Problems
		c.Validate(&p)
		if err := p.Err(); err != nil {
			t.Errorf("issuer %s: %v", ok, err)
		}
	}
}

func TestClientIP(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "127.0.0.1:5555"
	r.Header.Set("X-Forwarded-For", "203.0.113.9, 198.51.100.7")
	r.Header.Set("X-Real-IP", "198.51.100.8")
	for header, want := range map[string]string{"X-Forwarded-For": "198.51.100.7", "x-real-ip": "198.51.100.8"} {
		c := Config{ClientIPHeader: header}
		if got := c.clientIP()(r); got != want {
			t.Errorf("%s: %s, want %s", header, got, want)
		}
	}
	r.Header.Set("X-Real-IP", "garbage")
	if got := (&Config{ClientIPHeader: "X-Real-IP"}).clientIP()(r); got != "127.0.0.1" {
		t.Errorf("bad header: %s, want the peer", got)
	}
	if (&Config{}).clientIP() != nil {
		t.Error("no header: want nil (oidc's default)")
	}
}

// TestOpenInProcess runs the provider in process, as the demo command does, and checks the
// handler serves discovery and the operations endpoints.
func TestOpenInProcess(t *testing.T) {
	dir := t.TempDir()
	cfg := DefaultConfig()
	cfg.DB = filepath.Join(dir, "tongban.db")
	cfg.KEKFile = filepath.Join(dir, "kek")
	cfg.PasswordIterations = 1000
	svc, err := Open(context.Background(), cfg, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	srv := httptest.NewServer(svc.Handler)
	defer srv.Close()
	for _, path := range []string{"/healthz", "/readyz", "/.well-known/openid-configuration", "/jwks", "/metrics"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %d %s", path, resp.StatusCode, body)
		}
		if path == "/metrics" && !strings.Contains(string(body), `route="/.well-known/openid-configuration"`) {
			t.Errorf("/metrics lacks the discovery route label")
		}
	}
	// The admin console is mounted: its API wants a login, its pages send to the login page.
	resp, err := http.Get(srv.URL + "/admin/api/v1/me")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(body), "login_required") {
		t.Errorf("/admin/api/v1/me: %d %s", resp.StatusCode, body)
	}
	resp, err = http.Get(srv.URL + "/admin/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/login" {
		t.Errorf("/admin/: %d %s, want the login page", resp.StatusCode, resp.Request.URL)
	}
}

// TestServicePurge: the service's purge loop deletes an expired login session within a few
// ticks, keeps a live one, and stops on cancel.
func TestServicePurge(t *testing.T) {
	dir := t.TempDir()
	cfg := DefaultConfig()
	cfg.DB = filepath.Join(dir, "tongban.db")
	cfg.KEKFile = filepath.Join(dir, "kek")
	cfg.PasswordIterations = 1000
	if cfg.PurgeInterval != app.DefaultPurgeInterval {
		t.Errorf("default purge interval %s, want %s", cfg.PurgeInterval, app.DefaultPurgeInterval)
	}
	ctx := context.Background()
	svc, err := Open(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	store := svc.Backend.Store
	now := time.Now()
	for _, ls := range []storage.LoginSession{
		{ID: "expired", PersonID: "p", AMR: []string{}, ExpiresAt: now.Add(-time.Minute)},
		{ID: "wallet:expired", PersonID: "wallet:p", AMR: []string{}, ExpiresAt: now.Add(-time.Minute)},
		{ID: "live", PersonID: "p", AMR: []string{}, ExpiresAt: now.Add(time.Hour)},
	} {
		if err := store.CreateLoginSession(ctx, ls); err != nil {
			t.Fatal(err)
		}
	}
	lctx, cancel := context.WithCancel(ctx)
	stop := svc.StartPurge(lctx, 10*time.Millisecond, slog.New(slog.DiscardHandler))
	defer stop()
	gone := func(id string) bool {
		_, err := store.GetLoginSession(ctx, id, now.Add(-time.Hour))
		return errors.Is(err, storage.ErrNotFound)
	}
	for deadline := time.Now().Add(10 * time.Second); !gone("expired") || !gone("wallet:expired"); {
		if time.Now().After(deadline) {
			t.Fatal("expired sessions not purged within 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	stop()
	if _, err := store.GetLoginSession(ctx, "live", now); err != nil {
		t.Errorf("live session: %v", err)
	}
}
