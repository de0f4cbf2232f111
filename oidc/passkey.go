package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/tongban/tongban/accounts/passkey"
	smcrypto "github.com/tongban/tongban/sm-crypto"
	"github.com/tongban/tongban/storage"
)

// Passkeys (WebAuthn, package accounts/passkey) on the provider's pages:
//
//   - the account page lists the person's passkeys (rename, remove) and, after a fresh login,
//     enrols a new one: POST pathPasskeyRegisterBegin answers the creation options and a
//     ceremony state bound to the login session, the page script (templates/passkey.js) runs
//     navigator.credentials.create and posts the credential to pathPasskeyRegisterFinish;
//   - the login page offers a passwordless login ("use fingerprint or face"): POST
//     pathPasskeyLoginBegin answers request options with an empty allowCredentials and a
//     state bound to the browser's CSRF cookie, the script runs navigator.credentials.get and
//     posts the assertion with the pending authorization request to pathPasskeyLoginFinish,
//     which continues that request exactly as a password login does.
//
// Every JSON endpoint wants the page's CSRF token in X-CSRF-Token (tongban.postJSON). The RP ID
// is the issuer's host, which must be a domain name (WebAuthn refuses IP addresses): for an
// issuer on an IP address passkeys are off, and the pages offer none.
const (
	pathPasskeyLoginBegin     = "/login/passkey/begin"
	pathPasskeyLoginFinish    = "/login/passkey/finish"
	pathPasskeyRegisterBegin  = "/account/passkeys/begin"
	pathPasskeyRegisterFinish = "/account/passkeys/finish"
	pathPasskeyRename         = "/account/passkeys/rename"
	pathPasskeyRemove         = "/account/passkeys/remove"
)

// maxPasskeyBody bounds the JSON bodies of the passkey endpoints (a credential with its
// attestation object is a few kilobytes).
const maxPasskeyBody = 64 << 10

// passkeyPage is what the templates see of passkeys (pageData.Passkeys): on the login page the
// endpoints only; on the account page the person's passkeys too.
type passkeyPage struct {
	BeginURL, FinishURL        string
	RenameURL, RemoveURL       string
	ReloginURL                 string // the account page's "log in again" link when the login is not fresh
	Fresh                      bool   // the login is recent enough to enrol (Config.FreshLogin)
	Items                      []passkeyItem
	MsgCancelled, MsgNoSupport string // texts the script shows (no inline script: data attributes)
}

// passkeyItem is one passkey on the account page.
type passkeyItem struct {
	Ref      string // passkey.Ref: the form value naming it
	Name     string
	Created  string // "2006-01-02"
	LastUsed string // "" = never
	Synced   bool   // backup eligible: may be synced to the person's other devices
	Cloned   bool   // flagged: its signature counter went backwards; it no longer logs in
}

// routesPasskeys sets up the relying party for the issuer and adds the passkey routes. An
// issuer whose host cannot be an RP ID (an IP address) gets no passkeys: logged once, and the
// pages show none.
func (s *Server) routesPasskeys(handle func(method, path string, h http.HandlerFunc)) {
	iss, err := url.Parse(s.issuer)
	if err != nil {
		return
	}
	rp, err := passkey.New(passkey.Config{
		RPID:        iss.Hostname(),
		Origin:      iss.Scheme + "://" + iss.Host,
		DisplayName: messages[langZH]["brand"],
		Store:       s.store,
		StateKey:    smcrypto.HMACSM3(s.kr.TokenKey(), []byte("tongban/oidc/passkey-ceremony")),
		// Refused assertions count per client address with the password logins' refused
		// attempts (accounts' "login-ip:" counter), not against the person's account: see
		// passkey.RelyingParty.FinishLogin.
		Lockout: passkey.IPThrottle{Store: s.store, Threshold: s.cfg.IPLockThreshold, Window: s.cfg.IPLockWindow, Now: s.now},
		Now:     s.now,
		Logger:  s.log,
	})
	if err != nil {
		s.log.Warn("passkeys are off: the issuer's host cannot be a WebAuthn RP ID", "err", err)
		return
	}
	s.passkeys = rp
	handle("POST", pathPasskeyLoginBegin, s.handlePasskeyLoginBegin)
	handle("POST", pathPasskeyLoginFinish, s.handlePasskeyLoginFinish)
	handle("POST", pathPasskeyRegisterBegin, s.handlePasskeyRegisterBegin)
	handle("POST", pathPasskeyRegisterFinish, s.handlePasskeyRegisterFinish)
	handle("POST", pathPasskeyRename, s.handlePasskeyRename)
	handle("POST", pathPasskeyRemove, s.handlePasskeyRemove)
}

