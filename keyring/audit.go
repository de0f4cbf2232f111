package keyring

import (
	"context"
	"crypto/ecdsa"
	"fmt"

	"github.com/emmansun/gmsm/sm2"

	"github.com/tongban/tongban/storage"
)

// AuditKey returns the SM2 key that signs audit checkpoints (purpose storage.PurposeAudit),
// creating it on first use: its ID and private key. Audit keys are never retired by Rotate's
// callers and never expire, so that every checkpoint keeps verifying for as long as the log is
// kept.
func (k *Keyring) AuditKey(ctx context.Context) (string, *sm2.PrivateKey, error) {
	if err := k.EnsureSigningKeys(ctx, storage.PurposeAudit, AlgSM2); err != nil {
		return "", nil, err
	}
	sk, err := k.Active(ctx, storage.PurposeAudit, AlgSM2)
	if err != nil {
		return "", nil, err
	}
	priv, ok := sk.Signer.(*sm2.PrivateKey)
	if !ok {
		return "", nil, fmt.Errorf("keyring: audit key %s: %w: not SM2", sk.ID, ErrCorruptKey)
	}
	return sk.ID, priv, nil
}

// AuditVerificationKeys returns the public key of every audit key ever created, by ID, for
// checking checkpoints. Each is derived from the private key unwrapped with the
// key-encryption key, not read from the database's public-key column: a public key swapped in
// the database cannot make a forged checkpoint verify. Errors: storage's, or those of
// unwrapping (smcrypto.ErrWrongKEK).
func (k *Keyring) AuditVerificationKeys(ctx context.Context) (map[string]*ecdsa.PublicKey, error) {
	recs, err := k.store.ListKeys(ctx, storage.PurposeAudit)
	if err != nil {
		return nil, fmt.Errorf("keyring: list audit keys: %w", err)
	}
	out := make(map[string]*ecdsa.PublicKey, len(recs))
	for _, rec := range recs {
		sk, err := k.unwrap(rec)
		if err != nil {
			return nil, err
		}
		priv, ok := sk.Signer.(*sm2.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("keyring: audit key %s: %w: not SM2", rec.ID, ErrCorruptKey)
		}
		out[rec.ID] = &priv.PublicKey
	}
	return out, nil
}
