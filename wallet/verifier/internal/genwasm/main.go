// Command genwasm builds the browser verifier's WebAssembly engine and copies Go's JavaScript
// support file beside it, into wallet/verifier/site (run by `go generate ./wallet/verifier`):
//
//   - verifier.wasm: GOOS=js GOARCH=wasm go build -trimpath -buildvcs=false -ldflags="-s -w"
//     of ./wasm, reproducible for one Go version and go.sum (TestWasmUpToDate rebuilds it and
//     compares);
//   - wasm_exec.js: $(go env GOROOT)/lib/wasm/wasm_exec.js (misc/wasm before Go 1.24), from
//     the same Go;
//   - wasm-go-version.txt: that Go version (runtime.Version of the toolchain that ran go
//     generate), so the test knows which toolchain reproduces the file.
//
// With -o DIR it writes the three files to DIR instead (the test's fresh build).
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

func main() {
	out := flag.String("o", "site", "directory to write verifier.wasm, wasm_exec.js and wasm-go-version.txt to")
	src := flag.String("src", "./wasm", "the engine's package")
	flag.Parse()
	if err := Build(*src, *out); err != nil {
		fmt.Fprintln(os.Stderr, "genwasm:", err)
		os.Exit(1)
	}
}

// Build builds the package src (a path for `go build`) to dir/verifier.wasm and copies the
// matching wasm_exec.js; both with the go command on PATH.
func Build(src, dir string) error {
	goroot, err := goEnv("GOROOT")
	if err != nil {
		return err
	}
	version, err := goEnv("GOVERSION")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	wasm := filepath.Join(dir, "verifier.wasm")
	cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w", "-o", wasm, src)
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm", "CGO_ENABLED=0")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build %s: %w", src, err)
	}
	if err := os.Chmod(wasm, 0o644); err != nil {
		return err
	}
	var support []byte
	for _, p := range []string{"lib/wasm/wasm_exec.js", "misc/wasm/wasm_exec.js"} {
		if support, err = os.ReadFile(filepath.Join(goroot, p)); err == nil {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("wasm_exec.js not found in %s: %w", goroot, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "wasm_exec.js"), support, 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "wasm-go-version.txt"), []byte(version+"\n"), 0o644)
}

func goEnv(name string) (string, error) {
	out, err := exec.Command("go", "env", name).Output()
	if err != nil {
		return "", fmt.Errorf("go env %s: %w", name, err)
	}
	return strings.TrimSpace(string(out)), nil
}
