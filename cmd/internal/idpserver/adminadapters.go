package idpserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tongban/tongban/accounts"
	"github.com/tongban/tongban/admin"
	"github.com/tongban/tongban/audit"
	"github.com/tongban/tongban/idnumber"
	"github.com/tongban/tongban/keyring"
	"github.com/tongban/tongban/oidc"
	"github.com/tongban/tongban/storage"
)

// The adapters of the admin console's backends (package admin's interfaces) to the provider's
// functions: the app lifecycle (oidc/apps.go), the per-app figures (oidc/appstats.go), people
// administration and corrections (accounts). Each function audits its own change in the
// change's transaction; the adapters only translate types and errors.

// adminSecretOverlap is how long an app's old secret keeps working after a rotation from the
// console (as `idp clients rotate-secret`'s default).
const adminSecretOverlap = 24 * time.Hour

// adminConflicts are the provider's errors that mean "the object's state does not allow
// this" (409 conflict); adminInvalids those that mean "the input is wrong" (400
// invalid_request). Every named lifecycle and people-administration error is in one of them
// (TestAdminErrMapsEveryNamedError).
var (
	adminConflicts = []error{
		oidc.ErrInvalidTransition, oidc.ErrClientNotPendingReview, oidc.ErrClientRetired, oidc.ErrClientExists,
		oidc.ErrInvalidAuthMethod, // rotating the secret of a public or private_key_jwt app
		accounts.ErrCorrectionDecided, accounts.ErrPersonDisabled, accounts.ErrAccountClosed,
		accounts.ErrPersonExists, accounts.ErrCorrectionTarget,
	}
	adminInvalids = []error{
		oidc.ErrReasonRequired, oidc.ErrInvalidOverlap, oidc.ErrInvalidDepartment, oidc.ErrInvalidTTL,
		oidc.ErrInvalidLogoURI, oidc.ErrInvalidJWKS, oidc.ErrInvalidClientID, oidc.ErrInvalidRedirectURI,
		oidc.ErrInvalidGrantType, oidc.ErrInvalidScope, oidc.ErrInvalidAlgorithm, oidc.ErrInvalidSubjectType,
		oidc.ErrInvalidAccessTokenFormat, oidc.ErrInvalidClientName, oidc.ErrInvalidPurpose,
		accounts.ErrReasonRequired, accounts.ErrInvalidReason, accounts.ErrInvalidTTL, accounts.ErrCorrectionValue,
		accounts.ErrCorrectionField,
	}
)

// adminErr maps the provider's errors to package admin's sentinels, keeping the provider's
// message (which names no secret and no personal data) without its package prefix
// ("oidc: the app is not waiting for review: \"x\" is rejected" → "the app is not waiting for
// review: \"x\" is rejected") for the caller; unknown errors pass unchanged (the console logs
// them and answers 500).
func adminErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, storage.ErrNotFound) || errors.Is(err, accounts.ErrPersonNotFound) || errors.Is(err, accounts.ErrCorrectionNotFound) {
		return admin.ErrNotFound
	}
	if errors.Is(err, accounts.ErrResetLinkOff) {
		return admin.ErrUnavailable
	}
	for _, group := range []struct {
		sentinel error
		errs     []error
	}{{admin.ErrConflict, adminConflicts}, {admin.ErrInvalid, adminInvalids}} {
		for _, e := range group.errs {
			if errors.Is(err, e) {
				return fmt.Errorf("%w: %s", group.sentinel, publicMessage(err))
			}
		}
	}
	return err
}

// publicMessage is err's message without the "oidc: " or "accounts: " prefix.
// Joined errors (several problems of one registration) lose the prefix on every line.
func publicMessage(err error) string {
	lines := strings.Split(err.Error(), "\n")
	for i, l := range lines {
		for _, p := range []string{"oidc: ", "accounts: "} {
			l = strings.TrimPrefix(l, p)
		}
		lines[i] = l
	}
	return strings.Join(lines, "; ")
}

