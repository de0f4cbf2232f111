package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/tongban/tongban/audit"
	"github.com/tongban/tongban/internal/httpkit"
	"github.com/tongban/tongban/storage"
)

// Config configures the console and API. Zero fields take the defaults written on them.
type Config struct {
	// Path is where the console lives on the host, without a trailing slash: the issuer's
	// path + "/admin" (oidc.Server.AdminPath). "" means "/admin". The API is Path + APIPrefix.
	Path string
	// Store holds the roles and the audit log (required).
	Store RoleStore
	// Sessions is the provider's SSO session (required).
	Sessions Sessions
	// Apps, People, Corrections and Stats are the backends; a nil one makes its routes
	// answer 501 not_available (and its console pages say so).
	Apps        Apps
	People      People
	Corrections Corrections
	Stats       Stats
	// CSRFKey is the HMAC-SM3 key of the CSRF tokens, at least 16 bytes, derived for them
	// alone and the same on every replica (required).
	CSRFKey []byte
	// Origin is the provider's origin, "scheme://host[:port]" (the issuer without its path):
	// a state-changing request whose Origin header is present and differs is refused
	// (required).
	Origin string
	// Secure marks the language cookie Secure with the __Host- prefix (https issuers).
	Secure bool
	// AccountURL is the citizen account page, where a person enrols a second factor. ""
	// means "/account".
	AccountURL string
	// ClientIP returns the client address of a request for audit entries. nil means the
	// host of RemoteAddr.
	ClientIP func(*http.Request) string
	// IATLifetime is the default lifetime of an initial access token issued from the
	// console and API, at most MaxIATLifetime. Zero means DefaultIATLifetime (24 hours).
	IATLifetime time.Duration
	// Now is the clock. nil means time.Now.
	Now func() time.Time
	// Logger logs internal errors (no personal data). nil means slog.Default().
	Logger *slog.Logger
}

// APIPrefix is the path of the JSON API below Config.Path.
const APIPrefix = "/api/v1"

// csp is the console's Content-Security-Policy: its own stylesheet and script only, forms
// post to itself, nobody frames it.
const csp = "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self' data:; " +
	"form-action 'self'; base-uri 'none'; " + httpkit.FrameAncestorsNone

// csrfPurpose is the purpose of every console and API CSRF token (httpkit.CSRF).
const csrfPurpose = "admin"

// Handler serves the console and the API under Config.Path.
type Handler struct {
	cfg Config
	mux *http.ServeMux
	// paths matches a request's path against the routes whatever the method, and allow lists
	// the methods of each path pattern: a path with other methods answers 405 (notFound).
	paths   *http.ServeMux
	allow   map[string][]string
	routes  []route
	csrf    httpkit.CSRF
	cookies httpkit.Cookies
	json    httpkit.JSON
	pages   *pages
	headers httpkit.SecurityHeaders
}

// New checks cfg and builds the handler. Errors wrap ErrInvalid and name every missing field.
func New(cfg Config) (*Handler, error) {
	var problems []string
	if cfg.Store == nil {
		problems = append(problems, "Store is required")
	}
	if cfg.Sessions == nil {
		problems = append(problems, "Sessions is required")
	}
	if len(cfg.CSRFKey) < 16 {
		problems = append(problems, "CSRFKey must be at least 16 bytes")
	}
	if u, err := url.Parse(cfg.Origin); err != nil || u.Scheme == "" || u.Host == "" || (u.Path != "" && u.Path != "/") {
		problems = append(problems, fmt.Sprintf("Origin must be scheme://host[:port], got %q", cfg.Origin))
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%w: admin config: %s", ErrInvalid, strings.Join(problems, "; "))
	}
	cfg.Origin = strings.TrimSuffix(cfg.Origin, "/")
	if cfg.Path == "" {
		cfg.Path = "/admin"
	}
	cfg.Path = strings.TrimSuffix(cfg.Path, "/")
	if cfg.AccountURL == "" {
		cfg.AccountURL = "/account"
	}
	if cfg.ClientIP == nil {
		cfg.ClientIP = httpkit.RemoteIP
	}
	if cfg.IATLifetime == 0 {
		cfg.IATLifetime = DefaultIATLifetime
	}
	if cfg.IATLifetime < 0 || cfg.IATLifetime > MaxIATLifetime {
		return nil, fmt.Errorf("%w: admin config: IATLifetime must be from 1 hour to %s", ErrInvalid, MaxIATLifetime)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	pg, err := newPages()
	if err != nil {
		return nil, err
	}
	h := &Handler{cfg: cfg, mux: http.NewServeMux(), pages: pg,
		cookies: httpkit.Cookies{Secure: cfg.Secure},
		headers: httpkit.SecurityHeaders{CSP: csp, HSTS: cfg.Secure}}
	h.csrf = httpkit.CSRF{Key: cfg.CSRFKey}
	h.routes = h.routeTable()
	h.paths, h.allow = http.NewServeMux(), map[string][]string{}
	for _, rt := range h.routes {
		h.mux.Handle(rt.method+" "+cfg.Path+rt.path, h.guard(rt))
		pattern := cfg.Path + rt.path
		if h.allow[pattern] == nil {
			h.paths.Handle(pattern, http.NotFoundHandler()) // only its pattern is used (notFound)
		}
		h.allow[pattern] = append(h.allow[pattern], rt.method)
	}
	h.mux.HandleFunc("GET "+cfg.Path+"/assets/{name}", h.handleAsset)
	h.mux.HandleFunc("GET "+cfg.Path, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, cfg.Path+"/", http.StatusMovedPermanently)
	})
	h.mux.HandleFunc(cfg.Path+"/", h.notFound)
	return h, nil
}

