package oidc

import (
	"cmp"
	"crypto/hmac"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	qrcode "github.com/skip2/go-qrcode"

	"github.com/tongban/tongban/internal/httpkit"
	smcrypto "github.com/tongban/tongban/sm-crypto"
	"github.com/tongban/tongban/storage"
)

// Scan-to-login (扫码登录): the login page on a computer shows a QR code of
// {issuer}/scan?c=<code>; a phone whose browser is logged in to the provider (the wallet logs in
// through it) opens that URL, sees which app is asking, when the code was made and from which
// browser, and confirms; the computer's page, which long-polls the state, then finishes the
// login and continues the pending authorization request. The threat analysis (QRLjacking,
// relays, replays) is docs/design/scan-to-login.md.
//
// The code is base64url(id ‖ exp ‖ mac): id 16 random bytes (storage.ScanLogin.ID), exp the
// expiry in Unix seconds (4 bytes, big-endian), mac the first 16 bytes of HMAC-SM3(scan key,
// "tongban/scan-code" ‖ 0 ‖ id ‖ exp), so a forged, altered or expired code is refused before
// storage is read. The code is not a secret (anyone near the screen sees it): finishing needs
// the binding secret of the browser that showed it (cookie tb_scan, stored as its HMAC-SM3).
const (
	pathScanConfirm = "/scan"        // GET ?c=: the phone's confirmation page; POST: its decision
	pathScanStart   = "/scan/start"  // POST authz, csrf: a new code for the login page (JSON)
	pathScanStatus  = "/scan/status" // GET ?c=&s=: the state, held up to scanPollHold while it is s (JSON)
	pathScanFinish  = "/scan/finish" // POST c, csrf: start the session, answer where to go (JSON)
)

const (
	// scanLifetime is how long a code can be scanned, confirmed and finished.
	scanLifetime = 120 * time.Second
	// scanPollHold is the longest a status request is held open (below the server's
	// 30-second write timeout).
	scanPollHold = 25 * time.Second
	// scanPollStorage is how often a held status request reads storage, which sees
	// approvals made on another replica; approvals on this one wake it at once (scanHub).
	scanPollStorage = 200 * time.Millisecond
	scanCookieName  = "tb_scan" // the browser-binding secret
	// scanCSRF is the CSRF purpose of the computer's start and finish requests: the login
	// form's, since they are made from the login page (a second CookieToken call on a
	// request without the CSRF cookie would set a second secret).
	scanCSRF    = "login"
	scanIDLen   = 16
	scanMACLen  = 16
	scanCodeLen = scanIDLen + 4 + scanMACLen
	// amrScan is the RFC 8176 §2 method added to the phone session's methods for the
	// computer's session: "mca", multiple-channel authentication — the login involved a
	// second channel (the phone's own session) besides the computer's browser.
	amrScan = "mca"
)

// Errors of a scan code, each with its own page message.
var (
	errScanMalformed = errors.New("oidc: scan code malformed")
	errScanForged    = errors.New("oidc: scan code MAC does not verify")
	errScanExpired   = errors.New("oidc: scan code expired")
)

// scanPage is what the pages see of scan-to-login (pageData.Scan): the login page's section
// (the computer), or Confirm on the phone's page.
type scanPage struct {
	Start, Status, Finish string // endpoint paths
	CSRF                  string // the login form's token (purpose scanCSRF)
	Confirm               *scanConfirm
}

// scanConfirm is what the phone's confirmation page (scan.html) sees.
type scanConfirm struct {
	Code       string
	App        string // the client's display name ("" for the account pages)
	Created    string // when the code was made, Beijing time
	AgeSecs    int64  // how long ago
	Browser    string // the requesting browser, coarse
	Who        string // the masked ID number of the phone's person
	Done       string // after a decision: its message ("" = show the form)
	Error      string // a refusal's message
	AccountURL string
}

// scanHub wakes the status requests of one replica waiting on a code when it changes here.
type scanHub struct {
	mu      sync.Mutex
	waiters map[string][]chan struct{}
}

// wait returns a channel closed at the next wake(id), and a function to stop waiting.
func (h *scanHub) wait(id string) (<-chan struct{}, func()) {
	ch := make(chan struct{})
	h.mu.Lock()
	if h.waiters == nil {
		h.waiters = map[string][]chan struct{}{}
	}
	h.waiters[id] = append(h.waiters[id], ch)
	h.mu.Unlock()
	return ch, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		ws := h.waiters[id]
		if i := slices.Index(ws, ch); i >= 0 {
			ws = slices.Delete(ws, i, i+1)
		}
		if len(ws) == 0 {
			delete(h.waiters, id)
		} else {
			h.waiters[id] = ws
		}
	}
}

