package postgres_test

import (
	"testing"

	"github.com/tongban/tongban/storage/storagetest"
)

// TONGBAN_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432/test?sslmode=disable \
//	go test -bench . -benchtime=3s ./storage/postgres/

func BenchmarkUseNonce(b *testing.B) {
	storagetest.BenchUseNonce(b, storagetest.Postgres(b))
}

func BenchmarkUseNonceParallel(b *testing.B) {
	storagetest.BenchUseNonceParallel(b, storagetest.Postgres(b), 8)
}

func BenchmarkInvalidateToken(b *testing.B) {
	storagetest.BenchInvalidateToken(b, storagetest.Postgres(b))
}

// BenchmarkListClientsPage: 10,000 apps listed 100 a page; budget 50 ms a page.
func BenchmarkListClientsPage(b *testing.B) {
	storagetest.BenchListClientsPage(b, storagetest.Postgres(b))
}
