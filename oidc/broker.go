package oidc

// Brokered login (上游身份提供方登录): the login page offers the upstream OpenID providers an
// operator configured (storage.Upstreams, `idp upstreams add`); a citizen who picks one is sent
// there with an authorization code request (PKCE S256, state and nonce bound to the browser by
// the flow cookie) and comes back to /upstream/callback, where the upstream ID token is
// verified fully (broker_verify.go) and the upstream subject is linked to a local person.
// docs/design/roaming-broker.md has the whole design.

import (
	"bytes"
	"context"
	"crypto/hmac"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/tongban/tongban/accounts"
	"github.com/tongban/tongban/idnumber"
	"github.com/tongban/tongban/internal/httpkit"
	smcrypto "github.com/tongban/tongban/sm-crypto"
	"github.com/tongban/tongban/storage"
)

const (
	pathUpstreamStart    = "/upstream/start"    // GET ?authz=…&upstream=<id>
	pathUpstreamCallback = "/upstream/callback" // the redirect URI registered at every upstream

	upstreamFlowCookie = "tb_upstream"      // the flow in progress (upstreamFlow), MACed
	upstreamLinkCookie = "tb_upstream_link" // a subject waiting for a local login (upstreamLinkIntent)
	upstreamFlowTTL    = 10 * time.Minute

	// AMRFederated is the amr value added to the upstream's when a login was brokered
	// (RFC 8176 "fed": federated authentication).
	AMRFederated = "fed"
	// ParamIDPHint is the authorization request parameter naming an upstream (its ID, as
	// `idp upstreams list` shows): a request without a live session goes to that upstream with
	// prompt=none first instead of showing the login page.
	ParamIDPHint = "idp_hint"
	// ClaimIDP is the ID-token claim naming where the citizen authenticated: the upstream's
	// issuer for a brokered login; absent for a local login.
	ClaimIDP = "idp"
)

// UpstreamRedirectURI is the redirect URI to register for tongban at an upstream provider: the
// issuer followed by /upstream/callback.
func UpstreamRedirectURI(issuer string) string {
	return strings.TrimSuffix(issuer, "/") + pathUpstreamCallback
}

// UpstreamSecretAAD is the additional data with which an upstream's client secret is sealed
// (keyring.SealField).
func UpstreamSecretAAD(upstreamID string) string { return "upstream/" + upstreamID + "/client_secret" }

// brokerState is the per-server cache of upstream discovery and keys.
type brokerState struct {
	mu        sync.Mutex
	providers map[string]*upstreamProvider // by upstream ID
	upstreams map[string]cachedUpstream    // by upstream ID (cachedUpstream)
}

type cachedUpstream struct {
	u    storage.Upstream
	read time.Time
}

type upstreamProvider struct {
	issuer   string
	endpoint oauth2.Endpoint
	keys     *upstreamKeys
	fetched  time.Time
	expires  time.Time // a federation upstream's: its trust chain's expiry; zero for discovery (an hour)
}

// upstreamFlow is one browser's login in progress at an upstream, carried in the flow cookie
// as base64url(JSON) "." base64url(HMAC-SM3(authz key, "upstream-flow" ‖ 0 ‖ JSON)).
type upstreamFlow struct {
	Upstream string `json:"u"`
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	Authz    string `json:"a"` // the pending request (pendingAuth) to resume
	Lang     string `json:"l,omitempty"`
	Silent   bool   `json:"q,omitempty"` // prompt=none: login_required falls back to the login page
	Expires  int64  `json:"e"`           // UnixMicro
}

// upstreamLinkIntent is an upstream subject waiting for one local login to be linked, carried
// in the link cookie (MACed like upstreamFlow, label "upstream-link"). ID is also in the
// pending request of the login page (pendingAuth.Link): a login page opened in another browser
// links nothing.
type upstreamLinkIntent struct {
	ID       string `json:"i"`
	Upstream string `json:"u"`
	Subject  string `json:"s"`
	ACR      string `json:"c,omitempty"`
	Expires  int64  `json:"e"`
}

func (s *Server) sealCookie(label string, v any) string {
	js, _ := json.Marshal(v) // plain structs always marshal
	return b64.EncodeToString(js) + "." + b64.EncodeToString(smcrypto.HMACSM3(s.keys.authz, append([]byte(label+"\x00"), js...)))
}

