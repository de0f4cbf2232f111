package oidc

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/ory/fosite"

	"github.com/tongban/tongban/audit"
	"github.com/tongban/tongban/internal/httpkit"
	"github.com/tongban/tongban/keyring"
	"github.com/tongban/tongban/oidc/internal/fositeadapter"
	"github.com/tongban/tongban/sm-crypto/smjose"
	"github.com/tongban/tongban/storage"
)

// App lifecycle (统一应用管理, docs/design/app-management.md). Every function here takes the
// audit.Actor doing it and writes its audit entry in the same transaction as the change
// (storage.Transactor.InTx): no change without its entry. The states are storage's
// ClientPendingReview, ClientPublished, ClientRejected, ClientSuspended and ClientRetired:
//
//	pending_review ──approve──► published ⇄ suspended        any ──retire──► retired (final)
//	       └────────reject────► rejected
//
// Only published apps log anyone in or get tokens. Changes made here reach a running server
// within its Config.ClientCacheTTL.

// AuthPrivateKeyJWT is the token_endpoint_auth_method of clients that authenticate with a
// JWT signed by one of their registered keys (RFC 7523 §2.2, OIDC Core §9).
const AuthPrivateKeyJWT = "private_key_jwt"

// Limits of the lifecycle operations.
const (
	// MaxSecretOverlap is the longest a rotated-out client secret keeps working.
	MaxSecretOverlap = 30 * 24 * time.Hour
	// DefaultInitialAccessTokenTTL is an initial access token's lifetime when none is given.
	DefaultInitialAccessTokenTTL = 24 * time.Hour
	// MinInitialAccessTokenTTL is the shortest lifetime of an initial access token (time for a
	// developer to use it).
	MinInitialAccessTokenTTL = 5 * time.Minute
	// MaxInitialAccessTokenTTL is the longest lifetime of an initial access token.
	MaxInitialAccessTokenTTL = 30 * 24 * time.Hour
	// maxJWKS bounds a registered JWK Set.
	maxJWKS = 16 << 10
	// maxReason bounds a rejection or suspension reason, in characters.
	maxReason = 500
)

// Audit actions of the lifecycle (docs/design/app-management.md).
const (
	actionApprove  = "client.approve"
	actionReject   = "client.reject"
	actionSuspend  = "client.suspend"
	actionResume   = "client.resume"
	actionRetire   = "client.retire"
	actionRotate   = "client.secret.rotate"
	actionRegister = "client.register"
	actionUpdate   = "client.update"
	actionIssueIAT = "iat.issue"
)

// Prefixes of the bearer credentials of registration (they never collide with client secrets,
// which have none, so one HMAC key serves all).
const (
	prefixInitialAccessToken = "tb_iat_"
	prefixRegistrationToken  = "tb_rat_"
)

var departmentPattern = regexp.MustCompile(`^[a-z0-9-]{1,64}$`)

// validateLifecycleFields checks NewClient's department, logo URI and JWK Set; method is the
// token endpoint auth method after defaults.
func validateLifecycleFields(nc NewClient, method string) []error {
	var problems []error
	if nc.Department != "" && !departmentPattern.MatchString(nc.Department) {
		problems = append(problems, fmt.Errorf("%w: %q (want 1 to 64 of a-z 0-9 -)", ErrInvalidDepartment, nc.Department))
	}
	if nc.LogoURI != "" {
		if err := validateLogoURI(nc.LogoURI); err != nil {
			problems = append(problems, err)
		}
	}
	switch {
	case method == AuthPrivateKeyJWT && len(nc.JWKS) == 0:
		problems = append(problems, fmt.Errorf("%w: private_key_jwt needs the app's JWK Set", ErrInvalidJWKS))
	case method != AuthPrivateKeyJWT && len(nc.JWKS) > 0:
		problems = append(problems, fmt.Errorf("%w: a JWK Set is used only with private_key_jwt, not %q", ErrInvalidJWKS, method))
	case len(nc.JWKS) > 0:
		if _, err := parseClientJWKS(nc.JWKS); err != nil {
			problems = append(problems, err)
		}
	}
	return problems
}

func validateLogoURI(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || len(raw) > 2000 || u.Scheme != "https" || u.Host == "" || u.User != nil || u.Fragment != "" {
		return fmt.Errorf("%w: %q (want an absolute https URL without user info or fragment, at most 2000 bytes)", ErrInvalidLogoURI, raw)
	}
	return nil
}

// clientKeys are the usable keys of a registered JWK Set.
type clientKeys struct {
	set *smjose.KeySet
}

