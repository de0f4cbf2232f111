package admin

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// Registering and changing apps in the console and the API (docs/design/app-management.md):
// a department administrator registers its department's apps for review and proposes changes
// of them; an operator does the same for any department. A registration is pending_review
// until a reviewer approves it; a change of a published app waits as its pending change.
// Neither ever publishes anything: approving stays the reviewer's.

// NewApp is an app to register for review (Apps.RegisterApp, POST /apps). The provider
// validates it as `idp clients add` does and fills the same defaults.
type NewApp struct {
	ID                     string   `json:"id"`            // client_id: 1 to 128 of A-Z a-z 0-9 . _ ~ -
	Name                   string   `json:"name"`          // shown on the consent page; "" = ID
	Department             string   `json:"department"`    // department code, required
	RedirectURIs           []string `json:"redirect_uris"` // exact match; https (or http on loopback)
	PostLogoutRedirectURIs []string `json:"post_logout_redirect_uris,omitempty"`
	Scopes                 []string `json:"scopes,omitempty"`      // nil = "openid profile offline_access"
	GrantTypes             []string `json:"grant_types,omitempty"` // nil = authorization_code, refresh_token
	Public                 bool     `json:"public,omitempty"`      // a native or browser app without secret
	LogoURI                string   `json:"logo_uri,omitempty"`    // https
	// Purpose is why the app reads licences (licence:<kind> scopes; required with them), zh-CN.
	Purpose string `json:"purpose,omitempty"`
}

// AppEdit is a proposed change of an app's metadata (Apps.ChangeApp, PUT /apps/{id}): an
// empty string or nil list keeps the current value.
type AppEdit struct {
	Name         string   `json:"name,omitempty"`
	LogoURI      string   `json:"logo_uri,omitempty"`
	RedirectURIs []string `json:"redirect_uris,omitempty"`
	Scopes       []string `json:"scopes,omitempty"`
	GrantTypes   []string `json:"grant_types,omitempty"`
}

// formActions are the audited actions of this file whose ?done= notice the console shows.
var formActions = []string{"client.register", "client.update"}

// formGrantTypes are the grant types the forms offer, in order.
var formGrantTypes = []string{"authorization_code", "refresh_token", "client_credentials"}

// listInput is the list field key of in: every value split at white space (a textarea with
// one URI a line, a scope string, an array of a JSON body, repeated form fields), and
// whether the field was given at all.
func listInput(in url.Values, key string) ([]string, bool) {
	vs, ok := in[key]
	if !ok {
		return nil, false
	}
	out := []string{}
	for _, v := range vs {
		out = append(out, strings.Fields(v)...)
	}
	return out, true
}

// newAppInput reads a registration from in, for department.
func newAppInput(in url.Values, department string) NewApp {
	a := NewApp{ID: strings.TrimSpace(in.Get("id")), Name: strings.TrimSpace(in.Get("name")), Department: department,
		LogoURI: strings.TrimSpace(in.Get("logo_uri")), Purpose: strings.TrimSpace(in.Get("purpose"))}
	a.RedirectURIs, _ = listInput(in, "redirect_uris")
	a.PostLogoutRedirectURIs, _ = listInput(in, "post_logout_redirect_uris")
	if v, ok := listInput(in, "scopes"); ok && len(v) > 0 {
		a.Scopes = v
	}
	if v, ok := listInput(in, "grant_types"); ok && len(v) > 0 {
		a.GrantTypes = v
	}
	a.Public = in.Get("public") == "true" || in.Get("public") == "on"
	return a
}