func (s *Server) openCookie(r *http.Request, name, label string, v any) bool {
	body, mac, ok := strings.Cut(s.cookies.Value(r, name), ".")
	if !ok {
		return false
	}
	js, err1 := b64.DecodeString(body)
	sum, err2 := b64.DecodeString(mac)
	if err1 != nil || err2 != nil || !hmac.Equal(sum, smcrypto.HMACSM3(s.keys.authz, append([]byte(label+"\x00"), js...))) {
		return false
	}
	return json.NewDecoder(bytes.NewReader(js)).Decode(v) == nil
}

func (s *Server) routesBroker(handle func(method, path string, h http.HandlerFunc)) {
	handle("GET", pathUpstreamStart, s.handleUpstreamStart)
	handle("GET", pathUpstreamCallback, s.handleUpstreamCallback)
	handle("POST", pathUpstreamBackchannelLogout, s.handleUpstreamBackchannelLogout) // broker_logout.go
	handle("POST", pathAccount+"/upstreams/remove", s.handleUpstreamUnlink)
}

// upstreamButton is one "log in with …" button of the login page.
type upstreamButton struct {
	Label string
	URL   string
}

// fillLoginUpstreams adds a button per configured upstream to the login page, and the notice
// asking for one local login when a subject waits to be linked.
func (s *Server) fillLoginUpstreams(ctx context.Context, d *pageData, authz string) {
	ups, err := s.store.ListUpstreams(ctx)
	if err != nil {
		s.logFailure(ctx, "list upstreams", err)
		return
	}
	for _, u := range ups {
		label := u.LabelZH
		if d.Lang == langEN && u.LabelEN != "" {
			label = u.LabelEN
		}
		d.Upstreams = append(d.Upstreams, upstreamButton{
			Label: fmt.Sprintf(d.T["upstreamButton"], label),
			URL: s.localPath(pathUpstreamStart) + "?" + url.Values{"authz": {authz}, "upstream": {u.ID},
				"ui_locales": {d.Lang}}.Encode(),
		})
	}
	if p, err := s.decodePending(authz); err == nil && p.Link != "" {
		d.Message = d.T["upstreamLinkNotice"]
	}
}

// handleUpstreamStart sends the browser to the upstream's authorization endpoint
// (GET /upstream/start?authz=…&upstream=<id>).
func (s *Server) handleUpstreamStart(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	authz := q.Get("authz")
	p, _, err := s.pendingForm(authz)
	lang := pickLang(firstNonEmpty(q.Get("ui_locales"), p.Lang))
	if err != nil {
		s.renderError(w, r, http.StatusBadRequest, lang, msgRequestExpired)
		return
	}
	u, err := s.cachedUpstream(r.Context(), q.Get("upstream"))
	if errors.Is(err, storage.ErrNotFound) {
		s.renderError(w, r, http.StatusNotFound, lang, "errUpstreamUnknown")
		return
	} else if err != nil {
		s.pageError(r.Context(), w, r, lang, "get upstream", err)
		return
	}
	s.redirectUpstream(w, r, u, authz, lang, false)
}

// silentUpstream returns the upstream an authorization request without a session goes to
// with prompt=none: the one idp_hint names, else one marked SilentSSO; ok false when none.
func (s *Server) silentUpstream(ctx context.Context, q url.Values) (storage.Upstream, bool) {
	if hint := q.Get(ParamIDPHint); hint != "" {
		u, err := s.cachedUpstream(ctx, hint)
		return u, err == nil
	}
	ups, err := s.store.ListUpstreams(ctx)
	if err != nil {
		return storage.Upstream{}, false
	}
	for _, u := range ups {
		if u.SilentSSO {
			return u, true
		}
	}
	return storage.Upstream{}, false
}

