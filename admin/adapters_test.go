package admin_test

// Test-only backends of the admin package over a real store: each change is the smallest
// storage change (or, for apps, whose review states are not in storage on this branch, an
// in-memory change committed only with its transaction) plus its audit entry, recorded with
// audit.Actor.Record in the same transaction. The real adapters over oidc and accounts are
// in cmd/internal/idpserver.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tongban/tongban/accounts"
	"github.com/tongban/tongban/admin"
	"github.com/tongban/tongban/audit"
	"github.com/tongban/tongban/storage"
)

// testApps keeps apps in memory.
type testApps struct {
	store storage.Storage
	now   func() time.Time
	mu    sync.Mutex
	apps  map[string]admin.App
}

func (a *testApps) add(app admin.App) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.apps[app.ID] = app
}

func (a *testApps) ListApps(ctx context.Context, q admin.AppQuery) (admin.AppPage, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	var ids []string
	for id, app := range a.apps {
		if (q.Status == "" || app.Status == q.Status) && (q.Department == "" || app.Department == q.Department) && id > q.After {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	var page admin.AppPage
	for i, id := range ids {
		if i == q.Limit {
			page.Next = ids[i-1]
			break
		}
		page.Apps = append(page.Apps, a.apps[id])
	}
	return page, nil
}

func (a *testApps) GetApp(ctx context.Context, id string) (admin.App, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	app, ok := a.apps[id]
	if !ok {
		return app, fmt.Errorf("test apps: %w", admin.ErrNotFound)
	}
	return app, nil
}

// change applies fn to the app and records action in one transaction; the in-memory change is
// kept only when the transaction commits.
func (a *testApps) change(ctx context.Context, actor audit.Actor, id, action, detail string, fn func(*admin.App) error) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	app, ok := a.apps[id]
	if !ok {
		return fmt.Errorf("test apps: %w", admin.ErrNotFound)
	}
	if err := fn(&app); err != nil {
		return err
	}
	err := a.store.InTx(ctx, func(ctx context.Context) error {
		return actor.Record(ctx, a.store, a.now(), action, id, id, detail)
	})
	if err == nil {
		a.apps[id] = app
	}
	return err
}

func need(app *admin.App, states ...string) error {
	if !slices.Contains(states, app.Status) {
		return fmt.Errorf("test apps: app is %s: %w", app.Status, admin.ErrConflict)
	}
	return nil
}

func (a *testApps) ApproveApp(ctx context.Context, actor audit.Actor, id string) error {
	return a.change(ctx, actor, id, "client.approve", "", func(app *admin.App) error {
		if app.Pending != nil {
			app.Name, app.RedirectURIs, app.Pending = app.Pending.Name, app.Pending.RedirectURIs, nil
			return nil
		}
		if err := need(app, admin.StatusPendingReview); err != nil {
			return err
		}
		app.Status = admin.StatusPublished
		return nil
	})
}

func (a *testApps) RejectApp(ctx context.Context, actor audit.Actor, id, reason string) error {
	return a.change(ctx, actor, id, "client.reject", "", func(app *admin.App) error {
		if err := need(app, admin.StatusPendingReview); err != nil {
			return err
		}
		app.Status, app.StatusReason = admin.StatusRejected, reason
		return nil
	})
}

func (a *testApps) SuspendApp(ctx context.Context, actor audit.Actor, id, reason string) error {
	return a.change(ctx, actor, id, "client.suspend", "", func(app *admin.App) error {
		if err := need(app, admin.StatusPublished); err != nil {
			return err
		}
		app.Status, app.StatusReason = admin.StatusSuspended, reason
		return nil
	})
}

func (a *testApps) ResumeApp(ctx context.Context, actor audit.Actor, id string) error {
	return a.change(ctx, actor, id, "client.resume", "", func(app *admin.App) error {
		if err := need(app, admin.StatusSuspended); err != nil {
			return err
		}
		app.Status = admin.StatusPublished
		return nil
	})
}

func (a *testApps) RetireApp(ctx context.Context, actor audit.Actor, id, reason string) error {
	return a.change(ctx, actor, id, "client.retire", "", func(app *admin.App) error {
		app.Status, app.StatusReason = admin.StatusRetired, reason
		return nil
	})
}

func (a *testApps) RotateAppSecret(ctx context.Context, actor audit.Actor, id string) (string, error) {
	return "new-secret-" + id, a.change(ctx, actor, id, "client.secret.rotate", "", func(*admin.App) error { return nil })
}

func (a *testApps) IssueInitialAccessToken(ctx context.Context, actor audit.Actor, department string, ttl time.Duration) (admin.InitialAccessToken, error) {
	t := admin.InitialAccessToken{Token: "iat-" + department, Department: department, ExpiresAt: a.now().Add(ttl)}
	err := a.store.InTx(ctx, func(ctx context.Context) error {
		return actor.Record(ctx, a.store, a.now(), "iat.issue", department, "", "department="+department)
	})
	return t, err
}

// testStats answers two hours of figures for any known app.
type testStats struct{ apps *testApps }

func (s testStats) AppStats(ctx context.Context, id string, since time.Time) ([]admin.AppHour, error) {
	if _, err := s.apps.GetApp(ctx, id); err != nil {
		return nil, err
	}
	return []admin.AppHour{{Hour: since, Logins: 12, Tokens: 30, Errors: 1}, {Hour: since.Add(time.Hour), Logins: 7, Tokens: 9}}, nil
}

// testPeople works on the store's people.
type testPeople struct {
	store storage.Storage
	acc   *accounts.Service
	now   func() time.Time
}

func (p *testPeople) person(sp storage.Person) admin.Person {
	name := []rune(sp.Name)
	masked := "*"
	if len(name) > 1 {
		masked = strings.Repeat("*", len(name)-1) + string(name[len(name)-1])
	}
	return admin.Person{ID: sp.ID, Kind: string(sp.Kind), NameMasked: masked, IDNumberMasked: sp.IDNumberMasked,
		Disabled: sp.Disabled, CreatedAt: sp.CreatedAt}
}

func (p *testPeople) FindPeople(ctx context.Context, q string) ([]admin.Person, error) {
	sp, _, _, err := p.acc.LookupPerson(ctx, q)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return []admin.Person{p.person(sp)}, nil
}

func (p *testPeople) GetPerson(ctx context.Context, id string) (admin.Person, error) {
	sp, err := p.store.GetPerson(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return admin.Person{}, fmt.Errorf("test people: %w", admin.ErrNotFound)
	}
	return p.person(sp), err
}

// setDisabled changes Disabled and records action in one transaction.
func (p *testPeople) setDisabled(ctx context.Context, actor audit.Actor, id, action string, disabled bool) error {
	return p.store.InTx(ctx, func(ctx context.Context) error {
		err := p.store.UpdatePerson(ctx, id, func(sp *storage.Person) error {
			if sp.Disabled == disabled {
				return fmt.Errorf("test people: %w", admin.ErrConflict)
			}
			sp.Disabled = disabled
			return nil
		})
		if errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("test people: %w", admin.ErrNotFound)
		}
		if err != nil {
			return err
		}
		return actor.Record(ctx, p.store, p.now(), action, id, "", "")
	})
}