// appEditInput reads a change from in; ErrInvalid when it changes nothing.
func appEditInput(in url.Values) (AppEdit, error) {
	e := AppEdit{Name: strings.TrimSpace(in.Get("name")), LogoURI: strings.TrimSpace(in.Get("logo_uri"))}
	e.RedirectURIs, _ = listInput(in, "redirect_uris")
	e.Scopes, _ = listInput(in, "scopes")
	e.GrantTypes, _ = listInput(in, "grant_types")
	if e.Name == "" && e.LogoURI == "" && len(e.RedirectURIs) == 0 && len(e.Scopes) == 0 && len(e.GrantTypes) == 0 {
		return e, fmt.Errorf("%w: name, logo_uri, redirect_uris, scopes or grant_types must be given", ErrInvalid)
	}
	// An empty list keeps the current value (AppEdit): nil it for the backend.
	for _, l := range []*[]string{&e.RedirectURIs, &e.Scopes, &e.GrantTypes} {
		if len(*l) == 0 {
			*l = nil
		}
	}
	return e, nil
}

// registerDepartment checks the department of a registration (the guard authorised c.dept).
func registerDepartment(c *call) (string, error) {
	if !ValidDepartment(c.dept) {
		return "", fmt.Errorf("%w: department must be a department code (1 to 64 of a-z, 0-9, -)", ErrInvalid)
	}
	return c.dept, nil
}

// apiRegisterApp registers an app for review (POST /apps): 201 {"app", "client_secret"}.
func (h *Handler) apiRegisterApp(w http.ResponseWriter, r *http.Request, c *call) {
	rt := route{method: http.MethodPost, path: APIPrefix + "/apps", action: "client.register"}
	if h.cfg.Apps == nil {
		h.unavailable(w, r, rt, c)
		return
	}
	dept, err := registerDepartment(c)
	if err != nil {
		h.answerErr(w, r, rt, c, err)
		return
	}
	a, secret, err := h.cfg.Apps.RegisterApp(r.Context(), c.actor, newAppInput(c.in, dept))
	if err != nil {
		h.answerErr(w, r, rt, c, err)
		return
	}
	out := map[string]any{"app": a}
	if secret != "" {
		out["client_secret"] = secret
	}
	w.Header().Set("Cache-Control", "no-store")
	h.json.Write(w, http.StatusCreated, out)
}

// apiChangeApp proposes a change of an app (PUT /apps/{id}): 200 {"app"}.
func (h *Handler) apiChangeApp(w http.ResponseWriter, r *http.Request, c *call) {
	rt := route{method: http.MethodPut, path: APIPrefix + "/apps/{id}", action: "client.update"}
	ch, err := appEditInput(c.in)
	if err == nil {
		err = h.cfg.Apps.ChangeApp(r.Context(), c.actor, c.app.ID, ch)
	}
	if err != nil {
		h.answerErr(w, r, rt, c, err)
		return
	}
	res, err := appResult(h, r.Context(), c.app.ID)
	if err != nil {
		h.answerErr(w, r, rt, c, err)
		return
	}
	h.json.Write(w, http.StatusOK, res)
}

// appFormData is the registration or change form of an app.
type appFormData struct {
	Change           bool   // a change of an existing app (else a registration)
	Action           string // where the form posts
	ID, Name, Logo   string
	Department       string
	Departments      []string // a department administrator's choices; nil = free text (operator)
	RedirectURIs     string   // one a line
	PostLogoutURIs   string
	Scopes           string // space-separated
	Grants           map[string]bool
	GrantTypes       []string // the choices
	Public           bool
	Purpose          string
	Published        bool   // the change waits for review
	Problem          string // what was wrong with the last input (the provider's words)
	DepartmentLocked bool
}

// registerForm is the registration form, filled from in (nil: empty, the defaults ticked).
func (h *Handler) registerForm(c *call, in url.Values) *appFormData {
	f := &appFormData{Action: h.cfg.Path + "/register", Department: c.dept, GrantTypes: formGrantTypes, Grants: map[string]bool{}}
	if !c.p.Global(PermAppsRegister) {
		f.Departments = c.p.Departments(PermAppsRegister)
	}
	if in == nil {
		f.Scopes = "openid profile offline_access"
		f.Grants["authorization_code"], f.Grants["refresh_token"] = true, true
		return f
	}
	a := newAppInput(in, c.dept)
	f.ID, f.Name, f.Logo, f.Purpose, f.Public = a.ID, a.Name, a.LogoURI, a.Purpose, a.Public
	f.RedirectURIs, f.PostLogoutURIs = strings.Join(a.RedirectURIs, "\n"), strings.Join(a.PostLogoutRedirectURIs, "\n")
	f.Scopes = strings.Join(a.Scopes, " ")
	for _, g := range a.GrantTypes {
		f.Grants[g] = true
	}
	return f
}

