package wallet

import (
	"errors"

	"github.com/tongban/tongban/qr"
)

// Errors of the wallet service. They are returned wrapped with detail that never contains
// personal data; test them with errors.Is. Mint also returns the credentials errors
// (ErrLicenceRevoked, ErrLicenceSuspended, ErrLicenceExpired, ErrLicenceNotYetValid) and the
// qr minting errors (ErrLicenceCount, ErrMixedHolders, ErrTooLong …), wrapped.
var (
	// ErrNotFound: no licence with that ID, kind or number is visible to the holder (a
	// licence of somebody else is reported as not found too).
	ErrNotFound = errors.New("wallet: licence not found")
	// ErrAmbiguous: the holder has several licences of one requested kind; name them by ID.
	ErrAmbiguous = errors.New("wallet: several licences of that kind; choose by ID")
	// ErrBadRequest: a code request names no licence, repeats one, names an unknown kind,
	// profile or field, or asks for fields outside the full-registration profile.
	ErrBadRequest = errors.New("wallet: bad code request")
	// ErrOutOfScope: the code-signing key's trust-list scope (ServiceConfig.Kinds,
	// ServiceConfig.Profiles) does not cover the requested kind or profile, so verifiers
	// would refuse the code.
	ErrOutOfScope = errors.New("wallet: kind or profile outside the code-signing key's scope")
	// ErrCorrupt: a stored licence does not open (wrong aad, tampered ciphertext) or does not
	// match its row.
	ErrCorrupt = errors.New("wallet: stored licence is corrupt")
	// ErrHolderChanged: a licence with the same kind, issuer and number is stored for another
	// holder; a licence never moves between holders.
	ErrHolderChanged = errors.New("holder differs from the stored licence; revoke it and issue a new one")
	// ErrBadAnchor: a trust-anchor file holds no SM2 public key or a malformed PEM block. It
	// is qr.ErrBadTrustAnchor: the parser lives in qr, for verifiers that do not link the wallet.
	ErrBadAnchor = qr.ErrBadTrustAnchor
	// ErrAnchorRotationPending: an anchor rotation is already prepared (a next trust-list key
	// exists); commit it first.
	ErrAnchorRotationPending = errors.New("wallet: a trust-anchor rotation is already prepared; commit it first")
	// ErrNoAnchorRotation: no anchor rotation is prepared, so there is nothing to commit.
	ErrNoAnchorRotation = errors.New("wallet: no trust-anchor rotation is prepared; run prepare first")
)
