package audit

import (
	"bytes"
	"cmp"
	"context"
	"crypto/ecdsa"
	"fmt"
	"iter"
	"slices"
	"time"

	"github.com/tongban/tongban/storage"
)

// ProblemKind names what is wrong with the audit log.
type ProblemKind string

const (
	// Edited: the entry's content or hash does not match the chain (changed after it was
	// written, or put in place of another).
	Edited ProblemKind = "edited"
	// Missing: positions are missing from the chain (entries deleted).
	Missing ProblemKind = "missing"
	// Reordered: the chain's order is not the order the database wrote the entries in.
	Reordered ProblemKind = "reordered"
	// Inserted: an entry that was not appended through tongban (it breaks the chain where it
	// stands, and the entries after it were renumbered to make room), or a row without a
	// chain position.
	Inserted ProblemKind = "inserted"
	// Truncated: a checkpoint or the sink holds positions beyond the end of the chain.
	Truncated ProblemKind = "truncated"
	// BadCheckpoint: a checkpoint's signature does not verify, or its key is unknown.
	BadCheckpoint ProblemKind = "bad-checkpoint"
	// Rewritten: the chain's hash at a checkpoint's position is not the one the checkpoint
	// signed (entries at or before it were changed and the chain recomputed).
	Rewritten ProblemKind = "rewritten"
	// SinkMismatch: the entry differs from its copy in the sink, or the sink holds an entry
	// the database lacks.
	SinkMismatch ProblemKind = "sink-mismatch"
)

// Problem is one thing Verify found wrong.
type Problem struct {
	Kind   ProblemKind `json:"kind"`
	Pos    int64       `json:"pos,omitempty"` // chain position (0: the entry has none)
	Seq    int64       `json:"seq,omitempty"` // database sequence number, when known
	Detail string      `json:"detail"`
}

func (p Problem) String() string {
	where := fmt.Sprintf("position %d", p.Pos)
	if p.Pos == 0 {
		where = "no position"
	}
	if p.Seq != 0 {
		where += fmt.Sprintf(" (seq %d)", p.Seq)
	}
	return fmt.Sprintf("%s: %s: %s", p.Kind, where, p.Detail)
}

// Report is what Verify found.
type Report struct {
	Entries     int64     `json:"entries"`               // chained entries read
	Head        int64     `json:"head"`                  // the last position read
	HeadHash    string    `json:"head_hash,omitempty"`   // its hash, hex
	Checkpoints int       `json:"checkpoints"`           // checkpoints read
	Signed      int64     `json:"signed_through"`        // the highest position a valid checkpoint covers
	SinkRecords int64     `json:"sink_records"`          // sink records compared
	Problems    []Problem `json:"problems"`              // in chain order, the first bad entry first; at most MaxProblems
	More        int       `json:"more_problems"`         // problems found beyond MaxProblems
	Checked     time.Time `json:"checked_at"`            // when Verify ran
	Duration    string    `json:"duration,omitempty"`    // how long it took
	Unsigned    int64     `json:"unsigned_after_signed"` // entries after the last valid checkpoint
}

// OK reports whether nothing is wrong.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

func (r *Report) add(max int, p Problem) {
	if len(r.Problems) < max {
		r.Problems = append(r.Problems, p)
		return
	}
	r.More++
}

// VerifyOptions configures Verify.
type VerifyOptions struct {
	// Keys are the public keys that may have signed checkpoints, by keyring key ID. A
	// checkpoint signed by a key not in Keys is a BadCheckpoint.
	Keys map[string]*ecdsa.PublicKey
	// Sink, when not nil, yields the records of a file sink (ReadFileSink) to compare with.
	Sink iter.Seq2[SinkEntry, error]
	// PageSize is how many entries one read takes (default 10,000).
	PageSize int
	// MaxProblems bounds Report.Problems (default 20).
	MaxProblems int
	// Now is time.Now when nil.
	Now func() time.Time
}

