package qr

import (
	"crypto/ecdsa"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/emmansun/gmsm/sm2"

	"github.com/tongban/tongban/credentials"
	smcrypto "github.com/tongban/tongban/sm-crypto"
	"github.com/tongban/tongban/sm-crypto/smcose"
)

// TrustListType is the typ (COSE header 16, RFC 9596) in a trust list's
// protected header. Codes carry no typ, so neither can pass for the other.
const TrustListType = "application/tongban-trust-list+cbor"

// MaxTrustListSize is the largest trust list ParseTrustList reads, in bytes.
const MaxTrustListSize = 1 << 20

// TrustList is the signed list of keys a verifier accepts (DESIGN §5). On
// the wire it is a tagged COSE_Sign1 (SignTrustList) over the deterministic
// CBOR map of docs/formats/qr-payload.md §10.
//
// A list returned by ParseTrustList carries a prepared SM2 verifier per
// key (smcose.NewPreparedVerifier: a table built on the key's first
// verification, then about 3× faster native and 6× in WebAssembly); a list
// built by hand works too but verifies each code through gmsm from scratch.
type TrustList struct {
	// Sequence numbers successive lists from one publisher; it only rises.
	// A verifier refuses a list with a lower Sequence than it holds. ≥ 1.
	Sequence uint64
	// IssuedAt and ExpiresAt bound the list's freshness (whole seconds);
	// after ExpiresAt verifiers stop accepting codes (ErrStaleTrustList).
	IssuedAt, ExpiresAt time.Time
	// Keys are the code-signing keys. KIDs are unique.
	Keys []TrustedKey
	// NextAnchors announces the trust-list signing key(s) that will sign
	// later lists (anchor rotation, docs/formats/qr-payload.md §10.1): a
	// TrustStore that accepts this list from its pinned anchor remembers
	// them and accepts a later list signed by one of them, which then
	// becomes its only pinned anchor. At most MaxNextAnchors; KIDs unique.
	NextAnchors []TrustAnchor
	// SignerKID is the kid of the trust-list key that signed the list. Set
	// by ParseTrustList; SignTrustList ignores it.
	SignerKID [smcrypto.KeyIDSize]byte
}

// MaxNextAnchors is the largest number of next anchors a trust list
// announces.
const MaxNextAnchors = 4

// TrustAnchor is a trust-list signing key announced in a trust list.
type TrustAnchor struct {
	// KID is smcrypto.KeyID(PublicKey); SignTrustList fills in a zero KID.
	KID [smcrypto.KeyIDSize]byte
	// PublicKey is the SM2 public key.
	PublicKey *ecdsa.PublicKey
}

// TrustedKey is one code-signing key and what it may sign.
type TrustedKey struct {
	// KID is the key's COSE kid: smcrypto.KeyID(PublicKey) (first 8 bytes
	// of SM3 over the 65-byte SEC 1 key) for a bare key, or
	// CertificateKeyID(Certificate) when the entry carries a certificate.
	// SignTrustList fills in a zero KID.
	KID [smcrypto.KeyIDSize]byte
	// PublicKey is the SM2 public key. When Certificate is set it must be
	// nil or the certificate's key; ParseTrustList always sets it.
	PublicKey *ecdsa.PublicKey
	// Certificate is an optional SM2 X.509 certificate (DER) carried instead
	// of the bare key. Its chain is not validated: the trust list's own
	// signature is the trust anchor.
	Certificate []byte
	// Issuer names the issuing system or authority, for display and audit.
	Issuer string
	// Kinds are the licence kinds the key may sign codes for (non-empty).
	Kinds []credentials.Kind
	// Profiles are the display profiles the key may sign (non-empty).
	Profiles []DisplayProfile
	// NotBefore and NotAfter bound the key's usage window (whole seconds):
	// a code's iat must lie within [NotBefore, NotAfter].
	NotBefore, NotAfter time.Time

	verifier *smcose.Verifier
}

// CertificateKeyID returns the kid of a certificate entry: the first 8 bytes
// of SM3 over the certificate's DER encoding.
func CertificateKeyID(der []byte) [smcrypto.KeyIDSize]byte {
	var id [smcrypto.KeyIDSize]byte
	sum := smcrypto.SM3(der)
	copy(id[:], sum[:])
	return id
}

