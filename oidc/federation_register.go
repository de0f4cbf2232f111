package oidc

// Automatic registration (OpenID Federation 1.0 §12.1): a relying party whose client_id is its
// entity identifier sends its authorization request as a signed request object (RFC 9101). For
// an app this provider does not know yet — or whose metadata expired with its trust chain — the
// provider resolves the RP's trust chain to a configured trust anchor (Config.Federation), takes
// the openid_relying_party metadata after the superiors' policies, checks the request object
// with the keys of that metadata, and registers the app as published (source "federation")
// until the chain expires. The token endpoint then authenticates it by private_key_jwt with the
// same keys (clientassertion.go). Operators suspend and retire such apps like any other.

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/ory/fosite"

	"github.com/tongban/tongban/oidc/internal/fositeadapter"
	"github.com/tongban/tongban/storage"
)

const (
	// maxRequestObjectLifetime: a request object's exp may be at most this far ahead of the
	// server's clock, so each jti is remembered for at most this long.
	maxRequestObjectLifetime = 5 * time.Minute
	// maxRequestObject bounds a request object's size.
	maxRequestObject = 16 << 10
	// nsRequestObject is the storage.Nonces namespace of used request-object jti values.
	nsRequestObject = "request_object"

	actionFederationRegister = "client.federation_register"
	actionFederationRefresh  = "client.federation_refresh"
	actionFederationRefused  = "client.federation_refused"
)

// requestObjectClaims are the claims of a request object that are no authorization parameters
// (RFC 9101 §4, RFC 7519 §4.1).
var requestObjectClaims = []string{"iss", "aud", "exp", "iat", "nbf", "jti", "sub", "request", "request_uri"}

// federationAuthorize handles the authorization request form of a federation client (client_id
// an entity identifier, Config.Federation set): it registers or refreshes the app when needed,
// verifies the request object and returns the request's parameters taken from it (RFC 9101
// §6.3: only the request object's parameters count). ok false means it answered: an error page
// (never a redirect — the redirect URI is not trusted before the chain is), audited
// "client.federation_refused". Any other request comes back as it was.
func (s *Server) federationAuthorize(w http.ResponseWriter, r *http.Request, form url.Values) (query string, ok bool) {
	query = form.Encode()
	id := form.Get("client_id")
	if !isEntityID(id) {
		return query, true
	}
	ctx := r.Context()
	lang := form.Get("ui_locales")
	c, err := s.clients.Get(ctx, id)
	var known *storage.Client
	switch {
	case err == nil && c.Registration.Source != storage.ClientSourceFederation:
		return query, true // registered by an operator under this ID: the normal path
	case err == nil && c.Registration.EffectiveStatus() != storage.ClientPublished:
		return query, true // suspended, retired…: checkClientPublished says so
	case err == nil:
		known = &c.Registration
	case !errors.Is(err, fositeadapter.ErrClientNotFound):
		s.pageError(ctx, w, r, lang, "get client", err)
		return "", false
	}
	refuse := func(err error) (string, bool) {
		s.refuseFederation(w, r, id, lang, err, true)
		return "", false
	}
	// Junk — no request object, or one that is not a JWS issued by the client_id — is refused
	// before any trust chain is fetched, logged and counted but not audited (anyone can send it).
	junk := func(err error) (string, bool) {
		s.refuseFederation(w, r, id, lang, err, false)
		return "", false
	}
	raw := form.Get("request")
	switch {
	case form.Has("request_uri"):
		return junk(fmt.Errorf("%w: request_uri is not supported; send the request object by value", ErrRequestObject))
	case raw == "":
		return junk(fmt.Errorf("%w: a federation client must send a signed request object", ErrRequestObject))
	case len(raw) > maxRequestObject:
		return junk(fmt.Errorf("%w: larger than %d bytes", ErrRequestObject, maxRequestObject))
	}
	if err := checkRequestObjectShape(raw, id); err != nil {
		return junk(err)
	}
	// The app as registered, or as its trust chain says now.
	var fresh *storage.Client
	if known == nil || !s.now().Before(known.FederationExpiresAt) {
		built, err := s.resolveFederationClient(ctx, id)
		if err != nil {
			return refuse(err)
		}
		fresh = &built
	}
	app := known
	if fresh != nil {
		app = fresh
	}
	params, jti, exp, err := s.verifyRequestObject(raw, id, app.JWKS)
	if err != nil {
		return refuse(err)
	}
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		if err := s.store.UseNonce(ctx, nsRequestObject, id+":"+jti, exp); err != nil {
			return err
		}
		if fresh == nil {
			return nil
		}
		return s.saveFederationClient(ctx, *fresh)
	})
	switch {
	case errors.Is(err, storage.ErrAlreadyUsed):
		return refuse(fmt.Errorf("%w: jti", ErrRequestObjectReplay))
	case err != nil:
		s.pageError(ctx, w, r, lang, "register federation client", err)
		return "", false
	}
	if fresh != nil {
		s.clients.Forget(id)
		s.log.InfoContext(ctx, "federation client registered", "client_id", id, "trust_anchor", fresh.TrustAnchor,
			"expires", fresh.FederationExpiresAt)
	}
	return params.Encode(), true
}