func (p *testPeople) DisablePerson(ctx context.Context, actor audit.Actor, id, reason string) error {
	return p.setDisabled(ctx, actor, id, "person.disable", true)
}

func (p *testPeople) EnablePerson(ctx context.Context, actor audit.Actor, id string) error {
	return p.setDisabled(ctx, actor, id, "person.enable", false)
}

func (p *testPeople) record(ctx context.Context, actor audit.Actor, id, action string) error {
	if _, err := p.GetPerson(ctx, id); err != nil {
		return err
	}
	return p.store.InTx(ctx, func(ctx context.Context) error {
		return actor.Record(ctx, p.store, p.now(), action, id, "", "")
	})
}

func (p *testPeople) UnlockPerson(ctx context.Context, actor audit.Actor, id string) error {
	return p.record(ctx, actor, id, "person.unlock")
}

func (p *testPeople) PersonResetLink(ctx context.Context, actor audit.Actor, id string) (admin.ResetLink, error) {
	return admin.ResetLink{URL: "https://idp.example/recover?t=test-" + id, ExpiresAt: p.now().Add(time.Hour)},
		p.record(ctx, actor, id, "person.reset_link")
}

func (p *testPeople) EndPersonSessions(ctx context.Context, actor audit.Actor, id string) (int, error) {
	return 0, p.record(ctx, actor, id, "person.sessions.end")
}
