package admin

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// action is one state change of the console and API: POST {kind}/{id}/{seg} (or POST
// {kind} for an action on no object), allowed by perm for scope, audited by the backend as
// name. run performs it and returns what the API answers; once marks a result shown only
// once (a secret, a token, a link), which the console shows on a page of its own instead of
// redirecting.
type action struct {
	name   string
	kind   string // "apps", "people", "corrections", "initial-access-tokens"
	seg    string // "" for initial-access-tokens
	perm   Permission
	scope  scope
	reason bool // a reason field (1 to MaxReasonLen characters) is required
	once   bool
	run    func(h *Handler, ctx context.Context, c *call, id string, in url.Values) (any, error)
}

// MaxReasonLen is the longest reason of a reject, suspend, retire or disable, in characters.
const MaxReasonLen = 500

// NormaliseReason replaces every run of line breaks and tabs (CR, LF, TAB) in a reason by one
// space and trims spaces at both ends, so that a reason typed on several lines of the
// console's textarea is stored as one line. The API does the same before checkReason.
func NormaliseReason(s string) string {
	return strings.TrimSpace(reasonBreaks.ReplaceAllString(s, " "))
}

var reasonBreaks = regexp.MustCompile(`[\r\n\t]+`)

// checkReason validates a normalised reason: 1 to MaxReasonLen characters, no control or
// format characters.
func checkReason(s string) error {
	if s == "" || utf8.RuneCountInString(s) > MaxReasonLen {
		return fmt.Errorf("%w: reason must be 1 to %d characters", ErrInvalid, MaxReasonLen)
	}
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return fmt.Errorf("%w: reason contains a control character", ErrInvalid)
		}
	}
	return nil
}

// Lifetimes of the initial access tokens issued from the console and API: oidc's
// DefaultInitialAccessTokenTTL and MaxInitialAccessTokenTTL (the same as `idp clients iat`;
// TestIATLimitsMatchOIDC in cmd/internal/idpserver keeps them equal).
const (
	DefaultIATLifetime = 24 * time.Hour
	MaxIATLifetime     = 30 * 24 * time.Hour
)

// appResult is the API's answer to an app action: the app as it is now.
func appResult(h *Handler, ctx context.Context, id string) (any, error) {
	a, err := h.cfg.Apps.GetApp(ctx, id)
	return map[string]any{"app": a}, err
}

func personResult(h *Handler, ctx context.Context, id string) (any, error) {
	p, err := h.cfg.People.GetPerson(ctx, id)
	return map[string]any{"person": p}, err
}

func correctionResult(h *Handler, ctx context.Context, id string) (any, error) {
	k, err := h.cfg.Corrections.GetCorrection(ctx, id)
	return map[string]any{"correction": k}, err
}

