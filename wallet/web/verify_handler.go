package web

import (
	"bytes"
	"net/http"
	"time"

	"github.com/tongban/tongban/wallet"
	"github.com/tongban/tongban/wallet/verifier"
)

// pathVerify is the counter verifier in the browser (wallet/verifier): no login, a page for
// counter staff.
const pathVerify = "/verify"

// verifyCSP is the verifier page's Content-Security-Policy: everything from the wallet itself,
// WebAssembly compilation allowed ('wasm-unsafe-eval', CSP Level 3), camera frames as blob:
// or mediastream: media, no inline script or style, framed by nobody.
const verifyCSP = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'; " +
	"img-src 'self' data: blob:; media-src 'self' blob: mediastream:; style-src 'self'; worker-src 'self'; " +
	"manifest-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// verifyConfig is the wallet's config.json: its own trust list and status list.
var verifyConfig = verifier.Config{TrustListURL: pathTrustList, StatusListURL: pathStatusList}

// handleVerifyRoot sends /verify to /verify/, the service worker's scope.
func (s *Server) handleVerifyRoot(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, pathVerify+"/", http.StatusMovedPermanently)
}

// handleVerify serves GET /verify/{file}: the verifier's built-in files (verifier.File), its
// config.json and trust-anchor.pem (the anchors of the trust list, wallet.TrustAnchors; 503
// when they cannot be read). Every answer may be cached but is revalidated (no-cache, ETag of
// the build or of the content); 404 for any other name.
func (s *Server) handleVerify(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	var body []byte
	ctype := verifier.ContentType(name)
	etag := `"` + verifier.Version() + `"`
	switch name {
	case verifier.ConfigFile:
		body = verifyConfig.JSON()
	case verifier.AnchorFile:
		anchors, err := s.svc.TrustAnchors(r.Context())
		if err == nil {
			body, err = wallet.MarshalTrustAnchors(anchors)
		}
		if err != nil {
			s.serverProblem(w, r, "trust anchor", err)
			http.Error(w, "trust anchor unavailable", http.StatusServiceUnavailable)
			return
		}
		etag = ""
	default:
		var ok bool
		if body, ctype, ok = verifier.File(name, verifyConfig); !ok {
			http.NotFound(w, r)
			return
		}
	}
	h := w.Header()
	h.Set("Content-Security-Policy", verifyCSP)
	h.Set("Content-Type", ctype)
	h.Set("Cache-Control", "no-cache")
	if etag != "" {
		h.Set("ETag", etag)
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}
