package oidc

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tongban/tongban/storage"
)

// The phone's side of scan-to-login: GET /scan?c=… shows what is asking and Confirm / Deny;
// POST /scan records the decision. Both need the phone browser's SSO session (a browser
// without one logs in first and comes back, loginFor); only the session that opened a code
// may decide it, once.

// scanPageName is the phone's page template (extraPages).
const scanPageName = "scan.html"

// renderScan shows the phone's page with status.
func (s *Server) renderScan(w http.ResponseWriter, r *http.Request, status int, lang string, c *scanConfirm) {
	var switchQuery url.Values // the language switch reopens the code: not after a decision
	if c.Done == "" {
		switchQuery = url.Values{"c": {c.Code}}
	}
	d := s.newPage(r, lang, pathScanConfirm, switchQuery)
	c.AccountURL = s.accountURL(lang)
	d.CSRF = s.csrf.CookieToken(w, r, csrfAccount)
	d.Scan = &scanPage{Confirm: c}
	s.render(w, status, s.pages.page(scanPageName), d)
}

// scanCodeRefusal maps an error of parseScanCode or of a ScanLogins transition to a status and
// a message.
func scanCodeRefusal(err error) (int, string) {
	switch {
	case errors.Is(err, errScanExpired), errors.Is(err, storage.ErrExpired), errors.Is(err, storage.ErrNotFound):
		return http.StatusGone, msgScanExpired
	case errors.Is(err, storage.ErrAlreadyUsed):
		return http.StatusConflict, msgScanUsed
	}
	return http.StatusBadRequest, msgScanInvalid
}

// handleScanConfirmPage is the page a phone opens from the QR code (GET /scan?c=…). A bad
// code is refused before anything else (400 forged or malformed, 410 expired); then it wants
// the phone's SSO session — and a login made for the pending request when that request asks
// for one (prompt=login, max_age, a stronger acr: scanNeedsLogin) — marks the code scanned by
// this session (storage.ScanLogins.MarkScanLoginScanned; 409 when another session has it or it
// is decided) and shows the app, the time the code was made, the requesting browser and
// Confirm / Deny.
func (s *Server) handleScanConfirmPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	lang := pickLang(r.URL.Query().Get("ui_locales"))
	c := r.URL.Query().Get("c")
	page := &scanConfirm{Code: c}
	id, ls, person, ok := s.phoneScan(w, r, c, lang, page)
	if !ok {
		return
	}
	sl, err := s.store.GetScanLogin(ctx, id)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		s.pageError(ctx, w, r, lang, "read scan login", err)
		return
	}
	var pend pendingAuth
	if err == nil {
		pend, err = s.decodePending(sl.Pending)
	}
	if err != nil {
		status, msg := scanCodeRefusal(storage.ErrExpired)
		page.Error = messages[lang][msg]
		s.renderScan(w, r, status, lang, page)
		return
	}
	if sl.State == storage.ScanPending {
		need, mfa, err := s.scanNeedsLogin(ctx, pend, ls, person, s.now())
		if err != nil {
			s.pageError(ctx, w, r, lang, "read second factors", err)
			return
		}
		if need {
			s.log.InfoContext(ctx, "scan login: the app asks for a new login on the phone", "client_id", sl.ClientID, "mfa", mfa)
			s.loginFor(w, r, s.localPath(pathScanConfirm)+"?c="+url.QueryEscape(c), lang, loginNeed{MFA: mfa})
			return
		}
	}
	if err := s.store.MarkScanLoginScanned(ctx, id, person.ID, ls.ID, s.now()); err != nil {
		status, msg := scanCodeRefusal(err)
		if status == http.StatusBadRequest {
			s.pageError(ctx, w, r, lang, "mark scan login scanned", err)
			return
		}
		s.log.InfoContext(ctx, "scan code refused on the phone", "person_id", person.ID, "reason", err.Error())
		page.Error = messages[lang][msg]
		s.renderScan(w, r, status, lang, page)
		return
	}
	if sl.State == storage.ScanPending {
		s.scanHub().wake(id)
		s.appendAudit(ctx, storage.AuditEvent{Actor: person.ID, Action: "scan.open", Subject: id, ClientID: sl.ClientID})
	}
	if sl.ClientID != "" {
		if cl, err := s.clients.Get(ctx, sl.ClientID); err == nil {
			page.App = cl.DisplayName()
		} else {
			page.App = sl.ClientID
		}
	}
	page.Created = sl.CreatedAt.In(pageZone).Format("2006-01-02 15:04:05")
	page.AgeSecs = max(0, int64(s.now().Sub(sl.CreatedAt)/time.Second))
	page.Browser = sl.Browser
	page.Who = person.IDNumberMasked
	s.renderScan(w, r, http.StatusOK, lang, page)
}

