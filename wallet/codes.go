package wallet

import (
	"context"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/emmansun/gmsm/sm2"

	"github.com/tongban/tongban/credentials"
	"github.com/tongban/tongban/keyring"
	"github.com/tongban/tongban/qr"
	"github.com/tongban/tongban/storage"
)

// CodeRequest names the licences a code shows and how.
type CodeRequest struct {
	// Kinds picks the holder's licence of each kind (resident-id, …). When the holder has
	// several of one kind, the one that may be shown is taken; several that may be shown are
	// ErrAmbiguous.
	Kinds []credentials.Kind
	// IDs picks licences by storage ID (Record.ID), in addition to Kinds.
	IDs []string
	// Profile is the display profile. Zero means qr.ProfileMaskedIdentity for one licence
	// and qr.ProfileBundle (多码合一) for several.
	Profile qr.DisplayProfile
	// Fields are the kind-specific fields (credentials.FieldSpec.Name) a
	// qr.ProfileFullRegistration code shows; nil means all the licence has. Other profiles
	// take none.
	Fields []string
	// Prefetch, when positive, mints a pre-fetched code for an offline phone: it lives
	// Prefetch (whole seconds, at most qr.PrefetchMaxValidity, 24 h) instead of 60 s and
	// carries the licence's status index (qr.ClaimStatus), so an offline verifier checks it
	// against the status list (StatusList). Only the masked-identity profile of one licence
	// (ErrBadRequest otherwise).
	Prefetch time.Duration
}

// Minted is a code minted by Mint.
type Minted struct {
	qr.Code
	// Licences are the licences shown, in the code's order.
	Licences []Record
	// KeyID is the kid of the code-signing key, hex.
	KeyID string
}

// ParseProfile returns the display profile named s: "1", "masked" or "masked-identity"
// (qr.ProfileMaskedIdentity); "2", "full" or "full-registration"; "3" or "bundle". "" gives
// 0 (the default of CodeRequest.Profile). Other names wrap ErrBadRequest.
func ParseProfile(s string) (qr.DisplayProfile, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "":
		return 0, nil
	case "1", "masked", "masked-identity":
		return qr.ProfileMaskedIdentity, nil
	case "2", "full", "full-registration":
		return qr.ProfileFullRegistration, nil
	case "3", "bundle":
		return qr.ProfileBundle, nil
	}
	return 0, fmt.Errorf("%w: unknown profile %q (want masked, full or bundle)", ErrBadRequest, s)
}

// ParseKinds parses a comma-separated list of kind names ("resident-id,driving-licence").
// Unknown names wrap both ErrBadRequest and credentials.ErrUnknownKind.
func ParseKinds(s string) ([]credentials.Kind, error) {
	var out []credentials.Kind
	for _, name := range strings.Split(s, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		k, err := credentials.ParseKind(name)
		if err != nil {
			return nil, fmt.Errorf("%w: %w (known: %s)", ErrBadRequest, err, KindList())
		}
		out = append(out, k)
	}
	return out, nil
}

// KindList returns the names of the known licence kinds, comma-separated, in the order of
// credentials.Kinds ("resident-id, social-security, …"), for messages that list them.
func KindList() string {
	names := make([]string, len(credentials.Kinds))
	for i, k := range credentials.Kinds {
		names[i] = string(k)
	}
	return strings.Join(names, ", ")
}