// adminApps is admin.Apps over the app lifecycle.
type adminApps struct {
	store storage.Storage
	kr    *keyring.Keyring
	// forget drops an app from the provider's client cache after a change, so that it
	// applies in this process at once (oidc.Server.ForgetClient).
	forget func(id string)
}

func appOf(c storage.Client) admin.App {
	a := admin.App{ID: c.ID, Name: c.Name, Status: c.EffectiveStatus(), Department: c.Department,
		RedirectURIs: c.RedirectURIs, Scopes: c.Scopes, GrantTypes: c.GrantTypes, LogoURI: c.LogoURI,
		AuthMethod: c.TokenEndpointAuthMethod, CreatedAt: c.CreatedAt, StatusReason: c.ReviewNote}
	if c.PendingChange != nil {
		var ch oidc.ClientChange
		if json.Unmarshal(c.PendingChange, &ch) == nil {
			// A change names only what it changes; the rest stays as published.
			p := admin.AppChange{Name: ch.Name, RedirectURIs: ch.RedirectURIs, Scopes: ch.Scopes, GrantTypes: ch.GrantTypes, LogoURI: ch.LogoURI,
				RequestedAt: ch.RequestedAt}
			if p.Name == "" && !ch.Replace {
				p.Name = c.Name
			}
			if p.RedirectURIs == nil {
				p.RedirectURIs = c.RedirectURIs
			}
			if p.Scopes == nil {
				p.Scopes = c.Scopes
			}
			if p.GrantTypes == nil {
				p.GrantTypes = c.GrantTypes
			}
			if p.LogoURI == "" && !ch.Replace {
				p.LogoURI = c.LogoURI
			}
			a.Pending = &p
		}
	}
	return a
}

func (a adminApps) ListApps(ctx context.Context, q admin.AppQuery) (admin.AppPage, error) {
	cs, err := oidc.ListClients(ctx, a.store, storage.ClientQuery{Department: q.Department, Status: q.Status, After: q.After, Limit: q.Limit + 1})
	if err != nil {
		return admin.AppPage{}, adminErr(err)
	}
	var page admin.AppPage
	for i, c := range cs {
		if i == q.Limit {
			page.Next = cs[i-1].ID
			break
		}
		page.Apps = append(page.Apps, appOf(c))
	}
	return page, nil
}

func (a adminApps) GetApp(ctx context.Context, id string) (admin.App, error) {
	c, err := a.store.GetClient(ctx, id)
	if err != nil {
		return admin.App{}, adminErr(err)
	}
	return appOf(c), nil
}

func (a adminApps) ApproveApp(ctx context.Context, actor audit.Actor, id string) error {
	defer a.forget(id)
	return adminErr(oidc.ApproveClient(ctx, a.store, actor, id))
}

func (a adminApps) RejectApp(ctx context.Context, actor audit.Actor, id, reason string) error {
	defer a.forget(id)
	return adminErr(oidc.RejectClient(ctx, a.store, actor, id, reason))
}

func (a adminApps) SuspendApp(ctx context.Context, actor audit.Actor, id, reason string) error {
	defer a.forget(id)
	return adminErr(oidc.SuspendClient(ctx, a.store, actor, id, reason))
}

func (a adminApps) ResumeApp(ctx context.Context, actor audit.Actor, id string) error {
	defer a.forget(id)
	return adminErr(oidc.ResumeClient(ctx, a.store, actor, id))
}

// RetireApp retires the app with reason, stored as its ReviewNote (the console requires one).
func (a adminApps) RetireApp(ctx context.Context, actor audit.Actor, id, reason string) error {
	defer a.forget(id)
	return adminErr(oidc.RetireClient(ctx, a.store, actor, id, reason))
}