// redirectUpstream sets the flow cookie and answers 303 to the upstream's authorization
// endpoint: response_type=code, PKCE S256, state, nonce, the upstream's scopes, ui_locales,
// and prompt=none when silent.
func (s *Server) redirectUpstream(w http.ResponseWriter, r *http.Request, u storage.Upstream, authz, lang string, silent bool) {
	ctx := r.Context()
	prov, err := s.upstreamProvider(ctx, u)
	if err != nil {
		s.refuseUpstreamBack(w, r, u.ID, lang, authz, err)
		return
	}
	f := upstreamFlow{Upstream: u.ID, State: httpkit.RandomString(32), Nonce: httpkit.RandomString(32),
		Verifier: oauth2.GenerateVerifier(), Authz: authz, Lang: lang, Silent: silent,
		Expires: s.now().Add(upstreamFlowTTL).UnixMicro()}
	s.cookies.Set(w, upstreamFlowCookie, s.sealCookie("upstream-flow", f), int(upstreamFlowTTL/time.Second))
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(f.Verifier), oidc.Nonce(f.Nonce),
		oauth2.SetAuthURLParam("ui_locales", lang)}
	if silent {
		opts = append(opts, oauth2.SetAuthURLParam("prompt", "none"))
	}
	if u.Federation { // federation_upstream.go: a signed request object, this instance's entity ID as client_id
		target, err := s.federationAuthURL(ctx, u, prov, f, lang)
		if err != nil {
			s.refuseUpstreamBack(w, r, u.ID, lang, authz, err)
			return
		}
		http.Redirect(w, r, target, http.StatusSeeOther)
		return
	}
	oc := oauth2.Config{ClientID: u.ClientID, Endpoint: prov.endpoint, RedirectURL: UpstreamRedirectURI(s.issuer), Scopes: u.Scopes}
	http.Redirect(w, r, oc.AuthCodeURL(f.State, opts...), http.StatusSeeOther)
}

// upstreamProvider returns the upstream's discovered endpoints and keys, cached for an hour.
func (s *Server) upstreamProvider(ctx context.Context, u storage.Upstream) (*upstreamProvider, error) {
	s.broker.mu.Lock()
	p := s.broker.providers[u.ID]
	s.broker.mu.Unlock()
	if p != nil && p.issuer == u.Issuer && (p.expires.IsZero() && time.Since(p.fetched) < time.Hour ||
		!p.expires.IsZero() && s.now().Before(p.expires)) {
		return p, nil
	}
	if u.Federation { // federation_upstream.go: metadata from the trust chain, not discovery
		return s.federationProvider(ctx, u)
	}
	client := s.upstreamHTTPClient()
	prov, err := oidc.NewProvider(oidc.ClientContext(ctx, client), u.Issuer)
	if err != nil {
		return nil, fmt.Errorf("%w: discovery: %w", ErrUpstreamUnavailable, err)
	}
	var meta struct {
		JWKSURI string `json:"jwks_uri"`
	}
	if err := prov.Claims(&meta); err != nil || meta.JWKSURI == "" {
		return nil, fmt.Errorf("%w: discovery has no jwks_uri", ErrUpstreamUnavailable)
	}
	p = &upstreamProvider{issuer: u.Issuer, endpoint: prov.Endpoint(), keys: &upstreamKeys{url: meta.JWKSURI, client: client},
		fetched: time.Now()}
	s.broker.putProvider(u.ID, p)
	return p, nil
}

// putProvider caches p as the provider of upstream id.
func (b *brokerState) putProvider(id string, p *upstreamProvider) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.providers == nil {
		b.providers = map[string]*upstreamProvider{}
	}
	b.providers[id] = p
}

// upstreamHTTPClient is Config.UpstreamHTTPClient, or a client with a 10 s timeout.
func (s *Server) upstreamHTTPClient() *http.Client {
	if s.cfg.UpstreamHTTPClient != nil {
		return s.cfg.UpstreamHTTPClient
	}
	return &http.Client{Timeout: 10 * time.Second}
}

// upstreamReason names a refusal in logs, audit details and metrics.
func upstreamReason(err error) (reason, msg string) {
	for _, c := range []struct {
		err         error
		reason, msg string
	}{
		{ErrUpstreamState, "state", "errUpstreamState"},
		{ErrUpstreamAlg, "alg", "errUpstreamAlg"},
		{ErrUpstreamSignature, "signature", "errUpstreamSignature"},
		{ErrUpstreamIssuer, "iss", "errUpstreamIssuer"},
		{ErrUpstreamAudience, "aud", "errUpstreamAudience"},
		{ErrUpstreamNonce, "nonce", "errUpstreamNonce"},
		{ErrUpstreamExpired, "expired", "errUpstreamExpired"},
		{ErrUpstreamIDNumber, "id_number", "errUpstreamIDNumber"},
		{ErrUpstreamRefused, "refused", "errUpstreamRefused"},
		{ErrUpstreamNoAccount, "no_account", "errUpstreamNoAccount"},
		{ErrUpstreamUnavailable, "unavailable", "errUpstreamUnavailable"},
		{ErrUpstreamChain, "chain", "errUpstreamChain"},
	} {
		if errors.Is(err, c.err) {
			return c.reason, c.msg
		}
	}
	return "error", msgServer
}

