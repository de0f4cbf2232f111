package wallet

import (
	"context"
	"fmt"
	"time"

	"github.com/emmansun/gmsm/sm2"

	"github.com/tongban/tongban/keyring"
	"github.com/tongban/tongban/qr"
	"github.com/tongban/tongban/storage"
)

// StatusListTTL is the ttl a status list advertises: how long a verifier may keep using it
// before fetching a new one (at most the list's validity).
const StatusListTTL = 5 * time.Minute

// statusListValue maps a stored licence status to its status-list value (2 bits): valid 0,
// revoked and expired 1 (INVALID), suspended 2.
func statusListValue(s storage.LicenceStatus) uint8 {
	switch s {
	case storage.LicenceValid:
		return qr.StatusValid
	case storage.LicenceSuspended:
		return qr.StatusSuspended
	}
	return qr.StatusInvalid
}

// StatusList returns the current signed status list (qr.SignStatusList: a tagged COSE_Sign1
// of type qr.StatusListType) and its decoded form. It has one 2-bit entry per status index
// allocated so far (pre-fetched codes, CodeRequest.Prefetch): the stored status of the
// licence at that index. IssuedAt is now (whole seconds), ExpiresAt IssuedAt plus
// ServiceConfig.StatusListValidity. It is signed by the active code-signing key, which the
// trust list lists: verifiers check it with the trust list they already hold.
func (s *Service) StatusList(ctx context.Context) ([]byte, *qr.StatusList, error) {
	entries, err := s.store.ListLicenceStatuses(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("wallet: status list: %w", err)
	}
	n := 0
	for _, e := range entries {
		if e.Index >= qr.MaxStatusEntries {
			return nil, nil, fmt.Errorf("wallet: status list: index %d over the limit %d", e.Index, qr.MaxStatusEntries)
		}
		n = max(n, int(e.Index)+1)
	}
	iat := time.Unix(s.now().Unix(), 0)
	list := &qr.StatusList{
		IssuedAt: iat, ExpiresAt: iat.Add(s.slLife), TTL: min(StatusListTTL, s.slLife),
		Bits: qr.StatusBits, Statuses: make([]uint8, n),
	}
	for _, e := range entries {
		list.Statuses[e.Index] = statusListValue(e.Status)
	}
	key, err := s.kr.Active(ctx, storage.PurposeQR, keyring.AlgSM2)
	if err != nil {
		return nil, nil, fmt.Errorf("wallet: code-signing key: %w", err)
	}
	priv, ok := key.Signer.(*sm2.PrivateKey)
	if !ok {
		return nil, nil, fmt.Errorf("wallet: code-signing key %s is not SM2", key.ID)
	}
	kid := keyIDOf(priv)
	signed, err := qr.SignStatusList(list, priv, kid, s.rand)
	if err != nil {
		return nil, nil, fmt.Errorf("wallet: sign status list: %w", err)
	}
	list.SignerKID = kid
	return signed, list, nil
}
