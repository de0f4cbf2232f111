package oidc

import (
	"context"
	"encoding/base64"
	"errors"
	"time"

	"github.com/tongban/tongban/storage"
)

// The holder's record (亮证记录, docs/citizens/record.md) in the account data download: the
// codes the wallet minted for the person, with the counters that verified them — when the
// wallet keeps its records in this database (one database for both; otherwise none here, and
// the wallet's record page shows them).

// shownCodeExport is one code in the download's "shown_codes" section.
type shownCodeExport struct {
	CTI           string               `json:"cti"` // base64url, as receipts name it
	Kinds         []string             `json:"kinds"`
	Profile       int                  `json:"profile"`
	IssuedAt      time.Time            `json:"issued_at"`
	ExpiresAt     time.Time            `json:"expires_at"`
	Verifications []verificationExport `json:"verifications"`
}

// verificationExport is a counter's receipt for a code.
type verificationExport struct {
	Counter    string    `json:"counter"`
	Office     string    `json:"office,omitempty"`
	VerifiedAt time.Time `json:"verified_at"`
	ReceivedAt time.Time `json:"received_at"`
}

func init() { selfExportParts = append(selfExportParts, exportShownCodes) }

// exportShownCodes is the download's "shown_codes" section, newest first, at most
// exportAuditLimit.
func exportShownCodes(ctx context.Context, s *Server, p storage.Person) (string, any, error) {
	out := []shownCodeExport{}
	num, err := s.accounts.IDNumber(p)
	if err != nil {
		return "", nil, err
	}
	recs, err := s.store.ListCodeRecords(ctx, s.kr.BlindIndex(num), time.Time{}, time.Time{}, exportAuditLimit)
	if err != nil {
		return "", nil, err
	}
	ctis := make([][]byte, len(recs))
	at := map[string]int{}
	for i, r := range recs {
		ctis[i] = r.CTI
		at[string(r.CTI)] = i
		out = append(out, shownCodeExport{CTI: base64.RawURLEncoding.EncodeToString(r.CTI), Kinds: r.Kinds, Profile: r.Profile,
			IssuedAt: r.IssuedAt, ExpiresAt: r.ExpiresAt, Verifications: []verificationExport{}})
	}
	rcs, err := s.store.ListCodeReceipts(ctx, ctis)
	if err != nil {
		return "", nil, err
	}
	counters := map[string]storage.Counter{}
	for _, rc := range rcs {
		c, ok := counters[rc.CounterID]
		if !ok {
			if c, err = s.store.GetCounter(ctx, rc.CounterID); err != nil && !errors.Is(err, storage.ErrNotFound) {
				return "", nil, err
			}
			counters[rc.CounterID] = c
		}
		i := at[string(rc.CTI)]
		out[i].Verifications = append(out[i].Verifications, verificationExport{Counter: c.Name, Office: c.Office,
			VerifiedAt: rc.VerifiedAt, ReceivedAt: rc.ReceivedAt})
	}
	return "shown_codes", out, nil
}
