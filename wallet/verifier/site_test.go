package verifier_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/tongban/tongban/wallet/verifier"
)

// TestWasmUpToDate rebuilds the WebAssembly verifier as `go generate` does (internal/genwasm)
// and checks that the checked-in site/verifier.wasm and site/wasm_exec.js are exactly that
// build: Go builds are reproducible for one toolchain and go.sum, so a difference means
// someone changed the verifier (qr, qr/verdict, wasm/) without running
// `go generate ./wallet/verifier`. With another Go version than the one recorded in
// site/wasm-go-version.txt it skips (that toolchain builds other bytes).
func TestWasmUpToDate(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the WebAssembly verifier")
	}
	want, err := os.ReadFile("site/wasm-go-version.txt")
	if err != nil {
		t.Fatal(err)
	}
	if v := strings.TrimSpace(string(want)); v != runtime.Version() {
		t.Skipf("site/verifier.wasm was built with %s, this is %s: run go generate ./wallet/verifier with %s to check", v, runtime.Version(), v)
	}
	dir := t.TempDir()
	cmd := exec.Command("go", "run", "./internal/genwasm", "-o", dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("genwasm: %v\n%s", err, out)
	}
	for _, name := range []string{"verifier.wasm", "wasm_exec.js", "wasm-go-version.txt"} {
		fresh, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		in, err := os.ReadFile(filepath.Join("site", name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(fresh, in) {
			t.Errorf("site/%s differs from a fresh build (%d bytes, checked in %d): run go generate ./wallet/verifier", name, len(fresh), len(in))
		}
	}
}

func TestFiles(t *testing.T) {
	names := verifier.Names()
	for _, want := range []string{"index.html", "verify.js", "verify.css", "sw.js", "verifier.wasm", "wasm_exec.js", "jsqr.js", "jsqr-LICENSE.txt", verifier.ReceiptsFile} {
		if _, ctype, ok := verifier.File(want, verifier.Config{}); !ok || ctype == "" {
			t.Errorf("%s missing (%v)", want, names)
		}
	}
	if _, _, ok := verifier.File("../doc.go", verifier.Config{}); ok {
		t.Error("a path outside the site is served")
	}
	if _, ctype, _ := verifier.File("verifier.wasm", verifier.Config{}); ctype != "application/wasm" {
		t.Errorf("wasm served as %q", ctype)
	}
	sw, _, _ := verifier.File("sw.js", verifier.Config{})
	if !bytes.Contains(sw, []byte("var VERSION = '"+verifier.Version()+"';")) || len(verifier.Version()) != 16 {
		t.Error("sw.js lacks the build version")
	}
	// The service worker caches receipts.js with the build, so that a counter offline keeps
	// queueing receipts after a reload.
	if !bytes.Contains(sw, []byte("'verifier.wasm', 'receipts.js'];")) {
		t.Error("sw.js does not cache receipts.js with the build")
	}
	walletIndex, _, _ := verifier.File("index.html", verifier.Config{WalletURL: "https://wallet.example.gov.cn:8443"})
	if !bytes.Contains(walletIndex, []byte("connect-src 'self' https://wallet.example.gov.cn:8443;")) {
		t.Errorf("index.html CSP does not allow the wallet's origin")
	}
	index, _, _ := verifier.File("", verifier.Config{TrustListURL: "https://wallet.example.gov.cn/trust-list"})
	if !bytes.Contains(index, []byte(`<script src="receipts.js" defer data-configure="wait"></script>`)) {
		t.Error("index.html does not load receipts.js waiting for its configuration")
	}
	if !bytes.Contains(index, []byte("connect-src 'self' https://wallet.example.gov.cn;")) {
		t.Errorf("index.html CSP does not allow the trust list's origin")
	}
	plain, _, _ := verifier.File("index.html", verifier.Config{})
	if bytes.Contains(plain, []byte("<script>")) || bytes.Contains(plain, []byte("http://")) || bytes.Contains(plain, []byte("https://")) {
		t.Error("index.html has an inline script or an external URL")
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    verifier.Config
		ok   bool
	}{
		{"ok/zero", verifier.Config{}, true},
		{"ok/relative", verifier.Config{TrustListURL: "/trust-list", StatusListURL: "status-list.cwt"}, true},
		{"ok/absolute", verifier.Config{TrustListURL: "https://wallet.example.gov.cn/trust-list"}, true},
		{"fail/javascript", verifier.Config{TrustListURL: "javascript:alert(1)"}, false},
		{"fail/credentials", verifier.Config{TrustListURL: "https://u:p@wallet.example.gov.cn/trust-list"}, false},
		{"fail/quote", verifier.Config{StatusListURL: "https://a.example/'x"}, false},
		{"fail/csp-injection", verifier.Config{TrustListURL: "https://a.example/;script-src"}, false},
		{"ok/wallet", verifier.Config{WalletURL: "https://wallet.example.gov.cn"}, true},
		{"ok/wallet-path", verifier.Config{WalletURL: "http://127.0.0.1:8080/wallet/"}, true},
		{"fail/wallet-relative", verifier.Config{WalletURL: "/"}, false},
		{"fail/wallet-javascript", verifier.Config{WalletURL: "javascript:alert(1)"}, false},
		{"fail/wallet-ftp", verifier.Config{WalletURL: "ftp://wallet.example.gov.cn"}, false},
		{"fail/wallet-query", verifier.Config{WalletURL: "https://wallet.example.gov.cn/?x=1"}, false},
		{"fail/wallet-empty-query", verifier.Config{WalletURL: "https://wallet.example.gov.cn/?"}, false},
		{"fail/wallet-fragment", verifier.Config{WalletURL: "https://wallet.example.gov.cn/#x"}, false},
		{"fail/wallet-credentials", verifier.Config{WalletURL: "https://u:p@wallet.example.gov.cn"}, false},
		{"fail/wallet-csp-injection", verifier.Config{WalletURL: "https://a.example;script-src"}, false},
	} {
		if err := tc.c.Validate(); (err == nil) != tc.ok {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

func TestExport(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "site")
	c := verifier.Config{TrustListURL: "https://wallet.example.gov.cn/trust-list"}
	if err := verifier.Export(dir, c, []byte("ANCHOR"), []byte("LIST")); err != nil {
		t.Fatal(err)
	}
	for _, name := range append(verifier.Names(), verifier.ConfigFile, verifier.AnchorFile, verifier.TrustListFile) {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if want, _, ok := verifier.File(name, c); ok && !bytes.Equal(got, want) {
			t.Errorf("%s differs from what the wallet serves", name)
		}
	}
	cfg, _ := os.ReadFile(filepath.Join(dir, verifier.ConfigFile))
	if !bytes.Contains(cfg, []byte(`"trust_list_snapshot": "trust-list.cose"`)) {
		t.Errorf("config.json:\n%s", cfg)
	}
	if !bytes.Contains(cfg, []byte(`"no_receipts": true`)) {
		t.Errorf("a folder without a wallet URL sends receipts:\n%s", cfg)
	}
	if err := verifier.Export(dir, verifier.Config{TrustListURL: "javascript:x"}, nil, nil); err == nil {
		t.Error("a javascript: URL exported")
	}

	// With the wallet's URL: the page sends receipts there, and may connect to it.
	c = verifier.Config{WalletURL: "https://wallet.example.gov.cn"}
	if err := verifier.Export(dir, c, []byte("ANCHOR"), []byte("LIST")); err != nil {
		t.Fatal(err)
	}
	cfg, _ = os.ReadFile(filepath.Join(dir, verifier.ConfigFile))
	if !bytes.Contains(cfg, []byte(`"wallet_url": "https://wallet.example.gov.cn"`)) || bytes.Contains(cfg, []byte("no_receipts")) {
		t.Errorf("config.json:\n%s", cfg)
	}
	index, _ := os.ReadFile(filepath.Join(dir, "index.html"))
	if !bytes.Contains(index, []byte("connect-src 'self' https://wallet.example.gov.cn;")) {
		t.Error("the exported page may not connect to the wallet")
	}
	if _, err := os.Stat(filepath.Join(dir, verifier.ReceiptsFile)); err != nil {
		t.Error(err)
	}
}
