package storagetest

import (
	"bytes"
	"sync"
	"testing"
	"time"

	"github.com/tongban/tongban/storage"
)

// cti returns an 8-byte stand-in for a code's cti.
func cti(b byte) []byte { return []byte{0xc7, 0, 0, 0, 0, 0, 0, b} }

// testCodeRecords checks storage.CodeRecords (migration 00028 and the receipts of 00029): records
// round-trip and list per holder newest first within [since, until); receipts need a recorded
// code and a counter, a duplicate is ignored keeping the first, and deleting old records takes
// their receipts along.
func testCodeRecords(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	alice, bob := index("cr-alice"), index("cr-bob")
	recs := []storage.CodeRecord{
		{CTI: cti(1), HolderIndex: alice, Kinds: []string{"resident-id"}, Profile: 1, IssuedAt: t0, ExpiresAt: t0.Add(time.Minute)},
		{CTI: cti(2), HolderIndex: alice, Kinds: []string{"resident-id", "driving-licence"}, Profile: 3,
			IssuedAt: t0.Add(time.Hour), ExpiresAt: t0.Add(time.Hour + time.Minute)},
		{CTI: cti(3), HolderIndex: alice, Kinds: []string{"health-code"}, Profile: 1, IssuedAt: t0.Add(time.Hour), ExpiresAt: t0.Add(time.Hour + time.Minute)}, // same instant: cti breaks the tie
		{CTI: cti(4), HolderIndex: bob, Kinds: []string{"resident-id"}, Profile: 2, IssuedAt: t0.Add(2 * time.Hour), ExpiresAt: t0.Add(2*time.Hour + time.Minute)},
		{CTI: cti(5), HolderIndex: alice, Kinds: []string{"resident-id"}, Profile: 1, IssuedAt: pre1970, ExpiresAt: pre1970.Add(time.Minute)},
	}
	for _, r := range recs {
		must(t, "RecordCode", s.RecordCode(ctx, r))
	}
	checkErr(t, "RecordCode again", s.RecordCode(ctx, recs[0]), storage.ErrConflict)
	want := func(rs ...storage.CodeRecord) []storage.CodeRecord {
		out := []storage.CodeRecord{}
		for _, r := range rs {
			r.IssuedAt, r.ExpiresAt = stored(r.IssuedAt), stored(r.ExpiresAt)
			out = append(out, r)
		}
		return out
	}
	for _, c := range []struct {
		name         string
		holder       []byte
		since, until time.Time
		limit        int
		want         []storage.CodeRecord
	}{
		{"all", alice, time.Time{}, time.Time{}, 10, want(recs[2], recs[1], recs[0], recs[4])},
		{"limit", alice, time.Time{}, time.Time{}, 2, want(recs[2], recs[1])},
		{"until", alice, time.Time{}, t0.Add(time.Hour), 10, want(recs[0], recs[4])},
		{"since", alice, t0.Add(time.Hour), time.Time{}, 10, want(recs[2], recs[1])},
		{"both", alice, t0, t0.Add(time.Hour), 10, want(recs[0])},
		{"other holder", bob, time.Time{}, time.Time{}, 10, want(recs[3])},
		{"nobody", index("cr-nobody"), time.Time{}, time.Time{}, 10, want()},
	} {
		got, err := s.ListCodeRecords(ctx, c.holder, c.since, c.until, c.limit)
		must(t, "ListCodeRecords "+c.name, err)
		checkEqual(t, "ListCodeRecords "+c.name, got, c.want)
	}
	one, err := s.GetCodeRecord(ctx, cti(2))
	must(t, "GetCodeRecord", err)
	checkEqual(t, "GetCodeRecord", one, want(recs[1])[0])
	_, err = s.GetCodeRecord(ctx, cti(9))
	checkErr(t, "GetCodeRecord unknown", err, storage.ErrNotFound)
	if _, err := s.ListCodeRecords(ctx, alice, time.Time{}, time.Time{}, 0); err == nil {
		t.Error("ListCodeRecords with limit 0: no error")
	}

	must(t, "CreateCounter", s.CreateCounter(ctx, storage.Counter{ID: "cr-ctr1", Name: "1号窗口", EnrolmentHash: bytes.Repeat([]byte{1}, 32),
		EnrolmentExpiresAt: t0.Add(24 * time.Hour), CreatedAt: t0}))
	must(t, "CreateCounter", s.CreateCounter(ctx, storage.Counter{ID: "cr-ctr2", Name: "2号窗口", EnrolmentHash: bytes.Repeat([]byte{2}, 32),
		EnrolmentExpiresAt: t0.Add(24 * time.Hour), CreatedAt: t0}))
	rc := func(c byte, counter string, verified time.Duration) storage.CodeReceipt {
		return storage.CodeReceipt{CTI: cti(c), CounterID: counter, VerifiedAt: t0.Add(verified), ReceivedAt: t0.Add(verified + time.Second)}
	}
	must(t, "AddCodeReceipt", s.AddCodeReceipt(ctx, rc(1, "cr-ctr1", 10*time.Second)))
	must(t, "AddCodeReceipt other counter", s.AddCodeReceipt(ctx, rc(1, "cr-ctr2", 5*time.Second)))
	must(t, "AddCodeReceipt duplicate", s.AddCodeReceipt(ctx, rc(1, "cr-ctr1", 20*time.Second))) // ignored: the first stays
	must(t, "AddCodeReceipt", s.AddCodeReceipt(ctx, rc(2, "cr-ctr1", time.Hour)))
	checkErr(t, "AddCodeReceipt unknown code", s.AddCodeReceipt(ctx, rc(9, "cr-ctr1", 0)), storage.ErrNotFound)
	checkErr(t, "AddCodeReceipt unknown counter", s.AddCodeReceipt(ctx, rc(1, "cr-nope", 0)), storage.ErrNotFound)
	wantRC := func(rs ...storage.CodeReceipt) []storage.CodeReceipt {
		out := []storage.CodeReceipt{}
		for _, r := range rs {
			r.VerifiedAt, r.ReceivedAt = stored(r.VerifiedAt), stored(r.ReceivedAt)
			out = append(out, r)
		}
		return out
	}
	got, err := s.ListCodeReceipts(ctx, [][]byte{cti(2), cti(1), cti(3), cti(9)})
	must(t, "ListCodeReceipts", err)
	checkEqual(t, "ListCodeReceipts", got, wantRC(rc(1, "cr-ctr2", 5*time.Second), rc(1, "cr-ctr1", 10*time.Second), rc(2, "cr-ctr1", time.Hour)))
	got, err = s.ListCodeReceipts(ctx, nil)
	must(t, "ListCodeReceipts none", err)
	checkEqual(t, "ListCodeReceipts none", got, wantRC())

	// Deleting records before t0+1h takes cti 1 and 5 and the receipts of cti 1.
	n, err := s.DeleteCodeRecordsBefore(ctx, t0.Add(time.Hour))
	must(t, "DeleteCodeRecordsBefore", err)
	checkEqual(t, "records deleted", n, int64(2))
	n, err = s.DeleteCodeRecordsBefore(ctx, t0.Add(time.Hour))
	must(t, "DeleteCodeRecordsBefore again", err)
	checkEqual(t, "records deleted again", n, int64(0))
	got, err = s.ListCodeReceipts(ctx, [][]byte{cti(1), cti(2)})
	must(t, "ListCodeReceipts after delete", err)
	checkEqual(t, "ListCodeReceipts after delete", got, wantRC(rc(2, "cr-ctr1", time.Hour)))
	left, err := s.ListCodeRecords(ctx, alice, time.Time{}, time.Time{}, 10)
	must(t, "ListCodeRecords after delete", err)
	checkEqual(t, "ListCodeRecords after delete", left, want(recs[2], recs[1]))
}