// wake closes the channels of every waiter on id.
func (h *scanHub) wake(id string) {
	h.mu.Lock()
	ws := h.waiters[id]
	delete(h.waiters, id)
	h.mu.Unlock()
	for _, ch := range ws {
		close(ch)
	}
}

func (s *Server) scanHub() *scanHub { return &s.scan }

// routesScan adds the routes of scan-to-login.
func (s *Server) routesScan(handle func(method, path string, h http.HandlerFunc)) {
	handle("POST", pathScanStart, s.handleScanStart)
	handle("GET", pathScanStatus, s.handleScanStatus)
	handle("POST", pathScanFinish, s.handleScanFinish)
	handle("GET", pathScanConfirm, s.handleScanConfirmPage)
	handle("POST", pathScanConfirm, s.handleScanDecision)
}

// scanKey is the MAC key of codes and binding hashes: HMAC-SM3(token key, "tongban/oidc/scan").
func (s *Server) scanKey() []byte {
	return smcrypto.HMACSM3(s.kr.TokenKey(), []byte("tongban/oidc/scan"))
}

func (s *Server) scanMAC(idExp []byte) []byte {
	return smcrypto.HMACSM3(s.scanKey(), append([]byte("tongban/scan-code\x00"), idExp...))[:scanMACLen]
}

// scanCode returns the code of request id expiring at exp (see the package comment above).
func (s *Server) scanCode(id []byte, exp time.Time) string {
	b := make([]byte, 0, scanCodeLen)
	b = append(b, id...)
	b = binary.BigEndian.AppendUint32(b, uint32(exp.Unix()))
	return b64.EncodeToString(append(b, s.scanMAC(b)...))
}

// parseScanCode checks a code's length, MAC (constant time) and expiry against now, in that
// order, and returns its request ID (base64url). Errors: errScanMalformed, errScanForged,
// errScanExpired.
func (s *Server) parseScanCode(c string) (string, error) {
	b, err := b64.DecodeString(c)
	if err != nil || len(b) != scanCodeLen {
		return "", errScanMalformed
	}
	body, mac := b[:scanIDLen+4], b[scanIDLen+4:]
	if !hmac.Equal(mac, s.scanMAC(body)) {
		return "", errScanForged
	}
	exp := time.Unix(int64(binary.BigEndian.Uint32(body[scanIDLen:])), 0)
	if !s.now().Before(exp) {
		return "", errScanExpired
	}
	return b64.EncodeToString(body[:scanIDLen]), nil
}

// scanBinding is the stored form of a browser-binding secret: HMAC-SM3(scan key,
// "tongban/scan-binding" ‖ 0 ‖ secret).
func (s *Server) scanBinding(secret string) []byte {
	return smcrypto.HMACSM3(s.scanKey(), []byte("tongban/scan-binding\x00"+secret))
}

// fillLoginScan adds the scan-to-login section to a login page.
func (s *Server) fillLoginScan(w http.ResponseWriter, r *http.Request, d *pageData) {
	if p, err := s.decodePending(d.Authz); err == nil && (strings.HasPrefix(p.Next, s.localPath(pathScanConfirm)) ||
		(p.Next != "" && d.Message != "")) {
		// The phone logging in to confirm a code, or a fresh login an account action asks
		// for (the notice says so; a scan would carry the phone's older login): no code.
		return
	}
	d.Scan = &scanPage{Start: s.localPath(pathScanStart), Status: s.localPath(pathScanStatus),
		Finish: s.localPath(pathScanFinish), CSRF: d.CSRF}
	d.Scripts = append(d.Scripts, s.localPath(pathAsset+"scan.js"))
}

// scanJSON writes a JSON answer of the computer's scan requests.
func scanJSON(w http.ResponseWriter, status int, v any) {
	httpkit.JSON{}.Write(w, status, v)
}

// scanFail answers a computer's scan request with {"error": code, "message": text}.
func (s *Server) scanFail(w http.ResponseWriter, status int, lang, code, msg string) {
	scanJSON(w, status, map[string]string{"error": code, "message": messages[lang][msg]})
}