// changeForm is the change form of c.app, filled from in (nil: the app's values, its pending
// change's where it has one).
func (h *Handler) changeForm(c *call, in url.Values) *appFormData {
	a := c.app
	f := &appFormData{Change: true, Action: h.cfg.Path + "/apps/" + url.PathEscape(a.ID) + "/change", ID: a.ID,
		Department: a.Department, GrantTypes: formGrantTypes, Grants: map[string]bool{},
		Published: a.Status == StatusPublished || a.Status == StatusSuspended, DepartmentLocked: true}
	name, logo, uris, scopes, grants := a.Name, a.LogoURI, a.RedirectURIs, a.Scopes, a.GrantTypes
	if p := a.Pending; p != nil {
		name, logo, uris, scopes, grants = p.Name, p.LogoURI, p.RedirectURIs, p.Scopes, p.GrantTypes
	}
	if in != nil {
		e, _ := appEditInput(in)
		name, logo, uris, scopes, grants = e.Name, e.LogoURI, e.RedirectURIs, e.Scopes, e.GrantTypes
	}
	f.Name, f.Logo, f.RedirectURIs, f.Scopes = name, logo, strings.Join(uris, "\n"), strings.Join(scopes, " ")
	for _, g := range grants {
		f.Grants[g] = true
	}
	// A grant type the form does not offer stays as it is: shown ticked and posted.
	for _, g := range grants {
		if !slices.Contains(f.GrantTypes, g) {
			f.GrantTypes = append(slices.Clone(f.GrantTypes), g)
		}
	}
	return f
}

// pageRegisterForm shows the registration form (GET /register).
func (h *Handler) pageRegisterForm(w http.ResponseWriter, r *http.Request, c *call) {
	if h.cfg.Apps == nil {
		h.unavailable(w, r, route{path: "/register", action: "client.register.form"}, c)
		return
	}
	d := h.newPage(r, c, "navApps")
	d.AppForm = h.registerForm(c, nil)
	h.render(w, http.StatusOK, "appform", d)
}

// pageRegister registers the posted app (POST /register) and shows its secret once; bad input
// shows the form again with everything entered and what is wrong.
func (h *Handler) pageRegister(w http.ResponseWriter, r *http.Request, c *call) {
	rt := route{method: http.MethodPost, path: "/register", action: "client.register"}
	if h.cfg.Apps == nil {
		h.unavailable(w, r, rt, c)
		return
	}
	dept, err := registerDepartment(c)
	var a App
	var secret string
	if err == nil {
		a, secret, err = h.cfg.Apps.RegisterApp(r.Context(), c.actor, newAppInput(c.in, dept))
	}
	if errors.Is(err, ErrInvalid) || errors.Is(err, ErrConflict) {
		h.appFormAgain(w, r, c, h.registerForm(c, c.in), err)
		return
	}
	if err != nil {
		h.answerErr(w, r, rt, c, err)
		return
	}
	back := h.cfg.Path + "/apps/" + url.PathEscape(a.ID)
	if secret == "" {
		http.Redirect(w, r, back+"?done=client.register", http.StatusSeeOther)
		return
	}
	d := h.newPage(r, c, "navApps")
	d.Notice = d.T["done.client.register"]
	d.Once = &onceData{Kind: "client.register", Label: d.T["onceSecret"] + " (" + a.ID + ")", Value: secret, Back: back}
	w.Header().Set("Cache-Control", "no-store")
	h.render(w, http.StatusCreated, "once", d)
}

