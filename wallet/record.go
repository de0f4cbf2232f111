package wallet

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/tongban/tongban/credentials"
	"github.com/tongban/tongban/qr"
	"github.com/tongban/tongban/storage"
	"github.com/tongban/tongban/storage/health"
)

// The holder's record (亮证记录): every code Mint signs is recorded (storage.CodeRecords) —
// its cti, the kinds it shows, its profile and validity, never its image — and a counter's
// receipt (AcceptReceipt) is stored against it. HolderRecord merges these with the reads of
// the holder's licences by department apps (LookupRecords) into one timeline.

// DefaultRecordRetention is how long code records (and their receipts) are kept when
// ServiceConfig.RecordRetention is zero: 180 days.
const DefaultRecordRetention = 180 * 24 * time.Hour

// MaxRecordPage bounds the entries of one HolderRecord page.
const MaxRecordPage = 200

// recordCode stores the record of a code just minted for the holder with index: one INSERT.
// A failure is logged, not returned: the code is valid and the holder is waiting for it (the
// audit entry of the mint names its cti too).
func (s *Service) recordCode(ctx context.Context, index []byte, code qr.Code, kinds []string) {
	err := s.store.RecordCode(ctx, storage.CodeRecord{
		CTI: code.CTI[:], HolderIndex: index, Kinds: kinds, Profile: int(code.Profile),
		IssuedAt: code.IssuedAt, ExpiresAt: code.ExpiresAt,
	})
	if err != nil {
		health.LogFailure(ctx, s.log, "code record failed", err)
	}
}

// PurgeRecords deletes the code records (and their receipts) older than the retention period
// (ServiceConfig.RecordRetention) and returns how many. Deleting by age only, it is
// idempotent, so every replica may run it.
func (s *Service) PurgeRecords(ctx context.Context) (int64, error) {
	n, err := s.store.DeleteCodeRecordsBefore(ctx, s.now().Add(-s.retention))
	if err != nil {
		return 0, fmt.Errorf("wallet: purge code records: %w", err)
	}
	return n, nil
}

// RecordRetention returns how long code records are kept (ServiceConfig.RecordRetention).
func (s *Service) RecordRetention() time.Duration { return s.retention }

// ShownCode is a code minted for the holder, as their record shows it.
type ShownCode struct {
	CTI       []byte // 8 bytes
	Kinds     []credentials.Kind
	Profile   qr.DisplayProfile
	IssuedAt  time.Time // UTC
	ExpiresAt time.Time // UTC
	// Verifications are the counters' receipts for the code, earliest first; none when no
	// counter sent one (an offline counter that has not synced yet, or a code not scanned).
	Verifications []Verification
}

// Verification is one counter's receipt for a code.
type Verification struct {
	Counter    storage.Counter // its name and office are shown; its key is not
	VerifiedAt time.Time       // the counter's clock, UTC
	ReceivedAt time.Time       // the wallet's clock, UTC
}

// RecordEntry is one line of the holder's record: a code shown, or a read by an app. Exactly
// one of Code and Lookup is set.
type RecordEntry struct {
	Time   time.Time // the code's issue time or the read's time, UTC
	Code   *ShownCode
	Lookup *LookupRecord
}

// RecordPage is one page of the holder's record, newest first.
type RecordPage struct {
	Entries []RecordEntry
	// Next is the until of the next (older) page; zero when this is the last page.
	Next time.Time
}

