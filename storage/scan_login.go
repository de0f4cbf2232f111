package storage

import (
	"context"
	"time"
)

// ScanState is the state of a scan-to-login request (扫码登录). It only moves forward:
//
//	pending ──(a phone opens the code)──► scanned ──(that phone confirms)──► approved ──(the computer finishes)──► used
//	                                          └─────(that phone refuses)───► denied
type ScanState string

// The states of a ScanLogin.
const (
	ScanPending  ScanState = "pending"  // shown on the computer, not opened by any phone yet
	ScanScanned  ScanState = "scanned"  // opened by one phone session; only it may decide
	ScanApproved ScanState = "approved" // confirmed on that phone; the computer may finish once
	ScanDenied   ScanState = "denied"   // refused on that phone; final
	ScanUsed     ScanState = "used"     // finished: the computer's session exists; final
)

// ScanLogin is one scan-to-login request: a QR code shown on a computer's login page, which a
// phone that is logged in opens and confirms, after which the computer's browser (and only
// that browser) gets a login session of the person who confirmed.
type ScanLogin struct {
	ID string // random, 16 bytes base64url: the identifier inside the signed code
	// BindingHash is HMAC-SM3 (32 bytes) of the random secret in the cookie of the browser that
	// showed the code; only a browser presenting that secret may read the state or finish.
	BindingHash []byte
	// Pending is the login page's pending request (the MACed authz value) the login continues.
	Pending  string
	ClientID string // the app asking ("" for the provider's own account pages)
	// Browser is a coarse description of the browser that showed the code (browser and OS
	// family, masked address), shown on the phone; no personal data.
	Browser string
	State   ScanState
	// SessionID is the login session of the phone that opened the code ("" while pending):
	// only that session may approve or deny.
	SessionID string
	PersonID  string    // the person of that session ("" while pending)
	ACR       string    // set on approval: the phone session's acr
	AMR       []string  // set on approval: the methods of the computer's session
	AuthTime  time.Time // set on approval: the phone session's auth_time (zero before)
	CreatedAt time.Time
	ExpiresAt time.Time // after it no transition succeeds
}

// ScanDecision is a phone's answer to a scanned ScanLogin.
type ScanDecision struct {
	Approve  bool // approved when true, denied when false
	ACR      string
	AMR      []string
	AuthTime time.Time
}

// ScanLogins stores scan-to-login requests. Every transition is one conditional update, so
// it succeeds for exactly one of any set of concurrent callers, across replicas. Transitions
// compare now with ExpiresAt: at or after it they fail with ErrExpired and change nothing.
type ScanLogins interface {
	// CreateScanLogin stores sl (State should be ScanPending); ErrConflict when its ID exists.
	CreateScanLogin(ctx context.Context, sl ScanLogin) error
	// GetScanLogin returns the request whatever its state or expiry (the caller compares
	// ExpiresAt), or ErrNotFound.
	GetScanLogin(ctx context.Context, id string) (ScanLogin, error)
	// MarkScanLoginScanned moves a pending request to scanned by the phone's login session
	// sessionID of person personID. Opening it again from the same session while it is still
	// scanned succeeds and changes nothing (a reload). ErrAlreadyUsed when it is scanned by
	// another session or in any later state; ErrExpired; ErrNotFound.
	MarkScanLoginScanned(ctx context.Context, id, personID, sessionID string, now time.Time) error
	// DecideScanLogin moves a scanned request to approved (with d's ACR, AMR and AuthTime) or
	// denied, only for the session that scanned it. ErrAlreadyUsed when it is not scanned (a
	// second decision, never opened) or was scanned by another session; ErrExpired; ErrNotFound.
	DecideScanLogin(ctx context.Context, id, sessionID string, d ScanDecision, now time.Time) error
	// UseScanLogin moves an approved request to used (the computer finishes once) and returns
	// it as it now is. ErrAlreadyUsed when it is not approved (pending, scanned, denied, used);
	// ErrExpired; ErrNotFound.
	UseScanLogin(ctx context.Context, id string, now time.Time) (ScanLogin, error)
	// DeleteExpiredScanLogins removes requests that expired before t (ExpiresAt < t); returns
	// how many. Idempotent.
	DeleteExpiredScanLogins(ctx context.Context, before time.Time) (int64, error)
}
