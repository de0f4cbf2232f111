package httpkit

import (
	"net/http"
	"strings"
)

// Values of the security headers.
const (
	FrameAncestorsNone = "frame-ancestors 'none'" // the CSP directive every policy must carry
	HSTSValue          = "max-age=31536000"       // Strict-Transport-Security: one year, in seconds
	ReferrerPolicy     = "no-referrer"            // Referrer-Policy
	FrameOptions       = "DENY"                   // X-Frame-Options (for browsers without CSP 2)
	NoStore            = "no-store"               // Cache-Control of dynamic answers
)

// SecurityHeaders are the headers every answer of a server carries:
//
//	Content-Security-Policy: CSP
//	X-Frame-Options: DENY
//	X-Content-Type-Options: nosniff
//	Referrer-Policy: no-referrer
//	Cache-Control: no-store
//	Strict-Transport-Security: max-age=31536000   (only with HSTS)
//
// A handler may override Cache-Control for what may be cached (discovery documents, keys,
// stylesheets, the trust list).
type SecurityHeaders struct {
	// CSP is the Content-Security-Policy (CSP Level 3), which differs per server (what its
	// pages load and where its forms post). It must contain FrameAncestorsNone: Wrap panics
	// otherwise.
	CSP string
	// HSTS adds Strict-Transport-Security (RFC 6797) with HSTSValue. Set it exactly when the
	// server is reached over https (browsers ignore the header over http).
	HSTS bool
}

// Set sets the headers on h, replacing values already there.
func (s SecurityHeaders) Set(h http.Header) {
	h.Set("Content-Security-Policy", s.CSP)
	h.Set("X-Frame-Options", FrameOptions)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", ReferrerPolicy)
	h.Set("Cache-Control", NoStore)
	if s.HSTS {
		h.Set("Strict-Transport-Security", HSTSValue)
	}
}

// Wrap returns a handler that sets the headers, then calls next. It panics when CSP lacks
// FrameAncestorsNone — a policy that lets other sites frame the pages is a programming error,
// caught when the server builds its handler.
func (s SecurityHeaders) Wrap(next http.Handler) http.Handler {
	if !strings.Contains(s.CSP, FrameAncestorsNone) {
		panic("httpkit: Content-Security-Policy without " + FrameAncestorsNone + ": " + s.CSP)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.Set(w.Header())
		next.ServeHTTP(w, r)
	})
}
