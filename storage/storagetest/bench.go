package storagetest

import (
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tongban/tongban/storage"
)

// reportRate adds an ops/s metric to b's results.
func reportRate(b *testing.B, n int64) {
	if sec := b.Elapsed().Seconds(); sec > 0 {
		b.ReportMetric(float64(n)/sec, "ops/s")
	}
}

// BenchUseNonce measures single-use nonce redemption (a fresh value each time, as a verifier
// recording QR cti values does), one redeemer at a time. The budget on SQLite is at
// least 5,000 redemptions per second.
func BenchUseNonce(b *testing.B, s storage.Storage) {
	ctx := b.Context()
	exp := time.Now().Add(time.Minute)
	var n int64
	for b.Loop() {
		if err := s.UseNonce(ctx, "bench", strconv.FormatInt(n, 36), exp); err != nil {
			b.Fatal(err)
		}
		n++
	}
	reportRate(b, n)
}

// BenchUseNonceParallel is BenchUseNonce with GOMAXPROCS×p redeemers (b.SetParallelism),
// each redeeming fresh values, as concurrent requests do.
func BenchUseNonceParallel(b *testing.B, s storage.Storage, p int) {
	ctx := b.Context()
	exp := time.Now().Add(time.Minute)
	var next atomic.Int64
	b.SetParallelism(p)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := s.UseNonce(ctx, "bench-parallel", strconv.FormatInt(next.Add(1), 36), exp); err != nil {
				b.Error(err)
				return
			}
		}
	})
	reportRate(b, next.Load())
}

// BenchInvalidateToken measures the single-use redemption of an authorization code
// (InvalidateToken of an active record). Creating the records is not timed.
func BenchInvalidateToken(b *testing.B, s storage.Storage) {
	ctx := b.Context()
	if err := s.CreateClient(ctx, storage.Client{ID: "bench-client"}); err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	const batch = 1000
	var made, used int64
	for b.Loop() {
		if used == made { // create the next batch, untimed
			b.StopTimer()
			for range batch {
				made++
				if err := s.CreateToken(ctx, storage.TokenRecord{Kind: storage.KindAuthorizeCode,
					Signature: strconv.FormatInt(made, 36), RequestID: "req", ClientID: "bench-client",
					Active: true, RequestedAt: now, ExpiresAt: now.Add(time.Minute)}); err != nil {
					b.Fatal(err)
				}
			}
			b.StartTimer()
		}
		used++
		if err := s.InvalidateToken(ctx, storage.KindAuthorizeCode, strconv.FormatInt(used, 36)); err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b, used)
}