// refuseUpstream answers a refused brokered login with its own error page, logs the cause
// (no token, no personal data) and audits "upstream.refused" with the reason.
func (s *Server) refuseUpstream(w http.ResponseWriter, r *http.Request, upstreamID, lang string, err error) {
	s.refuseUpstreamBack(w, r, upstreamID, lang, "", err)
}

// refuseUpstreamBack is refuseUpstream whose page leads back to the login page of the pending
// authorization request authz (another way to log in), or to the account page when authz is "".
func (s *Server) refuseUpstreamBack(w http.ResponseWriter, r *http.Request, upstreamID, lang, authz string, err error) {
	ctx := r.Context()
	reason, msg := upstreamReason(err)
	s.log.InfoContext(ctx, "upstream login refused", "upstream", upstreamID, "reason", reason, "error", err.Error())
	s.appendAudit(ctx, storage.AuditEvent{Actor: "upstream:" + upstreamID, Action: "upstream.refused",
		Detail: "upstream=" + upstreamID + " reason=" + reason})
	status := http.StatusBadRequest
	if reason == "unavailable" {
		status = http.StatusBadGateway
	}
	if authz != "" {
		s.renderErrorBack(w, r, status, lang, msg,
			s.localPath(pathLogin)+"?"+url.Values{"authz": {authz}, "ui_locales": {lang}}.Encode(), "backToLogin")
		return
	}
	s.renderError(w, r, status, lang, msg)
}

// handleUpstreamCallback finishes a brokered login (GET /upstream/callback?code=…&state=…):
// state against the flow cookie and once only (storage.Nonces), the upstream's error (with
// prompt=none, login_required and the like fall back to the login page), the code exchanged
// with the PKCE verifier, the ID token verified (checkUpstreamIDToken), the ID number checked
// (GB 11643), then the subject's person logged in (loginUpstream).
func (s *Server) handleUpstreamCallback(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	var f upstreamFlow
	ok := s.openCookie(r, upstreamFlowCookie, "upstream-flow", &f)
	s.cookies.Clear(w, upstreamFlowCookie)
	lang := pickLang(firstNonEmpty(f.Lang, q.Get("ui_locales")))
	if !ok || f.State == "" || !hmac.Equal([]byte(f.State), []byte(q.Get("state"))) ||
		!s.now().Before(time.UnixMicro(f.Expires)) {
		s.refuseUpstream(w, r, f.Upstream, lang, ErrUpstreamState)
		return
	}
	// The state is single use. A used one is refused here with one read, before the code is
	// spent at the upstream; the state is recorded (storage.Nonces, atomic) in the transaction
	// that logs the citizen in (loginUpstream), or on its own when the callback ends any other
	// way (the deferred spend), so the happy path writes one transaction, not two.
	if used, err := s.store.NonceUsed(ctx, upstreamStateNS, f.State); err != nil {
		s.pageError(ctx, w, r, lang, "check upstream state", err)
		return
	} else if used {
		s.refuseUpstream(w, r, f.Upstream, lang, ErrUpstreamState)
		return
	}
	st := &upstreamState{value: f.State, expires: time.UnixMicro(f.Expires)}
	defer s.spendUpstreamState(ctx, st)
	p, err := s.decodePending(f.Authz)
	if err != nil {
		s.renderError(w, r, http.StatusBadRequest, lang, msgRequestExpired)
		return
	}
	u, err := s.cachedUpstream(ctx, f.Upstream)
	if err != nil {
		s.pageError(ctx, w, r, lang, "get upstream", err)
		return
	}
	if e := q.Get("error"); e != "" {
		if f.Silent && slices.Contains([]string{"login_required", "interaction_required", "consent_required",
			"account_selection_required"}, e) {
			// No re-entry failed: the citizen has no session at the upstream; log in here.
			http.Redirect(w, r, s.localPath(pathLogin)+"?authz="+url.QueryEscape(f.Authz), http.StatusSeeOther)
			return
		}
		s.refuseUpstream(w, r, u.ID, lang, fmt.Errorf("%w: %q", ErrUpstreamRefused, e))
		return
	}
	if iss := q.Get("iss"); iss != "" && iss != u.Issuer { // RFC 9207
		s.refuseUpstream(w, r, u.ID, lang, fmt.Errorf("%w: authorization response iss %q", ErrUpstreamIssuer, iss))
		return
	}
	claims, err := s.exchangeUpstream(ctx, u, f, q.Get("code"))
	if err != nil {
		s.refuseUpstream(w, r, u.ID, lang, err)
		return
	}
	idNumber := ""
	if u.IDNumberClaim != "" {
		if v := claims.stringClaim(u.IDNumberClaim); v != "" {
			idNumber = idnumber.NormalizeResidentID(v)
			if err := idnumber.ValidateResidentIDAt(idNumber, s.now()); err != nil {
				s.refuseUpstream(w, r, u.ID, lang, fmt.Errorf("%w: %w", ErrUpstreamIDNumber, err))
				return
			}
		}
	}
	s.loginUpstream(w, r, u, claims, idNumber, p, lang, st)
}

