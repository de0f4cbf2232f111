package oidc

import "net/http"

// Scan-to-login (扫码登录) routes.
const (
	pathScanConfirm = "/scan" // the phone's confirmation page
)

// scanPage is what the login page sees of scan-to-login (pageData.Scan).
type scanPage struct{}

// routesScan adds the routes of scan-to-login.
func (s *Server) routesScan(handle func(method, path string, h http.HandlerFunc)) {}