// passkeyScripts adds the shared helpers and the passkey script to a page.
func (s *Server) passkeyScripts(d *pageData) {
	for _, js := range []string{"tongban.js", "passkey.js"} {
		if p := s.localPath(pathAsset + js); !slices.Contains(d.Scripts, p) {
			d.Scripts = append(d.Scripts, p)
		}
	}
}

// fillLoginPasskey offers the passkey login on a login page (loginPage), when passkeys are on.
func (s *Server) fillLoginPasskey(d *pageData) {
	if s.passkeys == nil {
		return
	}
	d.Passkeys = &passkeyPage{BeginURL: s.localPath(pathPasskeyLoginBegin), FinishURL: s.localPath(pathPasskeyLoginFinish),
		MsgCancelled: d.T["passkeyCancelled"], MsgNoSupport: d.T["passkeyNoSupport"]}
	s.passkeyScripts(d)
}

// fillAccountPasskeys fills pageData.Passkeys for the account page: the person's passkeys,
// and the enrol button when the login is fresh (else a link to log in again).
func (s *Server) fillAccountPasskeys(ctx context.Context, d *pageData, ls *storage.LoginSession, p storage.Person) error {
	if s.passkeys == nil {
		return nil
	}
	pks, err := s.passkeys.List(ctx, p.ID)
	if err != nil {
		return err
	}
	pp := &passkeyPage{
		BeginURL: s.localPath(pathPasskeyRegisterBegin), FinishURL: s.localPath(pathPasskeyRegisterFinish),
		RenameURL: s.localPath(pathPasskeyRename) + "?ui_locales=" + url.QueryEscape(d.Lang),
		RemoveURL: s.localPath(pathPasskeyRemove) + "?ui_locales=" + url.QueryEscape(d.Lang),
		ReloginURL: s.localPath(pathAccountLogin) + "?" + url.Values{"next": {s.localPath(pathAccount) + "#passkeys"},
			"ui_locales": {d.Lang}}.Encode(),
		Fresh:        s.now().Sub(ls.AuthTime) <= s.cfg.FreshLogin,
		MsgCancelled: d.T["passkeyCancelled"], MsgNoSupport: d.T["passkeyNoSupport"],
	}
	for _, pk := range pks {
		it := passkeyItem{Ref: passkey.Ref(pk.CredentialID), Name: pk.Name, Created: pk.CreatedAt.In(cst).Format(time.DateOnly),
			Synced: pk.BackupEligible, Cloned: pk.CloneWarning}
		if pk.LastUsedAt != nil {
			it.LastUsed = pk.LastUsedAt.In(cst).Format(time.DateTime)
		}
		pp.Items = append(pp.Items, it)
	}
	d.Passkeys = pp
	s.passkeyScripts(d)
	return nil
}

// cst is China Standard Time (UTC+8), the zone dates are shown in.
var cst = time.FixedZone("CST", 8*60*60)

// passkeyError answers a JSON endpoint with {"error": text} in the page language.
func passkeyError(w http.ResponseWriter, status int, lang, msg string) {
	oauthJSON.Write(w, status, map[string]string{"error": messages[lang][msg]})
}

// passkeyRefusal maps an error of package passkey to a status and a page message; ok false
// for errors that are the server's (storage).
func passkeyRefusal(err error) (status int, msg string, ok bool) {
	for _, m := range []struct {
		err    error
		status int
		msg    string
	}{
		{passkey.ErrLocked, http.StatusTooManyRequests, msgLocked},
		{passkey.ErrState, http.StatusBadRequest, "passkeyErrState"},
		{passkey.ErrReplay, http.StatusBadRequest, "passkeyErrReplay"},
		{passkey.ErrOrigin, http.StatusBadRequest, "passkeyErrOrigin"},
		{passkey.ErrUserNotVerified, http.StatusUnauthorized, "passkeyErrUserNotVerified"},
		{passkey.ErrCloned, http.StatusForbidden, "passkeyErrCloned"},
		{passkey.ErrBackupEligibility, http.StatusForbidden, "passkeyErrBackup"},
		{passkey.ErrUnknown, http.StatusUnauthorized, "passkeyErrUnknown"},
		{passkey.ErrInvalid, http.StatusBadRequest, "passkeyErrInvalid"},
		{passkey.ErrName, http.StatusBadRequest, "passkeyErrName"},
		{storage.ErrConflict, http.StatusConflict, "passkeyErrExists"},
	} {
		if errors.Is(err, m.err) {
			return m.status, m.msg, true
		}
	}
	return 0, "", false
}

