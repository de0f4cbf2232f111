package accounts_test

import (
	"testing"

	"github.com/tongban/tongban/internal/depstest"
)

// TestDependencies enforces the layout of docs/design/platform-room.md: accounts knows nothing
// of HTTP or OAuth — it depends on neither net/http, fosite nor oidc.
func TestDependencies(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	depstest.Forbid(t, "accounts", depstest.Deps(t, "."),
		"net/http", "github.com/ory/fosite", "github.com/tongban/tongban/oidc")
}
