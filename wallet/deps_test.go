package wallet

import (
	"testing"

	"github.com/tongban/tongban/internal/depstest"
)

// webPackages are the import paths (and their subpackages) the licence core must not depend
// on: HTTP and the OpenID Connect client belong to package wallet/web
// (docs/design/platform-room.md §1).
var webPackages = []string{"net/http", "github.com/coreos/go-oidc", "golang.org/x/oauth2"}

// TestCoreDependencies: package wallet (Service, licences, codes, trust and status lists) does
// not depend on net/http, go-oidc or oauth2. wallet/web depends on all three, which shows that
// the check sees them.
func TestCoreDependencies(t *testing.T) {
	core := depstest.Deps(t, ".")
	if len(core) == 0 || core[len(core)-1] != "github.com/tongban/tongban/wallet" {
		t.Fatalf("go list -deps . did not end with package wallet: %v", core)
	}
	depstest.Forbid(t, "package wallet (that code belongs in wallet/web)", core, webPackages...)
	depstest.Witness(t, "wallet/web", depstest.Deps(t, "./web"), webPackages...)
}
