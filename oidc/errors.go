package oidc

import "errors"

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
	// ErrInvalidGrantType: a grant type other than authorization_code, refresh_token and
	// client_credentials, refresh_token without authorization_code, or a public client with
	// client_credentials.
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
