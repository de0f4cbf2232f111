package httpkit

import (
	"os/exec"
	"strings"
	"testing"
)

// forbidden are the packages (and their subpackages) httpkit must not depend on: both servers
// import it, so it knows nothing of storage, the protocol or licences
// (docs/design/platform-room.md §1).
var forbidden = []string{
	"github.com/tongban/tongban/storage",
	"github.com/tongban/tongban/oidc",
	"github.com/tongban/tongban/wallet",
}

// TestDependencies: go list -deps of httpkit names none of the forbidden packages; that of
// cmd/demo (both servers) names them all, which shows the check sees them.
func TestDependencies(t *testing.T) {
	deps := func(pkg string) []string {
		out, err := exec.Command("go", "list", "-deps", pkg).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
		return strings.Fields(string(out))
	}
	under := func(dep, p string) bool { return dep == p || strings.HasPrefix(dep, p+"/") }
	own, demo := deps("."), deps("../../cmd/demo")
	if len(own) == 0 || own[len(own)-1] != "github.com/tongban/tongban/internal/httpkit" {
		t.Fatalf("go list -deps . did not end with package httpkit: %v", own)
	}
	for _, p := range forbidden {
		for _, dep := range own {
			if under(dep, p) {
				t.Errorf("httpkit depends on %s", dep)
			}
		}
		seen := false
		for _, dep := range demo {
			seen = seen || under(dep, p)
		}
		if !seen {
			t.Errorf("cmd/demo does not depend on %s: the check cannot tell", p)
		}
	}
}
