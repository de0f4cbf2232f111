package sqlite_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tongban/tongban/storage"
	"github.com/tongban/tongban/storage/sqlite"
	"github.com/tongban/tongban/storage/storagetest"
)

// TestDiskFull fills a real (tmpfs) file system under the database: writes fail with
// storage.ErrUnavailable rather than an unclassified error, reads still work, and once space
// is freed writes succeed again on the same Store.
func TestDiskFull(t *testing.T) {
	dir := storagetest.SmallFilesystem(t, 4<<20)
	ctx := t.Context()
	s, err := sqlite.Open(ctx, filepath.Join(dir, "tongban.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	if err := s.CreateClient(ctx, storage.Client{ID: "c", Name: "c", GrantTypes: []string{"client_credentials"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Heartbeat(ctx, "test", now); err != nil {
		t.Fatalf("heartbeat before the disk is full: %v", err)
	}
	filler := storagetest.FillFilesystem(t, dir)

	// Write until the WAL can no longer grow: the first writes may still fit in pages the
	// file system had already given the WAL.
	var werr error
	for i := 0; i < 10000 && werr == nil; i++ {
		werr = s.CreateToken(ctx, storage.TokenRecord{Kind: storage.KindAccessToken, Signature: string(rune('a'+i%26)) + time.Duration(i).String(),
			RequestID: "r", ClientID: "c", Active: true, RequestedAt: now, ExpiresAt: now.Add(time.Hour), Data: make([]byte, 2048)})
	}
	if !errors.Is(werr, storage.ErrUnavailable) {
		t.Fatalf("write on a full disk: %v, want storage.ErrUnavailable", werr)
	}
	if n, last := s.Unavailable(); n == 0 || !errors.Is(last, storage.ErrUnavailable) {
		t.Errorf("Unavailable() = %d, %v; want the refusal counted", n, last)
	}
	if _, err := s.GetClient(ctx, "c"); err != nil {
		t.Errorf("read on a full disk: %v", err)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if err := s.Heartbeat(ctx, "test", now); err != nil {
		t.Errorf("heartbeat after space was freed: %v", err)
	}
	if err := s.CreateToken(ctx, storage.TokenRecord{Kind: storage.KindAccessToken, Signature: "after", RequestID: "r", ClientID: "c",
		Active: true, RequestedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Errorf("write after space was freed: %v", err)
	}
}