// CurrentTrustList returns l itself, so a *TrustList is a TrustSource.
func (l *TrustList) CurrentTrustList() *TrustList { return l }

// Key returns the entry with the given kid, or nil.
func (l *TrustList) Key(kid [smcrypto.KeyIDSize]byte) *TrustedKey {
	for i := range l.Keys {
		if l.Keys[i].KID == kid {
			return &l.Keys[i]
		}
	}
	return nil
}

// Allows reports whether the key may sign profile p for kind k.
func (k *TrustedKey) Allows(p DisplayProfile, kind credentials.Kind) bool {
	return slices.Contains(k.Profiles, p) && slices.Contains(k.Kinds, kind)
}

// UsableAt reports whether t lies within [NotBefore, NotAfter].
func (k *TrustedKey) UsableAt(t time.Time) bool {
	return !t.Before(k.NotBefore) && !t.After(k.NotAfter)
}

func (k *TrustedKey) coseVerifier() (*smcose.Verifier, error) {
	if k.verifier != nil {
		return k.verifier, nil
	}
	return smcose.NewVerifier(k.PublicKey)
}

// Wire form: integer keys, see docs/formats/qr-payload.md.
type trustListWire struct {
	Sequence  uint64           `cbor:"1,keyasint"`
	IssuedAt  uint64           `cbor:"2,keyasint"`
	ExpiresAt uint64           `cbor:"3,keyasint"`
	Keys      []trustedKeyWire `cbor:"4,keyasint"`
	// Absent (not an empty array) when no anchor is announced, so a list
	// without next anchors has the bytes it had before key 5 existed.
	NextAnchors []anchorWire `cbor:"5,keyasint,omitempty"`
}

type anchorWire struct {
	KID       []byte `cbor:"1,keyasint"`
	PublicKey []byte `cbor:"2,keyasint"`
}

type trustedKeyWire struct {
	KID         []byte   `cbor:"1,keyasint"`
	PublicKey   []byte   `cbor:"2,keyasint,omitempty"`
	Certificate []byte   `cbor:"3,keyasint,omitempty"`
	Issuer      string   `cbor:"4,keyasint"`
	Kinds       []uint64 `cbor:"5,keyasint"`
	Profiles    []uint64 `cbor:"6,keyasint"`
	NotBefore   uint64   `cbor:"7,keyasint"`
	NotAfter    uint64   `cbor:"8,keyasint"`
}

// SignTrustList returns list as a tagged COSE_Sign1 signed by key, with
// protected header {alg: smcose.AlgorithmSM2, kid: smcrypto.KeyID(key's
// public key), typ: TrustListType} and the deterministic CBOR of list as
// payload. rand (nil: crypto/rand.Reader) feeds the SM2 nonce. It returns
// ErrBadTrustList when list breaks a rule ParseTrustList enforces.
func SignTrustList(list *TrustList, key *sm2.PrivateKey, rand io.Reader) ([]byte, error) {
	if list == nil {
		return nil, fmt.Errorf("%w: nil list", ErrBadTrustList)
	}
	if key == nil {
		return nil, ErrNoKey
	}
	w := trustListWire{
		Sequence:  list.Sequence,
		IssuedAt:  unixSeconds(list.IssuedAt),
		ExpiresAt: unixSeconds(list.ExpiresAt),
		Keys:      make([]trustedKeyWire, len(list.Keys)),
	}
	for i, k := range list.Keys {
		kw := trustedKeyWire{
			Issuer:    k.Issuer,
			NotBefore: unixSeconds(k.NotBefore),
			NotAfter:  unixSeconds(k.NotAfter),
		}
		kid := k.KID
		if k.Certificate != nil {
			kw.Certificate = k.Certificate
			if kid == ([smcrypto.KeyIDSize]byte{}) {
				kid = CertificateKeyID(k.Certificate)
			}
		} else {
			kw.PublicKey = smcrypto.MarshalPublicKey(k.PublicKey)
			if kw.PublicKey == nil {
				return nil, fmt.Errorf("%w: key %d: not an SM2 public key", ErrBadTrustList, i)
			}
			if kid == ([smcrypto.KeyIDSize]byte{}) {
				kid = smcrypto.KeyID(k.PublicKey)
			}
		}
		kw.KID = kid[:]
		for _, kind := range k.Kinds {
			kw.Kinds = append(kw.Kinds, KindCode(kind))
		}
		for _, p := range k.Profiles {
			kw.Profiles = append(kw.Profiles, uint64(p))
		}
		w.Keys[i] = kw
	}
	for i, a := range list.NextAnchors {
		pub := smcrypto.MarshalPublicKey(a.PublicKey)
		if pub == nil {
			return nil, fmt.Errorf("%w: next anchor %d: not an SM2 public key", ErrBadTrustList, i)
		}
		kid := a.KID
		if kid == ([smcrypto.KeyIDSize]byte{}) {
			kid = smcrypto.KeyID(a.PublicKey)
		}
		w.NextAnchors = append(w.NextAnchors, anchorWire{KID: kid[:], PublicKey: pub})
	}
	if _, err := listFromWire(&w); err != nil {
		return nil, err
	}
	payload, err := encMode.Marshal(&w)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadTrustList, err)
	}
	signer, err := smcose.NewSigner(key)
	if err != nil {
		return nil, fmt.Errorf("qr: trust list key: %w", err)
	}
	return sign1(signer, smcrypto.KeyID(&key.PublicKey), TrustListType, payload, rand)
}

