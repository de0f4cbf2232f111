package oidc

import (
	"context"
	"crypto/rand"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/ory/fosite"

	"github.com/tongban/tongban/internal/httpkit"
	"github.com/tongban/tongban/oidc/internal/fositeadapter"
	smcrypto "github.com/tongban/tongban/sm-crypto"
	"github.com/tongban/tongban/storage"
)

// The OAuth 2.0 Device Authorization Grant (RFC 8628) for self-service terminals (自助终端),
// TVs and other devices without a convenient browser:
//
//  1. the device posts to pathDeviceAuthorization and gets a device code (for itself) and a
//     user code (for the person), with verification_uri {issuer}/device;
//  2. the person opens that page on a phone or computer — typing the user code, or scanning a
//     QR of verification_uri_complete that the device shows — logs in if needed, sees which app
//     on which kind of device asks for which scopes and since when, and approves or denies;
//  3. meanwhile the device polls the token endpoint with grant type GrantDeviceCode and gets
//     authorization_pending, slow_down, access_denied or expired_token, and once approved the
//     same tokens the authorization code flow gives (device_grant.go), exactly once.

// Routes of the device authorization grant.
const (
	pathDevice              = "/device"               // the user-code page (verification_uri)
	pathDeviceAuthorization = "/device_authorization" // the device authorization endpoint (RFC 8628 §3.1)
)

// GrantDeviceCode is the grant type of the device access token request (RFC 8628 §3.4). A client
// must be registered for it (NewClient.GrantTypes) to use the device authorization endpoint.
const GrantDeviceCode = "urn:ietf:params:oauth:grant-type:device_code"

// Device authorization parameters.
const (
	// DeviceCodeLifetime is how long a device code and its user code stay usable: the
	// expires_in of the device authorization response (RFC 8628 §3.2), 600 seconds.
	DeviceCodeLifetime = 10 * time.Minute
	// DefaultDevicePollInterval is the default Config.DevicePollInterval: the interval of the
	// device authorization response, 5 seconds (RFC 8628 §3.2's default).
	DefaultDevicePollInterval = 5 * time.Second
	// deviceSlowDown is how much a device code's interval grows each time its device polls
	// faster than the interval (RFC 8628 §3.5 slow_down: 5 seconds).
	deviceSlowDown = 5 * time.Second
	// deviceCodePrefix starts every device code: prefix ‖ base64url(32 random bytes).
	deviceCodePrefix = "tb_dc_"
	// maxDeviceScope bounds the scope parameter of a device authorization request.
	maxDeviceScope = 1024
	// deviceAuthPerAddress is how many device authorization requests one client address
	// (Config.ClientIP) may make per minute; more get 429 slow_down. A service hall's
	// terminals behind one NAT address share it.
	deviceAuthPerAddress = 60
)

// User codes (RFC 8628 §6.1): 8 characters of the 20 consonants BCDFGHJKLMNPQRSTVWXZ —
// 20^8 ≈ 2^34.6 codes, no vowels (no words), no digits (nothing to confuse with letters) —
// shown as XXXX-XXXX and compared case- and dash-insensitively.
const (
	userCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ"
	userCodeLen      = 8
)

// newUserCode returns a random user code without the dash, drawing bytes from crypto/rand and
// rejecting those ≥ 240 so that every character is equally likely.
func newUserCode() string {
	out := make([]byte, 0, userCodeLen)
	var buf [16]byte
	for len(out) < userCodeLen {
		_, _ = rand.Read(buf[:]) // never fails (crypto/rand)
		for _, b := range buf {
			if b < 240 && len(out) < userCodeLen {
				out = append(out, userCodeAlphabet[b%20])
			}
		}
	}
	return string(out)
}

// normalizeUserCode returns the user code a person typed without dashes, spaces and case, with
// full-width letters (from a Chinese input method) folded to ASCII, and whether it has the
// shape of a user code: 8 characters of userCodeAlphabet.
func normalizeUserCode(in string) (string, bool) {
	var b strings.Builder
	for _, r := range in {
		switch {
		case r >= 'Ａ' && r <= 'Ｚ':
			r = r - 'Ａ' + 'A'
		case r >= 'ａ' && r <= 'ｚ':
			r = r - 'ａ' + 'A'
		case r >= 'a' && r <= 'z':
			r = r - 'a' + 'A'
		case r == '-' || r == ' ' || r == '\t' || r == '\u3000' || r == '－' || r == '‐' || r == '—' || r == '–':
			continue
		}
		if b.Len() > userCodeLen || !strings.ContainsRune(userCodeAlphabet, r) {
			return "", false
		}
		b.WriteRune(r)
	}
	if b.Len() != userCodeLen {
		return "", false
	}
	return b.String(), true
}