// handleScanStart makes a code for the login page (POST /scan/start, form authz, csrf,
// ui_locales): a ScanLogin bound to this browser (the tb_scan cookie, set now when missing)
// that continues the pending request authz, and its QR code. Answers 200
// {"code","url","qr" (a PNG data: URI),"expires_in" (seconds),"state":"pending"}; 403 on a bad
// CSRF token, 400 when authz is expired or forged, 503/500 on a storage failure.
func (s *Server) handleScanStart(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	lang, ok := s.scanForm(w, r)
	if !ok {
		return
	}
	p, q, err := s.pendingForm(r.PostForm.Get("authz"))
	if err != nil {
		s.scanFail(w, http.StatusBadRequest, lang, "request_expired", msgRequestExpired)
		return
	}
	// Each code is a row for its lifetime: at most scanStartsPerAddress a minute from one
	// client address (an office behind one address shows a few codes a minute per screen).
	if n, err := s.store.AddFailure(ctx, "scan-start:ip:"+s.cfg.ClientIP(r), s.now(), time.Minute); err != nil {
		s.scanFail(w, s.serverStatus(ctx, w, "count scan starts", err), lang, "server_error", msgServer)
		return
	} else if n > scanStartsPerAddress {
		s.log.WarnContext(ctx, "scan-to-login codes from one address above the limit", "client_id", q.Get("client_id"), "client_ip", s.cfg.ClientIP(r))
		setRetryAfter(w, time.Minute)
		s.scanFail(w, http.StatusTooManyRequests, lang, "slow_down", msgScanTooMany)
		return
	}
	secret := s.cookies.Value(r, scanCookieName)
	if len(secret) < 32 {
		secret = httpkit.RandomString(32)
		s.cookies.Set(w, scanCookieName, secret, 0)
	}
	id := make([]byte, scanIDLen)
	_, _ = rand.Read(id) // never fails (Go 1.24+ crashes instead)
	now := s.now().UTC().Truncate(time.Second)
	exp := now.Add(scanLifetime)
	// The stored request lives as long as a login form shown now would (handleLogin renews it
	// the same way); RequestedAt is kept, so prompt=login and max_age judge as before.
	p.Expires, p.Lang = now.Add(s.cfg.AuthRequestLifetime).UnixMicro(), lang
	sl := storage.ScanLogin{ID: b64.EncodeToString(id), BindingHash: s.scanBinding(secret), Pending: s.encodePending(p),
		ClientID: q.Get("client_id"), Browser: describeBrowser(r.UserAgent(), s.cfg.ClientIP(r)),
		State: storage.ScanPending, CreatedAt: now, ExpiresAt: exp}
	if err := s.store.CreateScanLogin(ctx, sl); err != nil {
		s.scanFail(w, s.serverStatus(ctx, w, "create scan login", err), lang, "server_error", msgServer)
		return
	}
	code := s.scanCode(id, exp)
	link := s.url(pathScanConfirm) + "?c=" + code
	png, err := qrcode.Encode(link, qrcode.Medium, 256)
	if err != nil {
		s.scanFail(w, s.serverStatus(ctx, w, "encode scan QR", err), lang, "server_error", msgServer)
		return
	}
	scanJSON(w, http.StatusOK, map[string]any{
		"code": code, "url": link, "qr": "data:image/png;base64," + base64.StdEncoding.EncodeToString(png),
		"expires_in": int(scanLifetime / time.Second), "state": storage.ScanPending,
	})
}

// scanStateExpired is the state the computer's page is told when a code can no longer finish.
const scanStateExpired = "expired"

// shownState is the state of sl as the computer's page sees it at now: its State, or
// "expired" once a code that could still change has passed its expiry.
func shownState(sl storage.ScanLogin, now time.Time) string {
	if !now.Before(sl.ExpiresAt) && sl.State != storage.ScanUsed && sl.State != storage.ScanDenied {
		return scanStateExpired
	}
	return string(sl.State)
}

// boundScan reads the code c's request for the browser that showed it. On a bad code, a
// browser without its binding secret or a storage failure it has answered (JSON) and returns
// false; an expired or purged code gives state "expired" with ok true and a zero record.
func (s *Server) boundScan(w http.ResponseWriter, r *http.Request, c, lang string) (sl storage.ScanLogin, ok bool) {
	ctx := r.Context()
	id, err := s.parseScanCode(c)
	switch {
	case errors.Is(err, errScanExpired):
		return sl, true
	case err != nil:
		s.log.InfoContext(ctx, "scan login refused: bad code", "reason", err.Error())
		s.scanFail(w, http.StatusBadRequest, lang, "invalid_code", msgScanInvalid)
		return sl, false
	}
	sl, err = s.store.GetScanLogin(ctx, id)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return storage.ScanLogin{}, true
	case err != nil:
		s.scanFail(w, s.serverStatus(ctx, w, "read scan login", err), lang, "server_error", msgServer)
		return sl, false
	}
	secret := s.cookies.Value(r, scanCookieName)
	if secret == "" || !hmac.Equal(s.scanBinding(secret), sl.BindingHash) {
		s.log.InfoContext(ctx, "scan login refused: browser does not hold the binding secret", "client_id", sl.ClientID)
		s.scanFail(w, http.StatusForbidden, lang, "wrong_browser", msgScanWrongBrowser)
		return sl, false
	}
	return sl, true
}