// HolderRecord returns the holder's record — the codes minted for the holder with index
// (with the counters' receipts) and the reads of their licences by apps (LookupRecords),
// merged newest first — for the times before until (zero: now and later too), about n
// entries (1 to MaxRecordPage): a page ends after the n-th entry and the entries at the same
// instant, so that paging with RecordPage.Next neither skips nor repeats one. At one
// instant, codes come before reads, and reads go in the order of credentials.Kinds. Errors: ErrBadRequest for n out of range, or the store's.
func (s *Service) HolderRecord(ctx context.Context, index []byte, until time.Time, n int) (RecordPage, error) {
	if n < 1 || n > MaxRecordPage {
		return RecordPage{}, fmt.Errorf("%w: page size %d: want 1 to %d", ErrBadRequest, n, MaxRecordPage)
	}
	codes, err := s.store.ListCodeRecords(ctx, index, time.Time{}, until, n+1)
	if err != nil {
		return RecordPage{}, fmt.Errorf("wallet: read code records: %w", err)
	}
	reads, err := s.lookupRecords(ctx, index, time.Time{}, until, n+1)
	if err != nil {
		return RecordPage{}, err
	}
	all := mergeRecord(codes, reads)
	var page RecordPage
	if len(all) <= n {
		page.Entries = all
	} else {
		last := all[n-1].Time
		// The entries at the last instant, all of them (there may be more than were read).
		tc, err := s.store.ListCodeRecords(ctx, index, last, last.Add(time.Microsecond), MaxRecordPage)
		if err != nil {
			return RecordPage{}, fmt.Errorf("wallet: read code records: %w", err)
		}
		tr, err := s.lookupRecords(ctx, index, last, last.Add(time.Microsecond), MaxRecordPage)
		if err != nil {
			return RecordPage{}, err
		}
		i := slices.IndexFunc(all, func(e RecordEntry) bool { return !e.Time.After(last) })
		page.Entries = append(all[:i:i], mergeRecord(tc, tr)...)
		// Older entries exist when one was read, or may exist when a source filled its limit
		// with entries at the last instant or later.
		more := all[len(all)-1].Time.Before(last) ||
			(len(codes) == n+1 && !codes[n].IssuedAt.Before(last)) || (len(reads) == n+1 && !reads[n].Time.Before(last))
		if more {
			page.Next = last
		}
	}
	if err := s.addVerifications(ctx, page.Entries); err != nil {
		return RecordPage{}, err
	}
	return page, nil
}

// mergeRecord merges code records and reads, each newest first, into entries newest first.
func mergeRecord(codes []storage.CodeRecord, reads []LookupRecord) []RecordEntry {
	out := make([]RecordEntry, 0, len(codes)+len(reads))
	for _, c := range codes {
		sc := &ShownCode{CTI: c.CTI, Profile: qr.DisplayProfile(c.Profile), IssuedAt: c.IssuedAt.UTC(), ExpiresAt: c.ExpiresAt.UTC()}
		for _, k := range c.Kinds {
			sc.Kinds = append(sc.Kinds, credentials.Kind(k))
		}
		out = append(out, RecordEntry{Time: sc.IssuedAt, Code: sc})
	}
	for i := range reads {
		out = append(out, RecordEntry{Time: reads[i].Time, Lookup: &reads[i]})
	}
	slices.SortStableFunc(out, func(a, b RecordEntry) int {
		if c := b.Time.Compare(a.Time); c != 0 {
			return c
		}
		switch {
		case a.Code != nil && b.Code != nil:
			return bytes.Compare(b.Code.CTI, a.Code.CTI)
		case a.Code != nil:
			return -1
		case b.Code != nil:
			return 1
		}
		return cmp.Or(slices.Index(credentials.Kinds, a.Lookup.Kind)-slices.Index(credentials.Kinds, b.Lookup.Kind),
			cmp.Compare(a.Lookup.LicenceID, b.Lookup.LicenceID))
	})
	return out
}

// addVerifications fills in the receipts of the codes among entries, with their counters.
func (s *Service) addVerifications(ctx context.Context, entries []RecordEntry) error {
	var ctis [][]byte
	byCTI := map[string]*ShownCode{}
	for _, e := range entries {
		if e.Code != nil {
			ctis = append(ctis, e.Code.CTI)
			byCTI[string(e.Code.CTI)] = e.Code
		}
	}
	if len(ctis) == 0 {
		return nil
	}
	rcs, err := s.store.ListCodeReceipts(ctx, ctis)
	if err != nil {
		return fmt.Errorf("wallet: read receipts: %w", err)
	}
	counters := map[string]storage.Counter{}
	for _, rc := range rcs {
		c, ok := counters[rc.CounterID]
		if !ok {
			if c, err = s.store.GetCounter(ctx, rc.CounterID); err != nil && !errors.Is(err, storage.ErrNotFound) {
				return fmt.Errorf("wallet: read counter: %w", err)
			}
			c.ID = rc.CounterID
			c.EnrolmentHash, c.PublicKey = nil, nil // not for display
			counters[rc.CounterID] = c
		}
		sc := byCTI[string(rc.CTI)]
		sc.Verifications = append(sc.Verifications, Verification{Counter: c, VerifiedAt: rc.VerifiedAt.UTC(), ReceivedAt: rc.ReceivedAt.UTC()})
	}
	return nil
}
