package storage

import (
	"context"
	"time"
)

// People administration and corrections (纠错), issue 9 part C (migration 00016): the
// single-use password-reset links a service hall hands over, and the corrections a person
// files against their own records.

// PasswordReset is a single-use link that lets a person set a new password, issued by an
// operator after checking the person's papers (accounts.Service.IssuePasswordReset). Storage
// never sees the token of the link, only its keyed hash (HMAC-SM3, 32 bytes), so a copy of the
// database gives no link away. At most one is live per person: a new one replaces the others.
type PasswordReset struct {
	TokenHash []byte // keyed hash of the link's token, 32 bytes, unique
	PersonID  string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// PasswordResets stores password-reset links.
type PasswordResets interface {
	// PutPasswordReset stores r and deletes every other link of r.PersonID, in one
	// transaction. ErrNotFound when the person does not exist; ErrConflict when the hash exists.
	PutPasswordReset(ctx context.Context, r PasswordReset) error
	// GetPasswordReset returns the link with that token hash, or ErrNotFound; ErrExpired when
	// it expired at now (ExpiresAt <= now). It does not use the link up.
	GetPasswordReset(ctx context.Context, tokenHash []byte, now time.Time) (PasswordReset, error)
	// RedeemPasswordReset uses up the link with that token hash and returns it: exactly one of
	// any number of concurrent redeemers gets nil. ErrNotFound when there is no such link (or
	// it was redeemed already); ErrExpired when it expired at now (it stays until purged).
	RedeemPasswordReset(ctx context.Context, tokenHash []byte, now time.Time) (PasswordReset, error)
	// DeletePasswordResets deletes every link of the person; returns how many.
	DeletePasswordResets(ctx context.Context, personID string) (int64, error)
	// PurgePasswordResets deletes the links that expired before t; returns how many.
	PurgePasswordResets(ctx context.Context, before time.Time) (int64, error)
}

// CorrectionStatus is the state of a correction: pending, then applied or rejected (final).
type CorrectionStatus string

const (
	CorrectionPending  CorrectionStatus = "pending"  // filed, waiting for an operator
	CorrectionApplied  CorrectionStatus = "applied"  // the record was changed
	CorrectionRejected CorrectionStatus = "rejected" // refused, with a reason in DecisionNote
)

// Correction is a person's request to correct their own records (纠错): a field of their person
// record (Target "person") or of one of their licences (Target "licence:<licence ID>").
// The proposed value may be personal data, so it is sealed (SM4-GCM, by the caller); the
// current value is kept only masked, to show what is being changed.
type Correction struct {
	ID             string // opaque, random
	PersonID       string
	Target         string // "person" or "licence:<licence ID>"
	Field          string // "name", "phone", or a field name of the licence's kind
	CurrentMasked  string // the value at filing, masked; safe to show
	ProposedSealed []byte // the proposed value, sealed by the caller
	Reason         string // the person's explanation, at most a few hundred characters
	Status         CorrectionStatus
	FiledAt        time.Time
	DecidedAt      time.Time // zero while pending
	DecidedBy      string    // actor ID of the decision ("" while pending)
	DecisionNote   string    // the operator's note (applied) or reason (rejected)
}

// CorrectionQuery selects corrections (ListCorrections). Zero fields do not filter.
type CorrectionQuery struct {
	Status   CorrectionStatus
	PersonID string
	// Offset skips that many of the selected corrections; Limit bounds the answer (required,
	// > 0). They come newest first (FiledAt descending, then ID descending), or oldest first
	// (FiledAt, then ID, ascending) with OldestFirst — the order of a work queue.
	Offset      int
	Limit       int
	OldestFirst bool
}

// Corrections stores corrections.
type Corrections interface {
	// CreateCorrection inserts c; ErrConflict when the ID exists, ErrNotFound when the person
	// does not exist.
	CreateCorrection(ctx context.Context, c Correction) error
	// GetCorrection returns the correction or ErrNotFound.
	GetCorrection(ctx context.Context, id string) (Correction, error)
	// ListCorrections returns the corrections q selects. None is an empty list.
	ListCorrections(ctx context.Context, q CorrectionQuery) ([]Correction, error)
	// CountPendingCorrections returns how many of the person's corrections are pending.
	CountPendingCorrections(ctx context.Context, personID string) (int, error)
	// DecideCorrection moves a pending correction to status (CorrectionApplied or
	// CorrectionRejected) with the decision's time, actor and note, atomically: exactly one of
	// concurrent deciders gets nil. ErrNotFound when there is no such correction;
	// ErrAlreadyUsed when it is no longer pending.
	DecideCorrection(ctx context.Context, id string, status CorrectionStatus, at time.Time, by, note string) error
}
