package oidc

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"

	"github.com/tongban/tongban/audit"
	"github.com/tongban/tongban/internal/httpkit"
	"github.com/tongban/tongban/storage"
)

// Dynamic client registration: RFC 7591 at POST /register, authorised by an initial access
// token (IssueInitialAccessToken), and RFC 7592 management at /register/{client_id},
// authorised by the registration access token returned at registration. Apps registered here
// are pending_review with the initial access token's department: they log nobody in until a
// reviewer approves them (ApproveClient).

const (
	pathRegister = "/register"
	// maxRegistration bounds a registration request's body.
	maxRegistration = 32 << 10
)

// routesRegistration adds the registration endpoints to the route table.
func (s *Server) routesRegistration(handle func(method, path string, h http.HandlerFunc)) {
	handle("POST", pathRegister, s.handleRegister)
	handle("GET", pathRegister+"/{client_id}", s.handleRegistrationRead)
	handle("PUT", pathRegister+"/{client_id}", s.handleRegistrationUpdate)
	handle("DELETE", pathRegister+"/{client_id}", s.handleRegistrationDelete)
}

// registrationMetadata is the client metadata of RFC 7591 §2 (and OIDC Dynamic Client
// Registration §2) that tongban reads; other members are ignored (§2: "The authorization
// server MUST ignore any client metadata sent by the client that it does not understand").
type registrationMetadata struct {
	ClientID                 string          `json:"client_id,omitempty"`
	RedirectURIs             []string        `json:"redirect_uris"`
	PostLogoutRedirectURIs   []string        `json:"post_logout_redirect_uris,omitempty"`
	TokenEndpointAuthMethod  string          `json:"token_endpoint_auth_method,omitempty"`
	GrantTypes               []string        `json:"grant_types,omitempty"`
	ResponseTypes            []string        `json:"response_types,omitempty"`
	ClientName               string          `json:"client_name,omitempty"`
	LogoURI                  string          `json:"logo_uri,omitempty"`
	Scope                    string          `json:"scope,omitempty"`
	JWKS                     json.RawMessage `json:"jwks,omitempty"`
	JWKSURI                  string          `json:"jwks_uri,omitempty"`
	IDTokenSignedResponseAlg string          `json:"id_token_signed_response_alg,omitempty"`
	SubjectType              string          `json:"subject_type,omitempty"`
	// Purpose and PurposeEn are tongban's extension members: why the app reads licences
	// (NewClient.Purpose, shown to the holder on the consent page), required with a licence
	// scope (licence:<kind>). Set at registration; a change goes through an operator.
	Purpose   string `json:"purpose,omitempty"`
	PurposeEn string `json:"purpose_en,omitempty"`
	// Back-Channel Logout 1.0 §2.2 and Front-Channel Logout 1.0 §2 (logout_backchannel.go);
	// set at registration.
	BackchannelLogoutURI              string `json:"backchannel_logout_uri,omitempty"`
	BackchannelLogoutSessionRequired  bool   `json:"backchannel_logout_session_required,omitempty"`
	FrontchannelLogoutURI             string `json:"frontchannel_logout_uri,omitempty"`
	FrontchannelLogoutSessionRequired bool   `json:"frontchannel_logout_session_required,omitempty"`
}

// registrationResponse is the client information response (RFC 7591 §3.2.1, RFC 7592 §3),
// with tongban's extensions status, department and pending_change.
type registrationResponse struct {
	ClientID                string `json:"client_id"`
	ClientSecret            string `json:"client_secret,omitempty"`
	ClientSecretExpiresAt   *int64 `json:"client_secret_expires_at,omitempty"`
	RegistrationAccessToken string `json:"registration_access_token,omitempty"`
	RegistrationClientURI   string `json:"registration_client_uri"`
	ClientIDIssuedAt        int64  `json:"client_id_issued_at"`
	registrationMetadata
	Status        string        `json:"status"`
	Department    string        `json:"department,omitempty"`
	PendingChange *ClientChange `json:"pending_change,omitempty"`
}