// formatUserCode shows a normalised user code as XXXX-XXXX.
func formatUserCode(c string) string { return c[:4] + "-" + c[4:] }

// Kinds of code the device hashes are computed for.
const (
	hashDeviceCode = "device-code"
	hashUserCode   = "user-code"
)

// deviceHash is what a device or user code is stored and looked up as:
// base64url(HMAC-SM3(K, kind ‖ 0 ‖ code)) with K = HMAC-SM3(token key, "tongban/oidc/device").
// A copy of the database yields no usable code, and the lookup is by an exact keyed hash, so
// no comparison of secrets happens outside the database's index.
func (s *Server) deviceHash(kind, code string) string {
	key := smcrypto.HMACSM3(s.kr.TokenKey(), []byte("tongban/oidc/device"))
	return b64.EncodeToString(smcrypto.HMACSM3(key, []byte(kind+"\x00"+code)))
}

// devicePollInterval is Config.DevicePollInterval, or its default.
func (s *Server) devicePollInterval() time.Duration {
	if s.cfg.DevicePollInterval > 0 {
		return s.cfg.DevicePollInterval.Truncate(time.Second)
	}
	return DefaultDevicePollInterval
}

// deviceAuthResponse is the device authorization response (RFC 8628 §3.2).
type deviceAuthResponse struct {
	DeviceCode              string `json:"device_code"`
	UserCode                string `json:"user_code"`
	VerificationURI         string `json:"verification_uri"`
	VerificationURIComplete string `json:"verification_uri_complete"`
	ExpiresIn               int64  `json:"expires_in"`
	Interval                int64  `json:"interval"`
}