// ParseTrustList verifies and decodes a trust list made by SignTrustList.
// The list must be signed (alg smcose.AlgorithmSM2, typ TrustListType) by
// one of pinned, found by kid = smcrypto.KeyID. It returns
// ErrBadTrustList (malformed, over MaxTrustListSize, wrong alg or typ, or an
// invalid entry), ErrUntrustedTrustList (kid not pinned) or
// ErrTrustListSignature. It does not check freshness or sequence: that is
// TrustStore's and the Verifier's job.
func ParseTrustList(data []byte, pinned []*ecdsa.PublicKey) (*TrustList, error) {
	if len(data) > MaxTrustListSize {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrBadTrustList, len(data), MaxTrustListSize)
	}
	env, err := parseEnvelope(data, trustEnvelopeMode, trustListMode, true)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadTrustList, err)
	}
	if env.alg != smcose.AlgorithmSM2 {
		return nil, fmt.Errorf("%w: alg is not SM2", ErrBadTrustList)
	}
	if !env.hasTyp || env.typ != TrustListType {
		return nil, fmt.Errorf("%w: typ is not %s", ErrBadTrustList, TrustListType)
	}
	var signer *ecdsa.PublicKey
	for _, p := range pinned {
		if smcrypto.KeyID(p) == env.kid && smcrypto.MarshalPublicKey(p) != nil {
			signer = p
			break
		}
	}
	if signer == nil {
		return nil, fmt.Errorf("%w: kid %x", ErrUntrustedTrustList, env.kid)
	}
	v, err := smcose.NewVerifier(signer)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUntrustedTrustList, err)
	}
	if err := env.verify(v); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrTrustListSignature, err)
	}
	var w trustListWire
	if major(env.msg.Payload) != majorMap {
		return nil, fmt.Errorf("%w: payload is not a map", ErrBadTrustList)
	}
	if err := trustListMode.Unmarshal(env.msg.Payload, &w); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadTrustList, err)
	}
	l, err := listFromWire(&w)
	if err != nil {
		return nil, err
	}
	l.SignerKID = env.kid
	return l, nil
}

