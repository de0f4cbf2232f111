package oidc

import (
	"context"
	"net/http"

	"github.com/tongban/tongban/storage"
)

// otpPage is what the templates see of one-time passwords and recovery codes (pageData.OTP).
type otpPage struct{}

// fillAccountOTP fills pageData.OTP for the account page.
func (s *Server) fillAccountOTP(ctx context.Context, d *pageData, ls *storage.LoginSession, p storage.Person) error {
	return nil
}

// routesOTP adds the routes of one-time passwords and recovery codes.
func (s *Server) routesOTP(handle func(method, path string, h http.HandlerFunc)) {}