// handleDeviceAuthorization serves the device authorization endpoint (RFC 8628 §3.1–3.2,
// POST application/x-www-form-urlencoded): the client authenticates as at the token endpoint
// (a public client sends client_id only) and must be registered for GrantDeviceCode; scope is
// required and every scope must be one the client is registered for. The answer is JSON:
// device_code (tb_dc_ and 43 base64url characters, 256 random bits), user_code (XXXX-XXXX),
// verification_uri ({issuer}/device), verification_uri_complete (with ?user_code=),
// expires_in (600) and interval (seconds, Config.DevicePollInterval). Both codes are stored
// only as keyed hashes (deviceHash).
//
// Errors (RFC 6749 §5.2 JSON): invalid_request (malformed body, a repeated parameter, a
// scope parameter over 1024 bytes), invalid_client (401), unauthorized_client (the client is
// not registered for the device grant), invalid_scope (no scope, or one the client may not
// ask for), slow_down (429, with Retry-After: 60) for an address over deviceAuthPerAddress
// requests a minute, temporarily_unavailable (503) while the database refuses writes.
func (s *Server) handleDeviceAuthorization(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := r.ParseForm(); err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			s.countError(ctx, "device_authorization", "invalid_request", "")
			oauthJSON.Error(w, http.StatusRequestEntityTooLarge, "invalid_request", "The request body is too large.")
			return
		}
		s.deviceAuthError(w, r, fosite.ErrInvalidRequest.WithHint("The request body is malformed."))
		return
	}
	for k, v := range r.PostForm {
		if len(v) > 1 {
			s.deviceAuthError(w, r, fosite.ErrInvalidRequest.WithHintf("The %s parameter is included more than once.", k))
			return
		}
	}
	fc, err := s.authenticateClient(ctx, r, r.PostForm)
	if err != nil {
		s.deviceAuthError(w, r, err)
		return
	}
	c, ok := fc.(*fositeadapter.Client)
	if !ok {
		s.deviceAuthError(w, r, fosite.ErrServerError.WithHint("unexpected client type"))
		return
	}
	if !slices.Contains(c.Registration.GrantTypes, GrantDeviceCode) {
		s.deviceAuthError(w, r, fosite.ErrUnauthorizedClient.WithHint("The client is not registered for the device authorization grant."))
		return
	}
	raw := r.PostForm.Get("scope")
	if len(raw) > maxDeviceScope {
		s.deviceAuthError(w, r, fosite.ErrInvalidRequest.WithHintf("scope is longer than %d bytes.", maxDeviceScope))
		return
	}
	var scopes []string
	for _, sc := range strings.Fields(raw) {
		if !slices.Contains(c.Registration.Scopes, sc) {
			s.deviceAuthError(w, r, fosite.ErrInvalidScope.WithHintf("The client may not ask for the scope %q.", sc))
			return
		}
		if !slices.Contains(scopes, sc) {
			scopes = append(scopes, sc)
		}
	}
	if len(scopes) == 0 {
		s.deviceAuthError(w, r, fosite.ErrInvalidScope.WithHint("The scope parameter is required."))
		return
	}

	now := s.now()
	// A flood of requests would fill the table (each holds a row for 10 minutes): at most
	// deviceAuthPerAddress per minute from one client address.
	if n, err := s.store.AddFailure(ctx, "device-authorization:ip:"+s.cfg.ClientIP(r), now, time.Minute); err != nil {
		if unavailable(err) {
			s.countError(ctx, "device_authorization", errUnavailable.ErrorField, c.GetID())
			s.writeUnavailable(w)
			return
		}
		s.deviceAuthError(w, r, fosite.ErrServerError.WithWrap(err))
		return
	} else if n > deviceAuthPerAddress {
		s.countError(ctx, "device_authorization", "slow_down", c.GetID())
		s.log.WarnContext(ctx, "device authorizations from one address above the limit", "client_id", c.GetID())
		setRetryAfter(w, time.Minute)
		oauthJSON.Error(w, http.StatusTooManyRequests, "slow_down", "Too many device authorization requests from this address; try again in a minute.")
		return
	}
	deviceCode := deviceCodePrefix + httpkit.RandomString(32)
	rec := storage.DeviceAuthorization{
		DeviceCodeHash: s.deviceHash(hashDeviceCode, deviceCode),
		RequestID:      httpkit.RandomString(16),
		ClientID:       c.GetID(),
		Scopes:         scopes,
		DeviceKind:     deviceKindOf(r.UserAgent()),
		CreatedAt:      now,
		ExpiresAt:      now.Add(DeviceCodeLifetime),
		Interval:       s.devicePollInterval(),
	}
	var userCode string
	for attempt := 1; ; attempt++ {
		// A user code already taken (one chance in 20^8 per pending code) is drawn again.
		userCode = newUserCode()
		rec.UserCodeHash = s.deviceHash(hashUserCode, userCode)
		err = s.store.CreateDeviceAuthorization(ctx, rec)
		if !errors.Is(err, storage.ErrConflict) || attempt == 5 {
			break
		}
	}
	if err != nil {
		if unavailable(err) {
			s.countError(ctx, "device_authorization", errUnavailable.ErrorField, c.GetID())
			s.writeUnavailable(w)
			return
		}
		s.deviceAuthError(w, r, fosite.ErrServerError.WithWrap(err).WithHint("The device authorization could not be stored."))
		return
	}
	s.appendAudit(ctx, storage.AuditEvent{Actor: c.GetID(), Action: "device.authorize", Subject: rec.RequestID,
		ClientID: c.GetID(), Detail: "kind=" + rec.DeviceKind + " scope=" + strings.Join(scopes, " ")})
	s.log.InfoContext(ctx, "device authorization", "client_id", c.GetID(), "request_id", rec.RequestID, "device_kind", rec.DeviceKind)
	shown := formatUserCode(userCode)
	oauthJSON.Write(w, http.StatusOK, deviceAuthResponse{
		DeviceCode:              deviceCode,
		UserCode:                shown,
		VerificationURI:         s.url(pathDevice),
		VerificationURIComplete: s.url(pathDevice) + "?" + url.Values{"user_code": {shown}}.Encode(),
		ExpiresIn:               int64(DeviceCodeLifetime / time.Second),
		Interval:                int64(rec.Interval / time.Second),
	})
}