// ServeHTTP serves the console and API (security headers on every answer; bodies up to 64 KiB).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.headers.Set(w.Header())
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	h.mux.ServeHTTP(w, r)
}

// Path is the console's path (Config.Path after defaults).
func (h *Handler) Path() string { return h.cfg.Path }

// scope says which department an action concerns, for a department-admin.
type scope int

const (
	scopeNone scope = iota // none: only roles without department (and PermMe)
	scopeApp               // the app named by {id}: its Department
	scopeDept              // the "department" query or form value (default: the first of a department-admin's departments)
)

// route is one entry of the route table: method and path below Config.Path (a Go ServeMux
// pattern), the permission it needs and for which scope, the action name audited when it is
// refused, and its handler.
type route struct {
	method, path string
	perm         Permission
	scope        scope
	action       string
	fn           func(h *Handler, w http.ResponseWriter, r *http.Request, c *call)
	// reads marks a POST that changes nothing (the console's people search, posted so that
	// the identifier stays out of URLs, logs and history): CSRF-checked, no fresh login.
	reads bool
}

// api reports whether the route is in the JSON API.
func (rt route) api() bool { return strings.HasPrefix(rt.path, APIPrefix+"/") }

// posted reports whether the route takes a POST (needs the CSRF token, refused cross-site).
func (rt route) posted() bool { return rt.method != http.MethodGet }

// mutating reports whether the route changes something (needs a fresh login as well).
func (rt route) mutating() bool { return rt.posted() && !rt.reads }

// call is one authorised request.
type call struct {
	p     Principal
	s     Session
	actor audit.Actor // ID, Role (the role that allowed it) and Address
	lang  string
	app   App        // scopeApp: the app
	dept  string     // scopeDept: the department
	csrf  string     // the session's CSRF token, for the page's forms
	in    url.Values // the query of a GET; the form or JSON object (strings, numbers) of a POST
}

// jsonMembers are the members of the API's JSON bodies and their types: a member of another
// type is ErrInvalid ("reason must be a string"), never coerced. Members not listed are kept
// when they are strings and ignored otherwise.
var jsonMembers = map[string]string{
	"reason":     "string",
	"department": "string",
	"csrf":       "string",
	"ttl_hours":  "integer",
	// Registering and changing an app (appforms.go).
	"id":                        "string",
	"name":                      "string",
	"logo_uri":                  "string",
	"purpose":                   "string",
	"purpose_en":                "string",
	"public":                    "boolean",
	"redirect_uris":             "strings",
	"post_logout_redirect_uris": "strings",
	"scopes":                    "strings",
	"grant_types":               "strings",
}

// readInput returns r's input: the query of a GET; of a POST the JSON object of its body
// (Content-Type application/json; members typed as jsonMembers says) or its form. A body that
// is neither, or a member of the wrong type, is ErrInvalid with a message naming the member.
func readInput(r *http.Request) (url.Values, error) {
	if r.Method == http.MethodGet {
		return r.URL.Query(), nil
	}
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct == "application/json" {
		return readJSON(r.Body)
	}
	if err := r.ParseForm(); err != nil {
		return nil, fmt.Errorf("%w: the body is not a form", ErrInvalid)
	}
	return r.PostForm, nil
}

