package oidc

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// redirectSecure is fosite's RedirectSecureChecker and the rule CreateClient applies to
// redirect URIs (RFC 9700 §2.1, RFC 8252 §7): https; http only on a loopback address
// (127.0.0.0/8, [::1] or the name localhost — fosite's default also accepts any
// *.localhost name, which resolves wherever DNS says); or a private-use URI scheme containing
// a dot (reverse domain name, RFC 8252 §7.1) for native apps.
func redirectSecure(_ context.Context, u *url.URL) bool {
	switch u.Scheme {
	case "https":
		return u.Host != ""
	case "http":
		return isLoopbackHost(u.Hostname())
	case "":
		return false
	}
	return strings.Contains(u.Scheme, ".")
}

func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// validateRedirectURI checks a redirect or post-logout redirect URI for registration.
func validateRedirectURI(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil || !u.IsAbs():
		return fmt.Errorf("%w: %q is not an absolute URI", ErrInvalidRedirectURI, raw)
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return fmt.Errorf("%w: %q has a fragment (RFC 6749 §3.1.2)", ErrInvalidRedirectURI, raw)
	case u.User != nil:
		return fmt.Errorf("%w: %q has user info", ErrInvalidRedirectURI, raw)
	case !redirectSecure(context.Background(), u):
		return fmt.Errorf("%w: %q must be https, http on a loopback address, or a private-use scheme like com.example.app:/cb", ErrInvalidRedirectURI, raw)
	}
	return nil
}
