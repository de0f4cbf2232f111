package app

import (
	"context"
	"fmt"
	"time"

	pkcs11kek "github.com/tongban/tongban/kek/pkcs11"
	"github.com/tongban/tongban/keyring"
	"github.com/tongban/tongban/storage"
)

// RewrapPurposes are the key purposes Rewrap moves: every purpose the keyring stores.
var RewrapPurposes = []storage.KeyPurpose{
	storage.PurposeData, storage.PurposeIDToken, storage.PurposeQR, storage.PurposeTrustList, storage.PurposeAudit,
}

// RewrapResult says what Rewrap did.
type RewrapResult struct {
	From  string `json:"from_kek_id"` // ID of the key-encryption key the keys were wrapped by
	To    string `json:"to_kek_id"`   // ID of the one they are wrapped by now
	Keys  int    `json:"keys"`        // how many key records were rewrapped
	Audit int64  `json:"audit_seq"`   // sequence number of the audit event
}

// Rewrap moves every stored key (RewrapPurposes) of b from b.KEK to the key-encryption key
// to: each record is unwrapped with b.KEK, wrapped with to under the same aad (the record ID,
// as the keyring wraps it), checked by unwrapping it again with to, and stored with
// storage.Keys.RewrapKey. All of it, and the audit event "keys.rewrap" (actor "operator",
// subject the new KEK ID, detail the old ID and the count), runs in one transaction: on any
// error nothing changes. Key bytes are never logged.
//
// Errors: a record that does not unwrap with b.KEK (wrapping smcrypto.ErrWrongKEK or
// smcrypto.ErrDecrypt, naming the record), to's errors, or the store's.
func Rewrap(ctx context.Context, b *Backend, to keyring.KeyWrapper) (RewrapResult, error) {
	res := RewrapResult{From: b.KEK.ID(), To: to.ID()}
	err := b.Store.InTx(ctx, func(ctx context.Context) error {
		res.Keys = 0
		for _, purpose := range RewrapPurposes {
			recs, err := b.Store.ListKeys(ctx, purpose)
			if err != nil {
				return fmt.Errorf("rewrap: list %s keys: %w", purpose, err)
			}
			for _, rec := range recs {
				aad := []byte(rec.ID)
				secret, err := b.KEK.Unwrap(rec.Sealed, aad)
				if err != nil {
					return fmt.Errorf("rewrap: unwrap key %s with the current key-encryption key: %w", rec.ID, err)
				}
				sealed, err := to.Wrap(secret, aad)
				if err == nil {
					var back []byte
					back, err = to.Unwrap(sealed, aad)
					if err == nil && string(back) != string(secret) {
						err = fmt.Errorf("the new key-encryption key does not give the key back")
					}
					clear(back)
				}
				clear(secret)
				if err != nil {
					return fmt.Errorf("rewrap: wrap key %s with the new key-encryption key: %w", rec.ID, err)
				}
				if err := b.Store.RewrapKey(ctx, rec.ID, sealed); err != nil {
					return fmt.Errorf("rewrap: store key %s: %w", rec.ID, err)
				}
				res.Keys++
			}
		}
		seq, err := b.Store.AppendAudit(ctx, storage.AuditEvent{
			Time: time.Now().UTC(), Actor: "operator", Action: "keys.rewrap", Subject: res.To,
			Detail: fmt.Sprintf("from kek %s, %d keys", res.From, res.Keys),
		})
		res.Audit = seq
		return err
	})
	if err != nil {
		return RewrapResult{}, err
	}
	return res, nil
}

// OpenPKCS11KEK opens the PKCS#11 key-encryption key named by uri (a rewrap target), with
// c.PKCS11PIN as the PIN when the URI names none. Errors: those of pkcs11kek.Open, prefixed
// with "to-kek-pkcs11".
func OpenPKCS11KEK(c Common, uri string) (*pkcs11kek.KEK, error) {
	k, err := pkcs11kek.Open(pkcs11kek.Config{URI: uri, PIN: c.PKCS11PIN})
	if err != nil {
		return nil, fmt.Errorf("to-kek-pkcs11: %w", err)
	}
	return k, nil
}
