// Package health tells whether a service's database accepts writes, for its readiness
// endpoint, and reports the database's refusals to the log once per interval with a count
// instead of once per request.
//
// A Monitor writes a heartbeat (storage.Storage.Heartbeat) every Interval and reads how many
// operations the database refused with storage.ErrUnavailable (storage.Storage.Unavailable).
// The service is ready while the last heartbeat succeeded and no operation was refused since
// the one before it; so /readyz turns unready at most one Interval (plus the heartbeat's
// Timeout) after the database starts refusing writes — a full disk, a read-only file system,
// a lost connection — and ready again at the first tick at which writes succeed. A full disk
// may still take a small write (SQLite reuses space its write-ahead log already holds), which
// is why refusals seen by requests count as much as a failed heartbeat.
package health

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/tongban/tongban/storage"
)

// ErrNotReady is the error of Ready while the database refuses writes; it wraps the last
// refusal.
var ErrNotReady = errors.New("health: the database refuses writes")

// Defaults of Config.
const (
	DefaultInterval    = time.Second
	DefaultTimeout     = 2 * time.Second
	DefaultLogInterval = 30 * time.Second
)

// Config configures a Monitor. Zero values mean the defaults.
type Config struct {
	// Instance names this replica in the heartbeats table. "" means "default".
	Instance string
	// Interval is the time between two checks. Zero means DefaultInterval (1 s).
	Interval time.Duration
	// Timeout bounds one heartbeat write. Zero means DefaultTimeout (2 s).
	Timeout time.Duration
	// LogInterval is how often, while the database refuses writes, one line reports how many
	// operations it refused since the last line. Zero means DefaultLogInterval (30 s).
	LogInterval time.Duration
	// Now returns the current time. Nil means time.Now.
	Now func() time.Time
	// Logger receives the state changes and the periodic counts. Nil means slog.Default().
	Logger *slog.Logger
}

// Monitor watches one store. Its methods are safe for concurrent use.
type Monitor struct {
	store storage.Storage
	cfg   Config

	mu         sync.Mutex
	checked    bool      // a check has run
	down       error     // the cause while unready, nil while ready
	downSince  time.Time // when the current outage began
	seen       uint64    // storage.Unavailable count at the last check
	refused    uint64    // refusals since the last log line of this outage
	total      uint64    // refusals during the current outage
	lastLogged time.Time
}

// New returns a Monitor of store; call Run to start checking.
func New(store storage.Storage, cfg Config) *Monitor {
	if cfg.Instance == "" {
		cfg.Instance = "default"
	}
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.LogInterval <= 0 {
		cfg.LogInterval = DefaultLogInterval
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	m := &Monitor{store: store, cfg: cfg}
	m.seen, _ = store.Unavailable()
	return m
}

// Run checks every Interval until ctx ends. It checks once at once.
func (m *Monitor) Run(ctx context.Context) {
	t := time.NewTicker(m.cfg.Interval)
	defer t.Stop()
	for {
		m.Check(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Check runs one check now: a heartbeat write, then the count of refusals since the last
// check. It returns what Ready returns afterwards.
func (m *Monitor) Check(ctx context.Context) error {
	hctx, cancel := context.WithTimeout(ctx, m.cfg.Timeout)
	herr := m.store.Heartbeat(hctx, m.cfg.Instance, m.cfg.Now())
	cancel()
	if ctx.Err() != nil { // shutting down: not the database's fault
		m.mu.Lock()
		checked, down := m.checked, m.down
		m.mu.Unlock()
		switch {
		case !checked: // not Ready, which would run this check again, and again
			return errors.Join(ErrNotReady, ctx.Err())
		case down != nil:
			return errors.Join(ErrNotReady, down)
		}
		return nil
	}
	count, last := m.store.Unavailable()

	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.cfg.Now()
	m.checked = true
	refused := count - m.seen
	m.seen = count
	var cause error
	switch {
	case herr != nil:
		cause = herr
	case refused > 0:
		cause = last
	}
	log := m.cfg.Logger
	switch {
	case cause != nil && m.down == nil:
		m.down, m.downSince, m.refused, m.total, m.lastLogged = cause, now, refused, refused, now
		log.Error("database refuses writes: not ready", "err", cause.Error(), "refused", refused)
	case cause != nil:
		m.down = cause
		m.refused += refused
		m.total += refused
		if now.Sub(m.lastLogged) >= m.cfg.LogInterval {
			log.Error("database still refuses writes: not ready", "err", cause.Error(),
				"refused", m.refused, "interval", now.Sub(m.lastLogged).Round(time.Second).String(),
				"down_for", now.Sub(m.downSince).Round(time.Second).String())
			m.refused, m.lastLogged = 0, now
		}
	case m.down != nil:
		log.Info("database accepts writes again: ready", "refused", m.total,
			"down_for", now.Sub(m.downSince).Round(time.Second).String())
		m.down = nil
	}
	if m.down != nil {
		return errors.Join(ErrNotReady, m.down)
	}
	return nil
}

// Ready returns nil while the database accepts writes, or an error wrapping ErrNotReady and
// the last refusal. Before the first check it runs one. Its signature fits a readiness
// endpoint (cmd/internal/app.OpsHandler).
func (m *Monitor) Ready(ctx context.Context) error {
	m.mu.Lock()
	checked, down := m.checked, m.down
	m.mu.Unlock()
	if !checked {
		return m.Check(ctx)
	}
	if down != nil {
		return errors.Join(ErrNotReady, down)
	}
	return nil
}

// LogFailure logs a failed storage operation that a request answers or survives: at ERROR,
// or — when err wraps storage.ErrUnavailable — at debug with "unavailable": true, since the
// store counts such refusals and a Monitor reports them once per interval rather than once per
// request. args are further attributes; err is added as "err". err must carry no personal data
// (storage errors do not).
func LogFailure(ctx context.Context, log *slog.Logger, msg string, err error, args ...any) {
	if errors.Is(err, storage.ErrUnavailable) {
		log.DebugContext(ctx, msg, append(args, "err", err, "unavailable", true)...)
		return
	}
	log.ErrorContext(ctx, msg, append(args, "err", err)...)
}