// readJSON reads a JSON object body strictly (see jsonMembers).
func readJSON(body io.Reader) (url.Values, error) {
	dec := json.NewDecoder(body)
	dec.UseNumber()
	var m map[string]json.RawMessage
	if err := dec.Decode(&m); err != nil || m == nil {
		return nil, fmt.Errorf("%w: the body must be a JSON object", ErrInvalid)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: the body must be one JSON object", ErrInvalid)
	}
	in := url.Values{}
	for k, raw := range m {
		var v any
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		if err := d.Decode(&v); err != nil {
			return nil, fmt.Errorf("%w: the body must be a JSON object", ErrInvalid)
		}
		switch want := jsonMembers[k]; want {
		case "string", "":
			s, ok := v.(string)
			switch {
			case ok:
				in.Set(k, s)
			case want != "":
				return nil, fmt.Errorf("%w: %s must be a string", ErrInvalid, k)
			}
		case "integer":
			n, ok := v.(json.Number)
			if _, err := n.Int64(); !ok || err != nil {
				return nil, fmt.Errorf("%w: %s must be a whole number", ErrInvalid, k)
			}
			in.Set(k, n.String())
		case "boolean":
			b, ok := v.(bool)
			if !ok {
				return nil, fmt.Errorf("%w: %s must be true or false", ErrInvalid, k)
			}
			in.Set(k, strconv.FormatBool(b))
		case "strings":
			list, ok := v.([]any)
			if !ok {
				return nil, fmt.Errorf("%w: %s must be an array of strings", ErrInvalid, k)
			}
			in[k] = []string{} // present, maybe empty
			for _, e := range list {
				s, ok := e.(string)
				if !ok {
					return nil, fmt.Errorf("%w: %s must be an array of strings", ErrInvalid, k)
				}
				in[k] = append(in[k], s)
			}
		}
	}
	return in, nil
}

// guard authenticates and authorises a request for rt, then calls rt.fn.
func (h *Handler) guard(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		c := &call{lang: h.lang(w, r)}
		s, ok, err := h.cfg.Sessions.Session(r)
		if err != nil {
			h.fail(w, r, rt, c, "read session", err)
			return
		}
		if !ok {
			if rt.api() {
				h.json.Error(w, http.StatusUnauthorized, "login_required", "log in at the provider first (a session with the second factor)")
				return
			}
			h.cfg.Sessions.Login(w, r, h.next(r), c.lang, false)
			return
		}
		c.s = s
		c.p.PersonID = s.PersonID
		if c.p.Grants, err = h.cfg.Store.ListRoles(ctx, s.PersonID); err != nil {
			h.fail(w, r, rt, c, "read roles", err)
			return
		}
		c.actor = audit.Actor{ID: s.PersonID, Role: strings.Join(c.p.Roles(), ","), Address: h.cfg.ClientIP(r)}
		if len(c.p.Grants) == 0 {
			h.deny(w, r, rt, c, "", "", "no_role")
			return
		}
		if !s.MFA {
			if !s.SecondFactor {
				h.deny(w, r, rt, c, "", "", "no_second_factor")
				return
			}
			if rt.api() {
				h.json.Error(w, http.StatusUnauthorized, "mfa_required", "log in again with the second factor")
				return
			}
			h.cfg.Sessions.Login(w, r, h.next(r), c.lang, false)
			return
		}
		c.csrf = h.csrf.Token(csrfPurpose, s.Binding)
		if !c.p.Global(rt.perm) && len(c.p.Departments(rt.perm)) == 0 {
			// No role of theirs has it for any department: refused before the body is read.
			object, clientID := r.PathValue("id"), ""
			if rt.scope == scopeApp {
				clientID = object
			}
			h.deny(w, r, rt, c, object, clientID, "role")
			return
		}
		if rt.posted() && crossSite(r, h.cfg.Origin) {
			h.deny(w, r, rt, c, "", "", "cross_site")
			return
		}
		var inErr error
		c.in, inErr = readInput(r)
		if rt.posted() && !h.checkCSRF(r, c.in, s) {
			h.deny(w, r, rt, c, "", "", "csrf")
			return
		}
		if inErr != nil {
			h.answerErr(w, r, rt, c, inErr)
			return
		}
		object, clientID, department := "", "", ""
		switch rt.scope {
		case scopeApp:
			if h.cfg.Apps == nil {
				h.unavailable(w, r, rt, c)
				return
			}
			id := r.PathValue("id")
			object, clientID = id, id
			c.app, err = h.cfg.Apps.GetApp(ctx, id)
			switch {
			case errors.Is(err, ErrNotFound) && c.p.Global(rt.perm):
				h.answerErr(w, r, rt, c, err)
				return
			case errors.Is(err, ErrNotFound):
				h.deny(w, r, rt, c, object, clientID, "role")
				return
			case err != nil:
				h.fail(w, r, rt, c, "read app", err)
				return
			}
			department = c.app.Department
		case scopeDept:
			department = strings.TrimSpace(c.in.Get("department"))
			if depts := c.p.Departments(rt.perm); department == "" && !c.p.Global(rt.perm) && len(depts) > 0 {
				department = depts[0]
			}
			c.dept = department
			object = department
		}
		role, allowed := c.p.Allow(rt.perm, department)
		if !allowed {
			h.deny(w, r, rt, c, object, clientID, "role")
			return
		}
		c.actor.Role = role
		if rt.mutating() && !s.Fresh {
			if rt.api() {
				h.json.Error(w, http.StatusUnauthorized, "fresh_login_required", "log in again: changes need a recent login")
				return
			}
			h.cfg.Sessions.Login(w, r, h.next(r), c.lang, true)
			return
		}
		rt.fn(h, w, r, c)
	})
}

