package web

import (
	"errors"
	"net/http"

	"github.com/tongban/tongban/credentials"
	"github.com/tongban/tongban/qr"
	"github.com/tongban/tongban/wallet"
)

// problem is what a request error shows: the HTTP status, the page text key and the API
// error code. The cause goes to the log only.
type problem struct {
	status int
	key    string // texts key
	code   string // API "error"
}

// problems maps the errors of wallet.Service.Mint and of request parsing, first match wins.
// Failures of the server, storage.ErrUnavailable included, are not here: serverProblem
// answers them.
var problems = []struct {
	err error
	p   problem
}{
	{credentials.ErrLicenceRevoked, problem{http.StatusConflict, "licenceRevoked", "licence_revoked"}},
	{credentials.ErrLicenceSuspended, problem{http.StatusConflict, "licenceSuspended", "licence_suspended"}},
	{credentials.ErrLicenceExpired, problem{http.StatusConflict, "licenceExpired", "licence_expired"}},
	{credentials.ErrLicenceNotYetValid, problem{http.StatusConflict, "licenceNotYet", "licence_not_yet_valid"}},
	{wallet.ErrNotFound, problem{http.StatusNotFound, "notFound", "not_found"}},
	{wallet.ErrAmbiguous, problem{http.StatusConflict, "ambiguous", "ambiguous_kind"}},
	{qr.ErrMixedHolders, problem{http.StatusUnprocessableEntity, "mixedHolders", "mixed_holders"}},
	{qr.ErrLicenceCount, problem{http.StatusUnprocessableEntity, "licenceCount", "licence_count"}},
	{qr.ErrTooLong, problem{http.StatusUnprocessableEntity, "tooLong", "too_long"}},
	{wallet.ErrOutOfScope, problem{http.StatusUnprocessableEntity, "outOfScope", "out_of_scope"}},
	{wallet.ErrBadRequest, problem{http.StatusBadRequest, "badRequest", "invalid_request"}},
	{qr.ErrUnknownProfile, problem{http.StatusBadRequest, "badRequest", "invalid_request"}},
	{credentials.ErrUnknownKind, problem{http.StatusBadRequest, "badRequest", "invalid_request"}},
	// A licence that is valid by status but fails validation (for example a stored licence
	// older than a rule) cannot be shown either.
	{credentials.ErrInvalidDates, problem{http.StatusConflict, "licenceExpired", "licence_invalid"}},
	{errIDPUnavailable, problem{http.StatusServiceUnavailable, "idpDown", "temporarily_unavailable"}},
}

func problemOf(err error) (problem, bool) {
	for _, p := range problems {
		if errors.Is(err, p.err) {
			return p.p, true
		}
	}
	return problemServer, false
}
