package app

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/spf13/pflag"

	"github.com/tongban/tongban/audit"
	"github.com/tongban/tongban/storage"
)

// Defaults of AuditConfig.
const (
	DefaultAuditCheckpointInterval = 5 * time.Minute
	DefaultAuditSinkInterval       = time.Second
)

// AuditConfig configures the audit chain's checkpoints and external copy in `idp serve` and
// `wallet serve` (package audit, docs/operators/audit.md).
type AuditConfig struct {
	// CheckpointInterval is how often the chain's head is signed while it grows
	// (--audit-checkpoint-interval); a last checkpoint is always signed on shutdown. 0 signs
	// only on shutdown. Default DefaultAuditCheckpointInterval.
	CheckpointInterval time.Duration
	// Sink names where committed entries are copied (--audit-sink): "file:DIR" (a JSON Lines
	// file per day in DIR, one replica per directory), "syslog" (the local daemon, authpriv),
	// or "" for none.
	Sink string
}

// AddFlags registers the audit settings on fs, configurable.
func (a *AuditConfig) AddFlags(fs *pflag.FlagSet) {
	fs.DurationVar(&a.CheckpointInterval, "audit-checkpoint-interval", DefaultAuditCheckpointInterval,
		"how often the audit chain's head is signed while it grows (0 = only on shutdown)")
	fs.StringVar(&a.Sink, "audit-sink", "", "copy audit entries as they commit to file:DIR (a JSON Lines file per day) or syslog; empty = none")
	Configurable(fs, "audit-checkpoint-interval", "audit-sink")
}

// Validate records problems with the settings.
func (a *AuditConfig) Validate(p *Problems) {
	if a.CheckpointInterval != 0 && a.CheckpointInterval < time.Second {
		p.Addf("audit-checkpoint-interval: must be 0 (only on shutdown) or at least 1s, got %s", a.CheckpointInterval)
	}
	if a.Sink != "" && a.Sink != "syslog" && (!strings.HasPrefix(a.Sink, "file:") || len(a.Sink) == len("file:")) {
		p.Addf("audit-sink: must be file:DIR or syslog, got %q", a.Sink)
	}
}

// OpenAuditSink opens the sink named by spec (see AuditConfig.Sink); nil for "".
func OpenAuditSink(spec string) (audit.Sink, error) {
	switch {
	case spec == "":
		return nil, nil
	case spec == "syslog":
		return audit.OpenSyslogSink()
	case strings.HasPrefix(spec, "file:"):
		return audit.OpenFileSink(strings.TrimPrefix(spec, "file:"))
	}
	return nil, Usagef("audit-sink: must be file:DIR or syslog, got %q", spec)
}

// StartAudit creates the audit signing key when missing and runs, in the background, the
// checkpointer (every cfg.CheckpointInterval) and the sink follower. stop, to be called after
// the HTTP server has shut down and before the backend closes, copies the last entries, signs
// the shutdown checkpoint and waits for both. Errors: the key cannot be created, the sink
// cannot be opened.
func StartAudit(ctx context.Context, cfg AuditConfig, b *Backend, log *slog.Logger) (stop func(), err error) {
	if _, _, err := b.Keyring.AuditKey(ctx); err != nil {
		return nil, fmt.Errorf("create audit key: %w", err)
	}
	sink, err := OpenAuditSink(cfg.Sink)
	if err != nil {
		return nil, err
	}
	var follower *audit.Follower
	if sink != nil {
		follower = &audit.Follower{Store: b.Store, Sink: sink}
		if cfg.Sink == "syslog" {
			// syslog cannot be read back: start at the head rather than send the whole
			// chain again on every start.
			head, err := b.Store.QueryAudit(ctx, storage.AuditQuery{Descending: true, Limit: 1})
			if err != nil {
				sink.Close()
				return nil, fmt.Errorf("read audit chain head: %w", err)
			}
			if len(head) == 1 {
				follower.From = head[0].Pos
			}
		}
	}
	cp := &audit.Checkpointer{Store: b.Store, Key: b.Keyring.AuditKey}
	// Not ctx: the last copy and the shutdown checkpoint come after the server has drained
	// the requests in flight, which is after ctx ends.
	actx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Go(func() { cp.Run(actx, cfg.CheckpointInterval, log) })
	if follower != nil {
		wg.Go(func() {
			follower.Run(actx, DefaultAuditSinkInterval, log)
			if err := sink.Close(); err != nil {
				log.Error("audit sink close failed", "err", err)
			}
		})
	}
	return func() { cancel(); wg.Wait() }, nil
}