// scanNeedsLogin reports whether the phone's session ls is not good enough for the pending
// request p, and whether the new login must give the second factor (mfa). For a request it was
// not made for, a session is judged as authorize judges it: p asks for prompt=login, a max_age
// the session's auth_time exceeds, or a stronger acr. A session made after the request (the
// phone logged in for this scan) is still asked for the second factor when p wants
// urn:tongban:acr:mfa, the session is below it and the person has a second factor — as the
// password form of that request would have asked. The computer's session inherits ls's
// auth_time and acr.
func (s *Server) scanNeedsLogin(ctx context.Context, p pendingAuth, ls *storage.LoginSession, person storage.Person, now time.Time) (need, mfa bool, err error) {
	if p.Next != "" {
		return false, false, nil
	}
	q, perr := url.ParseQuery(p.Query)
	if perr != nil {
		return true, false, nil
	}
	values, _ := acrRequest(q.Get("acr_values"), mustClaims(q.Get("claims")))
	wantMFA := requiredACRLevel(values) >= acrLevel(ACRMultiFactor)
	if wantMFA && acrLevel(ls.ACR) < acrLevel(ACRMultiFactor) {
		if mfa, err = s.hasSecondFactor(ctx, person); err != nil || mfa {
			return mfa, mfa, err
		}
	}
	if !ls.AuthTime.Before(time.UnixMicro(p.RequestedAt)) {
		return false, false, nil
	}
	if slices.Contains(strings.Fields(q.Get("prompt")), "login") {
		return true, wantMFA, nil
	}
	if v := q.Get("max_age"); v != "" {
		secs, err := strconv.ParseInt(v, 10, 64)
		if err != nil || now.Sub(ls.AuthTime) > time.Duration(secs)*time.Second {
			return true, wantMFA, nil
		}
	}
	return requiredACRLevel(values) > acrLevel(ls.ACR), wantMFA, nil
}

// handleScanDecision records the phone's answer (POST /scan, form c, decision approve|deny,
// csrf of the account pages): storage.ScanLogins.DecideScanLogin for this phone session only,
// once. Approval records the session's acr, auth_time and amr plus "mca" for the computer's
// session. It wakes the computer's held status request and audits scan.approve or scan.deny.
// Refusals are pages: 400 bad code, 410 expired, 409 already decided, used or opened by
// another session (or never opened: the form comes only from the page that opens the code).
func (s *Server) handleScanDecision(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if !s.checkAccountForm(w, r) {
		return
	}
	lang := pickLang(r.PostForm.Get("ui_locales"))
	c := r.PostForm.Get("c")
	page := &scanConfirm{Code: c}
	id, ls, person, ok := s.phoneScan(w, r, c, lang, page)
	if !ok {
		return
	}
	decision := r.PostForm.Get("decision")
	if decision != "approve" && decision != "deny" {
		s.renderError(w, r, http.StatusBadRequest, lang, msgBadRequest)
		return
	}
	approve := decision == "approve"
	d := storage.ScanDecision{Approve: approve}
	if approve {
		d.ACR, d.AMR, d.AuthTime = ls.ACR, scanAMR(ls.AMR), ls.AuthTime
	}
	if err := s.store.DecideScanLogin(ctx, id, ls.ID, d, s.now()); err != nil {
		status, msg := scanCodeRefusal(err)
		if status == http.StatusBadRequest {
			s.pageError(ctx, w, r, lang, "decide scan login", err)
			return
		}
		s.log.InfoContext(ctx, "scan decision refused", "person_id", person.ID, "reason", err.Error())
		page.Error = messages[lang][msg]
		s.renderScan(w, r, status, lang, page)
		return
	}
	s.scanHub().wake(id)
	sl, err := s.store.GetScanLogin(ctx, id)
	if err != nil {
		s.logFailure(ctx, "read scan login after a decision", err)
	}
	action, done := "scan.deny", msgScanDeniedDone
	if approve {
		action, done = "scan.approve", msgScanApprovedDone
	}
	s.log.InfoContext(ctx, "scan decision", "person_id", person.ID, "client_id", sl.ClientID, "action", action)
	s.appendAudit(ctx, storage.AuditEvent{Actor: person.ID, Action: action, Subject: id, ClientID: sl.ClientID})
	page.Done = messages[lang][done]
	s.renderScan(w, r, http.StatusOK, lang, page)
}

const (
	msgScanApprovedDone = "scanApprovedDone"
	msgScanDeniedDone   = "scanDeniedDone"
)

