package oidc

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"

	"github.com/ory/fosite"

	"github.com/tongban/tongban/keyring"
	"github.com/tongban/tongban/oidc/internal/fositeadapter"
)

// secretHasher is the fosite.Hasher for client secrets: HMAC-SM3 under the keyring's
// client-secret key (keyring.ClientSecretHash), compared in constant time. Client secrets are
// 256-bit random values, so a slow password hash (fosite's default is bcrypt) would only slow
// the token endpoint down without adding security.
type secretHasher struct{ kr *keyring.Keyring }

var _ fosite.Hasher = secretHasher{}

var errSecretMismatch = errors.New("oidc: client secret does not match")

// Compare returns nil when HMAC-SM3(data) equals hash, errSecretMismatch otherwise.
func (h secretHasher) Compare(_ context.Context, hash, data []byte) error {
	if len(hash) == 0 || subtle.ConstantTimeCompare(hash, h.kr.ClientSecretHash(string(data))) != 1 {
		return errSecretMismatch
	}
	return nil
}

// Hash returns HMAC-SM3(data), 32 bytes.
func (h secretHasher) Hash(_ context.Context, data []byte) ([]byte, error) {
	return h.kr.ClientSecretHash(string(data)), nil
}

// authenticateClient is fosite's ClientAuthenticationStrategy for the token, revocation and
// introspection endpoints (RFC 6749 §2.3.1):
//   - a confidential client authenticates with client_secret_basic (HTTP Basic, form-encoded
//     ID and secret) or client_secret_post (client_id and client_secret in the body); either
//     is accepted whatever TokenEndpointAuthMethod was registered;
//   - a public client sends only client_id (token_endpoint_auth_method "none") and must not
//     present a secret;
//   - using two methods at once, or client assertions (private_key_jwt), is refused.
//
// Every failure is invalid_client (RFC 6749 §5.2); an unknown client, a missing and a wrong
// secret get the same description (no client enumeration).
func (s *Server) authenticateClient(ctx context.Context, r *http.Request, form url.Values) (fosite.Client, error) {
	if form.Get("client_assertion_type") != "" || form.Get("client_assertion") != "" {
		return nil, fosite.ErrInvalidClient.WithHint("Client assertions (private_key_jwt) are not supported; use client_secret_basic or client_secret_post.")
	}
	id, secret, basic := r.BasicAuth()
	if basic {
		var err error
		if id, err = url.QueryUnescape(id); err != nil {
			return nil, fosite.ErrInvalidClient.WithHint("The client ID in the Authorization header is not form-encoded.")
		}
		if secret, err = url.QueryUnescape(secret); err != nil {
			return nil, fosite.ErrInvalidClient.WithHint("The client secret in the Authorization header is not form-encoded.")
		}
		if form.Get("client_secret") != "" {
			return nil, fosite.ErrInvalidRequest.WithHint("Use one client authentication method, not two.")
		}
		if fid := form.Get("client_id"); fid != "" && fid != id {
			return nil, fosite.ErrInvalidClient.WithHint("client_id does not match the Authorization header.")
		}
	} else {
		id, secret = form.Get("client_id"), form.Get("client_secret")
	}
	if id == "" {
		return nil, fosite.ErrInvalidClient.WithHint("Client authentication is required.")
	}
	c, err := s.clients.Get(ctx, id)
	if err != nil {
		if errors.Is(err, fositeadapter.ErrClientNotFound) {
			return nil, fosite.ErrInvalidClient.WithHint(clientAuthFailed).WithWrap(err)
		}
		return nil, fosite.ErrServerError.WithWrap(err)
	}
	if c.IsPublic() {
		if secret != "" {
			return nil, fosite.ErrInvalidClient.WithHint("This is a public client: send client_id only (token_endpoint_auth_method none).")
		}
		return c, nil
	}
	if secret == "" {
		return nil, fosite.ErrInvalidClient.WithHint(clientAuthFailed)
	}
	if err := s.fositeConfig.GetSecretsHasher(ctx).Compare(ctx, c.GetHashedSecret(), []byte(secret)); err != nil {
		return nil, fosite.ErrInvalidClient.WithHint(clientAuthFailed).WithWrap(err)
	}
	return c, nil
}

// clientAuthFailed is the description of every unknown-client / missing- or wrong-secret
// failure, so the answer does not tell whether a client ID exists.
const clientAuthFailed = "Client authentication failed."
