package oidc

import (
	"context"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/tongban/tongban/idnumber"
	"github.com/tongban/tongban/sm-crypto"
	"github.com/tongban/tongban/storage"
)

// pendingForm decodes the pending request of a login or consent page and the original
// authorization parameters it carries.
func (s *Server) pendingForm(v string) (pendingAuth, url.Values, error) {
	p, err := s.decodePending(v)
	if err != nil {
		return p, nil, err
	}
	q, err := url.ParseQuery(p.Query)
	if err != nil {
		return p, nil, errInvalidAuthRequest
	}
	return p, q, nil
}

// postedForm is a submitted login or consent form with its pending request.
type postedForm struct {
	authz string      // the pending request as posted
	p     pendingAuth // authz decoded
	q     url.Values  // the original authorization parameters
	lang  string      // the language to answer in
}

// readPostedForm parses a posted login or consent form and decodes its pending request. When
// either is unreadable, or the request has expired, it has answered with an error page and
// returns false.
func (s *Server) readPostedForm(w http.ResponseWriter, r *http.Request) (postedForm, bool) {
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, http.StatusBadRequest, "", msgBadRequest)
		return postedForm{}, false
	}
	f := postedForm{authz: r.PostForm.Get("authz")}
	var err error
	f.p, f.q, err = s.pendingForm(f.authz)
	f.lang = pickLang(firstNonEmpty(r.PostForm.Get("ui_locales"), f.q.Get("ui_locales")))
	if err != nil {
		s.renderError(w, r, http.StatusBadRequest, f.lang, msgRequestExpired)
		return postedForm{}, false
	}
	return f, true
}

// useOnce marks the form as used (storage.Nonces namespace ns, see useForm). A form submitted
// a second time gets the expired-request page and false.
func (s *Server) useOnce(w http.ResponseWriter, r *http.Request, f postedForm, ns string) bool {
	if s.useForm(r.Context(), ns, f.authz, f.p) {
		return true
	}
	s.log.InfoContext(r.Context(), strings.TrimSuffix(ns, "-form")+" form submitted twice", "client_id", f.q.Get("client_id"))
	s.renderError(w, r, http.StatusBadRequest, f.lang, msgRequestExpired)
	return false
}

// loginPage fills the login page for a pending request.
func (s *Server) loginPage(ctx context.Context, w http.ResponseWriter, r *http.Request, authz string, q url.Values, lang string) pageData {
	d := s.newPage(lang, pathLogin, url.Values{"authz": {authz}})
	d.Authz = authz
	d.CSRF = s.csrfToken(w, r, "login")
	if c, err := s.clients.get(ctx, q.Get("client_id")); err == nil {
		d.ClientName = c.displayName()
	}
	// login_hint (OIDC Core §3.1.2.1) pre-fills the identifier when it has its shape.
	if hint := q.Get("login_hint"); hint != "" {
		if _, kind := normalizeIdentifier(hint); kind != identUnknown {
			d.LoginHint = hint
		}
	}
	values, _ := acrRequest(q.Get("acr_values"), mustClaims(q.Get("claims")))
	d.NeedOTP = requiredACRLevel(values) >= acrLevel(ACRMultiFactor)
	return d
}

func mustClaims(s string) *claimsRequest {
	cr, _ := parseClaimsRequest(s)
	return cr
}

// handleLoginPage shows the login form (GET /login?authz=…[&ui_locales=en]).
func (s *Server) handleLoginPage(w http.ResponseWriter, r *http.Request) {
	authz := r.URL.Query().Get("authz")
	_, q, err := s.pendingForm(authz)
	if err != nil {
		s.renderError(w, r, http.StatusBadRequest, r.URL.Query().Get("ui_locales"), msgRequestExpired)
		return
	}
	p, _ := s.decodePending(authz)
	lang := pickLang(firstNonEmpty(r.URL.Query().Get("ui_locales"), p.Lang, q.Get("ui_locales")))
	s.render(w, http.StatusOK, s.pages.login, s.loginPage(r.Context(), w, r, authz, q, lang))
}

