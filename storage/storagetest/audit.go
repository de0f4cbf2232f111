package storagetest

import (
	"bytes"
	"testing"
	"time"

	"github.com/tongban/tongban/audit"
	"github.com/tongban/tongban/storage"
)

// checkChain reads the whole audit chain and checks it holds n entries at positions 1 … n,
// each hash linking to the one before and seq rising with the position.
func checkChain(t *testing.T, s storage.Storage, n int) {
	t.Helper()
	chain, err := s.AuditChain(t.Context(), 0, n+10)
	must(t, "AuditChain", err)
	if len(chain) != n {
		t.Fatalf("AuditChain: %d entries, want %d", len(chain), n)
	}
	prev := audit.Genesis
	for i, e := range chain {
		if e.Pos != int64(i+1) {
			t.Errorf("entry %d: Pos %d, want %d", i, e.Pos, i+1)
		}
		if i > 0 && e.Seq <= chain[i-1].Seq {
			t.Errorf("entry %d: Seq %d after %d: the chain's order is not the database's", i, e.Seq, chain[i-1].Seq)
		}
		if want := audit.Link(prev, e); !bytes.Equal(e.Hash, want) {
			t.Errorf("entry %d: Hash %x, want %x", i, e.Hash, want)
		}
		prev = e.Hash
	}
	unchained, err := s.UnchainedAudit(t.Context(), 10)
	must(t, "UnchainedAudit", err)
	if len(unchained) != 0 {
		t.Errorf("UnchainedAudit = %v, want none", unchained)
	}
}

// testAuditChain runs after testAudit appended want (Pos 1 … len(want)).
func testAuditChain(t *testing.T, s storage.Storage, want []storage.AuditEvent) {
	ctx := t.Context()
	t.Run("AuditChain/ok/whole chain links", func(t *testing.T) { checkChain(t, s, len(want)) })
	for _, tc := range []struct {
		name     string
		afterPos int64
		limit    int
		want     []storage.AuditEvent
	}{
		{"ok/all", 0, 100, want},
		{"ok/page", 1, 2, want[1:3]},
		{"ok/after the last", int64(len(want)), 10, nil},
		{"ok/zero limit", 0, 0, nil},
	} {
		t.Run("AuditChain/"+tc.name, func(t *testing.T) {
			got, err := s.AuditChain(ctx, tc.afterPos, tc.limit)
			must(t, "AuditChain", err)
			if len(got) == 0 && len(tc.want) == 0 {
				return
			}
			checkEqual(t, "audit chain", got, tc.want)
		})
	}
	pick := func(i ...int) []storage.AuditEvent {
		var out []storage.AuditEvent
		for _, j := range i {
			out = append(out, want[j])
		}
		return out
	}
	for _, tc := range []struct {
		name string
		q    storage.AuditQuery
		want []storage.AuditEvent
	}{
		{"ok/all", storage.AuditQuery{Limit: 100}, want},
		{"ok/no limit is nothing", storage.AuditQuery{}, nil},
		{"ok/action", storage.AuditQuery{Action: "token.issue", Limit: 100}, pick(1)},
		{"ok/action prefix", storage.AuditQuery{Action: "licence.", Limit: 100}, pick(3, 4)},
		{"ok/action prefix is not a pattern", storage.AuditQuery{Action: "lic%.", Limit: 100}, nil},
		{"ok/actor", storage.AuditQuery{Actor: "operator", Limit: 100}, pick(2, 4)},
		{"ok/client", storage.AuditQuery{ClientID: "client", Limit: 100}, pick(0, 1)},
		{"ok/person as actor or subject", storage.AuditQuery{Person: "lic-1", Limit: 100}, pick(3, 4)},
		{"ok/since", storage.AuditQuery{Since: t0, Limit: 100}, pick(0, 1, 3)},
		{"ok/until", storage.AuditQuery{Until: t0, Limit: 100}, pick(2, 4)},
		{"ok/since and until", storage.AuditQuery{Since: t0, Until: t0.Add(time.Second), Limit: 100}, pick(0, 1)},
		{"ok/after position", storage.AuditQuery{AfterPos: 3, Limit: 100}, pick(3, 4)},
		{"ok/newest first", storage.AuditQuery{Descending: true, Limit: 2}, pick(4, 3)},
		{"ok/newest first before position", storage.AuditQuery{Descending: true, AfterPos: 3, Limit: 100}, pick(1, 0)},
		{"ok/filters combine", storage.AuditQuery{Actor: "person-1", Action: "login.", Limit: 100}, pick(0)},
		{"ok/nothing matches", storage.AuditQuery{Actor: "nobody", Limit: 100}, nil},
	} {
		t.Run("QueryAudit/"+tc.name, func(t *testing.T) {
			got, err := s.QueryAudit(ctx, tc.q)
			must(t, "QueryAudit", err)
			if len(got) == 0 && len(tc.want) == 0 {
				return
			}
			checkEqual(t, "audit query", got, tc.want)
		})
	}
	t.Run("AuditCheckpoints/ok/stored in position order", func(t *testing.T) {
		got, err := s.AuditCheckpoints(ctx)
		must(t, "AuditCheckpoints", err)
		if len(got) != 0 {
			t.Fatalf("AuditCheckpoints = %d before any was added", len(got))
		}
		cps := []storage.AuditCheckpoint{
			{Pos: 4, Hash: want[3].Hash, Time: t0, Replica: "host-a/12", KeyID: "k1", Signature: bytes.Repeat([]byte{1}, 64)},
			{Pos: 2, Hash: want[1].Hash, Time: t0.Add(time.Minute), Replica: "host-b/7", KeyID: "k1", Signature: bytes.Repeat([]byte{2}, 64)},
			{Pos: 4, Hash: want[3].Hash, Time: pre1970, Replica: "host-b/7", KeyID: "k2", Signature: bytes.Repeat([]byte{3}, 64)},
		}
		for _, c := range cps {
			must(t, "AddAuditCheckpoint", s.AddAuditCheckpoint(ctx, c))
		}
		got, err = s.AuditCheckpoints(ctx)
		must(t, "AuditCheckpoints", err)
		for i := range cps {
			cps[i].Time = stored(cps[i].Time)
		}
		checkEqual(t, "audit checkpoints", got, []storage.AuditCheckpoint{cps[1], cps[2], cps[0]})
	})
}