// handleScanStatus answers the computer's page with the state of its code (GET
// /scan/status?c=…&s=…): {"state": pending|scanned|approved|denied|used|expired}. While the
// state is s it holds the request up to scanPollHold, woken by a decision on this replica
// (scanHub) or seen by reading storage every scanPollStorage (a decision on another replica).
// 400 for a malformed or forged code, 403 for a browser without the code's binding secret.
func (s *Server) handleScanStatus(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	c, known := r.URL.Query().Get("c"), r.URL.Query().Get("s")
	lang := pickLang(r.URL.Query().Get("ui_locales"))
	sl, ok := s.boundScan(w, r, c, lang)
	if !ok {
		return
	}
	if sl.ID == "" {
		scanJSON(w, http.StatusOK, map[string]string{"state": scanStateExpired})
		return
	}
	hold := time.NewTimer(scanPollHold)
	defer hold.Stop()
	tick := time.NewTicker(scanPollStorage)
	defer tick.Stop()
	woken, stop := s.scanHub().wait(sl.ID)
	defer func() { stop() }()
	for {
		state := shownState(sl, s.now())
		if state != known {
			scanJSON(w, http.StatusOK, map[string]string{"state": state})
			return
		}
		select {
		case <-woken:
		case <-tick.C:
		case <-hold.C:
			scanJSON(w, http.StatusOK, map[string]string{"state": state})
			return
		case <-ctx.Done():
			return
		}
		// Wait again before reading, so that a decision made after the read still wakes us.
		stop()
		woken, stop = s.scanHub().wait(sl.ID)
		next, err := s.store.GetScanLogin(ctx, sl.ID)
		switch {
		case errors.Is(err, storage.ErrNotFound):
			scanJSON(w, http.StatusOK, map[string]string{"state": scanStateExpired})
			return
		case err != nil:
			s.scanFail(w, s.serverStatus(ctx, w, "read scan login", err), lang, "server_error", msgServer)
			return
		}
		sl = next
	}
}

// handleScanFinish finishes an approved code in the browser that showed it (POST /scan/finish,
// form c, csrf, ui_locales): it marks the code used (once, storage.ScanLogins.UseScanLogin),
// starts this browser's SSO session for the person who approved — their phone session's acr
// and auth_time, its amr plus "mca" — and answers {"next": URL}, the pending authorization
// request's resume URL or the account page it was for. Refusals, each with "error" and a
// message: 403 csrf or wrong_browser, 400 invalid_code, 409 not_confirmed (pending or scanned),
// denied or used, 410 expired.
func (s *Server) handleScanFinish(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	lang, ok := s.scanForm(w, r)
	if !ok {
		return
	}
	sl, ok := s.boundScan(w, r, r.PostForm.Get("c"), lang)
	if !ok {
		return
	}
	now := s.now()
	if sl.ID == "" || shownState(sl, now) == scanStateExpired {
		s.scanFail(w, http.StatusGone, lang, scanStateExpired, msgScanExpired)
		return
	}
	if !s.finishable(w, sl.State, lang) {
		return
	}
	used, err := s.store.UseScanLogin(ctx, sl.ID, now)
	switch {
	case errors.Is(err, storage.ErrExpired) || errors.Is(err, storage.ErrNotFound):
		s.scanFail(w, http.StatusGone, lang, scanStateExpired, msgScanExpired)
		return
	case errors.Is(err, storage.ErrAlreadyUsed): // a concurrent finish won
		s.scanFail(w, http.StatusConflict, lang, string(storage.ScanUsed), msgScanUsed)
		return
	case err != nil:
		s.scanFail(w, s.serverStatus(ctx, w, "use scan login", err), lang, "server_error", msgServer)
		return
	}
	p, err := s.decodePending(used.Pending)
	if err != nil {
		s.scanFail(w, http.StatusBadRequest, lang, "request_expired", msgRequestExpired)
		return
	}
	person, err := s.store.GetPerson(ctx, used.PersonID)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && person.Disabled) {
		s.log.InfoContext(ctx, "scan login refused: person missing or disabled", "person_id", used.PersonID)
		s.scanFail(w, http.StatusForbidden, lang, "access_denied", msgLoginFailed)
		return
	} else if err != nil {
		s.scanFail(w, s.serverStatus(ctx, w, "read person", err), lang, "server_error", msgServer)
		return
	}
	if _, err := s.endSession(ctx, w, r); err != nil {
		s.logFailure(ctx, "end previous session", err)
	}
	start := now.UTC().Truncate(time.Microsecond)
	if err := s.startSession(ctx, w, r, storage.LoginSession{
		PersonID: person.ID, AuthTime: used.AuthTime, ACR: used.ACR, AMR: used.AMR,
		CreatedAt: start, ExpiresAt: start.Add(s.cfg.SessionLifetime),
	}); err != nil {
		s.scanFail(w, s.serverStatus(ctx, w, "start session", err), lang, "server_error", msgServer)
		return
	}
	s.countLogin(ctx, "success", used.ClientID)
	s.log.InfoContext(ctx, "login", "person_id", person.ID, "client_id", used.ClientID, "acr", used.ACR, "method", "scan")
	s.appendAudit(ctx, storage.AuditEvent{Actor: person.ID, Action: "scan.finish", Subject: used.ID, ClientID: used.ClientID,
		Detail: strings.Join(used.AMR, ",")})
	s.appendAudit(ctx, storage.AuditEvent{Actor: person.ID, Action: "login.success", Subject: person.ID,
		ClientID: used.ClientID, Detail: used.ACR})
	scanJSON(w, http.StatusOK, map[string]string{"next": s.afterLogin(p, lang)})
}