// listFromWire validates the wire form and builds the TrustList.
func listFromWire(w *trustListWire) (*TrustList, error) {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrBadTrustList, fmt.Sprintf(format, a...))
	}
	if w.Sequence == 0 {
		return nil, bad("sequence must be at least 1")
	}
	if w.IssuedAt == 0 || w.ExpiresAt <= w.IssuedAt || w.ExpiresAt >= maxNumericDate {
		return nil, bad("want 0 < issued < expires < 2^33")
	}
	if len(w.Keys) > MaxTrustListKeys {
		return nil, bad("%d keys, limit %d", len(w.Keys), MaxTrustListKeys)
	}
	l := &TrustList{
		Sequence:  w.Sequence,
		IssuedAt:  time.Unix(int64(w.IssuedAt), 0),
		ExpiresAt: time.Unix(int64(w.ExpiresAt), 0),
		Keys:      make([]TrustedKey, len(w.Keys)),
	}
	for i := range w.Keys {
		kw := &w.Keys[i]
		k := &l.Keys[i]
		if len(kw.KID) != smcrypto.KeyIDSize {
			return nil, bad("key %d: kid must be %d bytes", i, smcrypto.KeyIDSize)
		}
		copy(k.KID[:], kw.KID)
		if l.Key(k.KID) != k {
			return nil, bad("key %d: duplicate kid %x", i, k.KID)
		}
		var err error
		switch {
		case kw.PublicKey != nil && kw.Certificate == nil:
			if k.PublicKey, err = smcrypto.ParsePublicKey(kw.PublicKey); err != nil {
				return nil, bad("key %d: %v", i, err)
			}
			if smcrypto.KeyID(k.PublicKey) != k.KID {
				return nil, bad("key %d: kid does not match the key", i)
			}
		case kw.Certificate != nil && kw.PublicKey == nil:
			cert, err := smcrypto.ParseCertificate(kw.Certificate)
			if err != nil {
				return nil, bad("key %d: %v", i, err)
			}
			pub, ok := cert.PublicKey.(*ecdsa.PublicKey)
			if !ok || smcrypto.MarshalPublicKey(pub) == nil {
				return nil, bad("key %d: certificate key is not SM2", i)
			}
			if CertificateKeyID(kw.Certificate) != k.KID {
				return nil, bad("key %d: kid does not match the certificate", i)
			}
			k.PublicKey, k.Certificate = pub, kw.Certificate
		default:
			return nil, bad("key %d: want exactly one of public key and certificate", i)
		}
		if k.verifier, err = smcose.NewPreparedVerifier(k.PublicKey); err != nil {
			return nil, bad("key %d: %v", i, err)
		}
		if kw.Issuer == "" || len(kw.Issuer) > credentials.MaxTextLength {
			return nil, bad("key %d: issuer must be 1..%d bytes", i, credentials.MaxTextLength)
		}
		k.Issuer = kw.Issuer
		if len(kw.Kinds) == 0 || len(kw.Profiles) == 0 {
			return nil, bad("key %d: kinds and profiles must not be empty", i)
		}
		for _, c := range kw.Kinds {
			kind, ok := KindFromCode(c)
			if !ok {
				return nil, bad("key %d: unknown kind code %d", i, c)
			}
			k.Kinds = append(k.Kinds, kind)
		}
		for _, p := range kw.Profiles {
			if p > 255 || !DisplayProfile(p).Valid() {
				return nil, bad("key %d: unknown profile %d", i, p)
			}
			k.Profiles = append(k.Profiles, DisplayProfile(p))
		}
		if kw.NotAfter <= kw.NotBefore || kw.NotAfter >= maxNumericDate {
			return nil, bad("key %d: want not-before < not-after < 2^33", i)
		}
		k.NotBefore, k.NotAfter = time.Unix(int64(kw.NotBefore), 0), time.Unix(int64(kw.NotAfter), 0)
	}
	if w.NextAnchors != nil && len(w.NextAnchors) == 0 {
		return nil, bad("next anchors: empty array (omit the key instead)")
	}
	if len(w.NextAnchors) > MaxNextAnchors {
		return nil, bad("%d next anchors, limit %d", len(w.NextAnchors), MaxNextAnchors)
	}
	for i, aw := range w.NextAnchors {
		var a TrustAnchor
		if len(aw.KID) != smcrypto.KeyIDSize {
			return nil, bad("next anchor %d: kid must be %d bytes", i, smcrypto.KeyIDSize)
		}
		copy(a.KID[:], aw.KID)
		var err error
		if a.PublicKey, err = smcrypto.ParsePublicKey(aw.PublicKey); err != nil {
			return nil, bad("next anchor %d: %v", i, err)
		}
		if smcrypto.KeyID(a.PublicKey) != a.KID {
			return nil, bad("next anchor %d: kid does not match the key", i)
		}
		for _, prev := range l.NextAnchors {
			if prev.KID == a.KID {
				return nil, bad("next anchor %d: duplicate kid %x", i, a.KID)
			}
		}
		l.NextAnchors = append(l.NextAnchors, a)
	}
	return l, nil
}

func unixSeconds(t time.Time) uint64 {
	if t.Unix() < 0 {
		return 0
	}
	return uint64(t.Unix())
}