// Mint signs a code for the holder with index (HolderIndex) showing the licences req names,
// with the active SM2 code-signing key (storage.PurposeQR). The code lives CodeValidity
// (60 s) and carries a random cti; an audit entry records who minted which licences, and the
// holder's record (HolderRecord) gets the code's cti, kinds, profile and times (recordCode).
//
// Errors: ErrBadRequest (no licence named, a repeated one, fields outside profile 2, unknown
// field), ErrNotFound, ErrAmbiguous, ErrOutOfScope, and — wrapped — the errors of
// qr.Minter.Mint: credentials.ErrLicenceRevoked, ErrLicenceSuspended, ErrLicenceExpired,
// ErrLicenceNotYetValid for a licence that may not be shown, qr.ErrLicenceCount (profile 1 or
// 2 with several licences, a bundle of one or more than qr.MaxBundle), qr.ErrMixedHolders (a
// bundle mixing a person's and a business's licences), qr.ErrTooLong (a full-registration
// code with too many fields).
func (s *Service) Mint(ctx context.Context, index []byte, req CodeRequest, a Actor) (Minted, error) {
	all, err := s.LicencesByIndex(ctx, index)
	if err != nil {
		return Minted{}, err
	}
	picked, err := s.pick(all, req)
	if err != nil {
		return Minted{}, err
	}
	p := req.Profile
	if p == 0 {
		p = qr.ProfileMaskedIdentity
		if len(picked) > 1 {
			p = qr.ProfileBundle
		}
	}
	if !p.Valid() {
		return Minted{}, fmt.Errorf("%w: unknown profile %d", ErrBadRequest, p)
	}
	if !slices.Contains(s.profiles, p) {
		return Minted{}, fmt.Errorf("%w: profile %s", ErrOutOfScope, p)
	}
	ls := make([]credentials.Licence, len(picked))
	for i, r := range picked {
		if !slices.Contains(s.kinds, r.Licence.Kind) {
			return Minted{}, fmt.Errorf("%w: kind %s", ErrOutOfScope, r.Licence.Kind)
		}
		ls[i] = r.Licence
	}
	if req.Fields != nil {
		if p != qr.ProfileFullRegistration {
			return Minted{}, fmt.Errorf("%w: fields can be chosen only for the full-registration profile", ErrBadRequest)
		}
		if len(ls) == 1 {
			for _, f := range req.Fields {
				if _, ok := credentials.FieldSpecByName(ls[0].Kind, f); !ok {
					return Minted{}, fmt.Errorf("%w: %s has no field %q", ErrBadRequest, ls[0].Kind, f)
				}
			}
			ls[0] = ls[0].WithFields(req.Fields...)
		}
	}
	var statusIdx *uint64
	if req.Prefetch != 0 {
		if req.Prefetch < time.Second || req.Prefetch > qr.PrefetchMaxValidity || req.Prefetch%time.Second != 0 {
			return Minted{}, fmt.Errorf("%w: prefetch validity %s: want whole seconds from 1s to %s", ErrBadRequest, req.Prefetch, qr.PrefetchMaxValidity)
		}
		if p != qr.ProfileMaskedIdentity || len(picked) != 1 {
			return Minted{}, fmt.Errorf("%w: only a masked-identity code of one licence may be pre-fetched", ErrBadRequest)
		}
		// A licence that may not be shown gets no index (and no code: Mint refuses it).
		if err := s.Showable(picked[0]); err == nil {
			idx, err := s.store.LicenceStatusIndex(ctx, picked[0].ID)
			if err != nil {
				return Minted{}, fmt.Errorf("wallet: status index: %w", err)
			}
			statusIdx = &idx
		} else {
			statusIdx = new(uint64)
		}
	}
	key, err := s.kr.Active(ctx, storage.PurposeQR, keyring.AlgSM2)
	if err != nil {
		return Minted{}, fmt.Errorf("wallet: code-signing key: %w", err)
	}
	priv, ok := key.Signer.(*sm2.PrivateKey)
	if !ok {
		return Minted{}, fmt.Errorf("wallet: code-signing key %s is not SM2", key.ID)
	}
	m := qr.Minter{Key: priv, Now: s.now, Rand: s.rand, Validity: s.validity}
	if statusIdx != nil {
		m.Validity, m.StatusIndex = req.Prefetch, statusIdx
	}
	code, err := m.Mint(p, ls...)
	if err != nil {
		return Minted{}, fmt.Errorf("wallet: mint: %w", err)
	}
	ids := make([]string, len(picked))
	kinds := make([]string, len(picked))
	for i, r := range picked {
		ids[i], kinds[i] = r.ID, string(r.Licence.Kind)
	}
	s.recordCode(ctx, index, code, kinds)
	s.audit(ctx, a, "code.mint", strings.Join(ids, ","),
		fmt.Sprintf("profile=%d kinds=%s cti=%s%s", p, strings.Join(kinds, ","), hex.EncodeToString(code.CTI[:]), prefetchDetail(code)))
	kid := m.KeyID
	if kid == ([8]byte{}) {
		kid = keyIDOf(priv)
	}
	return Minted{Code: code, Licences: picked, KeyID: hex.EncodeToString(kid[:])}, nil
}

// pick resolves req to the holder's licences, in request order: IDs first, then kinds.
func (s *Service) pick(all []Record, req CodeRequest) ([]Record, error) {
	var out []Record
	seen := map[string]bool{}
	add := func(r Record) error {
		if seen[r.ID] {
			return fmt.Errorf("%w: licence %s named twice", ErrBadRequest, r.ID)
		}
		seen[r.ID] = true
		out = append(out, r)
		return nil
	}
	for _, id := range req.IDs {
		i := slices.IndexFunc(all, func(r Record) bool { return r.ID == id })
		if i < 0 {
			return nil, fmt.Errorf("%w: no licence %s", ErrNotFound, strconv.Quote(id))
		}
		if err := add(all[i]); err != nil {
			return nil, err
		}
	}
	for i, k := range req.Kinds {
		if !k.Valid() {
			return nil, fmt.Errorf("%w: %w: %q", ErrBadRequest, credentials.ErrUnknownKind, k)
		}
		if slices.Contains(req.Kinds[:i], k) {
			return nil, fmt.Errorf("%w: kind %s named twice (name several licences of one kind by --id)", ErrBadRequest, k)
		}
		var cands, showable []Record
		for _, r := range all {
			if r.Licence.Kind == k && !seen[r.ID] {
				cands = append(cands, r)
				if s.Showable(r) == nil {
					showable = append(showable, r)
				}
			}
		}
		switch {
		case len(cands) == 0:
			return nil, fmt.Errorf("%w: no %s licence", ErrNotFound, k)
		case len(cands) == 1:
			_ = add(cands[0])
		case len(showable) == 1:
			_ = add(showable[0])
		default:
			return nil, fmt.Errorf("%w: %d %s licences", ErrAmbiguous, len(cands), k)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: name at least one licence (kinds or IDs)", ErrBadRequest)
	}
	return out, nil
}

// prefetchDetail is the audit detail of a pre-fetched code: its lifetime and status index.
func prefetchDetail(c qr.Code) string {
	if c.StatusIndex == nil {
		return ""
	}
	return fmt.Sprintf(" prefetch=%s status_idx=%d", c.ExpiresAt.Sub(c.IssuedAt), *c.StatusIndex)
}
