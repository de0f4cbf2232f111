package oidc

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/tongban/tongban/internal/httpkit"
	"github.com/tongban/tongban/internal/textcheck"
	"github.com/tongban/tongban/keyring"
	"github.com/tongban/tongban/storage"
)

// Client registration (apps, RFC 6749 §2): used by `idp clients add` and by tests.
// CreateClient and ResetClientSecret work on storage directly and need no running Server.
// Validation failures wrap the Err* sentinels of errors.go (several problems are joined with
// errors.Join, so the message lists them all); other errors are storage or keyring failures.

// Grant types a client may be registered for.
const (
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
	GrantClientCredentials = "client_credentials"
)

// Defaults of NewClient.
var (
	DefaultClientScopes     = []string{ScopeOpenID, ScopeProfile, ScopeOfflineAccess}
	DefaultClientGrantTypes = []string{GrantAuthorizationCode, GrantRefreshToken}
)

// NewClient is a relying app to register.
type NewClient struct {
	// ID is the client_id: 1 to 128 characters of [A-Za-z0-9._~-], not starting with "_"
	// (reserved for metric labels).
	ID string
	// Name is shown on the consent page; empty means ID.
	Name string
	// RedirectURIs are matched exactly (RFC 9700 §4.1.3), except that the port of an http
	// loopback URI may vary (RFC 8252 §7.3). Each must be https, http on a loopback address, or
	// a private-use scheme with a dot. Required with the authorization_code grant.
	RedirectURIs []string
	// PostLogoutRedirectURIs are the allowed post_logout_redirect_uri values (exact match),
	// under the same rules.
	PostLogoutRedirectURIs []string
	// Public marks a client that cannot keep a secret (native or browser app): no secret,
	// token_endpoint_auth_method "none", no client_credentials grant.
	Public bool
	// GrantTypes: nil means authorization_code and refresh_token. Allowed values:
	// authorization_code, refresh_token (only with authorization_code or the device code),
	// client_credentials (confidential clients only), GrantDeviceCode
	// (urn:ietf:params:oauth:grant-type:device_code, RFC 8628: TVs and self-service
	// terminals; no redirect URI needed).
	GrantTypes []string
	// Scopes the client may request: nil means "openid profile offline_access". Each must be
	// in SupportedScopes; authorization_code clients need openid.
	Scopes []string
	// IDTokenAlg is id_token_signed_response_alg: "SGD_SM3_SM2", "ES256" or "RS256" (the
	// default when empty, OIDC Core's mandatory algorithm).
	IDTokenAlg string
	// TokenEndpointAuthMethod: "client_secret_basic" (default for confidential clients) or
	// "client_secret_post"; "none" for public clients. The token endpoint accepts either
	// secret method from any confidential client; the value is informative.
	TokenEndpointAuthMethod string
	// SubjectType is "public" (default: sub is the person ID) or "pairwise" (OIDC Core §8.1).
	SubjectType string
	// SectorIdentifier is the host pairwise subjects are computed for; empty means the host
	// of the redirect URIs (which must then all share one host).
	SectorIdentifier string
	// Audience lists the audiences (resource servers) the client may request tokens for.
	Audience []string
	// AccessTokenFormat is "opaque" (default: opaque tokens sealed with SM4-GCM and stored
	// nowhere, docs/design/token-transactions.md) or "jwt"
	// (RFC 9068 JWT access tokens, typ at+jwt, signed with the IDTokenAlg key and verifiable
	// with the JWKS).
	AccessTokenFormat string
	// Purpose is why the app reads licences, in Chinese (zh-CN): shown to the holder on the
	// consent page beside the licence scopes (LicenceScopes). Required when Scopes has a
	// licence scope; at most MaxPurposeLength (200) characters; surrounding spaces are
	// dropped. PurposeEn is its English text for the English page (optional: "" shows
	// Purpose there too).
	Purpose   string
	PurposeEn string
	// Department is the short code of the department the app belongs to ([a-z0-9-]{1,64});
	// empty for none.
	Department string
	// LogoURI is the app's logo: an absolute https URL; empty for none.
	LogoURI string
	// JWKS is the app's JSON Web Key Set (RFC 7517) for TokenEndpointAuthMethod
	// "private_key_jwt": SM2 (SGD_SM3_SM2) and ES256 (P-256) public signing keys, at most
	// 16 KiB. Required with private_key_jwt, refused otherwise.
	JWKS []byte

	// BackchannelLogoutURI receives logout tokens (OpenID Connect Back-Channel Logout 1.0):
	// https, or http on a loopback address; no fragment; empty for none.
	// BackchannelLogoutSessionRequired says the app needs sid in them (always sent).
	BackchannelLogoutURI             string
	BackchannelLogoutSessionRequired bool
	// FrontchannelLogoutURI is loaded in a hidden iframe of the logout page with iss and sid
	// (Front-Channel Logout 1.0), same rules; empty for none.
	FrontchannelLogoutURI             string
	FrontchannelLogoutSessionRequired bool
}

