package fositeadapter

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/ory/fosite"

	"github.com/tongban/tongban/oidc/internal/sealed"
	"github.com/tongban/tongban/storage"
)

// SealedAccessTokens: tongban's opaque access tokens are self-contained. The token is the
// sealed JSON of the request it stands for (a storedRequest slimmed by sealAccessToken: grant
// ID, client, granted scopes and audience, the session with subject, auth_time, acr, amr, the
// userinfo claim names, expiry, issue time and the grant's generation), SM4-GCM under a key derived from the token key (package sealed), with
// the prefix "tb_at_". Nothing is written when one is issued: the write per token was half the
// token endpoint's cost. It is
//
//   - introspectable: Store.GetAccessTokenSession opens it and answers from its content;
//   - revocable: revoking a grant (RFC 7009 revocation, a replayed code, a reused refresh token,
//     or a refresh, which revokes the generations before it) records it in the revoked-grant
//     list (storage.Revocations) until every access token it can have issued has expired, and
//     GetAccessTokenSession reads that list on every use;
//   - durable: nothing is lost on a restart, and every replica opens it.
//
// Stored opaque tokens made before (prefix "tb_at_", a "." before their HMAC) and JWT access
// tokens are still looked up in storage.Tokens. See docs/design/token-transactions.md.
const prefixSealedAccess = prefixAccess

// NewAccessTokenSealer returns the sealer of access tokens under the token key.
func NewAccessTokenSealer(tokenKey []byte, now func() time.Time) *sealed.Sealer {
	return sealed.New(tokenKey, prefixSealedAccess, now)
}

// revocationMargin is how much longer than the access-token lifetime a revoked-grant entry is
// kept, and a sealed access token at most accepted after it was made: room for the clocks of
// replicas to differ.
const revocationMargin = time.Minute

// sealAccessToken seals r (with its session sess) into an access token made at now. The token
// keeps of the claims request only the names of the userinfo member (what UserInfo releases
// depends on nothing else). A token longer than sealed.MaxTokenSize — only a huge claims
// request makes one — is refused with fosite.ErrInvalidRequest, rather than issued unusable.
func sealAccessToken(s *sealed.Sealer, r fosite.Requester, sess *Session, now time.Time) (string, error) {
	slim := *sess
	slim.Nonce, slim.CodeChallenge, slim.CodeExp, slim.RefreshExp, slim.IDExp = "", "", 0, 0, 0
	slim.idClaims, slim.idHeaders = nil, nil
	slim.AccessIssued = now.UnixNano()
	if sess.Claims != nil {
		slim.Claims = nil
		if sess.Claims.UserInfo != nil {
			names := make(map[string]*ClaimSpec, len(sess.Claims.UserInfo))
			for name := range sess.Claims.UserInfo {
				names[name] = nil
			}
			slim.Claims = &ClaimsRequest{UserInfo: names}
		}
	}
	sr := storedRequestOf(r, &slim)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(&sr); err != nil {
		return "", fmt.Errorf("oidc: seal access token: %w", err)
	}
	tok, err := s.Seal(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
	if err != nil {
		return "", err
	}
	if len(tok) > sealed.MaxTokenSize {
		return "", fosite.ErrInvalidRequest.WithHintf("The claims request makes an access token of %d characters, more than %d.", len(tok), sealed.MaxTokenSize)
	}
	return tok, nil
}

// openAccessToken opens a sealed access token and restores its request: fosite.ErrNotFound
// when it does not open (forged, another server's, changed), or names a client that no longer
// exists; fosite.ErrInactiveToken (with the request) when its grant was revoked at or above its
// generation.
func (s *Store) openAccessToken(ctx context.Context, token string) (fosite.Requester, error) {
	payload, err := s.sealer.Open(token)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", fosite.ErrNotFound, err)
	}
	var sr storedRequest
	if err := json.Unmarshal(payload, &sr); err != nil {
		return nil, fmt.Errorf("oidc: decode sealed access token: %w", err)
	}
	c, err := s.clients.Get(ctx, sr.ClientID)
	if err != nil {
		return nil, fositeErr(err)
	}
	req, sess := sr.request(c)
	below, err := s.store.GrantRevokedBelow(ctx, req.GetID())
	if err != nil {
		return nil, err
	}
	if sess.Gen < below {
		return req, fosite.ErrInactiveToken
	}
	return req, nil
}

// revocationExpiry is how long an entry of the revoked-grant list must stay: until every
// access token the grant can have issued before now has expired, with a minute for clocks of
// other replicas running ahead.
func (s *Store) revocationExpiry() time.Time {
	return s.now().Add(s.accessLifetime + revocationMargin)
}

// revokeAccessTokens revokes the access tokens of a grant below generation below: the sealed
// ones (the grant's row of the revoked-grant list, written first, see RotateRefreshToken) and
// the stored ones (JWT access tokens, opaque tokens issued before sealing).
func (s *Store) revokeAccessTokens(ctx context.Context, requestID string, below int64) error {
	if err := s.store.RevokeGrant(ctx, requestID, below, s.revocationExpiry()); err != nil {
		return err
	}
	_, err := s.store.RevokeByRequestID(ctx, storage.KindAccessToken, requestID)
	return err
}
