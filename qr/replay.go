package qr

import (
	"sync"
	"time"
)

// ReplayCache remembers the cti of accepted codes (DESIGN §5: "cti not seen
// before"). Online verifiers back it with storage so it holds across
// replicas (DESIGN §6); offline ones use MemoryReplayCache.
type ReplayCache interface {
	// Seen atomically records cti as used until the given time and reports
	// whether it was already recorded and not yet forgotten. An error means
	// the cache could not decide; Verify then fails with that error.
	// Implementations must be safe for concurrent use and may forget a cti
	// once until has passed.
	Seen(cti [CTISize]byte, until time.Time) (bool, error)
}

// MemoryReplayCache is an in-process ReplayCache. Entries are dropped after
// their until time, so memory is bounded by the codes accepted in one
// validity window plus skew. The zero value is ready to use; it is safe for
// concurrent use.
type MemoryReplayCache struct {
	// Now is the clock used to forget entries; nil means time.Now.
	Now func() time.Time

	mu      sync.Mutex
	entries map[[CTISize]byte]time.Time
	pruneAt int
}

// Seen implements ReplayCache. It never returns an error.
func (c *MemoryReplayCache) Seen(cti [CTISize]byte, until time.Time) (bool, error) {
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	t := now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = make(map[[CTISize]byte]time.Time)
	}
	if u, ok := c.entries[cti]; ok && !t.After(u) {
		return true, nil
	}
	if len(c.entries) >= c.pruneAt {
		for k, u := range c.entries {
			if t.After(u) {
				delete(c.entries, k)
			}
		}
		c.pruneAt = max(1024, 2*len(c.entries))
	}
	c.entries[cti] = until
	return false, nil
}

// Len returns the number of remembered cti values (expired ones included
// until the next prune).
func (c *MemoryReplayCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}
