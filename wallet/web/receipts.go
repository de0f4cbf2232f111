package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/tongban/tongban/audit"
	"github.com/tongban/tongban/internal/httpkit"
	"github.com/tongban/tongban/wallet"
)

// Counters and receipts over HTTP (docs/design/citizens-counters.md, "Receipts";
// docs/operators/counters.md): the browser verifier at a counter enrols its key with the
// one-time enrolment code an operator gave the office (POST /api/v1/counters/enrol), then
// sends a signed receipt for every code it finds valid (POST /api/v1/receipts), with the
// verifier site's receipts.js (wallet/verifier/site/receipts.js, served at /verify/receipts.js
// with the rest of the page).
//
// Both endpoints are authenticated by what they carry (the enrolment code; the signature of
// an enrolled key), never by cookies, so they answer any origin (CORS, Access-Control-Allow-
// Origin *): a verifier page an office hosts itself (wallet verifier export) posts to the
// wallet from its own origin.

// Paths of counters and receipts.
const (
	pathCounterEnrol = "/api/v1/counters/enrol"
	pathReceipts     = "/api/v1/receipts"
)

// Receipt limits per counter (receiptLimiter), in each replica.
const (
	// ReceiptBurst is how many receipts a counter may send at once (a queue flushed after
	// being offline).
	ReceiptBurst = 120
	// ReceiptRate is how many receipts per second a counter may send after its burst.
	ReceiptRate = 2
	// maxEnrolBody bounds the body of an enrolment request, in bytes.
	maxEnrolBody = 2048
)

// cors answers CORS for the counters' endpoints: any origin, no credentials.
func cors(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Allow-Methods", "POST")
	h.Set("Access-Control-Allow-Headers", "Content-Type")
	h.Set("Access-Control-Max-Age", "86400")
}

// handleCORSPreflight answers OPTIONS on the counters' endpoints: 204 with the CORS headers.
func (s *Server) handleCORSPreflight(w http.ResponseWriter, r *http.Request) {
	cors(w)
	w.WriteHeader(http.StatusNoContent)
}

// enrolRequest is the body of POST /api/v1/counters/enrol.
type enrolRequest struct {
	EnrolmentCode string          `json:"enrolment_code"`
	JWK           json.RawMessage `json:"jwk"`
}

// enrolResponse answers a successful enrolment.
type enrolResponse struct {
	CounterID string `json:"counter_id"`
	KeyID     string `json:"kid"`
	Name      string `json:"name"`
	Office    string `json:"office,omitempty"`
}

// handleCounterEnrol serves POST /api/v1/counters/enrol: body {"enrolment_code": the one-time
// code, "jwk": the counter's public P-256 JWK} (application/json, at most 2 KiB) → 200
// {"counter_id","kid","name","office"}. Errors (RFC 6749 §5.2 style JSON): 400 invalid_request
// (malformed body, not a P-256 public JWK, a key enrolled by another counter), 400
// invalid_grant (unknown enrolment code, already used, expired — each its own description),
// 413, 503 temporarily_unavailable, 500 server_error. The enrolment is audited
// (wallet.ActionCounterEnrol).
func (s *Server) handleCounterEnrol(w http.ResponseWriter, r *http.Request) {
	cors(w)
	var body enrolRequest
	if err := decodeBody(w, r, maxEnrolBody, &body); err != nil || body.EnrolmentCode == "" || len(body.JWK) == 0 {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			apiJSON.Error(w, http.StatusRequestEntityTooLarge, "invalid_request", fmt.Sprintf("the body is larger than %d bytes", maxEnrolBody))
			return
		}
		apiJSON.Error(w, http.StatusBadRequest, "invalid_request", `the body must be {"enrolment_code":"…","jwk":{…}}`)
		return
	}
	c, err := s.svc.EnrolCounter(r.Context(), body.EnrolmentCode, body.JWK, audit.Actor{Address: httpkit.RemoteIP(r)})
	switch {
	case err == nil:
		s.log.InfoContext(r.Context(), "counter enrolled", "counter_id", c.ID, "kid", c.KeyID)
		apiJSON.Write(w, http.StatusOK, enrolResponse{CounterID: c.ID, KeyID: c.KeyID, Name: c.Name, Office: c.Office})
	case errors.Is(err, wallet.ErrEnrolmentUnknown):
		apiJSON.Error(w, http.StatusBadRequest, "invalid_grant", "unknown enrolment code (check it, or ask the operator for a new one)")
	case errors.Is(err, wallet.ErrEnrolmentUsed):
		apiJSON.Error(w, http.StatusBadRequest, "invalid_grant", "this enrolment code was used already; ask the operator for a new one")
	case errors.Is(err, wallet.ErrEnrolmentExpired):
		apiJSON.Error(w, http.StatusBadRequest, "invalid_grant", "this enrolment code has expired; ask the operator for a new one")
	case errors.Is(err, wallet.ErrCounterKey), errors.Is(err, wallet.ErrBadRequest):
		apiJSON.Error(w, http.StatusBadRequest, "invalid_request", err.Error())
	default:
		s.apiServerError(w, r, "counter enrol", err)
	}
}

