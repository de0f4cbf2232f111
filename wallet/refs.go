package wallet

import (
	"context"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/tongban/tongban/credentials"
	"github.com/tongban/tongban/idnumber"
	"github.com/tongban/tongban/storage"
)

// Lookup rows.
//
// storage.Licences finds licences only by the blind index of their holder. The wallet needs
// two more lookups, and keeps them as extra rows of the same table, with reserved kinds that
// no licence kind can take (credentials kinds have no colon):
//
//   - refNumber: one row per licence, HolderIndex = numberIndex(kind, number), Issuer = the
//     licence's storage ID, Number "-". It finds a licence by kind and number (`wallet
//     licences revoke --kind K --number N`, and the previous version of a re-imported
//     licence).
//   - refAgent: one row per authorised agent of a business licence, HolderIndex = the
//     agent's HolderIndex, Issuer = the licence's storage ID, Number = the first 16 bytes of
//     that index in hex; status revoked once the agent is no longer listed. It lets an agent
//     who logs in with a resident ID number find the business licences they may show.
//
// The rows carry no personal data beyond blind indexes. They are only an index: whether an
// agent may show a licence is decided by the licence's own sealed Agents list (agentLicence).
const (
	refNumber = "wallet-ref:number"
	refAgent  = "wallet-ref:agent"
)

func isRef(kind string) bool { return strings.HasPrefix(kind, "wallet-ref:") }

// numberIndex is the lookup key of a licence by kind and number, domain-separated from holder
// indexes.
func (s *Service) numberIndex(kind credentials.Kind, number string) []byte {
	return s.kr.BlindIndex("licence-number\x00" + string(kind) + "\x00" + strings.ToUpper(number))
}

// putRefs writes the lookup rows of the licence stored as id; prev is its previous version,
// if any.
func (s *Service) putRefs(ctx context.Context, id string, l credentials.Licence, prev *Record) error {
	now := s.now().UTC()
	base := storage.Licence{
		Issuer: id, Status: storage.LicenceValid, ValidFrom: l.ValidFrom.Start().UTC(), UpdatedAt: now,
	}
	num := base
	num.Kind, num.Number, num.HolderIndex = refNumber, "-", s.numberIndex(l.Kind, l.Number)
	if _, _, err := s.store.UpsertLicence(ctx, num); err != nil {
		return fmt.Errorf("wallet: store licence lookup: %w", err)
	}
	current := map[string]bool{}
	for _, ag := range l.Agents {
		idx := s.HolderIndex(ag)
		key := hex.EncodeToString(idx[:16])
		current[key] = true
		ref := base
		ref.Kind, ref.Number, ref.HolderIndex = refAgent, key, idx
		if _, _, err := s.store.UpsertLicence(ctx, ref); err != nil {
			return fmt.Errorf("wallet: store agent lookup: %w", err)
		}
	}
	if prev == nil {
		return nil
	}
	for _, ag := range prev.Licence.Agents {
		idx := s.HolderIndex(ag)
		key := hex.EncodeToString(idx[:16])
		if current[key] {
			continue
		}
		ref := base
		ref.Kind, ref.Number, ref.HolderIndex, ref.Status = refAgent, key, idx, storage.LicenceRevoked
		if _, _, err := s.store.UpsertLicence(ctx, ref); err != nil {
			return fmt.Errorf("wallet: withdraw agent lookup: %w", err)
		}
	}
	return nil
}

// agentLicence returns the business licence with storage ID id if the person with holder
// index may show it as an authorised agent, else ErrNotFound.
func (s *Service) agentLicence(ctx context.Context, id string, index []byte) (Record, error) {
	r, err := s.LicenceByID(ctx, id)
	if err != nil {
		return Record{}, err
	}
	if r.Licence.Kind != credentials.BusinessLicence {
		return Record{}, ErrNotFound
	}
	for _, ag := range r.Licence.Agents {
		if subtle.ConstantTimeCompare(s.kr.BlindIndex(idnumber.NormalizeResidentID(ag)), index) == 1 {
			r.AsAgent = true
			return r, nil
		}
	}
	return Record{}, ErrNotFound
}
