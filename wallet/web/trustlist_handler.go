package web

import (
	"fmt"
	"net/http"
)

// handleTrustList serves GET /trust-list: the current signed trust list
// (application/cose; cose-type="cose-sign1", RFC 9052 §11.2), cacheable for 5 minutes and
// readable from any origin (CORS: it is public and signed, and an office's exported verifier
// page fetches it). When it cannot be made: 503 "trust list unavailable" (see serverProblem
// for the log and Retry-After).
func (s *Server) handleTrustList(w http.ResponseWriter, r *http.Request) {
	signed, list, err := s.svc.TrustList(r.Context())
	if err != nil {
		s.serverProblem(w, r, "trust list", err)
		http.Error(w, "trust list unavailable", http.StatusServiceUnavailable)
		return
	}
	h := w.Header()
	h.Set("Content-Type", `application/cose; cose-type="cose-sign1"`)
	h.Set("Cache-Control", "public, max-age=300")
	h.Set("Access-Control-Allow-Origin", "*") // public and signed: an office's verifier page may fetch it
	h.Set("Content-Disposition", `attachment; filename="trust-list.cose"`)
	h.Set("X-Trust-List-Sequence", fmt.Sprint(list.Sequence))
	_, _ = w.Write(signed)
}
