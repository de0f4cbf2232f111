package qr

import (
	"testing"

	"github.com/tongban/tongban/internal/depstest"
)

// TestOfflineDependencies enforces DESIGN §1: credentials, qr (the verifier library),
// qr/qrimage (its image reader) and qr/verdict (the counters' verdicts) never depend on
// net/http, storage or oidc.
func TestOfflineDependencies(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	depstest.Forbid(t, "qr, qr/qrimage, qr/verdict or credentials", depstest.Deps(t, ".", "./qrimage", "./verdict", "../credentials"),
		"net/http", "github.com/tongban/tongban/storage", "github.com/tongban/tongban/oidc")
}
