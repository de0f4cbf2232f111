package admin

import "errors"

// Errors of the backends (Apps, People, Corrections, Stats) and of GrantRole and RevokeRole.
// Adapters wrap them with %w; the handler maps them to HTTP answers (errorStatus).
var (
	// ErrNotFound: no app, person, correction or role grant with that ID (404 not_found).
	ErrNotFound = errors.New("admin: not found")
	// ErrConflict: the object's state does not allow the action, e.g. approving an app that
	// is not waiting for review, enabling a person who is not disabled, granting a role held
	// already (409 conflict).
	ErrConflict = errors.New("admin: conflict with the current state")
	// ErrInvalid: the input is malformed (a bad department code, role, reason, query or
	// cursor) (400 invalid_request).
	ErrInvalid = errors.New("admin: invalid input")
	// ErrForbidden: the actor's roles do not allow the action (403 forbidden).
	ErrForbidden = errors.New("admin: forbidden")
	// ErrUnavailable: the function is not set up on this server (a nil backend) (501
	// not_available).
	ErrUnavailable = errors.New("admin: not available on this server")
)
