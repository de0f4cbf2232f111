package qr

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"io"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/fxamacker/cbor/v2"

	smcrypto "github.com/tongban/tongban/sm-crypto"
	"github.com/tongban/tongban/sm-crypto/smcose"
)

// StatusListType is the typ (COSE header 16) of a status list: the media type of
// draft-ietf-oauth-status-list's Status List Token in CWT form. Codes carry no typ and trust
// lists carry TrustListType, so none of the three can pass for another.
const StatusListType = "application/statuslist+cwt"

// Status list limits.
const (
	// MaxStatusListSize is the largest signed status list ParseStatusList reads, in bytes.
	MaxStatusListSize = 1 << 20
	// MaxStatusEntries is the largest number of entries a status list may hold (its
	// decompressed lst is at most MaxStatusEntries/4 bytes: 1 MiB).
	MaxStatusEntries = 1 << 22
	// DefaultStatusListValidity is exp − iat of a status list when the wallet is not told
	// otherwise.
	DefaultStatusListValidity = time.Hour
	// PrefetchMaxValidity is the longest exp − iat of a pre-fetched code (one that carries
	// ClaimStatus). Codes without it keep their profile's MaxValidity (60 s).
	PrefetchMaxValidity = 24 * time.Hour
)

// StatusBits is the number of bits per entry of the lists this package writes.
const StatusBits = 2

// Status values in a status list (draft-ietf-oauth-status-list §7.1).
const (
	StatusValid     uint8 = 0 // VALID
	StatusInvalid   uint8 = 1 // INVALID: revoked (final)
	StatusSuspended uint8 = 2 // SUSPENDED: may become valid again
)

// Claim keys of a status list payload (CWT claims, draft-ietf-oauth-status-list §5.2).
const (
	slClaimExp        = 4     // exp
	slClaimIat        = 6     // iat
	slClaimStatusList = 65533 // status_list: {"bits": 1|2, "lst": zlib bytes}
	slClaimTTL        = 65534 // ttl: seconds a verifier may cache it before fetching anew
)

// StatusList is a signed list of licence statuses, indexed by the status index a pre-fetched
// code carries (ClaimStatus). It is signed by a code-signing key of the trust list
// (docs/formats/qr-payload.md §15).
type StatusList struct {
	// IssuedAt and ExpiresAt bound the list's freshness (whole seconds).
	IssuedAt, ExpiresAt time.Time
	// TTL is how long a verifier may use the list before fetching a new one (advisory).
	TTL time.Duration
	// Bits is 1 or 2 per entry.
	Bits int
	// Statuses holds one value per index (StatusValid, StatusInvalid, StatusSuspended; with
	// Bits 1 only the first two).
	Statuses []uint8
	// SignerKID is the kid of the signing key. Set by ParseStatusList.
	SignerKID [smcrypto.KeyIDSize]byte
}

// Status returns the status at index idx, and false when the list does not cover it.
func (l *StatusList) Status(idx uint64) (uint8, bool) {
	if l == nil || idx >= uint64(len(l.Statuses)) {
		return 0, false
	}
	return l.Statuses[idx], true
}

type statusListInner struct {
	Bits uint64 `cbor:"bits"`
	Lst  []byte `cbor:"lst"`
}

type statusListWire struct {
	Exp        uint64          `cbor:"4,keyasint"`
	Iat        uint64          `cbor:"6,keyasint"`
	StatusList statusListInner `cbor:"65533,keyasint"`
	TTL        uint64          `cbor:"65534,keyasint"`
}

// packStatuses packs statuses with bits per entry, least significant bits first
// (draft-ietf-oauth-status-list §4.1), and compresses them with zlib (RFC 1950).
func packStatuses(st []uint8, bits int) ([]byte, error) {
	perByte := 8 / bits
	raw := make([]byte, (len(st)+perByte-1)/perByte)
	for i, s := range st {
		if int(s) >= 1<<bits {
			return nil, fmt.Errorf("status %d at index %d does not fit %d bits", s, i, bits)
		}
		raw[i/perByte] |= s << (uint(i%perByte) * uint(bits))
	}
	var buf bytes.Buffer
	w, _ := zlib.NewWriterLevel(&buf, zlib.BestCompression)
	if _, err := w.Write(raw); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// unpackStatuses decompresses lst (at most MaxStatusEntries entries) and unpacks it.
func unpackStatuses(lst []byte, bits int) ([]uint8, error) {
	zr, err := zlib.NewReader(bytes.NewReader(lst))
	if err != nil {
		return nil, fmt.Errorf("lst: %v", err)
	}
	defer zr.Close()
	limit := int64(MaxStatusEntries * bits / 8)
	raw, err := io.ReadAll(io.LimitReader(zr, limit+1))
	if err != nil {
		return nil, fmt.Errorf("lst: %v", err)
	}
	if int64(len(raw)) > limit {
		return nil, fmt.Errorf("lst: more than %d entries", MaxStatusEntries)
	}
	perByte := 8 / bits
	mask := uint8(1<<bits - 1)
	st := make([]uint8, len(raw)*perByte)
	for i := range st {
		v := raw[i/perByte] >> (uint(i%perByte) * uint(bits)) & mask
		if v > StatusSuspended {
			return nil, fmt.Errorf("lst: unknown status %d at index %d", v, i)
		}
		st[i] = v
	}
	return st, nil
}

// SignStatusList returns list as a tagged COSE_Sign1 signed by key, with protected header
// {alg: smcose.AlgorithmSM2, kid, typ: StatusListType} and the deterministic CBOR of the
// list as payload. A zero kid means smcrypto.KeyID(&key.PublicKey). rand (nil:
// crypto/rand.Reader) feeds the SM2 nonce. ErrBadStatusList when the list breaks a rule
// ParseStatusList enforces.
func SignStatusList(list *StatusList, key *sm2.PrivateKey, kid [smcrypto.KeyIDSize]byte, rand io.Reader) ([]byte, error) {
	if list == nil {
		return nil, fmt.Errorf("%w: nil list", ErrBadStatusList)
	}
	if key == nil {
		return nil, ErrNoKey
	}
	if list.Bits != 1 && list.Bits != 2 {
		return nil, fmt.Errorf("%w: bits %d, want 1 or 2", ErrBadStatusList, list.Bits)
	}
	if len(list.Statuses) > MaxStatusEntries {
		return nil, fmt.Errorf("%w: %d entries, limit %d", ErrBadStatusList, len(list.Statuses), MaxStatusEntries)
	}
	lst, err := packStatuses(list.Statuses, list.Bits)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadStatusList, err)
	}
	w := statusListWire{
		Exp: unixSeconds(list.ExpiresAt), Iat: unixSeconds(list.IssuedAt),
		StatusList: statusListInner{Bits: uint64(list.Bits), Lst: lst},
		TTL:        uint64(list.TTL / time.Second),
	}
	if err := checkStatusWire(&w); err != nil {
		return nil, err
	}
	payload, err := encMode.Marshal(&w)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadStatusList, err)
	}
	signer, err := smcose.NewSigner(key)
	if err != nil {
		return nil, fmt.Errorf("qr: status list key: %w", err)
	}
	if kid == ([smcrypto.KeyIDSize]byte{}) {
		kid = smcrypto.KeyID(&key.PublicKey)
	}
	return sign1(signer, kid, StatusListType, payload, rand)
}