// actions lists every state change, in the order of the OpenAPI file.
var actions = []action{
	{name: "client.approve", kind: "apps", seg: "approve", perm: PermAppsReview, scope: scopeApp,
		run: func(h *Handler, ctx context.Context, c *call, id string, in url.Values) (any, error) {
			if err := h.cfg.Apps.ApproveApp(ctx, c.actor, id); err != nil {
				return nil, err
			}
			return appResult(h, ctx, id)
		}},
	{name: "client.reject", kind: "apps", seg: "reject", perm: PermAppsReview, scope: scopeApp, reason: true,
		run: func(h *Handler, ctx context.Context, c *call, id string, in url.Values) (any, error) {
			if err := h.cfg.Apps.RejectApp(ctx, c.actor, id, in.Get("reason")); err != nil {
				return nil, err
			}
			return appResult(h, ctx, id)
		}},
	{name: "client.suspend", kind: "apps", seg: "suspend", perm: PermAppsManage, scope: scopeApp, reason: true,
		run: func(h *Handler, ctx context.Context, c *call, id string, in url.Values) (any, error) {
			if err := h.cfg.Apps.SuspendApp(ctx, c.actor, id, in.Get("reason")); err != nil {
				return nil, err
			}
			return appResult(h, ctx, id)
		}},
	{name: "client.resume", kind: "apps", seg: "resume", perm: PermAppsManage, scope: scopeApp,
		run: func(h *Handler, ctx context.Context, c *call, id string, in url.Values) (any, error) {
			if err := h.cfg.Apps.ResumeApp(ctx, c.actor, id); err != nil {
				return nil, err
			}
			return appResult(h, ctx, id)
		}},
	{name: "client.retire", kind: "apps", seg: "retire", perm: PermAppsManage, scope: scopeApp, reason: true,
		run: func(h *Handler, ctx context.Context, c *call, id string, in url.Values) (any, error) {
			if err := h.cfg.Apps.RetireApp(ctx, c.actor, id, in.Get("reason")); err != nil {
				return nil, err
			}
			return appResult(h, ctx, id)
		}},
	{name: "client.secret.rotate", kind: "apps", seg: "rotate-secret", perm: PermAppsSecret, scope: scopeApp, once: true,
		run: func(h *Handler, ctx context.Context, c *call, id string, in url.Values) (any, error) {
			secret, err := h.cfg.Apps.RotateAppSecret(ctx, c.actor, id)
			if err != nil {
				return nil, err
			}
			return map[string]string{"client_id": id, "client_secret": secret}, nil
		}},
	{name: "iat.issue", kind: "initial-access-tokens", perm: PermIATIssue, scope: scopeDept, once: true,
		run: func(h *Handler, ctx context.Context, c *call, id string, in url.Values) (any, error) {
			if !ValidDepartment(c.dept) {
				return nil, fmt.Errorf("%w: department must be a department code (1 to 64 of a-z, 0-9, -)", ErrInvalid)
			}
			ttl := h.cfg.IATLifetime
			if v := in.Get("ttl_hours"); v != "" {
				maxH := int(MaxIATLifetime / time.Hour)
				n, err := strconv.Atoi(v)
				if err != nil || n < 1 || n > maxH {
					return nil, fmt.Errorf("%w: ttl_hours must be a whole number from 1 to %d", ErrInvalid, maxH)
				}
				ttl = time.Duration(n) * time.Hour
			}
			return h.cfg.Apps.IssueInitialAccessToken(ctx, c.actor, c.dept, ttl)
		}},
	{name: "person.disable", kind: "people", seg: "disable", perm: PermPeopleManage, reason: true,
		run: func(h *Handler, ctx context.Context, c *call, id string, in url.Values) (any, error) {
			if err := h.cfg.People.DisablePerson(ctx, c.actor, id, in.Get("reason")); err != nil {
				return nil, err
			}
			return personResult(h, ctx, id)
		}},
	{name: "person.enable", kind: "people", seg: "enable", perm: PermPeopleManage,
		run: func(h *Handler, ctx context.Context, c *call, id string, in url.Values) (any, error) {
			if err := h.cfg.People.EnablePerson(ctx, c.actor, id); err != nil {
				return nil, err
			}
			return personResult(h, ctx, id)
		}},
	{name: "person.unlock", kind: "people", seg: "unlock", perm: PermPeopleManage,
		run: func(h *Handler, ctx context.Context, c *call, id string, in url.Values) (any, error) {
			if err := h.cfg.People.UnlockPerson(ctx, c.actor, id); err != nil {
				return nil, err
			}
			return personResult(h, ctx, id)
		}},
	{name: "person.reset_link", kind: "people", seg: "reset-link", perm: PermPeopleManage, once: true,
		run: func(h *Handler, ctx context.Context, c *call, id string, in url.Values) (any, error) {
			return h.cfg.People.PersonResetLink(ctx, c.actor, id)
		}},
	{name: "person.sessions.end", kind: "people", seg: "end-sessions", perm: PermPeopleManage,
		run: func(h *Handler, ctx context.Context, c *call, id string, in url.Values) (any, error) {
			n, err := h.cfg.People.EndPersonSessions(ctx, c.actor, id)
			return map[string]int{"ended": n}, err
		}},
	{name: "correction.apply", kind: "corrections", seg: "apply", perm: PermCorrectionsDecide,
		run: func(h *Handler, ctx context.Context, c *call, id string, in url.Values) (any, error) {
			if err := h.cfg.Corrections.ApplyCorrection(ctx, c.actor, id); err != nil {
				return nil, err
			}
			return correctionResult(h, ctx, id)
		}},
	{name: "correction.reject", kind: "corrections", seg: "reject", perm: PermCorrectionsDecide, reason: true,
		run: func(h *Handler, ctx context.Context, c *call, id string, in url.Values) (any, error) {
			if err := h.cfg.Corrections.RejectCorrection(ctx, c.actor, id, in.Get("reason")); err != nil {
				return nil, err
			}
			return correctionResult(h, ctx, id)
		}},
}

// backend reports whether the backend of kind is set up.
func (h *Handler) backend(kind string) bool {
	switch kind {
	case "apps", "initial-access-tokens":
		return h.cfg.Apps != nil
	case "people":
		return h.cfg.People != nil
	case "corrections":
		return h.cfg.Corrections != nil
	case "stats":
		return h.cfg.Stats != nil
	}
	return true
}
