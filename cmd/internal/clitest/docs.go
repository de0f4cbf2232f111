package clitest

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tongban/tongban/kek/pkcs11/softhsmtest"
)

// Doc examples. STYLE: every example in docs/ also runs in a test. RunDocExamples runs the
// ```sh blocks of a Markdown guide, in the order of the guide, by these conventions:
//
//   - ```sh: every command of the block runs with bash -c in the test's working directory and
//     must exit 0, or N when the line ends in "# exit N". A line ending in '\' continues on the
//     next; lines that are blank or only a comment are skipped. Each command runs in a shell
//     of its own: variables the guide leaves to the reader ($PASSWORD, $BACKUP_DIR) come from
//     the test's environment.
//   - ```sh {serve}: one long-running server command. The test starts it, waits until the
//     ready URL answers 200, sends SIGTERM and expects exit status 0 (a graceful shutdown).
//     When the command has --tls-cert FILE, the ready URL is asked over https instead, by a
//     client trusting only FILE (relative to the working directory), which must therefore
//     be valid for the ready URL's host.
//   - ```sh {softhsm}: like ```sh, but needs SoftHSM2 (kek/pkcs11/softhsmtest): skipped with a
//     log line when it is missing, a failure when TONGBAN_REQUIRE_SOFTHSM=1. The test gives
//     SOFTHSM2_CONF in env.
//   - ```sh {no-test}: not run, because it cannot run in a test (it needs a PostgreSQL server
//     or the repository checkout, say); the guide's text around it says what it needs. Use it
//     only when the example cannot be made runnable.
//
// A command whose program (openssl, sqlite3) is not installed is skipped with a log line.

// Command is one command line of a ```sh block.
type Command struct {
	Line int    // line number in the document
	Text string // the command, continuation lines joined
	Exit int    // expected exit status ("# exit N"; default 0)
}

// Block is one ```sh block.
type Block struct {
	Line     int    // line number of the opening fence
	Attr     string // "", "serve", "softhsm" or "no-test"
	Commands []Command
}

