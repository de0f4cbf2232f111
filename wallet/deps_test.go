package wallet

import (
	"os/exec"
	"strings"
	"testing"
)

// webPackages are the import paths (and their subpackages) the licence core must not depend
// on: HTTP and the OpenID Connect client belong to package wallet/web
// (docs/design/platform-room.md §1).
var webPackages = []string{"net/http", "github.com/coreos/go-oidc", "golang.org/x/oauth2"}

// under reports whether dep is the package p or one below it.
func under(dep, p string) bool { return dep == p || strings.HasPrefix(dep, p+"/") }

// goListDeps returns the packages pkg depends on, itself included (go list -deps).
func goListDeps(t *testing.T, pkg string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", pkg).Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v", pkg, err)
	}
	return strings.Fields(string(out))
}

// TestCoreDependencies: package wallet (Service, licences, codes, trust and status lists) does
// not depend on net/http, go-oidc or oauth2. wallet/web depends on all three, which shows that
// the check sees them.
func TestCoreDependencies(t *testing.T) {
	core := goListDeps(t, ".")
	if len(core) == 0 || core[len(core)-1] != "github.com/tongban/tongban/wallet" {
		t.Fatalf("go list -deps . did not end with package wallet: %v", core)
	}
	web := goListDeps(t, "./web")
	for _, p := range webPackages {
		for _, dep := range core {
			if under(dep, p) {
				t.Errorf("package wallet depends on %s; that code belongs in wallet/web", dep)
			}
		}
		seen := false
		for _, dep := range web {
			seen = seen || under(dep, p)
		}
		if !seen {
			t.Errorf("wallet/web does not depend on %s: the check cannot tell", p)
		}
	}
}
