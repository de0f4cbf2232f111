// Package citizenui holds what the citizen pages of the identity provider (package oidc) and of
// the wallet (wallet/web) share for 长辈模式 (elder mode: large type, high contrast, voice
// readout): the tb_elder cookie, the POST /prefs/elder handler that switches it, the stylesheet
// citizen.css (colour tokens and the html.elder rules) and the script citizen.js (the voice
// readout through the Web Speech API). A page puts class="elder" on <html> when Elder(r) and
// loads /assets/citizen.css and /assets/citizen.js; neither needs anything from outside the
// server (no fonts, scripts or CDNs).
//
// Elder mode as the pages apply it (WCAG 2.2 AAA where it has a criterion):
//   - body text at least 24 CSS px; headings larger;
//   - text contrast at least 7:1 (1.4.6), links underlined;
//   - tap targets at least 48 × 48 CSS px (beyond 2.5.5's 44 px);
//   - no horizontal scrolling at 320 CSS px or 200 % text (1.4.10, 1.4.4).
package citizenui

import (
	_ "embed"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tongban/tongban/internal/httpkit"
)

// CookieName is the cookie that remembers elder mode in one browser: "1" when on. It is
// host-only, HttpOnly, SameSite=Lax and kept for CookieMaxAge. Its integrity does not matter (a
// display preference), so it has no __Host- prefix and the same name over http and https.
const CookieName = "tb_elder"

// CookieMaxAge is how long the elder-mode cookie is kept: one year.
const CookieMaxAge = 365 * 24 * time.Hour

// PathElder is where the switch on every citizen page posts: form fields "on" ("1" or "0") and
// "back" (a path on the same server to return to).
const PathElder = "/prefs/elder"

//go:embed citizen.css
var css []byte

//go:embed citizen.js
var js []byte

// Elder reports whether r's browser has elder mode on (the tb_elder cookie is "1").
func Elder(r *http.Request) bool {
	c, err := r.Cookie(CookieName)
	return err == nil && c.Value == "1"
}

// SetElder sets (on) or clears elder mode in the browser w answers, with the attributes of
// cookies (Secure when the server is https).
func SetElder(w http.ResponseWriter, cookies httpkit.Cookies, on bool) {
	if on {
		cookies.SetUnprefixed(w, CookieName, "1", int(CookieMaxAge/time.Second))
		return
	}
	cookies.SetUnprefixed(w, CookieName, "", -1)
}

// Handler answers POST PathElder: it switches elder mode as the form's "on" says, and answers
// 303 See Other to the form's "back" path (or "/" when back is missing or not a path on this
// server: no open redirect). A request from another origin (Sec-Fetch-Site other than
// same-origin or none, or an Origin of another host) is refused with 403 and changes nothing; "on" other than "1" or "0" is 400.
type Handler struct {
	// Cookies gives the cookie attributes (Secure) of the server.
	Cookies httpkit.Cookies
	// OnChange, when set, runs before the cookie is set, with the new setting: the provider
	// saves it in the logged-in person's account there. An error answers 500 and leaves the
	// cookie as it was; OnChange must not log the person's identifiers.
	OnChange func(r *http.Request, on bool) error
}

// ServeHTTP implements http.Handler.
func (h Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if crossSite(r) {
		http.Error(w, "cross-site request refused", http.StatusForbidden)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	var on bool
	switch r.PostForm.Get("on") {
	case "1":
		on = true
	case "0":
	default:
		http.Error(w, `"on" must be 1 or 0`, http.StatusBadRequest)
		return
	}
	if h.OnChange != nil {
		if err := h.OnChange(r, on); err != nil {
			http.Error(w, "could not save the setting", http.StatusInternalServerError)
			return
		}
	}
	SetElder(w, h.Cookies, on)
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, LocalPath(r.PostForm.Get("back")), http.StatusSeeOther)
}

// crossSite reports a request a browser marks as coming from another origin: Sec-Fetch-Site
// decides when present (same-origin and none — typed or bookmarked — pass; same-site does not:
// a sibling host must not change the setting, which the provider saves in the account), as in
// admin's check. Without it the Origin header's host is compared with the request's, and
// "Origin: null" passes: old browsers (older iPhones among them, which elder users keep) send
// it on a form post from a no-referrer page and no Sec-Fetch-Site.
func crossSite(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "same-origin", "none":
		return false
	case "":
	default:
		return true
	}
	if o := r.Header.Get("Origin"); o != "" && o != "null" {
		u, err := url.Parse(o)
		if err != nil || !strings.EqualFold(u.Host, r.Host) {
			return true
		}
	}
	return false
}

