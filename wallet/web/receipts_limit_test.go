package web

import (
	"testing"
	"time"
)

// TestReceiptLimiter: a counter may send ReceiptBurst receipts at once, then ReceiptRate a
// second; counters have buckets of their own.
func TestReceiptLimiter(t *testing.T) {
	now := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	l := newReceiptLimiter(func() time.Time { return now })
	for i := range ReceiptBurst {
		if !l.allow("ctr-a") {
			t.Fatalf("receipt %d of the burst refused", i+1)
		}
	}
	if l.allow("ctr-a") {
		t.Fatal("receipt past the burst allowed")
	}
	if !l.allow("ctr-b") {
		t.Fatal("another counter limited by the first")
	}
	now = now.Add(time.Second)
	for i := range ReceiptRate {
		if !l.allow("ctr-a") {
			t.Fatalf("receipt %d a second later refused", i+1)
		}
	}
	if l.allow("ctr-a") {
		t.Fatal("more than ReceiptRate a second allowed")
	}
}
