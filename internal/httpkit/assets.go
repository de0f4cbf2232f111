package httpkit

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ServeAsset answers a page asset (a stylesheet or a script, the only kinds the servers'
// pages load): b with its Content-Type by the name's extension (.css, .js) and
// Cache-Control public for maxAge. A nil b, or another extension, is 404.
func ServeAsset(w http.ResponseWriter, r *http.Request, name string, b []byte, maxAge time.Duration) {
	var ct string
	switch {
	case strings.HasSuffix(name, ".css"):
		ct = "text/css; charset=utf-8"
	case strings.HasSuffix(name, ".js"):
		ct = "text/javascript; charset=utf-8"
	}
	if b == nil || ct == "" {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Cache-Control", "public, max-age="+strconv.Itoa(int(maxAge/time.Second)))
	_, _ = w.Write(b)
}
