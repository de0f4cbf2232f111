package federation

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"unicode"
)

// Bounds of an entity identifier (CheckEntityID).
const (
	// MaxEntityIDLength is the longest entity identifier accepted, in bytes.
	MaxEntityIDLength = 2048
	// maxHostLength is the longest host name (RFC 1035 §2.3.4 less the root dot).
	maxHostLength = 253
)

// CheckEntityID is the one validator of entity identifiers (实体标识符, OpenID Federation 1.0
// §1.2) used by the resolver, statement parsing and every command and admin function: an
// https URL with a host, optionally a port 1–65535 and a path; no user name or password, no
// query, no fragment, no white space or control character anywhere (surrounding spaces
// included), a host of at most 253 bytes and the whole at most 2048 bytes. http is accepted
// only when allowHTTP and the host is loopback (localhost, 127.0.0.0/8, ::1: test federations
// on one machine). The error names the problem, not the caller's flag: wrap it with the flag.
// Errors: ErrMalformed.
func CheckEntityID(id string, allowHTTP bool) error {
	bad := func(why string) error {
		return fmt.Errorf("%w: entity ID %q %s", ErrMalformed, truncate(id), why)
	}
	switch {
	case id == "":
		return fmt.Errorf("%w: empty entity ID", ErrMalformed)
	case len(id) > MaxEntityIDLength:
		return bad(fmt.Sprintf("is longer than %d bytes", MaxEntityIDLength))
	case strings.ContainsFunc(id, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }):
		return bad("contains white space or a control character")
	case strings.ContainsAny(id, "?#"):
		return bad("has a query or fragment")
	}
	u, err := url.Parse(id)
	switch {
	case err != nil || u.Opaque != "" || u.Host == "":
		return bad("is not an absolute URL with a host")
	case u.User != nil:
		return bad("has a user name or password")
	case u.Scheme == "https":
	case u.Scheme == "http" && allowHTTP && isLoopbackHost(u.Hostname()):
	case u.Scheme == "http" && allowHTTP:
		return bad("is http on a host that is not loopback (http is for test federations on one machine)")
	default:
		return bad("is not https")
	}
	host := u.Hostname()
	switch {
	case host == "":
		return bad("has no host")
	case len(host) > maxHostLength:
		return bad(fmt.Sprintf("has a host longer than %d bytes", maxHostLength))
	}
	if strings.HasSuffix(u.Host, ":") {
		return bad("has an empty port")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return bad("has a port outside 1–65535")
		}
	}
	return nil
}

// isLoopbackHost reports whether host is localhost or a loopback IP literal.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
