package storage

import (
	"context"
	"errors"
	"time"
)

// ErrWrongCode: a one-time code was checked and did not match (SelfService.CheckAccessRecoveryCode);
// the attempt was counted.
var ErrWrongCode = errors.New("storage: wrong code")

// AccessRecoveryCode is the one-time code that lets a person who forgot the password set a new one
// (package accounts, "recover access"). At most one is live per person: a new one replaces it.
// Storage never sees the code itself, only a keyed hash of it (accounts: HMAC-SM3 with the
// blind-index key over the person ID and the code, 32 bytes), so a copy of the database does
// not give the codes away and a short code cannot be brute-forced offline.
type AccessRecoveryCode struct {
	PersonID  string
	CodeHash  []byte // keyed hash of the code, 32 bytes
	CreatedAt time.Time
	ExpiresAt time.Time
	Attempts  int // wrong codes tried against it so far
}

// SelfService is what the citizen's own account pages need beyond the other interfaces: the
// list of their sessions on every device, their remembered consents, the grants an app holds
// for them, and the one-time codes of access recovery.
type SelfService interface {
	// ListLoginSessionsForPerson returns the person's live sessions (ExpiresAt after now),
	// most recently seen first (LastSeen, then CreatedAt, both descending, then ID). None is
	// an empty list.
	ListLoginSessionsForPerson(ctx context.Context, personID string, now time.Time) ([]LoginSession, error)
	// TouchLoginSession records that the session was used at at: LastSeen becomes at when at
	// is later than the stored value (it never goes back). ErrNotFound when the session does
	// not exist.
	TouchLoginSession(ctx context.Context, id string, at time.Time) error

	// ListConsents returns every remembered consent of the person, ordered by ClientID. None
	// is an empty list.
	ListConsents(ctx context.Context, personID string) ([]Consent, error)

	// ListGrants returns the distinct request IDs (grants) of the token records of subject —
	// authorization codes, refresh and stored access tokens alike, active or not — that expire
	// after now, of clientID, or of every client when clientID is "". In byte order; none is an empty
	// list. The caller revokes each grant (fosite's RevokeRefreshToken and RevokeAccessToken),
	// which also reaches the sealed access tokens through Revocations.
	ListGrants(ctx context.Context, subject, clientID string, now time.Time) ([]string, error)

	// PutAccessRecoveryCode stores c as the person's live recovery code, replacing any earlier one
	// (Attempts as given, normally 0). ErrNotFound when the person does not exist.
	PutAccessRecoveryCode(ctx context.Context, c AccessRecoveryCode) error
	// CheckAccessRecoveryCode redeems the person's recovery code when codeHash matches, it has not
	// expired at now and fewer than maxAttempts wrong codes were tried against it: the code is
	// deleted (single use, atomic: exactly one of concurrent redeemers gets nil). Otherwise:
	// ErrNotFound when the person has no code; ErrExpired when it expired; ErrAlreadyUsed
	// when maxAttempts wrong codes were tried already (the code is dead); ErrWrongCode when
	// codeHash does not match, after counting the attempt. The hashes are compared by the
	// database: they are keyed hashes, so the timing of the comparison tells nothing about
	// the code.
	CheckAccessRecoveryCode(ctx context.Context, personID string, codeHash []byte, now time.Time, maxAttempts int) error
	// DeleteAccessRecoveryCode removes the person's code, if any (no error when there is none).
	DeleteAccessRecoveryCode(ctx context.Context, personID string) error
	// PurgeAccessRecoveryCodes deletes the codes that expired before t; returns how many.
	PurgeAccessRecoveryCodes(ctx context.Context, before time.Time) (int64, error)
}
