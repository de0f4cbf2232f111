package storage

import (
	"context"
	"time"
)

// Passkey is a WebAuthn public key credential registered to a person: the credential record
// of W3C Web Authentication Level 3 §4 ("credential record"), as the relying party keeps it.
// Nothing in it is secret: the private key never leaves the authenticator.
type Passkey struct {
	// CredentialID is the credential ID the authenticator chose (§4 "Credential ID"): 16 to
	// 1023 bytes, unique across all people.
	CredentialID []byte
	// PersonID is the owner (People).
	PersonID string
	// PublicKey is the credential public key as a COSE_Key (RFC 9052 §7), CBOR bytes exactly
	// as the attested credential data carried them.
	PublicKey []byte
	// SignCount is the signature counter last seen (§6.1.1); 0 for authenticators without one.
	SignCount uint32
	// AAGUID identifies the authenticator model (16 bytes; all zero when not attested).
	AAGUID []byte
	// AttestationType is the attestation type of the registration ("none", "self", "basic_full"…)
	// and AttestationFormat its statement format ("none", "packed", …).
	AttestationType   string
	AttestationFormat string
	// Transports are the transport hints the client reported ("internal", "hybrid", "usb"…),
	// in its order; nil when it reported none.
	Transports []string
	// UserVerified is the credential record's uvInitialized: the registration verified the user.
	UserVerified bool
	// BackupEligible (BE) says whether the credential may be synced to other devices (a
	// multi-device credential); it never changes after registration (§6.1.3).
	BackupEligible bool
	// BackupState (BS) says whether it is backed up now; it may change at each assertion.
	BackupState bool
	// CloneWarning is set when an assertion's signature counter did not increase (§6.1.1): a
	// cloned or broken authenticator. Such a passkey no longer logs in.
	CloneWarning bool
	// Name is the person's label for it ("我的手机"), at most 64 characters.
	Name string
	// CreatedAt is when it was registered; LastUsedAt when it last logged in (nil: never).
	CreatedAt  time.Time
	LastUsedAt *time.Time
}

// Passkeys stores people's WebAuthn credentials and their WebAuthn user handles.
//
// A user handle (WebAuthn §5.4.3 user.id) is a random value of at most 64 bytes that an
// authenticator stores with a discoverable credential and returns at each login; it is what a
// passwordless login finds the person by. It is neither the person ID nor any identity number,
// so an authenticator holds nothing that names the person outside this database.
type Passkeys interface {
	// EnsurePasskeyUserHandle returns the person's user handle, storing handle as it when the
	// person has none yet (a concurrent caller's handle may win: the stored one is returned).
	// ErrNotFound when the person does not exist; ErrConflict when handle belongs to another
	// person.
	EnsurePasskeyUserHandle(ctx context.Context, personID string, handle []byte) ([]byte, error)
	// PersonByPasskeyUserHandle returns the ID of the person with that user handle, or
	// ErrNotFound.
	PersonByPasskeyUserHandle(ctx context.Context, handle []byte) (string, error)
	// CreatePasskey inserts pk. ErrConflict when the credential ID is registered already (to
	// anyone); ErrNotFound when the person does not exist.
	CreatePasskey(ctx context.Context, pk Passkey) error
	// GetPasskey returns the passkey with that credential ID, or ErrNotFound.
	GetPasskey(ctx context.Context, credentialID []byte) (Passkey, error)
	// ListPasskeys returns the person's passkeys, oldest first (then by credential ID); none
	// is an empty list.
	ListPasskeys(ctx context.Context, personID string) ([]Passkey, error)
	// UpdatePasskey reads the passkey of personID with that credential ID, applies fn and
	// writes the result in one transaction that holds the row, so concurrent updates (two
	// assertions racing with one signature counter) are serialised. fn must not change
	// CredentialID or PersonID. ErrNotFound when there is no such passkey of that person;
	// fn's error is returned as is and nothing is written.
	UpdatePasskey(ctx context.Context, personID string, credentialID []byte, fn func(*Passkey) error) error
	// DeletePasskey removes the passkey of personID with that credential ID; ErrNotFound when
	// there is none (also when it belongs to someone else).
	DeletePasskey(ctx context.Context, personID string, credentialID []byte) error
}