// parseClientJWKS parses an app's JWK Set: at most maxJWKS bytes, every member an SM2
// (SGD_SM3_SM2) or P-256 (ES256) public signing key, at least one. Errors wrap ErrInvalidJWKS.
func parseClientJWKS(b []byte) (clientKeys, error) {
	if len(b) > maxJWKS {
		return clientKeys{}, fmt.Errorf("%w: larger than %d bytes", ErrInvalidJWKS, maxJWKS)
	}
	set, err := smjose.ParseJWKS(b)
	if err != nil {
		return clientKeys{}, fmt.Errorf("%w: %w", ErrInvalidJWKS, err)
	}
	if len(set.Skipped) > 0 {
		return clientKeys{}, fmt.Errorf("%w: key %d (kid %q): %v", ErrInvalidJWKS, set.Skipped[0].Index, set.Skipped[0].KeyID, set.Skipped[0].Err)
	}
	for _, k := range set.Standard.Keys {
		pub, ok := k.Key.(*ecdsa.PublicKey)
		if !ok || pub.Curve != elliptic.P256() || (k.Algorithm != "" && k.Algorithm != AlgES256) {
			return clientKeys{}, fmt.Errorf("%w: key %q is not a P-256 (ES256) or SM2 key", ErrInvalidJWKS, k.KeyID)
		}
		if k.Use != "" && k.Use != "sig" {
			return clientKeys{}, fmt.Errorf("%w: key %q is not a signing key (use %q)", ErrInvalidJWKS, k.KeyID, k.Use)
		}
	}
	if len(set.Standard.Keys)+len(set.SM2) == 0 {
		return clientKeys{}, fmt.Errorf("%w: no keys", ErrInvalidJWKS)
	}
	return clientKeys{set: set}, nil
}

// ClientChange is a proposed change of an app's metadata (ProposeClientChange, RFC 7592 PUT).
// A nil list or an empty string keeps the current value; an empty non-nil list clears a list
// (where the rules allow it). The result is validated exactly as NewClient is (CreateClient).
type ClientChange struct {
	Name                   string   `json:"client_name,omitempty"`
	LogoURI                string   `json:"logo_uri,omitempty"`
	RedirectURIs           []string `json:"redirect_uris,omitempty"`
	PostLogoutRedirectURIs []string `json:"post_logout_redirect_uris,omitempty"`
	Scopes                 []string `json:"scopes,omitempty"`
	GrantTypes             []string `json:"grant_types,omitempty"`
	// Replace makes an empty Name or LogoURI clear the value instead of keeping it: RFC 7592
	// §2.2's PUT, where omitted members are treated as empty.
	Replace bool `json:"replace,omitempty"`
	// RequestedAt is when the change was proposed (set by ProposeClientChange for a pending
	// change).
	RequestedAt time.Time `json:"requested_at,omitzero"`
}

// newClientFrom is the NewClient that registers c as it is.
func newClientFrom(c storage.Client) NewClient {
	return NewClient{
		ID: c.ID, Name: c.Name, RedirectURIs: c.RedirectURIs, PostLogoutRedirectURIs: c.PostLogoutRedirectURIs,
		Public: c.Public, GrantTypes: c.GrantTypes, Scopes: c.Scopes, IDTokenAlg: c.IDTokenSignedResponseAlg,
		TokenEndpointAuthMethod: c.TokenEndpointAuthMethod, SubjectType: c.SubjectType,
		SectorIdentifier: c.SectorIdentifier, Audience: c.Audience, AccessTokenFormat: c.AccessTokenFormat,
		Department: c.Department, LogoURI: c.LogoURI, JWKS: c.JWKS,
	}
}

// applyChange validates ch against c and writes the changed metadata into c. Errors: the
// validation errors of CreateClient, joined.
func applyChange(c *storage.Client, ch ClientChange) error {
	nc := newClientFrom(*c)
	if ch.Name != "" || ch.Replace {
		nc.Name = ch.Name
	}
	if ch.LogoURI != "" || ch.Replace {
		nc.LogoURI = ch.LogoURI
	}
	if ch.RedirectURIs != nil {
		nc.RedirectURIs = ch.RedirectURIs
	}
	if ch.PostLogoutRedirectURIs != nil {
		nc.PostLogoutRedirectURIs = ch.PostLogoutRedirectURIs
	}
	if ch.Scopes != nil {
		nc.Scopes = ch.Scopes
	}
	if ch.GrantTypes != nil {
		nc.GrantTypes = ch.GrantTypes
	}
	built, problems := buildClient(nc)
	if len(problems) > 0 {
		return errors.Join(problems...)
	}
	c.Name, c.LogoURI = built.Name, built.LogoURI
	c.RedirectURIs, c.PostLogoutRedirectURIs = built.RedirectURIs, built.PostLogoutRedirectURIs
	c.Scopes, c.GrantTypes, c.ResponseTypes = built.Scopes, built.GrantTypes, built.ResponseTypes
	return nil
}

