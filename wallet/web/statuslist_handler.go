package web

import (
	"fmt"
	"net/http"
	"time"

	"github.com/tongban/tongban/qr"
)

// handleStatusList serves GET /status-list: the current signed status list
// (application/statuslist+cwt), cacheable for its ttl (wallet.StatusListTTL) and
// readable from any origin (CORS), like the trust list. When it cannot be
// made: 503 "status list unavailable" (see serverProblem for the log and Retry-After).
func (s *Server) handleStatusList(w http.ResponseWriter, r *http.Request) {
	signed, list, err := s.svc.StatusList(r.Context())
	if err != nil {
		s.serverProblem(w, r, "status list", err)
		http.Error(w, "status list unavailable", http.StatusServiceUnavailable)
		return
	}
	h := w.Header()
	h.Set("Content-Type", qr.StatusListType)
	h.Set("Cache-Control", fmt.Sprintf("public, max-age=%d", int(list.TTL/time.Second)))
	h.Set("Access-Control-Allow-Origin", "*") // public and signed: an office's verifier page may fetch it
	h.Set("Content-Disposition", `attachment; filename="status-list.cwt"`)
	_, _ = w.Write(signed)
}
