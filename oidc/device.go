package oidc

import "net/http"

// OAuth 2.0 Device Authorization Grant (RFC 8628) routes.
const (
	pathDevice = "/device" // the user-code page (verification_uri)
)

// devicePage is what the device-code page sees (pageData.Device).
type devicePage struct{}

// routesDevice adds the routes of the device authorization grant.
func (s *Server) routesDevice(handle func(method, path string, h http.HandlerFunc)) {}
