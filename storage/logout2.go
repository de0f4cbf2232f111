package storage

import "context"

// UpstreamLogout finds the login sessions an upstream provider's back-channel logout token
// names (OpenID Connect Back-Channel Logout 1.0 §2.7; migration 00024).
type UpstreamLogout interface {
	// FindUpstreamSessions returns the IDs of the login sessions made by brokered logins
	// through upstreamID (UpstreamSession) whose upstream subject is subject, when subject is
	// not "", and whose UpstreamSID is sid, when sid is not "" — sorted, empty (not nil) when
	// none, and empty when both subject and sid are "" (a logout token names one or the
	// other).
	FindUpstreamSessions(ctx context.Context, upstreamID, subject, sid string) ([]string, error)
}
