package admin

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tongban/tongban/storage"
)

// grantJSON is one role in GET /me.
type grantJSON struct {
	Role       string `json:"role"`
	Department string `json:"department,omitempty"`
}

// apiMe answers GET /me: who is logged in, their roles, and the CSRF token of the session
// for the state-changing requests.
func (h *Handler) apiMe(w http.ResponseWriter, r *http.Request, c *call) {
	gs := []grantJSON{}
	for _, g := range c.p.Grants {
		gs = append(gs, grantJSON{g.Role, g.Department})
	}
	h.json.Write(w, http.StatusOK, map[string]any{"person_id": c.p.PersonID, "roles": gs, "csrf_token": c.csrf})
}

// pageSize reads limit: DefaultPageSize when empty, ErrInvalid outside 1…MaxPageSize.
func pageSize(v string) (int, error) {
	if v == "" {
		return DefaultPageSize, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > MaxPageSize {
		return 0, fmt.Errorf("%w: limit must be a whole number from 1 to %d", ErrInvalid, MaxPageSize)
	}
	return n, nil
}

// appQuery reads the filters of an app list. The department is the one guard settled
// (c.dept): a department-admin's own.
func appQuery(c *call) (AppQuery, error) {
	q := AppQuery{Status: c.in.Get("status"), Department: c.dept, After: c.in.Get("after")}
	if q.Status != "" && !contains(AppStatuses, q.Status) {
		return q, fmt.Errorf("%w: status must be one of %v", ErrInvalid, AppStatuses)
	}
	if q.Department != "" && !ValidDepartment(q.Department) {
		return q, fmt.Errorf("%w: department must be a department code", ErrInvalid)
	}
	if q.After != "" && !validClientID(q.After) {
		return q, fmt.Errorf("%w: after must be a cursor from next", ErrInvalid)
	}
	var err error
	q.Limit, err = pageSize(c.in.Get("limit"))
	return q, err
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// listApps reads the app query of c and lists that page of apps; on a failure it has answered
// (for rt) and ok is false. The API and the console's list share it.
func (h *Handler) listApps(w http.ResponseWriter, r *http.Request, c *call, rt route) (page AppPage, q AppQuery, ok bool) {
	if h.cfg.Apps == nil {
		h.unavailable(w, r, rt, c)
		return page, q, false
	}
	q, err := appQuery(c)
	if err == nil {
		page, err = h.cfg.Apps.ListApps(r.Context(), q)
	}
	if err != nil {
		h.answerErr(w, r, rt, c, err)
		return page, q, false
	}
	return page, q, true
}

func (h *Handler) apiApps(w http.ResponseWriter, r *http.Request, c *call) {
	page, _, ok := h.listApps(w, r, c, route{path: APIPrefix + "/apps", action: "apps.list"})
	if !ok {
		return
	}
	if page.Apps == nil {
		page.Apps = []App{}
	}
	h.json.Write(w, http.StatusOK, page)
}

func (h *Handler) apiApp(w http.ResponseWriter, r *http.Request, c *call) {
	h.json.Write(w, http.StatusOK, c.app)
}

// statsHours is how many hours of figures the app page and GET /apps/{id}/stats show by
// default; ?hours= asks for 1 to 168.
const statsHours = 24

// appHours reads ?hours= and returns the app's figures since that many hours before now.
func (h *Handler) appHours(r *http.Request, c *call) ([]AppHour, error) {
	n := statsHours
	if v := c.in.Get("hours"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 || n > 168 {
			return nil, fmt.Errorf("%w: hours must be a whole number from 1 to 168", ErrInvalid)
		}
	}
	if h.cfg.Stats == nil {
		return nil, ErrUnavailable
	}
	since := h.cfg.Now().UTC().Truncate(time.Hour).Add(-time.Duration(n-1) * time.Hour)
	hours, err := h.cfg.Stats.AppStats(r.Context(), c.app.ID, since)
	if hours == nil {
		hours = []AppHour{}
	}
	return hours, err
}

func (h *Handler) apiStats(w http.ResponseWriter, r *http.Request, c *call) {
	hours, err := h.appHours(r, c)
	if err != nil {
		h.answerErr(w, r, route{path: APIPrefix + "/apps/{id}/stats", action: "apps.stats"}, c, err)
		return
	}
	h.json.Write(w, http.StatusOK, map[string]any{"client_id": c.app.ID, "hours": hours})
}

func (h *Handler) apiPeople(w http.ResponseWriter, r *http.Request, c *call) {
	rt := route{path: APIPrefix + "/people", action: "people.find"}
	if h.cfg.People == nil {
		h.unavailable(w, r, rt, c)
		return
	}
	q := c.in.Get("q")
	if err := checkPeopleQuery(q); err != nil {
		h.answerErr(w, r, rt, c, err)
		return
	}
	ps, err := h.cfg.People.FindPeople(r.Context(), q)
	if err != nil {
		h.answerErr(w, r, rt, c, err)
		return
	}
	if ps == nil {
		ps = []Person{}
	}
	h.json.Write(w, http.StatusOK, map[string]any{"people": ps})
}

func (h *Handler) apiPerson(w http.ResponseWriter, r *http.Request, c *call) {
	rt := route{path: APIPrefix + "/people/{id}", action: "people.read"}
	if h.cfg.People == nil {
		h.unavailable(w, r, rt, c)
		return
	}
	p, err := h.cfg.People.GetPerson(r.Context(), r.PathValue("id"))
	if err != nil {
		h.answerErr(w, r, rt, c, err)
		return
	}
	h.json.Write(w, http.StatusOK, p)
}

// correctionStatuses are the values of ?status= of the correction queue.
var correctionStatuses = []string{CorrectionPending, CorrectionApplied, CorrectionRejected}

func (h *Handler) listCorrections(r *http.Request, c *call) ([]Correction, string, error) {
	if h.cfg.Corrections == nil {
		return nil, "", ErrUnavailable
	}
	status := c.in.Get("status")
	if status != "" && !contains(correctionStatuses, status) {
		return nil, "", fmt.Errorf("%w: status must be one of %v", ErrInvalid, correctionStatuses)
	}
	limit, err := pageSize(c.in.Get("limit"))
	if err != nil {
		return nil, "", err
	}
	ks, next, err := h.cfg.Corrections.ListCorrections(r.Context(), status, c.in.Get("after"), limit)
	if ks == nil {
		ks = []Correction{}
	}
	return ks, next, err
}

func (h *Handler) apiCorrections(w http.ResponseWriter, r *http.Request, c *call) {
	ks, next, err := h.listCorrections(r, c)
	if err != nil {
		h.answerErr(w, r, route{path: APIPrefix + "/corrections", action: "corrections.list"}, c, err)
		return
	}
	h.json.Write(w, http.StatusOK, map[string]any{"corrections": ks, "next": next})
}

// AuditEntry is one audit entry in GET /audit and on the audit page.
type AuditEntry struct {
	Pos      int64     `json:"pos"`
	Time     time.Time `json:"time"`
	Actor    string    `json:"actor"`
	Action   string    `json:"action"`
	Subject  string    `json:"subject,omitempty"`
	ClientID string    `json:"client_id,omitempty"`
	Detail   string    `json:"detail,omitempty"`
}

// auditQuery reads the audit filters: action (exact or a prefix ending in "."), person (a
// person ID, matched against actor and subject), client, since and until (RFC 3339), after (the
// cursor: a chain position) and limit. Newest first.
func auditQuery(c *call) (storage.AuditQuery, error) {
	q := storage.AuditQuery{Action: c.in.Get("action"), Person: c.in.Get("person"), ClientID: c.in.Get("client"), Descending: true}
	var err error
	for _, f := range []struct {
		name string
		t    *time.Time
	}{{"since", &q.Since}, {"until", &q.Until}} {
		if v := c.in.Get(f.name); v != "" {
			if *f.t, err = parseTime(v); err != nil {
				return q, fmt.Errorf("%w: %s must be an RFC 3339 time or a date (YYYY-MM-DD)", ErrInvalid, f.name)
			}
		}
	}
	if v := c.in.Get("after"); v != "" {
		if q.AfterPos, err = strconv.ParseInt(v, 10, 64); err != nil || q.AfterPos < 1 {
			return q, fmt.Errorf("%w: after must be a cursor from next", ErrInvalid)
		}
	}
	q.Limit, err = pageSize(c.in.Get("limit"))
	return q, err
}

// parseTime reads an RFC 3339 time or a date (midnight Beijing time, UTC+8).
func parseTime(v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	return time.ParseInLocation("2006-01-02", v, beijing)
}

// beijing is China Standard Time (UTC+8), in which the console shows times.
var beijing = time.FixedZone("CST", 8*60*60)

// readAudit returns the entries q selects and the cursor of the next page ("" on the last).
func (h *Handler) readAudit(r *http.Request, q storage.AuditQuery) ([]AuditEntry, string, error) {
	es, err := h.cfg.Store.QueryAudit(r.Context(), q)
	if err != nil {
		return nil, "", err
	}
	out := make([]AuditEntry, 0, len(es))
	for _, e := range es {
		out = append(out, AuditEntry{Pos: e.Pos, Time: e.Time, Actor: e.Actor, Action: e.Action, Subject: e.Subject, ClientID: e.ClientID, Detail: e.Detail})
	}
	next := ""
	if len(out) == q.Limit && out[len(out)-1].Pos > 1 {
		next = strconv.FormatInt(out[len(out)-1].Pos, 10)
	}
	return out, next, nil
}

func (h *Handler) apiAudit(w http.ResponseWriter, r *http.Request, c *call) {
	rt := route{path: APIPrefix + "/audit", action: "audit.read"}
	q, err := auditQuery(c)
	if err == nil {
		var es []AuditEntry
		var next string
		if es, next, err = h.readAudit(r, q); err == nil {
			h.json.Write(w, http.StatusOK, map[string]any{"entries": es, "next": next})
			return
		}
	}
	h.answerErr(w, r, rt, c, err)
}

// apiHandler is the API route of a: it checks the reason, runs a and answers its result as
// JSON.
func (a action) apiHandler() func(*Handler, http.ResponseWriter, *http.Request, *call) {
	return func(h *Handler, w http.ResponseWriter, r *http.Request, c *call) {
		rt := route{method: http.MethodPost, path: APIPrefix + "/" + a.kind, action: a.name}
		res, err := h.runAction(r, c, a)
		if err != nil {
			h.answerErr(w, r, rt, c, err)
			return
		}
		h.json.Write(w, http.StatusOK, res)
	}
}

// runAction checks a's input and backend and runs it.
func (h *Handler) runAction(r *http.Request, c *call, a action) (any, error) {
	if !h.backend(a.kind) {
		return nil, ErrUnavailable
	}
	in := c.in // c.in keeps what was typed, for the console's form shown again
	if a.reason {
		reason := NormaliseReason(in.Get("reason"))
		if err := checkReason(reason); err != nil {
			return nil, err
		}
		in = url.Values{}
		for k, v := range c.in {
			in[k] = v
		}
		in.Set("reason", reason)
	}
	res, err := a.run(h, r.Context(), c, r.PathValue("id"), in)
	if errors.Is(err, storage.ErrNotFound) {
		err = fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	return res, err
}

// MaxPeopleQuery is the longest ?q= of the people search, in bytes (an ID number, credit code,
// mobile number or person ID is far shorter).
const MaxPeopleQuery = 64

// checkPeopleQuery checks the people search's q: 1 to MaxPeopleQuery bytes.
func checkPeopleQuery(q string) error {
	if q == "" {
		return fmt.Errorf("%w: q (an ID number, mobile number or person ID) is required", ErrInvalid)
	}
	if len(q) > MaxPeopleQuery {
		return fmt.Errorf("%w: q must be at most %d characters", ErrInvalid, MaxPeopleQuery)
	}
	return nil
}

// validClientID reports whether s has the syntax of a client ID (and so of the apps list's
// cursor): 1 to 128 of A-Z a-z 0-9 . _ ~ -.
func validClientID(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._~-", r)) {
			return false
		}
	}
	return true
}