// lifecycleTx runs change on client id inside one transaction together with the actor's audit
// entry (action, detail "state=<old>-><new>" plus extra). change sees the client
// as stored and returns the extra detail; its error aborts everything.
func lifecycleTx(ctx context.Context, store storage.Storage, actor audit.Actor, id, action string,
	change func(c *storage.Client) (string, error)) error {
	return store.InTx(ctx, func(ctx context.Context) error {
		var from, to, extra string
		err := store.UpdateClient(ctx, id, func(c *storage.Client) error {
			from = c.EffectiveStatus()
			if from == storage.ClientRetired {
				return fmt.Errorf("%w: %q", ErrClientRetired, id)
			}
			var err error
			if extra, err = change(c); err != nil {
				return err
			}
			to = c.EffectiveStatus()
			c.UpdatedAt = timeNow().UTC()
			return nil
		})
		if err != nil {
			return err
		}
		if to == storage.ClientSuspended || to == storage.ClientRetired {
			// Every grant of the app ends with it (after the update: fn must not call the store).
			n, err := store.RevokeClientGrants(ctx, id)
			if err != nil {
				return err
			}
			extra = strings.TrimSpace(extra + fmt.Sprintf(" grants_revoked=%d", n))
		}
		detail := "state=" + from + "->" + to
		if extra != "" {
			detail += " " + extra
		}
		return actor.Record(ctx, store, timeNow(), action, id, id, detail)
	})
}

// ApproveClient publishes an app waiting for review (pending_review → published), or applies a
// published or suspended app's pending change (ProposeClientChange), validated again. Errors:
// storage.ErrNotFound; ErrClientRetired; ErrInvalidTransition when there is nothing to
// approve; the validation errors of CreateClient when the pending change no longer validates.
func ApproveClient(ctx context.Context, store storage.Storage, actor audit.Actor, id string) error {
	return lifecycleTx(ctx, store, actor, id, actionApprove, func(c *storage.Client) (string, error) {
		switch st := c.EffectiveStatus(); {
		case st == storage.ClientPendingReview:
			c.Status, c.ReviewNote = storage.ClientPublished, ""
			return "", nil
		case (st == storage.ClientPublished || st == storage.ClientSuspended) && c.PendingChange != nil:
			var ch ClientChange
			if err := json.Unmarshal(c.PendingChange, &ch); err != nil {
				return "", fmt.Errorf("oidc: pending change of %q: %w", id, err)
			}
			if err := applyChange(c, ch); err != nil {
				return "", err
			}
			c.PendingChange = nil
			return "change=applied", nil
		default:
			return "", fmt.Errorf("%w: %q is %s with no pending change", ErrInvalidTransition, id, st)
		}
	})
}

// validReason checks a rejection or suspension reason: 1 to 500 characters, no control
// characters. It is stored as Client.ReviewNote (shown to operators and the app's developers)
// and never written to the audit log, which gets only the state change.
func validReason(reason string) (string, error) {
	reason = strings.TrimSpace(reason)
	n := len([]rune(reason))
	if n == 0 || n > maxReason || strings.IndexFunc(reason, unicode.IsControl) >= 0 {
		return "", fmt.Errorf("%w: 1 to %d characters without control characters", ErrReasonRequired, maxReason)
	}
	return reason, nil
}

// RejectClient refuses an app waiting for review (pending_review → rejected), or discards a
// published app's pending change (the app stays published); reason is stored as its
// ReviewNote. Errors: ErrReasonRequired; storage.ErrNotFound; ErrClientRetired;
// ErrClientNotPendingReview when the app is neither waiting for review nor has a pending
// change.
func RejectClient(ctx context.Context, store storage.Storage, actor audit.Actor, id, reason string) error {
	reason, err := validReason(reason)
	if err != nil {
		return err
	}
	return lifecycleTx(ctx, store, actor, id, actionReject, func(c *storage.Client) (string, error) {
		switch st := c.EffectiveStatus(); {
		case st == storage.ClientPendingReview:
			c.Status, c.ReviewNote = storage.ClientRejected, reason
			return "", nil
		case c.PendingChange != nil:
			c.PendingChange, c.ReviewNote = nil, reason
			return "change=discarded", nil
		default:
			return "", fmt.Errorf("%w: %q is %s", ErrClientNotPendingReview, id, st)
		}
	})
}

