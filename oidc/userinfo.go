package oidc

import (
	"errors"
	"net/http"
	"strings"

	"github.com/ory/fosite"

	"github.com/tongban/tongban/oidc/internal/fositeadapter"
	"github.com/tongban/tongban/storage"
)

// bearerToken returns the access token of a protected-resource request (RFC 6750): the
// Authorization: Bearer header, or the access_token field of a form-encoded POST body. The URI
// query form (§2.3) is not accepted: it leaks into logs.
func bearerToken(r *http.Request) string {
	if auth := r.Header.Get("Authorization"); auth != "" {
		scheme, tok, ok := strings.Cut(auth, " ")
		if ok && strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(tok)
		}
		return ""
	}
	if r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		return r.PostFormValue("access_token")
	}
	return ""
}

// handleUserinfo serves the UserInfo endpoint (OIDC Core §5.3), GET and POST, with a bearer
// access token that was granted the openid scope. The response is JSON with sub and the person
// claims of the granted scopes, narrowed by the claims parameter's userinfo member. Errors
// follow RFC 6750 §3: 401 with WWW-Authenticate Bearer (invalid_token), 403 insufficient_scope.
func (s *Server) handleUserinfo(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	token := bearerToken(r)
	if token == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="userinfo"`)
		oauthJSON.Error(w, http.StatusUnauthorized, "invalid_request", "bearer access token required")
		return
	}
	invalid := func(desc string) {
		s.countError(ctx, "userinfo", "invalid_token", "")
		w.Header().Set("WWW-Authenticate", `Bearer realm="userinfo", error="invalid_token"`)
		oauthJSON.Error(w, http.StatusUnauthorized, "invalid_token", desc)
	}
	tu, ar, err := s.provider.IntrospectToken(ctx, token, fosite.AccessToken, &fositeadapter.Session{})
	if unavailable(err) {
		s.countError(ctx, "userinfo", errUnavailable.ErrorField, "")
		s.writeUnavailable(w)
		return
	}
	if err != nil || tu != fosite.AccessToken || !accessTokenAccepted(ar) {
		invalid("the access token is invalid, expired or revoked")
		return
	}
	sess, ok := ar.GetSession().(*fositeadapter.Session)
	if !ok || sess.PersonID == "" || !ar.GetGrantedScopes().Has(ScopeOpenID) {
		s.countError(ctx, "userinfo", "insufficient_scope", ar.GetClient().GetID())
		w.Header().Set("WWW-Authenticate", `Bearer realm="userinfo", error="insufficient_scope", scope="openid"`)
		oauthJSON.Error(w, http.StatusForbidden, "insufficient_scope", "the access token was not granted the openid scope")
		return
	}
	p, err := s.store.GetPerson(ctx, sess.PersonID)
	if errors.Is(err, storage.ErrNotFound) || err == nil && p.Disabled {
		invalid("the account is no longer active")
		return
	} else if unavailable(err) {
		s.writeUnavailable(w)
		return
	} else if err != nil {
		s.log.ErrorContext(ctx, "userinfo: read person", "err", err)
		oauthJSON.Error(w, http.StatusInternalServerError, "server_error", "")
		return
	}
	claims := map[string]any{"sub": sess.Subject}
	var member map[string]*fositeadapter.ClaimSpec
	if sess.Claims != nil {
		member = sess.Claims.UserInfo
	}
	released := releasedClaims(ar.GetGrantedScopes(), member)
	if sess.ActingFor != "" { // agents.go: the authorisation must still stand
		co, err := s.actingCompany(ctx, sess, ar.GetClient().GetID())
		if errors.Is(err, errActingEnded) {
			invalid("the authorisation to act for the company was withdrawn or has expired")
			return
		} else if unavailable(err) {
			s.writeUnavailable(w)
			return
		} else if err != nil {
			s.log.ErrorContext(ctx, "userinfo: read acting authorisation", "err", err)
			oauthJSON.Error(w, http.StatusInternalServerError, "server_error", "")
			return
		}
		if err := s.actingClaims(sess, co, released, claims); err != nil {
			s.log.ErrorContext(ctx, "userinfo: claims", "err", err)
			oauthJSON.Error(w, http.StatusInternalServerError, "server_error", "")
			return
		}
		agentElder(p, released, claims)
		oauthJSON.Write(w, http.StatusOK, claims)
		return
	}
	if err := personClaims(s.accounts, p, released, claims); err != nil {
		s.log.ErrorContext(ctx, "userinfo: claims", "err", err)
		oauthJSON.Error(w, http.StatusInternalServerError, "server_error", "")
		return
	}
	oauthJSON.Write(w, http.StatusOK, claims)
}
