package wallet

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/binary"
	"fmt"
	"slices"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"

	"github.com/tongban/tongban/keyring"
	"github.com/tongban/tongban/qr"
	"github.com/tongban/tongban/sm-crypto"
	"github.com/tongban/tongban/storage"
)

func keyIDOf(priv *sm2.PrivateKey) [smcrypto.KeyIDSize]byte { return smcrypto.KeyID(&priv.PublicKey) }

// TrustList returns the current signed trust list (qr.SignTrustList: a tagged COSE_Sign1 of
// type qr.TrustListType) and its decoded form.
//
// The list is a pure function of the stored keys and the current period, so every replica,
// and `wallet trust-list export`, produce the same bytes at the same time:
//
//   - Keys: every SM2 code-signing key (storage.PurposeQR) not yet expired, with the scope
//     ServiceConfig.Kinds and Profiles, issuer ServiceConfig.KeyIssuer, and usage window
//     [NotBefore, NotAfter]: NotAfter is the key's retirement plus keyring.CacheTTL (replicas
//     may sign with a retired key until their key cache refreshes) or, for the active key,
//     the list's ExpiresAt.
//   - Sequence: the Unix time, in microseconds (the resolution storage keeps), of the latest
//     of the start of the current period (a multiple of TrustListPeriod since the epoch) and
//     every key event that has happened (creation, retirement, expiry of a code-signing or
//     trust-list signing key). It rises whenever the content can change, and never falls
//     while clocks do not go back.
//   - IssuedAt is Sequence truncated to the second; ExpiresAt is the period's start plus
//     TrustListValidity.
//   - The SM2 signature by the current trust-list key (the oldest active storage.PurposeTrustList
//     key, see AnchorRotation) uses randomness derived from the private key and the list (as
//     RFC 6979 does for ECDSA), so equal lists get equal bytes: a verifier never sees two lists
//     with one sequence number and different bytes (which qr.TrustStore refuses as a rollback).
//   - NextAnchors: while an anchor rotation is prepared (PrepareAnchorRotation), the next
//     trust-list key, announced so that verifiers switch to it when CommitAnchorRotation makes
//     it sign.
//   - SignerKID: the kid of the signing trust-list key, as ParseTrustList sets it.
func (s *Service) TrustList(ctx context.Context) ([]byte, *qr.TrustList, error) {
	now := s.now()
	qrKeys, err := s.kr.List(ctx, storage.PurposeQR)
	if err != nil {
		return nil, nil, fmt.Errorf("wallet: trust list: %w", err)
	}
	tlKeys, err := s.kr.List(ctx, storage.PurposeTrustList)
	if err != nil {
		return nil, nil, fmt.Errorf("wallet: trust list: %w", err)
	}
	periodStart := time.Unix(now.Unix()-now.Unix()%int64(s.period/time.Second), 0)
	seq := periodStart.UnixMicro()
	for _, rec := range append(slices.Clone(qrKeys), tlKeys...) {
		for _, t := range []*time.Time{&rec.CreatedAt, rec.RetiredAt, rec.ExpiresAt} {
			if t != nil && !t.After(now) && t.UnixMicro() > seq {
				seq = t.UnixMicro()
			}
		}
	}
	list := &qr.TrustList{
		Sequence:  uint64(seq),
		IssuedAt:  time.UnixMicro(seq).Truncate(time.Second),
		ExpiresAt: periodStart.Add(s.listLife),
	}
	for _, rec := range qrKeys {
		if rec.Algorithm != keyring.AlgSM2 || rec.ExpiresAt != nil && !now.Before(*rec.ExpiresAt) {
			continue
		}
		pub, err := parseSM2Public(rec.Public)
		if err != nil {
			return nil, nil, fmt.Errorf("wallet: trust list: key %s: %w", rec.ID, err)
		}
		nb := rec.NotBefore
		if nb.IsZero() {
			nb = rec.CreatedAt
		}
		nb = time.Unix(nb.Unix(), 0)
		na := list.ExpiresAt
		if rec.RetiredAt != nil {
			na = time.Unix(rec.RetiredAt.Add(keyring.CacheTTL).Unix(), 0)
		}
		if !na.After(nb) {
			continue
		}
		list.Keys = append(list.Keys, qr.TrustedKey{
			PublicKey: pub, Issuer: s.keyIssuer,
			Kinds: slices.Clone(s.kinds), Profiles: slices.Clone(s.profiles),
			NotBefore: nb, NotAfter: na,
		})
	}
	rot, err := s.AnchorRotation(ctx)
	if err != nil {
		return nil, nil, err
	}
	signer := rot.Current
	for _, n := range rot.Next {
		pub, ok := n.Public.(*ecdsa.PublicKey)
		if !ok {
			return nil, nil, fmt.Errorf("wallet: next trust-list key %s is not SM2", n.ID)
		}
		list.NextAnchors = append(list.NextAnchors, qr.TrustAnchor{KID: smcrypto.KeyID(pub), PublicKey: pub})
	}
	priv, ok := signer.Signer.(*sm2.PrivateKey)
	if !ok {
		return nil, nil, fmt.Errorf("wallet: trust-list key %s is not SM2", signer.ID)
	}
	signed, err := qr.SignTrustList(list, priv, newDetRand(priv, listDigest(list)))
	if err != nil {
		return nil, nil, fmt.Errorf("wallet: sign trust list: %w", err)
	}
	list.SignerKID = keyIDOf(priv) // as ParseTrustList would set it
	return signed, list, nil
}

