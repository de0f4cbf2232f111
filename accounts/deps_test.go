package accounts_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies enforces the layout of docs/design/platform-room.md: accounts knows nothing
// of HTTP or OAuth — it depends on neither net/http, fosite nor oidc.
func TestDependencies(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Skipf("go list unavailable: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		switch {
		case dep == "net/http",
			strings.HasPrefix(dep, "github.com/ory/fosite"),
			strings.HasPrefix(dep, "github.com/tongban/tongban/oidc"):
			t.Errorf("accounts depends on %s", dep)
		}
	}
}
