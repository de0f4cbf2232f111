package admin

import (
	"errors"
	"net/http"
	"strings"
)

// appActionSet says which action blocks the app page offers: only those the app's state
// allows and the administrator's roles permit.
type appActionSet struct {
	Approve, Reject, Suspend, Resume, Retire, Rotate bool
}

// Any reports whether there is at least one action.
func (s appActionSet) Any() bool {
	return s.Approve || s.Reject || s.Suspend || s.Resume || s.Retire || s.Rotate
}

// Offers reports whether the block of the action with path segment seg is offered.
func (s appActionSet) Offers(seg string) bool {
	return map[string]bool{"approve": s.Approve, "reject": s.Reject, "suspend": s.Suspend, "resume": s.Resume,
		"retire": s.Retire, "rotate-secret": s.Rotate}[seg]
}

// Reasons reports whether an action with a reason field is offered (the reason help shows
// with them).
func (s appActionSet) Reasons() bool { return s.Reject || s.Suspend || s.Retire }

// appActions is what can be done to a in its state with the permissions can (pageData.Can
// keyed by Permission): a pending_review app only approve and reject; a published one with a
// pending change approve and reject too; published: suspend, retire, rotate; suspended:
// resume, retire, rotate; rejected: retire; retired: nothing. Rotation only for apps that
// authenticate with a client secret.
func appActions(a App, can map[string]bool) appActionSet {
	review, manage, secret := can[string(PermAppsReview)], can[string(PermAppsManage)], can[string(PermAppsSecret)]
	var s appActionSet
	switch a.Status {
	case StatusPendingReview:
		s.Approve, s.Reject = review, review
	case StatusPublished, StatusSuspended:
		s.Approve, s.Reject = review && a.Pending != nil, review && a.Pending != nil
		s.Suspend, s.Resume = manage && a.Status == StatusPublished, manage && a.Status == StatusSuspended
		s.Retire = manage
		s.Rotate = secret && a.AuthMethod != "none" && a.AuthMethod != "private_key_jwt"
	case StatusRejected:
		s.Retire = manage
	}
	return s
}

// formAgain shows the page a console form of a was posted from again, with err's message
// (ErrInvalid: 400, ErrConflict: 409) next to that form and the typed reason (or lifetime)
// kept in its field. It reports false for other errors, which the caller answers as usual.
func (h *Handler) formAgain(w http.ResponseWriter, r *http.Request, c *call, a action, err error) bool {
	status := http.StatusBadRequest
	switch {
	case errors.Is(err, ErrInvalid):
	case errors.Is(err, ErrConflict):
		status = http.StatusConflict
	default:
		return false
	}
	var d pageData
	var name string
	switch a.kind {
	case "apps":
		if app, gerr := h.cfg.Apps.GetApp(r.Context(), c.app.ID); gerr == nil {
			c.app = app // the state may have changed (a conflict)
		}
		d, name = h.appData(r, c), "app"
	case "people":
		var derr error
		if d, derr = h.confirmData(r, c, a.seg); derr != nil {
			return false
		}
		name = "confirm"
	case "corrections":
		var derr error
		if d, derr = h.correctionData(r, c, ""); derr != nil {
			return false
		}
		name = "correction"
	case "initial-access-tokens":
		d, name = h.iatData(r, c), "iat"
		if v := strings.TrimSpace(c.in.Get("ttl_hours")); v != "" && len(v) <= 8 {
			d.FormTTL = v
		}
	default:
		return false
	}
	d.FormSeg, d.FormError, d.FormReason = a.seg, publicText(err), c.in.Get("reason")
	if a.kind == "initial-access-tokens" {
		d.FormSeg = "issue"
	}
	if a.kind == "apps" && !d.AppActions.Offers(a.seg) {
		// The app's state no longer offers the form (another administrator acted): the
		// message goes to the top of the page.
		d.Alert, d.FormSeg = d.T["errConflict"]+" ("+d.FormError+")", ""
	}
	h.render(w, status, name, d)
	return true
}

// pageCorrection shows one correction request (GET /corrections/{id}) with its apply and
// reject forms; ?action=apply shows the confirm step of applying it.
func (h *Handler) pageCorrection(w http.ResponseWriter, r *http.Request, c *call) {
	d, err := h.correctionData(r, c, c.in.Get("action"))
	if err != nil {
		h.answerErr(w, r, route{path: "/corrections/{id}", action: "corrections.read"}, c, err)
		return
	}
	h.render(w, http.StatusOK, "correction", d)
}

// correctionData is the correction page's data; confirm "apply" asks to confirm applying it.
func (h *Handler) correctionData(r *http.Request, c *call, confirm string) (pageData, error) {
	if h.cfg.Corrections == nil {
		return pageData{}, ErrUnavailable
	}
	k, err := h.cfg.Corrections.GetCorrection(r.Context(), r.PathValue("id"))
	if err != nil {
		return pageData{}, err
	}
	d := h.newPage(r, c, "navCorrections")
	k.Field = fieldLabel(d.T, k.Field)
	d.Correction = &k
	d.ConfirmApply = confirm == "apply"
	return d, nil
}

// fieldLabel is a correction's field in the page's language: "name" → 姓名, a licence's
// "KIND · FIELD" by the labels of T ("field.KIND.FIELD"), else as it is.
func fieldLabel(T map[string]string, field string) string {
	if v, ok := T["field."+field]; ok {
		return v
	}
	if kind, f, ok := strings.Cut(field, " · "); ok {
		k, okK := T["kind."+kind]
		v, okF := T["field."+kind+"."+f]
		if id, ok := strings.CutPrefix(kind, "licence:"); ok {
			k = T["kind.licence"] + " " + id
		} else if !okK {
			k = kind
		}
		if !okF {
			v = f
		}
		return k + " · " + v
	}
	return field
}
