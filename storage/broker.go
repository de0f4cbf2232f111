package storage

import (
	"context"
	"time"
)

// Upstream is an upstream OpenID provider (上游身份提供方) tongban brokers logins to: another
// province's tongban, the national platform, any standard OP, configured by an operator
// (`idp upstreams add`). The client secret is sealed by the caller (keyring.SealField, AAD
// naming the upstream); storage only moves the bytes.
type Upstream struct {
	ID                 string   // chosen by the operator, e.g. "province-a"; [a-z0-9-], 1..64
	Issuer             string   // the upstream's issuer URL, exactly as its ID tokens carry it
	ClientID           string   // tongban's client ID at the upstream
	ClientSecretSealed []byte   // tongban's client secret at the upstream, sealed
	Scopes             []string // scopes asked for, "openid" included
	// IDNumberClaim names the ID-token claim that carries the verified resident ID number
	// (居民身份证号码); "" when the upstream sends none.
	IDNumberClaim string
	// TrustedIDNumbers: the upstream is trusted to assert verified ID numbers, so a subject
	// is linked to the local person with that number without a local login (auto-link).
	TrustedIDNumbers bool
	// AllowJIT: a trusted upstream's subject whose ID number no local person has gets a new
	// local person (just-in-time creation).
	AllowJIT bool
	// SilentSSO: authorization requests without a hint go to this upstream with prompt=none
	// first (at most one upstream should have it).
	SilentSSO bool
	// ACRMap maps an upstream acr value to a local one; unknown values map to the lowest.
	ACRMap map[string]string
	// Federation: the upstream is found through OpenID Federation 1.0 (migration 00031):
	// Issuer is its entity identifier, its OP metadata (endpoints, keys) come from its
	// resolved trust chain instead of discovery, ClientID is this instance's entity
	// identifier (automatic registration) and ClientSecretSealed is empty: tongban
	// authenticates with private_key_jwt.
	Federation bool
	LabelZH    string // the login button's label, e.g. "甲省政务服务"
	LabelEN    string // the same in English
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// UpstreamLink ties a subject of an upstream provider to a local person.
type UpstreamLink struct {
	UpstreamID string // Upstream.ID (deleted with the upstream)
	Subject    string // the upstream ID token's sub
	PersonID   string // people.id (deleted with the person)
	CreatedAt  time.Time
	LastUsedAt time.Time // last brokered login through the link
}

// Upstreams stores the upstream providers and the links of their subjects to local people.
type Upstreams interface {
	// CreateUpstream inserts u; ErrConflict when the ID exists.
	CreateUpstream(ctx context.Context, u Upstream) error
	// GetUpstream returns the upstream or ErrNotFound.
	GetUpstream(ctx context.Context, id string) (Upstream, error)
	// ListUpstreams returns every upstream ordered by ID; none is an empty list.
	ListUpstreams(ctx context.Context) ([]Upstream, error)
	// DeleteUpstream removes the upstream and its links; ErrNotFound when missing.
	DeleteUpstream(ctx context.Context, id string) error

	// CreateUpstreamLink inserts l. ErrConflict when the upstream subject is linked already;
	// ErrNotFound when the upstream or the person does not exist.
	CreateUpstreamLink(ctx context.Context, l UpstreamLink) error
	// GetUpstreamLink returns the link of the upstream subject or ErrNotFound.
	GetUpstreamLink(ctx context.Context, upstreamID, subject string) (UpstreamLink, error)
	// ListUpstreamLinks returns the person's links ordered by CreatedAt, UpstreamID, Subject.
	ListUpstreamLinks(ctx context.Context, personID string) ([]UpstreamLink, error)
	// TouchUpstreamLink sets the link's LastUsedAt; ErrNotFound when missing.
	TouchUpstreamLink(ctx context.Context, upstreamID, subject string, at time.Time) error
	// DeleteUpstreamLink removes the link; ErrNotFound when missing.
	DeleteUpstreamLink(ctx context.Context, upstreamID, subject string) error
}

// UpstreamSession records that a login session was made by a brokered login.
type UpstreamSession struct {
	SessionID  string // LoginSession.ID (deleted with the session)
	UpstreamID string // Upstream.ID (deleted with the upstream)
	Subject    string // the upstream ID token's sub
	// UpstreamSID is the upstream ID token's sid claim (its session at the upstream, for the
	// upstream's back-channel logout; migration 00024); "" when it had none.
	UpstreamSID string
	CreatedAt   time.Time
}

// UpstreamSessions stores which login sessions came from an upstream provider.
type UpstreamSessions interface {
	// CreateUpstreamSession inserts us. ErrConflict when the session has one already;
	// ErrNotFound when the session or the upstream does not exist.
	CreateUpstreamSession(ctx context.Context, us UpstreamSession) error
	// GetUpstreamSession returns the record of the login session or ErrNotFound (a local
	// login).
	GetUpstreamSession(ctx context.Context, sessionID string) (UpstreamSession, error)
}
