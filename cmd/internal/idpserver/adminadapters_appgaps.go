package idpserver

import (
	"context"
	"errors"
	"fmt"

	"github.com/tongban/tongban/admin"
	"github.com/tongban/tongban/audit"
	"github.com/tongban/tongban/oidc"
)

// The console's registration and change of apps (admin.Apps.RegisterApp, ChangeApp) over
// oidc.RegisterClient and oidc.ProposeClientChange.

// appInputErrors are oidc's validation errors of an app's metadata: admin.ErrInvalid, with
// oidc's message (it names the field and rule, never a secret) for the administrator.
var appInputErrors = []error{oidc.ErrInvalidClientID, oidc.ErrInvalidRedirectURI, oidc.ErrInvalidGrantType,
	oidc.ErrInvalidScope, oidc.ErrInvalidAlgorithm, oidc.ErrInvalidSubjectType, oidc.ErrInvalidAuthMethod,
	oidc.ErrInvalidAccessTokenFormat, oidc.ErrInvalidPurpose, oidc.ErrInvalidDepartment, oidc.ErrInvalidLogoURI,
	oidc.ErrInvalidJWKS}

// adminInputErr maps the errors of a registration or change: validation errors to
// admin.ErrInvalid, a taken ID to admin.ErrConflict, the rest as adminErr does.
func adminInputErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, oidc.ErrClientExists) {
		return fmt.Errorf("%w: %s", admin.ErrConflict, err.Error())
	}
	if !errors.Is(err, oidc.ErrClientRetired) && !errors.Is(err, oidc.ErrInvalidTransition) {
		for _, s := range appInputErrors {
			if errors.Is(err, s) {
				return fmt.Errorf("%w: %s", admin.ErrInvalid, err.Error())
			}
		}
	}
	return adminErr(err)
}

func (a adminApps) RegisterApp(ctx context.Context, actor audit.Actor, n admin.NewApp) (admin.App, string, error) {
	c, secret, err := oidc.RegisterClient(ctx, a.store, a.kr, actor, oidc.NewClient{
		ID: n.ID, Name: n.Name, Department: n.Department, RedirectURIs: n.RedirectURIs,
		PostLogoutRedirectURIs: n.PostLogoutRedirectURIs, Scopes: n.Scopes, GrantTypes: n.GrantTypes,
		Public: n.Public, LogoURI: n.LogoURI, Purpose: n.Purpose,
	})
	if err != nil {
		return admin.App{}, "", adminInputErr(err)
	}
	return appOf(c), secret, nil
}

func (a adminApps) ChangeApp(ctx context.Context, actor audit.Actor, id string, ch admin.AppEdit) error {
	defer a.forget(id)
	return adminInputErr(oidc.ProposeClientChange(ctx, a.store, actor, id, oidc.ClientChange{
		Name: ch.Name, LogoURI: ch.LogoURI, RedirectURIs: ch.RedirectURIs, Scopes: ch.Scopes, GrantTypes: ch.GrantTypes,
	}))
}
