package keyring

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/tongban/tongban/sm-crypto"
	"github.com/tongban/tongban/storage"
)

// Errors returned by the keyring.
var (
	// ErrNoKey: no active key of that purpose and algorithm.
	ErrNoKey = errors.New("keyring: no active key")
	// ErrUnknownAlgorithm: the algorithm is not one of SGD_SM3_SM2, ES256, RS256.
	ErrUnknownAlgorithm = errors.New("keyring: unknown signing algorithm")
	// ErrCorruptKey: a stored key unwrapped but its contents do not parse.
	ErrCorruptKey = errors.New("keyring: stored key is corrupt")
)

// Data-key names. Each is a 32-byte (HMAC-SM3) or 16-byte (SM4) random key, created on first
// use, stored wrapped by the KEK under ID "data:<name>".
const (
	dataFieldKey        = "sm4-field"       // SM4-GCM key for fields at rest (16 bytes)
	dataIndexKey        = "hmac-sm3-index"  // blind index key (32 bytes)
	dataTokenKey        = "hmac-sm3-token"  // opaque token HMAC key (32 bytes)
	dataClientSecretKey = "hmac-sm3-client" // client-secret hashing key (32 bytes)
	dataKeyIDPrefix     = "data:"
)

// CacheTTL is how long published signing keys are cached before the keyring reads storage
// again, so a rotation on one replica reaches the others within this time.
const CacheTTL = 30 * time.Second

// Keyring holds tongban's data keys in memory and manages signing keys in storage, with private
// material wrapped by the operator's key-encryption key (DESIGN §3). It is safe for concurrent use.
type Keyring struct {
	store storage.Keys
	kek   KeyWrapper
	now   func() time.Time

	field     *smcrypto.SM4GCM
	indexKey  []byte
	tokenKey  []byte
	clientKey []byte

	mu    sync.Mutex
	cache map[storage.KeyPurpose]cachedKeys
}

type cachedKeys struct {
	loaded time.Time
	keys   []SigningKey
}

// Open loads the data keys from store, creating the missing ones on first start, and unwraps
// them with kek (a *smcrypto.KEK, or a key in a cryptographic module: package kek/pkcs11). It
// returns an error wrapping smcrypto.ErrWrongKEK when kek is not the key the stored keys were
// wrapped with: a wrong key-encryption key is a start-up error, never silent corruption. A nil
// kek is an error.
func Open(ctx context.Context, store storage.Keys, kek KeyWrapper) (*Keyring, error) {
	if kek == nil {
		return nil, errors.New("keyring: no key-encryption key")
	}
	k := &Keyring{store: store, kek: kek, now: time.Now, cache: map[storage.KeyPurpose]cachedKeys{}}
	field, err := k.dataKey(ctx, dataFieldKey, 16)
	if err != nil {
		return nil, err
	}
	if k.field, err = smcrypto.NewSM4GCM(field); err != nil {
		return nil, fmt.Errorf("keyring: field key: %w", err)
	}
	if k.indexKey, err = k.dataKey(ctx, dataIndexKey, 32); err != nil {
		return nil, err
	}
	if k.tokenKey, err = k.dataKey(ctx, dataTokenKey, 32); err != nil {
		return nil, err
	}
	if k.clientKey, err = k.dataKey(ctx, dataClientSecretKey, 32); err != nil {
		return nil, err
	}
	return k, nil
}

// dataKey returns the data key called name, creating it (size random bytes) if absent. Two
// replicas starting at once race on CreateKey; the loser reads the winner's key.
func (k *Keyring) dataKey(ctx context.Context, name string, size int) ([]byte, error) {
	id := dataKeyIDPrefix + name
	for range 2 {
		rec, err := k.store.GetKey(ctx, id)
		if err == nil {
			key, err := k.kek.Unwrap(rec.Sealed, []byte(id))
			if err != nil {
				return nil, fmt.Errorf("keyring: unwrap data key %s: %w", name, err)
			}
			if len(key) != size {
				return nil, fmt.Errorf("keyring: data key %s is %d bytes, want %d: %w", name, len(key), size, ErrCorruptKey)
			}
			return key, nil
		}
		if !errors.Is(err, storage.ErrNotFound) {
			return nil, fmt.Errorf("keyring: read data key %s: %w", name, err)
		}
		key := make([]byte, size)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
		sealed, err := k.kek.Wrap(key, []byte(id))
		if err != nil {
			return nil, fmt.Errorf("keyring: wrap data key %s: %w", name, err)
		}
		now := k.now().UTC()
		err = k.store.CreateKey(ctx, storage.KeyRecord{
			ID: id, Purpose: storage.PurposeData, Algorithm: name, Sealed: sealed,
			CreatedAt: now, NotBefore: now,
		})
		if err == nil {
			return key, nil
		}
		if !errors.Is(err, storage.ErrConflict) {
			return nil, fmt.Errorf("keyring: store data key %s: %w", name, err)
		}
		// Another replica created it first: read theirs.
	}
	return nil, fmt.Errorf("keyring: data key %s: %w", name, storage.ErrConflict)
}

// SealField encrypts a field value at rest with SM4-GCM under the field key. aad binds the
// ciphertext to its context (for example "person/id_number"); the same aad must be given to
// OpenField. The result is nonce (12 bytes) ‖ ciphertext ‖ tag (16 bytes).
func (k *Keyring) SealField(plaintext []byte, aad string) ([]byte, error) {
	return k.field.Seal(rand.Reader, plaintext, []byte(aad))
}

// OpenField decrypts a value sealed by SealField with the same aad. It returns an error
// wrapping smcrypto.ErrDecrypt or smcrypto.ErrCiphertextTooShort on tampering or a wrong aad.
func (k *Keyring) OpenField(sealed []byte, aad string) ([]byte, error) {
	return k.field.Open(sealed, []byte(aad))
}

// BlindIndex returns HMAC-SM3 (32 bytes) of value under the index key: equal values give equal
// indexes, so encrypted fields can be looked up without decrypting them.
func (k *Keyring) BlindIndex(value string) []byte {
	return smcrypto.BlindIndex(k.indexKey, []byte(value))
}

// TokenKey returns the 32-byte secret for HMAC-SM3 opaque access and refresh tokens. Callers
// must not modify it.
func (k *Keyring) TokenKey() []byte { return k.tokenKey }

// ClientSecretHash returns HMAC-SM3 (32 bytes) of a client secret under a dedicated key. Client
// secrets are 256-bit random values, so a keyed hash suffices; a slow password hash would only
// slow the token endpoint.
func (k *Keyring) ClientSecretHash(secret string) []byte {
	return smcrypto.HMACSM3(k.clientKey, []byte(secret))
}
