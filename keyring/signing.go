package keyring

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
	"github.com/go-jose/go-jose/v4"

	"github.com/tongban/tongban/sm-crypto"
	"github.com/tongban/tongban/storage"
)

// Signing algorithms the keyring creates keys for.
const (
	AlgSM2   = "SGD_SM3_SM2" // SM2 with SM3 (GB/T 32918.2), JOSE identifier of GM/T 0125.1
	AlgES256 = "ES256"       // ECDSA P-256 with SHA-256 (RFC 7518 §3.4)
	AlgRS256 = "RS256"       // RSASSA-PKCS1-v1_5 with SHA-256, 2048-bit (RFC 7518 §3.3)
)

// SigningKey is an unwrapped signing key.
type SigningKey struct {
	ID        string // kid: for SM2 smcrypto.KeyIDString; otherwise the RFC 7638 SHA-256 thumbprint, base64url
	Algorithm string // AlgSM2, AlgES256 or AlgRS256
	Purpose   storage.KeyPurpose
	// Signer is *sm2.PrivateKey, *ecdsa.PrivateKey or *rsa.PrivateKey.
	Signer    crypto.Signer
	Public    crypto.PublicKey // *ecdsa.PublicKey (SM2 or P-256) or *rsa.PublicKey
	CreatedAt time.Time
	RetiredAt *time.Time // stopped signing at; nil while active
	ExpiresAt *time.Time // no longer published after; nil while active
}

// Active reports whether the key may sign at t.
func (s SigningKey) Active(t time.Time) bool { return s.RetiredAt == nil || t.Before(*s.RetiredAt) }

// generate makes a new private key for alg.
func generate(alg string) (crypto.Signer, error) {
	switch alg {
	case AlgSM2:
		return smcrypto.GenerateKey(rand.Reader)
	case AlgES256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case AlgRS256:
		return rsa.GenerateKey(rand.Reader, 2048)
	}
	return nil, fmt.Errorf("%w: %q", ErrUnknownAlgorithm, alg)
}

// keyID derives the kid of a public key (see SigningKey.ID).
func keyID(alg string, pub crypto.PublicKey) (string, error) {
	if alg == AlgSM2 {
		ec, ok := pub.(*ecdsa.PublicKey)
		if !ok {
			return "", ErrCorruptKey
		}
		return smcrypto.KeyIDString(ec), nil
	}
	tp, err := (&jose.JSONWebKey{Key: pub}).Thumbprint(crypto.SHA256)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(tp), nil
}

// create makes, wraps and stores a new key; it does not retire others.
func (k *Keyring) create(ctx context.Context, purpose storage.KeyPurpose, alg string) (SigningKey, error) {
	priv, err := generate(alg)
	if err != nil {
		return SigningKey{}, err
	}
	der, err := smx509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return SigningKey{}, fmt.Errorf("keyring: encode private key: %w", err)
	}
	pubDER, err := smx509.MarshalPKIXPublicKey(priv.Public())
	if err != nil {
		return SigningKey{}, fmt.Errorf("keyring: encode public key: %w", err)
	}
	id, err := keyID(alg, priv.Public())
	if err != nil {
		return SigningKey{}, err
	}
	sealed, err := k.kek.Wrap(der, []byte(id))
	if err != nil {
		return SigningKey{}, fmt.Errorf("keyring: wrap private key: %w", err)
	}
	now := k.now().UTC().Truncate(time.Microsecond)
	rec := storage.KeyRecord{
		ID: id, Purpose: purpose, Algorithm: alg, Sealed: sealed, Public: pubDER,
		CreatedAt: now, NotBefore: now,
	}
	if err := k.store.CreateKey(ctx, rec); err != nil {
		return SigningKey{}, fmt.Errorf("keyring: store key: %w", err)
	}
	k.invalidate(purpose)
	return SigningKey{ID: id, Algorithm: alg, Purpose: purpose, Signer: priv, Public: priv.Public(), CreatedAt: now}, nil
}

// unwrap turns a stored record into a SigningKey.
func (k *Keyring) unwrap(rec storage.KeyRecord) (SigningKey, error) {
	der, err := k.kek.Unwrap(rec.Sealed, []byte(rec.ID))
	if err != nil {
		return SigningKey{}, fmt.Errorf("keyring: unwrap key %s: %w", rec.ID, err)
	}
	parsed, err := smx509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return SigningKey{}, fmt.Errorf("keyring: key %s: %w: %v", rec.ID, ErrCorruptKey, err)
	}
	var signer crypto.Signer
	switch p := parsed.(type) {
	case *sm2.PrivateKey:
		signer = p
	case *ecdsa.PrivateKey:
		signer = p
	case *rsa.PrivateKey:
		signer = p
	default:
		return SigningKey{}, fmt.Errorf("keyring: key %s: %w: type %T", rec.ID, ErrCorruptKey, parsed)
	}
	return SigningKey{
		ID: rec.ID, Algorithm: rec.Algorithm, Purpose: rec.Purpose, Signer: signer, Public: signer.Public(),
		CreatedAt: rec.CreatedAt, RetiredAt: rec.RetiredAt, ExpiresAt: rec.ExpiresAt,
	}, nil
}

