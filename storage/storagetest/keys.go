package storagetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tongban/tongban/storage"
)

func wantKey(k storage.KeyRecord) storage.KeyRecord {
	k.Sealed = storedBytes(k.Sealed)
	k.Public = storedBytes(k.Public)
	k.CreatedAt = stored(k.CreatedAt)
	k.NotBefore = stored(k.NotBefore)
	k.RetiredAt = storedPtr(k.RetiredAt)
	k.ExpiresAt = storedPtr(k.ExpiresAt)
	return k
}

func testKeys(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	old := storage.KeyRecord{ID: "sm2-old", Purpose: storage.PurposeIDToken, Algorithm: "SGD_SM3_SM2",
		Sealed: []byte("wrapped old"), Public: []byte("pkix old"), CreatedAt: t0, NotBefore: t0,
		RetiredAt: ptr(t0.Add(24 * time.Hour)), ExpiresAt: ptr(t0.Add(48 * time.Hour))}
	current := storage.KeyRecord{ID: "sm2-new", Purpose: storage.PurposeIDToken, Algorithm: "SGD_SM3_SM2",
		Sealed: []byte("wrapped new"), Public: []byte("pkix new"), CreatedAt: t0.Add(24 * time.Hour), NotBefore: t0.Add(time.Hour)}
	sameTime := storage.KeyRecord{ID: "rsa", Purpose: storage.PurposeIDToken, Algorithm: "RS256",
		Sealed: []byte("wrapped rsa"), Public: []byte("pkix rsa"), CreatedAt: t0.Add(24 * time.Hour), NotBefore: t0}
	data := storage.KeyRecord{ID: "field-1", Purpose: storage.PurposeData, Algorithm: "sm4-field",
		Sealed: []byte("wrapped data key"), Public: []byte{}, CreatedAt: pre1970, NotBefore: pre1970}

	t.Run("CreateKey", func(t *testing.T) {
		for _, tc := range []struct {
			name    string
			k       storage.KeyRecord
			wantErr error
		}{
			{"ok/retired key with both times", old, nil},
			{"ok/current key, nil times", current, nil},
			{"ok/same creation time", sameTime, nil},
			{"ok/data key, empty public", data, nil},
			{"fail/duplicate ID", storage.KeyRecord{ID: old.ID, Purpose: storage.PurposeQR}, storage.ErrConflict},
		} {
			t.Run(tc.name, func(t *testing.T) {
				checkErr(t, "CreateKey", s.CreateKey(ctx, tc.k), tc.wantErr)
			})
		}
	})

	t.Run("GetKey", func(t *testing.T) {
		for _, tc := range []struct {
			name    string
			id      string
			want    storage.KeyRecord
			wantErr error
		}{
			{"ok/with times", old.ID, old, nil},
			{"ok/nil times stay nil", current.ID, current, nil},
			{"ok/empty public is nil", data.ID, data, nil},
			{"fail/unknown", "nothing", storage.KeyRecord{}, storage.ErrNotFound},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, err := s.GetKey(ctx, tc.id)
				if checkErr(t, "GetKey", err, tc.wantErr) && tc.wantErr == nil {
					checkEqual(t, "key", got, wantKey(tc.want))
				}
			})
		}
	})

	t.Run("ListKeys", func(t *testing.T) {
		for _, tc := range []struct {
			name    string
			purpose storage.KeyPurpose
			want    []storage.KeyRecord
		}{
			// Newest first; equal creation times by ID descending.
			{"ok/newest first", storage.PurposeIDToken, []storage.KeyRecord{wantKey(current), wantKey(sameTime), wantKey(old)}},
			{"ok/only the purpose", storage.PurposeData, []storage.KeyRecord{wantKey(data)}},
			{"ok/no keys", storage.PurposeTrustList, []storage.KeyRecord{}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, err := s.ListKeys(ctx, tc.purpose)
				must(t, "ListKeys", err)
				if len(got) == 0 && len(tc.want) == 0 {
					return
				}
				checkEqual(t, "keys", got, tc.want)
			})
		}
	})

	t.Run("RetireKey", func(t *testing.T) {
		retired, expires := t0.Add(30*24*time.Hour), t0.Add(31*24*time.Hour)
		for _, tc := range []struct {
			name    string
			id      string
			wantErr error
		}{
			{"ok/current key", current.ID, nil},
			{"ok/again moves the times", current.ID, nil},
			{"fail/unknown", "nothing", storage.ErrNotFound},
		} {
			t.Run(tc.name, func(t *testing.T) {
				checkErr(t, "RetireKey", s.RetireKey(ctx, tc.id, retired, expires), tc.wantErr)
				retired, expires = retired.Add(time.Nanosecond*1500), expires.Add(time.Hour)
			})
		}
		got, err := s.GetKey(ctx, current.ID)
		must(t, "GetKey", err)
		want := current
		want.RetiredAt = ptr(t0.Add(30*24*time.Hour + 1500*time.Nanosecond))
		want.ExpiresAt = ptr(t0.Add(31*24*time.Hour + time.Hour))
		checkEqual(t, "retired key", got, wantKey(want))
	})

	t.Run("RewrapKey", func(t *testing.T) {
		for _, tc := range []struct {
			name    string
			id      string
			sealed  []byte
			wantErr error
		}{
			{"ok/signing key", old.ID, []byte("rewrapped old"), nil},
			{"ok/data key", data.ID, []byte("rewrapped data key"), nil},
			{"fail/unknown", "nothing", []byte("x"), storage.ErrNotFound},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if !checkErr(t, "RewrapKey", s.RewrapKey(ctx, tc.id, tc.sealed), tc.wantErr) || tc.wantErr != nil {
					return
				}
				got, err := s.GetKey(ctx, tc.id)
				must(t, "GetKey", err)
				want := old
				if tc.id == data.ID {
					want = data
				}
				want.Sealed = tc.sealed
				checkEqual(t, "rewrapped key (only Sealed changes)", got, wantKey(want))
			})
		}
		// Inside a transaction that fails, nothing changes.
		boom := errors.New("boom")
		err := s.InTx(ctx, func(ctx context.Context) error {
			must(t, "RewrapKey", s.RewrapKey(ctx, data.ID, []byte("never committed")))
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("InTx = %v, want boom", err)
		}
		got, err := s.GetKey(ctx, data.ID)
		must(t, "GetKey", err)
		if string(got.Sealed) != "rewrapped data key" {
			t.Fatalf("Sealed after a rolled-back rewrap = %q", got.Sealed)
		}
	})
}