// ShBlocks returns the ```sh blocks of the Markdown text doc. An unknown attribute fails t.
func ShBlocks(t testing.TB, doc string) []Block {
	t.Helper()
	var blocks []Block
	var cur *Block
	pending, pendingLine := "", 0
	for i, line := range strings.Split(doc, "\n") {
		n := i + 1
		trimmed := strings.TrimSpace(line)
		if cur == nil {
			if info, ok := strings.CutPrefix(trimmed, "```sh"); ok && (info == "" || info[0] == ' ') {
				attr := strings.TrimSpace(info)
				switch attr {
				case "":
				case "{serve}", "{no-test}", "{softhsm}":
					attr = strings.Trim(attr, "{}")
				default:
					t.Fatalf("line %d: unknown sh block attribute %q (want {serve}, {softhsm} or {no-test})", n, attr)
				}
				blocks = append(blocks, Block{Line: n, Attr: attr})
				cur = &blocks[len(blocks)-1]
			}
			continue
		}
		if strings.HasPrefix(trimmed, "```") {
			if pending != "" {
				t.Fatalf("line %d: sh block ends in a continuation line", n)
			}
			cur = nil
			continue
		}
		if pending == "" && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if pending == "" {
			pendingLine = n
		}
		if s, ok := strings.CutSuffix(line, `\`); ok {
			pending += s + " "
			continue
		}
		text, exit := pending+line, 0
		pending = ""
		if j := strings.LastIndex(text, "# exit "); j >= 0 {
			if _, err := fmt.Sscanf(text[j:], "# exit %d", &exit); err != nil {
				t.Fatalf("line %d: bad exit status comment: %v", n, err)
			}
		}
		cur.Commands = append(cur.Commands, Command{Line: pendingLine, Text: strings.TrimSpace(text), Exit: exit})
	}
	if cur != nil {
		t.Fatalf("sh block of line %d is not closed", cur.Line)
	}
	return blocks
}

// optionalTools may be missing on a test machine: commands of theirs are skipped then.
var optionalTools = []string{"openssl", "sqlite3", "pg_dump", "pg_restore"}

// RunDocExamples runs the ```sh blocks of the Markdown file doc (conventions above) in dir,
// with CleanEnv plus env, and returns how many commands ran. ready is the URL a {serve} block
// must answer 200 on before it is stopped.
func RunDocExamples(t *testing.T, doc, dir string, env []string, ready string) int {
	t.Helper()
	data, err := os.ReadFile(doc)
	if err != nil {
		t.Fatal(err)
	}
	ran := 0
	for _, b := range ShBlocks(t, string(data)) {
		switch b.Attr {
		case "no-test":
			t.Logf("%s:%d: not run ({no-test})", doc, b.Line)
		case "serve":
			if len(b.Commands) != 1 {
				t.Fatalf("%s:%d: a {serve} block holds exactly one command", doc, b.Line)
			}
			runServe(t, doc, b.Commands[0], dir, env, ready)
			ran++
		default:
			if b.Attr == "softhsm" {
				if why := softhsmtest.Available(); why != "" {
					if os.Getenv(softhsmtest.RequireEnv) == "1" {
						t.Fatalf("%s:%d: %s, and %s=1", doc, b.Line, why, softhsmtest.RequireEnv)
					}
					t.Logf("%s:%d: not run: %s", doc, b.Line, why)
					continue
				}
			}
			for _, c := range b.Commands {
				if tool := missingTool(c.Text); tool != "" {
					t.Logf("%s:%d: %s is not installed; skipped: %s", doc, c.Line, tool, c.Text)
					continue
				}
				r := Run(t, exec.Command("bash", "-c", c.Text), dir, "", env)
				if r.Code != c.Exit {
					t.Fatalf("%s:%d: %s\nexit %d, want %d\nstdout:\n%s\nstderr:\n%s", doc, c.Line, c.Text, r.Code, c.Exit, r.Stdout, r.Stderr)
				}
				ran++
			}
		}
	}
	return ran
}

func runServe(t *testing.T, doc string, c Command, dir string, env []string, ready string) {
	t.Helper()
	cmd := exec.Command("bash", "-c", "exec "+c.Text)
	cmd.Dir = dir
	cmd.Env = append(CleanEnv(), env...)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	client := http.DefaultClient
	if cert := flagValue(c.Text, "--tls-cert"); cert != "" {
		ready = "https://" + strings.TrimPrefix(ready, "http://")
		client = readyClient(t, filepath.Join(dir, cert))
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := client.Get(ready)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case err := <-done:
			t.Fatalf("%s:%d: %s ended before it was ready: %v\n%s", doc, c.Line, c.Text, err, logs.String())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			<-done
			t.Fatalf("%s:%d: %s: %s did not answer 200 within 60s\n%s", doc, c.Line, c.Text, ready, logs.String())
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("%s:%d: %s after SIGTERM: %v\n%s", doc, c.Line, c.Text, err, logs.String())
		}
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("%s:%d: %s did not stop within 30s of SIGTERM\n%s", doc, c.Line, c.Text, logs.String())
	}
}

// flagValue returns the value of flag (--name VALUE or --name=VALUE) in command, or "".
func flagValue(command, flag string) string {
	fields := strings.Fields(command)
	for i, f := range fields {
		if f == flag && i+1 < len(fields) {
			return fields[i+1]
		}
		if v, ok := strings.CutPrefix(f, flag+"="); ok {
			return v
		}
	}
	return ""
}

// readyClient returns an HTTP client trusting only the PEM certificates in certFile.
func readyClient(t *testing.T, certFile string) *http.Client {
	t.Helper()
	pem, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("%s: no PEM certificate", certFile)
	}
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
}

// missingTool returns the optional tool command uses that is not installed, or "".
func missingTool(command string) string {
	for _, f := range strings.FieldsFunc(command, func(r rune) bool { return r == ' ' || r == '(' || r == '|' || r == '"' }) {
		if slices.Contains(optionalTools, f) {
			if _, err := exec.LookPath(f); err != nil {
				return f
			}
		}
	}
	return ""
}
