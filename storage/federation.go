package storage

import (
	"context"
	"time"
)

// FederationSubordinate is an entity this instance vouches for as its superior in an OpenID
// Federation (联邦下级实体, OpenID Federation 1.0 §3): the subordinate statement served at
// /federation/fetch is built from it. Added by `idp federation subordinate add`.
type FederationSubordinate struct {
	EntityID string // the subordinate's entity ID (an https URL)
	// JWKS is the subordinate's federation entity keys, a JWK Set document (RFC 7517 §5),
	// checked by the operator out of band.
	JWKS        []byte
	EntityTypes []string // its entity types, e.g. "openid_relying_party" (the list filter)
	// MetadataPolicy is the metadata_policy claim (JSON object) or nil; Constraints the
	// constraints claim (JSON object) or nil. Stored as given; the caller validates them.
	MetadataPolicy []byte
	Constraints    []byte
	CreatedAt      time.Time
	UpdatedAt      time.Time
	CreatedBy      string // audit actor ID
	UpdatedBy      string
}

// FederationAnchor is a trust anchor (信任锚) this instance resolves chains to: its entity ID
// and keys, configured out of band (`idp federation anchor add`).
type FederationAnchor struct {
	EntityID  string
	JWKS      []byte // JWK Set document
	CreatedAt time.Time
	CreatedBy string
}

// FederationAuthorityHint is a superior of this instance (its entity configuration's
// authority_hints).
type FederationAuthorityHint struct {
	EntityID  string
	CreatedAt time.Time
	CreatedBy string
}

// IssuedTrustMark records a trust mark this instance issued as trust-mark issuer (信任标志).
type IssuedTrustMark struct {
	ID        string // random identifier of the record
	Type      string // trust_mark_type, a URI
	Subject   string // the entity ID it is about
	IssuedAt  time.Time
	ExpiresAt *time.Time // nil: does not expire
	CreatedBy string
}

// HeldTrustMark is a trust mark issued to this instance that its entity configuration
// publishes (trust_marks claim); one per type.
type HeldTrustMark struct {
	Type      string // trust_mark_type
	TrustMark string // the JWT
	AddedAt   time.Time
	AddedBy   string
}

// Federation stores this instance's OpenID Federation configuration (migrations 00025, 00026).
type Federation interface {
	// CreateFederationSubordinate inserts s; ErrConflict when the entity ID exists.
	CreateFederationSubordinate(ctx context.Context, s FederationSubordinate) error
	// GetFederationSubordinate returns the subordinate or ErrNotFound.
	GetFederationSubordinate(ctx context.Context, entityID string) (FederationSubordinate, error)
	// ListFederationSubordinates returns every subordinate ordered by entity ID.
	ListFederationSubordinates(ctx context.Context) ([]FederationSubordinate, error)
	// DeleteFederationSubordinate removes it; ErrNotFound when missing.
	DeleteFederationSubordinate(ctx context.Context, entityID string) error

	// CreateFederationAnchor inserts a; ErrConflict when the entity ID exists.
	CreateFederationAnchor(ctx context.Context, a FederationAnchor) error
	// ListFederationAnchors returns every anchor ordered by entity ID.
	ListFederationAnchors(ctx context.Context) ([]FederationAnchor, error)
	// DeleteFederationAnchor removes it; ErrNotFound when missing.
	DeleteFederationAnchor(ctx context.Context, entityID string) error

	// CreateFederationAuthorityHint inserts h; ErrConflict when the entity ID exists.
	CreateFederationAuthorityHint(ctx context.Context, h FederationAuthorityHint) error
	// ListFederationAuthorityHints returns the hints ordered by CreatedAt, then entity ID
	// (the order the entity configuration lists them in).
	ListFederationAuthorityHints(ctx context.Context) ([]FederationAuthorityHint, error)
	// DeleteFederationAuthorityHint removes it; ErrNotFound when missing.
	DeleteFederationAuthorityHint(ctx context.Context, entityID string) error

	// CreateIssuedTrustMark records m; ErrConflict when the ID exists.
	CreateIssuedTrustMark(ctx context.Context, m IssuedTrustMark) error
	// ListIssuedTrustMarks returns every issued mark ordered by IssuedAt, then ID.
	ListIssuedTrustMarks(ctx context.Context) ([]IssuedTrustMark, error)

	// PutHeldTrustMark inserts or replaces the held mark of m.Type.
	PutHeldTrustMark(ctx context.Context, m HeldTrustMark) error
	// ListHeldTrustMarks returns the held marks ordered by type.
	ListHeldTrustMarks(ctx context.Context) ([]HeldTrustMark, error)
	// DeleteHeldTrustMark removes the held mark of typ; ErrNotFound when missing.
	DeleteHeldTrustMark(ctx context.Context, typ string) error
}
