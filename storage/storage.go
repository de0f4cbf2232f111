package storage

import (
	"context"
	"errors"
	"math"
	"time"
)

// Sentinel errors. Backends wrap them with %w; callers test with errors.Is.
var (
	// ErrNotFound: no record with that key.
	ErrNotFound = errors.New("storage: not found")
	// ErrConflict: a record with that unique key already exists.
	ErrConflict = errors.New("storage: already exists")
	// ErrAlreadyUsed: a single-use value (authorization code, refresh token, nonce, cti)
	// was already redeemed or invalidated. Returned by exactly one of any set of concurrent
	// redeemers except the first.
	ErrAlreadyUsed = errors.New("storage: already used")
	// ErrExpired: the record exists but its expiry has passed.
	ErrExpired = errors.New("storage: expired")
	// ErrUnavailable: the database refused the operation for a reason of its own, not of the
	// request — the disk is full, the file or the server is read-only, the connection is lost
	// or cannot be made, the server is shutting down or out of resources. Retrying later may
	// succeed; callers answer "temporarily unavailable" (HTTP 503) rather than a server error.
	// Backends wrap it together with the driver error (errors.Is finds both).
	ErrUnavailable = errors.New("storage: database unavailable")
	// ErrTxAborted: the database aborted the transaction to resolve a conflict with a
	// concurrent one (PostgreSQL: a deadlock, 40P01, or a serialization failure, 40001).
	// Nothing of it was written; running the whole transaction again may succeed.
	ErrTxAborted = errors.New("storage: transaction aborted by a concurrent one")
)

// Storage is everything the identity provider and the wallet persist. Every backend
// (storage/sqlite, storage/postgres) implements all of it and passes storage/storagetest.
type Storage interface {
	People
	Clients
	Tokens
	LoginSessions
	Consents
	Keys
	Licences
	LicenceStatusIndexes
	Nonces
	Audit
	Throttle
	Revocations
	Passkeys
	Transactor
	DeviceAuthorizations
	OTPDevices
	ScanLogins // scan_login.go
	Apps       // apps.go
	SelfService
	AppStats         // appstats.go
	PasswordResets   // people_admin.go
	Corrections      // people_admin.go
	Agents           // agents.go
	AdminRoleStore   // admin_roles.go
	ExchangePolicies // exchange.go
	Upstreams        // broker.go
	UpstreamSessions // broker.go
	SingleLogout     // logout.go
	UpstreamLogout   // logout2.go
	NonceChecks      // brokerspeed.go
	CodeRecords      // receipts.go
	Counters         // receipts.go
	Federation       // federation.go

	// Ping reports whether the database answers. It reads only: a database that refuses
	// writes may still answer it (see Heartbeat).
	Ping(ctx context.Context) error
	// Heartbeat records that instance (a replica's name) was alive at at, with one small
	// write: nil proves the database accepts writes now. Readiness checks call it
	// periodically; an error wraps ErrUnavailable when the database refuses writes.
	Heartbeat(ctx context.Context, instance string, at time.Time) error
	// Unavailable returns how many operations of this store the database has refused with
	// ErrUnavailable since it was opened, and the last such error (nil when none): a cheap
	// read, for readiness checks and for logging those refusals once per interval instead of
	// once per request (storage/health).
	Unavailable() (count uint64, last error)
	// Close releases the connection pool.
	Close() error
}

// Transactor runs several operations as one transaction.
type Transactor interface {
	// InTx runs fn in one database transaction and commits it when fn returns nil; when fn
	// returns an error (or panics) the transaction is rolled back and fn's error returned
	// unchanged. Every method of this store called with the context fn receives runs in the
	// transaction and sees its uncommitted writes; nothing of it is visible to other callers
	// before the commit. A commit that fails returns an error and leaves nothing written.
	//
	// InTx called with a context that already carries a transaction of this store joins it:
	// fn runs in the outer transaction and the outer InTx commits or rolls back. Methods that
	// run a transaction of their own (UpdatePerson, UpdateClient, UpsertLicence, AppendAudit,
	// LicenceStatusIndex) join too, so their writes commit with the outer transaction.
	//
	// Concurrency: a conditional update inside a transaction (InvalidateToken) holds its row
	// until the commit, so a concurrent InvalidateToken of the same record waits and then
	// returns ErrAlreadyUsed (after the first commits) or nil (after it rolls back); it never
	// sees a half-done transaction. SQLite serialises whole write transactions.
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
}

