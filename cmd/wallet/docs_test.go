package main

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tongban/tongban/cmd/internal/clitest"
)

// TestOperatorGuide runs the ```sh examples of docs/operators/wallet.md, in order, in a fresh
// directory whose ./var/ holds a key-encryption key and a database (as `idp serve` leaves
// them), by the conventions of clitest.RunDocExamples: every command must exit 0 (or the
// "# exit N" it names); a ```sh {serve} block is started, must answer GET /readyz and must
// stop with status 0 on SIGTERM; a ```sh {no-test} block is not run. The guide's "wallet" is
// the binary under test and its "idp" the identity provider built from ../idp; TONGBAN_ADDR
// keeps `wallet serve` off the default port.
func TestOperatorGuide(t *testing.T) {
	dir := t.TempDir()
	initVar(t, dir)
	idpBin := clitest.Build(t, "../idp")
	// The TLS examples serve tls/cert.pem and tls/key.pem: a self-signed pair for 127.0.0.1
	// (the guide's openssl command, when openssl is installed, makes a new one).
	if err := os.MkdirAll(filepath.Join(dir, "tls"), 0o700); err != nil {
		t.Fatal(err)
	}
	clitest.NewTestCert(t).Write(t, filepath.Join(dir, "tls", "cert.pem"), filepath.Join(dir, "tls", "key.pem"))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	sep := string(os.PathListSeparator)
	env := []string{
		"PATH=" + filepath.Dir(walletBin) + sep + filepath.Dir(idpBin) + sep + os.Getenv("PATH"),
		"TONGBAN_ADDR=" + addr,
	}
	if n := clitest.RunDocExamples(t, "../../docs/operators/wallet.md", dir, env, "http://"+addr+"/readyz"); n < 10 {
		t.Errorf("ran only %d commands of docs/operators/wallet.md", n)
	}
	// The secret went to the file, and only there.
	st, err := os.Stat(filepath.Join(dir, "wallet-secret"))
	if err != nil || st.Size() < 40 || st.Mode().Perm() != 0o600 {
		t.Errorf("wallet-secret: %v, %v", st, err)
	}
}

// TestCountersGuide runs the ```sh examples of docs/operators/counters.md, in order, in a
// fresh directory with a key-encryption key and a database, by the conventions of
// clitest.RunDocExamples; then checks what they left: the first counter is disabled, the
// second waits for its enrolment, the enrolment codes are in no audit entry, and the office's
// exported verifier sends its receipts to the wallet's URL.
func TestCountersGuide(t *testing.T) {
	dir := t.TempDir()
	initVar(t, dir)
	env := []string{"PATH=" + filepath.Dir(walletBin) + string(os.PathListSeparator) + os.Getenv("PATH")}
	if n := clitest.RunDocExamples(t, "../../docs/operators/counters.md", dir, env, ""); n < 8 {
		t.Errorf("ran only %d commands of docs/operators/counters.md", n)
	}
	r := run(t, dir, "", nil, "counters", "list")
	r.Want(t, 0, "disabled", "3号窗口", "waiting", "4号窗口", "朝阳区政务服务中心")
	r = run(t, dir, "", nil, "audit", "list", "--action", "counter.")
	r.Want(t, 0, "counter.add", "counter.disable")
	// The office's folder sends its receipts to the wallet, which its page may reach; the
	// refused export changed nothing.
	cfg, err := os.ReadFile(filepath.Join(dir, "counter-site", "config.json"))
	if err != nil || !strings.Contains(string(cfg), `"wallet_url": "https://wallet.example.gov.cn"`) || strings.Contains(string(cfg), "no_receipts") {
		t.Errorf("counter-site/config.json: %v\n%s", err, cfg)
	}
	index, err := os.ReadFile(filepath.Join(dir, "counter-site", "index.html"))
	if err != nil || !strings.Contains(string(index), "connect-src 'self' https://wallet.example.gov.cn;") {
		t.Errorf("counter-site/index.html does not let the page reach the wallet: %v", err)
	}
	if n := strings.Count(r.Stdout, "counter.disable"); n != 1 {
		t.Errorf("%d counter.disable audit entries, want 1 (the second disable is refused):\n%s", n, r.Stdout)
	}
	id := strings.Fields(run(t, dir, "", nil, "counters", "list", "-q").Stdout)[0]
	run(t, dir, "", nil, "counters", "disable", id).Want(t, 2, "already disabled")
	// counters add's usage errors are in the counter's own words.
	r = run(t, dir, "", nil, "counters", "add", "--name", " ")
	r.Want(t, 2, "invalid counter: name")
	if strings.Contains(r.Stderr, "code request") {
		t.Errorf("counters add error in the words of code requests: %s", r.Stderr)
	}
}
