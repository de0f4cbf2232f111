package main

import (
	"testing"

	"github.com/tongban/tongban/internal/depstest"
)

// TestNoWalletDependency: the identity provider's binary carries none of the wallet — no
// package under github.com/tongban/tongban/wallet and no QR code library; the one-command
// demo that runs both lives in cmd/demo (docs/design/platform-room.md §1).
func TestNoWalletDependency(t *testing.T) {
	deps := depstest.Deps(t, ".")
	depstest.Witness(t, "cmd/idp", deps, "github.com/tongban/tongban/oidc")
	depstest.Forbid(t, "cmd/idp", deps, "github.com/tongban/tongban/wallet", "github.com/skip2/go-qrcode")
}
