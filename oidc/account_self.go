package oidc

import (
	"context"
	"net/http"

	"github.com/tongban/tongban/storage"
)

// selfPage is what the templates see of the self-service account sections (password, sessions, consents, data, closing) (pageData.Self).
type selfPage struct{}

// fillAccountSelf fills pageData.Self for the account page.
func (s *Server) fillAccountSelf(ctx context.Context, d *pageData, ls *storage.LoginSession, p storage.Person) error {
	return nil
}

// routesSelf adds the routes of the self-service account sections (password, sessions, consents, data, closing).
func (s *Server) routesSelf(handle func(method, path string, h http.HandlerFunc)) {}
