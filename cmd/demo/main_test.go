package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tongban/tongban/cmd/internal/clitest"
)

// demoBin is the demo binary built once by TestMain; the tests exec it, so exit statuses and
// signals are the real ones.
var demoBin string

func TestMain(m *testing.M) { clitest.Main(m, ".", &demoBin) }

// TestUsage: --help describes the demo and its flags; wrong usage exits 2 with a "demo:"
// message and a hint, before anything is opened.
func TestUsage(t *testing.T) {
	dir := t.TempDir()
	r := clitest.Run(t, exec.Command(demoBin, "--help"), dir, "", nil)
	r.Want(t, 0, "go run ./cmd/demo", "--wallet-addr", "--api-client", "--password-iterations", "--db")
	for _, args := range [][]string{{"--no-such-flag"}, {"serve"}, {"--purge-interval", "1ms"}} {
		r := clitest.Run(t, exec.Command(demoBin, args...), dir, "", nil)
		r.Want(t, 2)
		if !strings.HasPrefix(r.Stderr, "demo: ") {
			t.Errorf("%v: stderr %q", args, r.Stderr)
		}
	}
	if r := clitest.Run(t, exec.Command(demoBin, "--licences", "missing.jsonl"), dir, "", nil); r.Code != 2 || !strings.Contains(r.Stderr, "run the demo from the repository root") {
		t.Errorf("missing licences: exit %d, %s", r.Code, r.Stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "var")); err == nil {
		t.Error("a refused start created ./var")
	}
}
