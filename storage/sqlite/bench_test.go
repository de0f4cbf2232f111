package sqlite_test

import (
	"testing"

	"github.com/tongban/tongban/storage/storagetest"
)

// go test -bench . -benchtime=3s ./storage/sqlite/
// The budget: UseNonce ≥ 5,000 redemptions/s on SQLite.

func BenchmarkUseNonce(b *testing.B) {
	storagetest.BenchUseNonce(b, storagetest.SQLite(b))
}

func BenchmarkUseNonceParallel(b *testing.B) {
	// 32 redeemers per GOMAXPROCS, as in a burst of concurrent scans.
	storagetest.BenchUseNonceParallel(b, storagetest.SQLite(b), 32)
}

func BenchmarkInvalidateToken(b *testing.B) {
	storagetest.BenchInvalidateToken(b, storagetest.SQLite(b))
}

// BenchmarkListClientsPage: 10,000 apps listed 100 a page; budget 50 ms a page.
func BenchmarkListClientsPage(b *testing.B) {
	storagetest.BenchListClientsPage(b, storagetest.SQLite(b))
}