// handleLogin checks the posted credentials (POST /login). On success it starts the SSO
// session and answers 303 to the pending authorization request; on failure it shows the form
// again with one message for an unknown identifier and a wrong password alike.
func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	f, ok := s.readPostedForm(w, r)
	if !ok {
		return
	}
	authz, p, q, lang := f.authz, f.p, f.q, f.lang
	if !s.checkCSRF(r, "login") {
		s.metrics.logins.WithLabelValues("csrf").Inc()
		s.log.InfoContext(ctx, "login refused: CSRF token missing or wrong", "client_id", q.Get("client_id"))
		d := s.loginPage(ctx, w, r, authz, q, lang)
		d.Error = d.T[msgCSRF]
		s.render(w, http.StatusForbidden, s.pages.login, d)
		return
	}
	if !s.useOnce(w, r, f, "login-form") {
		return
	}
	// A form shown again (after a failure) gets a fresh token: each submission is single-use.
	d := s.loginPage(ctx, w, r, s.encodePending(p), q, lang)
	person, amr, err := s.checkCredentials(ctx, s.cfg.ClientIP(r), r.PostForm.Get("identifier"),
		[]byte(r.PostForm.Get("password")), strings.TrimSpace(r.PostForm.Get("otp")), d.NeedOTP)
	switch {
	case errors.Is(err, errLoginLocked):
		s.metrics.logins.WithLabelValues("locked").Inc()
		d.Error = d.T[msgLocked]
		s.render(w, http.StatusTooManyRequests, s.pages.login, d)
		return
	case errors.Is(err, errLoginFailed):
		s.metrics.logins.WithLabelValues("failure").Inc()
		d.Error = d.T[msgLoginFailed]
		s.render(w, http.StatusUnauthorized, s.pages.login, d)
		return
	case err != nil:
		s.log.ErrorContext(ctx, "login", "client_id", q.Get("client_id"), "err", err)
		d.Error = d.T[msgServer]
		s.render(w, http.StatusInternalServerError, s.pages.login, d)
		return
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	acr := ACRPassword
	if len(amr) > 1 {
		acr = ACRMultiFactor
	}
	if _, err := s.endSession(ctx, w, r); err != nil {
		s.log.ErrorContext(ctx, "end previous session", "err", err)
	}
	if err := s.startSession(ctx, w, storage.LoginSession{
		PersonID: person.ID, AuthTime: now, ACR: acr, AMR: amr,
		CreatedAt: now, ExpiresAt: now.Add(s.cfg.SessionLifetime),
	}); err != nil {
		s.log.ErrorContext(ctx, "start session", "err", err)
		d.Error = d.T[msgServer]
		s.render(w, http.StatusInternalServerError, s.pages.login, d)
		return
	}
	s.metrics.logins.WithLabelValues("success").Inc()
	s.log.InfoContext(ctx, "login", "person_id", person.ID, "client_id", q.Get("client_id"), "acr", acr)
	s.appendAudit(ctx, storage.AuditEvent{Actor: person.ID, Action: "login.success", Subject: person.ID,
		ClientID: q.Get("client_id"), Detail: acr})
	p.Expires = s.now().Add(s.cfg.AuthRequestLifetime).UnixMicro()
	p.Lang = lang
	p.Consent = "" // a consent given before this login was another session's (or person's)
	http.Redirect(w, r, s.localPath(pathResume)+"?authz="+url.QueryEscape(s.encodePending(p)), http.StatusSeeOther)
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

var (
	errLoginFailed = errors.New("oidc: login failed")
	errLoginLocked = errors.New("oidc: login locked")
)

type identKind int

const (
	identUnknown identKind = iota
	identNumber            // resident ID number or unified social credit code
	identPhone
)

// normalizeIdentifier returns the canonical form of a login identifier and its kind: an ID
// number or credit code in upper case, or an 11-digit mobile number without prefix. The
// canonical form is what the blind indexes are computed over.
func normalizeIdentifier(s string) (string, identKind) {
	s = strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '\t' {
			return -1
		}
		return r
	}, s)
	if n := idnumber.NormalizeResidentID(s); idnumber.ValidateResidentID(n) == nil {
		return n, identNumber
	}
	if n := idnumber.NormalizeCreditCode(s); idnumber.ValidateCreditCode(n) == nil {
		return n, identNumber
	}
	up := strings.ToUpper(s)
	if p, ok := normalizePhone(s); ok {
		return p, identPhone
	}
	return up, identUnknown
}