// next is where a login for r continues: r's own page for a console GET, the page a console
// form was posted from (its path without the action) otherwise.
func (h *Handler) next(r *http.Request) string {
	if r.Method == http.MethodGet {
		q := r.URL.Query()
		q.Del("ui_locales")
		if len(q) == 0 {
			return r.URL.Path
		}
		return r.URL.Path + "?" + q.Encode()
	}
	p := path.Dir(r.URL.Path)
	if !strings.HasPrefix(p, h.cfg.Path) {
		return h.cfg.Path + "/"
	}
	return p
}

// checkCSRF reports whether r carries the session's CSRF token, in the X-CSRF-Token header or
// the csrf form field (compared in constant time by httpkit.CSRF.Valid).
func (h *Handler) checkCSRF(r *http.Request, in url.Values, s Session) bool {
	tok := r.Header.Get("X-CSRF-Token")
	if tok == "" {
		tok = in.Get(httpkit.CSRFField)
	}
	return h.csrf.Valid(tok, csrfPurpose, s.Binding)
}

// crossSite reports whether r comes from another site. A browser's Sec-Fetch-Site decides
// when present (same-origin and none — typed or bookmarked — pass); browsers send
// "Origin: null" on a form post from a page with Referrer-Policy no-referrer, as the console's
// pages are, so the Origin header is compared (with origin) only without it. A request with
// neither (a tool) passes here and stands on its CSRF token.
func crossSite(r *http.Request, origin string) bool {
	switch site := r.Header.Get("Sec-Fetch-Site"); site {
	case "same-origin", "none":
		return false
	case "":
	default:
		return true
	}
	o := r.Header.Get("Origin")
	return o != "" && o != origin
}

// deny audits a refusal as admin.denied (Subject the object, ClientID the app, Detail
// "attempt=ACTION reason=REASON" after the actor's roles and address) and answers 403.
func (h *Handler) deny(w http.ResponseWriter, r *http.Request, rt route, c *call, object, clientID, reason string) {
	actor := c.actor
	actor.Role = strings.Join(c.p.Roles(), ",")
	if err := actor.Record(r.Context(), h.cfg.Store, h.cfg.Now(), "admin.denied", object, clientID,
		"attempt="+rt.action+" reason="+reason); err != nil {
		h.fail(w, r, rt, c, "audit a refusal", err)
		return
	}
	if rt.api() {
		desc := map[string]string{
			"no_role":          "you hold no administrator role",
			"no_second_factor": "enrol a second factor (an authenticator app or a passkey) on the account page first",
			"cross_site":       "cross-site request refused",
			"csrf":             "missing or wrong CSRF token (X-CSRF-Token header or csrf field)",
			"role":             "your roles do not allow " + rt.action + " on this object",
		}[reason]
		code := "forbidden"
		if reason == "csrf" || reason == "cross_site" {
			code = "csrf_invalid"
		} else if reason == "no_second_factor" {
			code = "second_factor_required"
		}
		h.json.Error(w, http.StatusForbidden, code, desc)
		return
	}
	msg := map[string]string{"no_role": "denyNoRole", "no_second_factor": "denyNoMFA", "cross_site": "denyCSRF",
		"csrf": "denyCSRF", "role": "denyRole"}[reason]
	h.message(w, r, c, http.StatusForbidden, "deniedHeading", msg, reason == "no_second_factor")
}

// fail logs an internal error (no personal data: op names what failed) and answers 500, or
// 503 when the database is unavailable.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, rt route, c *call, op string, err error) {
	h.cfg.Logger.ErrorContext(r.Context(), "admin: "+op, "route", rt.action, "err", err)
	status, code := http.StatusInternalServerError, "server_error"
	if errors.Is(err, storage.ErrUnavailable) {
		status, code = http.StatusServiceUnavailable, "temporarily_unavailable"
	}
	if rt.api() {
		h.json.Error(w, status, code, "")
		return
	}
	h.message(w, r, c, status, "errorHeading", "errServer", false)
}

