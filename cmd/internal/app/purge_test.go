package app

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a strings.Builder safe for concurrent writers.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// TestStartPurge: the loop runs purge on every tick, goes on after a failure, logs counts,
// and neither runs nor is running once stop (or the end of its context) returns.
func TestStartPurge(t *testing.T) {
	for _, how := range []string{"stop", "cancel"} {
		t.Run("ok/"+how, func(t *testing.T) {
			var logs lockedBuffer
			log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			var mu sync.Mutex
			calls, running := 0, false
			ticks := make(chan int, 100)
			purge := func(ctx context.Context) (map[string]int64, error) {
				mu.Lock()
				calls++
				n := calls
				running = true
				mu.Unlock()
				defer func() { mu.Lock(); running = false; mu.Unlock() }()
				ticks <- n
				switch n {
				case 1:
					return map[string]int64{"tokens": 2, "login_sessions": 1}, nil
				case 2:
					return map[string]int64{"tokens": 0}, errors.New("database is gone")
				}
				return map[string]int64{"tokens": 0}, nil
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			stop := StartPurge(ctx, 5*time.Millisecond, purge, log)
			defer stop()
			deadline := time.After(10 * time.Second)
			for n := 0; n < 4; {
				select {
				case n = <-ticks:
				case <-deadline:
					t.Fatalf("purge ran %d times in 10s, want 4", n)
				}
			}
			if how == "stop" {
				stop()
			} else {
				cancel()
				stop() // returns once the loop has: ctx ended it
			}
			mu.Lock()
			after, busy := calls, running
			mu.Unlock()
			if busy {
				t.Error("purge still running after stop returned")
			}
			time.Sleep(30 * time.Millisecond)
			mu.Lock()
			if calls != after {
				t.Errorf("purge ran %d more times after stop", calls-after)
			}
			mu.Unlock()
			stop() // again: harmless

			out := logs.String()
			for _, want := range []string{
				`"level":"INFO","msg":"purge","login_sessions":1,"tokens":2`,
				`"level":"WARN","msg":"purge failed","tokens":0`, `"err":"database is gone"`,
				`"level":"DEBUG","msg":"purge","tokens":0`,
			} {
				if !strings.Contains(out, want) {
					t.Errorf("logs lack %s:\n%s", want, out)
				}
			}
		})
	}
}

// TestStartPurgeOff: interval 0 runs nothing.
func TestStartPurgeOff(t *testing.T) {
	ran := make(chan struct{}, 1)
	stop := StartPurge(context.Background(), 0, func(context.Context) (map[string]int64, error) {
		ran <- struct{}{}
		return nil, nil
	}, slog.New(slog.DiscardHandler))
	select {
	case <-ran:
		t.Error("purge ran with interval 0")
	case <-time.After(30 * time.Millisecond):
	}
	stop()
}

// TestStartPurgeStopWhileRunning: stop cancels a run in progress and waits for it; the
// cancellation is not logged as a failure.
func TestStartPurgeStopWhileRunning(t *testing.T) {
	var logs lockedBuffer
	started := make(chan struct{})
	returned := false
	stop := StartPurge(context.Background(), time.Millisecond, func(ctx context.Context) (map[string]int64, error) {
		close(started)
		<-ctx.Done()
		returned = true
		return nil, ctx.Err()
	}, slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	<-started
	stop()
	if !returned {
		t.Error("stop returned before the running purge did")
	}
	if out := logs.String(); out != "" {
		t.Errorf("logged on shutdown: %s", out)
	}
}

func TestValidatePurgeInterval(t *testing.T) {
	for d, ok := range map[time.Duration]bool{0: true, time.Second: true, DefaultPurgeInterval: true,
		time.Millisecond: false, -time.Minute: false} {
		var p Problems
		ValidatePurgeInterval(&p, d)
		if (p.Err() == nil) != ok {
			t.Errorf("ValidatePurgeInterval(%s) = %v, want ok %v", d, p.Err(), ok)
		}
	}
}
