package app

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/spf13/pflag"
)

// DefaultPurgeInterval is the default of --purge-interval.
const DefaultPurgeInterval = 10 * time.Minute

// purgeFirstDelay bounds the wait before the first purge after start: the first run comes
// after min(interval, purgeFirstDelay), so a service that restarts often still purges.
const purgeFirstDelay = 10 * time.Second

// minPurgeTimeout is the least time one purge run may take before it is cancelled; a run may
// otherwise take up to one interval.
const minPurgeTimeout = time.Minute

// AddPurgeFlag registers --purge-interval (configurable: TONGBAN_PURGE_INTERVAL, config key
// purge-interval) on fs; what names the records purged, for the help text.
func AddPurgeFlag(fs *pflag.FlagSet, interval *time.Duration, what string) {
	fs.DurationVar(interval, "purge-interval", DefaultPurgeInterval,
		"how often expired "+what+" are deleted from storage (0 = never)")
	Configurable(fs, "purge-interval")
}

// ValidatePurgeInterval records a problem unless d is 0 (off) or at least one second.
func ValidatePurgeInterval(p *Problems, d time.Duration) {
	if d != 0 && d < time.Second {
		p.Addf("purge-interval: must be 0 (off) or at least 1s, got %s", d)
	}
}

// PurgeFunc deletes expired records and returns how many of each kind went (for the log:
// names and counts only, never keys or personal data). On error the counts are what was
// deleted before it.
type PurgeFunc func(ctx context.Context) (map[string]int64, error)

// StartPurge runs purge in the background: first after min(interval, 10s), then every
// interval, until ctx ends or stop is called. stop cancels a run in progress and waits for the
// loop to return, so call it before closing the storage purge uses; it may be called more than
// once. interval <= 0 starts nothing.
//
// Each run logs its counts ("purge", at info when anything was deleted, else at debug); a
// failed run is logged at warn and the loop carries on. Purges delete by expiry only, so they
// are idempotent: several replicas, or several services on one database, may all run them.
func StartPurge(ctx context.Context, interval time.Duration, purge PurgeFunc, log *slog.Logger) (stop func()) {
	if interval <= 0 {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		timer := time.NewTimer(min(interval, purgeFirstDelay))
		defer timer.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-timer.C:
			}
			runPurge(ctx, max(interval, minPurgeTimeout), purge, log)
			timer.Reset(interval)
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			cancel()
			<-done
		})
	}
}

// runPurge runs purge once with a timeout and logs the outcome.
func runPurge(ctx context.Context, timeout time.Duration, purge PurgeFunc, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	counts, err := purge(ctx)
	attrs := make([]slog.Attr, 0, len(counts)+2)
	var total int64
	for _, k := range slices.Sorted(maps.Keys(counts)) {
		attrs = append(attrs, slog.Int64(k, counts[k]))
		total += counts[k]
	}
	attrs = append(attrs, slog.Duration("duration", time.Since(start)))
	switch {
	case err != nil:
		if errors.Is(ctx.Err(), context.Canceled) {
			return // shutting down
		}
		log.LogAttrs(ctx, slog.LevelWarn, "purge failed", append(attrs, slog.String("err", err.Error()))...)
	case total > 0:
		log.LogAttrs(ctx, slog.LevelInfo, "purge", attrs...)
	default:
		log.LogAttrs(ctx, slog.LevelDebug, "purge", attrs...)
	}
}