func init() {
	extraPages = append(extraPages, scanPageName)
	addMessages(map[string]map[string]string{
		langZH: {
			"scanHeading":        "扫码登录",
			"scanHelp":           "请用已登录本平台的手机（如电子证照应用）扫描二维码，并在手机上确认。",
			"scanQRAlt":          "扫码登录二维码",
			"scanLoading":        "正在生成二维码…",
			"scanPending":        "等待扫码。二维码 2 分钟内有效。",
			"scanScanned":        "已扫码，请在手机上确认登录。",
			"scanApproved":       "已在手机上确认，正在登录…",
			"scanDenied":         "已在手机上拒绝登录。",
			"scanExpired":        "二维码已过期。",
			"scanUsed":           "此二维码已使用。",
			"scanRefresh":        "刷新二维码",
			"scanConfirmHeading": "确认在电脑上登录",
			"scanApp":            "请求登录的应用",
			"scanAccountApp":     "统一身份认证平台 · 我的账户",
			"scanCreated":        "二维码生成时间（北京时间）",
			"scanAgo":            "（%d 秒前）",
			"scanBrowser":        "请求登录的电脑浏览器",
			"scanAs":             "登录身份",
			"scanWarning":        "请仅在您本人正坐在这台电脑前、刚刚亲自打开登录页面时确认。如果是别人发给您的二维码或链接，请拒绝：确认后，对方的电脑将以您的身份登录。",
			"scanApprove":        "确认登录",
			"scanDeny":           "拒绝",
			msgScanApprovedDone:  "已确认。请回到电脑上继续操作。",
			msgScanDeniedDone:    "已拒绝，电脑上不会登录。",
			msgScanInvalid:       "二维码无效：它不是本平台生成的，或已被改动。",
			msgScanExpired:       "二维码已过期，请在电脑上刷新二维码后重新扫描。",
			msgScanUsed:          "此二维码已被处理（已确认、已拒绝或已在另一台设备上扫描），不能再次使用。",
			msgScanDenied:        "登录已在手机上被拒绝。",
			msgScanTooMany:       "此网络生成的二维码过多，请一分钟后再试，或使用密码登录。",
			msgScanNotConfirmed:  "尚未在手机上确认登录。",
			msgScanWrongBrowser:  "此二维码不是在本浏览器中生成的，不能在此完成登录。",
		},
		langEN: {
			"scanHeading":        "Scan to log in",
			"scanHelp":           "Scan this code with a phone where you are logged in to this service (e.g. the e-licence app) and confirm on the phone.",
			"scanQRAlt":          "QR code to scan to log in",
			"scanLoading":        "Making a QR code…",
			"scanPending":        "Waiting for a scan. The code is valid for 2 minutes.",
			"scanScanned":        "Scanned. Confirm the login on your phone.",
			"scanApproved":       "Confirmed on the phone. Logging in…",
			"scanDenied":         "The login was refused on the phone.",
			"scanExpired":        "The QR code has expired.",
			"scanUsed":           "This QR code has been used.",
			"scanRefresh":        "New QR code",
			"scanConfirmHeading": "Confirm a login on a computer",
			"scanApp":            "App asking",
			"scanAccountApp":     "Unified Identity Authentication · My account",
			"scanCreated":        "QR code made at (Beijing time)",
			"scanAgo":            " (%d seconds ago)",
			"scanBrowser":        "Computer browser asking",
			"scanAs":             "Logging in as",
			"scanWarning":        "Confirm only if you are sitting at that computer yourself and have just opened its login page. If someone sent you this code or link, deny: confirming logs their computer in as you.",
			"scanApprove":        "Confirm login",
			"scanDeny":           "Deny",
			msgScanApprovedDone:  "Confirmed. Go back to the computer to continue.",
			msgScanDeniedDone:    "Denied. The computer will not be logged in.",
			msgScanInvalid:       "Invalid QR code: it was not made by this service, or it was altered.",
			msgScanExpired:       "The QR code has expired. Refresh it on the computer and scan again.",
			msgScanUsed:          "This QR code has already been handled (confirmed, denied or scanned on another device) and cannot be used again.",
			msgScanDenied:        "The login was refused on the phone.",
			msgScanTooMany:       "Too many codes from this network. Try again in a minute, or log in with your password.",
			msgScanNotConfirmed:  "The login has not been confirmed on the phone yet.",
			msgScanWrongBrowser:  "This QR code was not made in this browser, so the login cannot be finished here.",
		},
	})
}

// phoneScan checks the scan code c a phone opened or decided on (its MAC and expiry, before
// storage) and the phone's login session. On failure it has answered — the refusal page, or the
// login page continuing here — and returns ok false.
func (s *Server) phoneScan(w http.ResponseWriter, r *http.Request, c, lang string, page *scanConfirm) (id string, ls *storage.LoginSession, person storage.Person, ok bool) {
	id, err := s.parseScanCode(c)
	if err != nil {
		s.log.InfoContext(r.Context(), "scan code refused on the phone", "reason", err.Error(), "method", r.Method)
		status, msg := scanCodeRefusal(err)
		page.Error = messages[lang][msg]
		s.renderScan(w, r, status, lang, page)
		return "", nil, person, false
	}
	ls, person, ok = s.accountSession(w, r, false)
	return id, ls, person, ok
}
