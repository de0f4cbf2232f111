package oidc_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	tboidc "github.com/tongban/tongban/oidc"
	smcrypto "github.com/tongban/tongban/sm-crypto"
)

func TestNewServerConfig(t *testing.T) {
	store, kr := adminEnv(t)
	ctx := context.Background()
	quiet := slog.New(slog.DiscardHandler)
	for _, tc := range []struct {
		name    string
		cfg     tboidc.Config
		wantErr error
		wantMsg []string
	}{
		{"ok/https", tboidc.Config{Issuer: "https://idp.example.gov.cn/", Store: store, Keyring: kr, Logger: quiet}, nil, nil},
		{"ok/http-dev", tboidc.Config{Issuer: "http://127.0.0.1:8080", Store: store, Keyring: kr, InsecureCookies: true, Logger: quiet}, nil, nil},
		{"fail/empty", tboidc.Config{}, tboidc.ErrInvalidConfig, []string{"Issuer is required", "Store is required", "Keyring is required"}},
		{"fail/http-without-insecure-cookies", tboidc.Config{Issuer: "http://idp.example", Store: store, Keyring: kr}, tboidc.ErrInvalidConfig, []string{"InsecureCookies"}},
		{"fail/query", tboidc.Config{Issuer: "https://idp.example/?a=b", Store: store, Keyring: kr}, tboidc.ErrInvalidConfig, []string{"query"}},
		{"fail/relative", tboidc.Config{Issuer: "idp.example", Store: store, Keyring: kr}, tboidc.ErrInvalidConfig, []string{"absolute"}},
		{"fail/code-lifetime", tboidc.Config{Issuer: "https://idp.example", Store: store, Keyring: kr, CodeLifetime: 20 * 60e9}, tboidc.ErrInvalidConfig, []string{"CodeLifetime"}},
		{"fail/device-cookie-lifetime", tboidc.Config{Issuer: "https://idp.example", Store: store, Keyring: kr, DeviceCookieLifetime: time.Millisecond},
			tboidc.ErrInvalidConfig, []string{"DeviceCookieLifetime"}},
		{"fail/lock-window-below-max-delay", tboidc.Config{Issuer: "https://idp.example", Store: store, Keyring: kr, AccountLockWindow: 10 * time.Minute},
			tboidc.ErrInvalidConfig, []string{"AccountLockWindow 10m0s is below AccountMaxDelay 15m0s"}},
		{"fail/password-params", tboidc.Config{Issuer: "https://idp.example", Store: store, Keyring: kr, PasswordParams: smcrypto.PasswordParams{Iterations: 1}}, tboidc.ErrInvalidConfig, []string{"PasswordParams"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, err := tboidc.NewServer(ctx, tc.cfg)
			if tc.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				if strings.HasSuffix(srv.Issuer(), "/") {
					t.Errorf("issuer %q keeps its trailing slash", srv.Issuer())
				}
				return
			}
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			for _, m := range tc.wantMsg {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not mention %q", err, m)
				}
			}
		})
	}
	t.Run("ok/metrics-registered", func(t *testing.T) {
		reg := prometheus.NewRegistry()
		if _, err := tboidc.NewServer(ctx, tboidc.Config{Issuer: "https://idp.example", Store: store, Keyring: kr, Registerer: reg, Logger: quiet}); err != nil {
			t.Fatal(err)
		}
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		_ = mfs // vectors without observations are not gathered; registration succeeding is the check
		if _, err := tboidc.NewServer(ctx, tboidc.Config{Issuer: "https://idp.example", Store: store, Keyring: kr, Registerer: reg, Logger: quiet}); err == nil {
			t.Error("registering twice on one registry succeeded")
		}
	})
}