// refuseFederation answers a refused federation client with its own error page (400), logs the
// cause and, when audited (the request object was well-formed), audits
// "client.federation_refused" with the reason (and the chain's reason). Every refusal is
// counted (tongban_idp_oauth_errors_total, endpoint "authorize", error "invalid_request_object").
func (s *Server) refuseFederation(w http.ResponseWriter, r *http.Request, id, lang string, err error, audited bool) {
	ctx := r.Context()
	reason, msg := federationReason(err)
	s.log.InfoContext(ctx, "federation client refused", "client_id", cutForError(id, 80), "reason", reason, "error", err.Error())
	if audited {
		s.appendAudit(ctx, storage.AuditEvent{Actor: "federation", Action: actionFederationRefused, Subject: id, Detail: federationRefusalDetail(err)})
	}
	s.countError(ctx, "authorize", "invalid_request_object", "")
	s.renderError(w, r, http.StatusBadRequest, lang, msg)
}

// federationRefusalDetail is the detail of a "client.federation_refused" audit entry:
// reason=<federationReason>, and chain=<chainReason> when the chain failed.
func federationRefusalDetail(err error) string {
	reason, _ := federationReason(err)
	detail := "reason=" + reason
	if cr := chainReason(err); cr != "" {
		detail += " chain=" + cr
	}
	return detail
}

// resolveFederationClient resolves the RP's trust chain and builds the app its metadata
// describes. Errors: ErrFederationChain, ErrFederationMetadata.
func (s *Server) resolveFederationClient(ctx context.Context, id string) (storage.Client, error) {
	ent, err := s.federation().ResolveEntity(ctx, id, EntityTypeRelyingParty)
	if err != nil {
		return storage.Client{}, fmt.Errorf("%w: %w", ErrFederationChain, err)
	}
	if !s.now().Before(ent.Expires) {
		return storage.Client{}, fmt.Errorf("%w: %w", ErrFederationChain, &ChainError{Reason: "expired", Err: errors.New("the chain has expired")})
	}
	return federationClient(id, ent, s.now())
}

// saveFederationClient creates the app c (resolved from its chain) or refreshes the metadata
// of the federation app with its ID, auditing "client.federation_register" or
// "client.federation_refresh" in the caller's transaction. A refresh keeps the app's state,
// review note, department, token cut-off and creation time. storage.ErrConflict when an app
// that is not from the federation has the ID.
func (s *Server) saveFederationClient(ctx context.Context, c storage.Client) error {
	now := s.now().UTC()
	detail := "trust_anchor=" + c.TrustAnchor + " expires=" + c.FederationExpiresAt.UTC().Format(time.RFC3339)
	_, err := s.store.GetClient(ctx, c.ID)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		if err := s.store.CreateClient(ctx, c); err != nil {
			return err
		}
		_, err = s.store.AppendAudit(ctx, storage.AuditEvent{Time: now, Actor: "federation", Action: actionFederationRegister,
			Subject: c.ID, ClientID: c.ID, Detail: detail})
		return err
	case err != nil:
		return err
	}
	err = s.store.UpdateClient(ctx, c.ID, func(old *storage.Client) error {
		if old.Source != storage.ClientSourceFederation {
			return fmt.Errorf("%w: %q is not a federation app", storage.ErrConflict, c.ID)
		}
		fresh := c
		fresh.Status, fresh.ReviewNote, fresh.Department = old.Status, old.ReviewNote, old.Department
		fresh.TokensNotBefore, fresh.CreatedAt, fresh.UpdatedAt = old.TokensNotBefore, old.CreatedAt, now
		*old = fresh
		return nil
	})
	if err != nil {
		return err
	}
	_, err = s.store.AppendAudit(ctx, storage.AuditEvent{Time: now, Actor: "federation", Action: actionFederationRefresh,
		Subject: c.ID, ClientID: c.ID, Detail: detail})
	return err
}

