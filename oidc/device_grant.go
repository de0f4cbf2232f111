package oidc

import (
	"context"
	"errors"
	"net/http"

	"github.com/ory/fosite"

	"github.com/tongban/tongban/oidc/internal/fositeadapter"
	"github.com/tongban/tongban/storage"
)

// Errors of the device access token request (RFC 8628 §3.5), answered as RFC 6749 §5.2 JSON
// with status 400. fosite v0.49.0 has no device grant and none of these.
var (
	errAuthorizationPending = &fosite.RFC6749Error{
		ErrorField:       "authorization_pending",
		DescriptionField: "The person has not yet approved or denied the request; poll again after the interval.",
		CodeField:        http.StatusBadRequest,
	}
	errSlowDown = &fosite.RFC6749Error{
		ErrorField:       "slow_down",
		DescriptionField: "The device polls faster than the interval; the interval is now 5 seconds longer.",
		CodeField:        http.StatusBadRequest,
	}
	errExpiredToken = &fosite.RFC6749Error{
		ErrorField:       "expired_token",
		DescriptionField: "The device code has expired; start a new device authorization.",
		CodeField:        http.StatusBadRequest,
	}
	// errDeviceDenied is access_denied with status 400 (RFC 8628 §3.5 uses the token
	// endpoint's error response; fosite's ErrAccessDenied is 403).
	errDeviceDenied = &fosite.RFC6749Error{
		ErrorField:       "access_denied",
		DescriptionField: "The person denied the request.",
		CodeField:        http.StatusBadRequest,
	}
)

// deviceGrantHandler is the token endpoint's handler of the device access token request
// (RFC 8628 §3.4–3.5, grant type GrantDeviceCode), composed into fosite like its own handlers
// (composeFosite) and run in the token request's transaction (Server.tokenAttempt):
//
//   - the client authenticates as for every grant and must be registered for GrantDeviceCode
//     (unauthorized_client);
//   - the poll is recorded (storage.PollDeviceAuthorization) under the device code's keyed hash
//     and the client's ID: an unknown device code, and another client's, is invalid_grant;
//   - issued already: invalid_grant, and the tokens issued for it are revoked (a device code
//     used twice is a stolen one somewhere, as a replayed authorization code is, DESIGN §4);
//     expired: expired_token; denied: access_denied; pending: slow_down when the poll came
//     sooner than the interval after the last one (the interval then grows by 5 seconds for
//     this device code), else authorization_pending — these refusals commit, so the poll and
//     the longer interval are recorded;
//   - approved: the authorization is redeemed (storage.RedeemDeviceAuthorization, exactly
//     once) and the request gets the session of the approving login — sub for this client,
//     the person, auth_time, acr and amr — the approved scopes and the authorization's request
//     ID, so its tokens are those of the code flow: an access token, a refresh token with
//     offline_access (for a client registered for refresh_token), an ID token with openid
//     (idTokenHandler), each audited as token.issue by Server.exchange.
type deviceGrantHandler struct {
	s *Server
	grantHandler
}

var _ fosite.TokenEndpointHandler = (*deviceGrantHandler)(nil)

// grantHandler is the common part of tongban's own grant handlers (the device code, token
// exchange): the grant type they answer, with client authentication always required.
type grantHandler struct{ grant string }

func (g grantHandler) CanSkipClientAuth(context.Context, fosite.AccessRequester) bool {
	return false
}

func (g grantHandler) CanHandleTokenEndpointRequest(_ context.Context, req fosite.AccessRequester) bool {
	return req.GetGrantTypes().ExactOne(g.grant)
}

// client returns the authenticated client of a request for g's grant; fosite.ErrUnknownRequest
// for another grant (fosite asks every handler).
func (g grantHandler) client(ctx context.Context, req fosite.AccessRequester) (*fositeadapter.Client, error) {
	if !g.CanHandleTokenEndpointRequest(ctx, req) {
		return nil, fosite.ErrUnknownRequest
	}
	c, ok := req.GetClient().(*fositeadapter.Client)
	if !ok {
		return nil, fosite.ErrServerError.WithHint("unexpected client type")
	}
	return c, nil
}

