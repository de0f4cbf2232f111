package admin_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/tongban/tongban/admin"
	"github.com/tongban/tongban/audit"
)

// RegisterApp of the test backend: an ID and a redirect URI or client_credentials are all it
// checks (the provider's validation is tested with the real adapters in
// cmd/internal/idpserver).
func (a *testApps) RegisterApp(ctx context.Context, actor audit.Actor, n admin.NewApp) (admin.App, string, error) {
	if n.ID == "" || (len(n.RedirectURIs) == 0 && !strings.Contains(strings.Join(n.GrantTypes, " "), "client_credentials")) {
		return admin.App{}, "", fmt.Errorf("%w: test apps: id and redirect_uris are required", admin.ErrInvalid)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.apps[n.ID]; ok {
		return admin.App{}, "", fmt.Errorf("%w: test apps: %q exists", admin.ErrConflict, n.ID)
	}
	app := admin.App{ID: n.ID, Name: n.Name, Status: admin.StatusPendingReview, Department: n.Department,
		RedirectURIs: n.RedirectURIs, Scopes: n.Scopes, GrantTypes: n.GrantTypes, LogoURI: n.LogoURI, CreatedAt: a.now()}
	err := a.store.InTx(ctx, func(ctx context.Context) error {
		return actor.Record(ctx, a.store, a.now(), "client.register", n.ID, n.ID, "department="+n.Department+" status=pending_review")
	})
	if err != nil {
		return admin.App{}, "", err
	}
	a.apps[n.ID] = app
	secret := "secret-" + n.ID
	if n.Public {
		secret = ""
	}
	return app, secret, nil
}

// ChangeApp of the test backend: applied at once before publication, pending after.
func (a *testApps) ChangeApp(ctx context.Context, actor audit.Actor, id string, ch admin.AppEdit) error {
	return a.change(ctx, actor, id, "client.update", "", func(app *admin.App) error {
		if err := need(app, admin.StatusPendingReview, admin.StatusRejected, admin.StatusPublished, admin.StatusSuspended); err != nil {
			return err
		}
		p := admin.AppChange{Name: app.Name, RedirectURIs: app.RedirectURIs, Scopes: app.Scopes, GrantTypes: app.GrantTypes, LogoURI: app.LogoURI}
		if ch.Name != "" {
			p.Name = ch.Name
		}
		if ch.RedirectURIs != nil {
			p.RedirectURIs = ch.RedirectURIs
		}
		if ch.Scopes != nil {
			p.Scopes = ch.Scopes
		}
		if ch.GrantTypes != nil {
			p.GrantTypes = ch.GrantTypes
		}
		if ch.LogoURI != "" {
			p.LogoURI = ch.LogoURI
		}
		if app.Status == admin.StatusPublished || app.Status == admin.StatusSuspended {
			app.Pending = &p
			return nil
		}
		app.Name, app.RedirectURIs, app.Scopes, app.GrantTypes, app.LogoURI = p.Name, p.RedirectURIs, p.Scopes, p.GrantTypes, p.LogoURI
		app.Status = admin.StatusPendingReview
		return nil
	})
}
