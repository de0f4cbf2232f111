package oidc

import (
	"context"
	"errors"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/token/jwt"

	"github.com/tongban/tongban/oidc/internal/fositeadapter"
	"github.com/tongban/tongban/storage"
)

// oidcAuthorizeHandler is the authorization-endpoint half of fosite's
// OpenIDConnectExplicitHandler, without its storage record: for a request with the openid
// scope it requires redirect_uri (OIDC Core §3.1.2.1), runs fosite's prompt / max_age /
// id_token_hint validation against the session (a second line behind Server.decide), checks
// the nonce's length and keeps the nonce in the code's session.
type oidcAuthorizeHandler struct {
	validator *openid.OpenIDConnectRequestValidator
}

var _ fosite.AuthorizeEndpointHandler = (*oidcAuthorizeHandler)(nil)

func (h *oidcAuthorizeHandler) HandleAuthorizeEndpointRequest(ctx context.Context, ar fosite.AuthorizeRequester, _ fosite.AuthorizeResponder) error {
	if !ar.GetRequestedScopes().Has(ScopeOpenID) {
		return nil
	}
	if ar.GetRequestForm().Get("redirect_uri") == "" {
		return fosite.ErrInvalidRequest.WithHint("The redirect_uri parameter is required by OpenID Connect.")
	}
	if err := h.validator.ValidatePrompt(ctx, ar); err != nil {
		return err
	}
	sess, ok := ar.GetSession().(*fositeadapter.Session)
	if !ok {
		return fosite.ErrServerError.WithWrap(fositeadapter.ErrSessionType)
	}
	nonce := ar.GetRequestForm().Get("nonce")
	if nonce != "" && len(nonce) < fosite.MinParameterEntropy {
		return fosite.ErrInsufficientEntropy.WithHintf("nonce must have at least %d characters.", fosite.MinParameterEntropy)
	}
	sess.Nonce = nonce
	return nil
}

// idTokenHandler issues the ID token of the authorization_code, refresh_token and device code
// (RFC 8628) grants (OIDC
// Core §3.1.3.3, §12.2). It replaces fosite's OpenIDConnectExplicitHandler and
// OpenIDConnectRefreshHandler at the token endpoint because:
//   - the signing key follows the client's registered id_token_signed_response_alg;
//   - at_hash for SGD_SM3_SM2 uses SM3 (fosite's ComputeHash would use SHA-256, DESIGN §8);
//   - person claims (name, phone_number, id_number) are read from storage now, so token
//     records never hold personal data.
//
// Claims: iss, sub, aud (the client ID), exp, iat, auth_time, acr, amr, at_hash, nonce (code
// exchange only; OIDC Core §12.2 asks refreshed ID tokens to leave it out) and the person
// claims released by the granted scopes, narrowed by the claims parameter's id_token member.
type idTokenHandler struct{ s *Server }

var _ fosite.TokenEndpointHandler = (*idTokenHandler)(nil)

func (h *idTokenHandler) HandleTokenEndpointRequest(context.Context, fosite.AccessRequester) error {
	return fosite.ErrUnknownRequest
}

func (h *idTokenHandler) CanSkipClientAuth(context.Context, fosite.AccessRequester) bool {
	return false
}

func (h *idTokenHandler) CanHandleTokenEndpointRequest(_ context.Context, req fosite.AccessRequester) bool {
	return req.GetGrantTypes().ExactOne("authorization_code") || req.GetGrantTypes().ExactOne("refresh_token") ||
		req.GetGrantTypes().ExactOne(GrantDeviceCode)
}

func (h *idTokenHandler) PopulateTokenEndpointResponse(ctx context.Context, req fosite.AccessRequester, resp fosite.AccessResponder) error {
	if !h.CanHandleTokenEndpointRequest(ctx, req) || !req.GetGrantedScopes().Has(ScopeOpenID) {
		return fosite.ErrUnknownRequest
	}
	sess, ok := req.GetSession().(*fositeadapter.Session)
	if !ok || sess.PersonID == "" {
		return fosite.ErrServerError.WithWrap(fositeadapter.ErrSessionType)
	}
	c, ok := req.GetClient().(*fositeadapter.Client)
	if !ok {
		return fosite.ErrServerError.WithHint("unexpected client type")
	}
	s := h.s
	p, err := s.store.GetPerson(ctx, sess.PersonID)
	if errors.Is(err, storage.ErrNotFound) || err == nil && p.Disabled {
		_ = s.fstore.RevokeGrant(ctx, req.GetID())
		return fosite.ErrInvalidGrant.WithHint("The account is no longer active.")
	} else if err != nil {
		return fosite.ErrServerError.WithWrap(err)
	}
	alg := c.IDTokenAlg()
	now := s.now()
	claims := jwt.MapClaims{
		"iss":       s.issuer,
		"sub":       sess.Subject,
		"aud":       c.GetID(),
		"iat":       now.Unix(),
		"exp":       now.Add(s.cfg.IDTokenLifetime).Unix(),
		"auth_time": fositeadapter.FromNanos(sess.AuthTime).Unix(),
		"at_hash":   halfHash(alg, resp.GetAccessToken()),
	}
	if sess.ACR != "" {
		claims["acr"] = sess.ACR
	}
	if len(sess.AMR) > 0 {
		claims["amr"] = sess.AMR
	}
	if sess.IDP != "" {
		claims[ClaimIDP] = sess.IDP // broker.go
	}
	if sess.SID != "" { // Back-Channel Logout 1.0 §2.1 (logout_backchannel.go)
		claims["sid"] = sess.SID
	}
	if sess.Nonce != "" && req.GetGrantTypes().ExactOne("authorization_code") {
		claims["nonce"] = sess.Nonce
	}
	var member map[string]*fositeadapter.ClaimSpec
	if sess.Claims != nil {
		member = sess.Claims.IDToken
	}
	released := releasedClaims(req.GetGrantedScopes(), member)
	if sess.ActingFor != "" { // agents.go: the company's claims, and act
		co, err := s.actingCompany(ctx, sess, c.GetID())
		if errors.Is(err, errActingEnded) {
			_ = s.fstore.RevokeGrant(ctx, req.GetID())
			return fosite.ErrInvalidGrant.WithHint("The authorisation to act for the company was withdrawn or has expired.")
		} else if err != nil {
			return fosite.ErrServerError.WithWrap(err)
		}
		if err := s.actingClaims(sess, co, released, claims); err != nil {
			return fosite.ErrServerError.WithWrap(err)
		}
		agentElder(p, released, claims)
	} else if err := personClaims(s.accounts, p, released, claims); err != nil {
		return fosite.ErrServerError.WithWrap(err)
	}
	tok, _, err := s.signer.Generate(ctx, claims, &jwt.Headers{Extra: map[string]any{"alg": alg}})
	if err != nil {
		return fosite.ErrServerError.WithWrap(err)
	}
	resp.SetExtra("id_token", tok)
	return nil
}