// unavailable answers 501 for a route whose backend is not set up.
func (h *Handler) unavailable(w http.ResponseWriter, r *http.Request, rt route, c *call) {
	if rt.api() {
		h.json.Error(w, http.StatusNotImplemented, "not_available", "this function is not set up on this server")
		return
	}
	h.message(w, r, c, http.StatusNotImplemented, "errorHeading", "errNotAvailable", false)
}

// answerErr answers a backend error: the sentinels of errors.go by their status, others as
// internal errors.
func (h *Handler) answerErr(w http.ResponseWriter, r *http.Request, rt route, c *call, err error) {
	var status int
	var code, msg string
	switch {
	case errors.Is(err, ErrNotFound):
		status, code, msg = http.StatusNotFound, "not_found", "errNotFound"
	case errors.Is(err, ErrConflict):
		status, code, msg = http.StatusConflict, "conflict", "errConflict"
	case errors.Is(err, ErrInvalid):
		status, code, msg = http.StatusBadRequest, "invalid_request", "errInvalid"
	case errors.Is(err, ErrForbidden):
		h.deny(w, r, rt, c, r.PathValue("id"), "", "role")
		return
	case errors.Is(err, ErrUnavailable):
		h.unavailable(w, r, rt, c)
		return
	default:
		h.fail(w, r, rt, c, rt.action, err)
		return
	}
	if rt.api() {
		// The sentinel's message says what kind of problem it is; the adapter's detail may
		// name internals, so only the sentinel text goes out.
		h.json.Error(w, status, code, publicText(err))
		return
	}
	d := h.newPage(r, c, "")
	d.Heading, d.Message, d.Error = d.T["errorHeading"], d.T[msg], true
	if status != http.StatusNotFound {
		d.FormError = publicText(err) // what was wrong, e.g. "reason must be 1 to 500 characters"
	}
	h.render(w, status, "message", d)
}

// publicText is the part of err meant for the caller: the text after the last sentinel of
// this package ("admin: invalid input: reason must be …" → "reason must be …"), or the
// sentinel's own text.
func publicText(err error) string {
	for _, s := range []error{ErrInvalid, ErrConflict, ErrNotFound} {
		if errors.Is(err, s) {
			msg := err.Error()
			if i := strings.LastIndex(msg, s.Error()+": "); i >= 0 {
				return msg[i+len(s.Error())+2:]
			}
			return strings.TrimPrefix(s.Error(), "admin: ")
		}
	}
	return ""
}

// notFound answers paths under the console that match no route.
func (h *Handler) notFound(w http.ResponseWriter, r *http.Request) {
	if _, pattern := h.paths.Handler(r); pattern != "" && h.allow[pattern] != nil {
		w.Header().Set("Allow", strings.Join(h.allow[pattern], ", "))
		if strings.HasPrefix(r.URL.Path, h.cfg.Path+APIPrefix+"/") {
			h.json.Error(w, http.StatusMethodNotAllowed, "method_not_allowed", "this route answers "+strings.Join(h.allow[pattern], ", "))
			return
		}
		h.message(w, r, &call{lang: h.lang(w, r)}, http.StatusMethodNotAllowed, "notFoundHeading", "errNoPage", false)
		return
	}
	if strings.HasPrefix(r.URL.Path, h.cfg.Path+APIPrefix+"/") {
		h.json.Error(w, http.StatusNotFound, "not_found", "no such route")
		return
	}
	h.message(w, r, &call{lang: h.lang(w, r)}, http.StatusNotFound, "notFoundHeading", "errNoPage", false)
}

// langCookie remembers the console's language (?ui_locales=), a year.
const langCookie = "tb_admin_lang"

// lang is the page language: ?ui_locales= (remembered in a cookie), else the cookie, else
// zh-CN.
func (h *Handler) lang(w http.ResponseWriter, r *http.Request) string {
	if v := r.URL.Query().Get("ui_locales"); v != "" {
		l := pickLang(v)
		h.cookies.Set(w, langCookie, l, 365*24*3600)
		return l
	}
	return pickLang(h.cookies.Value(r, langCookie))
}

// pickLang is "en" for a value starting with en, else "zh-CN".
func pickLang(v string) string {
	if strings.HasPrefix(strings.ToLower(strings.TrimSpace(v)), "en") {
		return langEN
	}
	return langZH
}
