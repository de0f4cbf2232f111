package oidc

import (
	"context"
	"errors"
	"net/http"

	"github.com/ory/fosite"

	"github.com/tongban/tongban/internal/httpkit"
	"github.com/tongban/tongban/storage"
	"github.com/tongban/tongban/storage/health"
)

// Validation errors of client registration (CreateClient, ResetClientSecret) and of NewServer;
// those of person registration are package accounts'. They are returned wrapped with a message that
// says what exactly is wrong; test them with errors.Is. A command-line tool maps every one of them
// to exit status 2 ("wrong argument"); any other error is an operational failure.
var (
	// ErrInvalidConfig: a Config field is missing or out of range (NewServer). The message
	// lists every problem found, not only the first.
	ErrInvalidConfig = errors.New("oidc: invalid configuration")

	// ErrInvalidClientID: the client ID is empty, longer than 128 bytes or has characters
	// outside [A-Za-z0-9._~-].
	ErrInvalidClientID = errors.New("oidc: invalid client ID")
	// ErrInvalidRedirectURI: a redirect URI or post-logout redirect URI is not absolute, has a
	// fragment, user info, a wildcard or a dot segment, is not in canonical form (lower-case
	// scheme and host; the message names the canonical form), uses http://localhost instead of
	// the loopback IP literal (RFC 8252 §8.3), or is neither https, http on a loopback address
	// (RFC 8252 §7.3), nor a private-use scheme with a dot (RFC 8252 §7.1).
	ErrInvalidRedirectURI = errors.New("oidc: invalid redirect URI")
	// ErrInvalidClientName: an app's name longer than MaxClientNameLength characters, not
	// UTF-8, or holding control or invisible characters (text-direction overrides).
	ErrInvalidClientName = errors.New("oidc: invalid client name")
	// ErrInvalidGrantType: a grant type other than authorization_code, refresh_token,
	// client_credentials and the device code (GrantDeviceCode), refresh_token without
	// authorization_code or the device code, or a public client with client_credentials.
	ErrInvalidGrantType = errors.New("oidc: invalid grant type")
	// ErrInvalidScope: a scope that is not one of SupportedScopes, or authorization_code
	// without the openid scope.
	ErrInvalidScope = errors.New("oidc: invalid scope")
	// ErrInvalidAlgorithm: an ID-token signing algorithm other than SGD_SM3_SM2, ES256, RS256.
	ErrInvalidAlgorithm = errors.New("oidc: invalid ID token signing algorithm")
	// ErrInvalidSubjectType: a subject type other than "public" or "pairwise", or pairwise
	// without a sector identifier or redirect URI to derive it from.
	ErrInvalidSubjectType = errors.New("oidc: invalid subject type")
	// ErrInvalidAuthMethod: a token endpoint auth method other than client_secret_basic,
	// client_secret_post (confidential clients) or none (public clients).
	ErrInvalidAuthMethod = errors.New("oidc: invalid token endpoint auth method")
	// ErrInvalidAccessTokenFormat: an access token format other than "opaque" or "jwt".
	ErrInvalidAccessTokenFormat = errors.New("oidc: invalid access token format")
	// ErrClientExists: a client with that ID is already registered.
	ErrClientExists = errors.New("oidc: client already registered")
)

// errInvalidAuthRequest is the internal cause of a pending authorization request (the signed
// "authz" parameter of the login and consent pages) that is malformed, forged or expired.
var errInvalidAuthRequest = errors.New("oidc: invalid or expired authorization request")

// unavailable reports whether err comes from a database that refuses writes now (disk full,
// read-only, connection lost: storage.ErrUnavailable). Such requests get a 503 that the client
// may retry — temporarily_unavailable at the authorization endpoint (RFC 6749 §4.1.2.1),
// server_error elsewhere — and are not logged one by one: the readiness monitor
// (storage/health) counts them and logs once per interval (docs/design/storage-faults.md).
func unavailable(err error) bool { return errors.Is(err, storage.ErrUnavailable) }

