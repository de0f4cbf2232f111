package oidc

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/ory/fosite"

	"github.com/tongban/tongban/keyring"
	"github.com/tongban/tongban/oidc/internal/fositeadapter"
	"github.com/tongban/tongban/storage"
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
//     is accepted whatever secret method was registered. During a secret rotation's overlap
//     (RotateClientSecret) the previous secret is accepted too, until its expiry;
//   - a private_key_jwt client (RFC 7523 §2.2, OIDC Core §9) sends client_assertion_type
//     urn:ietf:params:oauth:client-assertion-type:jwt-bearer and a client_assertion signed
//     with one of its registered keys (SGD_SM3_SM2 or ES256), checked by
//     verifyClientAssertion; it has no secret;
//   - a public client sends only client_id (token_endpoint_auth_method "none") and must not
//     present a secret;
//   - using two methods at once is refused.
//
// An authenticated app that is not published (storage.Client.Status: waiting for review,
// rejected, suspended, retired) is refused with invalid_client too (RFC 6749 §5.2: its
// credentials are not valid for anything while it is not published; unauthorized_client would
// wrongly suggest another grant type might work), with a description naming the state — told
// only to a caller that proved it is the app, or the app is public.
//
// Every failure is invalid_client (RFC 6749 §5.2); an unknown client, a missing and a wrong
// secret or assertion get the same description (no client enumeration).
func (s *Server) authenticateClient(ctx context.Context, r *http.Request, form url.Values) (fosite.Client, error) {
	c, err := s.authenticateClientCredentials(ctx, r, form)
	if err != nil {
		return nil, err
	}
	if st := c.Registration.EffectiveStatus(); st != storage.ClientPublished {
		return nil, fosite.ErrInvalidClient.WithHintf("This app is %s: only published apps may get tokens.", strings.ReplaceAll(st, "_", " "))
	}
	return c, nil
}

func (s *Server) authenticateClientCredentials(ctx context.Context, r *http.Request, form url.Values) (*fositeadapter.Client, error) {
	if form.Get("client_assertion_type") != "" || form.Get("client_assertion") != "" {
		if _, _, basic := r.BasicAuth(); basic || form.Get("client_secret") != "" {
			return nil, fosite.ErrInvalidRequest.WithHint("Use one client authentication method, not two.")
		}
		return s.verifyClientAssertion(ctx, r, form)
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
	hasher := s.fositeConfig.GetSecretsHasher(ctx)
	err = hasher.Compare(ctx, c.GetHashedSecret(), []byte(secret))
	if err != nil && s.now().Before(c.Registration.PreviousSecretExpiresAt) {
		// The rotated-out secret, during its overlap (RotateClientSecret).
		err = hasher.Compare(ctx, c.Registration.PreviousSecretHash, []byte(secret))
	}
	if err != nil {
		return nil, fosite.ErrInvalidClient.WithHint(clientAuthFailed).WithWrap(err)
	}
	return c, nil
}

// clientAuthFailed is the description of every unknown-client / missing- or wrong-secret
// failure, so the answer does not tell whether a client ID exists.
const clientAuthFailed = "Client authentication failed."
