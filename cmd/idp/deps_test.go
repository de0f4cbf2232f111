package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestNoWalletDependency: the identity provider's binary carries none of the wallet — no
// package under github.com/tongban/tongban/wallet and no QR code library; the one-command
// demo that runs both lives in cmd/demo (docs/design/platform-room.md §1).
func TestNoWalletDependency(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	if !slices.Contains(deps, "github.com/tongban/tongban/oidc") {
		t.Fatalf("go list -deps . does not list oidc: %v", deps)
	}
	for _, dep := range deps {
		if dep == "github.com/tongban/tongban/wallet" || strings.HasPrefix(dep, "github.com/tongban/tongban/wallet/") ||
			strings.HasPrefix(dep, "github.com/skip2/go-qrcode") {
			t.Errorf("cmd/idp depends on %s", dep)
		}
	}
}
