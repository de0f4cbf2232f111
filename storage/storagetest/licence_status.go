package storagetest

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/tongban/tongban/storage"
)

func testLicenceStatusIndexes(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	got, err := s.ListLicenceStatuses(ctx)
	must(t, "ListLicenceStatuses", err)
	if len(got) != 0 {
		t.Fatalf("empty store lists %v", got)
	}
	if _, err := s.LicenceStatusIndex(ctx, "missing"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("missing licence: %v", err)
	}
	ids := make([]string, 8)
	for i := range ids {
		id, _, err := s.UpsertLicence(ctx, licence(fmt.Sprintf("lic-%d", i), "driving-licence", fmt.Sprint(i), "issuer", index("holder")))
		must(t, "UpsertLicence", err)
		ids[i] = id
	}
	// Concurrent first allocations: 8 distinct indexes 0..7, and the same licence from 4
	// callers at once gets one index.
	idx := race(8, func(i int) uint64 {
		v, err := s.LicenceStatusIndex(ctx, ids[i])
		must(t, "LicenceStatusIndex", err)
		return v
	})
	sorted := slices.Sorted(slices.Values(idx))
	for i, v := range sorted {
		if v != uint64(i) {
			t.Fatalf("indexes %v, want 0..7", sorted)
		}
	}
	again := race(4, func(int) uint64 {
		v, err := s.LicenceStatusIndex(ctx, ids[3])
		must(t, "LicenceStatusIndex", err)
		return v
	})
	for _, v := range again {
		if v != idx[3] {
			t.Fatalf("licence 3: index %d, then %d", idx[3], v)
		}
	}
	// The index survives an update and follows the status.
	l := licence("other-id", "driving-licence", "3", "issuer", index("holder"))
	l.Status = storage.LicenceSuspended
	_, _, err = s.UpsertLicence(ctx, l)
	must(t, "UpsertLicence", err)
	must(t, "SetLicenceStatus", s.SetLicenceStatus(ctx, ids[5], storage.LicenceRevoked, t0))
	got, err = s.ListLicenceStatuses(ctx)
	must(t, "ListLicenceStatuses", err)
	if len(got) != 8 {
		t.Fatalf("listed %v", got)
	}
	for i, e := range got {
		want := storage.LicenceValid
		switch e.Index {
		case idx[3]:
			want = storage.LicenceSuspended
		case idx[5]:
			want = storage.LicenceRevoked
		}
		if e.Index != uint64(i) || e.Status != want {
			t.Errorf("entry %d: %+v, want index %d status %s", i, e, i, want)
		}
	}
}
