package accounts_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/tongban/tongban/accounts"
	"github.com/tongban/tongban/keyring"
	"github.com/tongban/tongban/sm-crypto"
	"github.com/tongban/tongban/storage"
	"github.com/tongban/tongban/storage/storagetest"
)

// testPasswordParams keep password hashing cheap in tests (production: ≈50 ms).
var testPasswordParams = smcrypto.PasswordParams{Iterations: 1000, SaltLen: 16, KeyLen: 32}

// newService returns a Service on a fresh SQLite store, and the store and keyring, with cfg's
// optional fields: Store and Keyring are filled in, PasswordParams default to
// testPasswordParams and Logger to one that discards.
func newService(t testing.TB, cfg accounts.Config) (*accounts.Service, storage.Storage, *keyring.Keyring) {
	t.Helper()
	store := storagetest.SQLite(t)
	kek, err := smcrypto.GenerateKEK(nil)
	if err != nil {
		t.Fatal(err)
	}
	kr, err := keyring.Open(context.Background(), store, kek)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Store, cfg.Keyring = store, kr
	if cfg.PasswordParams == (smcrypto.PasswordParams{}) {
		cfg.PasswordParams = testPasswordParams
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s, err := accounts.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s, store, kr
}

func TestNew(t *testing.T) {
	store := storagetest.SQLite(t)
	kek, _ := smcrypto.GenerateKEK(nil)
	kr, err := keyring.Open(context.Background(), store, kek)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		cfg     accounts.Config
		wantErr []error
		wantMsg []string
	}{
		{"ok/defaults", accounts.Config{Store: store, Keyring: kr, PasswordParams: testPasswordParams}, nil, nil},
		{"fail/empty", accounts.Config{}, []error{accounts.ErrInvalidConfig}, []string{"Store is required", "Keyring is required"}},
		{"fail/windows", accounts.Config{Store: store, Keyring: kr, AccountLockWindow: time.Millisecond, IPLockWindow: -time.Second},
			[]error{accounts.ErrInvalidConfig}, []string{"AccountLockWindow", "IPLockWindow"}},
		{"fail/thresholds", accounts.Config{Store: store, Keyring: kr, IPLockThreshold: -1},
			[]error{accounts.ErrInvalidConfig}, []string{"lock thresholds"}},
		{"fail/delays", accounts.Config{Store: store, Keyring: kr, AccountDelay: time.Minute, AccountMaxDelay: 30 * time.Second, DeviceLockThreshold: -1},
			[]error{accounts.ErrInvalidConfig}, []string{"AccountMaxDelay 30s is below AccountDelay 1m0s", "lock thresholds"}},
		{"fail/window-below-max-delay", accounts.Config{Store: store, Keyring: kr, AccountLockWindow: 10 * time.Minute},
			[]error{accounts.ErrInvalidConfig}, []string{"AccountLockWindow 10m0s is below AccountMaxDelay 15m0s"}},
		{"fail/password-params", accounts.Config{Store: store, Keyring: kr, PasswordParams: smcrypto.PasswordParams{Iterations: 1}},
			[]error{accounts.ErrInvalidConfig, smcrypto.ErrPasswordParams}, []string{"PasswordParams"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := accounts.New(tc.cfg)
			if tc.wantErr == nil {
				if err != nil || s == nil {
					t.Fatalf("New = %v, %v", s, err)
				}
				return
			}
			for _, want := range tc.wantErr {
				if !errors.Is(err, want) {
					t.Errorf("err = %v, want %v", err, want)
				}
			}
			for _, m := range tc.wantMsg {
				if err == nil || !strings.Contains(err.Error(), m) {
					t.Errorf("error %v does not mention %q", err, m)
				}
			}
		})
	}
}

// TestDummyHashCost: unknown identifiers are checked against a hash made with the configured
// parameters, so they cost the same PBKDF2 work as real ones.
func TestDummyHashCost(t *testing.T) {
	params := smcrypto.PasswordParams{Iterations: 1234, SaltLen: 16, KeyLen: 32}
	s, _, _ := newService(t, accounts.Config{PasswordParams: params})
	if h := accounts.DummyHash(s); h == "" || smcrypto.NeedsRehash(h, params) {
		t.Errorf("dummy hash %q not made with %+v", h, params)
	}
}
