package main

import (
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/tongban/tongban/cmd/internal/clitest"
	"github.com/tongban/tongban/kek/pkcs11/softhsmtest"
)

// TestOperatorGuide runs the ```sh examples of docs/operators/idp.md and then those of
// docs/developers/app-developers.md (the operator registering apps), in order, in one fresh
// directory, by the conventions of clitest.RunDocExamples: every command must exit 0 (or the
// "# exit N" it names); a ```sh {serve} block is started, must answer GET /readyz and must
// stop with status 0 on SIGTERM; a ```sh {no-test} block is not run (building from the
// repository checkout, PostgreSQL); a {serve} block with --tls-cert is asked over https. The
// guides' "idp" and "./idp" are the binary under test,
// and the reader's variables come from the environment: $PASSWORD, $BACKUP_DIR, and
// TONGBAN_ADDR/TONGBAN_ISSUER to keep `idp serve` off the default port.
func TestOperatorGuide(t *testing.T) {
	dir := t.TempDir()
	if err := os.Symlink(idpBin, filepath.Join(dir, "idp")); err != nil { // as `go build -o idp` makes it
		t.Fatal(err)
	}
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
	env := append(testEnv(),
		"PATH="+filepath.Dir(idpBin)+string(os.PathListSeparator)+os.Getenv("PATH"),
		"PASSWORD="+testPassword,
		"BACKUP_DIR="+t.TempDir(),
		"TONGBAN_ADDR="+addr,
		"TONGBAN_ISSUER=http://"+addr,
	)
	// The guide's last section moves the keys into a SoftHSM2 token (```sh {softhsm}); the
	// developers' guide then runs with that token's KEK.
	if softhsmtest.Available() == "" {
		conf, err := softhsmtest.Setup(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		env = append(env, "SOFTHSM2_CONF="+conf, "SO_PIN="+softhsmtest.SOPIN, "TONGBAN_PKCS11_PIN="+softhsmtest.PIN)
	}
	ready := "http://" + addr + "/readyz"
	if n := clitest.RunDocExamples(t, "../../docs/operators/idp.md", dir, env, ready); n < 8 {
		t.Errorf("ran only %d commands of docs/operators/idp.md", n)
	}
	if softhsmtest.Available() == "" {
		env = append(env, "TONGBAN_KEK_PKCS11=pkcs11:token=tongban;object=tongban-kek?module-path="+softhsmtest.ModulePath)
	}
	if n := clitest.RunDocExamples(t, "../../docs/developers/app-developers.md", dir, env, ready); n < 3 {
		t.Errorf("ran only %d commands of docs/developers/app-developers.md", n)
	}
}

// TestAuditGuide runs the ```sh examples of docs/operators/audit.md in a fresh directory, by
// the conventions of TestOperatorGuide.
func TestAuditGuide(t *testing.T) { runGuide(t, "../../docs/operators/audit.md", 8) }

// TestAdminConsoleGuide runs the ```sh examples of docs/operators/admin-console.md (granting,
// listing and revoking console roles) in a fresh directory, by the conventions of
// TestOperatorGuide.
func TestAdminConsoleGuide(t *testing.T) {
	runGuide(t, "../../docs/operators/admin-console.md", 11, "PASSWORD="+testPassword)
}

// TestFederationGuide runs the ```sh examples of docs/operators/federation.md (registering an
// upstream provider, listing and removing it and a person's links) in a fresh directory, by
// the conventions of TestOperatorGuide.
func TestFederationGuide(t *testing.T) {
	runGuide(t, "../../docs/operators/federation.md", 35, "PASSWORD="+testPassword, "UPSTREAM_SECRET=secret-given-by-province-a")
}

// runGuide runs the ```sh examples of doc in a fresh directory with the idp binary on PATH, a
// free address for `idp serve` (TONGBAN_ADDR, TONGBAN_ISSUER) and env, waiting for /readyz
// when a command starts the server; at least min commands must run.
func runGuide(t *testing.T, doc string, min int, env ...string) {
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	env = append(append(testEnv(),
		"PATH="+filepath.Dir(idpBin)+string(os.PathListSeparator)+os.Getenv("PATH"),
		"TONGBAN_ADDR="+addr,
		"TONGBAN_ISSUER=http://"+addr,
	), env...)
	if n := clitest.RunDocExamples(t, doc, dir, env, "http://"+addr+"/readyz"); n < min {
		t.Errorf("ran only %d commands of %s", n, doc)
	}
}