// normalizePhone accepts a mainland mobile number with an optional +86 / 0086 / 86 prefix and
// returns its 11 digits.
func normalizePhone(s string) (string, bool) {
	s = strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, s)
	for _, p := range []string{"+86", "0086"} {
		s = strings.TrimPrefix(s, p)
	}
	if len(s) == 13 && strings.HasPrefix(s, "86") {
		s = s[2:]
	}
	if len(s) != 11 || s[0] != '1' {
		return "", false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return "", false
		}
	}
	return s, true
}

// checkCredentials authenticates a person by identifier and password (and a TOTP code when
// wantMFA and the person has one), with the lockouts of Config:
//
//   - every attempt counts against the account key — the person ("login-person:"+ID) when
//     the identifier resolves to one, whichever identifier was typed, else the blind index of
//     the identifier, so unknown identifiers are throttled exactly like known ones — and a
//     success clears it;
//     past AccountLockThreshold within AccountLockWindow attempts are refused (errLoginLocked)
//     before any password work;
//   - failures count against the client IP (in storage.Throttle, so every replica sees
//     them); at IPLockThreshold within IPLockWindow the IP is refused before any work.
//   - an unknown identifier, a disabled person or one without a password costs the same
//     password check (against a dummy hash made with Config.PasswordParams) and gives the
//     same errLoginFailed as a wrong password (no user enumeration).
//
// It returns the person and the authentication methods (amr, RFC 8176): ["pwd"] or
// ["pwd","otp"].
func (s *Server) checkCredentials(ctx context.Context, ip, identifier string, password []byte, otp string, wantMFA bool) (storage.Person, []string, error) {
	now := s.now()
	if m, err := s.store.CountFailures(ctx, "login-ip:"+ip, now, s.cfg.IPLockWindow); err != nil {
		return storage.Person{}, nil, err
	} else if m >= s.cfg.IPLockThreshold {
		s.log.InfoContext(ctx, "login refused: client IP locked", "failures", m)
		return storage.Person{}, nil, errLoginLocked
	}
	// Look the person up first (a cheap indexed read), so the account counter is keyed by
	// the person whatever identifier was typed (ID number or phone): otherwise the lock of
	// one identifier could be bypassed with the other. Unknown identifiers are keyed by their
	// blind index and throttled exactly the same way.
	norm, kind := normalizeIdentifier(identifier)
	var p storage.Person
	var err error
	found, known := false, false
	switch kind {
	case identNumber:
		p, err = s.store.GetPersonByIDNumberIndex(ctx, s.kr.BlindIndex(norm))
	case identPhone:
		p, err = s.store.GetPersonByPhoneIndex(ctx, s.kr.BlindIndex(norm))
	default:
		err = storage.ErrNotFound
	}
	switch {
	case err == nil:
		known = true
		found = !p.Disabled && p.PasswordHash != ""
	case !errors.Is(err, storage.ErrNotFound):
		return storage.Person{}, nil, err
	}
	acctKey := "login:" + hex.EncodeToString(s.kr.BlindIndex(norm))
	if known {
		acctKey = "login-person:" + p.ID
	}
	n, err := s.store.AddFailure(ctx, acctKey, now, s.cfg.AccountLockWindow)
	if err != nil {
		return storage.Person{}, nil, err
	}
	if n > s.cfg.AccountLockThreshold {
		if known {
			s.log.InfoContext(ctx, "login refused: account locked", "person_id", p.ID, "attempts", n)
		} else {
			s.log.InfoContext(ctx, "login refused: account locked", "attempts", n)
		}
		return storage.Person{}, nil, errLoginLocked
	}
	hash := s.dummyHash
	if found {
		hash = p.PasswordHash
	}
	perr := smcrypto.CheckPassword(hash, password)
	if found && errors.Is(perr, smcrypto.ErrPasswordParams) {
		// An imported or tampered hash above smcrypto.MaxPasswordIterations: refused unchecked.
		s.log.ErrorContext(ctx, "stored password hash refused", "person_id", p.ID, "err", perr)
	}
	ok := perr == nil && found
	amr := []string{"pwd"}
	if ok && wantMFA && p.OTPSecretSealed != nil {
		ok = s.checkTOTP(ctx, p, otp, now)
		amr = append(amr, "otp")
	}
	if !ok {
		reason := "unknown_user"
		if found {
			reason = "bad_credentials"
		}
		s.log.InfoContext(ctx, "login failed", "reason", reason)
		if _, err := s.store.AddFailure(ctx, "login-ip:"+ip, now, s.cfg.IPLockWindow); err != nil {
			s.log.ErrorContext(ctx, "record login failure", "err", err)
		}
		if found {
			s.appendAudit(ctx, storage.AuditEvent{Actor: p.ID, Action: "login.failure", Subject: p.ID, Detail: reason})
		}
		return storage.Person{}, nil, errLoginFailed
	}
	if err := s.store.ClearFailures(ctx, acctKey); err != nil {
		s.log.ErrorContext(ctx, "clear login failures", "err", err)
	}
	if smcrypto.NeedsRehash(p.PasswordHash, s.cfg.PasswordParams) {
		if h, err := smcrypto.HashPassword(password, s.cfg.PasswordParams); err == nil {
			err = s.store.UpdatePerson(ctx, p.ID, func(q *storage.Person) error {
				q.PasswordHash, q.UpdatedAt = h, now
				return nil
			})
			if err != nil {
				s.log.ErrorContext(ctx, "re-hash password", "person_id", p.ID, "err", err)
			}
		}
	}
	return p, amr, nil
}