// Revocations is the short-lived list of revoked grants that self-contained access tokens
// are checked against: such a token is never stored, so revoking it means remembering its
// grant (the request ID shared by every token of one authorization) until every access token
// the grant can have issued has expired.
//
// Tokens of a grant carry a generation: 0 for those issued with the authorization code or
// client credentials, n after the grant's refresh token was rotated n times. Revoking below
// generation g revokes the grant's access tokens of generations < g and leaves newer ones
// valid (a refresh revokes the access tokens issued before it); RevokedAll revokes them all.
type Revocations interface {
	// RevokeGrant records that the access tokens of grant requestID with a generation below
	// below are revoked, until expiresAt (after which PurgeRevocations may forget it). A
	// second call for the same grant keeps the higher below and the later expiresAt, so
	// revocations never undo one another.
	RevokeGrant(ctx context.Context, requestID string, below int64, expiresAt time.Time) error
	// GrantRevokedBelow returns the generation below which the grant's access tokens are
	// revoked: 0 when the grant was never revoked (or its entry was purged), RevokedAll when
	// all of them are.
	GrantRevokedBelow(ctx context.Context, requestID string) (int64, error)
	// PurgeRevocations deletes the entries that expired before t; returns how many.
	PurgeRevocations(ctx context.Context, before time.Time) (int64, error)
}

// RevokedAll is the Revocations generation that revokes every access token of a grant.
const RevokedAll int64 = math.MaxInt64

// PersonKind says whether a person is natural (自然人) or legal (法人).
type PersonKind string

const (
	NaturalPerson PersonKind = "natural" // 自然人, identified by resident ID number (GB 11643-1999)
	LegalPerson   PersonKind = "legal"   // 法人, identified by unified social credit code (GB 32100-2015)
)

// Person is a natural or legal person (holder, 持证人). Identity numbers and phone numbers are
// never stored in clear: the caller seals them (SM4-GCM) and computes a blind index
// (HMAC-SM3) for lookups. Storage only moves the bytes.
type Person struct {
	ID   string     // opaque, stable, random (also the OIDC "sub" for public subject type)
	Kind PersonKind // NaturalPerson or LegalPerson
	Name string     // display name as registered

	IDNumberSealed []byte // SM4-GCM sealed resident ID number or credit code
	IDNumberIndex  []byte // blind index (32 bytes), unique
	IDNumberMasked string // e.g. "640102********123X", safe to show

	PhoneSealed []byte // SM4-GCM sealed phone number; nil when none
	PhoneIndex  []byte // blind index of the phone number (32 bytes), unique when set; nil when none

	PasswordHash    string // self-describing PBKDF2-HMAC-SM3 string; "" = no password login
	OTPSecretSealed []byte // sealed TOTP secret; nil = no second factor enrolled
	Disabled        bool
	// ElderMode is the person's 长辈模式 setting (elder mode: large type, high contrast, voice
	// readout) as saved from the provider's pages (migration 00027); false = off, the default.
	// The provider releases it as the elder_mode claim (scope profile).
	ElderMode bool

	CreatedAt time.Time
	UpdatedAt time.Time
}

// People stores persons.
type People interface {
	// CreatePerson inserts p. ErrConflict when the ID, ID-number index or phone index exists.
	CreatePerson(ctx context.Context, p Person) error
	// GetPerson returns the person with that ID, or ErrNotFound.
	GetPerson(ctx context.Context, id string) (Person, error)
	// GetPersonByIDNumberIndex finds a person by the blind index of the ID number, or ErrNotFound.
	GetPersonByIDNumberIndex(ctx context.Context, index []byte) (Person, error)
	// GetPersonByPhoneIndex finds a person by the blind index of the phone number, or ErrNotFound.
	GetPersonByPhoneIndex(ctx context.Context, index []byte) (Person, error)
	// UpdatePerson reads the person, applies fn and writes the result in one transaction.
	// fn must not change ID. ErrNotFound when there is no such person; fn's error is returned as is.
	UpdatePerson(ctx context.Context, id string, fn func(*Person) error) error
}