// LocalPath returns p when it is a path on this server ("/…", not "//…" nor "/\…", no scheme
// or host), else "/". Used for every "back" a form carries.
func LocalPath(p string) string {
	if p == "" || p[0] != '/' || strings.HasPrefix(p, "//") || strings.HasPrefix(p, `/\`) || len(p) > 2000 {
		return "/"
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return "/"
	}
	for _, c := range p {
		if c < 0x20 || c == 0x7f {
			return "/"
		}
	}
	return p
}

// ServeCSS answers GET /assets/citizen.css.
func ServeCSS(w http.ResponseWriter, r *http.Request) {
	httpkit.ServeAsset(w, r, "citizen.css", css, time.Hour)
}

// ServeJS answers GET /assets/citizen.js.
func ServeJS(w http.ResponseWriter, r *http.Request) {
	httpkit.ServeAsset(w, r, "citizen.js", js, time.Hour)
}

// Asset returns the bytes of the shared asset name ("citizen.css" or "citizen.js"), or nil.
// For servers that serve their assets through one handler.
func Asset(name string) []byte {
	switch name {
	case "citizen.css":
		return css
	case "citizen.js":
		return js
	}
	return nil
}

// Switch is what the "elder-switch" template shows: a one-button form posting to PathElder
// that turns elder mode on when it is off and off when it is on, then returns to Back.
type Switch struct {
	On    bool   // elder mode is on now
	Back  string // path to return to (LocalPath applies)
	Label string // the button's words: "长辈模式" / "Elder mode"
	// Hint is said to screen readers after the label: "已开启/已关闭", "on/off".
	Hint string
	// Action is where the form posts: PathElder under the server's path prefix (an issuer
	// path such as /idp); "" means PathElder.
	Action string
}

// NewSwitch returns the switch for r's page, with the words for lang ("en" or Chinese).
func NewSwitch(r *http.Request, lang string) Switch {
	on := Elder(r)
	s := Switch{On: on, Back: LocalPath(r.URL.RequestURI()), Label: "长辈模式", Hint: "已关闭"}
	if on {
		s.Hint = "已开启"
	}
	if lang == "en" {
		s.Label, s.Hint = "Elder mode", "off"
		if on {
			s.Hint = "on"
		}
	}
	return s
}

// Speak is what the "speak-button" template shows: the visible 朗读 button of citizen.js. It
// reads aloud, in Lang ("zh-CN" or "en-US"), the text of the page's elements marked data-speak,
// in document order. Without the Web Speech API the button stays hidden.
type Speak struct {
	Label string // "朗读" / "Read aloud"
	Stop  string // "停止朗读" / "Stop reading"
	Lang  string // BCP 47 tag of the voice
}

// NewSpeak returns the readout button's words for lang ("en" or Chinese).
func NewSpeak(lang string) Speak {
	if lang == "en" {
		return Speak{Label: "Read aloud", Stop: "Stop reading", Lang: "en-US"}
	}
	return Speak{Label: "朗读", Stop: "停止朗读", Lang: "zh-CN"}
}

// Templates defines "elder-switch" (data: Switch) and "speak-button" (data: Speak) for a
// server's page templates: template.Must(tmpl.Parse(citizenui.Templates)).
const Templates = `{{define "elder-switch"}}<form method="post" action="{{if .Action}}{{.Action}}{{else}}` + PathElder + `{{end}}" class="elder-switch">` +
	`<input type="hidden" name="on" value="{{if .On}}0{{else}}1{{end}}">` +
	`<input type="hidden" name="back" value="{{.Back}}">` +
	`<button type="submit" aria-pressed="{{if .On}}true{{else}}false{{end}}"><span aria-hidden="true" class="elder-icon">{{if .On}}◉{{else}}○{{end}}</span> {{.Label}}<span class="visually-hidden">（{{.Hint}}）</span></button>` +
	`</form>{{end}}` +
	`{{define "speak-button"}}<button type="button" class="speak" hidden data-speak-lang="{{.Lang}}" data-label="{{.Label}}" data-stop="{{.Stop}}">` +
	`<svg class="speak-icon" viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" focusable="false"><path d="M3 9v6h4l5 4V5L7 9H3z" fill="currentColor"/><path d="M15.5 8.5a5 5 0 0 1 0 7M18 6a8.5 8.5 0 0 1 0 12" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round"/></svg> <span class="speak-label">{{.Label}}</span></button>{{end}}`

// Funcs are the template functions of the citizen pages: "breakable" (Breakable).
var Funcs = template.FuncMap{"breakable": Breakable}

// Breakable returns s, HTML-escaped, with a line-break opportunity (<wbr>) where a run of the
// mask character * begins or ends: a masked number too long for a narrow line at a large text
// size breaks as 110101 / ******** / 1014, not inside its visible digits.
func Breakable(s string) template.HTML {
	var b strings.Builder
	prev := rune(-1)
	for _, r := range s {
		if prev >= 0 && (prev == '*') != (r == '*') {
			b.WriteString("<wbr>")
		}
		b.WriteString(template.HTMLEscapeString(string(r)))
		prev = r
	}
	return template.HTML(b.String())
}