// refreshFederationClient re-resolves the trust chain of a federation app whose metadata
// expired (the token endpoint's next use after the expiry) and returns it as refreshed; other
// apps come back as they are. Errors: ErrFederationChain, ErrFederationMetadata, storage
// errors.
func (s *Server) refreshFederationClient(ctx context.Context, c *fositeadapter.Client) (*fositeadapter.Client, error) {
	reg := c.Registration
	if reg.Source != storage.ClientSourceFederation || s.now().Before(reg.FederationExpiresAt) {
		return c, nil
	}
	built, err := s.resolveFederationClient(ctx, reg.ID)
	if err != nil {
		s.appendAudit(ctx, storage.AuditEvent{Actor: "federation", Action: actionFederationRefused, Subject: reg.ID, ClientID: reg.ID,
			Detail: federationRefusalDetail(err)})
		return nil, err
	}
	if err := s.store.InTx(ctx, func(ctx context.Context) error { return s.saveFederationClient(ctx, built) }); err != nil {
		return nil, err
	}
	s.clients.Forget(reg.ID)
	return s.clients.Get(ctx, reg.ID)
}

// checkRequestObjectShape checks, without any key, that raw is a compact JWS whose header
// names SGD_SM3_SM2 or ES256 and whose claims are a JSON object with iss and client_id equal
// to clientID: what must hold before the client's trust chain is fetched. Errors:
// ErrRequestObject, ErrRequestObjectSignature (alg).
func checkRequestObjectShape(raw, clientID string) error {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 || parts[2] == "" {
		return fmt.Errorf("%w: not a compact JWS", ErrRequestObject)
	}
	var header struct {
		Alg string `json:"alg"`
	}
	hb, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil || json.Unmarshal(hb, &header) != nil {
		return fmt.Errorf("%w: malformed header", ErrRequestObject)
	}
	if header.Alg != AlgSM2 && header.Alg != AlgES256 {
		return fmt.Errorf("%w: alg %q (accepted: %s)", ErrRequestObjectSignature, cutForError(header.Alg, 80),
			strings.Join(ClientAssertionSigningAlgs, ", "))
	}
	pb, err := base64.RawURLEncoding.DecodeString(parts[1])
	var claims struct {
		Iss      string `json:"iss"`
		ClientID string `json:"client_id"`
	}
	if err != nil || json.Unmarshal(pb, &claims) != nil {
		return fmt.Errorf("%w: claims are not a JSON object", ErrRequestObject)
	}
	if claims.Iss != clientID || claims.ClientID != clientID {
		return fmt.Errorf("%w: iss and client_id must both be the client_id", ErrRequestObject)
	}
	return nil
}

