package oidc

import (
	"bytes"
	"embed"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/tongban/tongban/internal/citizenui"
	"github.com/tongban/tongban/internal/httpkit"
)

//go:embed templates/*.html templates/*.css templates/*.js
var templateFS embed.FS

// Page languages (ui_locales, OIDC Core §3.1.2.1): Simplified Chinese first, English on request.
const (
	langZH = "zh-CN"
	langEN = "en"
)

// UILocales lists the supported ui_locales values (discovery ui_locales_supported).
var UILocales = []string{langZH, langEN}

// pickLang returns the first supported language of a space-separated ui_locales list, or
// zh-CN.
func pickLang(uiLocales string) string {
	for _, tag := range strings.Fields(uiLocales) {
		t := strings.ToLower(tag)
		switch {
		case strings.HasPrefix(t, "zh"):
			return langZH
		case strings.HasPrefix(t, "en"):
			return langEN
		}
	}
	return langZH
}

// Message keys of pages and errors.
const (
	msgBadRequest     = "errBadRequest"
	msgRequestExpired = "errRequestExpired"
	msgUnknownClient  = "errUnknownClient"
	msgBadRedirect    = "errBadRedirect"
	msgLoginFailed    = "errLoginFailed"
	msgLoginDisabled  = "errLoginDisabled"
	msgLoginFailedOTP = "errLoginFailedOTP" // the same, on a login page that asked for a code too
	msgLocked         = "errLocked"
	msgCSRF           = "errCSRF"
	msgServer         = "errServer"
	msgBadLogoutURI   = "errBadLogoutURI"
	msgLoggedOut      = "loggedOut"
	msgAppPending     = "errAppPending"   // apps.go: waiting for review (or rejected)
	msgAppSuspended   = "errAppSuspended" // apps.go: suspended by an operator
	msgAppRetired     = "errAppRetired"   // apps.go: retired
)