// Verify reads the whole chain of store in position order and checks that: positions run 1, 2,
// 3 … without gaps; seq rises with the position; each entry's hash is the SM3 chain hash of its
// content and the hash before it; no row lacks a position; every checkpoint's signature verifies
// with opts.Keys and its hash is the chain's at its position, which the chain reaches; and, with
// opts.Sink, that every record in the sink is in the chain unchanged. It names each problem
// (Report.Problems, first bad entry first). The error is for failures to read, not for
// problems found.
//
// After a mismatch, Verify goes on from the stored hash, so one edited entry is one problem;
// an entry inserted in the middle, with the entries after it renumbered, is named as inserted
// and the renumbered ones are not reported again.
func Verify(ctx context.Context, store storage.Audit, opts VerifyOptions) (*Report, error) {
	if opts.PageSize <= 0 {
		opts.PageSize = 10000
	}
	if opts.MaxProblems <= 0 {
		opts.MaxProblems = 20
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	start := now()
	rep := &Report{Checked: start.UTC(), Problems: []Problem{}}

	unchained, err := store.UnchainedAudit(ctx, opts.MaxProblems+1)
	if err != nil {
		return nil, err
	}
	for _, seq := range unchained {
		rep.add(opts.MaxProblems, Problem{Kind: Inserted, Seq: seq, Detail: "the row has no chain position: it was not appended through tongban"})
	}

	cps, err := store.AuditCheckpoints(ctx)
	if err != nil {
		return nil, err
	}
	rep.Checkpoints = len(cps)
	byPos := map[int64][]storage.AuditCheckpoint{}
	var cpProblems []Problem
	for _, c := range cps {
		pub := opts.Keys[c.KeyID]
		switch {
		case pub == nil:
			cpProblems = append(cpProblems, Problem{Kind: BadCheckpoint, Pos: c.Pos, Detail: fmt.Sprintf(
				"checkpoint of %s by %s is signed by key %q, which is not an audit key of this keyring", c.Time.Format(time.RFC3339), c.Replica, c.KeyID)})
		case VerifyCheckpoint(c, pub) != nil:
			cpProblems = append(cpProblems, Problem{Kind: BadCheckpoint, Pos: c.Pos, Detail: fmt.Sprintf(
				"checkpoint of %s by %s: the signature does not verify with key %s", c.Time.Format(time.RFC3339), c.Replica, c.KeyID)})
		default:
			byPos[c.Pos] = append(byPos[c.Pos], c)
		}
	}

	sink := &sinkCursor{}
	if opts.Sink != nil {
		next, stop := iter.Pull2(opts.Sink)
		defer stop()
		sink.next = next
		if err := sink.advance(); err != nil {
			return nil, err
		}
	}

	var (
		l        Linker
		prev     = Genesis
		prevPos  int64
		prevSeq  int64
		shift    int64  // positions added (>0) or removed (<0) before here by renumbering
		carry    []byte // the hash the chain goes on from after a reordered pair
		page     []storage.AuditEvent
		after    int64
		cpsCheck = func(e storage.AuditEvent) {
			for _, c := range byPos[e.Pos-shift] { // a checkpoint names the position before any renumbering
				if !bytes.Equal(c.Hash, e.Hash) {
					rep.add(opts.MaxProblems, Problem{Kind: Rewritten, Pos: e.Pos, Seq: e.Seq, Detail: fmt.Sprintf(
						"the chain's hash here is not the one the checkpoint of %s by %s signed: entries at or before this position were changed and the chain recomputed",
						c.Time.Format(time.RFC3339), c.Replica)})
				} else if c.Pos > rep.Signed {
					rep.Signed = c.Pos
				}
			}
		}
	)
	for {
		page, err = store.AuditChain(ctx, after, opts.PageSize)
		if err != nil {
			return nil, err
		}
		if len(page) == 0 {
			break
		}
		// One entry of lookahead: keep the last entry of the page for the next round unless
		// this is the last page.
		last := len(page) < opts.PageSize
		n := len(page)
		if !last && n > 1 {
			n--
		}
		for i := 0; i < n; i++ {
			e := page[i]
			var next *storage.AuditEvent
			if i+1 < len(page) {
				next = &page[i+1]
			}
			rep.Entries++
			if carry != nil {
				// e is the second of a reordered pair, reported with the first: the chain
				// goes on from the first's hash, which is the hash at this position.
				cpsCheck(e)
				prev, prevPos, prevSeq, carry = carry, e.Pos, e.Seq, nil
				continue
			}
			if e.Pos != prevPos+1 {
				span := fmt.Sprintf("positions %d to %d are", prevPos+1, e.Pos-1)
				if e.Pos == prevPos+2 {
					span = fmt.Sprintf("position %d is", prevPos+1)
				}
				rep.add(opts.MaxProblems, Problem{Kind: Missing, Pos: prevPos + 1, Detail: fmt.Sprintf(
					"%s missing: entries deleted between seq %d and seq %d", span, prevSeq, e.Seq)})
			} else if p, kind := check(&l, prev, prevSeq, shift, e, next); kind != "" {
				rep.add(opts.MaxProblems, p)
				switch kind {
				case Inserted:
					shift++
					prevPos = e.Pos
					continue // prev and prevSeq stay: the next entry links to the one before e
				case Missing:
					shift--
				case Reordered:
					if next != nil && p.Detail == swapped {
						carry = e.Hash
					}
				}
			}
			cpsCheck(e)
			for sink.cur != nil && sink.cur.Pos <= e.Pos {
				c := sink.cur
				switch {
				case c.Pos < e.Pos:
					rep.add(opts.MaxProblems, Problem{Kind: SinkMismatch, Pos: c.Pos, Seq: c.Seq, Detail: fmt.Sprintf(
						"the sink holds this entry (%s) but the chain does not: deleted from the database", c.At)})
				case !Record(e).Equal(c.SinkRecord):
					rep.add(opts.MaxProblems, Problem{Kind: SinkMismatch, Pos: e.Pos, Seq: e.Seq, Detail: fmt.Sprintf(
						"the entry differs from its copy in the sink (%s)", c.At)})
				}
				if err := sink.advance(); err != nil {
					return nil, err
				}
			}
			prev, prevPos, prevSeq = e.Hash, e.Pos, e.Seq
		}
		after = prevPos
		if last {
			break
		}
	}
	rep.Head = prevPos
	if prevPos > 0 {
		rep.HeadHash = fmt.Sprintf("%x", prev)
	}
	for pos, list := range byPos {
		if pos > prevPos-shift {
			rep.add(opts.MaxProblems, Problem{Kind: Truncated, Pos: pos, Detail: fmt.Sprintf(
				"the checkpoint of %s by %s covers position %d but the chain ends at %d: entries were deleted from its end",
				list[0].Time.Format(time.RFC3339), list[0].Replica, pos, prevPos-shift)})
		}
	}
	for c := sink.cur; c != nil; c = sink.cur {
		rep.add(opts.MaxProblems, Problem{Kind: Truncated, Pos: c.Pos, Seq: c.Seq, Detail: fmt.Sprintf(
			"the sink holds this entry (%s) but the chain ends at %d: entries were deleted from its end", c.At, prevPos)})
		if err := sink.advance(); err != nil {
			return nil, err
		}
	}
	rep.SinkRecords = sink.read
	for _, p := range cpProblems {
		rep.add(opts.MaxProblems, p)
	}
	rep.Unsigned = rep.Head - rep.Signed
	sortProblems(rep.Problems)
	rep.Duration = now().Sub(start).Round(time.Millisecond).String()
	return rep, nil
}

// sinkCursor walks a sink's records alongside the chain.
type sinkCursor struct {
	next func() (SinkEntry, error, bool) // nil when there is no sink or it is exhausted
	cur  *SinkEntry                      // the record not yet matched; nil at the end
	read int64                           // records read
}

// advance moves to the sink's next record; an error reading it is returned.
func (c *sinkCursor) advance() error {
	c.cur = nil
	if c.next == nil {
		return nil
	}
	e, err, ok := c.next()
	switch {
	case !ok:
		c.next = nil
	case err != nil:
		return err
	default:
		c.read++
		c.cur = &e
	}
	return nil
}

// swapped is the detail of a Reordered problem about two entries that changed places.
const swapped = "this entry and the next changed places: each links where the other should stand"

// check verifies one entry e at its expected position (prev: the stored hash before it; shift:
// the renumbering found so far; next: the entry after it, or nil) and classifies a mismatch.
// It returns kind "" when e is fine.
func check(l *Linker, prev []byte, prevSeq, shift int64, e storage.AuditEvent, next *storage.AuditEvent) (Problem, ProblemKind) {
	at := func(x storage.AuditEvent, pos int64) storage.AuditEvent { x.Pos = pos; return x }
	links := func(prev []byte, x storage.AuditEvent, pos int64) bool { return l.matches(prev, at(x, pos), x.Hash) }
	problem := func(kind ProblemKind, detail string) (Problem, ProblemKind) {
		return Problem{Kind: kind, Pos: e.Pos, Seq: e.Seq, Detail: detail}, kind
	}
	if links(prev, e, e.Pos-shift) {
		if e.Seq <= prevSeq {
			return problem(Reordered, fmt.Sprintf("seq %d comes after seq %d in the chain: the rows' sequence numbers were changed", e.Seq, prevSeq))
		}
		return Problem{}, ""
	}
	if next != nil {
		if links(prev, *next, e.Pos-shift) && links(next.Hash, e, next.Pos-shift) {
			return problem(Reordered, swapped)
		}
		if links(prev, *next, next.Pos-shift-1) {
			return problem(Inserted, "this entry breaks the chain and the entry after it links to the one before it: it was inserted, and the positions after it renumbered")
		}
		if links(e.Hash, *next, next.Pos-shift+1) {
			return problem(Missing, "an entry before this one was deleted and the positions from here on renumbered: this entry does not link to the one before it")
		}
	}
	if e.Seq <= prevSeq {
		return problem(Reordered, fmt.Sprintf("seq %d comes after seq %d in the chain: the entries were reordered", e.Seq, prevSeq))
	}
	return problem(Edited, "the entry's content or hash does not match the chain: it was changed after it was written (or the entry before it was changed and its hash recomputed)")
}

// sortProblems orders problems by position, rows without one first; stable.
func sortProblems(ps []Problem) {
	slices.SortStableFunc(ps, func(a, b Problem) int { return cmp.Compare(a.Pos, b.Pos) })
}