// passkeyJSONRequest is the body of the passkey JSON endpoints.
type passkeyJSONRequest struct {
	Authz      string          `json:"authz,omitempty"`      // login: the pending authorization request
	State      string          `json:"state,omitempty"`      // finish: the state begin answered
	Credential json.RawMessage `json:"credential,omitempty"` // finish: the PublicKeyCredential as JSON
	Name       string          `json:"name,omitempty"`       // registration: the passkey's name
	Lang       string          `json:"ui_locales,omitempty"`
}

// readPasskeyJSON decodes a JSON body (at most maxPasskeyBody bytes).
func readPasskeyJSON(w http.ResponseWriter, r *http.Request) (passkeyJSONRequest, bool) {
	var req passkeyJSONRequest
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxPasskeyBody))
	if err == nil && len(body) > 0 {
		err = json.Unmarshal(body, &req)
	}
	if err != nil {
		passkeyError(w, http.StatusBadRequest, pickLang(r.URL.Query().Get("ui_locales")), msgBadRequest)
		return req, false
	}
	return req, true
}

// checkLoginCSRF checks the login page's CSRF token sent in X-CSRF-Token.
func (s *Server) checkLoginCSRF(r *http.Request) bool {
	if err := r.ParseForm(); err != nil {
		return false
	}
	r.PostForm.Set("csrf", r.Header.Get("X-CSRF-Token"))
	return s.csrf.CheckCookie(r, "login")
}

// loginBinding ties a login ceremony to the browser: its CSRF cookie secret.
func (s *Server) loginBinding(r *http.Request) string {
	return "login\x00" + s.cookies.Value(r, csrfCookieName)
}

