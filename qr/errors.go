package qr

import (
	"errors"
	"fmt"
)

// Verification errors, one per failure, in the order Verifier.Verify checks
// (DESIGN §5). Verify returns an error wrapping exactly one of them; test
// with errors.Is. The wrapped text adds detail for logs and never contains
// personal data.
var (
	// ErrTooLong: the text is longer than MaxTextLength characters.
	ErrTooLong = errors.New("qr: code too long")
	// ErrBadPrefix: the text does not start with Prefix ("LZ1:").
	ErrBadPrefix = errors.New("qr: not an LZ1 code (bad prefix)")
	// ErrBadBase45: the text after the prefix is not strict Base45
	// (RFC 9285): a character outside the alphabet, a chunk value over
	// 65535, a final pair over 255, or a dangling single character.
	ErrBadBase45 = errors.New("qr: bad base45")
	// ErrBadCBOR: the bytes are not a strict tagged COSE_Sign1 (tag 18,
	// array of 4, protected header {alg, kid} only, empty unprotected
	// header, byte-string payload and signature), or CBOR anywhere in it is
	// malformed, uses indefinite lengths, repeats a map key or exceeds the
	// size caps.
	ErrBadCBOR = errors.New("qr: bad CBOR")
	// ErrWrongAlgorithm: the protected alg is not smcose.AlgorithmSM2.
	ErrWrongAlgorithm = errors.New("qr: wrong signature algorithm")
	// ErrStaleTrustList: there is no trust list, or the current time is past
	// its ExpiresAt; nothing verifies until a fresh list is loaded.
	ErrStaleTrustList = errors.New("qr: stale trust list")
	// ErrUnknownKey: the kid is not in the trust list.
	ErrUnknownKey = errors.New("qr: unknown signing key")
	// ErrBadSignature: the SM2 signature does not verify with the listed key.
	ErrBadSignature = errors.New("qr: bad signature")
	// ErrBadClaims: the signed payload is not exactly the claims of
	// docs/formats/qr-payload.md (iat, exp, cti, display) with the types and
	// the display-profile layout specified there.
	ErrBadClaims = errors.New("qr: bad claims")
	// ErrKeyNotAllowed: the key's trust-list entry does not allow this
	// display profile or a licence kind in the code, or iat lies outside the
	// key's usage window (NotBefore, NotAfter).
	ErrKeyNotAllowed = errors.New("qr: key not allowed for this kind or profile")
	// ErrNotYetValid: iat is later than now plus the clock skew.
	ErrNotYetValid = errors.New("qr: code not yet valid")
	// ErrExpired: now is later than exp plus the clock skew.
	ErrExpired = errors.New("qr: code expired")
	// ErrValidityTooLong: exp − iat exceeds the profile's MaxValidity.
	ErrValidityTooLong = errors.New("qr: validity window too long")
	// ErrReplayed: the cti was already accepted (ReplayCache).
	ErrReplayed = errors.New("qr: code replayed")
)

// Trust-list errors (ParseTrustList, TrustStore.Update, VerifierState.UpdateTrustList).
var (
	// ErrBadTrustList: the trust list is not a strict tagged COSE_Sign1 with
	// protected {alg, kid, typ = TrustListType} over the CBOR of
	// docs/formats/qr-payload.md, or an entry is invalid (key not SM2, kid
	// not matching the key, unknown kind or profile, empty window,
	// duplicate kid), or SignTrustList was given such a list.
	ErrBadTrustList = errors.New("qr: bad trust list")
	// ErrUntrustedTrustList: the trust list's kid is not one of the pinned
	// trust-list keys.
	ErrUntrustedTrustList = errors.New("qr: trust list signed by a key that is not pinned")
	// ErrTrustListSignature: the trust list's signature does not verify.
	ErrTrustListSignature = errors.New("qr: bad trust list signature")
	// ErrTrustListRollback: the list's Sequence is lower than the one held,
	// or equal to it with different content.
	ErrTrustListRollback = errors.New("qr: trust list rolled back")
	// ErrRetiredAnchor: the trust list is signed by an installed trust anchor that a
	// VerifierState retired when it switched to the anchor that one announced. It wraps
	// ErrUntrustedTrustList.
	ErrRetiredAnchor = fmt.Errorf("%w: the signing anchor was retired", ErrUntrustedTrustList)
)

// ErrBadVerifierState: a VerifierSnapshot holds a trust anchor that is not the hex of an SM2
// public key in 65-byte SEC 1 form (NewVerifierState).
var ErrBadVerifierState = errors.New("qr: bad verifier state")

// Minting errors (Minter.Mint). Mint also returns the credentials errors
// ErrLicenceRevoked, ErrLicenceSuspended, ErrLicenceExpired,
// ErrLicenceNotYetValid and Validate's errors, wrapped.
var (
	// ErrUnknownProfile: a DisplayProfile other than 1, 2 or 3.
	ErrUnknownProfile = errors.New("qr: unknown display profile")
	// ErrLicenceCount: profiles 1 and 2 take exactly one licence; profile 3
	// takes 2 to MaxBundle.
	ErrLicenceCount = errors.New("qr: wrong number of licences for the display profile")
	// ErrMixedHolders: the licences of a bundle do not share one holder.
	ErrMixedHolders = errors.New("qr: bundle licences have different holders")
	// ErrPrefetchProfile: Minter.StatusIndex (a pre-fetched code) with a profile other than
	// ProfileMaskedIdentity.
	ErrPrefetchProfile = errors.New("qr: only masked-identity codes may be pre-fetched")
	// ErrNoKey: the Minter has no private key.
	ErrNoKey = errors.New("qr: minter has no key")
)

// Status-list errors (ParseStatusList; Verifier.Verify for codes that carry ClaimStatus).
var (
	// ErrBadStatusList: the status list is not a strict tagged COSE_Sign1 with protected
	// {alg, kid, typ = StatusListType} over exactly {exp, iat, status_list: {bits, lst},
	// ttl}, or lst is not zlib data of at most MaxStatusEntries known statuses.
	ErrBadStatusList = errors.New("qr: bad status list")
	// ErrUntrustedStatusList: the status list's kid is not a key of the trust list, or its
	// iat lies outside that key's usage window.
	ErrUntrustedStatusList = errors.New("qr: status list signed by a key not in the trust list")
	// ErrStatusListSignature: the status list's signature does not verify.
	ErrStatusListSignature = errors.New("qr: bad status list signature")
	// ErrStatusListMissing: the code carries a status index but the verifier holds no status
	// list, or the list does not cover the index, or its signer is no longer in the trust list.
	ErrStatusListMissing = errors.New("qr: status list missing")
	// ErrStatusListStale: the code carries a status index and the status list held has
	// expired (or is issued in the future).
	ErrStatusListStale = errors.New("qr: stale status list")
	// ErrStatusRevoked: the status list says the licence is revoked (INVALID).
	ErrStatusRevoked = errors.New("qr: licence revoked")
	// ErrStatusSuspended: the status list says the licence is suspended.
	ErrStatusSuspended = errors.New("qr: licence suspended")
)
