package wallet

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/tongban/tongban/credentials"
	"github.com/tongban/tongban/storage"
)

// Licence lookup (一证通办, docs/developers/licence-lookup.md): a department app, with the
// holder's consent for licence:<kind>, reads the holder's licences of that kind in full. Every
// read is an audit entry, and the holder sees them on the wallet's records page.

// ActionLookup is the audit action of one licence read by an app (Lookup): Actor and ClientID
// the app's client ID, Subject the licence ID, Detail the licence kind. No personal data.
const ActionLookup = "licence.lookup"

// ErrAuditUnavailable: the read could not be recorded in the audit log, so nothing is
// returned (no read without its record). It wraps the storage error (errors.Is finds
// storage.ErrUnavailable when the database refuses writes).
var ErrAuditUnavailable = errors.New("wallet: the read could not be recorded")

// Lookup returns the licences held by the holder with index (HolderIndex) whose kind is in
// kinds — their own licences, not the business licences they are an agent of — with every
// field, in the order of credentials.Kinds, then by licence number. None is an empty list, not
// an error. Whatever their status: the caller reports it (credentials.Licence.EffectiveStatus).
//
// Each licence returned is first recorded as one ActionLookup audit entry for clientID, all
// in one transaction when the store is a storage.Transactor; when recording fails the error
// wraps ErrAuditUnavailable and no licence is returned.
func (s *Service) Lookup(ctx context.Context, index []byte, kinds []credentials.Kind, clientID string) ([]Record, error) {
	if clientID == "" {
		return nil, fmt.Errorf("%w: no client ID", ErrBadRequest)
	}
	rows, err := s.store.ListLicencesByHolder(ctx, index)
	if err != nil {
		return nil, fmt.Errorf("wallet: list licences: %w", err)
	}
	var out []Record
	for _, row := range rows {
		if !slices.Contains(kinds, credentials.Kind(row.Kind)) {
			continue
		}
		r, err := s.open(row)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	slices.SortStableFunc(out, func(a, b Record) int {
		return cmp.Or(slices.Index(credentials.Kinds, a.Licence.Kind)-slices.Index(credentials.Kinds, b.Licence.Kind),
			cmp.Compare(a.Licence.Number, b.Licence.Number))
	})
	if len(out) == 0 {
		return out, nil
	}
	at := s.now().UTC()
	record := func(ctx context.Context) error {
		for _, r := range out {
			_, err := s.store.AppendAudit(ctx, storage.AuditEvent{
				Time: at, Actor: clientID, Action: ActionLookup, Subject: r.ID, ClientID: clientID, Detail: string(r.Licence.Kind),
			})
			if err != nil {
				return err
			}
		}
		return nil
	}
	if err := s.inTx(ctx, record); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrAuditUnavailable, err)
	}
	return out, nil
}

// LookupRecord is one read of a holder's licence by an app (an ActionLookup audit entry).
type LookupRecord struct {
	Time      time.Time // when, UTC
	ClientID  string    // the app
	LicenceID string
	Kind      credentials.Kind
}

// LookupRecords returns the reads by apps of the licences the holder with index holds (their
// own licences, as Lookup answers them), newest first, at most limit (> 0) of them.
func (s *Service) LookupRecords(ctx context.Context, index []byte, limit int) ([]LookupRecord, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("%w: limit %d", ErrBadRequest, limit)
	}
	return s.lookupRecords(ctx, index, time.Time{}, time.Time{}, limit)
}

// lookupRecords is LookupRecords for the reads with a time in [since, until); a zero since or
// until leaves that end open.
func (s *Service) lookupRecords(ctx context.Context, index []byte, since, until time.Time, limit int) ([]LookupRecord, error) {
	rows, err := s.store.ListLicencesByHolder(ctx, index)
	if err != nil {
		return nil, fmt.Errorf("wallet: list licences: %w", err)
	}
	var out []LookupRecord
	for _, row := range rows {
		es, err := s.store.QueryAudit(ctx, storage.AuditQuery{Action: ActionLookup, Person: row.ID, Since: since, Until: until,
			Limit: limit, Descending: true})
		if err != nil {
			return nil, fmt.Errorf("wallet: read lookup records: %w", err)
		}
		for _, e := range es {
			if e.Subject != row.ID { // Person also matches Actor
				continue
			}
			out = append(out, LookupRecord{Time: e.Time.UTC(), ClientID: e.ClientID, LicenceID: row.ID, Kind: credentials.Kind(row.Kind)})
		}
	}
	slices.SortStableFunc(out, func(a, b LookupRecord) int { return b.Time.Compare(a.Time) })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}