// Client is a registered OAuth 2.0 / OIDC client (relying app).
type Client struct {
	ID                       string
	Name                     string   // shown on the consent page
	SecretHash               []byte   // HMAC-SM3 of the client secret (32 bytes); nil for public clients
	Public                   bool     // token_endpoint_auth_method "none"
	RedirectURIs             []string // exact match (RFC 9700 §4.1.3)
	PostLogoutRedirectURIs   []string
	GrantTypes               []string // e.g. "authorization_code", "refresh_token", "client_credentials"
	ResponseTypes            []string // "code"
	Scopes                   []string // scopes the client may request
	Audience                 []string
	IDTokenSignedResponseAlg string // "SGD_SM3_SM2", "ES256" or "RS256"
	TokenEndpointAuthMethod  string // "client_secret_basic", "client_secret_post" or "none"
	SubjectType              string // "public" or "pairwise"
	SectorIdentifier         string // host used for pairwise subjects; "" = first redirect URI host
	CreatedAt                time.Time
	// AccessTokenFormat is "opaque" (HMAC-SM3 opaque tokens, the default; "" means the same)
	// or "jwt" (RFC 9068 JWT access tokens signed with the IDTokenSignedResponseAlg key).
	AccessTokenFormat string
	// Purpose is why the app reads licences (一证通办 licence lookup), in Chinese, shown to the
	// holder on the consent page beside the licence scopes (licence:<kind>); at most 200
	// characters; "" for an app without licence scopes. PurposeEn is its English text, shown
	// on the English page; "" means Purpose is shown there too.
	Purpose   string
	PurposeEn string

	// App lifecycle (统一应用管理, storage/apps.go, docs/design/app-management.md).

	// Status is ClientPendingReview, ClientPublished, ClientRejected, ClientSuspended or
	// ClientRetired; "" (rows stored before the lifecycle existed) means ClientPublished.
	// Only published apps log anyone in or get tokens.
	Status string
	// Department is the short code of the department the app belongs to ([a-z0-9-]{1,64},
	// e.g. "gongan"); "" for apps registered before departments existed.
	Department string
	// LogoURI is the app's logo (https URL, RFC 7591 logo_uri); "" when none.
	LogoURI string
	// ReviewNote is the reason of the last rejection or suspension ("" otherwise). It is shown
	// to operators and to the app's developers, never to citizens; it holds no personal data.
	ReviewNote string
	// PendingChange is the JSON of a published app's proposed metadata (oidc.ClientChange),
	// waiting for review; nil when none. The app keeps its published metadata meanwhile.
	PendingChange []byte
	// RegistrationTokenHash is HMAC-SM3 (32 bytes) of the RFC 7592 registration access token
	// of an app registered through RFC 7591; nil when none.
	RegistrationTokenHash []byte
	// PreviousSecretHash is HMAC-SM3 of the secret replaced by the last rotation; it keeps
	// working until PreviousSecretExpiresAt (exclusive). nil when none.
	PreviousSecretHash      []byte
	PreviousSecretExpiresAt time.Time
	// JWKS is the app's registered JSON Web Key Set (RFC 7517) for private_key_jwt client
	// authentication (RFC 7523 §2.2); nil when none.
	JWKS []byte
	// UpdatedAt is when the record last changed (zero for rows that never changed).
	UpdatedAt time.Time
	// TokensNotBefore: access tokens of the app issued at or before this instant are inactive
	// (introspection, UserInfo), whatever their own expiry says; stored at microsecond
	// precision; zero = none. oidc sets it when the app is suspended, resumed or retired and
	// when its secret is rotated with no overlap, so tokens from before do not come back.
	TokensNotBefore time.Time

	// Single logout (storage/logout.go, migration 00022).

	// BackchannelLogoutURI is where logout tokens are POSTed (OpenID Connect Back-Channel
	// Logout 1.0 §2.2): https, or http on a loopback host, no fragment; "" when none.
	// BackchannelLogoutSessionRequired says the client needs the sid claim in them.
	BackchannelLogoutURI             string
	BackchannelLogoutSessionRequired bool
	// FrontchannelLogoutURI is loaded in a hidden iframe of the logout page (OpenID Connect
	// Front-Channel Logout 1.0 §2), same rules; "" when none. FrontchannelLogoutSessionRequired
	// says the client needs iss and sid as query parameters.
	FrontchannelLogoutURI             string
	FrontchannelLogoutSessionRequired bool

	// OpenID Federation 1.0 automatic registration (storage/federation_rp.go, migration 00030).

	// Source says how the app was registered: "" by an operator or RFC 7591,
	// ClientSourceFederation by OpenID Federation automatic registration (its ID is its entity
	// identifier and its metadata came from its resolved trust chain).
	Source string
	// TrustAnchor is the entity ID of the trust anchor the chain of a federation app resolved
	// to; "" for other apps.
	TrustAnchor string
	// FederationExpiresAt is when the metadata of a federation app expires (the earliest exp of
	// its trust chain): its next use after it resolves the chain again. Zero for other apps.
	FederationExpiresAt time.Time
}

