package admin

import (
	"testing"

	"github.com/tongban/tongban/internal/depstest"
)

// TestDependencies enforces docs/design/app-management.md: the admin package does not import
// the provider's internals — it declares the interfaces it calls (backends.go) and
// cmd/internal/idpserver adapts oidc and accounts to them.
func TestDependencies(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	depstest.Forbid(t, "package admin", depstest.Deps(t, "."),
		"github.com/tongban/tongban/oidc", "github.com/tongban/tongban/accounts", "github.com/ory/fosite")
}