var messages = map[string]map[string]string{
	langZH: {
		"title":           "统一身份认证",
		"brand":           "统一身份认证平台",
		"brandSub":        "政务服务 · 一次登录，全网通办",
		"toolsLabel":      "页面设置",
		"colon":           "：",
		"footer":          "本平台不会通过短信、电话索要您的密码或验证码。",
		"loginForEnd":     "。",
		"loginWhat":       "请输入身份证号码（或统一社会信用代码、手机号）和密码，然后点击“登录”。",
		"loginWhatOTP":    "请输入身份证号码（或统一社会信用代码、手机号）、密码和动态口令，然后点击“登录”。",
		"backToApp":       "返回",
		"loginAgain":      "重新登录",
		"backToLogin":     "返回登录页，换一种方式登录",
		"logoutCancel":    "取消，返回我的账户",
		"logoutCancelApp": "取消，返回",
		"switch":          "English",
		"loginHeading":    "登录",
		"loginFor":        "登录后继续访问",
		"identifier":      "身份证号码、统一社会信用代码或手机号",
		"identifierHelp":  "自然人请输入 18 位居民身份证号码或手机号；法人请输入统一社会信用代码。",
		"password":        "密码",
		"otp":             "动态口令",
		"otpHelp":         "请输入验证器应用或动态令牌上的 6 位数字；设备丢失时可输入一个恢复码。",
		"loginButton":     "登录",
		"consentHeading":  "授权确认",
		"consentFor":      "请求获取您的以下信息：",
		"consentHelp":     "您的选择将被记住，之后该应用可直接登录。",
		"allow":           "同意",
		"deny":            "拒绝",
		"logoutHeading":   "退出登录",
		"logoutConfirm":   "确定要退出统一身份认证吗？退出后，所有通过本平台登录的应用都需要重新登录。",
		"logoutButton":    "退出",
		"errorHeading":    "无法完成请求",
		"doneHeading":     "已退出",
		"scope_openid":    "您的用户标识（不含个人信息）",
		"scope_profile":   "姓名，以及您是否使用长辈模式",
		"scope_phone":     "手机号码",
		"scope_id_number": "完整的身份证号码或统一社会信用代码",
		"scope_offline":   "在您离开后继续访问（长期有效）",
		msgBadRequest:     "请求格式有误。",
		msgRequestExpired: "登录请求已过期或无效，请回到应用重新登录。",
		msgUnknownClient:  "发起登录的应用未在本平台登记。",
		msgBadRedirect:    "应用提供的回调地址与登记信息不符，为保护您的安全，已停止跳转。",
		msgLoginFailed:    "证件号码、手机号或密码不正确。",
		msgLoginDisabled:  "此账户已被停用。如需恢复使用，请携带本人身份证件到政务服务大厅办理。",
		msgLoginFailedOTP: "证件号码、手机号、密码或动态口令不正确。动态口令每个只能使用一次。",
		msgLocked:         "登录失败次数过多，请稍后再试。",
		msgCSRF:           "页面已过期，请重新提交。",
		msgServer:         "服务暂时不可用，请稍后再试。",
		msgBadLogoutURI:   "应用提供的退出后跳转地址未登记，已停止跳转。您已安全退出。",
		msgLoggedOut:      "您已安全退出。",
		msgAppPending:     "该应用正在等待平台审核，审核通过前无法使用本平台登录。请联系应用的提供方。",
		msgAppSuspended:   "该应用已被平台暂停使用，暂时无法通过本平台登录。请联系应用的提供方。",
		msgAppRetired:     "该应用已停止服务，无法再通过本平台登录。",
	},
	langEN: {
		"title":           "Unified Identity Authentication",
		"brand":           "Unified Identity Authentication",
		"brandSub":        "Government services · one login for every app",
		"toolsLabel":      "Page settings",
		"colon":           ": ",
		"footer":          "We never ask for your password or codes by text message or phone.",
		"loginForEnd":     ".",
		"loginWhat":       "Enter your resident ID number (or unified social credit code, or mobile number) and your password, then press “Sign in”.",
		"loginWhatOTP":    "Enter your resident ID number (or unified social credit code, or mobile number), your password and your one-time code, then press “Sign in”.",
		"backToApp":       "Back to ",
		"loginAgain":      "Sign in again",
		"backToLogin":     "Back to the login page to sign in another way",
		"logoutCancel":    "Cancel, back to my account",
		"logoutCancelApp": "Cancel, back to ",
		"switch":          "中文",
		"loginHeading":    "Sign in",
		"loginFor":        "Sign in to continue to ",
		"identifier":      "Resident ID number, unified social credit code or mobile number",
		"identifierHelp":  "Individuals: 18-character resident ID number or mobile number. Organisations: unified social credit code.",
		"password":        "Password",
		"otp":             "One-time code",
		"otpHelp":         "Enter the 6 digits from your authenticator app or token, or a recovery code if you lost it.",
		"loginButton":     "Sign in",
		"consentHeading":  "Allow access",
		"consentFor":      "asks for the following information:",
		"consentHelp":     "Your choice is remembered; next time this app signs you in directly.",
		"allow":           "Allow",
		"deny":            "Deny",
		"logoutHeading":   "Sign out",
		"logoutConfirm":   "Sign out of Unified Identity Authentication? Every app you signed in to through it will ask you to sign in again.",
		"logoutButton":    "Sign out",
		"errorHeading":    "The request cannot be completed",
		"doneHeading":     "Signed out",
		"scope_openid":    "Your user identifier (no personal data)",
		"scope_profile":   "Your name, and whether you use elder mode",
		"scope_phone":     "Your mobile number",
		"scope_id_number": "Your full resident ID number or unified social credit code",
		"scope_offline":   "Access while you are away (long-lived)",
		msgBadRequest:     "The request is malformed.",
		msgRequestExpired: "The sign-in request has expired or is invalid. Go back to the app and sign in again.",
		msgUnknownClient:  "The app that sent you here is not registered with this service.",
		msgBadRedirect:    "The app's return address does not match its registration; for your safety you were not redirected.",
		msgLoginFailed:    "The ID number, mobile number or password is incorrect.",
		msgLoginDisabled:  "This account has been disabled. To use it again, bring your ID card to a government service hall.",
		msgLoginFailedOTP: "The ID number, mobile number, password or one-time code is incorrect. Each code works once.",
		msgLocked:         "Too many failed attempts. Try again later.",
		msgCSRF:           "The page has expired. Please submit it again.",
		msgServer:         "The service is temporarily unavailable. Please try again later.",
		msgBadLogoutURI:   "The app's post-logout address is not registered, so you were not redirected. You are signed out.",
		msgLoggedOut:      "You are signed out.",
		msgAppPending:     "This app is waiting for review by the platform and cannot sign you in until it is approved. Please contact the app's provider.",
		msgAppSuspended:   "This app has been suspended by the platform and cannot sign you in for now. Please contact the app's provider.",
		msgAppRetired:     "This app has been withdrawn and can no longer sign you in.",
	},
}

// pageZone is the time zone of the times pages show: China Standard Time (UTC+8, Beijing time).
var pageZone = time.FixedZone("CST", 8*60*60)

