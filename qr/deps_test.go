package qr

import (
	"os/exec"
	"strings"
	"testing"
)

// TestOfflineDependencies enforces DESIGN §1: credentials, qr (the
// verifier library) and qr/qrimage (its image reader) never depend on
// net/http, storage or oidc.
func TestOfflineDependencies(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	out, err := exec.Command("go", "list", "-deps", ".", "./qrimage", "../credentials").CombinedOutput()
	if err != nil {
		t.Skipf("go list unavailable: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		switch {
		case dep == "net/http",
			strings.HasPrefix(dep, "github.com/tongban/tongban/storage"),
			strings.HasPrefix(dep, "github.com/tongban/tongban/oidc"):
			t.Errorf("qr, qr/qrimage or credentials depend on %s", dep)
		}
	}
}
