package admin

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// pageOverview shows the overview (GET /): what waits for the administrator's roles.
func (h *Handler) pageOverview(w http.ResponseWriter, r *http.Request, c *call) {
	d := h.newPage(r, c, "navOverview")
	ctx := r.Context()
	count := func(n int, more bool) string {
		s := strconv.Itoa(n)
		if more {
			s += "+"
		}
		return s
	}
	q := AppQuery{Status: StatusPendingReview, Limit: MaxPageSize}
	depts := c.p.Departments(PermAppsRead)
	if !c.p.Global(PermAppsRead) && len(depts) == 1 {
		q.Department = depts[0]
	}
	if h.cfg.Apps != nil && (c.p.Global(PermAppsRead) || q.Department != "") {
		if page, err := h.cfg.Apps.ListApps(ctx, q); err == nil {
			d.PendingApps = count(len(page.Apps), page.Next != "")
		}
	}
	if h.cfg.Corrections != nil && d.Can[string(PermCorrectionsRead)] {
		if ks, next, err := h.cfg.Corrections.ListCorrections(ctx, CorrectionPending, "", MaxPageSize); err == nil {
			d.PendingCorrections = count(len(ks), next != "")
		}
	}
	h.render(w, http.StatusOK, "overview", d)
}

// pageApps shows the app list with its filters and paging (GET /apps).
func (h *Handler) pageApps(w http.ResponseWriter, r *http.Request, c *call) {
	page, q, ok := h.listApps(w, r, c, route{path: "/apps", action: "apps.list"})
	if !ok {
		return
	}
	d := h.newPage(r, c, "navApps")
	d.Apps, d.Statuses, d.Status, d.Department = page.Apps, AppStatuses, q.Status, q.Department
	if !c.p.Global(PermAppsRead) {
		d.Departments = c.p.Departments(PermAppsRead)
	}
	if page.Next != "" {
		v := url.Values{"after": {page.Next}}
		if q.Status != "" {
			v.Set("status", q.Status)
		}
		if q.Department != "" {
			v.Set("department", q.Department)
		}
		d.NextURL = h.cfg.Path + "/apps?" + v.Encode()
	}
	h.render(w, http.StatusOK, "apps", d)
}

// pageApp shows one app (GET /apps/{id}): metadata, pending change, actions, figures.
func (h *Handler) pageApp(w http.ResponseWriter, r *http.Request, c *call) {
	h.render(w, http.StatusOK, "app", h.appData(r, c))
}

// appData is the app page's data for c.app.
func (h *Handler) appData(r *http.Request, c *call) pageData {
	d := h.newPage(r, c, "navApps")
	a := c.app
	d.App = &a
	if a.Pending != nil {
		p := a.Pending
		for _, f := range []struct{ name, old, new string }{
			{"fieldName", a.Name, p.Name},
			{"fieldRedirectURIs", strings.Join(a.RedirectURIs, "\n"), strings.Join(p.RedirectURIs, "\n")},
			{"fieldScopes", strings.Join(a.Scopes, " "), strings.Join(p.Scopes, " ")},
			{"fieldGrantTypes", strings.Join(a.GrantTypes, " "), strings.Join(p.GrantTypes, " ")},
			{"fieldLogo", a.LogoURI, p.LogoURI},
		} {
			d.Diff = append(d.Diff, diffRow{Field: d.T[f.name], Old: f.old, New: f.new, Changed: f.old != f.new})
		}
	}
	// Only what the admin may do to this app's department shows as buttons.
	for _, perm := range []Permission{PermAppsReview, PermAppsManage, PermAppsSecret, PermAppsStats, PermAppsChange} {
		_, d.Can[string(perm)] = c.p.Allow(perm, a.Department)
	}
	if d.Can[string(PermAppsStats)] {
		hours, err := h.appHours(r, c)
		switch {
		case errors.Is(err, ErrUnavailable):
			d.HoursNote = d.T["errNotAvailable"]
		case err != nil:
			h.cfg.Logger.ErrorContext(r.Context(), "admin: read app figures", "err", err)
			d.HoursNote = d.T["errServer"]
		default:
			d.Hours = hours
		}
	}
	d.AppActions = appActions(a, d.Can)
	return d
}

