package web

import (
	"errors"
	"net/http"

	"github.com/tongban/tongban/internal/httpkit"
	"github.com/tongban/tongban/storage"
)

// The wallet's answers while its database refuses writes (disk full, read-only, connection
// lost: storage.ErrUnavailable; docs/design/storage-faults.md): 503 with Retry-After: 5
// (httpkit.RetryAfter) — the plain "temporarily unavailable" page for citizens, the JSON
// error temporarily_unavailable for the API and /code.json, the usual 503 for the trust and
// status lists. They are logged at debug only: the readiness monitor (storage/health) counts
// the refusals and logs once per interval, so a full disk does not log one line per request.

// unavailable reports whether err comes from a database that refuses writes now.
func unavailable(err error) bool { return errors.Is(err, storage.ErrUnavailable) }

// problemUnavailable is the answer while the database refuses writes. Its API code is the one
// the API already answers when the identity provider cannot be reached, so an app retries both
// alike; the description (descUnavailable) tells them apart.
var problemUnavailable = problem{http.StatusServiceUnavailable, "unavailable", "temporarily_unavailable"}

// problemServer is the answer to any other failure of the server.
var problemServer = problem{http.StatusInternalServerError, "server", "server_error"}

// descUnavailable is the API's error_description of problemUnavailable.
const descUnavailable = "the wallet cannot store data right now; try again later"

// serverProblem returns what to answer to a request that failed for a reason of the server,
// and logs err under what (httpkit.ServerStatus): problemUnavailable with Retry-After set on w
// while the database refuses writes (logged at debug), else problemServer (logged at error).
// Call it before anything is written.
func (s *Server) serverProblem(w http.ResponseWriter, r *http.Request, what string, err error) problem {
	if httpkit.ServerStatus(r.Context(), w, s.log, unavailable(err), what, err) == http.StatusServiceUnavailable {
		return problemUnavailable
	}
	return problemServer
}

// apiServerError answers an API request (bearer token) that failed for a reason of the server:
// 503 {"error":"temporarily_unavailable","error_description":descUnavailable} with Retry-After
// while the database refuses writes, else 500 {"error":"server_error","error_description":""}.
func (s *Server) apiServerError(w http.ResponseWriter, r *http.Request, what string, err error) {
	p := s.serverProblem(w, r, what, err)
	desc := ""
	if p == problemUnavailable {
		desc = descUnavailable
	}
	apiJSON.Error(w, p.status, p.code, desc)
}