// handleReceipt serves POST /api/v1/receipts: body a receipt, a compact JWS (RFC 7515 §7.1;
// wallet.AcceptReceipt), at most wallet.MaxReceiptSize bytes, any content type (the browser
// sends application/jose) → 202 with an empty JSON object, whether it was stored, a
// duplicate, or named a code unknown here (accepted and dropped, so that a counter cannot
// probe which codes exist). Errors (RFC 6749 §5.2 style JSON): 400 invalid_request
// (malformed, wrong alg, wrong typ, bad claims, iat outside the window — each its own
// description), 401 invalid_client (unknown kid, bad signature, disabled counter), 413, 429
// slow_down with Retry-After (more than ReceiptBurst at once, then ReceiptRate a second, per
// counter), 503 temporarily_unavailable, 500 server_error.
func (s *Server) handleReceipt(w http.ResponseWriter, r *http.Request) {
	cors(w)
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, wallet.MaxReceiptSize))
	if err != nil {
		apiJSON.Error(w, http.StatusRequestEntityTooLarge, "invalid_request", fmt.Sprintf("the receipt is larger than %d bytes", wallet.MaxReceiptSize))
		return
	}
	rc, err := s.svc.AcceptReceipt(r.Context(), body, s.receiptLimit.allow)
	var status int
	code := "invalid_request"
	switch {
	case err == nil:
		s.log.DebugContext(r.Context(), "receipt", "counter_id", rc.CounterID, "stored", rc.Stored)
		apiJSON.Write(w, http.StatusAccepted, struct{}{})
		return
	case errors.Is(err, wallet.ErrReceiptRate):
		w.Header().Set("Retry-After", "1")
		apiJSON.Error(w, http.StatusTooManyRequests, "slow_down", "too many receipts from this counter; send the rest later")
		return
	case errors.Is(err, wallet.ErrReceiptKey), errors.Is(err, wallet.ErrReceiptSignature), errors.Is(err, wallet.ErrCounterDisabled):
		status, code = http.StatusUnauthorized, "invalid_client"
	case errors.Is(err, wallet.ErrReceiptMalformed), errors.Is(err, wallet.ErrReceiptAlg), errors.Is(err, wallet.ErrReceiptType),
		errors.Is(err, wallet.ErrReceiptClaims), errors.Is(err, wallet.ErrReceiptTime):
		status = http.StatusBadRequest
	default:
		s.apiServerError(w, r, "receipt", err)
		return
	}
	s.log.InfoContext(r.Context(), "receipt refused", "status", status, "err", err.Error())
	apiJSON.Error(w, status, code, err.Error())
}

// receiptLimiter is a token bucket per counter: ReceiptBurst receipts at once, then
// ReceiptRate a second. It lives in one replica's memory, so N replicas allow N times as
// much; it bounds a runaway or stolen counter, not a precise quota.
type receiptLimiter struct {
	now     func() time.Time
	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newReceiptLimiter(now func() time.Time) *receiptLimiter {
	return &receiptLimiter{now: now, buckets: map[string]*bucket{}}
}

// allow takes a token of counterID's bucket and reports whether there was one.
func (l *receiptLimiter) allow(counterID string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b, ok := l.buckets[counterID]
	if !ok {
		if len(l.buckets) > 100_000 { // forget idle counters rather than grow without bound
			for id, ob := range l.buckets {
				if now.Sub(ob.at) > time.Duration(ReceiptBurst/ReceiptRate)*time.Second {
					delete(l.buckets, id)
				}
			}
		}
		b = &bucket{tokens: ReceiptBurst, at: now}
		l.buckets[counterID] = b
	}
	b.tokens = min(ReceiptBurst, b.tokens+now.Sub(b.at).Seconds()*ReceiptRate)
	b.at = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