// handlePasskeyLoginBegin answers {"options": PublicKeyCredentialRequestOptions JSON,
// "state": …} for a passwordless login (POST /login/passkey/begin, X-CSRF-Token of the login
// page).
func (s *Server) handlePasskeyLoginBegin(w http.ResponseWriter, r *http.Request) {
	lang := pickLang(r.URL.Query().Get("ui_locales"))
	if !s.checkLoginCSRF(r) {
		passkeyError(w, http.StatusForbidden, lang, msgCSRF)
		return
	}
	opts, state, err := s.passkeys.BeginLogin(s.loginBinding(r))
	if err != nil {
		passkeyError(w, s.serverStatus(r.Context(), w, "begin passkey login", err), lang, msgServer)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	oauthJSON.Write(w, http.StatusOK, map[string]any{"options": json.RawMessage(opts), "state": state})
}

// handlePasskeyLoginFinish checks a passkey assertion (POST /login/passkey/finish, JSON
// {authz, state, credential}, X-CSRF-Token of the login page) and, when it holds, starts the
// SSO session and answers {"redirect": …} to the pending authorization request — as
// handleLogin does after a password (keep the two in step): acr urn:tongban:acr:mfa, amr
// from passkey.Authentication (e.g. ["hwk","user","mfa"]). A refusal answers {"error": text}.
func (s *Server) handlePasskeyLoginFinish(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	lang := pickLang(r.URL.Query().Get("ui_locales"))
	if !s.checkLoginCSRF(r) {
		s.countLogin(r.Context(), "csrf", "") // the pending request is not read before the CSRF check
		passkeyError(w, http.StatusForbidden, lang, msgCSRF)
		return
	}
	req, ok := readPasskeyJSON(w, r)
	if !ok {
		return
	}
	p, q, err := s.pendingForm(req.Authz)
	lang = pickLang(firstNonEmpty(req.Lang, p.Lang, q.Get("ui_locales"), lang))
	if err != nil {
		passkeyError(w, http.StatusBadRequest, lang, msgRequestExpired)
		return
	}
	a, err := s.passkeys.FinishLogin(ctx, passkey.Login{State: req.State, Binding: s.loginBinding(r),
		Response: req.Credential, ClientIP: s.cfg.ClientIP(r)})
	if err != nil {
		status, msg, refused := passkeyRefusal(err)
		if !refused {
			passkeyError(w, s.serverStatus(ctx, w, "passkey login", err), lang, msgServer)
			return
		}
		result := "failure"
		if errors.Is(err, passkey.ErrLocked) {
			result = "locked"
		}
		s.countLogin(ctx, result, q.Get("client_id"))
		passkeyError(w, status, lang, msg)
		return
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	acr := ACRMultiFactor // a user-verified passkey: possession and inherence or knowledge
	if _, err := s.endSession(ctx, w, r); err != nil {
		s.logFailure(ctx, "end previous session", err)
	}
	if err := s.startSession(ctx, w, r, storage.LoginSession{
		PersonID: a.Person.ID, AuthTime: now, ACR: acr, AMR: a.AMR,
		CreatedAt: now, ExpiresAt: now.Add(s.cfg.SessionLifetime),
	}); err != nil {
		passkeyError(w, s.serverStatus(ctx, w, "start session", err), lang, msgServer)
		return
	}
	dev, devIssued := s.device(r) // the browser is the person's device from now on (devicecookie.go)
	s.renewDeviceCookie(w, a.Person.ID, dev, devIssued)
	s.countLogin(ctx, "success", q.Get("client_id"))
	s.log.InfoContext(ctx, "login", "person_id", a.Person.ID, "client_id", q.Get("client_id"), "acr", acr,
		"method", "passkey", "passkey", passkey.Ref(a.Passkey.CredentialID))
	s.appendAudit(ctx, storage.AuditEvent{Actor: a.Person.ID, Action: "login.success", Subject: a.Person.ID,
		ClientID: q.Get("client_id"), Detail: acr})
	w.Header().Set("Cache-Control", "no-store")
	oauthJSON.Write(w, http.StatusOK, map[string]string{"redirect": s.afterLogin(p, lang)})
}

// registerBinding ties an enrolment ceremony to the login session.
func registerBinding(ls *storage.LoginSession) string { return "register\x00" + ls.ID }

// handlePasskeyRegisterBegin answers {"options": PublicKeyCredentialCreationOptions JSON,
// "state": …} to enrol a passkey (POST /account/passkeys/begin, X-CSRF-Token of the account
// page). It wants a fresh login: an older one is sent to the login page (a 303 the script
// follows).
func (s *Server) handlePasskeyRegisterBegin(w http.ResponseWriter, r *http.Request) {
	ls, p, ok := s.accountSession(w, r, true)
	if !ok || !s.checkAccountForm(w, r) {
		return
	}
	opts, state, err := s.passkeys.BeginRegistration(r.Context(), p, registerBinding(ls))
	if err != nil {
		passkeyError(w, s.serverStatus(r.Context(), w, "begin passkey registration", err), pickLang(r.URL.Query().Get("ui_locales")), msgServer)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	oauthJSON.Write(w, http.StatusOK, map[string]any{"options": json.RawMessage(opts), "state": state})
}

// handlePasskeyRegisterFinish stores the new passkey (POST /account/passkeys/finish, JSON
// {state, credential, name}) and answers {"redirect": the account page with a notice}; a
// refusal answers {"error": text}.
func (s *Server) handlePasskeyRegisterFinish(w http.ResponseWriter, r *http.Request) {
	ls, p, ok := s.accountSession(w, r, true)
	if !ok || !s.checkAccountForm(w, r) {
		return
	}
	lang := pickLang(r.URL.Query().Get("ui_locales"))
	req, ok := readPasskeyJSON(w, r)
	if !ok {
		return
	}
	if req.Lang != "" {
		lang = pickLang(req.Lang)
	}
	_, err := s.passkeys.FinishRegistration(r.Context(), p, req.State, registerBinding(ls), req.Credential, req.Name)
	if err != nil {
		status, msg, refused := passkeyRefusal(err)
		if !refused {
			passkeyError(w, s.serverStatus(r.Context(), w, "passkey registration", err), lang, msgServer)
			return
		}
		passkeyError(w, status, lang, msg)
		return
	}
	oauthJSON.Write(w, http.StatusOK, map[string]string{"redirect": s.localPath(pathAccount) + "?" +
		url.Values{"ui_locales": {lang}, "done": {"passkeyAdded"}}.Encode() + "#passkeys"})
}

// handlePasskeyRename renames a passkey (POST /account/passkeys/rename, form ref, name, csrf)
// and answers 303 to the account page.
func (s *Server) handlePasskeyRename(w http.ResponseWriter, r *http.Request) {
	ls, p, ok := s.accountSession(w, r, false)
	if !ok || !s.checkAccountForm(w, r) {
		return
	}
	s.passkeyFormResult(w, r, ls, p, s.passkeys.Rename(r.Context(), p.ID, r.PostForm.Get("ref"), r.PostForm.Get("name")), "passkeyRenamed")
}

// handlePasskeyRemove removes a passkey (POST /account/passkeys/remove, form ref, csrf) after
// a fresh login, and answers 303 to the account page.
func (s *Server) handlePasskeyRemove(w http.ResponseWriter, r *http.Request) {
	ls, p, ok := s.accountSession(w, r, true)
	if !ok || !s.checkAccountForm(w, r) {
		return
	}
	s.passkeyFormResult(w, r, ls, p, s.passkeys.Remove(r.Context(), p.ID, r.PostForm.Get("ref")), "passkeyRemoved")
}

// passkeyFormResult answers a rename or remove form: 303 to the account page with the notice
// done, or the account page again with the refusal's message (nothing of the form is lost:
// the page shows the passkeys as stored).
func (s *Server) passkeyFormResult(w http.ResponseWriter, r *http.Request, ls *storage.LoginSession, p storage.Person, err error, done string) {
	if err == nil {
		s.accountDone(w, r, done)
		return
	}
	lang := pickLang(r.URL.Query().Get("ui_locales"))
	status, msg, refused := passkeyRefusal(err)
	if !refused {
		s.pageError(r.Context(), w, r, lang, "passkey change", err)
		return
	}
	d := s.accountPageData(w, r, ls, p)
	for _, fill := range s.accountSections() {
		if err := fill(r.Context(), &d, ls, p); err != nil {
			s.pageError(r.Context(), w, r, d.Lang, "fill account page", err)
			return
		}
	}
	d.Error = d.T[msg]
	d.SwitchURL = s.localPath(pathAccount) + "?" + url.Values{"ui_locales": {d.SwitchLang}}.Encode()
	s.render(w, status, s.pages.account, d)
}

func init() {
	addMessages(map[string]map[string]string{
		langZH: {
			"passkeysHeading":           "通行密钥（指纹或面容登录）",
			"passkeysHelp":              "添加通行密钥后，可在本设备上用指纹、面容或锁屏密码登录，无需输入密码。通行密钥保存在您的设备中，本平台只保存其公钥。",
			"passkeysNone":              "您还没有添加通行密钥。",
			"passkeyAdd":                "添加通行密钥",
			"passkeyName":               "名称",
			"passkeyNamePlaceholder":    "例如：我的手机",
			"passkeyRename":             "改名",
			"passkeyRemove":             "删除",
			"passkeyCreated":            "添加于",
			"passkeyLastUsed":           "上次使用",
			"passkeyNeverUsed":          "尚未使用",
			"passkeySynced":             "可同步",
			"passkeyCloned":             "已停用：疑似被复制",
			"passkeyRelogin":            "重新登录后可添加通行密钥",
			"passkeyAdded":              "通行密钥已添加。下次登录时可选择“使用指纹或面容登录”。",
			"passkeyRenamed":            "通行密钥已改名。",
			"passkeyRemoved":            "通行密钥已删除。",
			"passkeyOr":                 "或",
			"passkeyLoginButton":        "使用指纹或面容登录",
			"passkeyAsSecondFactor":     "已添加通行密钥的用户，可用指纹或面容登录代替密码和动态口令。",
			"passkeyCancelled":          "操作已取消或超时，请重试。",
			"passkeyNoSupport":          "此浏览器不支持通行密钥，请使用密码登录。",
			"passkeyErrState":           "验证请求已过期，请重试。",
			"passkeyErrReplay":          "此验证请求已使用过，请重试。",
			"passkeyErrOrigin":          "该验证来自其他网站，已拒绝。请确认地址栏中的网址。",
			"passkeyErrUserNotVerified": "设备未验证您的指纹、面容或锁屏密码，请重试。",
			"passkeyErrCloned":          "该通行密钥的签名计数异常，可能已被复制，已停用。请用密码登录后在“我的账户”中删除并重新添加。",
			"passkeyErrBackup":          "该通行密钥的备份属性与添加时不同，已拒绝。",
			"passkeyErrUnknown":         "未找到该通行密钥，它可能已被删除。请使用密码登录。",
			"passkeyErrInvalid":         "通行密钥验证失败，请重试或使用密码登录。",
			"passkeyErrName":            "名称不能为空，不超过 64 个字符。",
			"passkeyErrExists":          "该通行密钥已经添加过。",
		},
		langEN: {
			"passkeysHeading":           "Passkeys (fingerprint or face)",
			"passkeysHelp":              "With a passkey you sign in on this device with your fingerprint, face or screen lock instead of a password. The passkey stays on your device; this service keeps only its public key.",
			"passkeysNone":              "You have no passkeys yet.",
			"passkeyAdd":                "Add a passkey",
			"passkeyName":               "Name",
			"passkeyNamePlaceholder":    "e.g. My phone",
			"passkeyRename":             "Rename",
			"passkeyRemove":             "Remove",
			"passkeyCreated":            "Added",
			"passkeyLastUsed":           "last used",
			"passkeyNeverUsed":          "never used",
			"passkeySynced":             "synced",
			"passkeyCloned":             "Disabled: may have been copied",
			"passkeyRelogin":            "Sign in again to add a passkey",
			"passkeyAdded":              "Passkey added. Next time, choose “Sign in with fingerprint or face”.",
			"passkeyRenamed":            "Passkey renamed.",
			"passkeyRemoved":            "Passkey removed.",
			"passkeyOr":                 "or",
			"passkeyLoginButton":        "Sign in with fingerprint or face",
			"passkeyAsSecondFactor":     "If you have added a passkey, your fingerprint or face replaces both the password and the one-time code.",
			"passkeyCancelled":          "Cancelled or timed out. Please try again.",
			"passkeyNoSupport":          "This browser does not support passkeys. Please sign in with your password.",
			"passkeyErrState":           "The request has expired. Please try again.",
			"passkeyErrReplay":          "This request was used already. Please try again.",
			"passkeyErrOrigin":          "This answer was made for another website and was refused. Check the address bar.",
			"passkeyErrUserNotVerified": "Your device did not verify your fingerprint, face or screen lock. Please try again.",
			"passkeyErrCloned":          "This passkey's signature counter went backwards: it may have been copied and is disabled. Sign in with your password, remove it under My account and add it again.",
			"passkeyErrBackup":          "This passkey's backup eligibility differs from when it was added; refused.",
			"passkeyErrUnknown":         "This passkey is not known here; it may have been removed. Please sign in with your password.",
			"passkeyErrInvalid":         "The passkey could not be verified. Try again or sign in with your password.",
			"passkeyErrName":            "The name must be 1 to 64 characters.",
			"passkeyErrExists":          "This passkey was added already.",
		},
	})
}

func init() { selfExportParts = append(selfExportParts, exportPasskeys) }

// passkeyExport is the data download's (account_self_data.go) view of one passkey: what the
// person can see on the account page, with no key material.
type passkeyExport struct {
	Name           string     `json:"name"`
	CreatedAt      time.Time  `json:"created_at"`
	LastUsedAt     *time.Time `json:"last_used_at,omitempty"`
	BackupEligible bool       `json:"backup_eligible"`
	BackupState    bool       `json:"backed_up"`
	CloneWarning   bool       `json:"clone_warning,omitempty"`
	Transports     []string   `json:"transports,omitempty"`
}

// exportPasskeys is the "passkeys" section of the data download.
func exportPasskeys(ctx context.Context, s *Server, p storage.Person) (string, any, error) {
	pks, err := s.store.ListPasskeys(ctx, p.ID)
	if err != nil {
		return "", nil, err
	}
	out := make([]passkeyExport, 0, len(pks))
	for _, pk := range pks {
		out = append(out, passkeyExport{Name: pk.Name, CreatedAt: pk.CreatedAt, LastUsedAt: pk.LastUsedAt,
			BackupEligible: pk.BackupEligible, BackupState: pk.BackupState, CloneWarning: pk.CloneWarning, Transports: pk.Transports})
	}
	return "passkeys", out, nil
}
