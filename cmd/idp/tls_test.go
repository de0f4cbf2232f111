package main

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tongban/tongban/cmd/internal/clitest"
)

// tlsIssuer is the issuer of the TLS tests: https, as the server requires with TLS on; the
// tests reach the server at its real address.
const tlsIssuer = "https://localhost:8443"

// TestServeTLS runs `idp serve --tls-cert --tls-key` (the key from TONGBAN_TLS_KEY) and talks
// to it over real HTTPS: discovery and /healthz with a client trusting the self-signed
// certificate (TLS 1.3, HTTP/2, HSTS, https endpoints); a TLS 1.2 client refused; plain HTTP
// answered 400; the certificate files replaced and the new certificate served to new
// connections; a broken pair (a new certificate without its key) not served, the previous
// certificate kept and one warning logged; the pair completed and served; SIGTERM → exit 0.
func TestServeTLS(t *testing.T) {
	dir := t.TempDir()
	initVar(t, dir)
	// The pair is tls/live/{cert,key}.pem, tls/live a symbolic link to one version directory,
	// swapped atomically as Kubernetes secret volumes and certbot's live/ links do, so that
	// each step below changes both files at once.
	certFile, keyFile := filepath.Join(dir, "tls", "live", "cert.pem"), filepath.Join(dir, "tls", "live", "key.pem")
	a, b, c := clitest.NewTestCert(t), clitest.NewTestCert(t), clitest.NewTestCert(t)
	swapPair(t, dir, a.CertPEM, a.KeyPEM)
	s := startServe(t, dir, []string{"TONGBAN_TLS_KEY=" + keyFile}, "--tls-cert", certFile, "--issuer", tlsIssuer)
	if !strings.HasPrefix(s.base, "https://") {
		t.Fatalf("base %s: the listening line does not say tls", s.base)
	}
	hostport := strings.TrimPrefix(s.base, "https://")
	client := clitest.TLSClient(0, 0, a.Cert)

	resp, err := client.Get(s.base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.TLS.Version != tls.VersionTLS13 || resp.Proto != "HTTP/2.0" {
		t.Errorf("/healthz: %d, TLS version %#x, %s", resp.StatusCode, resp.TLS.Version, resp.Proto)
	}
	resp, err = client.Get(s.base + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	var disc struct {
		Issuer        string `json:"issuer"`
		TokenEndpoint string `json:"token_endpoint"`
		JWKSURI       string `json:"jwks_uri"`
	}
	err = json.NewDecoder(resp.Body).Decode(&disc)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || disc.Issuer != tlsIssuer ||
		!strings.HasPrefix(disc.TokenEndpoint, tlsIssuer+"/") || !strings.HasPrefix(disc.JWKSURI, tlsIssuer+"/") {
		t.Errorf("discovery: %d %v %+v", resp.StatusCode, err, disc)
	}
	if h := resp.Header.Get("Strict-Transport-Security"); h == "" {
		t.Error("discovery over TLS without Strict-Transport-Security")
	}

	if _, err := clitest.TLSClient(tls.VersionTLS12, tls.VersionTLS12, a.Cert).Get(s.base + "/healthz"); err == nil ||
		!strings.Contains(err.Error(), "protocol version") {
		t.Errorf("TLS 1.2 client: err = %v, want a protocol version alert", err)
	}
	code, body := get(t, "http://"+hostport+"/healthz")
	if code != 400 || !strings.Contains(body, "Client sent an HTTP request to an HTTPS server") {
		t.Errorf("plain HTTP: %d %q", code, body)
	}

	// Renewal: both files replaced; new connections get the new certificate.
	swapPair(t, dir, b.CertPEM, b.KeyPEM)
	waitSerial(t, hostport, b.Cert.SerialNumber, nil)
	if resp, err := clitest.TLSClient(0, 0, b.Cert).Get(s.base + "/healthz"); err != nil {
		t.Errorf("after renewal: %v", err)
	} else {
		resp.Body.Close()
	}
	s.waitLog(t, 5*time.Second, `"msg":"TLS certificate reloaded"`, b.Cert.SerialNumber.String())

	// A broken pair: c's certificate with b's key. b stays in service until the warning shows
	// that the reload was tried, and after.
	swapPair(t, dir, c.CertPEM, b.KeyPEM)
	deadline := time.Now().Add(10 * time.Second)
	for !s.hasLog("TLS certificate reload failed") {
		if got := clitest.PeerSerial(t, hostport); got.Cmp(b.Cert.SerialNumber) != 0 {
			t.Fatalf("broken pair: serving serial %v, want the previous %v", got, b.Cert.SerialNumber)
		}
		if time.Now().After(deadline) {
			t.Fatalf("no reload warning within 10s:\n%s", s.stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for range 3 {
		if got := clitest.PeerSerial(t, hostport); got.Cmp(b.Cert.SerialNumber) != 0 {
			t.Fatalf("after the warning: serving serial %v, want %v", got, b.Cert.SerialNumber)
		}
	}
	// The right key arrives: c is served.
	swapPair(t, dir, c.CertPEM, c.KeyPEM)
	waitSerial(t, hostport, c.Cert.SerialNumber, b.Cert.SerialNumber)

	if err := s.stop(t); err != nil {
		t.Fatalf("idp serve after SIGTERM: %v\n%s", err, s.stderr)
	}
	logs := s.stderr.String()
	if n := strings.Count(logs, "TLS certificate reload failed"); n != 1 {
		t.Errorf("%d reload warnings for one broken pair, want 1:\n%s", n, logs)
	}
	for _, k := range []clitest.TestCert{a, b, c} {
		if strings.Contains(logs, string(k.KeyPEM[40:80])) {
			t.Error("the log holds key material")
		}
	}
}

// swapPair writes cert and key into a new directory dir/tls/vN and points the symbolic link
// dir/tls/live at it by renaming a new link over the old one.
func swapPair(t *testing.T, dir string, cert, key []byte) {
	t.Helper()
	versions, _ := filepath.Glob(filepath.Join(dir, "tls", "v*"))
	v := fmt.Sprintf("v%d", len(versions)+1)
	if err := os.MkdirAll(filepath.Join(dir, "tls", v), 0o700); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"cert.pem": cert, "key.pem": key} {
		if err := os.WriteFile(filepath.Join(dir, "tls", v, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tmp := filepath.Join(dir, "tls", "live.tmp")
	if err := os.Symlink(v, tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, "tls", "live")); err != nil {
		t.Fatal(err)
	}
}

// waitSerial polls new TLS connections to hostport until the server presents the certificate
// with serial want (within 10 s); every other serial seen must be old (nil: any).
func waitSerial(t *testing.T, hostport string, want, old *big.Int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := clitest.PeerSerial(t, hostport)
		if got.Cmp(want) == 0 {
			return
		}
		if old != nil && got.Cmp(old) != 0 {
			t.Fatalf("serving serial %v, want %v or %v", got, want, old)
		}
		if time.Now().After(deadline) {
			t.Fatalf("still serving serial %v after 10s, want %v", got, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// hasLog reports whether a log line so far contains s.
func (s *server) hasLog(sub string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range s.lines {
		if strings.Contains(l, sub) {
			return true
		}
	}
	return false
}

// TestServeTLSUsageErrors checks that TLS settings that cannot work stop `idp serve` with exit
// status 2 and a message naming the setting or file, before it listens.
func TestServeTLSUsageErrors(t *testing.T) {
	dir := t.TempDir()
	initVar(t, dir)
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	clitest.NewTestCert(t).Write(t, certFile, keyFile)
	other := filepath.Join(dir, "other-key.pem")
	if err := os.WriteFile(other, clitest.NewTestCert(t).KeyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "idp.conf")
	if err := os.WriteFile(conf, []byte("tls-key = "+keyFile+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"fail/cert-only", nil, []string{"--tls-cert", certFile, "--issuer", tlsIssuer}, "tls-cert is set but tls-key is not"},
		{"fail/key-only-env", []string{"TONGBAN_TLS_KEY=" + keyFile}, []string{"--issuer", tlsIssuer}, "tls-key is set but tls-cert is not"},
		{"fail/key-only-config-file", nil, []string{"--config", conf, "--issuer", tlsIssuer}, "tls-key is set but tls-cert is not"},
		{"fail/missing-cert", nil, []string{"--tls-cert", "nowhere.pem", "--tls-key", keyFile, "--issuer", tlsIssuer}, "tls-cert nowhere.pem: open: no such file"},
		{"fail/mismatched-key", nil, []string{"--tls-cert", certFile, "--tls-key", other, "--issuer", tlsIssuer}, "private key does not match"},
		{"fail/http-issuer", nil, []string{"--tls-cert", certFile, "--tls-key", keyFile, "--issuer", "http://127.0.0.1:8080"}, "so the issuer must be its https URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := idp(t, dir, "", tt.env, append([]string{"serve", "--addr", "127.0.0.1:0"}, tt.args...)...)
			r.Want(t, 2, tt.want)
			if strings.Contains(r.Stderr, `"msg":"listening"`) {
				t.Errorf("it listened:\n%s", r.Stderr)
			}
		})
	}
	// The config file supplies the key, the flag the certificate: it starts.
	s := startServe(t, dir, nil, "--config", conf, "--tls-cert", certFile, "--issuer", tlsIssuer)
	if !strings.HasPrefix(s.base, "https://") {
		t.Errorf("base %s", s.base)
	}
	if err := s.stop(t); err != nil {
		t.Errorf("after SIGTERM: %v\n%s", err, s.stderr)
	}
}