// verifyRequestObject checks a request object (RFC 9101, OpenID Federation 1.0 §12.1.1.1): a
// compact JWS signed with SGD_SM3_SM2 or ES256 by a key of jwks (the RP's resolved metadata);
// iss and client_id are the client_id; aud is, or contains, the issuer; exp is in the future
// and at most 5 minutes ahead; iat and nbf, when present, not in the future (30 s skew); jti
// present. It returns the authorization parameters it carries (client_id included), the jti
// and exp. Errors: ErrRequestObject, ErrRequestObjectSignature, ErrRequestObjectExpired.
func (s *Server) verifyRequestObject(raw, clientID string, jwks []byte) (url.Values, string, time.Time, error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return nil, "", time.Time{}, fmt.Errorf("%w: not a compact JWS", ErrRequestObject)
	}
	var header struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	hb, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil || json.Unmarshal(hb, &header) != nil {
		return nil, "", time.Time{}, fmt.Errorf("%w: malformed header", ErrRequestObject)
	}
	keys, err := parseClientJWKS(jwks)
	if err != nil {
		return nil, "", time.Time{}, fmt.Errorf("%w: %w", ErrFederationMetadata, err)
	}
	var payload []byte
	switch header.Alg {
	case AlgSM2:
		payload, err = keys.set.VerifySM2(raw)
	case AlgES256:
		payload, err = verifyES256(raw, header.Kid, keys.set)
	default:
		return nil, "", time.Time{}, fmt.Errorf("%w: alg %q (accepted: %s)", ErrRequestObjectSignature, header.Alg,
			strings.Join(ClientAssertionSigningAlgs, ", "))
	}
	if err != nil {
		return nil, "", time.Time{}, fmt.Errorf("%w: %v", ErrRequestObjectSignature, err)
	}
	dec := json.NewDecoder(strings.NewReader(string(payload)))
	dec.UseNumber()
	var claims map[string]any
	if err := dec.Decode(&claims); err != nil || claims == nil {
		return nil, "", time.Time{}, fmt.Errorf("%w: claims are not a JSON object", ErrRequestObject)
	}
	str := func(name string) string { v, _ := claims[name].(string); return v }
	if subtle.ConstantTimeCompare([]byte(str("iss")), []byte(clientID)) != 1 || str("client_id") != clientID {
		return nil, "", time.Time{}, fmt.Errorf("%w: iss and client_id must both be the client_id", ErrRequestObject)
	}
	aud, _ := json.Marshal(claims["aud"])
	if !audienceContains(aud, s.issuer, s.issuer+"/") {
		return nil, "", time.Time{}, fmt.Errorf("%w: aud does not name this provider", ErrRequestObject)
	}
	now := s.now()
	number := func(name string) *json.Number {
		if n, ok := claims[name].(json.Number); ok {
			return &n
		}
		return nil
	}
	exp, ok := numericDate(number("exp"))
	switch {
	case !ok:
		return nil, "", time.Time{}, fmt.Errorf("%w: no exp", ErrRequestObjectExpired)
	case !now.Before(exp):
		return nil, "", time.Time{}, fmt.Errorf("%w: exp has passed", ErrRequestObjectExpired)
	case exp.After(now.Add(maxRequestObjectLifetime + assertionSkew)):
		return nil, "", time.Time{}, fmt.Errorf("%w: exp too far in the future (more than %s ahead)", ErrRequestObjectLifetime, maxRequestObjectLifetime)
	}
	for _, name := range []string{"iat", "nbf"} {
		if t, ok := numericDate(number(name)); ok && t.After(now.Add(assertionSkew)) {
			return nil, "", time.Time{}, fmt.Errorf("%w: %s in the future", ErrRequestObjectExpired, name)
		}
	}
	jti := str("jti")
	if jti == "" || len(jti) > 256 || strings.IndexFunc(jti, unicode.IsControl) >= 0 {
		return nil, "", time.Time{}, fmt.Errorf("%w: jti missing, longer than 256 bytes or with control characters", ErrRequestObject)
	}
	params := url.Values{}
	for name, v := range claims {
		if slices.Contains(requestObjectClaims, name) {
			continue
		}
		switch x := v.(type) {
		case string:
			params.Set(name, x)
		case json.Number:
			params.Set(name, x.String())
		case bool:
			params.Set(name, strconv.FormatBool(x))
		case nil:
		default: // claims (OIDC Core §5.5) and other structured values travel as JSON
			b, err := json.Marshal(x)
			if err != nil {
				return nil, "", time.Time{}, fmt.Errorf("%w: %s: %v", ErrRequestObject, name, err)
			}
			params.Set(name, string(b))
		}
	}
	return params, jti, exp, nil
}