// deviceAuthError answers a refused device authorization request (RFC 6749 §5.2 JSON), with
// WWW-Authenticate for invalid_client when the client tried HTTP Basic.
func (s *Server) deviceAuthError(w http.ResponseWriter, r *http.Request, err error) {
	rfc := fosite.ErrorToRFC6749Error(err)
	s.countError(r.Context(), "device_authorization", rfc.ErrorField, "")
	level := s.log.InfoContext
	if rfc.CodeField >= http.StatusInternalServerError {
		level = s.log.ErrorContext
	}
	cause := ""
	if c := rfc.Unwrap(); c != nil {
		cause = c.Error()
	}
	level(r.Context(), "device authorization error", "client_id", r.PostForm.Get("client_id"), "error", rfc.ErrorField,
		"hint", rfc.HintField, "cause", cause)
	if rfc.ErrorField == fosite.ErrInvalidClient.ErrorField {
		if _, _, basic := r.BasicAuth(); basic {
			w.Header().Set("WWW-Authenticate", `Basic realm="device_authorization"`)
		}
	}
	oauthJSON.Error(w, rfc.CodeField, rfc.ErrorField, rfc.GetDescription())
}

// Device kinds (storage.DeviceAuthorization.DeviceKind): a category the provider derives from
// the device's User-Agent, shown on the confirmation page. The device's own words are never
// shown, so a device cannot present itself as something official.
const (
	deviceKindTV       = "tv"
	deviceKindKiosk    = "kiosk"
	deviceKindPhone    = "phone"
	deviceKindComputer = "computer"
	deviceKindOther    = "other"
)

// deviceKindOf classifies a User-Agent header.
func deviceKindOf(ua string) string {
	u := strings.ToLower(ua)
	has := func(words ...string) bool {
		for _, w := range words {
			if strings.Contains(u, w) {
				return true
			}
		}
		return false
	}
	switch {
	case has("smart-tv", "smarttv", "smart tv", "googletv", "android tv", "appletv", "apple tv", "hbbtv", "tizen", "webos", "web0s",
		"bravia", "aftb", "aftm", "aftt", "crkey", "roku", "tv;", "tv)", "tvos"):
		return deviceKindTV
	case has("kiosk", "terminal", "自助"):
		return deviceKindKiosk
	case has("iphone", "ipad", "mobile", "android", "harmonyos"):
		return deviceKindPhone
	case has("windows", "macintosh", "x11", "cros", "linux"):
		return deviceKindComputer
	}
	return deviceKindOther
}

// csrfDevice is the CSRF purpose of the user-code page's forms.
const csrfDevice = "device"

// devicePage is what the user-code page sees (pageData.Device).
type devicePage struct {
	// Step is "enter" (type the user code), "confirm" (approve or deny) or "done".
	Step string
	// UserCode is the code as shown (XXXX-XXXX) on the confirm step, what was typed on the
	// enter step after a mistake.
	UserCode string
	App      string // the client's display name
	Kind     string // the device kind, in the page language
	Started  string // when the device asked, in China Standard Time
	Approved bool   // the done step: approved or denied
	Account  string // the account page (the way back)
}

// Message keys of the user-code page.
const (
	msgDeviceCodeFormat = "deviceErrFormat"
	msgDeviceCodeWrong  = "deviceErrWrong"
	msgDeviceTooMany    = "deviceErrTooMany"
	msgDeviceExpired    = "deviceErrExpired"
	msgDeviceUsed       = "deviceErrUsed"
)

// routesDevice adds the routes of the device authorization grant.
func (s *Server) routesDevice(handle func(method, path string, h http.HandlerFunc)) {
	handle("POST", pathDeviceAuthorization, cors(s.handleDeviceAuthorization))
	handle("OPTIONS", pathDeviceAuthorization, preflight)
	handle("GET", pathDevice, s.handleDevicePage)
	handle("POST", pathDevice, s.handleDevice)
}

// devicePageData fills the page for step.
func (s *Server) devicePageData(w http.ResponseWriter, r *http.Request, lang, step string, switchQuery url.Values) pageData {
	d := s.newPage(r, lang, pathDevice, switchQuery)
	d.CSRF = s.csrf.CookieToken(w, r, csrfDevice)
	d.Device = &devicePage{Step: step, Account: s.accountURL(lang)}
	return d
}

// renderDeviceEnter shows the enter step with an error message (msg "" for none).
func (s *Server) renderDeviceEnter(w http.ResponseWriter, r *http.Request, lang string, status int, typed, msg string) {
	d := s.devicePageData(w, r, lang, "enter", url.Values{})
	d.Device.UserCode = typed
	if msg != "" {
		d.Error = d.T[msg]
	}
	s.render(w, status, s.pages.page("device.html"), d)
}