func checkStatusWire(w *statusListWire) error {
	if w.Iat == 0 || w.Exp <= w.Iat || w.Exp >= maxNumericDate {
		return fmt.Errorf("%w: want 0 < iat < exp < 2^33", ErrBadStatusList)
	}
	if b := w.StatusList.Bits; b != 1 && b != 2 {
		return fmt.Errorf("%w: bits %d, want 1 or 2", ErrBadStatusList, b)
	}
	if w.TTL >= maxNumericDate {
		return fmt.Errorf("%w: ttl too large", ErrBadStatusList)
	}
	return nil
}

// ParseStatusList verifies and decodes a status list made by SignStatusList. Its kid must
// name a key of trust (ErrUntrustedStatusList) whose usage window holds the list's iat;
// the signature must verify with it (ErrStatusListSignature). Other errors wrap
// ErrBadStatusList. Freshness is checked by the Verifier, not here.
func ParseStatusList(data []byte, trust *TrustList) (*StatusList, error) {
	if len(data) > MaxStatusListSize {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrBadStatusList, len(data), MaxStatusListSize)
	}
	env, err := parseEnvelope(data, trustEnvelopeMode, trustListMode, true)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadStatusList, err)
	}
	if env.alg != smcose.AlgorithmSM2 {
		return nil, fmt.Errorf("%w: alg is not SM2", ErrBadStatusList)
	}
	if !env.hasTyp || env.typ != StatusListType {
		return nil, fmt.Errorf("%w: typ is not %s", ErrBadStatusList, StatusListType)
	}
	if trust == nil {
		return nil, fmt.Errorf("%w: no trust list", ErrUntrustedStatusList)
	}
	key := trust.Key(env.kid)
	if key == nil {
		return nil, fmt.Errorf("%w: kid %x is not in the trust list", ErrUntrustedStatusList, env.kid)
	}
	cv, err := key.coseVerifier()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUntrustedStatusList, err)
	}
	if err := env.verify(cv); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrStatusListSignature, err)
	}
	if major(env.msg.Payload) != majorMap {
		return nil, fmt.Errorf("%w: payload is not a map", ErrBadStatusList)
	}
	var w statusListWire
	if err := trustListMode.Unmarshal(env.msg.Payload, &w); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadStatusList, err)
	}
	// Every claim is required (a missing one would decode as zero); unknown ones are refused
	// by the strict mode.
	var keys map[int64]cbor.RawMessage
	if err := trustListMode.Unmarshal(env.msg.Payload, &keys); err != nil || len(keys) != 4 {
		return nil, fmt.Errorf("%w: want exactly exp, iat, status_list and ttl", ErrBadStatusList)
	}
	var inner map[string]cbor.RawMessage
	if err := trustListMode.Unmarshal(keys[slClaimStatusList], &inner); err != nil || len(inner) != 2 {
		return nil, fmt.Errorf("%w: status_list must be exactly {bits, lst}", ErrBadStatusList)
	}
	for _, k := range []int64{slClaimExp, slClaimIat, slClaimTTL} {
		if major(keys[k]) != majorUint {
			return nil, fmt.Errorf("%w: claim %d must be an unsigned integer", ErrBadStatusList, k)
		}
	}
	if err := checkStatusWire(&w); err != nil {
		return nil, err
	}
	st, err := unpackStatuses(w.StatusList.Lst, int(w.StatusList.Bits))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadStatusList, err)
	}
	l := &StatusList{
		IssuedAt: time.Unix(int64(w.Iat), 0), ExpiresAt: time.Unix(int64(w.Exp), 0),
		TTL: time.Duration(w.TTL) * time.Second, Bits: int(w.StatusList.Bits), Statuses: st,
		SignerKID: env.kid,
	}
	if !key.UsableAt(l.IssuedAt) {
		return nil, fmt.Errorf("%w: iat outside the usage window of key %x", ErrUntrustedStatusList, env.kid)
	}
	return l, nil
}
