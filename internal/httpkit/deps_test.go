package httpkit

import (
	"testing"

	"github.com/tongban/tongban/internal/depstest"
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
	own := depstest.Deps(t, ".")
	if len(own) == 0 || own[len(own)-1] != "github.com/tongban/tongban/internal/httpkit" {
		t.Fatalf("go list -deps . did not end with package httpkit: %v", own)
	}
	depstest.Forbid(t, "httpkit", own, forbidden...)
	depstest.Witness(t, "cmd/demo", depstest.Deps(t, "../../cmd/demo"), forbidden...)
}