// Clients stores OAuth clients.
type Clients interface {
	// CreateClient inserts c; ErrConflict when the ID exists.
	CreateClient(ctx context.Context, c Client) error
	// GetClient returns the client or ErrNotFound.
	GetClient(ctx context.Context, id string) (Client, error)
	// ListClients returns all clients ordered by ID.
	ListClients(ctx context.Context) ([]Client, error)
	// UpdateClient applies fn in one transaction; ErrNotFound when missing.
	UpdateClient(ctx context.Context, id string, fn func(*Client) error) error
	// DeleteClient removes the client; ErrNotFound when missing.
	DeleteClient(ctx context.Context, id string) error
}

// TokenKind names what a token record holds. The signature is unique per kind.
type TokenKind string

const (
	KindAuthorizeCode TokenKind = "authorize_code"
	KindAccessToken   TokenKind = "access_token"
	KindRefreshToken  TokenKind = "refresh_token"
	KindPKCE          TokenKind = "pkce"
	KindOIDC          TokenKind = "oidc" // OpenID Connect request data bound to an authorization code
)

// TokenRecord is one OAuth/OIDC session record, keyed by (Kind, Signature). Data is the
// serialized request (opaque to storage). RequestID groups all records of one grant: the
// authorization code, the tokens it issued and every rotated refresh token share it, so a
// replayed code or a reused refresh token can revoke the whole family.
type TokenRecord struct {
	Kind        TokenKind
	Signature   string // HMAC-SM3 signature part of the token; never the token itself
	RequestID   string
	ClientID    string
	Subject     string // person ID, or "" for client credentials
	Active      bool   // false once redeemed, rotated or revoked
	RequestedAt time.Time
	ExpiresAt   time.Time
	Data        []byte
}

// Tokens stores authorization codes, access and refresh tokens, PKCE and OIDC request data.
type Tokens interface {
	// CreateToken inserts r (Active as given); ErrConflict when (Kind, Signature) exists.
	CreateToken(ctx context.Context, r TokenRecord) error
	// GetToken returns the record, active or not, or ErrNotFound.
	GetToken(ctx context.Context, kind TokenKind, signature string) (TokenRecord, error)
	// InvalidateToken atomically marks an active record inactive (single use). Exactly one of
	// any number of concurrent callers gets nil; the others get ErrAlreadyUsed. ErrNotFound
	// when no such record exists.
	InvalidateToken(ctx context.Context, kind TokenKind, signature string) error
	// DeleteToken removes the record; ErrNotFound when missing.
	DeleteToken(ctx context.Context, kind TokenKind, signature string) error
	// RevokeByRequestID marks every record of that kind and request ID inactive and returns
	// how many changed. Zero is not an error.
	RevokeByRequestID(ctx context.Context, kind TokenKind, requestID string) (int64, error)
	// DeleteExpiredTokens removes records that expired before t; returns how many.
	DeleteExpiredTokens(ctx context.Context, before time.Time) (int64, error)
}

// LoginSession is a browser single-sign-on session (the SSO cookie points at it by ID).
type LoginSession struct {
	ID        string // random, 32 bytes base64url; the cookie holds it
	PersonID  string
	AuthTime  time.Time
	ACR       string
	AMR       []string
	CreatedAt time.Time
	ExpiresAt time.Time

	// Device is a short description of the browser that logged in ("Chrome · Android"), from
	// its User-Agent; "" when unknown. ClientIP is the client address already masked
	// ("203.0.113.*", "2001:db8:1::*"): storage never holds the full address. LastSeen is the
	// last time the session was used (SelfService.TouchLoginSession); zero means never since
	// the login.
	Device   string
	ClientIP string
	LastSeen time.Time
}

