package main

import (
	"testing"

	"github.com/tongban/tongban/internal/depstest"
)

// TestNoWalletDependency: the identity provider's binary carries none of the wallet — no
// package under github.com/tongban/tongban/wallet and not the e-licence QR payload (package
// qr); the one-command demo that runs both lives in cmd/demo (docs/design/platform-room.md
// §1). A QR image encoder it does carry since issue 10: the account page shows the otpauth://
// URI of a new OTP device and the scan-to-login code as QR codes (github.com/skip2/go-qrcode).
func TestNoWalletDependency(t *testing.T) {
	deps := depstest.Deps(t, ".")
	depstest.Witness(t, "cmd/idp", deps, "github.com/tongban/tongban/oidc")
	depstest.Forbid(t, "cmd/idp", deps, "github.com/tongban/tongban/wallet", "github.com/tongban/tongban/qr")
}