// registrationError writes an RFC 7591 §3.2.2 error.
func (s *Server) registrationError(w http.ResponseWriter, status int, code, desc string) {
	s.countError(context.Background(), "register", code, "") // no client: registration creates it
	oauthJSON.Error(w, status, code, desc)
}

// readMetadata decodes a registration request body: JSON, at most maxRegistration bytes.
func (s *Server) readMetadata(w http.ResponseWriter, r *http.Request) (registrationMetadata, bool) {
	var md registrationMetadata
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		s.registrationError(w, http.StatusBadRequest, "invalid_client_metadata", "The request body must be JSON (Content-Type: application/json).")
		return md, false
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRegistration+1))
	if err != nil {
		s.registrationError(w, http.StatusBadRequest, "invalid_client_metadata", "The request body could not be read.")
		return md, false
	}
	if len(body) > maxRegistration {
		s.registrationError(w, http.StatusRequestEntityTooLarge, "invalid_client_metadata", fmt.Sprintf("The request body is larger than %d bytes.", maxRegistration))
		return md, false
	}
	if err := json.Unmarshal(body, &md); err != nil {
		s.registrationError(w, http.StatusBadRequest, "invalid_client_metadata", "The request body is not a JSON object of client metadata: "+jsonProblem(err))
		return md, false
	}
	return md, true
}

// newClientFromMetadata maps registration metadata to a NewClient, or says which member is
// wrong: the RFC 7591 error code and description.
func newClientFromMetadata(md registrationMetadata, id, department string) (NewClient, string, string) {
	if md.JWKSURI != "" {
		return NewClient{}, "invalid_client_metadata", "jwks_uri is not supported: register the keys with jwks."
	}
	if md.ResponseTypes != nil && (len(md.ResponseTypes) != 1 || md.ResponseTypes[0] != "code") {
		return NewClient{}, "invalid_client_metadata", `response_types must be ["code"] (the authorization code flow only).`
	}
	nc := NewClient{
		ID: id, Name: md.ClientName, RedirectURIs: md.RedirectURIs, PostLogoutRedirectURIs: md.PostLogoutRedirectURIs,
		Public: md.TokenEndpointAuthMethod == "none", GrantTypes: md.GrantTypes, IDTokenAlg: md.IDTokenSignedResponseAlg,
		TokenEndpointAuthMethod: md.TokenEndpointAuthMethod, SubjectType: md.SubjectType,
		Department: department, LogoURI: md.LogoURI, Purpose: md.Purpose, PurposeEn: md.PurposeEn,
		BackchannelLogoutURI: md.BackchannelLogoutURI, BackchannelLogoutSessionRequired: md.BackchannelLogoutSessionRequired,
		FrontchannelLogoutURI: md.FrontchannelLogoutURI, FrontchannelLogoutSessionRequired: md.FrontchannelLogoutSessionRequired,
	}
	if md.Scope != "" {
		nc.Scopes = strings.Fields(md.Scope)
	}
	if len(md.JWKS) > 0 && string(md.JWKS) != "null" {
		nc.JWKS = md.JWKS
	}
	return nc, "", ""
}

// metadataError maps CreateClient's validation errors to RFC 7591 §3.2.2.
func metadataError(err error) (string, string) {
	desc := strings.ReplaceAll(err.Error(), "\n", "; ")
	if errors.Is(err, ErrInvalidRedirectURI) {
		return "invalid_redirect_uri", desc
	}
	return "invalid_client_metadata", desc
}