// pageIAT shows the form that issues an initial access token (GET /initial-access-tokens).
func (h *Handler) pageIAT(w http.ResponseWriter, r *http.Request, c *call) {
	h.render(w, http.StatusOK, "iat", h.iatData(r, c))
}

// iatData is the data of the initial access token form.
func (h *Handler) iatData(r *http.Request, c *call) pageData {
	d := h.newPage(r, c, "navApps")
	d.Department = c.dept
	d.IATDepartmentLocked = !c.p.Global(PermIATIssue)
	d.IATDefaultTTLHours = int(h.cfg.IATLifetime.Hours())
	d.IATMaxTTLHours = int(MaxIATLifetime.Hours())
	return d
}

// pagePeople shows the people search (GET /people) and its results (POST /people, q: the
// identifier is posted so that it stays out of URLs, access logs and browser history).
func (h *Handler) pagePeople(w http.ResponseWriter, r *http.Request, c *call) {
	d := h.newPage(r, c, "navPeople")
	if r.Method == http.MethodPost {
		d.Query = strings.TrimSpace(c.in.Get("q"))
	}
	if d.Query != "" {
		if h.cfg.People == nil {
			h.unavailable(w, r, route{path: "/people", action: "people.find"}, c)
			return
		}
		var ps []Person
		err := checkPeopleQuery(d.Query)
		if err == nil {
			ps, err = h.cfg.People.FindPeople(r.Context(), d.Query)
		}
		switch {
		case errors.Is(err, ErrInvalid):
			d.Message, d.Error = d.T["errSearch"], true
		case err != nil:
			h.answerErr(w, r, route{path: "/people", action: "people.find"}, c, err)
			return
		}
		d.People = ps
		if len(ps) == 0 && !d.Error {
			d.Message = d.T["noPeople"]
		}
	}
	h.render(w, http.StatusOK, "people", d)
}

// pagePerson shows one person (GET /people/{id}), masked.
func (h *Handler) pagePerson(w http.ResponseWriter, r *http.Request, c *call) {
	rt := route{path: "/people/{id}", action: "people.read"}
	if h.cfg.People == nil {
		h.unavailable(w, r, rt, c)
		return
	}
	p, err := h.cfg.People.GetPerson(r.Context(), r.PathValue("id"))
	if err != nil {
		h.answerErr(w, r, rt, c, err)
		return
	}
	d := h.newPage(r, c, "navPeople")
	d.Person = &p
	h.render(w, http.StatusOK, "person", d)
}

// pageConfirm is the confirm step of a person action (GET /people/{id}/confirm?action=SEG).
func (h *Handler) pageConfirm(w http.ResponseWriter, r *http.Request, c *call) {
	d, err := h.confirmData(r, c, c.in.Get("action"))
	if err != nil {
		h.answerErr(w, r, route{path: "/people/{id}/confirm", action: "people.confirm"}, c, err)
		return
	}
	h.render(w, http.StatusOK, "confirm", d)
}

// confirmData is the data of the confirm step of the person action seg.
func (h *Handler) confirmData(r *http.Request, c *call, seg string) (pageData, error) {
	i := slices.IndexFunc(actions, func(a action) bool { return a.kind == "people" && a.seg == seg })
	if i < 0 {
		return pageData{}, fmt.Errorf("%w: action must be a person action", ErrInvalid)
	}
	if h.cfg.People == nil {
		return pageData{}, ErrUnavailable
	}
	p, err := h.cfg.People.GetPerson(r.Context(), r.PathValue("id"))
	if err != nil {
		return pageData{}, err
	}
	d := h.newPage(r, c, "navPeople")
	d.Person = &p
	d.Confirm = &confirmData{Action: actions[i].name, Seg: seg, Reason: actions[i].reason}
	return d, nil
}