// SuspendClient stops a published app (published → suspended): its logins get a page saying
// so, the token endpoint refuses it, its access tokens are inactive at introspection and
// UserInfo, and every grant it holds is revoked (storage.Apps.RevokeClientGrants: refresh
// tokens do not come back on resume). Its TokensNotBefore becomes now, so the access tokens
// it holds stay inactive after a resume too — also self-contained ones without a grant
// record (client_credentials). Errors: ErrReasonRequired; storage.ErrNotFound;
// ErrClientRetired; ErrInvalidTransition when the app is not published.
func SuspendClient(ctx context.Context, store storage.Storage, actor audit.Actor, id, reason string) error {
	reason, err := validReason(reason)
	if err != nil {
		return err
	}
	return lifecycleTx(ctx, store, actor, id, actionSuspend, func(c *storage.Client) (string, error) {
		if st := c.EffectiveStatus(); st != storage.ClientPublished {
			return "", fmt.Errorf("%w: %q is %s, not published", ErrInvalidTransition, id, st)
		}
		c.Status, c.ReviewNote = storage.ClientSuspended, reason
		cutTokens(c)
		return "", nil
	})
}

// ResumeClient publishes a suspended app again (suspended → published). Grants revoked by the
// suspension stay revoked, and every access token issued before the resume stays inactive
// (TokensNotBefore becomes now: this also catches tokens issued during the suspension by a
// replica whose client cache, Config.ClientCacheTTL, still held the app as published). Errors: storage.ErrNotFound; ErrClientRetired;
// ErrInvalidTransition when the app is not suspended.
func ResumeClient(ctx context.Context, store storage.Storage, actor audit.Actor, id string) error {
	return lifecycleTx(ctx, store, actor, id, actionResume, func(c *storage.Client) (string, error) {
		if st := c.EffectiveStatus(); st != storage.ClientSuspended {
			return "", fmt.Errorf("%w: %q is %s, not suspended", ErrInvalidTransition, id, st)
		}
		c.Status, c.ReviewNote = storage.ClientPublished, ""
		cutTokens(c) // also the tokens a replica's stale cache issued during the suspension
		return "", nil
	})
}

// RetireClient withdraws an app for good (any state → retired): as SuspendClient, and final;
// its pending change, registration access token and previous secret are dropped. The record
// stays (audit entries and consents refer to it). reason (why, at most 500 characters, no
// control characters) is stored as its ReviewNote like a suspension's, never in the audit
// log; "" keeps no reason (the shell's `idp clients retire` without --reason; the console
// requires one). Errors: ErrReasonRequired for a reason too long or with control
// characters; storage.ErrNotFound; ErrClientRetired when it already is.
func RetireClient(ctx context.Context, store storage.Storage, actor audit.Actor, id, reason string) error {
	if strings.TrimSpace(reason) != "" {
		var err error
		if reason, err = validReason(reason); err != nil {
			return err
		}
	} else {
		reason = ""
	}
	return lifecycleTx(ctx, store, actor, id, actionRetire, func(c *storage.Client) (string, error) {
		c.Status, c.ReviewNote = storage.ClientRetired, reason
		c.PendingChange, c.RegistrationTokenHash, c.PreviousSecretHash = nil, nil, nil
		c.PreviousSecretExpiresAt = time.Time{}
		cutTokens(c)
		return "", nil
	})
}