// Published returns every key of the purpose that is not yet expired, newest first: the keys a
// JWKS or trust list publishes. Results are cached for CacheTTL.
func (k *Keyring) Published(ctx context.Context, purpose storage.KeyPurpose) ([]SigningKey, error) {
	now := k.now()
	k.mu.Lock()
	c, ok := k.cache[purpose]
	k.mu.Unlock()
	if ok && now.Sub(c.loaded) < CacheTTL {
		return c.keys, nil
	}
	recs, err := k.store.ListKeys(ctx, purpose)
	if err != nil {
		return nil, fmt.Errorf("keyring: list keys: %w", err)
	}
	keys := make([]SigningKey, 0, len(recs))
	for _, rec := range recs {
		if rec.ExpiresAt != nil && !now.Before(*rec.ExpiresAt) {
			continue
		}
		sk, err := k.unwrap(rec)
		if err != nil {
			return nil, err
		}
		keys = append(keys, sk)
	}
	slices.SortStableFunc(keys, func(a, b SigningKey) int { return b.CreatedAt.Compare(a.CreatedAt) })
	k.mu.Lock()
	k.cache[purpose] = cachedKeys{loaded: now, keys: keys}
	k.mu.Unlock()
	return keys, nil
}

func (k *Keyring) invalidate(purpose storage.KeyPurpose) {
	k.mu.Lock()
	delete(k.cache, purpose)
	k.mu.Unlock()
}

// Active returns the newest key of purpose and alg that may sign now, or ErrNoKey.
func (k *Keyring) Active(ctx context.Context, purpose storage.KeyPurpose, alg string) (SigningKey, error) {
	keys, err := k.Published(ctx, purpose)
	if err != nil {
		return SigningKey{}, err
	}
	now := k.now()
	for _, sk := range keys {
		if sk.Algorithm == alg && sk.Active(now) {
			return sk, nil
		}
	}
	return SigningKey{}, fmt.Errorf("%w: %s %s", ErrNoKey, purpose, alg)
}

// EnsureSigningKeys creates an active key of purpose for every alg in algs that has none (first
// start). It is idempotent.
func (k *Keyring) EnsureSigningKeys(ctx context.Context, purpose storage.KeyPurpose, algs ...string) error {
	for _, alg := range algs {
		k.invalidate(purpose)
		_, err := k.Active(ctx, purpose, alg)
		if err == nil {
			continue
		}
		if !errors.Is(err, ErrNoKey) {
			return err
		}
		if _, err := k.create(ctx, purpose, alg); err != nil {
			return err
		}
	}
	return nil
}

// Rotate creates a new active key of purpose and alg and retires the previous active ones now;
// the retired keys stay published for keepFor (at least as long as anything they signed can
// still be valid) and are then dropped from JWKS and trust lists.
func (k *Keyring) Rotate(ctx context.Context, purpose storage.KeyPurpose, alg string, keepFor time.Duration) (SigningKey, error) {
	k.invalidate(purpose)
	old, err := k.Published(ctx, purpose)
	if err != nil {
		return SigningKey{}, err
	}
	fresh, err := k.create(ctx, purpose, alg)
	if err != nil {
		return SigningKey{}, err
	}
	now := k.now().UTC().Truncate(time.Microsecond)
	for _, sk := range old {
		if sk.Algorithm != alg || !sk.Active(now) {
			continue
		}
		if err := k.store.RetireKey(ctx, sk.ID, now, now.Add(keepFor)); err != nil {
			return SigningKey{}, fmt.Errorf("keyring: retire %s: %w", sk.ID, err)
		}
	}
	k.invalidate(purpose)
	return fresh, nil
}

// List returns every stored key of the purpose, expired ones included, newest first, without
// unwrapping private material (for `idp keys list`).
func (k *Keyring) List(ctx context.Context, purpose storage.KeyPurpose) ([]storage.KeyRecord, error) {
	return k.store.ListKeys(ctx, purpose)
}

// Add creates a new active key of purpose and alg without retiring the others: the first phase
// of a two-phase rotation (the wallet's trust-list anchor, whose successor is announced before
// it signs). Active then returns the new key, so a purpose rotated this way picks its signer
// from ActiveKeys itself; Retire ends the rotation.
func (k *Keyring) Add(ctx context.Context, purpose storage.KeyPurpose, alg string) (SigningKey, error) {
	return k.create(ctx, purpose, alg)
}

// ActiveKeys returns every key of purpose and alg that may sign now, newest first.
func (k *Keyring) ActiveKeys(ctx context.Context, purpose storage.KeyPurpose, alg string) ([]SigningKey, error) {
	keys, err := k.Published(ctx, purpose)
	if err != nil {
		return nil, err
	}
	now := k.now()
	var out []SigningKey
	for _, sk := range keys {
		if sk.Algorithm == alg && sk.Active(now) {
			out = append(out, sk)
		}
	}
	return out, nil
}

// Retire retires the key id now; it stays published for keepFor and its record is kept for
// good (List).
func (k *Keyring) Retire(ctx context.Context, purpose storage.KeyPurpose, id string, keepFor time.Duration) error {
	now := k.now().UTC().Truncate(time.Microsecond)
	defer k.invalidate(purpose)
	if err := k.store.RetireKey(ctx, id, now, now.Add(keepFor)); err != nil {
		return fmt.Errorf("keyring: retire %s: %w", id, err)
	}
	return nil
}