// pageCorrections shows the correction queue (GET /corrections?status=).
func (h *Handler) pageCorrections(w http.ResponseWriter, r *http.Request, c *call) {
	rt := route{path: "/corrections", action: "corrections.list"}
	if c.in.Get("status") == "" {
		c.in.Set("status", CorrectionPending)
	}
	ks, next, err := h.listCorrections(r, c)
	if err != nil {
		h.answerErr(w, r, rt, c, err)
		return
	}
	d := h.newPage(r, c, "navCorrections")
	for i := range ks {
		ks[i].Field = fieldLabel(messages[c.lang], ks[i].Field)
	}
	d.Corrections, d.Status, d.CorrectionStatuses = ks, c.in.Get("status"), correctionStatuses
	if next != "" {
		d.NextURL = h.cfg.Path + "/corrections?" + url.Values{"status": {d.Status}, "after": {next}}.Encode()
	}
	h.render(w, http.StatusOK, "corrections", d)
}

// pageAudit shows the audit log with its filters (GET /audit).
func (h *Handler) pageAudit(w http.ResponseWriter, r *http.Request, c *call) {
	rt := route{path: "/audit", action: "audit.read"}
	q, err := auditQuery(c)
	if err != nil {
		h.answerErr(w, r, rt, c, err)
		return
	}
	es, next, err := h.readAudit(r, q)
	if err != nil {
		h.answerErr(w, r, rt, c, err)
		return
	}
	d := h.newPage(r, c, "navAudit")
	d.Audit, d.AuditFilter = es, c.in
	if next != "" {
		v := url.Values{}
		for _, k := range []string{"action", "person", "client", "since", "until"} {
			if c.in.Get(k) != "" {
				v.Set(k, c.in.Get(k))
			}
		}
		v.Set("after", next)
		d.NextURL = h.cfg.Path + "/audit?" + v.Encode()
	}
	h.render(w, http.StatusOK, "audit", d)
}

// pageHandler is the console route of a: it runs a, then shows a result shown once on a page
// of its own, or goes back to the object's page with a notice (303, ?done=ACTION).
func (a action) pageHandler() func(*Handler, http.ResponseWriter, *http.Request, *call) {
	return func(h *Handler, w http.ResponseWriter, r *http.Request, c *call) {
		rt := route{method: http.MethodPost, path: "/" + a.kind, action: a.name}
		var res any
		var err error
		if a.seg == "rotate-secret" && c.in.Get("confirm") != "yes" {
			err = fmt.Errorf("%w: tick the box to confirm the rotation", ErrInvalid)
		} else {
			res, err = h.runAction(r, c, a)
		}
		if err != nil {
			if !h.formAgain(w, r, c, a, err) {
				h.answerErr(w, r, rt, c, err)
			}
			return
		}
		id := r.PathValue("id")
		back := h.cfg.Path + "/" + a.kind + "/" + url.PathEscape(id)
		if a.kind == "initial-access-tokens" {
			back = h.cfg.Path + "/apps"
		}
		if a.once {
			d := h.newPage(r, c, "navApps")
			o := &onceData{Kind: a.name, Back: back}
			switch v := res.(type) {
			case map[string]string:
				o.Label, o.Value = d.T["onceSecret"], v["client_secret"]
			case InitialAccessToken:
				o.Label, o.Value, o.Expires = d.T["onceIAT"]+" ("+v.Department+")", v.Token, pageFuncs["when"].(func(time.Time) string)(v.ExpiresAt)
			case ResetLink:
				d.Nav = navActive(d.Nav, "navPeople")
				o.Label, o.Value, o.Expires = d.T["onceReset"], v.URL, pageFuncs["when"].(func(time.Time) string)(v.ExpiresAt)
				if v.URL == "" {
					o.Label, o.Value = d.T["onceResetSent"], v.SentTo
				}
			}
			d.Once = o
			h.render(w, http.StatusOK, "once", d)
			return
		}
		if a.kind == "corrections" {
			back = h.cfg.Path + "/corrections"
		}
		http.Redirect(w, r, back+"?"+url.Values{"done": {a.name}}.Encode(), http.StatusSeeOther)
	}
}

// navActive marks key as the active navigation entry.
func navActive(nav []navLink, key string) []navLink {
	for i := range nav {
		nav[i].Active = nav[i].Key == key
	}
	return nav
}