// upstreamStateNS is the storage.Nonces namespace of used upstream states.
const upstreamStateNS = "upstream-state"

// upstreamState is a callback's state, spent once: in the login transaction (spent set after
// it commits) or by spendUpstreamState.
type upstreamState struct {
	value   string
	expires time.Time
	spent   bool
}

// spendUpstreamState records st as used when the callback ended without the login
// transaction doing it (a refusal, the silent fallback, the link page). A failure is logged:
// the upstream's code, spent or refused by now, cannot be redeemed again anyway.
func (s *Server) spendUpstreamState(ctx context.Context, st *upstreamState) {
	if st.spent {
		return
	}
	if err := s.store.UseNonce(ctx, upstreamStateNS, st.value, st.expires); err != nil && !errors.Is(err, storage.ErrAlreadyUsed) {
		s.logFailure(ctx, "use upstream state", err)
	}
	st.spent = true
}

// cachedUpstream returns the upstream with the given ID, from memory when read less than
// Config.ClientCacheTTL ago (the same staleness a replica allows for clients; a negative TTL
// reads storage every time). Errors: storage.ErrNotFound, storage errors.
func (s *Server) cachedUpstream(ctx context.Context, id string) (storage.Upstream, error) {
	ttl := s.cfg.ClientCacheTTL
	if ttl >= 0 {
		s.broker.mu.Lock()
		c, ok := s.broker.upstreams[id]
		s.broker.mu.Unlock()
		if ok && time.Since(c.read) < ttl {
			return c.u, nil
		}
	}
	u, err := s.store.GetUpstream(ctx, id)
	if err != nil || ttl < 0 {
		return u, err
	}
	s.broker.mu.Lock()
	if s.broker.upstreams == nil {
		s.broker.upstreams = map[string]cachedUpstream{}
	}
	s.broker.upstreams[id] = cachedUpstream{u: u, read: time.Now()}
	s.broker.mu.Unlock()
	return u, nil
}