// RotateClientSecret gives a confidential (client_secret_*) app a new secret and returns it
// once (256 random bits, base64url, 43 characters; stored only as keyring.ClientSecretHash).
// The old secret keeps working until now + overlap (exclusive) so the app can roll out the new
// one; overlap 0 ends it at once — the answer to a leaked secret — and with it every access
// token issued so far (TokensNotBefore becomes now: an attacker holding the secret may have
// got client_credentials tokens); refresh tokens stay, so the app's users stay logged in once
// it refreshes with the new secret. A rotation with overlap leaves the tokens alone. A rotation during an earlier overlap ends that overlap: only
// the newest two secrets ever work. Errors: ErrInvalidOverlap (below 0 or above
// MaxSecretOverlap); storage.ErrNotFound; ErrClientRetired; ErrInvalidAuthMethod for a
// public or private_key_jwt app.
func RotateClientSecret(ctx context.Context, store storage.Storage, kr *keyring.Keyring, actor audit.Actor, id string, overlap time.Duration) (string, error) {
	if overlap < 0 || overlap > MaxSecretOverlap {
		return "", fmt.Errorf("%w: %s (want 0 to %s)", ErrInvalidOverlap, overlap, MaxSecretOverlap)
	}
	secret := httpkit.RandomString(32)
	err := lifecycleTx(ctx, store, actor, id, actionRotate, func(c *storage.Client) (string, error) {
		if c.Public || c.TokenEndpointAuthMethod == AuthPrivateKeyJWT || len(c.SecretHash) == 0 {
			return "", fmt.Errorf("%w: %q has no client secret (%s)", ErrInvalidAuthMethod, id, c.TokenEndpointAuthMethod)
		}
		c.PreviousSecretHash, c.PreviousSecretExpiresAt = nil, time.Time{}
		if overlap > 0 {
			c.PreviousSecretHash = c.SecretHash
			c.PreviousSecretExpiresAt = timeNow().Add(overlap).UTC()
		} else {
			cutTokens(c)
		}
		c.SecretHash = kr.ClientSecretHash(secret)
		return "overlap=" + overlap.String(), nil
	})
	if err != nil {
		return "", err
	}
	return secret, nil
}

// IssueInitialAccessToken issues an RFC 7591 §3 initial access token for department: a
// single-use bearer token ("tb_iat_" + 43 base64url characters) with which one app can be
// registered at the registration endpoint (POST /register); the app is pending_review with
// that department. ttl 0 means DefaultInitialAccessTokenTTL. The token is returned once and
// stored only as its HMAC-SM3 hash. Errors: ErrInvalidDepartment; ErrInvalidTTL (below 0 or
// above MaxInitialAccessTokenTTL); storage errors.
func IssueInitialAccessToken(ctx context.Context, store storage.Storage, kr *keyring.Keyring, actor audit.Actor, department string, ttl time.Duration) (string, time.Time, error) {
	if !departmentPattern.MatchString(department) {
		return "", time.Time{}, fmt.Errorf("%w: %q (want 1 to 64 of a-z 0-9 -)", ErrInvalidDepartment, department)
	}
	if ttl == 0 {
		ttl = DefaultInitialAccessTokenTTL
	}
	if ttl < MinInitialAccessTokenTTL || ttl > MaxInitialAccessTokenTTL {
		return "", time.Time{}, fmt.Errorf("%w: %s (want %s to %s)", ErrInvalidTTL, ttl, MinInitialAccessTokenTTL, MaxInitialAccessTokenTTL)
	}
	token := prefixInitialAccessToken + httpkit.RandomString(32)
	now := timeNow().UTC()
	exp := now.Add(ttl)
	err := store.InTx(ctx, func(ctx context.Context) error {
		if err := store.CreateInitialAccessToken(ctx, storage.InitialAccessToken{
			Hash: kr.ClientSecretHash(token), Department: department, CreatedBy: actor.ID,
			CreatedAt: now, ExpiresAt: exp, UsesLeft: 1,
		}); err != nil {
			return err
		}
		return actor.Record(ctx, store, now, actionIssueIAT, department, "", "department="+department+" ttl="+ttl.String())
	})
	if err != nil {
		return "", time.Time{}, err
	}
	return token, exp, nil
}

// ProposeClientChange proposes new metadata for an app (ClientChange: redirect URIs,
// post-logout URIs, scopes, grant types, name, logo URI), validated exactly as CreateClient
// validates a new app. For an app waiting for review (or rejected: it goes back to review) the
// change applies at once; for a published or suspended app it is stored as the app's pending
// change — replacing an earlier one — and applies only when ApproveClient approves it: the app
// keeps working with its published metadata meanwhile. Errors: the validation errors of
// CreateClient, joined; storage.ErrNotFound; ErrClientRetired.
func ProposeClientChange(ctx context.Context, store storage.Storage, actor audit.Actor, id string, change ClientChange) error {
	return lifecycleTx(ctx, store, actor, id, actionUpdate, func(c *storage.Client) (string, error) {
		probe := *c
		if err := applyChange(&probe, change); err != nil {
			return "", err
		}
		switch c.EffectiveStatus() {
		case storage.ClientPendingReview, storage.ClientRejected:
			*c = probe
			c.Status, c.ReviewNote = storage.ClientPendingReview, ""
			return "change=applied", nil
		default:
			change.RequestedAt = timeNow().UTC()
			b, err := json.Marshal(change)
			if err != nil {
				return "", err
			}
			c.PendingChange = b
			return "change=pending", nil
		}
	})
}