// AnchorRotationState says which trust-list keys sign and which are announced.
type AnchorRotationState struct {
	// Current signs the trust list: the oldest active trust-list key.
	Current keyring.SigningKey
	// Next are the newer active trust-list keys (oldest first): prepared by
	// PrepareAnchorRotation and announced in the list's NextAnchors until
	// CommitAnchorRotation. Empty when no rotation is prepared.
	Next []keyring.SigningKey
}

// AnchorRotation returns the trust-list keys that sign and are announced now.
func (s *Service) AnchorRotation(ctx context.Context) (*AnchorRotationState, error) {
	keys, err := s.kr.ActiveKeys(ctx, storage.PurposeTrustList, keyring.AlgSM2)
	if err != nil {
		return nil, fmt.Errorf("wallet: trust-list key: %w", err)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("wallet: trust-list key: %w", keyring.ErrNoKey)
	}
	st := &AnchorRotationState{Current: keys[len(keys)-1]}
	for i := len(keys) - 2; i >= 0; i-- {
		st.Next = append(st.Next, keys[i])
	}
	return st, nil
}

// PrepareAnchorRotation is the first phase of a trust-anchor rotation: it creates the next
// trust-list key, which the lists signed by the current anchor announce (qr.TrustList
// NextAnchors) from now on. Verifiers that load such a list remember it. It returns
// ErrAnchorRotationPending when a rotation is already prepared.
func (s *Service) PrepareAnchorRotation(ctx context.Context) (*AnchorRotationState, error) {
	st, err := s.AnchorRotation(ctx)
	if err != nil {
		return nil, err
	}
	if len(st.Next) > 0 {
		return nil, fmt.Errorf("%w (next key %s)", ErrAnchorRotationPending, st.Next[0].ID)
	}
	if _, err := s.kr.Add(ctx, storage.PurposeTrustList, keyring.AlgSM2); err != nil {
		return nil, fmt.Errorf("wallet: next trust-list key: %w", err)
	}
	return s.AnchorRotation(ctx)
}

// CommitAnchorRotation is the second phase: it retires the current trust-list key, so the
// prepared one signs the lists from now on. The retired key's record is kept (keys list
// shows it); it stays published for TrustListValidity, the longest a list it signed stays
// fresh. It returns the state after the switch and the retired key, or ErrNoAnchorRotation.
func (s *Service) CommitAnchorRotation(ctx context.Context) (*AnchorRotationState, keyring.SigningKey, error) {
	st, err := s.AnchorRotation(ctx)
	if err != nil {
		return nil, keyring.SigningKey{}, err
	}
	if len(st.Next) == 0 {
		return nil, keyring.SigningKey{}, ErrNoAnchorRotation
	}
	if err := s.kr.Retire(ctx, storage.PurposeTrustList, st.Current.ID, s.listLife); err != nil {
		return nil, keyring.SigningKey{}, fmt.Errorf("wallet: retire trust-list key: %w", err)
	}
	after, err := s.AnchorRotation(ctx)
	return after, st.Current, err
}