// LoginSessions stores SSO sessions.
type LoginSessions interface {
	CreateLoginSession(ctx context.Context, s LoginSession) error
	// GetLoginSession returns the session or ErrNotFound; an expired one gives ErrExpired.
	GetLoginSession(ctx context.Context, id string, now time.Time) (LoginSession, error)
	// DeleteLoginSession removes it; ErrNotFound when missing.
	DeleteLoginSession(ctx context.Context, id string) error
	// DeleteLoginSessionsForPerson ends every session of a person (logout everywhere).
	DeleteLoginSessionsForPerson(ctx context.Context, personID string) (int64, error)
	// DeleteExpiredLoginSessions removes sessions that expired before t (ExpiresAt < t);
	// returns how many. Idempotent: concurrent or repeated calls are harmless.
	DeleteExpiredLoginSessions(ctx context.Context, before time.Time) (int64, error)
}

// Consent records the scopes a person granted a client (remembered per client).
type Consent struct {
	PersonID  string
	ClientID  string
	Scopes    []string
	GrantedAt time.Time
}

// Consents stores remembered consent.
type Consents interface {
	// SaveConsent inserts or replaces the consent for (PersonID, ClientID).
	SaveConsent(ctx context.Context, c Consent) error
	// GetConsent returns the consent or ErrNotFound.
	GetConsent(ctx context.Context, personID, clientID string) (Consent, error)
	// DeleteConsent removes it; ErrNotFound when missing.
	DeleteConsent(ctx context.Context, personID, clientID string) error
}

// KeyPurpose says what a stored key is for.
type KeyPurpose string

const (
	PurposeIDToken   KeyPurpose = "id_token"   // OIDC ID token signing (SM2, ES256, RS256)
	PurposeQR        KeyPurpose = "qr"         // QR code (COSE_Sign1) signing
	PurposeTrustList KeyPurpose = "trust_list" // trust-list signing
	PurposeData      KeyPurpose = "data"       // data keys: field encryption, blind index, token HMAC
	PurposeAudit     KeyPurpose = "audit"      // audit checkpoint signing (SM2); never expires
	// PurposeFederation: the OpenID Federation entity keys (SM2, ES256) that sign entity
	// configurations, subordinate statements, trust marks and resolve responses.
	PurposeFederation KeyPurpose = "federation"
)

// KeyRecord is a key with its private material sealed by the key-encryption key. Storage never
// sees clear private keys.
type KeyRecord struct {
	ID        string // kid
	Purpose   KeyPurpose
	Algorithm string // "SGD_SM3_SM2", "ES256", "RS256", or a data-key name such as "sm4-field"
	Sealed    []byte // private key or data key wrapped by the KEK
	Public    []byte // public key (PKIX DER) or certificate (DER); nil for data keys
	CreatedAt time.Time
	NotBefore time.Time  // may sign from
	RetiredAt *time.Time // stops signing at; still published until ExpiresAt
	ExpiresAt *time.Time // no longer published nor trusted after
}

// Keys stores signing and data keys.
type Keys interface {
	// CreateKey inserts k; ErrConflict when the ID exists.
	CreateKey(ctx context.Context, k KeyRecord) error
	// GetKey returns the key or ErrNotFound.
	GetKey(ctx context.Context, id string) (KeyRecord, error)
	// ListKeys returns every key of the purpose, newest first.
	ListKeys(ctx context.Context, purpose KeyPurpose) ([]KeyRecord, error)
	// RetireKey sets RetiredAt and ExpiresAt; ErrNotFound when missing.
	RetireKey(ctx context.Context, id string, retiredAt, expiresAt time.Time) error
	// RewrapKey replaces Sealed of the key id (the same secret wrapped by another
	// key-encryption key) and changes nothing else; ErrNotFound when missing. Run it inside
	// Transactor.InTx to move every key to a new key-encryption key at once.
	RewrapKey(ctx context.Context, id string, sealed []byte) error
}

// LicenceStatus is the status of a licence.
type LicenceStatus string

const (
	LicenceValid     LicenceStatus = "valid"
	LicenceSuspended LicenceStatus = "suspended"
	LicenceRevoked   LicenceStatus = "revoked"
	LicenceExpired   LicenceStatus = "expired"
)

