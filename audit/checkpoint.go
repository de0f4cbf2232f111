package audit

import (
	"context"
	"crypto/ecdsa"
	"encoding/binary"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/emmansun/gmsm/sm2"

	"github.com/tongban/tongban/sm-crypto"
	"github.com/tongban/tongban/storage"
)

// checkpointDomain starts every checkpoint's signed message.
const checkpointDomain = "tongban-audit-checkpoint-v1"

// CheckpointMessage returns the bytes a checkpoint's SM2 signature covers
// (docs/formats/audit-chain.md):
//
//	"tongban-audit-checkpoint-v1" ‖ Pos (8 bytes, big-endian) ‖ Hash (32 bytes) ‖ Time in Unix
//	microseconds (8 bytes, big-endian) ‖ for Replica and KeyID: length (4 bytes, big-endian) ‖
//	the UTF-8 bytes
func CheckpointMessage(c storage.AuditCheckpoint) []byte {
	b := make([]byte, 0, len(checkpointDomain)+8+len(c.Hash)+8+8+len(c.Replica)+len(c.KeyID))
	b = append(b, checkpointDomain...)
	b = binary.BigEndian.AppendUint64(b, uint64(c.Pos))
	b = append(b, c.Hash...)
	b = binary.BigEndian.AppendUint64(b, uint64(c.Time.UnixMicro()))
	for _, f := range [...]string{c.Replica, c.KeyID} {
		b = binary.BigEndian.AppendUint32(b, uint32(len(f)))
		b = append(b, f...)
	}
	return b
}

// SignCheckpoint fills c.KeyID and c.Signature: an SM2 signature (GB/T 32918.2, SM3, default
// user ID, raw r ‖ s, 64 bytes) of CheckpointMessage(c) by key.
func SignCheckpoint(c *storage.AuditCheckpoint, keyID string, key *sm2.PrivateKey) error {
	c.KeyID = keyID
	sig, err := smcrypto.Sign(nil, key, CheckpointMessage(*c))
	if err != nil {
		return fmt.Errorf("audit: sign checkpoint: %w", err)
	}
	c.Signature = sig
	return nil
}

// VerifyCheckpoint checks c's signature with pub. It returns an error wrapping
// smcrypto.ErrInvalidSignature, ErrSignatureLength or ErrSignatureRange when it does not verify.
func VerifyCheckpoint(c storage.AuditCheckpoint, pub *ecdsa.PublicKey) error {
	return smcrypto.Verify(pub, CheckpointMessage(c), c.Signature)
}

// CheckpointKey returns the key that signs checkpoints now: its keyring ID and SM2 private key.
type CheckpointKey func(ctx context.Context) (keyID string, key *sm2.PrivateKey, err error)

// Checkpointer writes signed checkpoints of the chain's head. It is safe for concurrent use.
type Checkpointer struct {
	Store   storage.Audit
	Key     CheckpointKey
	Replica string           // who signs: Replica() when empty
	Now     func() time.Time // time.Now when nil

	mu      sync.Mutex
	lastPos int64 // the position this checkpointer signed last
}

// Replica names this process in checkpoints: "host/pid".
func Replica() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown-host"
	}
	return fmt.Sprintf("%s/%d", host, os.Getpid())
}

// Checkpoint signs and stores a checkpoint of the chain's head, unless the chain is empty or
// this Checkpointer signed that position already; it reports whether it wrote one. Errors: the
// store's, or the key's.
func (c *Checkpointer) Checkpoint(ctx context.Context) (storage.AuditCheckpoint, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	head, err := c.Store.QueryAudit(ctx, storage.AuditQuery{Descending: true, Limit: 1})
	if err != nil {
		return storage.AuditCheckpoint{}, false, err
	}
	if len(head) == 0 || head[0].Pos == c.lastPos {
		return storage.AuditCheckpoint{}, false, nil
	}
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	replica := c.Replica
	if replica == "" {
		replica = Replica()
	}
	cp := storage.AuditCheckpoint{
		Pos: head[0].Pos, Hash: head[0].Hash, Time: now().UTC().Truncate(time.Microsecond), Replica: replica,
	}
	id, key, err := c.Key(ctx)
	if err != nil {
		return storage.AuditCheckpoint{}, false, fmt.Errorf("audit: checkpoint key: %w", err)
	}
	if err := SignCheckpoint(&cp, id, key); err != nil {
		return storage.AuditCheckpoint{}, false, err
	}
	if err := c.Store.AddAuditCheckpoint(ctx, cp); err != nil {
		return storage.AuditCheckpoint{}, false, err
	}
	c.lastPos = cp.Pos
	return cp, true, nil
}

// Run writes a checkpoint every interval while the chain grows (interval <= 0: none), until
// ctx ends, and then one last time (the shutdown checkpoint, with up to 10 s of its own).
// Failures are logged and the next interval tries again.
func (c *Checkpointer) Run(ctx context.Context, interval time.Duration, log *slog.Logger) {
	runEvery(ctx, interval, func(ctx context.Context, final bool) {
		why := "interval"
		if final {
			why = "shutdown"
		}
		c.logged(ctx, log, why)
	})
}

// runEvery calls fn every interval (never when interval <= 0) until ctx ends, then once more
// with final set and a context of its own that ends 10 s later.
func runEvery(ctx context.Context, interval time.Duration, fn func(ctx context.Context, final bool)) {
	var tick <-chan time.Time
	if interval > 0 {
		t := time.NewTicker(interval)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			fn(fctx, true)
			return
		case <-tick:
			fn(ctx, false)
		}
	}
}

func (c *Checkpointer) logged(ctx context.Context, log *slog.Logger, why string) {
	cp, wrote, err := c.Checkpoint(ctx)
	switch {
	case err != nil:
		log.ErrorContext(ctx, "audit checkpoint failed", "why", why, "err", err)
	case wrote:
		log.InfoContext(ctx, "audit checkpoint", "why", why, "pos", cp.Pos, "key_id", cp.KeyID)
	}
}