// federationClient builds the app of relying party id from its resolved metadata
// (openid_relying_party, OpenID Connect Dynamic Client Registration 1.0 §2 names), validated as
// CreateClient validates an operator's: redirect_uris (required, exact), jwks (required and
// inline: the keys of request objects and private_key_jwt), client_name, logo_uri, scope,
// grant_types, response_types (code only), id_token_signed_response_alg, subject_type,
// post-logout and logout URIs. token_endpoint_auth_method must be private_key_jwt when given;
// client_registration_types must include "automatic" when given. Errors:
// ErrFederationMetadata with every problem.
func federationClient(id string, ent ResolvedEntity, now time.Time) (storage.Client, error) {
	md := ent.Metadata
	var problems []string
	str := func(name string) string {
		v, ok := md[name]
		if !ok || v == nil {
			return ""
		}
		s, isStr := v.(string)
		if !isStr {
			problems = append(problems, name+" is not a string")
		}
		return s
	}
	list := func(name string) []string {
		v, ok := md[name]
		if !ok || v == nil {
			return nil
		}
		arr, isArr := v.([]any)
		out := make([]string, 0, len(arr))
		for _, e := range arr {
			s, isStr := e.(string)
			if !isStr {
				isArr = false
				break
			}
			out = append(out, s)
		}
		if !isArr {
			problems = append(problems, name+" is not a list of strings")
			return nil
		}
		return out
	}
	boolean := func(name string) bool { b, _ := md[name].(bool); return b }
	if types := list("client_registration_types"); types != nil && !slices.Contains(types, "automatic") {
		problems = append(problems, `client_registration_types does not include "automatic"`)
	}
	if m := str("token_endpoint_auth_method"); m != "" && m != AuthPrivateKeyJWT {
		problems = append(problems, fmt.Sprintf("token_endpoint_auth_method %q: a federation client uses private_key_jwt", m))
	}
	if rt := list("response_types"); rt != nil && (len(rt) != 1 || rt[0] != "code") {
		problems = append(problems, `response_types must be ["code"]`)
	}
	var jwks []byte
	switch v := md["jwks"].(type) {
	case map[string]any:
		jwks, _ = json.Marshal(v)
	case nil:
		problems = append(problems, "jwks is missing (keys must be given inline: jwks_uri and signed_jwks_uri are not read)")
	default:
		problems = append(problems, "jwks is not a JWK Set object")
	}
	nc := NewClient{
		ID:                      "federation", // placeholder: entity identifiers are no client_id of the CreateClient syntax
		Name:                    str("client_name"),
		LogoURI:                 str("logo_uri"),
		RedirectURIs:            list("redirect_uris"),
		PostLogoutRedirectURIs:  list("post_logout_redirect_uris"),
		GrantTypes:              list("grant_types"),
		IDTokenAlg:              str("id_token_signed_response_alg"),
		SubjectType:             str("subject_type"),
		TokenEndpointAuthMethod: AuthPrivateKeyJWT,
		JWKS:                    jwks,
		BackchannelLogoutURI:    str("backchannel_logout_uri"), BackchannelLogoutSessionRequired: boolean("backchannel_logout_session_required"),
		FrontchannelLogoutURI: str("frontchannel_logout_uri"), FrontchannelLogoutSessionRequired: boolean("frontchannel_logout_session_required"),
	}
	if sc := str("scope"); sc != "" {
		nc.Scopes = strings.Fields(sc)
	}
	if nc.RedirectURIs == nil {
		problems = append(problems, "redirect_uris is missing")
	}
	if len(problems) > 0 {
		return storage.Client{}, fmt.Errorf("%w: %s", ErrFederationMetadata, strings.Join(problems, "; "))
	}
	c, errs := buildClient(nc)
	if len(errs) > 0 {
		return storage.Client{}, fmt.Errorf("%w: %w", ErrFederationMetadata, errors.Join(errs...))
	}
	c.ID = id
	c.Status = storage.ClientPublished
	c.Source = storage.ClientSourceFederation
	c.TrustAnchor = ent.TrustAnchor
	c.FederationExpiresAt = ent.Expires.UTC()
	c.CreatedAt = now.UTC()
	return c, nil
}

// errFederationClientRefused is the hint of the token endpoint for a federation app whose
// chain no longer resolves.
var errFederationClientRefused = fosite.ErrInvalidClient.WithHint("The app's OpenID Federation trust chain no longer resolves.")