// exchangeUpstream redeems code at the upstream's token endpoint (client_secret_basic or
// _post, PKCE verifier) and verifies the ID token of the answer.
func (s *Server) exchangeUpstream(ctx context.Context, u storage.Upstream, f upstreamFlow, code string) (upstreamClaims, error) {
	prov, err := s.upstreamProvider(ctx, u)
	if err != nil {
		return upstreamClaims{}, err
	}
	opts := []oauth2.AuthCodeOption{oauth2.VerifierOption(f.Verifier)}
	var secret []byte
	if u.Federation { // federation_upstream.go: private_key_jwt with this instance's relying-party key
		assertion, err := s.federationClientAssertion(ctx, u, prov)
		if err != nil {
			return upstreamClaims{}, err
		}
		opts = append(opts, oauth2.SetAuthURLParam("client_assertion_type", ClientAssertionType),
			oauth2.SetAuthURLParam("client_assertion", assertion))
	} else if secret, err = s.kr.OpenField(u.ClientSecretSealed, UpstreamSecretAAD(u.ID)); err != nil {
		return upstreamClaims{}, fmt.Errorf("open upstream client secret: %w", err)
	}
	oc := oauth2.Config{ClientID: s.upstreamClientID(u), ClientSecret: string(secret), Endpoint: prov.endpoint,
		RedirectURL: UpstreamRedirectURI(s.issuer), Scopes: u.Scopes}
	tok, err := oc.Exchange(context.WithValue(ctx, oauth2.HTTPClient, s.upstreamHTTPClient()), code, opts...)
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			return upstreamClaims{}, fmt.Errorf("%w: token endpoint: %s", ErrUpstreamRefused, re.ErrorCode)
		}
		return upstreamClaims{}, fmt.Errorf("%w: token endpoint: %w", ErrUpstreamUnavailable, err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return upstreamClaims{}, fmt.Errorf("%w: no id_token in the token response", ErrUpstreamRefused)
	}
	return checkUpstreamIDToken(ctx, prov.keys, raw, u.Issuer, s.upstreamClientID(u), f.Nonce, s.now())
}

// upstreamACR maps the upstream's acr with the upstream's ACRMap; unknown values (and none)
// give the lowest local level.
func upstreamACR(u storage.Upstream, acr string) string {
	if v, ok := u.ACRMap[acr]; ok && acrLevel(v) >= 0 {
		return v
	}
	return SupportedACRValues[0]
}

// loginUpstream logs in the person the upstream subject is linked to, linking it first when
// the upstream is trusted for verified ID numbers (auto-link, or a person created just in
// time when allowed). An untrusted upstream's new subject goes to the login page, which links
// it after one local login (finishUpstreamLink).
func (s *Server) loginUpstream(w http.ResponseWriter, r *http.Request, u storage.Upstream, c upstreamClaims, idNumber string, p pendingAuth, lang string, st *upstreamState) {
	ctx := r.Context()
	now := s.now().UTC().Truncate(time.Microsecond)
	link, err := s.store.GetUpstreamLink(ctx, u.ID, c.Subject)
	personID, linked := link.PersonID, err == nil
	switch {
	case linked:
	case !errors.Is(err, storage.ErrNotFound):
		s.pageError(ctx, w, r, lang, "get upstream link", err)
		return
	case u.TrustedIDNumbers && idNumber != "":
		person, err := s.store.GetPersonByIDNumberIndex(ctx, s.kr.BlindIndex(idNumber))
		switch {
		case errors.Is(err, storage.ErrNotFound) && u.AllowJIT:
			if person, err = s.createUpstreamPerson(ctx, u, c, idNumber); err != nil {
				s.pageError(ctx, w, r, lang, "create person just in time", err)
				return
			}
		case errors.Is(err, storage.ErrNotFound):
			s.refuseUpstream(w, r, u.ID, lang, ErrUpstreamNoAccount)
			return
		case err != nil:
			s.pageError(ctx, w, r, lang, "find person by ID number", err)
			return
		}
		personID = person.ID // linked in the login transaction below
	default:
		// One local login links the subject: the intent is bound to this browser (cookie) and
		// to this login page (pendingAuth.Link).
		in := upstreamLinkIntent{ID: httpkit.RandomString(16), Upstream: u.ID, Subject: c.Subject,
			Expires: s.now().Add(upstreamFlowTTL).UnixMicro()}
		s.cookies.Set(w, upstreamLinkCookie, s.sealCookie("upstream-link", in), int(upstreamFlowTTL/time.Second))
		p.Link = in.ID
		p.Expires = s.now().Add(s.cfg.AuthRequestLifetime).UnixMicro()
		p.Lang = lang
		http.Redirect(w, r, s.localPath(pathLogin)+"?authz="+url.QueryEscape(s.encodePending(p)), http.StatusSeeOther)
		return
	}
	person, err := s.store.GetPerson(ctx, personID)
	if err != nil {
		s.pageError(ctx, w, r, lang, "get person", err)
		return
	}
	if person.Disabled {
		s.renderError(w, r, http.StatusForbidden, lang, msgLoginDisabled)
		return
	}
	acr := upstreamACR(u, c.ACR)
	amr := append(slices.Clip(c.AMR), AMRFederated)
	if _, err := s.endSession(ctx, w, r); err != nil {
		s.logFailure(ctx, "end previous session", err)
	}
	ls := s.withDevice(r, storage.LoginSession{PersonID: personID, AuthTime: now, ACR: acr, AMR: amr,
		CreatedAt: now, ExpiresAt: now.Add(s.cfg.SessionLifetime)})
	secret := httpkit.RandomString(32)
	ls.ID = s.sessionID(secret)
	client := ""
	if q, err := url.ParseQuery(p.Query); err == nil {
		client = q.Get("client_id")
	}
	// One transaction: the state spent, the link touched (or made and audited), the login
	// session and its upstream record, the login audited.
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		if err := s.store.UseNonce(ctx, upstreamStateNS, st.value, st.expires); err != nil {
			return err
		}
		if linked {
			if err := s.store.TouchUpstreamLink(ctx, u.ID, c.Subject, now); err != nil {
				return err
			}
		} else if err := s.linkUpstream(ctx, u.ID, c.Subject, personID, "upstream:"+u.ID, "auto"); err != nil {
			return err
		}
		if err := s.store.CreateLoginSession(ctx, ls); err != nil {
			return err
		}
		if err := s.store.CreateUpstreamSession(ctx, storage.UpstreamSession{SessionID: ls.ID, UpstreamID: u.ID,
			Subject: c.Subject, UpstreamSID: c.SID, CreatedAt: now}); err != nil {
			return err
		}
		_, err := s.store.AppendAudit(ctx, storage.AuditEvent{Time: now, Actor: personID, Action: "login.upstream",
			Subject: personID, ClientID: client, Detail: "upstream=" + u.ID + " acr=" + acr})
		return err
	})
	switch {
	case errors.Is(err, storage.ErrAlreadyUsed):
		st.spent = true
		s.refuseUpstream(w, r, u.ID, lang, ErrUpstreamState)
		return
	case err != nil:
		s.pageError(ctx, w, r, lang, "start session", err)
		return
	}
	st.spent = true
	s.cookies.Set(w, sessionCookieName, secret, 0)
	s.syncElder(ctx, w, r, personID) // elder.go
	s.countLogin(ctx, "success", client)
	s.log.InfoContext(ctx, "login", "person_id", personID, "client_id", client, "acr", acr, "upstream", u.ID)
	http.Redirect(w, r, s.afterLogin(p, lang), http.StatusSeeOther)
}

