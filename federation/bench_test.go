package federation

import (
	"context"
	"testing"
)

// BenchmarkResolveCached resolves a three-level chain (leaf → intermediate → anchor, SM2 and
// ES256 keys, over loopback httptest servers) from the resolver's cache. Target ≤ 1 ms of CPU
// per operation (issue 8).
func BenchmarkResolveCached(b *testing.B) {
	ta, _, leaf := threeLevel(b)
	r := newResolver(ta.anchor(b))
	ctx := context.Background()
	if _, err := r.Resolve(ctx, leaf.id, EntityTypeRP); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Resolve(ctx, leaf.id, EntityTypeRP); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkResolveCold resolves the same chain with an empty cache each time: five fetches
// over loopback HTTP, every signature checked, policies merged and applied. Target ≤ 50 ms
// per operation (issue 8).
func BenchmarkResolveCold(b *testing.B) {
	ta, _, leaf := threeLevel(b)
	anchor := ta.anchor(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		r := newResolver(anchor)
		if _, err := r.Resolve(ctx, leaf.id, EntityTypeRP); err != nil {
			b.Fatal(err)
		}
	}
}
