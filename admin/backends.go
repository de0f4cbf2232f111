package admin

import (
	"context"
	"net/http"
	"time"

	"github.com/tongban/tongban/audit"
)

// App states (storage.Client.Status, docs/design/app-management.md): pending_review →
// published | rejected; published ⇄ suspended; any → retired (final).
const (
	StatusPendingReview = "pending_review"
	StatusPublished     = "published"
	StatusRejected      = "rejected"
	StatusSuspended     = "suspended"
	StatusRetired       = "retired"
)

// AppStatuses lists the app states in the order the console's filter shows them.
var AppStatuses = []string{StatusPendingReview, StatusPublished, StatusSuspended, StatusRejected, StatusRetired}

// App is a relying app (应用) as the console shows it. It carries no secret.
type App struct {
	ID           string    `json:"id"`
	Name         string    `json:"name"`
	Status       string    `json:"status"`     // one of AppStatuses
	Department   string    `json:"department"` // department code ([a-z0-9-]{1,64}), "" when none
	RedirectURIs []string  `json:"redirect_uris"`
	Scopes       []string  `json:"scopes"`
	GrantTypes   []string  `json:"grant_types"`
	LogoURI      string    `json:"logo_uri,omitempty"`
	AuthMethod   string    `json:"token_endpoint_auth_method,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
	// Pending is the change of a published app waiting for review (nil when none): the app
	// keeps its published metadata until a reviewer approves it.
	Pending *AppChange `json:"pending_change,omitempty"`
	// StatusReason is the reason given with the last reject, suspend or retire ("" when none).
	StatusReason string `json:"status_reason,omitempty"`
}

// AppChange is a pending change of a published app's metadata: the values it would have
// once approved.
type AppChange struct {
	Name         string    `json:"name"`
	RedirectURIs []string  `json:"redirect_uris"`
	Scopes       []string  `json:"scopes"`
	GrantTypes   []string  `json:"grant_types"`
	LogoURI      string    `json:"logo_uri,omitempty"`
	RequestedAt  time.Time `json:"requested_at"`
}

// AppQuery selects a page of apps (Apps.ListApps). Zero fields do not filter.
type AppQuery struct {
	Status     string // one of AppStatuses, "" = all
	Department string // department code, "" = all
	After      string // the cursor AppPage.Next of the previous page, "" = first page
	Limit      int    // page size, 1 to MaxPageSize (the handler fills DefaultPageSize)
}

// AppPage is one page of apps, ordered by ID. Next is the cursor of the following page, ""
// on the last.
type AppPage struct {
	Apps []App  `json:"apps"`
	Next string `json:"next,omitempty"`
}

// Page sizes of the list routes.
const (
	DefaultPageSize = 50
	MaxPageSize     = 200
)

// InitialAccessToken is an RFC 7591 initial access token, returned once when issued.
type InitialAccessToken struct {
	Token      string    `json:"token"`      // shown once; stored only as a keyed hash
	Department string    `json:"department"` // stamped on the apps registered with it
	ExpiresAt  time.Time `json:"expires_at"`
}

// Apps is the app lifecycle (oidc/apps.go) as the console calls it. Methods that change
// something take the actor and record their audit entry (action names in parentheses) with
// actor.Record in the transaction of the change. Errors wrap ErrNotFound (no such app),
// ErrConflict (the app's state does not allow it) or ErrInvalid (bad input); others are
// internal.
type Apps interface {
	// ListApps returns one page of apps.
	ListApps(ctx context.Context, q AppQuery) (AppPage, error)
	// GetApp returns one app.
	GetApp(ctx context.Context, id string) (App, error)
	// ApproveApp publishes a pending_review app, or applies a published app's pending
	// change (client.approve).
	ApproveApp(ctx context.Context, actor audit.Actor, id string) error
	// RejectApp rejects a pending_review app, or drops a published app's pending change
	// (client.reject). reason is shown to the app's owner (1 to 500 characters).
	RejectApp(ctx context.Context, actor audit.Actor, id, reason string) error
	// SuspendApp suspends a published app: it logs nobody in and its tokens are inactive
	// (client.suspend).
	SuspendApp(ctx context.Context, actor audit.Actor, id, reason string) error
	// ResumeApp publishes a suspended app again (client.resume).
	ResumeApp(ctx context.Context, actor audit.Actor, id string) error
	// RetireApp retires an app for good (client.retire).
	RetireApp(ctx context.Context, actor audit.Actor, id, reason string) error
	// RotateAppSecret gives a confidential app a new secret, returned once; the old one
	// keeps working during the overlap (client.secret.rotate). ErrConflict for a public
	// app or one that authenticates with private_key_jwt.
	RotateAppSecret(ctx context.Context, actor audit.Actor, id string) (secret string, err error)
	// IssueInitialAccessToken issues an RFC 7591 initial access token for department, valid
	// for ttl (iat.issue).
	IssueInitialAccessToken(ctx context.Context, actor audit.Actor, department string, ttl time.Duration) (InitialAccessToken, error)
	// RegisterApp registers app for review (pending_review, in app.Department), validated as
	// the shell's `idp clients add` validates, and returns it with its client secret, shown
	// once ("" for a public app) (client.register). ErrInvalid names what is wrong;
	// ErrConflict when the ID is taken. (appforms.go)
	RegisterApp(ctx context.Context, actor audit.Actor, app NewApp) (App, string, error)
	// ChangeApp proposes new metadata for the app: applied at once to an app waiting for
	// review (or rejected: it goes back to review), stored as the pending change of a
	// published or suspended one until a reviewer approves it (client.update). ErrInvalid
	// names what is wrong; ErrConflict for a retired app. (appforms.go)
	ChangeApp(ctx context.Context, actor audit.Actor, id string, change AppEdit) error
}

// AppHour is one hour of one app's figures (oidc/appstats.go).
type AppHour struct {
	Hour   time.Time `json:"hour"` // start of the hour, UTC
	Logins int64     `json:"logins"`
	Tokens int64     `json:"tokens"`
	Errors int64     `json:"errors"`
}

// Stats are the hourly figures per app.
type Stats interface {
	// AppStats returns the app's hours from since (inclusive) to now, oldest first; hours
	// without traffic may be missing. ErrNotFound when there is no such app.
	AppStats(ctx context.Context, id string, since time.Time) ([]AppHour, error)
}

// Person is a person as the console shows them: masked identifiers only.
type Person struct {
	ID             string    `json:"id"`
	Kind           string    `json:"kind"`             // "natural" or "legal"
	NameMasked     string    `json:"name_masked"`      // e.g. "张*明"
	IDNumberMasked string    `json:"id_number_masked"` // e.g. "110101********002X"
	PhoneMasked    string    `json:"phone_masked,omitempty"`
	Disabled       bool      `json:"disabled"`
	Locked         bool      `json:"locked"` // locked out by failed logins
	SecondFactor   bool      `json:"second_factor"`
	Sessions       int       `json:"sessions"` // live SSO sessions
	CreatedAt      time.Time `json:"created_at"`
}

// ResetLink is a password-reset link made for a person by an operator.
type ResetLink struct {
	// URL is the link, shown once to the operator to hand over; "" when it was sent to the
	// person's own phone instead (SentTo says where, masked).
	URL       string    `json:"url,omitempty"`
	SentTo    string    `json:"sent_to,omitempty"`
	ExpiresAt time.Time `json:"expires_at"`
}

// People is people administration (accounts/admin.go). Methods that change something take
// the actor and record their audit entry (person.disable, person.enable, person.unlock,
// person.reset_link, person.sessions.end) in the transaction of the change. Errors wrap
// ErrNotFound, ErrConflict or ErrInvalid.
type People interface {
	// FindPeople finds the person a resident ID number, unified social credit code, mobile
	// number or person ID names (none is an empty list). ErrInvalid when q is none of them.
	FindPeople(ctx context.Context, q string) ([]Person, error)
	// GetPerson returns one person.
	GetPerson(ctx context.Context, id string) (Person, error)
	// DisablePerson disables the person and ends their sessions; reason 1 to 500 characters.
	DisablePerson(ctx context.Context, actor audit.Actor, id, reason string) error
	// EnablePerson enables a disabled person.
	EnablePerson(ctx context.Context, actor audit.Actor, id string) error
	// UnlockPerson clears a lockout after failed logins.
	UnlockPerson(ctx context.Context, actor audit.Actor, id string) error
	// PersonResetLink makes a single-use password-reset link.
	PersonResetLink(ctx context.Context, actor audit.Actor, id string) (ResetLink, error)
	// EndPersonSessions ends every SSO session of the person and returns how many.
	EndPersonSessions(ctx context.Context, actor audit.Actor, id string) (int, error)
}

// Correction states.
const (
	CorrectionPending  = "pending"
	CorrectionApplied  = "applied"
	CorrectionRejected = "rejected"
)

// Correction is a correction request (纠错) filed by a person about their own record.
type Correction struct {
	ID       string    `json:"id"`
	PersonID string    `json:"person_id"`
	Field    string    `json:"field"`              // e.g. "name", "phone"
	Status   string    `json:"status"`             // CorrectionPending, CorrectionApplied or CorrectionRejected
	Current  string    `json:"current,omitempty"`  // as the operator may see it (masked where personal)
	Proposed string    `json:"proposed,omitempty"` // likewise
	Note     string    `json:"note,omitempty"`     // the person's explanation
	FiledAt  time.Time `json:"filed_at"`
	// DecidedAt and Reason are set once applied or rejected.
	DecidedAt *time.Time `json:"decided_at,omitempty"`
	Reason    string     `json:"reason,omitempty"`
}

// Corrections are correction requests (accounts/corrections.go). Apply and reject record
// correction.apply and correction.reject in the transaction of the change. Errors wrap
// ErrNotFound, ErrConflict (not pending) or ErrInvalid.
type Corrections interface {
	// ListCorrections returns up to limit requests with status ("" = all) after the cursor
	// after ("" = first page), oldest first (filed time, then ID), and the cursor of the next
	// page ("" = last).
	ListCorrections(ctx context.Context, status, after string, limit int) ([]Correction, string, error)
	// GetCorrection returns one request.
	GetCorrection(ctx context.Context, id string) (Correction, error)
	// ApplyCorrection applies a pending request to the person's record.
	ApplyCorrection(ctx context.Context, actor audit.Actor, id string) error
	// RejectCorrection rejects a pending request; reason 1 to 500 characters, shown to the
	// person.
	RejectCorrection(ctx context.Context, actor audit.Actor, id, reason string) error
}

// Session is the provider's SSO session of a request (oidc.Server.AdminSession).
type Session struct {
	PersonID     string
	MFA          bool   // the login passed the second factor (acr urn:tongban:acr:mfa)
	Fresh        bool   // the login is no older than the provider's FreshLogin
	SecondFactor bool   // the person has a second factor enrolled
	Binding      string // a secret of this session alone (≥ 32 characters), for CSRF tokens
}

// Sessions is the provider's SSO session (cmd/internal/idpserver adapts *oidc.Server).
type Sessions interface {
	// Session returns r's session; ok false when there is none (or its person is disabled).
	Session(r *http.Request) (s Session, ok bool, err error)
	// Login answers with a 303 to the provider's login page asking for the second factor,
	// continuing at next (a path under the console) afterwards; fresh asks for a fresh
	// login. lang is "zh-CN" or "en".
	Login(w http.ResponseWriter, r *http.Request, next, lang string, fresh bool)
}