// createUpstreamPerson creates the person a trusted upstream asserted (just-in-time creation):
// the ID number, the name claim (or "—" when the upstream sends none) and a random password
// nobody knows (the citizen may set one with a password reset).
func (s *Server) createUpstreamPerson(ctx context.Context, u storage.Upstream, c upstreamClaims, idNumber string) (storage.Person, error) {
	name := c.Name
	if name == "" || len([]rune(name)) > 64 {
		name = "—"
	}
	p, err := s.accounts.CreatePerson(ctx, accounts.NewPerson{IDNumber: idNumber, Name: name,
		Password: []byte(httpkit.RandomString(32))})
	if err != nil {
		return p, err
	}
	s.appendAudit(ctx, storage.AuditEvent{Actor: "upstream:" + u.ID, Action: "person.create.upstream", Subject: p.ID,
		Detail: "upstream=" + u.ID})
	return p, nil
}

// linkUpstream links the subject to the person and audits "upstream.link" in one transaction
// (the caller's, when ctx carries one).
func (s *Server) linkUpstream(ctx context.Context, upstreamID, subject, personID, actor, how string) error {
	now := s.now()
	return s.store.InTx(ctx, func(ctx context.Context) error {
		if err := s.store.CreateUpstreamLink(ctx, storage.UpstreamLink{UpstreamID: upstreamID, Subject: subject,
			PersonID: personID, CreatedAt: now, LastUsedAt: now}); err != nil {
			return err
		}
		_, err := s.store.AppendAudit(ctx, storage.AuditEvent{Time: now, Actor: actor, Action: "upstream.link",
			Subject: personID, Detail: "upstream=" + upstreamID + " how=" + how})
		return err
	})
}

