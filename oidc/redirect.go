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

// validateRedirectURI checks a redirect or post-logout redirect URI for registration: on top
// of redirectSecure, no fragment, user info, wildcard or dot segment, canonical (lower-case)
// scheme and host, and the loopback IP literal rather than the name localhost (RFC 8252 §8.3;
// redirectSecure still accepts localhost for clients registered before that rule).
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
	case strings.Contains(raw, "*"):
		return fmt.Errorf("%w: %q has a wildcard; register every redirect URI in full (RFC 9700 §2.1)", ErrInvalidRedirectURI, raw)
	case hasDotSegment(u.EscapedPath()):
		return fmt.Errorf("%w: %q has a dot segment (/./ or /../) in its path", ErrInvalidRedirectURI, raw)
	case u.Scheme == "http" && strings.EqualFold(u.Hostname(), "localhost"):
		c := *u
		c.Host = "127.0.0.1"
		if p := u.Port(); p != "" {
			c.Host += ":" + p
		}
		return fmt.Errorf("%w: %q uses the name localhost; use the loopback IP literal, e.g. %q (RFC 8252 §8.3)", ErrInvalidRedirectURI, raw, c.String())
	}
	if canon := canonicalURI(u); canon != raw {
		return fmt.Errorf("%w: %q is not in canonical form (lower-case scheme and host); register %q", ErrInvalidRedirectURI, raw, canon)
	}
	return nil
}

// hasDotSegment reports whether a path has a "." or ".." segment (also percent-encoded).
func hasDotSegment(path string) bool {
	for _, seg := range strings.Split(path, "/") {
		switch strings.ToLower(strings.ReplaceAll(strings.ToLower(seg), "%2e", ".")) {
		case ".", "..":
			return true
		}
	}
	return false
}

// canonicalURI returns the URI with its scheme and host in lower case, the rest as given.
func canonicalURI(u *url.URL) string {
	c := *u
	c.Scheme = strings.ToLower(c.Scheme)
	c.Host = strings.ToLower(c.Host)
	return c.String()
}
