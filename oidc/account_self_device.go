package oidc

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/medama-io/go-useragent"

	"github.com/tongban/tongban/storage"
)

// Sessions on every device (the account page's sessions section): each login session records
// a short description of the browser that made it, the client address masked, and when it was
// last used.

// uaParser parses User-Agent strings (github.com/medama-io/go-useragent: a trie over the
// browser and OS tokens it ships; built once, safe for concurrent use).
var uaParser = useragent.NewParser()

// deviceName returns "Browser · OS" for a User-Agent header ("Chrome · Android",
// "Safari · iOS"), either part alone when the other is unknown, "" when both are, and never
// more than 64 bytes. Only the families are kept, no versions: enough for a person to
// recognise the device, too little to fingerprint it.
func deviceName(ua string) string {
	if ua == "" {
		return ""
	}
	a := uaParser.Parse(ua)
	var parts []string
	if b := string(a.Browser()); b != "" {
		parts = append(parts, b)
	}
	if o := string(a.OS()); o != "" {
		parts = append(parts, o)
	}
	s := strings.Join(parts, " · ")
	if len(s) > 64 {
		s = s[:64]
	}
	return s
}

// maskIP masks a client address for display and storage: an IPv4 address keeps its first
// three octets ("203.0.113.*"), an IPv6 address its first 48 bits ("2001:db8:1::*"); an
// IPv4-mapped IPv6 address is shown as IPv4. Anything else is "".
func maskIP(ip string) string {
	a := net.ParseIP(strings.TrimSpace(ip))
	if a == nil {
		return ""
	}
	if v4 := a.To4(); v4 != nil {
		return fmt.Sprintf("%d.%d.%d.*", v4[0], v4[1], v4[2])
	}
	m := a.Mask(net.CIDRMask(48, 128))
	return strings.TrimSuffix(m.String(), "::") + "::*"
}

// withDevice returns ls with the device description, the masked client address of r and
// LastSeen set to its CreatedAt. startSession applies it to every session it starts.
func (s *Server) withDevice(r *http.Request, ls storage.LoginSession) storage.LoginSession {
	ls.Device = deviceName(r.UserAgent())
	ls.ClientIP = maskIP(s.cfg.ClientIP(r))
	ls.LastSeen = ls.CreatedAt
	return ls
}

// touchInterval is how stale a session's LastSeen may get before a request that uses the
// session writes it again: one write a minute at most per session.
const touchInterval = time.Minute

// touchSession records that ls was used now (storage.SelfService.TouchLoginSession) when its
// LastSeen is older than touchInterval; a failure is logged, never returned.
func (s *Server) touchSession(ctx context.Context, ls *storage.LoginSession) {
	now := s.now()
	if now.Sub(ls.LastSeen) < touchInterval {
		return
	}
	if err := s.store.TouchLoginSession(ctx, ls.ID, now); err != nil {
		s.logFailure(ctx, "touch login session", err)
		return
	}
	ls.LastSeen = now.UTC().Truncate(time.Microsecond)
}
