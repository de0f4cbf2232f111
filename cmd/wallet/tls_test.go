package main

import (
	"bufio"
	"crypto/tls"
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tongban/tongban/cmd/internal/clitest"
)

// TestServeTLS runs `wallet serve --tls-cert --tls-key --public-url https://…` and talks to it
// over real HTTPS: /healthz and /trust-list with a client trusting the self-signed certificate
// (TLS 1.3, HTTP/2), a Secure cookie and HSTS, a TLS 1.2 client refused, plain HTTP answered 400,
// and renewed certificate files served to new connections.
func TestServeTLS(t *testing.T) {
	dir := setup(t)
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	a, b := clitest.NewTestCert(t), clitest.NewTestCert(t)
	a.Write(t, certFile, keyFile)
	cmd := exec.Command(walletBin, "serve", "--addr", "127.0.0.1:0", "--issuer", "https://127.0.0.1:1",
		"--public-url", "https://localhost:8443", "--tls-cert", certFile, "--tls-key", keyFile)
	cmd.Dir = dir
	cmd.Env = append(clitest.CleanEnv(), "TONGBAN_CLIENT_SECRET=test-secret")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	var listening struct {
		Msg, Addr string
		TLS       bool
	}
	sc := bufio.NewScanner(stderr)
	var logs strings.Builder
	for sc.Scan() {
		logs.WriteString(sc.Text() + "\n")
		if json.Unmarshal(sc.Bytes(), &listening) == nil && listening.Msg == "listening" {
			break
		}
	}
	if listening.Addr == "" || !listening.TLS {
		t.Fatalf("no listening line with tls:\n%s", logs.String())
	}
	go io.Copy(io.Discard, stderr)
	base := "https://" + listening.Addr
	client := clitest.TLSClient(0, 0, a.Cert)
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	for _, p := range []string{"/healthz", "/trust-list"} {
		resp, err := client.Get(base + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.TLS.Version != tls.VersionTLS13 || resp.Proto != "HTTP/2.0" {
			t.Errorf("%s: %d, TLS version %#x, %s", p, resp.StatusCode, resp.TLS.Version, resp.Proto)
		}
	}
	resp, err := client.Get(base + "/lang?set=en&next=/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if c := resp.Header.Get("Set-Cookie"); !strings.Contains(c, "tbw_lang=en") || !strings.Contains(c, "Secure") {
		t.Errorf("language cookie over TLS: %q", c)
	}
	if resp.Header.Get("Strict-Transport-Security") == "" {
		t.Error("no Strict-Transport-Security over TLS")
	}
	if _, err := clitest.TLSClient(tls.VersionTLS12, tls.VersionTLS12, a.Cert).Get(base + "/healthz"); err == nil ||
		!strings.Contains(err.Error(), "protocol version") {
		t.Errorf("TLS 1.2 client: err = %v, want a protocol version alert", err)
	}
	resp, err = http.Get("http://" + listening.Addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || !strings.Contains(string(body), "Client sent an HTTP request to an HTTPS server") {
		t.Errorf("plain HTTP: %d %q", resp.StatusCode, body)
	}

	b.Write(t, certFile, keyFile)
	deadline := time.Now().Add(10 * time.Second)
	for clitest.PeerSerial(t, listening.Addr).Cmp(b.Cert.SerialNumber) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the renewed certificate is not served after 10s")
		}
		time.Sleep(50 * time.Millisecond)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("serve after SIGTERM: %v", err)
	}
}

// TestServeTLSUsageErrors checks that TLS settings that cannot work stop `wallet serve` with
// exit status 2 and a message naming the problem.
func TestServeTLSUsageErrors(t *testing.T) {
	dir := t.TempDir()
	initVar(t, dir)
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	clitest.NewTestCert(t).Write(t, certFile, keyFile)
	env := []string{"TONGBAN_CLIENT_SECRET=test-secret"}
	https := "--public-url=https://localhost:8443"
	run(t, dir, "", env, "serve", "--addr", "127.0.0.1:0", https, "--tls-key", keyFile).
		Want(t, 2, "tls-key is set but tls-cert is not")
	run(t, dir, "", append(env, "TONGBAN_TLS_CERT="+certFile), "serve", "--addr", "127.0.0.1:0", https).
		Want(t, 2, "tls-cert is set but tls-key is not")
	run(t, dir, "", env, "serve", "--addr", "127.0.0.1:0", https, "--tls-cert", certFile, "--tls-key", "missing.pem").
		Want(t, 2, "tls-key missing.pem: open: no such file")
	run(t, dir, "", env, "serve", "--addr", "127.0.0.1:0", "--tls-cert", certFile, "--tls-key", keyFile).
		Want(t, 2, `public-url "http://127.0.0.1:8081": the wallet terminates TLS`)
}