// Access token formats (NewClient.AccessTokenFormat, storage.Client.AccessTokenFormat).
const (
	AccessTokenOpaque = "opaque"
	AccessTokenJWT    = "jwt"
)

// timeNow stamps records made by the admin operations.
var timeNow = time.Now

// Limits of client metadata (CreateClient, RFC 7591 registration, changes).
const (
	MaxClientNameLength  = 100  // characters of NewClient.Name
	MaxRedirectURIs      = 20   // redirect URIs, and post-logout redirect URIs, per client
	MaxRedirectURILength = 2000 // bytes of one redirect URI
)

// clientIDPattern is the client_id syntax. A leading "_" is reserved for the metric labels
// that are no client (LabelOtherClients).
var clientIDPattern = regexp.MustCompile(`^[A-Za-z0-9.~-][A-Za-z0-9._~-]{0,127}$`)

// CreateClient validates nc, applies the defaults documented on NewClient and stores the
// client. A confidential client gets a new secret: 256 random bits, base64url without padding
// (43 characters), returned here once and stored only as keyring.ClientSecretHash (HMAC-SM3).
// A public client's secret is "".
//
// Errors: ErrInvalidClientID, ErrInvalidRedirectURI, ErrInvalidGrantType, ErrInvalidScope,
// ErrInvalidAlgorithm, ErrInvalidAuthMethod, ErrInvalidSubjectType, ErrInvalidAccessTokenFormat,
// ErrInvalidPurpose (a licence scope without a purpose, or a bad purpose text) — joined when several
// apply; ErrClientExists when the ID is taken.
func CreateClient(ctx context.Context, store storage.Storage, kr *keyring.Keyring, nc NewClient) (storage.Client, string, error) {
	c, problems := buildClient(nc)
	if len(problems) > 0 {
		return storage.Client{}, "", errors.Join(problems...)
	}
	secret := ""
	if !c.Public && c.TokenEndpointAuthMethod != AuthPrivateKeyJWT {
		secret = httpkit.RandomString(32)
		c.SecretHash = kr.ClientSecretHash(secret)
	}
	c.CreatedAt = timeNow().UTC()
	c.Status = storage.ClientPublished
	if err := store.CreateClient(ctx, c); err != nil {
		if errors.Is(err, storage.ErrConflict) {
			return storage.Client{}, "", fmt.Errorf("%w: %q", ErrClientExists, c.ID)
		}
		return storage.Client{}, "", err
	}
	appendAdminAudit(ctx, store, "client.create", c.ID, c.ID)
	return c, secret, nil
}

// ResetClientSecret gives a confidential client a new secret (as CreateClient does) and
// returns it once; the old secret stops working at once (within Config.ClientCacheTTL for a
// running server). Errors: storage.ErrNotFound; ErrInvalidAuthMethod for a public client.
func ResetClientSecret(ctx context.Context, store storage.Storage, kr *keyring.Keyring, clientID string) (string, error) {
	secret := httpkit.RandomString(32)
	err := store.UpdateClient(ctx, clientID, func(c *storage.Client) error {
		if c.Public || c.TokenEndpointAuthMethod == AuthPrivateKeyJWT {
			return fmt.Errorf("%w: %q is a public or private_key_jwt client and has no secret", ErrInvalidAuthMethod, clientID)
		}
		c.SecretHash = kr.ClientSecretHash(secret)
		return nil
	})
	if err != nil {
		return "", err
	}
	appendAdminAudit(ctx, store, "client.secret_reset", clientID, clientID)
	return secret, nil
}