// finishable reports whether a code in state may be finished (approved); otherwise it has
// answered 409 with the reason.
func (s *Server) finishable(w http.ResponseWriter, state storage.ScanState, lang string) bool {
	switch state {
	case storage.ScanApproved:
		return true
	case storage.ScanDenied:
		s.scanFail(w, http.StatusConflict, lang, string(storage.ScanDenied), msgScanDenied)
	case storage.ScanUsed:
		s.scanFail(w, http.StatusConflict, lang, string(storage.ScanUsed), msgScanUsed)
	default:
		s.scanFail(w, http.StatusConflict, lang, "not_confirmed", msgScanNotConfirmed)
	}
	return false
}

// describeBrowser returns a coarse description of a browser for the phone's confirmation
// page: browser family, OS family (deviceName) and the client address with its host part
// masked (maskIP), e.g. "Chrome · Windows · 203.0.113.*". Versions and the full address are
// left out: enough to tell "my computer" from "somewhere else", not to track anyone.
func describeBrowser(ua, ip string) string {
	parts := []string{cmp.Or(deviceName(ua), "?")}
	if m := maskIP(ip); m != "" {
		parts = append(parts, m)
	}
	return strings.Join(parts, " · ")
}

// scanAMR returns the methods of a session made by scanning: the phone session's amr and "mca"
// once.
func scanAMR(phone []string) []string {
	amr := slices.Clone(phone)
	if !slices.Contains(amr, amrScan) {
		amr = append(amr, amrScan)
	}
	return amr
}

// Message keys of scan-to-login.
const (
	msgScanInvalid      = "errScanInvalid"
	msgScanExpired      = "errScanExpired"
	msgScanUsed         = "errScanUsed"
	msgScanDenied       = "errScanDenied"
	msgScanTooMany      = "errScanTooMany"
	msgScanNotConfirmed = "errScanNotConfirmed"
	msgScanWrongBrowser = "errScanWrongBrowser"
)

// scanForm parses a computer's scan-to-login POST and checks its CSRF token (the login page's).
// It returns the page language; on failure it has answered 400 invalid_request or 403 csrf.
func (s *Server) scanForm(w http.ResponseWriter, r *http.Request) (string, bool) {
	if err := r.ParseForm(); err != nil {
		s.scanFail(w, http.StatusBadRequest, langZH, "invalid_request", msgBadRequest)
		return "", false
	}
	lang := pickLang(r.PostForm.Get("ui_locales"))
	if !s.csrf.CheckCookie(r, scanCSRF) {
		s.scanFail(w, http.StatusForbidden, lang, "csrf", msgCSRF)
		return lang, false
	}
	return lang, true
}

// scanStartsPerAddress is how many scan-to-login codes one client address may ask for a minute.
const scanStartsPerAddress = 120