// ListClients returns one page of apps (storage.Apps.ListClientsPage): q.Limit of them (0 =
// 100, at most 1000) with IDs after q.After, filtered by department and state; pass the last
// ID as the next q.After until a page is shorter than the limit.
func ListClients(ctx context.Context, store storage.Storage, q storage.ClientQuery) ([]storage.Client, error) {
	return store.ListClientsPage(ctx, q)
}

// pendingChange decodes c's pending change; nil when none or unreadable.
func pendingChange(c storage.Client) *ClientChange {
	if c.PendingChange == nil {
		return nil
	}
	var ch ClientChange
	if json.Unmarshal(c.PendingChange, &ch) != nil {
		return nil
	}
	return &ch
}

// slicesOrEmpty returns s, or an empty non-nil slice for JSON.
func slicesOrEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return slices.Clone(s)
}

// errClientNotPublished is the internal cause of a token of an app that is not published,
// answered as inactive (introspection) or invalid_token (UserInfo).
var errClientNotPublished = errors.New("oidc: the token's app is not published")

// errTokenCut is the internal cause of an access token issued at or before its app's
// TokensNotBefore, answered as inactive (introspection) or invalid_token (UserInfo).
var errTokenCut = errors.New("oidc: the access token was issued before its app's tokens were cut")

// clientPublished reports whether fc is a published app (tokens of other apps are inactive).
func clientPublished(fc fosite.Client) bool {
	c, ok := fc.(*fositeadapter.Client)
	return ok && c.Registration.EffectiveStatus() == storage.ClientPublished
}

// accessTokenAccepted reports whether ar, the request of an access token, may be accepted:
// its app is published and the token was issued after the app's TokensNotBefore (compared at
// microsecond precision, the storage's: a token issued within the same microsecond counts as
// before). The issue time is the session's AccessIssued (sealed and JWT access tokens), else
// the request's time (stored opaque tokens made before sealed tokens existed).
func accessTokenAccepted(ar fosite.Requester) bool {
	c, ok := ar.GetClient().(*fositeadapter.Client)
	if !ok || c.Registration.EffectiveStatus() != storage.ClientPublished {
		return false
	}
	nb := c.Registration.TokensNotBefore
	if nb.IsZero() {
		return true
	}
	issued := ar.GetRequestedAt()
	if sess, ok := ar.GetSession().(*fositeadapter.Session); ok && sess.AccessIssued != 0 {
		issued = fositeadapter.FromNanos(sess.AccessIssued)
	}
	return issued.UnixMicro() > nb.UnixMicro()
}

// cutTokens makes every access token c was issued so far inactive (Client.TokensNotBefore).
func cutTokens(c *storage.Client) {
	c.TokensNotBefore = timeNow().UTC()
}

// checkClientPublished answers an authorization request of an app that is not published with
// a page saying why (zh/en, 403), never with a redirect: the app is not trusted (any more) to
// receive anything. It returns true when the request may go on (published, or not a known
// client: fosite answers those).
func (s *Server) checkClientPublished(w http.ResponseWriter, r *http.Request, query string) bool {
	form, _ := url.ParseQuery(query)
	id := form.Get("client_id")
	if id == "" {
		return true
	}
	c, err := s.clients.Get(r.Context(), id)
	if err != nil {
		return true // unknown or unreadable: the normal path answers it
	}
	var msg string
	switch c.Registration.EffectiveStatus() {
	case storage.ClientPublished:
		return true
	case storage.ClientSuspended:
		msg = msgAppSuspended
	case storage.ClientRetired:
		msg = msgAppRetired
	default: // pending_review, rejected
		msg = msgAppPending
	}
	s.countError(r.Context(), "authorize", "unauthorized_client", id)
	s.log.InfoContext(r.Context(), "authorization request of an app that is not published",
		"client_id", id, "status", c.Registration.EffectiveStatus())
	s.renderError(w, r, http.StatusForbidden, form.Get("ui_locales"), msg)
	return false
}

// ForgetClient makes this server read client id from storage on its next use, instead of
// from its cache: callers that change a client in storage (the admin console's adapters)
// call it so that the change applies here at once; other replicas see it within
// Config.ClientCacheTTL.
func (s *Server) ForgetClient(id string) { s.clients.Forget(id) }
