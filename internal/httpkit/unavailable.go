package httpkit

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
)

// RetryAfter is the Retry-After (RFC 9110 §10.2.3) of a 503 answered while the database
// refuses writes, in seconds: about how long the readiness monitor (storage/health) needs to
// see the database accept writes again.
const RetryAfter = 5

// retryAfterValue is RetryAfter as the header value, "5".
var retryAfterValue = strconv.Itoa(RetryAfter)

// SetRetryAfter sets Retry-After: 5 (RetryAfter) on w, for a 503 while the database refuses
// writes. Call it before the status is written.
func SetRetryAfter(w http.ResponseWriter) { w.Header().Set("Retry-After", retryAfterValue) }

// ServerStatus returns the status of an answer to a request that failed for a reason of the
// server, and logs the cause err under what ("callback: store session").
//
// unavailable is the caller's decision that err means the database refuses writes now (disk
// full, read-only, connection lost: errors.Is(err, storage.ErrUnavailable)). Then the answer
// is 503 with Retry-After set on w (SetRetryAfter) and err is logged at debug only: such
// failures come in bursts, and the readiness monitor (storage/health) counts them and logs
// once per interval (docs/design/storage-faults.md). Otherwise the answer is 500 and err is
// logged at error. err must not carry personal data or secrets (storage errors do not).
// Call it before the status is written; the caller writes the body.
func ServerStatus(ctx context.Context, w http.ResponseWriter, log *slog.Logger, unavailable bool, what string, err error) int {
	if unavailable {
		SetRetryAfter(w)
		log.DebugContext(ctx, what, "err", err, "unavailable", true)
		return http.StatusServiceUnavailable
	}
	log.ErrorContext(ctx, what, "err", err)
	return http.StatusInternalServerError
}
