package oidc

import (
	"context"
	"net/http"

	"github.com/tongban/tongban/storage"
)

// passkeyPage is what the templates see of passkeys (WebAuthn) (pageData.Passkeys).
type passkeyPage struct{}

// fillAccountPasskeys fills pageData.Passkeys for the account page.
func (s *Server) fillAccountPasskeys(ctx context.Context, d *pageData, ls *storage.LoginSession, p storage.Person) error {
	return nil
}

// routesPasskeys adds the routes of passkeys (WebAuthn).
func (s *Server) routesPasskeys(handle func(method, path string, h http.HandlerFunc)) {}