func (a adminApps) RotateAppSecret(ctx context.Context, actor audit.Actor, id string) (string, error) {
	defer a.forget(id)
	s, err := oidc.RotateClientSecret(ctx, a.store, a.kr, actor, id, adminSecretOverlap)
	return s, adminErr(err)
}

func (a adminApps) IssueInitialAccessToken(ctx context.Context, actor audit.Actor, department string, ttl time.Duration) (admin.InitialAccessToken, error) {
	tok, exp, err := oidc.IssueInitialAccessToken(ctx, a.store, a.kr, actor, department, ttl)
	return admin.InitialAccessToken{Token: tok, Department: department, ExpiresAt: exp}, adminErr(err)
}

// adminStats is admin.Stats over the provider's hourly per-app counts.
type adminStats struct{ srv *oidc.Server }

func (s adminStats) AppStats(ctx context.Context, id string, since time.Time) ([]admin.AppHour, error) {
	hours, err := s.srv.AppStats(ctx, id, since)
	if err != nil {
		return nil, adminErr(err)
	}
	out := make([]admin.AppHour, 0, len(hours))
	for _, h := range hours {
		out = append(out, admin.AppHour{Hour: h.Hour, Logins: h.Logins, Tokens: h.Tokens, Errors: h.Errors})
	}
	return out, nil
}

// adminPeople is admin.People over accounts' people administration.
type adminPeople struct {
	store storage.Storage
	acc   *accounts.Service
	now   func() time.Time
}

// person is p as the console shows it: masked.
func (a adminPeople) person(ctx context.Context, p storage.Person) (admin.Person, error) {
	out := admin.Person{ID: p.ID, Kind: string(p.Kind), NameMasked: idnumber.MaskName(p.Name), IDNumberMasked: p.IDNumberMasked,
		Disabled: p.Disabled, CreatedAt: p.CreatedAt}
	if phone, err := a.acc.PhoneNumber(p); err != nil {
		return out, err
	} else if phone != "" {
		out.PhoneMasked = accounts.MaskPhone(phone)
	}
	devs, err := a.acc.ListOTPDevices(ctx, p.ID)
	if err != nil {
		return out, err
	}
	pks, err := a.store.ListPasskeys(ctx, p.ID)
	if err != nil {
		return out, err
	}
	out.SecondFactor = len(devs)+len(pks) > 0
	lock, err := a.acc.LockStatus(ctx, p.ID)
	if err != nil {
		return out, err
	}
	out.Locked = lock.Locked()
	ss, err := a.store.ListLoginSessionsForPerson(ctx, p.ID, a.now())
	out.Sessions = len(ss)
	return out, err
}

func (a adminPeople) FindPeople(ctx context.Context, q string) ([]admin.Person, error) {
	p, err := a.acc.FindPerson(ctx, q)
	if errors.Is(err, accounts.ErrPersonNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, adminErr(err)
	}
	ap, err := a.person(ctx, p)
	return []admin.Person{ap}, err
}

func (a adminPeople) GetPerson(ctx context.Context, id string) (admin.Person, error) {
	p, err := a.store.GetPerson(ctx, id)
	if err != nil {
		return admin.Person{}, adminErr(err)
	}
	return a.person(ctx, p)
}

// DisablePerson disables an enabled person; a disabled one is admin.ErrConflict ("already
// disabled") and nothing is written. The state is read in the transaction of the change
// (accounts' InTx joins it), so two concurrent requests cannot both disable.
func (a adminPeople) DisablePerson(ctx context.Context, actor audit.Actor, id, reason string) error {
	return adminErr(a.store.InTx(ctx, func(ctx context.Context) error {
		if err := a.needDisabled(ctx, id, false); err != nil {
			return err
		}
		return a.acc.DisablePerson(ctx, actor, id, reason)
	}))
}