// Licence is an electronic licence (电子证照) as stored. Holder numbers are sealed and indexed;
// Fields is the kind-specific JSON document, sealed by the caller (it carries personal data).
type Licence struct {
	ID           string // opaque, random
	Kind         string // "resident-id", "driving-licence", …
	Number       string // licence number as issued (证照编号), unique per (Kind, Issuer)
	Issuer       string // issuing authority (发证机关) code or name
	HolderIndex  []byte // blind index of the holder's ID number or credit code
	HolderSealed []byte // sealed holder number
	FieldsSealed []byte // sealed JSON of the kind's fields
	Status       LicenceStatus
	ValidFrom    time.Time
	ValidUntil   *time.Time // nil = long-term (长期)
	UpdatedAt    time.Time

	// AgentIndexes are the blind indexes of the resident ID numbers of the natural persons
	// authorised to show a legal person's licence (经办人/授权代理人), found by
	// ListLicencesByAgent. Storage keeps them as a set: they come back in byte order without
	// duplicates, and nil when there are none. Empty entries are ignored.
	AgentIndexes [][]byte
}

// Licences stores licences.
type Licences interface {
	// UpsertLicence inserts l, or updates the licence with the same (Kind, Issuer, Number) keeping
	// its ID. It returns the stored ID and whether a new row was created. The stored
	// AgentIndexes are replaced wholesale by l.AgentIndexes, in the same transaction.
	UpsertLicence(ctx context.Context, l Licence) (id string, created bool, err error)
	// GetLicence returns the licence or ErrNotFound.
	GetLicence(ctx context.Context, id string) (Licence, error)
	// FindLicences returns the licences of kind with exactly that number (byte equality, no
	// case folding), from every issuer, ordered by Issuer then ID. No match is an empty list,
	// not ErrNotFound. (Number is unique per (Kind, Issuer), so there is at most one per issuer.)
	FindLicences(ctx context.Context, kind, number string) ([]Licence, error)
	// ListLicencesByHolder returns every licence of a holder (一证通办), ordered by Kind then Number.
	ListLicencesByHolder(ctx context.Context, holderIndex []byte) ([]Licence, error)
	// ListLicencesByAgent returns every licence whose AgentIndexes hold agentIndex, ordered by
	// Kind then Number (then Issuer and ID). None, or an empty agentIndex, is an empty list.
	ListLicencesByAgent(ctx context.Context, agentIndex []byte) ([]Licence, error)
	// SetLicenceStatus changes the status; ErrNotFound when missing.
	SetLicenceStatus(ctx context.Context, id string, status LicenceStatus, at time.Time) error
}

// Nonces records single-use values: JWT jti, QR cti on online verifiers, one-time codes.
type Nonces interface {
	// UseNonce records (namespace, value) until expiresAt. The first call returns nil; every
	// later call for the same pair before it is purged returns ErrAlreadyUsed. Atomic across
	// connections and replicas.
	UseNonce(ctx context.Context, namespace, value string, expiresAt time.Time) error
	// PurgeNonces deletes nonces that expired before t; returns how many.
	PurgeNonces(ctx context.Context, before time.Time) (int64, error)
}

// AuditEvent is one entry of the append-only audit log. It carries no personal data: subjects
// are opaque IDs, never names or numbers.
//
// Entries form one hash chain per database (package audit, docs/formats/audit-chain.md): Pos
// numbers them 1, 2, 3 … without gaps in the order they were appended, and Hash is
// SM3(domain ‖ previous entry's Hash ‖ canonical encoding of this entry), computed by storage
// under the append lock, so several replicas writing one database keep one chain.
type AuditEvent struct {
	Seq      int64 // assigned by storage, rising (may skip values)
	Pos      int64 // position in the chain, assigned by storage: 1, 2, 3 … (0 = not chained)
	Hash     []byte
	Time     time.Time
	Actor    string // person ID, client ID or "operator"
	Action   string // e.g. "login.success", "token.issue", "licence.revoke"
	Subject  string // the object acted on (opaque ID)
	ClientID string
	Detail   string // short, no personal data
}