// finishUpstreamLink runs after a successful local password login: when the login page was
// for an upstream subject waiting to be linked (pendingAuth.Link matching this browser's link
// cookie), it links the subject to the person who logged in.
func (s *Server) finishUpstreamLink(ctx context.Context, w http.ResponseWriter, r *http.Request, p pendingAuth, personID string) {
	if p.Link == "" {
		return
	}
	var in upstreamLinkIntent
	ok := s.openCookie(r, upstreamLinkCookie, "upstream-link", &in)
	s.cookies.Clear(w, upstreamLinkCookie)
	if !ok || !hmac.Equal([]byte(in.ID), []byte(p.Link)) || !s.now().Before(time.UnixMicro(in.Expires)) {
		s.log.InfoContext(ctx, "upstream link refused: intent missing, expired or from another page")
		return
	}
	if err := s.linkUpstream(ctx, in.Upstream, in.Subject, personID, personID, "local_login"); err != nil {
		s.logFailure(ctx, "link upstream subject", err)
	}
}

// sessionIDP returns the issuer of the upstream the login session came from ("" for a local
// login): the ID tokens issued in it carry it as ClaimIDP.
func (s *Server) sessionIDP(ctx context.Context, ls *storage.LoginSession) string {
	if !slices.Contains(ls.AMR, AMRFederated) {
		return ""
	}
	us, err := s.store.GetUpstreamSession(ctx, ls.ID)
	if err != nil {
		return ""
	}
	u, err := s.cachedUpstream(ctx, us.UpstreamID)
	if err != nil {
		return ""
	}
	return u.Issuer
}

func init() {
	addMessages(map[string]map[string]string{
		langZH: {
			"upstreamButton":         "用 %s 登录",
			"upstreamLinkNotice":     "首次使用该方式登录：请用本站账号登录一次，以关联两个账号。",
			"errUpstreamUnknown":     "未找到该登录方式。",
			"errUpstreamState":       "登录响应无效或已使用过，请回到应用重新登录。",
			"errUpstreamAlg":         "上游身份提供方的身份令牌使用了不允许的签名算法，登录未完成。",
			"errUpstreamSignature":   "上游身份提供方的身份令牌签名无效，登录未完成。",
			"errUpstreamIssuer":      "身份令牌不是由所选的身份提供方签发的，登录未完成。",
			"errUpstreamAudience":    "身份令牌不是签发给本站的，登录未完成。",
			"errUpstreamNonce":       "身份令牌与本次登录请求不匹配，登录未完成。",
			"errUpstreamExpired":     "身份令牌已过期或时间无效，请重新登录。",
			"errUpstreamIDNumber":    "上游身份提供方提供的身份证号码校验不通过，登录未完成。",
			"errUpstreamRefused":     "上游身份提供方拒绝了登录。",
			"errUpstreamUnavailable": "上游身份提供方暂时无法访问，请稍后再试。",
			"errUpstreamNoAccount":   "本站没有与该身份对应的账号。",
			"errUpstreamChain":       "无法通过可信联盟确认该身份提供方，登录未完成。",
		},
		langEN: {
			"upstreamButton":         "Log in with %s",
			"upstreamLinkNotice":     "First login this way: log in once with your account here to link the two accounts.",
			"errUpstreamUnknown":     "This login option does not exist.",
			"errUpstreamState":       "The login response is invalid or was used before. Go back to the app and log in again.",
			"errUpstreamAlg":         "The upstream identity provider's ID token uses a signature algorithm that is not allowed; you are not logged in.",
			"errUpstreamSignature":   "The upstream identity provider's ID token has an invalid signature; you are not logged in.",
			"errUpstreamIssuer":      "The ID token was not issued by the identity provider you chose; you are not logged in.",
			"errUpstreamAudience":    "The ID token was not issued for this site; you are not logged in.",
			"errUpstreamNonce":       "The ID token does not belong to this login request; you are not logged in.",
			"errUpstreamExpired":     "The ID token has expired or is not yet valid. Please log in again.",
			"errUpstreamIDNumber":    "The ID number sent by the upstream identity provider fails its check; you are not logged in.",
			"errUpstreamRefused":     "The upstream identity provider refused the login.",
			"errUpstreamUnavailable": "The upstream identity provider cannot be reached. Please try again later.",
			"errUpstreamNoAccount":   "There is no account here for this identity.",
			"errUpstreamChain":       "This identity provider could not be confirmed through the trust federation; you are not logged in.",
		},
	})
}
