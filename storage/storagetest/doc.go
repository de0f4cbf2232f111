// Package storagetest is the conformance suite of storage.Storage (modelled on dex's
// storage/conformance), with helpers that open test stores for other packages' tests.
//
// Every backend runs the whole suite:
//
//	func TestConformance(t *testing.T) {
//		storagetest.Run(t, func(t *testing.T) storage.Storage { return storagetest.SQLite(t) })
//	}
//
// The suite pins down what the storage interfaces leave to "the backend": times come back
// truncated to the microsecond and in UTC; nil and empty string lists come back as they went
// in; empty byte slices come back nil; a record pointing at a missing client or person is
// ErrNotFound; sessions expire at ExpiresAt; nonces stay used until purged. And the concurrency
// promises: of 32 simultaneous redeemers of one code or nonce exactly one wins, and concurrent
// updaters lose no update.
//
// Helpers for other packages' tests: SQLite(t) opens a store in t.TempDir; PostgresDSN(t)
// returns a DSN for a fresh schema of the database named by $TONGBAN_TEST_POSTGRES (the test
// skips, saying how to enable it, when the variable is unset) and Postgres(t) opens a store on
// it. BenchUseNonce, BenchUseNonceParallel and BenchInvalidateToken are the storage
// benchmarks, run by each backend's bench_test.go.
package storagetest