// AuditQuery selects audit entries for auditors (QueryAudit). Zero fields do not filter.
type AuditQuery struct {
	AfterPos int64     // entries with Pos > AfterPos (or, with Descending, Pos < AfterPos when > 0)
	Since    time.Time // Time >= Since
	Until    time.Time // Time < Until
	Action   string    // exact action, or a prefix ending in "." ("login." matches "login.success")
	Actor    string    // exact actor
	ClientID string    // exact client ID
	Person   string    // a person ID, matched against Actor and Subject
	// Limit bounds the answer (required, > 0).
	Limit int
	// Descending returns the newest entries first.
	Descending bool
}

// AuditCheckpoint is a signed statement that the audit chain had Hash at position Pos: an
// entry edited, deleted or inserted at or before Pos cannot be hidden by recomputing the chain
// without the signing key (package audit).
type AuditCheckpoint struct {
	Pos       int64
	Hash      []byte // the chain's hash at Pos, 32 bytes
	Time      time.Time
	Replica   string // which process signed it (host name and process ID)
	KeyID     string // keyring ID of the SM2 key (purpose audit)
	Signature []byte // SM2 signature, raw r ‖ s, 64 bytes
}

// Audit is an append-only, hash-chained log: no update or delete is offered, and the backends
// refuse them at the database level (triggers); the chain makes a change made anyway visible
// to package audit's verifier.
type Audit interface {
	// AppendAudit chains e (its Seq, Pos and Hash are ignored) and stores it, returning the
	// sequence number the database assigned. Inside a transaction (Transactor.InTx) it joins
	// it; outside, concurrent appends are committed together in one transaction (group commit),
	// each call returning once its entry is durable.
	AppendAudit(ctx context.Context, e AuditEvent) (int64, error)
	// ListAudit returns up to limit events with Seq > after, in Seq order.
	ListAudit(ctx context.Context, after int64, limit int) ([]AuditEvent, error)
	// AuditChain returns up to limit chained entries with Pos > afterPos, in Pos order (the
	// verifier's and the sink follower's read).
	AuditChain(ctx context.Context, afterPos int64, limit int) ([]AuditEvent, error)
	// UnchainedAudit returns the sequence numbers of up to limit entries that carry no chain
	// position: none exist unless rows were inserted behind storage's back.
	UnchainedAudit(ctx context.Context, limit int) ([]int64, error)
	// QueryAudit returns the entries q selects, in Pos order (newest first with Descending).
	QueryAudit(ctx context.Context, q AuditQuery) ([]AuditEvent, error)
	// AddAuditCheckpoint stores a signed checkpoint.
	AddAuditCheckpoint(ctx context.Context, c AuditCheckpoint) error
	// AuditCheckpoints returns every checkpoint, in Pos order then Time.
	AuditCheckpoints(ctx context.Context) ([]AuditCheckpoint, error)
}

// FailureStats is what Throttle.FailureStats reports of one key's failures in a window.
type FailureStats struct {
	// Count is the number of failures in the window.
	Count int
	// First and Last are the times of the oldest and the newest of them, to the microsecond,
	// UTC; zero when Count is 0.
	First, Last time.Time
}

// Throttle counts failures per key (an account's blind index, an IP address) for lockout and
// back-off; kept in the database so it holds across replicas.
type Throttle interface {
	// AddFailure records a failure for key at now and returns the number of failures in
	// (now-window, now].
	AddFailure(ctx context.Context, key string, now time.Time, window time.Duration) (int, error)
	// CountFailures returns the number of failures of key in (now-window, now] without
	// recording one (to refuse a locked-out key before doing any work).
	CountFailures(ctx context.Context, key string, now time.Time, window time.Duration) (int, error)
	// FailureStats returns the number of failures of key in (now-window, now] and the times
	// of the oldest and newest of them, without recording one (for progressive delays: the
	// wait runs from the newest; a window lock ends when the oldest leaves the window).
	FailureStats(ctx context.Context, key string, now time.Time, window time.Duration) (FailureStats, error)
	// ClearFailures forgets key's failures (after a successful login).
	ClearFailures(ctx context.Context, key string) error
	// PurgeFailures deletes every failure recorded before t (keys that never fail or clear
	// again, such as an IP address seen once); returns how many. Call it periodically with t
	// older than the longest window in use.
	PurgeFailures(ctx context.Context, before time.Time) (int64, error)
}
