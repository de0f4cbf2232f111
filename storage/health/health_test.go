package health_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tongban/tongban/storage"
	"github.com/tongban/tongban/storage/health"
	"github.com/tongban/tongban/storage/sqlite"
	"github.com/tongban/tongban/storage/storagetest"
)

// clock is a manual clock.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

// logLines returns the messages logged so far, one per line.
func logLines(buf *bytes.Buffer) []string {
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}

// TestHeartbeatFailure: a heartbeat that fails makes the monitor unready at once, logs once,
// then one line per LogInterval however many checks fail, and ready again with one line.
func TestHeartbeatFailure(t *testing.T) {
	f := &storagetest.Faults{}
	s := storagetest.SQLiteWithFaults(t, f)
	clk := &clock{time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)}
	var buf bytes.Buffer
	m := health.New(s, health.Config{Now: clk.now, LogInterval: 30 * time.Second,
		Logger: slog.New(slog.NewTextHandler(&buf, nil))})
	ctx := t.Context()

	if err := m.Ready(ctx); err != nil {
		t.Fatalf("ready before any fault: %v", err)
	}
	for i := range 65 { // 65 checks one second apart, each heartbeat failing
		f.Arm(1)
		if err := m.Check(ctx); !errors.Is(err, health.ErrNotReady) || !errors.Is(err, storagetest.ErrInjected) {
			t.Fatalf("check %d: %v, want ErrNotReady wrapping the heartbeat's error", i, err)
		}
		clk.advance(time.Second)
	}
	if err := m.Ready(ctx); !errors.Is(err, health.ErrNotReady) {
		t.Errorf("Ready while the heartbeat fails: %v", err)
	}
	lines := logLines(&buf)
	if len(lines) != 3 || !strings.Contains(lines[0], "database refuses writes") ||
		!strings.Contains(lines[1], "still refuses") || !strings.Contains(lines[2], "still refuses") {
		t.Fatalf("65 failed checks over 65 s logged %d lines, want 3 (the change, then one per 30 s):\n%s", len(lines), buf.String())
	}
	f.Arm(0)
	if err := m.Check(ctx); err != nil {
		t.Errorf("check after the fault: %v", err)
	}
	if lines := logLines(&buf); len(lines) != 4 || !strings.Contains(lines[3], "accepts writes again") {
		t.Errorf("recovery not logged once:\n%s", buf.String())
	}
}

// TestDiskFull fills a real file system under an SQLite database: the refusals seen by
// requests make the monitor unready even when the small heartbeat write still fits, the log
// counts them instead of repeating them, and freeing space makes it ready again.
func TestDiskFull(t *testing.T) {
	dir := storagetest.SmallFilesystem(t, 4<<20)
	ctx := t.Context()
	s, err := sqlite.Open(ctx, filepath.Join(dir, "tongban.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	clk := &clock{time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)}
	var buf bytes.Buffer
	m := health.New(s, health.Config{Now: clk.now, Logger: slog.New(slog.NewTextHandler(&buf, nil))})
	if err := s.CreateClient(ctx, storage.Client{ID: "c"}); err != nil {
		t.Fatal(err)
	}
	if err := m.Check(ctx); err != nil {
		t.Fatalf("before the disk is full: %v", err)
	}
	filler := storagetest.FillFilesystem(t, dir)
	refused := 0
	for i := range 2000 {
		err := s.CreateToken(ctx, storage.TokenRecord{Kind: storage.KindAccessToken, Signature: fmt.Sprint(i), RequestID: "r",
			ClientID: "c", Active: true, ExpiresAt: clk.now(), Data: make([]byte, 2048)})
		if errors.Is(err, storage.ErrUnavailable) {
			refused++
		} else if err != nil {
			t.Fatalf("write %d: %v, want nil or storage.ErrUnavailable", i, err)
		}
	}
	if refused == 0 {
		t.Fatal("no write was refused on a full disk")
	}
	if err := m.Check(ctx); !errors.Is(err, health.ErrNotReady) || !errors.Is(err, storage.ErrUnavailable) {
		t.Fatalf("check on a full disk: %v, want ErrNotReady wrapping storage.ErrUnavailable", err)
	}
	if n := len(logLines(&buf)); n != 1 {
		t.Errorf("%d refused writes logged %d lines, want 1:\n%s", refused, n, buf.String())
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	clk.advance(time.Second)
	if err := m.Check(ctx); err != nil {
		t.Errorf("check after space was freed: %v", err)
	}
}

// TestReadyRunsFirstCheck: Ready before Run has checked runs a check itself.
func TestReadyRunsFirstCheck(t *testing.T) {
	f := &storagetest.Faults{}
	s := storagetest.SQLiteWithFaults(t, f)
	m := health.New(s, health.Config{Logger: slog.New(slog.DiscardHandler)})
	f.Arm(1)
	if err := m.Ready(context.Background()); !errors.Is(err, health.ErrNotReady) {
		t.Errorf("Ready with a failing first heartbeat: %v", err)
	}
}

// TestCheckCancelledBeforeFirstCheck: a server stopped before its first check (a SIGTERM right
// after start) gets an answer, not an endless Check → Ready → Check recursion.
func TestCheckCancelledBeforeFirstCheck(t *testing.T) {
	m := health.New(storagetest.SQLite(t), health.Config{Logger: slog.New(slog.DiscardHandler)})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := m.Check(ctx); !errors.Is(err, health.ErrNotReady) || !errors.Is(err, context.Canceled) {
		t.Errorf("Check with a cancelled context before any check: %v", err)
	}
	if err := m.Ready(ctx); !errors.Is(err, health.ErrNotReady) {
		t.Errorf("Ready with a cancelled context before any check: %v", err)
	}
}