// EnablePerson enables a disabled person; an enabled one is admin.ErrConflict ("not
// disabled") and nothing is written.
func (a adminPeople) EnablePerson(ctx context.Context, actor audit.Actor, id string) error {
	return adminErr(a.store.InTx(ctx, func(ctx context.Context) error {
		if err := a.needDisabled(ctx, id, true); err != nil {
			return err
		}
		return a.acc.EnablePerson(ctx, actor, id)
	}))
}

// needDisabled returns admin.ErrConflict unless the person's Disabled is want.
func (a adminPeople) needDisabled(ctx context.Context, id string, want bool) error {
	p, err := a.store.GetPerson(ctx, id)
	switch {
	case err != nil:
		return err
	case p.Disabled == want:
		return nil
	case want:
		return fmt.Errorf("%w: the person is not disabled", admin.ErrConflict)
	default:
		return fmt.Errorf("%w: the person is already disabled", admin.ErrConflict)
	}
}

func (a adminPeople) UnlockPerson(ctx context.Context, actor audit.Actor, id string) error {
	return adminErr(a.acc.UnlockPerson(ctx, actor, id))
}

func (a adminPeople) PersonResetLink(ctx context.Context, actor audit.Actor, id string) (admin.ResetLink, error) {
	link, exp, err := a.acc.IssuePasswordReset(ctx, actor, id, 0)
	return admin.ResetLink{URL: link, ExpiresAt: exp}, adminErr(err)
}

func (a adminPeople) EndPersonSessions(ctx context.Context, actor audit.Actor, id string) (int, error) {
	n, err := a.acc.EndSessions(ctx, actor, id)
	return n, adminErr(err)
}

// adminCorrections is admin.Corrections over accounts' corrections, oldest first (a work
// queue); the cursor is an offset into that order.
type adminCorrections struct{ acc *accounts.Service }

func (a adminCorrections) correction(c storage.Correction) admin.Correction {
	out := admin.Correction{ID: c.ID, PersonID: c.PersonID, Field: c.Field, Status: string(c.Status), Current: c.CurrentMasked,
		Note: c.Reason, FiledAt: c.FiledAt, Reason: c.DecisionNote}
	if c.Target != "" && c.Target != "person" {
		out.Field = c.Target + " · " + c.Field
	}
	if v, err := a.acc.ProposedValue(c); err == nil {
		out.Proposed = v
	}
	if !c.DecidedAt.IsZero() {
		t := c.DecidedAt
		out.DecidedAt = &t
	}
	return out
}

func (a adminCorrections) ListCorrections(ctx context.Context, status, after string, limit int) ([]admin.Correction, string, error) {
	offset := 0
	if after != "" {
		n, err := strconv.Atoi(after)
		if err != nil || n < 0 {
			return nil, "", fmt.Errorf("%w: after is not a cursor of this list", admin.ErrInvalid)
		}
		offset = n
	}
	cs, err := a.acc.ListCorrections(ctx, storage.CorrectionQuery{Status: storage.CorrectionStatus(status), Offset: offset, Limit: limit + 1, OldestFirst: true})
	if err != nil {
		return nil, "", adminErr(err)
	}
	next := ""
	if len(cs) > limit {
		cs, next = cs[:limit], strconv.Itoa(offset+limit)
	}
	out := make([]admin.Correction, 0, len(cs))
	for _, c := range cs {
		out = append(out, a.correction(c))
	}
	return out, next, nil
}

func (a adminCorrections) GetCorrection(ctx context.Context, id string) (admin.Correction, error) {
	c, err := a.acc.GetCorrection(ctx, id)
	if err != nil {
		return admin.Correction{}, adminErr(err)
	}
	return a.correction(c), nil
}

func (a adminCorrections) ApplyCorrection(ctx context.Context, actor audit.Actor, id string) error {
	return adminErr(a.acc.ApplyCorrection(ctx, actor, id, ""))
}

func (a adminCorrections) RejectCorrection(ctx context.Context, actor audit.Actor, id, reason string) error {
	return adminErr(a.acc.RejectCorrection(ctx, actor, id, reason))
}