// checkTOTP validates a 6-digit RFC 6238 code (30-second steps, ±1 step) and records the time
// step it matched as used (storage.Nonces, person ID ‖ step), so a step's code can log in once.
func (s *Server) checkTOTP(ctx context.Context, p storage.Person, code string, now time.Time) bool {
	if len(code) != 6 {
		return false
	}
	secret, err := s.kr.OpenField(p.OTPSecretSealed, personAAD(p.ID, sealOTP))
	if err != nil {
		s.log.ErrorContext(ctx, "open TOTP secret", "person_id", p.ID, "err", err)
		return false
	}
	// Check the steps of the window one by one (current first) so the nonce names the time
	// step the code matched: the same 6 digits can be the valid code of a later step too, and
	// must then be accepted again. A step's code logs in once.
	opts := totpOpts
	opts.Skew = 0
	period := time.Duration(totpOpts.Period) * time.Second
	for _, d := range totpSteps {
		t := now.Add(time.Duration(d) * period)
		if ok, err := totp.ValidateCustom(code, string(secret), t, opts); err != nil || !ok {
			continue
		}
		step := t.Unix() / int64(totpOpts.Period)
		err := s.store.UseNonce(ctx, "totp", p.ID+":"+strconv.FormatInt(step, 10), now.Add(2*time.Minute))
		if err == nil {
			return true
		}
		if !errors.Is(err, storage.ErrAlreadyUsed) {
			s.log.ErrorContext(ctx, "record TOTP use", "person_id", p.ID, "err", err)
			return false
		}
	}
	return false
}

// totpSteps are the time steps, relative to now, a TOTP code may belong to (totpOpts.Skew).
var totpSteps = []int{0, -1, 1}

// appendAudit appends an audit event, stamping the time; failures are logged.
func (s *Server) appendAudit(ctx context.Context, e storage.AuditEvent) {
	e.Time = s.now()
	if _, err := s.store.AppendAudit(ctx, e); err != nil {
		s.log.ErrorContext(ctx, "audit append failed", "action", e.Action, "err", err)
	}
}
