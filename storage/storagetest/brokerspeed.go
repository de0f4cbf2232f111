package storagetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tongban/tongban/storage"
)

// testNonceChecks is the conformance suite of storage.NonceChecks.
func testNonceChecks(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	exp := t0.Add(time.Minute)
	used := func(t *testing.T, ctx context.Context, namespace, value string, want bool) {
		t.Helper()
		got, err := s.NonceUsed(ctx, namespace, value)
		must(t, "NonceUsed", err)
		if got != want {
			t.Errorf("NonceUsed(%q, %q) = %v, want %v", namespace, value, got, want)
		}
	}
	t.Run("ok/unknown value is unused", func(t *testing.T) { used(t, ctx, "upstream-state", "s1", false) })
	t.Run("ok/used after UseNonce", func(t *testing.T) {
		must(t, "UseNonce", s.UseNonce(ctx, "upstream-state", "s1", exp))
		used(t, ctx, "upstream-state", "s1", true)
		used(t, ctx, "upstream-state", "s2", false)
		used(t, ctx, "other", "s1", false)
	})
	t.Run("ok/a check uses nothing", func(t *testing.T) {
		used(t, ctx, "upstream-state", "s3", false)
		must(t, "UseNonce", s.UseNonce(ctx, "upstream-state", "s3", exp))
	})
	t.Run("ok/inside a transaction, rolled back", func(t *testing.T) {
		errRollback := errors.New("roll back")
		err := s.InTx(ctx, func(ctx context.Context) error {
			must(t, "UseNonce", s.UseNonce(ctx, "upstream-state", "s4", exp))
			used(t, ctx, "upstream-state", "s4", true)
			return errRollback
		})
		checkErr(t, "InTx", err, errRollback)
		used(t, ctx, "upstream-state", "s4", false)
	})
	t.Run("ok/unused once purged", func(t *testing.T) {
		_, err := s.PurgeNonces(ctx, exp.Add(time.Microsecond))
		must(t, "PurgeNonces", err)
		used(t, ctx, "upstream-state", "s1", false)
	})
}