// handleDevicePage shows the user-code page (GET /device[?user_code=XXXX-XXXX]) to a logged-in
// person; a browser without a session logs in first and comes back here with the same code.
// Without user_code it asks for the code; with one (typed into the URL, or from the QR of
// verification_uri_complete) it looks the code up as a posted one would be (lookupUserCode)
// and shows the confirmation.
func (s *Server) handleDevicePage(w http.ResponseWriter, r *http.Request) {
	ls, _, ok := s.accountSession(w, r, false)
	if !ok {
		return
	}
	lang := pickLang(r.URL.Query().Get("ui_locales"))
	code := r.URL.Query().Get("user_code")
	if code == "" {
		s.renderDeviceEnter(w, r, lang, http.StatusOK, "", "")
		return
	}
	rec, norm, ok := s.lookupUserCode(w, r, ls, lang, code)
	if !ok {
		return
	}
	s.renderDeviceConfirm(w, r, lang, rec, norm, "")
}

// handleDevice takes the user-code page's forms (POST /device, CSRF purpose "device"): the
// code (user_code), then the decision (user_code and decision=allow|deny). Each decision is
// single use: the authorization leaves the pending state in one conditional UPDATE, so a
// second submission — the other button, another tab, another person — is refused. "allow"
// records the approving login (person, auth_time, acr, amr) for the tokens and remembers the
// consent as the consent page does; both decisions are audited (device.approve, device.deny).
func (s *Server) handleDevice(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, http.StatusBadRequest, r.URL.Query().Get("ui_locales"), msgBadRequest)
		return
	}
	lang := pickLang(firstNonEmpty(r.PostForm.Get("ui_locales"), r.URL.Query().Get("ui_locales")))
	code := strings.TrimSpace(r.PostForm.Get("user_code"))
	if ls, err := s.loginSession(ctx, r); err == nil && ls == nil {
		// The session ended while the page was open: log in again and come back to the code.
		next := s.localPath(pathDevice)
		if norm, ok := normalizeUserCode(code); ok {
			next += "?" + url.Values{"user_code": {formatUserCode(norm)}}.Encode()
		}
		s.loginFor(w, r, next, lang, loginNeed{})
		return
	}
	ls, p, ok := s.accountSession(w, r, false)
	if !ok {
		return
	}
	if !s.csrf.CheckCookie(r, csrfDevice) {
		s.log.InfoContext(ctx, "device page refused: CSRF token missing or wrong", "person_id", p.ID)
		s.renderDeviceEnter(w, r, lang, http.StatusForbidden, "", msgCSRF)
		return
	}
	rec, norm, ok := s.lookupUserCode(w, r, ls, lang, code)
	if !ok {
		return
	}
	decision := r.PostForm.Get("decision")
	if decision != "allow" && decision != "deny" {
		s.renderDeviceConfirm(w, r, lang, rec, norm, "")
		return
	}
	now := s.now()
	err := s.store.DecideDeviceAuthorization(ctx, s.deviceHash(hashUserCode, norm), storage.DeviceDecision{
		Approve: decision == "allow", PersonID: ls.PersonID, AuthTime: ls.AuthTime, ACR: ls.ACR, AMR: ls.AMR, At: now,
	})
	switch {
	case errors.Is(err, storage.ErrAlreadyUsed):
		s.log.InfoContext(ctx, "device code decided twice", "client_id", rec.ClientID, "person_id", ls.PersonID)
		s.renderDeviceEnter(w, r, lang, http.StatusConflict, "", msgDeviceUsed)
		return
	case errors.Is(err, storage.ErrExpired) || errors.Is(err, storage.ErrNotFound):
		s.renderDeviceEnter(w, r, lang, http.StatusGone, "", msgDeviceExpired)
		return
	case err != nil:
		s.pageError(ctx, w, r, lang, "record device decision", err)
		return
	}
	d := s.devicePageData(w, r, lang, "done", nil)
	d.Device.Approved = decision == "allow"
	if !d.Device.Approved {
		s.appendAudit(ctx, storage.AuditEvent{Actor: ls.PersonID, Action: "device.deny", Subject: rec.RequestID, ClientID: rec.ClientID})
		s.log.InfoContext(ctx, "device authorization denied", "client_id", rec.ClientID, "person_id", ls.PersonID)
		s.render(w, http.StatusOK, s.pages.page("device.html"), d)
		return
	}
	s.appendAudit(ctx, storage.AuditEvent{Actor: ls.PersonID, Action: "device.approve", Subject: rec.RequestID,
		ClientID: rec.ClientID, Detail: ls.ACR + " " + strings.Join(rec.Scopes, " ")})
	s.log.InfoContext(ctx, "device authorization approved", "client_id", rec.ClientID, "person_id", ls.PersonID, "acr", ls.ACR)
	s.countSignIn(rec.ClientID)
	s.rememberDeviceConsent(ctx, ls.PersonID, rec)
	s.render(w, http.StatusOK, s.pages.page("device.html"), d)
}