// testCounters checks storage.Counters (migration 00029): counters round-trip, enrol once
// (one winner among concurrent enrolments) with distinct errors for an unknown, used, expired
// or disabled enrolment code and for a key another counter holds, and disable once.
func testCounters(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	h := func(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }
	exp := t0.Add(24 * time.Hour)
	for _, c := range []storage.Counter{
		{ID: "c-1", Name: "1号窗口", Office: "朝阳区政务服务中心", EnrolmentHash: h(1), EnrolmentExpiresAt: exp, CreatedAt: t0},
		{ID: "c-2", Name: "2号窗口", EnrolmentHash: h(2), EnrolmentExpiresAt: exp, CreatedAt: t0.Add(time.Second)},
		{ID: "c-3", Name: "3号窗口", EnrolmentHash: h(3), EnrolmentExpiresAt: t0.Add(time.Minute), CreatedAt: t0.Add(2 * time.Second)},
		{ID: "c-4", Name: "4号窗口", EnrolmentHash: h(4), EnrolmentExpiresAt: exp, CreatedAt: t0.Add(3 * time.Second)},
	} {
		must(t, "CreateCounter "+c.ID, s.CreateCounter(ctx, c))
	}
	checkErr(t, "CreateCounter same ID", s.CreateCounter(ctx, storage.Counter{ID: "c-1", EnrolmentHash: h(9), CreatedAt: t0}), storage.ErrConflict)
	checkErr(t, "CreateCounter same hash", s.CreateCounter(ctx, storage.Counter{ID: "c-9", EnrolmentHash: h(1), CreatedAt: t0}), storage.ErrConflict)
	got, err := s.GetCounter(ctx, "c-1")
	must(t, "GetCounter", err)
	checkEqual(t, "GetCounter", got, storage.Counter{ID: "c-1", Name: "1号窗口", Office: "朝阳区政务服务中心", EnrolmentHash: h(1),
		EnrolmentExpiresAt: stored(exp), CreatedAt: stored(t0)})
	_, err = s.GetCounter(ctx, "c-nope")
	checkErr(t, "GetCounter unknown", err, storage.ErrNotFound)
	_, err = s.GetCounterByKeyID(ctx, "kid-1")
	checkErr(t, "GetCounterByKeyID before enrolment", err, storage.ErrNotFound)

	pub := append([]byte{4}, bytes.Repeat([]byte{0x11}, 64)...)
	now := t0.Add(time.Hour)
	// Concurrent enrolments with one code: exactly one wins.
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins, used := 0, 0
	for range 4 {
		wg.Go(func() {
			_, err := s.EnrolCounter(ctx, h(1), "kid-1", pub, now)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case checkErr(t, "concurrent EnrolCounter", err, storage.ErrAlreadyUsed):
				used++
			}
		})
	}
	wg.Wait()
	if wins != 1 || used != 3 {
		t.Errorf("concurrent EnrolCounter: %d won, %d already used; want 1 and 3", wins, used)
	}
	got, err = s.GetCounterByKeyID(ctx, "kid-1")
	must(t, "GetCounterByKeyID", err)
	checkEqual(t, "enrolled counter", got, storage.Counter{ID: "c-1", Name: "1号窗口", Office: "朝阳区政务服务中心", EnrolmentHash: h(1),
		EnrolmentExpiresAt: stored(exp), KeyID: "kid-1", PublicKey: pub, CreatedAt: stored(t0), EnrolledAt: storedPtr(&now)})

	_, err = s.EnrolCounter(ctx, h(1), "kid-x", pub, now)
	checkErr(t, "EnrolCounter replayed code", err, storage.ErrAlreadyUsed)
	_, err = s.EnrolCounter(ctx, h(8), "kid-x", pub, now)
	checkErr(t, "EnrolCounter unknown code", err, storage.ErrNotFound)
	_, err = s.EnrolCounter(ctx, h(3), "kid-3", pub, t0.Add(time.Minute))
	checkErr(t, "EnrolCounter expired code (at the expiry)", err, storage.ErrExpired)
	_, err = s.EnrolCounter(ctx, h(2), "kid-1", pub, now)
	checkErr(t, "EnrolCounter with another counter's key", err, storage.ErrConflict)
	must(t, "DisableCounter", s.DisableCounter(ctx, "c-4", now))
	_, err = s.EnrolCounter(ctx, h(4), "kid-4", pub, now)
	checkErr(t, "EnrolCounter disabled counter", err, storage.ErrNotFound)
	c2, err := s.EnrolCounter(ctx, h(2), "kid-2", pub, now)
	must(t, "EnrolCounter c-2", err)
	checkEqual(t, "EnrolCounter result", c2.KeyID, "kid-2")

	later := now.Add(time.Hour)
	must(t, "DisableCounter", s.DisableCounter(ctx, "c-1", now))
	must(t, "DisableCounter again", s.DisableCounter(ctx, "c-1", later))
	checkErr(t, "DisableCounter unknown", s.DisableCounter(ctx, "c-nope", now), storage.ErrNotFound)
	all, err := s.ListCounters(ctx)
	must(t, "ListCounters", err)
	ids := []string{}
	for _, c := range all {
		ids = append(ids, c.ID)
	}
	checkEqual(t, "ListCounters order", ids, []string{"c-1", "c-2", "c-3", "c-4"})
	checkEqual(t, "disabled at the first time", all[0].DisabledAt, storedPtr(&now))
	checkEqual(t, "c-2 enabled", all[1].DisabledAt, (*time.Time)(nil))
}
