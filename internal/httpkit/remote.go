package httpkit

import (
	"net"
	"net/http"
)

// RemoteIP returns the host part of r.RemoteAddr ("203.0.113.7", "2001:db8::1"), or
// RemoteAddr itself when it has no port. It is the peer the server sees, not a client address
// claimed in a header.
func RemoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