// scopeText returns the consent-page description of a scope.
func scopeText(lang, scope string) string {
	if scope == ScopeOfflineAccess {
		return messages[lang]["scope_offline"]
	}
	if t, ok := licenceScopeText(lang, scope); ok {
		return t
	}
	if t, ok := messages[lang]["scope_"+scope]; ok {
		return t
	}
	return scope
}

// pageData is what every template sees.
type pageData struct {
	Lang       string
	T          map[string]string
	SwitchURL  string
	SwitchLang string
	Style      string
	Action     string
	Authz      string
	CSRF       string
	ClientName string
	LoginHint  string
	NeedOTP    bool
	Error      string
	Heading    string
	Message    string
	Scopes     []string
	Hidden     map[string]string
	// BackURL is the error page's way back (the account page, which logs in first when
	// needed).
	BackURL string
	// BackText is the words of BackURL's link; "" means "前往我的账户".
	BackText string
	// Scripts are the page's scripts, local paths under pathAsset (the CSP allows no inline
	// script).
	Scripts []string

	// 长辈模式 (elder.go, internal/citizenui): Elder puts class="elder" on <html>; ElderSwitch
	// and Speak are the switch and the readout button in every page's tool bar; CitizenCSS and
	// CitizenJS the shared stylesheet and script.
	Elder       bool
	ElderSwitch citizenui.Switch
	Speak       citizenui.Speak
	CitizenCSS  string
	CitizenJS   string
	// AppBack and AppName are an error page's way back to the app that sent the person there
	// (appBack); "" when there is none.
	AppBack string
	AppName string
	// LogoutCancel is the logout confirmation's cancel link (logout.go).
	LogoutCancel string

	// Account is set on the account pages (account.go); each feature has its own field,
	// filled by its accountSection or its own pages.
	Account  *accountPage
	Passkeys *passkeyPage   // passkey.go
	OTP      *otpPage       // account_otp.go
	Self     *selfPage      // account_self.go
	Scan     *scanPage      // scan.go
	Device   *devicePage    // device.go
	Lookup   *lookupConsent // lookup.go: the consent page's licence-lookup box
	// LogoutFrames are the hidden front-channel logout iframes of the logout done page
	// (Front-Channel Logout 1.0 §3; logout_backchannel.go).
	LogoutFrames []string
	// LogoutNext is the app's post_logout_redirect_uri, linked from that page instead of a
	// redirect (the iframes must load first).
	LogoutNext  string
	Corrections *correctionsPage // account_corrections.go
	Acting      *actingPage      // agents.go
	Agents      *agentsPage      // account_agents.go
	Upstreams   []upstreamButton // broker.go: the login page's "log in with …" buttons
	Links       *linksPage       // broker.go: the account page's linked accounts
}

// addMessages adds page texts of a feature (keyed by language, then message key) to messages;
// feature files call it from init. A key defined twice panics.
func addMessages(m map[string]map[string]string) {
	for lang, texts := range m {
		for k, v := range texts {
			if _, dup := messages[lang][k]; dup {
				panic("oidc: page message defined twice: " + k)
			}
			messages[lang][k] = v
		}
	}
}

type pages struct {
	login, consent, message, logout, account *template.Template
	// extra holds the templates of feature pages by file name (pages.page).
	extra map[string]*template.Template
	// assets are the stylesheet and scripts served under pathAsset, by file name.
	assets map[string][]byte
}

// page returns the template of a feature page, parsed from templates/name with the layout and
// every templates/name_*.html part. It panics on a name newPages did not parse (a programming
// error that every test of the page finds).
func (p *pages) page(name string) *template.Template {
	t, ok := p.extra[name]
	if !ok {
		panic("oidc: no page template " + name)
	}
	return t
}

