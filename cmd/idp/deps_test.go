package main

import (
	"testing"

	"github.com/tongban/tongban/internal/depstest"
)

// TestNoWalletDependency: the identity provider's binary carries none of the wallet — no
// package under github.com/tongban/tongban/wallet, nor the licence QR payload package qr; the
// one-command demo that runs both lives in cmd/demo (docs/design/platform-room.md §1). (A QR
// renderer, github.com/skip2/go-qrcode, is allowed since issue 10: the provider's own pages show
// QR codes for scan-to-login and TOTP enrolment.)
func TestNoWalletDependency(t *testing.T) {
	deps := depstest.Deps(t, ".")
	depstest.Witness(t, "cmd/idp", deps, "github.com/tongban/tongban/oidc")
	depstest.Forbid(t, "cmd/idp", deps, "github.com/tongban/tongban/wallet", "github.com/tongban/tongban/qr")
}