// handleRegister serves RFC 7591 §3.1: with Authorization: Bearer <initial access token>, it
// registers the app described by the JSON body as pending_review with the token's department
// and answers 201 with its client_id, client_secret (confidential apps with a secret method),
// registration_access_token and registration_client_uri (RFC 7592), client_id_issued_at and
// the metadata as registered. The initial access token is spent only by a registration that
// succeeds. Errors: 401 invalid_token (missing, unknown, expired or spent token);
// 400 invalid_redirect_uri / invalid_client_metadata with a description of every problem.
func (s *Server) handleRegister(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	token := bearerToken(r)
	if token == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="register"`)
		s.registrationError(w, http.StatusUnauthorized, "invalid_token", "An initial access token is required (Authorization: Bearer).")
		return
	}
	md, ok := s.readMetadata(w, r)
	if !ok {
		return
	}
	id := "app-" + strings.ToLower(strings.NewReplacer("-", "", "_", "").Replace(httpkit.RandomString(16)))
	var resp registrationResponse
	var code, desc string
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		iat, err := s.store.UseInitialAccessToken(ctx, s.kr.ClientSecretHash(token), s.now())
		if err != nil {
			return err
		}
		var nc NewClient
		if nc, code, desc = newClientFromMetadata(md, id, iat.Department); code != "" {
			return errRegistrationRefused
		}
		c, problems := buildClient(nc)
		if len(problems) > 0 {
			code, desc = metadataError(errors.Join(problems...))
			return errRegistrationRefused
		}
		secret := ""
		if !c.Public && c.TokenEndpointAuthMethod != AuthPrivateKeyJWT {
			secret = httpkit.RandomString(32)
			c.SecretHash = s.kr.ClientSecretHash(secret)
		}
		rat := prefixRegistrationToken + httpkit.RandomString(32)
		c.RegistrationTokenHash = s.kr.ClientSecretHash(rat)
		c.Status = storage.ClientPendingReview
		c.CreatedAt = s.now().UTC()
		c.UpdatedAt = c.CreatedAt
		if err := s.store.CreateClient(ctx, c); err != nil {
			return err
		}
		actor := audit.Actor{ID: c.ID, Address: s.cfg.ClientIP(r)}
		if err := actor.Record(ctx, s.store, s.now(), actionRegister, c.ID, c.ID, "department="+c.Department+" status=pending_review"); err != nil {
			return err
		}
		resp = s.registrationInfo(c)
		resp.ClientSecret, resp.RegistrationAccessToken = secret, rat
		if secret != "" {
			zero := int64(0) // never expires (RFC 7591 §3.2.1); rotate with idp clients rotate-secret
			resp.ClientSecretExpiresAt = &zero
		}
		return nil
	})
	switch {
	case err == nil:
		oauthJSON.Write(w, http.StatusCreated, resp)
	case errors.Is(err, errRegistrationRefused):
		s.registrationError(w, http.StatusBadRequest, code, desc)
	case errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrExpired) || errors.Is(err, storage.ErrAlreadyUsed):
		w.Header().Set("WWW-Authenticate", `Bearer realm="register", error="invalid_token"`)
		s.registrationError(w, http.StatusUnauthorized, "invalid_token", "The initial access token is unknown, expired or already used.")
	case unavailable(err):
		s.writeUnavailable(w)
	default:
		s.log.ErrorContext(ctx, "registration failed", "err", err)
		oauthJSON.Error(w, http.StatusInternalServerError, "server_error", "")
	}
}

// errRegistrationRefused rolls a refused registration back (the initial access token is not
// spent); the answer is in code and desc.
var errRegistrationRefused = errors.New("oidc: registration refused")

// registrationInfo is the client information response of c (without credentials).
func (s *Server) registrationInfo(c storage.Client) registrationResponse {
	md := registrationMetadata{
		ClientID: c.ID, RedirectURIs: slicesOrEmpty(c.RedirectURIs), PostLogoutRedirectURIs: c.PostLogoutRedirectURIs,
		TokenEndpointAuthMethod: c.TokenEndpointAuthMethod, GrantTypes: slicesOrEmpty(c.GrantTypes),
		ResponseTypes: c.ResponseTypes, ClientName: c.Name, LogoURI: c.LogoURI, Scope: strings.Join(c.Scopes, " "),
		IDTokenSignedResponseAlg: c.IDTokenSignedResponseAlg, SubjectType: c.SubjectType, Purpose: c.Purpose, PurposeEn: c.PurposeEn,
		BackchannelLogoutURI: c.BackchannelLogoutURI, BackchannelLogoutSessionRequired: c.BackchannelLogoutSessionRequired,
		FrontchannelLogoutURI: c.FrontchannelLogoutURI, FrontchannelLogoutSessionRequired: c.FrontchannelLogoutSessionRequired,
	}
	if len(c.JWKS) > 0 {
		md.JWKS = c.JWKS
	}
	return registrationResponse{
		ClientID: c.ID, RegistrationClientURI: s.url(pathRegister + "/" + c.ID), ClientIDIssuedAt: c.CreatedAt.Unix(),
		registrationMetadata: md, Status: c.EffectiveStatus(), Department: c.Department, PendingChange: pendingChange(c),
	}
}

// registrationClient authenticates an RFC 7592 request: the registration access token of the
// client in the path, compared in constant time. Unknown clients, retired ones, clients
// registered without one and wrong tokens all get the same 401 (no hint whether the client
// exists); ok is false when the answer was written.
func (s *Server) registrationClient(w http.ResponseWriter, r *http.Request) (storage.Client, bool) {
	token := bearerToken(r)
	c, err := s.store.GetClient(r.Context(), r.PathValue("client_id"))
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		if unavailable(err) {
			s.writeUnavailable(w)
		} else {
			s.log.ErrorContext(r.Context(), "registration: read client", "err", err)
			oauthJSON.Error(w, http.StatusInternalServerError, "server_error", "")
		}
		return c, false
	}
	want := c.RegistrationTokenHash
	if len(want) == 0 {
		want = make([]byte, 32) // compare anyway: the same work whether the client exists or not
	}
	match := subtle.ConstantTimeCompare(want, s.kr.ClientSecretHash(token)) == 1
	if err != nil || token == "" || !match || len(c.RegistrationTokenHash) == 0 || c.EffectiveStatus() == storage.ClientRetired {
		w.Header().Set("WWW-Authenticate", `Bearer realm="register", error="invalid_token"`)
		s.registrationError(w, http.StatusUnauthorized, "invalid_token", "The registration access token is invalid.")
		return c, false
	}
	return c, true
}

// handleRegistrationRead serves RFC 7592 §2.1: the app's current registration, with its state
// and its pending change (if any). The client secret and the registration access token are
// never shown again.
func (s *Server) handleRegistrationRead(w http.ResponseWriter, r *http.Request) {
	c, ok := s.registrationClient(w, r)
	if !ok {
		return
	}
	oauthJSON.Write(w, http.StatusOK, s.registrationInfo(c))
}

// handleRegistrationUpdate serves RFC 7592 §2.2: the body replaces the app's metadata. Only
// the members a change may touch (ClientChange: redirect URIs, post-logout URIs, scope, grant
// types, name, logo) may differ from the registration; client_id must be the app's; any other
// member that differs (token_endpoint_auth_method, jwks, id_token_signed_response_alg,
// subject_type) is invalid_client_metadata. The change applies at once to an app waiting for
// review, and waits for review as the pending change of a published app
// (ProposeClientChange). The answer is the registration as it now is (with pending_change).
func (s *Server) handleRegistrationUpdate(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	c, ok := s.registrationClient(w, r)
	if !ok {
		return
	}
	md, ok := s.readMetadata(w, r)
	if !ok {
		return
	}
	if md.ClientID != c.ID {
		s.registrationError(w, http.StatusBadRequest, "invalid_client_metadata", "client_id must be the registered client's.")
		return
	}
	if md.JWKSURI != "" || (md.TokenEndpointAuthMethod != "" && md.TokenEndpointAuthMethod != c.TokenEndpointAuthMethod) ||
		(md.IDTokenSignedResponseAlg != "" && md.IDTokenSignedResponseAlg != c.IDTokenSignedResponseAlg) ||
		(md.SubjectType != "" && md.SubjectType != c.SubjectType) ||
		(len(md.JWKS) > 0 && string(md.JWKS) != "null" && !jsonEqual(md.JWKS, c.JWKS)) {
		s.registrationError(w, http.StatusBadRequest, "invalid_client_metadata",
			"Only redirect_uris, post_logout_redirect_uris, grant_types, scope, client_name and logo_uri can be changed here; ask the operator for other changes.")
		return
	}
	if md.ResponseTypes != nil && (len(md.ResponseTypes) != 1 || md.ResponseTypes[0] != "code") {
		s.registrationError(w, http.StatusBadRequest, "invalid_client_metadata", `response_types must be ["code"].`)
		return
	}
	change := ClientChange{Replace: true, Name: md.ClientName, LogoURI: md.LogoURI, RedirectURIs: slicesOrEmpty(md.RedirectURIs),
		PostLogoutRedirectURIs: slicesOrEmpty(md.PostLogoutRedirectURIs), GrantTypes: md.GrantTypes}
	if md.Scope != "" {
		change.Scopes = strings.Fields(md.Scope)
	}
	actor := audit.Actor{ID: c.ID, Address: s.cfg.ClientIP(r)}
	defer s.ForgetClient(c.ID)
	if err := ProposeClientChange(ctx, s.store, actor, c.ID, change); err != nil {
		if unavailable(err) {
			s.writeUnavailable(w)
			return
		}
		if errors.Is(err, storage.ErrNotFound) || errors.Is(err, ErrClientRetired) {
			s.registrationError(w, http.StatusUnauthorized, "invalid_token", "The registration access token is invalid.")
			return
		}
		code, desc := metadataError(err)
		s.registrationError(w, http.StatusBadRequest, code, desc)
		return
	}
	c, err := s.store.GetClient(ctx, c.ID)
	if err != nil {
		s.writeUnavailable(w)
		return
	}
	oauthJSON.Write(w, http.StatusOK, s.registrationInfo(c))
}

// handleRegistrationDelete serves RFC 7592 §2.3: the app is retired (RetireClient: final, its
// grants revoked, its registration access token dropped) and the answer is 204.
func (s *Server) handleRegistrationDelete(w http.ResponseWriter, r *http.Request) {
	c, ok := s.registrationClient(w, r)
	if !ok {
		return
	}
	actor := audit.Actor{ID: c.ID, Address: s.cfg.ClientIP(r)}
	defer s.ForgetClient(c.ID)
	if err := RetireClient(r.Context(), s.store, actor, c.ID, ""); err != nil {
		if unavailable(err) {
			s.writeUnavailable(w)
			return
		}
		s.log.ErrorContext(r.Context(), "registration: retire", "err", err)
		oauthJSON.Error(w, http.StatusInternalServerError, "server_error", "")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// jsonEqual reports whether a and b are the same JSON value.
func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return string(xa) == string(ya)
}

// jsonProblem describes a JSON decoding error in the request's terms: the member and the
// type it must have, without Go's struct names.
func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		want := "of another type"
		switch te.Type.Kind() {
		case reflect.String:
			want = "a string"
		case reflect.Slice:
			want = "an array"
			if te.Type.Elem().Kind() == reflect.String {
				want = "an array of strings"
			}
		case reflect.Map, reflect.Struct:
			want = "an object"
		case reflect.Bool:
			want = "true or false"
		}
		if te.Field == "" {
			return "the body must be a JSON object"
		}
		return fmt.Sprintf("member %s must be %s, not %s", te.Field, want, te.Value)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("malformed JSON at byte %d", se.Offset)
	}
	return "malformed JSON"
}