// errUnavailable is the token, introspection, revocation and UserInfo endpoints' answer while
// the database refuses writes.
var errUnavailable = &fosite.RFC6749Error{
	ErrorField:       "server_error",
	DescriptionField: "The identity provider cannot store data right now; try again later.",
	CodeField:        http.StatusServiceUnavailable,
}

// oauthJSON is the provider's JSON dialect outside fosite's own answers: json.Marshal's bytes
// without a trailing newline, and no error_description member when there is none.
var oauthJSON = httpkit.JSON{}

// logFailure logs a storage failure the request goes on despite (or answers with a page of its
// own): at ERROR, or at debug while the database refuses writes (the readiness monitor counts
// those and logs them once per interval, see unavailable).
func (s *Server) logFailure(ctx context.Context, msg string, err error, args ...any) {
	health.LogFailure(ctx, s.log, msg, err, args...)
}

// writeUnavailable writes errUnavailable as JSON with Retry-After (httpkit.RetryAfter).
func (s *Server) writeUnavailable(w http.ResponseWriter) {
	httpkit.SetRetryAfter(w)
	oauthJSON.Error(w, errUnavailable.CodeField, errUnavailable.ErrorField, errUnavailable.DescriptionField)
}

// serverStatus is the status of a page that failed for a reason of the server, shown again
// with the "temporarily unavailable" message (httpkit.ServerStatus): 503 with Retry-After
// while the database refuses writes (logged at debug only, see unavailable), else 500 with the
// cause logged as what failed.
func (s *Server) serverStatus(ctx context.Context, w http.ResponseWriter, what string, err error) int {
	return httpkit.ServerStatus(ctx, w, s.log, unavailable(err), what, err)
}

// pageError answers a page request that failed for a reason of the server: 503 and the plain
// "temporarily unavailable" page while the database refuses writes (logged at debug only, see
// unavailable), else 500 with the same page and the cause logged as what failed.
func (s *Server) pageError(ctx context.Context, w http.ResponseWriter, r *http.Request, lang, what string, err error) {
	s.renderError(w, r, s.serverStatus(ctx, w, what, err), lang, msgServer)
}

// Errors of the app lifecycle (apps.go, dcr.go; docs/design/app-management.md), wrapped with a
// message naming the app and its state; test them with errors.Is. The validation errors above
// apply to proposed changes and registrations too.
var (
	// ErrInvalidTransition: the app's state does not allow the action (e.g. resuming an app
	// that is not suspended, approving a published app without a pending change).
	ErrInvalidTransition = errors.New("oidc: the app's state does not allow this action")
	// ErrClientNotPendingReview: the action needs an app waiting for review (reject).
	ErrClientNotPendingReview = errors.New("oidc: the app is not waiting for review")
	// ErrClientRetired: the app is retired; nothing can change it any more.
	ErrClientRetired = errors.New("oidc: the app is retired")
	// ErrReasonRequired: a rejection or suspension without a reason, or a reason longer than
	// 500 characters or with control characters.
	ErrReasonRequired = errors.New("oidc: a reason is required")
	// ErrInvalidOverlap: a secret rotation overlap below zero or above MaxSecretOverlap.
	ErrInvalidOverlap = errors.New("oidc: invalid secret rotation overlap")
	// ErrInvalidDepartment: a department code outside [a-z0-9-]{1,64}.
	ErrInvalidDepartment = errors.New("oidc: invalid department code")
	// ErrInvalidTTL: an initial access token lifetime below zero or above MaxInitialAccessTokenTTL.
	ErrInvalidTTL = errors.New("oidc: invalid initial access token lifetime")
	// ErrInvalidLogoURI: a logo URI that is not an absolute https URL of at most 2,000 bytes.
	ErrInvalidLogoURI = errors.New("oidc: invalid logo URI")
	// ErrInvalidJWKS: a JWK Set that does not parse, has no usable SM2 or ES256 public
	// signing key, holds private key material, or is larger than 16 KiB; or private_key_jwt
	// without a JWK Set, or a JWK Set without private_key_jwt.
	ErrInvalidJWKS = errors.New("oidc: invalid JWK Set")
)
