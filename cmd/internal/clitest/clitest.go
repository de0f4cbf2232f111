// Package clitest is test support for the command packages (cmd/idp, cmd/wallet): it builds the
// command's binary once and runs it, so tests see the real exit statuses, files and signals.
package clitest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Main is a TestMain: it builds the package pkg (a go build path, "." for the package under
// test) into a temporary directory, sets *bin to the binary, runs the tests, removes the binary
// and exits with the tests' status.
func Main(m *testing.M, pkg string, bin *string) {
	dir, err := os.MkdirTemp("", "clitest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	*bin = filepath.Join(dir, binName(pkg))
	if err := build(*bin, pkg); err != nil {
		fmt.Fprintln(os.Stderr, "go build:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// Build builds the package pkg into a temporary directory of t and returns the binary's path.
func Build(t testing.TB, pkg string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), binName(pkg))
	if err := build(bin, pkg); err != nil {
		t.Fatalf("go build %s: %v", pkg, err)
	}
	return bin
}

func build(bin, pkg string) error {
	cmd := exec.Command("go", "build", "-o", bin, pkg)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	return cmd.Run()
}

// binName names the binary of pkg after its directory ("." after the working directory).
func binName(pkg string) string {
	abs, err := filepath.Abs(pkg)
	if err != nil {
		return "cmd"
	}
	return filepath.Base(abs)
}

// CleanEnv is the test process's environment without any TONGBAN_* variable.
func CleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TONGBAN_") {
			env = append(env, kv)
		}
	}
	return env
}

// Result is what one run of a binary did.
type Result struct {
	Stdout, Stderr string
	Code           int // exit status
}

// Run runs cmd in dir with CleanEnv plus env and stdin as standard input, and waits for it.
// A command that cannot be started fails the test; a non-zero exit status does not.
func Run(t testing.TB, cmd *exec.Cmd, dir, stdin string, env []string) Result {
	t.Helper()
	cmd.Dir = dir
	cmd.Env = append(CleanEnv(), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %v: %v", cmd.Args, err)
	}
	return Result{out.String(), errOut.String(), code}
}

// Want fails the test unless the run exited with code and its output (standard output and
// error together) contains every one of contains.
func (r Result) Want(t testing.TB, code int, contains ...string) {
	t.Helper()
	if r.Code != code {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.Code, code, r.Stdout, r.Stderr)
	}
	all := r.Stdout + r.Stderr
	for _, c := range contains {
		if !strings.Contains(all, c) {
			t.Fatalf("output lacks %q\nstdout:\n%s\nstderr:\n%s", c, r.Stdout, r.Stderr)
		}
	}
}