func (h *deviceGrantHandler) HandleTokenEndpointRequest(ctx context.Context, req fosite.AccessRequester) error {
	s := h.s
	c, err := h.client(ctx, req)
	if err != nil {
		return err
	}
	if !c.GetGrantTypes().Has(GrantDeviceCode) {
		return fosite.ErrUnauthorizedClient.WithHint("The client is not registered for the device_code grant.")
	}
	code := req.GetRequestForm().Get("device_code")
	if code == "" {
		return fosite.ErrInvalidRequest.WithHint("The device_code parameter is required.")
	}
	hash := s.deviceHash(hashDeviceCode, code)
	now := s.now()
	rec, tooFast, err := s.store.PollDeviceAuthorization(ctx, hash, c.GetID(), now, deviceSlowDown)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return fosite.ErrInvalidGrant.WithHint("The device code is unknown, or was issued to another client.")
	case err != nil:
		return fosite.ErrServerError.WithWrap(err)
	case rec.Status == storage.DeviceIssued:
		return s.deviceCodeReplayed(ctx, rec)
	case !now.Before(rec.ExpiresAt):
		return errExpiredToken
	case rec.Status == storage.DeviceDenied:
		return errDeviceDenied
	case rec.Status == storage.DevicePending && tooFast:
		return errSlowDown
	case rec.Status != storage.DeviceApproved:
		return errAuthorizationPending
	}
	p, err := s.store.GetPerson(ctx, rec.PersonID)
	if errors.Is(err, storage.ErrNotFound) || err == nil && p.Disabled {
		return fosite.ErrInvalidGrant.WithHint("The account is no longer active.")
	} else if err != nil {
		return fosite.ErrServerError.WithWrap(err)
	}
	switch err := s.store.RedeemDeviceAuthorization(ctx, hash); {
	case errors.Is(err, storage.ErrAlreadyUsed):
		return s.deviceCodeReplayed(ctx, rec)
	case err != nil:
		return fosite.ErrServerError.WithWrap(err)
	}
	sess, ok := req.GetSession().(*fositeadapter.Session)
	ar, ok2 := req.(*fosite.AccessRequest)
	if !ok || !ok2 {
		return fosite.ErrServerError.WithWrap(fositeadapter.ErrSessionType)
	}
	*sess = fositeadapter.Session{
		Subject:     s.subjectFor(c, rec.PersonID),
		PersonID:    rec.PersonID,
		AuthTime:    fositeadapter.Nanos(rec.AuthTime),
		RequestedAt: fositeadapter.Nanos(rec.CreatedAt),
		ACR:         rec.ACR,
		AMR:         rec.AMR,
	}
	ar.SetID(rec.RequestID)
	// The scope of the token request (x/oauth2 repeats it) means nothing here: the grant is
	// what the person approved.
	ar.RequestedScope = fosite.Arguments(rec.Scopes)
	ar.GrantedScope = fosite.Arguments{}
	for _, sc := range rec.Scopes {
		ar.GrantScope(sc)
	}
	ar.RequestedAudience, ar.GrantedAudience = fosite.Arguments{}, fosite.Arguments{}
	return nil
}

// deviceCodeReplayed answers a device code presented after its tokens were issued: every token
// of its grant is revoked, the replay is logged, counted (replays_total{kind="device_code"})
// and audited (device.replay) in the request's transaction, and the answer is invalid_grant.
func (s *Server) deviceCodeReplayed(ctx context.Context, rec storage.DeviceAuthorization) error {
	if err := s.fstore.RevokeGrant(ctx, rec.RequestID); err != nil {
		return fosite.ErrServerError.WithWrap(err)
	}
	if _, err := s.store.AppendAudit(ctx, storage.AuditEvent{Time: s.now(), Actor: rec.ClientID, Action: "device.replay",
		Subject: rec.PersonID, ClientID: rec.ClientID, Detail: "request " + rec.RequestID}); err != nil {
		return fosite.ErrServerError.WithWrap(err)
	}
	s.log.WarnContext(ctx, "device code used again; revoking its tokens", "client_id", rec.ClientID, "request_id", rec.RequestID)
	s.metrics.replays.WithLabelValues("device_code").Inc()
	return fosite.ErrInvalidGrant.WithHint("The device code was already used.")
}

// PopulateTokenEndpointResponse issues the tokens of an approved device authorization (the
// session, scopes and request ID were set by HandleTokenEndpointRequest): an access token and,
// with offline_access granted to a client registered for refresh_token, a refresh token, both
// stored through the fosite storage adapter as the code flow's are.
func (h *deviceGrantHandler) PopulateTokenEndpointResponse(ctx context.Context, req fosite.AccessRequester, resp fosite.AccessResponder) error {
	if !h.CanHandleTokenEndpointRequest(ctx, req) {
		return fosite.ErrUnknownRequest
	}
	s := h.s
	access, accessSig, err := s.strategy.GenerateAccessToken(ctx, req)
	if err != nil {
		return fosite.ErrServerError.WithWrap(err)
	}
	if err := s.fstore.CreateAccessTokenSession(ctx, accessSig, req.Sanitize(nil)); err != nil {
		return fosite.ErrServerError.WithWrap(err)
	}
	if req.GetGrantedScopes().Has(ScopeOfflineAccess) && req.GetClient().GetGrantTypes().Has(GrantRefreshToken) {
		refresh, refreshSig, err := s.strategy.GenerateRefreshToken(ctx, req)
		if err != nil {
			return fosite.ErrServerError.WithWrap(err)
		}
		if err := s.fstore.CreateRefreshTokenSession(ctx, refreshSig, accessSig, req.Sanitize(nil)); err != nil {
			return fosite.ErrServerError.WithWrap(err)
		}
		resp.SetExtra("refresh_token", refresh)
	}
	resp.SetAccessToken(access)
	resp.SetTokenType("bearer")
	resp.SetExpiresIn(req.GetSession().GetExpiresAt(fosite.AccessToken).Sub(s.now()))
	resp.SetScopes(req.GetGrantedScopes())
	return nil
}