// buildClient validates nc and returns the client record without secret and time.
func buildClient(nc NewClient) (storage.Client, []error) {
	var problems []error
	bad := func(err error, format string, a ...any) {
		problems = append(problems, fmt.Errorf("%w: "+format, append([]any{err}, a...)...))
	}
	if !clientIDPattern.MatchString(nc.ID) {
		bad(ErrInvalidClientID, "%q must be 1 to 128 characters of A-Z a-z 0-9 . _ ~ -, not starting with _", nc.ID)
	}
	grants := nc.GrantTypes
	if grants == nil {
		grants = DefaultClientGrantTypes
	}
	grants = slices.Compact(slices.Sorted(slices.Values(grants)))
	for _, g := range grants {
		if g != GrantAuthorizationCode && g != GrantRefreshToken && g != GrantClientCredentials && g != GrantDeviceCode && g != GrantTokenExchange {
			bad(ErrInvalidGrantType, "%q (supported: authorization_code, refresh_token, client_credentials, %s, %s; implicit and password are not offered)", g, GrantDeviceCode, GrantTokenExchange)
		}
	}
	if len(grants) == 0 {
		bad(ErrInvalidGrantType, "at least one grant type is needed")
	}
	hasCode := slices.Contains(grants, GrantAuthorizationCode)
	if slices.Contains(grants, GrantRefreshToken) && !hasCode && !slices.Contains(grants, GrantDeviceCode) {
		bad(ErrInvalidGrantType, "refresh_token needs authorization_code or %s", GrantDeviceCode)
	}
	if nc.Public && slices.Contains(grants, GrantClientCredentials) {
		bad(ErrInvalidGrantType, "a public client cannot use client_credentials")
	}
	if nc.Public && slices.Contains(grants, GrantTokenExchange) { // exchange.go
		bad(ErrInvalidGrantType, "a public client cannot use %s", GrantTokenExchange)
	}
	scopes := nc.Scopes
	if scopes == nil {
		scopes = DefaultClientScopes
	}
	scopes = slices.Clone(scopes)
	for _, sc := range scopes {
		if !slices.Contains(SupportedScopes, sc) {
			bad(ErrInvalidScope, "%q (supported: %s)", sc, strings.Join(SupportedScopes, " "))
		}
	}
	purpose, purposeEn := strings.TrimSpace(nc.Purpose), strings.TrimSpace(nc.PurposeEn)
	problems = append(problems, validatePurpose(purpose, purposeEn, scopes)...)
	if hasCode && !slices.Contains(scopes, ScopeOpenID) {
		bad(ErrInvalidScope, "an authorization_code client needs the openid scope")
	}
	if hasCode && len(nc.RedirectURIs) == 0 {
		bad(ErrInvalidRedirectURI, "an authorization_code client needs at least one redirect URI")
	}
	for _, l := range []struct {
		what string
		uris []string
	}{{"redirect URIs", nc.RedirectURIs}, {"post-logout redirect URIs", nc.PostLogoutRedirectURIs}} {
		if len(l.uris) > MaxRedirectURIs {
			bad(ErrInvalidRedirectURI, "%d %s, at most %d", len(l.uris), l.what, MaxRedirectURIs)
		}
	}
	for _, u := range nc.RedirectURIs {
		if len(u) > MaxRedirectURILength {
			bad(ErrInvalidRedirectURI, "a redirect URI of %d bytes, at most %d", len(u), MaxRedirectURILength)
		} else if err := validateRedirectURI(u); err != nil {
			problems = append(problems, err)
		}
	}
	for _, u := range nc.PostLogoutRedirectURIs {
		if len(u) > MaxRedirectURILength {
			bad(ErrInvalidRedirectURI, "post-logout: a redirect URI of %d bytes, at most %d", len(u), MaxRedirectURILength)
		} else if err := validateRedirectURI(u); err != nil {
			problems = append(problems, fmt.Errorf("post-logout: %w", err))
		}
	}
	if nc.Name != "" {
		// textcheck: control and invisible characters (text-direction overrides such as U+202E,
		// zero-width characters, fillers, combining stacks) would let an app show citizens and
		// reviewers another name than its own.
		if _, err := textcheck.Name(nc.Name, MaxClientNameLength); err != nil {
			bad(ErrInvalidClientName, "the name is %v", err)
		}
	}
	alg := nc.IDTokenAlg
	if alg == "" {
		alg = AlgRS256
	}
	if !slices.Contains(SigningAlgorithms, alg) {
		bad(ErrInvalidAlgorithm, "%q (supported: SGD_SM3_SM2, ES256, RS256)", alg)
	}
	format := nc.AccessTokenFormat
	if format == "" {
		format = AccessTokenOpaque
	}
	if format != AccessTokenOpaque && format != AccessTokenJWT {
		bad(ErrInvalidAccessTokenFormat, "%q (supported: opaque, jwt)", format)
	}
	method := nc.TokenEndpointAuthMethod
	switch {
	case nc.Public && (method == "" || method == "none"):
		method = "none"
	case nc.Public:
		bad(ErrInvalidAuthMethod, "a public client uses none, not %q", method)
	case method == "":
		method = "client_secret_basic"
	case method != "client_secret_basic" && method != "client_secret_post" && method != AuthPrivateKeyJWT:
		bad(ErrInvalidAuthMethod, "%q (supported: client_secret_basic, client_secret_post, private_key_jwt; none for public clients)", method)
	}
	problems = append(problems, validateLifecycleFields(nc, method)...)
	problems = append(problems, validateLogoutURIs(nc)...) // logout_backchannel.go
	subject := nc.SubjectType
	if subject == "" {
		subject = "public"
	}
	switch subject {
	case "public":
	case "pairwise":
		if nc.SectorIdentifier == "" {
			hosts := map[string]bool{}
			for _, raw := range nc.RedirectURIs {
				if i := strings.Index(raw, "://"); i >= 0 {
					h := raw[i+3:]
					if j := strings.IndexAny(h, "/?:"); j >= 0 {
						h = h[:j]
					}
					hosts[h] = true
				}
			}
			if len(hosts) != 1 {
				bad(ErrInvalidSubjectType, "pairwise needs a sector identifier when the redirect URIs do not share one host")
			}
		}
	default:
		bad(ErrInvalidSubjectType, "%q (want public or pairwise)", subject)
	}
	var responseTypes []string
	if hasCode {
		responseTypes = []string{"code"}
	}
	return storage.Client{
		ID:                       nc.ID,
		Name:                     strings.TrimSpace(nc.Name),
		Public:                   nc.Public,
		RedirectURIs:             slices.Clone(nc.RedirectURIs),
		PostLogoutRedirectURIs:   slices.Clone(nc.PostLogoutRedirectURIs),
		GrantTypes:               grants,
		ResponseTypes:            responseTypes,
		Scopes:                   scopes,
		Audience:                 slices.Clone(nc.Audience),
		IDTokenSignedResponseAlg: alg,
		TokenEndpointAuthMethod:  method,
		SubjectType:              subject,
		SectorIdentifier:         nc.SectorIdentifier,
		AccessTokenFormat:        format,
		Purpose:                  purpose,
		PurposeEn:                purposeEn,
		Department:               nc.Department,
		LogoURI:                  nc.LogoURI,
		JWKS:                     slices.Clone(nc.JWKS),

		BackchannelLogoutURI:              nc.BackchannelLogoutURI,
		BackchannelLogoutSessionRequired:  nc.BackchannelLogoutSessionRequired,
		FrontchannelLogoutURI:             nc.FrontchannelLogoutURI,
		FrontchannelLogoutSessionRequired: nc.FrontchannelLogoutSessionRequired,
	}, problems
}

// appendAdminAudit records an operator action; a failure to audit is not an error of the
// operation (the record exists).
func appendAdminAudit(ctx context.Context, store storage.Audit, action, subject, clientID string) {
	_, _ = store.AppendAudit(ctx, storage.AuditEvent{
		Time: timeNow().UTC(), Actor: "operator", Action: action, Subject: subject, ClientID: clientID,
	})
}