// rememberDeviceConsent merges the approved scopes into the person's consent for the client
// (storage.Consents, as the consent page does), so it is listed — and can be withdrawn — with
// the person's other consents. A failure is logged: the approval stands.
func (s *Server) rememberDeviceConsent(ctx context.Context, personID string, rec storage.DeviceAuthorization) {
	scopes := slices.Clone(rec.Scopes)
	if old, err := s.store.GetConsent(ctx, personID, rec.ClientID); err == nil {
		for _, sc := range old.Scopes {
			if !slices.Contains(scopes, sc) {
				scopes = append(scopes, sc)
			}
		}
	}
	slices.Sort(scopes)
	if err := s.store.SaveConsent(ctx, storage.Consent{PersonID: personID, ClientID: rec.ClientID, Scopes: scopes, GrantedAt: s.now()}); err != nil {
		s.logFailure(ctx, "save device consent", err, "client_id", rec.ClientID)
		return
	}
	s.appendAudit(ctx, storage.AuditEvent{Actor: personID, Action: "consent.grant", Subject: personID,
		ClientID: rec.ClientID, Detail: strings.Join(scopes, " ")})
}

// lookupUserCode finds the pending authorization of a typed user code for the person of ls.
// A code of the wrong shape is refused without counting; a well-formed code that matches
// nothing is a guess and counts against the person and the address (userCodeGuard), and so is
// refused — before any lookup — once either limit is reached. An expired or already decided
// code gets its own message. On failure it has answered and returns ok false.
func (s *Server) lookupUserCode(w http.ResponseWriter, r *http.Request, ls *storage.LoginSession, lang, code string) (rec storage.DeviceAuthorization, norm string, ok bool) {
	ctx := r.Context()
	guard := s.userCodeGuard()
	ip := s.cfg.ClientIP(r)
	locked, err := guard.Locked(ctx, ls.PersonID, ip)
	if err != nil {
		s.pageError(ctx, w, r, lang, "read user-code failures", err)
		return rec, "", false
	}
	if locked {
		s.log.InfoContext(ctx, "user code refused: too many wrong codes", "person_id", ls.PersonID)
		setRetryAfter(w, userCodeWindow)
		s.renderDeviceEnter(w, r, lang, http.StatusTooManyRequests, "", msgDeviceTooMany)
		return rec, "", false
	}
	norm, valid := normalizeUserCode(code)
	if !valid {
		s.renderDeviceEnter(w, r, lang, http.StatusBadRequest, truncateRunes(code, 20), msgDeviceCodeFormat)
		return rec, "", false
	}
	rec, err = s.store.GetDeviceAuthorizationByUserCode(ctx, s.deviceHash(hashUserCode, norm))
	switch {
	case errors.Is(err, storage.ErrNotFound):
		locked, gerr := guard.Failed(ctx, ls.PersonID, ip)
		if gerr != nil {
			s.logFailure(ctx, "count user-code failure", gerr)
		}
		s.appendAudit(ctx, storage.AuditEvent{Actor: ls.PersonID, Action: "device.user_code_wrong", Subject: ls.PersonID})
		s.log.InfoContext(ctx, "wrong user code", "person_id", ls.PersonID, "locked", locked)
		if locked {
			s.appendAudit(ctx, storage.AuditEvent{Actor: ls.PersonID, Action: "device.user_code_locked", Subject: ls.PersonID})
			s.log.WarnContext(ctx, "user-code guessing limit reached", "person_id", ls.PersonID)
			setRetryAfter(w, userCodeWindow)
			s.renderDeviceEnter(w, r, lang, http.StatusTooManyRequests, "", msgDeviceTooMany)
			return rec, "", false
		}
		s.renderDeviceEnter(w, r, lang, http.StatusBadRequest, formatUserCode(norm), msgDeviceCodeWrong)
		return rec, "", false
	case err != nil:
		s.pageError(ctx, w, r, lang, "read device authorization", err)
		return rec, "", false
	case !s.now().Before(rec.ExpiresAt):
		s.renderDeviceEnter(w, r, lang, http.StatusGone, "", msgDeviceExpired)
		return rec, "", false
	case rec.Status != storage.DevicePending:
		s.renderDeviceEnter(w, r, lang, http.StatusConflict, "", msgDeviceUsed)
		return rec, "", false
	}
	return rec, norm, true
}

