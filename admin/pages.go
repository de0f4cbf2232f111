package admin

import (
	"bytes"
	"embed"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/tongban/tongban/internal/httpkit"
)

//go:embed templates/*.html templates/*.css templates/*.js
var templateFS embed.FS

// pages holds the parsed console pages (each templates/NAME.html with layout.html) and the
// stylesheet and script served under Config.Path + "/assets/".
type pages struct {
	t      map[string]*template.Template
	assets map[string][]byte
}

var pageFuncs = template.FuncMap{
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.In(beijing).Format("2006-01-02 15:04")
	},
	"join": strings.Join,
	"text": func(T map[string]string, prefix, key string) string {
		if v, ok := T[prefix+key]; ok {
			return v
		}
		return key
	},
}

func newPages() (*pages, error) {
	p := &pages{t: map[string]*template.Template{}, assets: map[string][]byte{}}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		base := path.Base(n)
		if base == "layout.html" {
			continue
		}
		t, err := template.New(base).Funcs(pageFuncs).ParseFS(templateFS, "templates/layout.html", n)
		if err != nil {
			return nil, err
		}
		p.t[strings.TrimSuffix(base, ".html")] = t
	}
	for _, glob := range []string{"templates/*.css", "templates/*.js"} {
		files, err := fs.Glob(templateFS, glob)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			if p.assets[path.Base(f)], err = templateFS.ReadFile(f); err != nil {
				return nil, err
			}
		}
	}
	return p, nil
}

// handleAsset serves the console's stylesheet and script (GET /assets/{name}).
func (h *Handler) handleAsset(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	httpkit.ServeAsset(w, r, name, h.pages.assets[name], time.Hour)
}

// navLink is one entry of the console's navigation.
type navLink struct {
	Key, URL string
	Active   bool
}

// diffRow is one field of an app's pending change: the published and the proposed value.
type diffRow struct {
	Field, Old, New string
	Changed         bool
}

// onceData is a value shown once (a new client secret, an initial access token, a reset link).
type onceData struct {
	Kind, Label, Value, Expires, Back string
}

// confirmData is the confirm step of a person action.
type confirmData struct {
	Action, Seg string
	Reason      bool
}

// pageData is what the console templates see.
type pageData struct {
	Lang, SwitchLang, SwitchURL string
	T                           map[string]string
	Base, CSS, JS, CSRF         string
	PersonID                    string
	Roles                       []string
	Nav                         []navLink
	Heading, Message, EnrolURL  string
	Error                       bool
	Notice                      string
	Can                         map[string]bool

	PendingApps, PendingCorrections string

	Apps                []App
	NextURL             string
	Statuses            []string
	Status, Department  string
	Departments         []string
	App                 *App
	Diff                []diffRow
	Hours               []AppHour
	HoursNote           string
	People              []Person
	Query               string
	Person              *Person
	Confirm             *confirmData
	Corrections         []Correction
	CorrectionStatuses  []string
	Audit               []AuditEntry
	AuditFilter         url.Values
	Once                *onceData
	IATDepartmentLocked bool
	IATDefaultTTLHours  int
	AppForm             *appFormData // appforms.go
	IATMaxTTLHours      int
	AppActions          appActionSet
	Correction          *Correction
	ConfirmApply        bool
	// FormSeg, FormError, FormReason and FormTTL show a refused console form again: the
	// action (its path segment, "issue" for the token form), the message of what was wrong,
	// and what was typed.
	FormSeg, FormError, FormReason, FormTTL string
	// Alert is an error shown at the top of the page.
	Alert string
}

// newPage fills the fields every console page has.
func (h *Handler) newPage(r *http.Request, c *call, active string) pageData {
	lang := c.lang
	other := langEN
	if lang == langEN {
		other = langZH
	}
	q := r.URL.Query()
	q.Set("ui_locales", other)
	d := pageData{Lang: lang, T: messages[lang], SwitchLang: other, SwitchURL: r.URL.Path + "?" + q.Encode(),
		Base: h.cfg.Path, CSS: h.cfg.Path + "/assets/admin.css", JS: h.cfg.Path + "/assets/admin.js",
		CSRF: c.csrf, PersonID: c.p.PersonID, Roles: c.p.Roles(), Can: map[string]bool{}}
	for _, perm := range []Permission{PermAppsRead, PermAppsReview, PermAppsManage, PermAppsSecret, PermIATIssue, PermAppsRegister, PermAppsChange,
		PermPeopleRead, PermPeopleManage, PermCorrectionsRead, PermCorrectionsDecide, PermAuditRead, PermAppsStats} {
		if c.p.Global(perm) || len(c.p.Departments(perm)) > 0 {
			d.Can[string(perm)] = true
		}
	}
	if len(c.p.Grants) > 0 {
		d.Nav = append(d.Nav, navLink{Key: "navOverview", URL: h.cfg.Path + "/"})
		for _, n := range []struct {
			perm     Permission
			key, url string
		}{
			{PermAppsRead, "navApps", "/apps"}, {PermPeopleRead, "navPeople", "/people"},
			{PermCorrectionsRead, "navCorrections", "/corrections"}, {PermAuditRead, "navAudit", "/audit"},
		} {
			if d.Can[string(n.perm)] {
				d.Nav = append(d.Nav, navLink{Key: n.key, URL: h.cfg.Path + n.url})
			}
		}
	}
	for i := range d.Nav {
		d.Nav[i].Active = d.Nav[i].Key == active
	}
	if done := r.URL.Query().Get("done"); done != "" && (slices.ContainsFunc(actions, func(a action) bool { return a.name == done }) || slices.Contains(formActions, done)) {
		d.Notice = d.T["done."+done]
	}
	return d
}

// render writes page name with status.
func (h *Handler) render(w http.ResponseWriter, status int, name string, d pageData) {
	var buf bytes.Buffer
	if err := h.pages.t[name].ExecuteTemplate(&buf, "layout", d); err != nil {
		h.cfg.Logger.Error("admin: render page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// message shows a message page: heading and message are message keys. enrol adds the link
// to the account page where a second factor is enrolled.
func (h *Handler) message(w http.ResponseWriter, r *http.Request, c *call, status int, heading, msg string, enrol bool) {
	d := h.newPage(r, c, "")
	d.Heading, d.Message, d.Error = d.T[heading], d.T[msg], status >= 400
	if enrol {
		d.EnrolURL = h.cfg.AccountURL + "?ui_locales=" + url.QueryEscape(c.lang)
	}
	h.render(w, status, "message", d)
}