// TrustAnchors returns the public keys of the active trust-list signing keys, newest first:
// what fresh verifiers pin (write them with MarshalTrustAnchors). While an anchor rotation is
// prepared that is the current and the next key, so a verifier installed then accepts lists
// on either side of the commit; after the commit only the new key. A retired anchor is
// never included: it signs nothing any more.
func (s *Service) TrustAnchors(ctx context.Context) ([]*ecdsa.PublicKey, error) {
	keys, err := s.kr.ActiveKeys(ctx, storage.PurposeTrustList, keyring.AlgSM2)
	if err != nil {
		return nil, fmt.Errorf("wallet: trust anchors: %w", err)
	}
	var out []*ecdsa.PublicKey
	for _, k := range keys {
		if pub, ok := k.Public.(*ecdsa.PublicKey); ok && k.Algorithm == keyring.AlgSM2 {
			out = append(out, pub)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("wallet: trust anchors: %w", keyring.ErrNoKey)
	}
	return out, nil
}

// MarshalTrustAnchors returns keys as concatenated PKIX "PUBLIC KEY" PEM blocks (one per SM2
// key), each preceded by a comment line with its fingerprint (qr.AnchorFingerprint): the trust
// anchor file verifiers pin.
func MarshalTrustAnchors(keys []*ecdsa.PublicKey) ([]byte, error) {
	var b bytes.Buffer
	for _, k := range keys {
		p, err := smcrypto.MarshalPublicKeyPEM(k)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadAnchor, err)
		}
		fmt.Fprintf(&b, "# tongban trust-list signing key, fingerprint %s\n", qr.AnchorFingerprint(k))
		b.Write(p)
	}
	return b.Bytes(), nil
}

// ParseTrustAnchors reads a trust anchor file: qr.ParseTrustAnchors. Errors wrap ErrBadAnchor
// (which is qr.ErrBadTrustAnchor): no block, a block of another type, or a key that is not SM2.
func ParseTrustAnchors(data []byte) ([]*ecdsa.PublicKey, error) { return qr.ParseTrustAnchors(data) }

func parseSM2Public(der []byte) (*ecdsa.PublicKey, error) {
	k, err := smx509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, err
	}
	pub, ok := k.(*ecdsa.PublicKey)
	if !ok || smcrypto.MarshalPublicKey(pub) == nil {
		return nil, fmt.Errorf("not an SM2 public key")
	}
	return pub, nil
}

// listDigest is SM3 over an unambiguous encoding of everything the signed list contains.
func listDigest(l *qr.TrustList) []byte {
	h := smcrypto.NewSM3()
	u := func(v uint64) { _ = binary.Write(h, binary.BigEndian, v) }
	str := func(s string) { u(uint64(len(s))); h.Write([]byte(s)) }
	u(l.Sequence)
	u(uint64(l.IssuedAt.Unix()))
	u(uint64(l.ExpiresAt.Unix()))
	u(uint64(len(l.Keys)))
	for _, k := range l.Keys {
		h.Write(smcrypto.MarshalPublicKey(k.PublicKey))
		str(k.Issuer)
		u(uint64(len(k.Kinds)))
		for _, kind := range k.Kinds {
			str(string(kind))
		}
		u(uint64(len(k.Profiles)))
		for _, p := range k.Profiles {
			u(uint64(p))
		}
		u(uint64(k.NotBefore.Unix()))
		u(uint64(k.NotAfter.Unix()))
	}
	// Only when present, so a list without next anchors keeps the digest (and the bytes)
	// older replicas produce for it during a rolling upgrade.
	if len(l.NextAnchors) > 0 {
		u(uint64(len(l.NextAnchors)))
		for _, a := range l.NextAnchors {
			h.Write(smcrypto.MarshalPublicKey(a.PublicKey))
		}
	}
	return h.Sum(nil)
}

// detRand is an HMAC-SM3 counter-mode stream keyed by a private key and a message digest:
// the SM2 signing randomness for deterministic signatures. Equal (key, message) give equal
// streams; any other message gives an unrelated stream, so a nonce is never reused across
// messages.
type detRand struct {
	key     []byte
	counter uint64
	buf     []byte
}

func newDetRand(priv *sm2.PrivateKey, digest []byte) *detRand {
	d := make([]byte, 32)
	priv.D.FillBytes(d)
	key := smcrypto.HMACSM3(d, append([]byte("tongban/wallet/trust-list-nonce\x00"), digest...))
	clear(d)
	return &detRand{key: key}
}

func (r *detRand) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(r.buf) == 0 {
			var c [8]byte
			binary.BigEndian.PutUint64(c[:], r.counter)
			r.counter++
			r.buf = smcrypto.HMACSM3(r.key, c[:])
		}
		k := copy(p[n:], r.buf)
		r.buf = r.buf[k:]
		n += k
	}
	return n, nil
}

// TrustListValidity returns how long a trust list stays fresh (ServiceConfig.TrustListValidity):
// the suggested least time between PrepareAnchorRotation and CommitAnchorRotation, since a
// verifier that keeps its list fresh has fetched an announcing list by then.
func (s *Service) TrustListValidity() time.Duration { return s.listLife }