// renderDeviceConfirm shows the confirmation of a pending authorization: the app, the kind of
// device, the scopes, when the device asked, and the code to compare with the device's screen
// (RFC 8628 §5.4: the person must be able to tell a device they hold from a remote attacker's).
func (s *Server) renderDeviceConfirm(w http.ResponseWriter, r *http.Request, lang string, rec storage.DeviceAuthorization, norm, msg string) {
	shown := formatUserCode(norm)
	d := s.devicePageData(w, r, lang, "confirm", url.Values{"user_code": {shown}})
	d.Device.UserCode = shown
	d.Device.App = rec.ClientID
	if c, err := s.clients.Get(r.Context(), rec.ClientID); err == nil {
		d.Device.App = c.DisplayName()
	}
	d.Device.Kind = d.T["deviceKind_"+rec.DeviceKind]
	if d.Device.Kind == "" {
		d.Device.Kind = d.T["deviceKind_"+deviceKindOther]
	}
	d.Device.Started = rec.CreatedAt.In(pageZone).Format("2006-01-02 15:04:05")
	for _, sc := range rec.Scopes {
		d.Scopes = append(d.Scopes, scopeText(lang, sc))
	}
	if msg != "" {
		d.Error = d.T[msg]
	}
	s.render(w, http.StatusOK, s.pages.page("device.html"), d)
}

// truncateRunes returns s cut to at most n runes.
func truncateRunes(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i]
		}
		n--
	}
	return s
}

// userCodeGuard limits the guessing of user codes on the device page: wrong codes count per
// person (over all their sessions) and per client address. It is the seam for the lockout of
// package accounts (issue 10 item 5, being reworked): Server.userCodeGuard returns the
// implementation in use.
type userCodeGuard interface {
	// Locked reports whether the person or the address has reached its limit.
	Locked(ctx context.Context, personID, ip string) (bool, error)
	// Failed counts a wrong code for both and reports whether either limit is now reached.
	Failed(ctx context.Context, personID, ip string) (bool, error)
}

// Limits of throttleGuard: 20^8 user codes against at most this many guesses per window.
const (
	userCodePersonLimit = 5
	userCodeIPLimit     = 20
	userCodeWindow      = 15 * time.Minute
)

// userCodeGuard returns the guard of the device page: throttleGuard over the store's
// storage.Throttle. (Hook: the reworked account lockout may supply its own here.)
func (s *Server) userCodeGuard() userCodeGuard {
	return throttleGuard{t: s.store, now: s.now}
}

// throttleGuard counts wrong user codes in storage.Throttle under keys of its own
// ("device-user-code:person:<person ID>", "device-user-code:ip:<address>"): at most
// userCodePersonLimit per person and userCodeIPLimit per address in userCodeWindow (sliding).
// The counters are in the database, so the limits hold across replicas.
type throttleGuard struct {
	t   storage.Throttle
	now func() time.Time
}

func (g throttleGuard) keys(personID, ip string) (string, string) {
	return "device-user-code:person:" + personID, "device-user-code:ip:" + ip
}

func (g throttleGuard) Locked(ctx context.Context, personID, ip string) (bool, error) {
	pk, ik := g.keys(personID, ip)
	now := g.now()
	n, err := g.t.CountFailures(ctx, pk, now, userCodeWindow)
	if err != nil || n >= userCodePersonLimit {
		return err == nil, err
	}
	n, err = g.t.CountFailures(ctx, ik, now, userCodeWindow)
	return err == nil && n >= userCodeIPLimit, err
}