// pageChangeForm shows the change form of an app (GET /apps/{id}/change).
func (h *Handler) pageChangeForm(w http.ResponseWriter, r *http.Request, c *call) {
	if c.app.Status == StatusRetired {
		h.answerErr(w, r, route{path: "/apps/{id}/change", action: "client.update.form"}, c, ErrConflict)
		return
	}
	d := h.newPage(r, c, "navApps")
	d.AppForm = h.changeForm(c, nil)
	h.render(w, http.StatusOK, "appform", d)
}

// pageChange proposes the posted change (POST /apps/{id}/change) and goes back to the app;
// bad input shows the form again with everything entered and what is wrong.
func (h *Handler) pageChange(w http.ResponseWriter, r *http.Request, c *call) {
	rt := route{method: http.MethodPost, path: "/apps/{id}/change", action: "client.update"}
	ch, err := appEditInput(c.in)
	if err == nil {
		err = h.cfg.Apps.ChangeApp(r.Context(), c.actor, c.app.ID, ch)
	}
	if errors.Is(err, ErrInvalid) {
		h.appFormAgain(w, r, c, h.changeForm(c, c.in), err)
		return
	}
	if err != nil {
		h.answerErr(w, r, rt, c, err)
		return
	}
	http.Redirect(w, r, h.cfg.Path+"/apps/"+url.PathEscape(c.app.ID)+"?done=client.update", http.StatusSeeOther)
}

// appFormAgain shows form again (400, or 409 for a taken ID) with the problem of err.
func (h *Handler) appFormAgain(w http.ResponseWriter, r *http.Request, c *call, f *appFormData, err error) {
	d := h.newPage(r, c, "navApps")
	status := http.StatusBadRequest
	f.Problem = publicText(err)
	if errors.Is(err, ErrConflict) {
		status, f.Problem = http.StatusConflict, d.T["errAppExists"]
	}
	d.AppForm, d.Error = f, true
	h.render(w, status, "appform", d)
}

func init() {
	for k, v := range map[string]string{
		"registerApp": "登记新应用", "changeApp": "修改应用信息", "registerHelp": "登记后应用处于“待审核”状态，审核员批准后方可使用。客户端密钥只显示一次。",
		"changeHelpPublished": "应用已发布：修改将作为待审核变更提交，批准前应用继续使用当前信息。", "changeHelpPending": "应用尚未发布：修改立即生效，应用重新进入待审核。",
		"fieldPostLogout": "退出后回调地址", "fieldPublic": "公开客户端（移动或浏览器应用，无密钥）", "fieldPurpose": "读取证照的用途",
		"oneALine": "每行一个", "spaceSeparated": "以空格分隔", "submitRegister": "提交审核", "submitChange": "提交修改",
		"problem": "请修改以下问题后重新提交：", "errAppExists": "这个应用 ID 已被使用，请换一个。",
		"done.client.register": "已登记，等待审核。", "done.client.update": "修改已提交。",
	} {
		messages[langZH][k] = v
	}
	for k, v := range map[string]string{
		"registerApp": "Register an app", "changeApp": "Change the app", "registerHelp": "A registered app waits for review; it works once a reviewer approves it. The client secret is shown once.",
		"changeHelpPublished": "The app is published: the change waits for review, and the app keeps its current details until it is approved.", "changeHelpPending": "The app is not published yet: the change applies at once and the app goes back to review.",
		"fieldPostLogout": "Post-logout redirect URIs", "fieldPublic": "Public client (mobile or browser app, no secret)", "fieldPurpose": "Why it reads licences",
		"oneALine": "one a line", "spaceSeparated": "separated by spaces", "submitRegister": "Submit for review", "submitChange": "Submit the change",
		"problem": "Fix this and submit again:", "errAppExists": "This app ID is taken; choose another.",
		"done.client.register": "Registered; waiting for review.", "done.client.update": "The change is submitted.",
	} {
		messages[langEN][k] = v
	}
}