func newPages() (*pages, error) {
	// A page is templates/name plus its parts templates/name_*.html (a login page's passkey
	// and scan-to-login parts, the account page's sections), each defining named templates.
	parse := func(name string) (*template.Template, error) {
		base := strings.TrimSuffix(name, ".html")
		files := []string{"templates/layout.html", "templates/" + name}
		parts, err := fs.Glob(templateFS, "templates/"+base+"_*.html")
		if err != nil {
			return nil, err
		}
		t, err := template.New(path.Base(files[0])).Funcs(citizenui.Funcs).ParseFS(templateFS, append(files, parts...)...)
		if err != nil {
			return nil, err
		}
		return t.Parse(citizenui.Templates) // "elder-switch", "speak-button"

	}
	p := &pages{extra: map[string]*template.Template{}, assets: map[string][]byte{}}
	var err error
	for _, name := range extraPages {
		t, err := parse(name)
		if err != nil {
			return nil, err
		}
		p.extra[name] = t
	}
	if p.account, err = parse("account.html"); err != nil {
		return nil, err
	}
	if p.login, err = parse("login.html"); err != nil {
		return nil, err
	}
	if p.consent, err = parse("consent.html"); err != nil {
		return nil, err
	}
	if p.message, err = parse("message.html"); err != nil {
		return nil, err
	}
	if p.logout, err = parse("logout.html"); err != nil {
		return nil, err
	}
	// Two globs: "*.[cj]s" would match x.js but not style.css.
	css, err := fs.Glob(templateFS, "templates/*.css")
	if err != nil {
		return nil, err
	}
	js, err := fs.Glob(templateFS, "templates/*.js")
	if err != nil {
		return nil, err
	}
	assets := append(css, js...)
	for _, a := range assets {
		if p.assets[path.Base(a)], err = templateFS.ReadFile(a); err != nil {
			return nil, err
		}
	}
	for _, name := range []string{"citizen.css", "citizen.js"} { // 长辈模式, shared with the wallet
		p.assets[name] = citizenui.Asset(name)
	}
	return p, nil
}

// newPage fills the fields every page has. switchQuery is the current page's query; the
// language switch link repeats it with the other ui_locales. The elder-mode switch returns to
// r's URL when r is a GET, else to path with switchQuery (a page shown after a POST), else to
// the account page.
func (s *Server) newPage(r *http.Request, lang, path string, switchQuery url.Values) pageData {
	d := pageData{Lang: lang, T: messages[lang], Style: s.localPath(pathAsset + "style.css"), Action: s.localPath(path),
		CitizenCSS: s.localPath(pathAsset + "citizen.css"), CitizenJS: s.localPath(pathAsset + "citizen.js")}
	d.Elder = citizenui.Elder(r)
	d.ElderSwitch = citizenui.NewSwitch(r, lang)
	d.ElderSwitch.Action = s.localPath(citizenui.PathElder)
	d.ElderSwitch.Back = s.elderBack(r, lang, path, switchQuery)
	d.Speak = citizenui.NewSpeak(lang)
	if switchQuery != nil {
		other := langEN
		if lang == langEN {
			other = langZH
		}
		q := url.Values{}
		for k, v := range switchQuery {
			q[k] = v
		}
		q.Set("ui_locales", other)
		d.SwitchURL = s.localPath(path) + "?" + q.Encode()
		d.SwitchLang = other
	}
	return d
}

// render writes a page as text/html with status.
func (s *Server) render(w http.ResponseWriter, status int, t *template.Template, d pageData) {
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", d); err != nil {
		s.log.Error("render page", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// renderError shows an error page; it never redirects.
func (s *Server) renderError(w http.ResponseWriter, r *http.Request, status int, uiLocales, msg string) {
	s.renderErrorBack(w, r, status, uiLocales, msg, "", "")
}

// renderErrorBack is renderError whose way back is backURL with the words of message
// backText (both "" for the account page).
func (s *Server) renderErrorBack(w http.ResponseWriter, r *http.Request, status int, uiLocales, msg, backURL, backText string) {
	lang := pickLang(uiLocales)
	d := s.newPage(r, lang, pathAuthorize, nil)
	d.Heading = d.T["errorHeading"]
	d.Message = d.T[msg]
	d.Error = "1"
	d.BackURL = s.accountURL(lang) // a way back
	if backURL != "" {
		d.BackURL, d.BackText = backURL, d.T[backText]
	}
	d.AppBack, d.AppName = s.appBack(r, lang, msg)
	s.render(w, status, s.pages.message, d)
}

// extraPages are the feature pages besides login, consent, message, logout and account
// (pages.page); a feature adds its page here.
var extraPages = []string{
	"device.html",                       // device.go
	"recover.html", "closeaccount.html", // account_self.go
	"reset.html",  // account_corrections.go
	"acting.html", // agents.go
}

// handleAsset serves the stylesheet and the page scripts (GET /assets/{name}; the CSP allows
// no inline style or script). Unknown names get 404.
func (s *Server) handleAsset(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	httpkit.ServeAsset(w, r, name, s.pages.assets[name], 24*time.Hour)
}

// accountURL is the account page in language lang: the way on of logout, error and end pages.
func (s *Server) accountURL(lang string) string {
	return s.localPath(pathAccount) + "?ui_locales=" + url.QueryEscape(lang)
}