func (g throttleGuard) Failed(ctx context.Context, personID, ip string) (bool, error) {
	pk, ik := g.keys(personID, ip)
	now := g.now()
	np, err1 := g.t.AddFailure(ctx, pk, now, userCodeWindow)
	ni, err2 := g.t.AddFailure(ctx, ik, now, userCodeWindow)
	if err := errors.Join(err1, err2); err != nil {
		return false, err
	}
	return np >= userCodePersonLimit || ni >= userCodeIPLimit, nil
}

func init() {
	addMessages(map[string]map[string]string{
		langZH: {
			"deviceHeading":        "连接设备",
			"deviceEnterHelp":      "请输入电视或自助终端屏幕上显示的 8 位代码。",
			"deviceCodeLabel":      "设备代码",
			"deviceContinue":       "继续",
			"deviceConfirmHeading": "确认设备登录",
			"deviceAsks1":          "",
			"deviceAsks2":          "正在",
			"deviceAsks3":          "上请求登录您的账户，并获取以下信息：",
			"deviceShownCode":      "设备屏幕上显示的代码",
			"deviceCompare":        "请核对此代码与您面前设备上显示的完全一致。如果不是您本人正在操作的设备，请点击“拒绝”。",
			"deviceStarted":        "请求时间（北京时间）：",
			"deviceConsentHelp":    "同意后，您的授权将被记住，可随时在“我的账户”中撤回。",
			"deviceApprovedTitle":  "设备已登录",
			"deviceApprovedText":   "请回到设备继续操作，设备将在几秒钟内完成登录。",
			"deviceDeniedTitle":    "已拒绝",
			"deviceDeniedText":     "该设备未获得授权，不能使用您的账户。",
			"deviceBack":           "返回我的账户",
			"deviceKind_tv":        "电视",
			"deviceKind_kiosk":     "自助终端",
			"deviceKind_phone":     "手机",
			"deviceKind_computer":  "电脑",
			"deviceKind_other":     "设备",
			msgDeviceCodeFormat:    "代码格式不正确：应为 8 个字母，例如 BCDF-GHJK。",
			msgDeviceCodeWrong:     "代码不正确，请核对设备屏幕上的代码后重新输入。",
			msgDeviceTooMany:       "输入错误次数过多，请 15 分钟后再试。",
			msgDeviceExpired:       "该代码已过期，请在设备上重新开始登录。",
			msgDeviceUsed:          "该代码已被使用，请在设备上重新开始登录。",
		},
		langEN: {
			"deviceHeading":        "Connect a device",
			"deviceEnterHelp":      "Enter the 8-letter code shown on the TV or self-service terminal.",
			"deviceCodeLabel":      "Device code",
			"deviceContinue":       "Continue",
			"deviceConfirmHeading": "Confirm the device sign-in",
			"deviceAsks1":          "",
			"deviceAsks2":          " on ",
			"deviceAsks3":          " asks to sign in to your account and for the following:",
			"deviceShownCode":      "Code shown on the device",
			"deviceCompare":        "Check that this code is exactly the one on the device in front of you. If you are not using that device yourself, choose Deny.",
			"deviceStarted":        "Requested at (Beijing time): ",
			"deviceConsentHelp":    "If you allow, your choice is remembered; you can withdraw it at any time under My account.",
			"deviceApprovedTitle":  "The device is signed in",
			"deviceApprovedText":   "Go back to the device: it completes the sign-in within a few seconds.",
			"deviceDeniedTitle":    "Denied",
			"deviceDeniedText":     "The device was not allowed to use your account.",
			"deviceBack":           "Back to My account",
			"deviceKind_tv":        "a TV",
			"deviceKind_kiosk":     "a self-service terminal",
			"deviceKind_phone":     "a phone",
			"deviceKind_computer":  "a computer",
			"deviceKind_other":     "a device",
			msgDeviceCodeFormat:    "The code should be 8 letters, such as BCDF-GHJK.",
			msgDeviceCodeWrong:     "That code is not right. Check the code on the device and enter it again.",
			msgDeviceTooMany:       "Too many wrong codes. Try again in 15 minutes.",
			msgDeviceExpired:       "This code has expired. Start the sign-in again on the device.",
			msgDeviceUsed:          "This code has already been used. Start the sign-in again on the device.",
		},
	})
}
