package app

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/tongban/tongban/cmd/internal/clitest"
)

// pairFiles returns the paths of a certificate and a key file in a fresh directory.
func pairFiles(t *testing.T) (certFile, keyFile string) {
	dir := t.TempDir()
	return filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
}

func TestLoadKeyPair(t *testing.T) {
	a, b := clitest.NewTestCert(t), clitest.NewTestCert(t)
	tests := []struct {
		name      string
		cert, key []byte // nil: no such file
		wantErr   error
		wantIn    []string // "CERT" and "KEY" stand for the file names
	}{
		{"ok", a.CertPEM, a.KeyPEM, nil, nil},
		{"fail/missing-cert", nil, a.KeyPEM, fs.ErrNotExist, []string{"tls-cert CERT"}},
		{"fail/missing-key", a.CertPEM, nil, fs.ErrNotExist, []string{"tls-key KEY"}},
		{"fail/mismatched-key", a.CertPEM, b.KeyPEM, ErrTLSKeyPair, []string{"tls-cert CERT with tls-key KEY", "does not match"}},
		{"fail/not-pem", []byte("hello\n"), a.KeyPEM, ErrTLSKeyPair, []string{"CERT", "PEM"}},
		{"fail/half-written-cert", a.CertPEM[:len(a.CertPEM)/2], a.KeyPEM, ErrTLSKeyPair, []string{"CERT"}},
		{"fail/cert-as-key", a.CertPEM, a.CertPEM, ErrTLSKeyPair, []string{"KEY"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			certFile, keyFile := pairFiles(t)
			if tt.cert != nil {
				os.WriteFile(certFile, tt.cert, 0o600)
			}
			if tt.key != nil {
				os.WriteFile(keyFile, tt.key, 0o600)
			}
			cert, err := LoadKeyPair(certFile, keyFile)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				if cert.Leaf == nil || cert.Leaf.SerialNumber.Cmp(a.Cert.SerialNumber) != 0 {
					t.Errorf("leaf %v, want serial %v", cert.Leaf, a.Cert.SerialNumber)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) || !errors.Is(err, ErrTLSKeyPair) {
				t.Fatalf("err = %v, want %v and ErrTLSKeyPair", err, tt.wantErr)
			}
			for _, w := range tt.wantIn {
				w = strings.NewReplacer("CERT", certFile, "KEY", keyFile).Replace(w)
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err %q lacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "PRIVATE KEY") {
				t.Errorf("err %q quotes PEM", err)
			}
		})
	}
}

// validHTTP is an HTTPConfig that passes Validate, plain HTTP.
func validHTTP() HTTPConfig {
	var h HTTPConfig
	h.AddFlags(pflag.NewFlagSet("t", pflag.ContinueOnError), "127.0.0.1:0")
	return h
}

func TestHTTPConfigValidateTLS(t *testing.T) {
	certFile, keyFile := pairFiles(t)
	clitest.NewTestCert(t).Write(t, certFile, keyFile)
	missing := filepath.Join(t.TempDir(), "nothing.pem")
	tests := []struct {
		name      string
		cert, key string
		want      string // "" = no problem
	}{
		{"ok/plain", "", "", ""},
		{"ok/tls", certFile, keyFile, ""},
		{"fail/cert-only", certFile, "", "tls-cert is set but tls-key is not"},
		{"fail/key-only", "", keyFile, "tls-key is set but tls-cert is not"},
		{"fail/missing-cert", missing, keyFile, "tls-cert " + missing},
		{"fail/swapped", keyFile, certFile, "tls-cert " + keyFile},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := validHTTP()
			h.TLSCert, h.TLSKey = tt.cert, tt.key
			var p Problems
			h.Validate(&p)
			err := p.Err()
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if got, want := h.Scheme(), map[bool]string{true: "https", false: "http"}[tt.cert != ""]; got != want {
					t.Errorf("Scheme = %s, want %s", got, want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) || !IsUsage(err) {
				t.Fatalf("Validate = %v, want a usage error with %q", err, tt.want)
			}
		})
	}
}

// TestTLSSettingsLayered checks that tls-cert and tls-key come from the environment and the
// config file like every configurable setting.
func TestTLSSettingsLayered(t *testing.T) {
	var h HTTPConfig
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	fs.String(ConfigFlag, "", "")
	h.AddFlags(fs, "127.0.0.1:0")
	conf := writeFile(t, "tls-cert = /etc/tongban/tls/cert.pem\ntls-key = /from/file.pem\n")
	if err := fs.Parse([]string{"--config", conf}); err != nil {
		t.Fatal(err)
	}
	src, err := ApplyConfig(fs, map[string]bool{"tls-cert": true, "tls-key": true},
		env(map[string]string{"TONGBAN_TLS_KEY": "/etc/tongban/tls/key.pem"}))
	if err != nil {
		t.Fatal(err)
	}
	if h.TLSCert != "/etc/tongban/tls/cert.pem" || src["tls-cert"] != SourceFile ||
		h.TLSKey != "/etc/tongban/tls/key.pem" || src["tls-key"] != SourceEnv {
		t.Errorf("cert %q (%s), key %q (%s)", h.TLSCert, src["tls-cert"], h.TLSKey, src["tls-key"])
	}
	if u := fs.Lookup("tls-cert").Usage; !strings.Contains(u, "TONGBAN_TLS_CERT") {
		t.Errorf("usage %q", u)
	}
}

// logBuffer is a concurrency-safe log sink.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *logBuffer) count(s string) int { return strings.Count(b.String(), s) }

// TestCertReloader drives the reloader with a fake clock: the files are looked at no more than
// once a second; a new pair is served after the next look; a half-written or mismatched pair
// keeps the previous certificate and is logged once per distinct failure; a repaired pair is
// served again.
func TestCertReloader(t *testing.T) {
	certFile, keyFile := pairFiles(t)
	a, b, c := clitest.NewTestCert(t), clitest.NewTestCert(t), clitest.NewTestCert(t)
	a.Write(t, certFile, keyFile)
	logs := &logBuffer{}
	r, err := NewCertReloader(certFile, keyFile, slog.New(slog.NewJSONHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_700_000_000, 0)
	r.now = func() time.Time { return now }
	r.checked = now
	serving := func(want clitest.TestCert, what string) {
		t.Helper()
		got, err := r.GetCertificate(&tls.ClientHelloInfo{})
		if err != nil {
			t.Fatal(err)
		}
		if got.Leaf.SerialNumber.Cmp(want.Cert.SerialNumber) != 0 {
			t.Fatalf("%s: serving serial %v, want %v\n%s", what, got.Leaf.SerialNumber, want.Cert.SerialNumber, logs)
		}
	}
	serving(a, "start")
	if logs.count(`"msg":"TLS certificate loaded"`) != 1 {
		t.Errorf("no load line:\n%s", logs)
	}

	b.Write(t, certFile, keyFile)
	now = now.Add(TLSReloadInterval - time.Millisecond)
	serving(a, "within the interval")
	now = now.Add(time.Millisecond)
	serving(b, "after the interval")
	if logs.count(`"msg":"TLS certificate reloaded"`) != 1 {
		t.Errorf("no reload line:\n%s", logs)
	}

	// Half written: the new certificate is there, its key is not yet.
	clitest.ReplaceFile(t, certFile, c.CertPEM)
	now = now.Add(TLSReloadInterval)
	serving(b, "certificate without its key")
	now = now.Add(TLSReloadInterval)
	serving(b, "no change since the failure")
	// Another version of the same failure (b's key rewritten): not logged again.
	clitest.ReplaceFile(t, keyFile, b.KeyPEM)
	now = now.Add(TLSReloadInterval)
	serving(b, "same failure")
	if n := logs.count(`"level":"WARN"`); n != 1 || logs.count("does not match") != 1 {
		t.Errorf("%d warnings for one failure:\n%s", n, logs)
	}
	// A different failure: a truncated key.
	clitest.ReplaceFile(t, keyFile, c.KeyPEM[:20])
	now = now.Add(TLSReloadInterval)
	serving(b, "truncated key")
	if n := logs.count(`"level":"WARN"`); n != 2 {
		t.Errorf("%d warnings for two failures:\n%s", n, logs)
	}
	// A file missing for a moment.
	os.Remove(keyFile)
	now = now.Add(TLSReloadInterval)
	serving(b, "key missing")
	// The key arrives: c is served.
	clitest.ReplaceFile(t, keyFile, c.KeyPEM)
	now = now.Add(TLSReloadInterval)
	serving(c, "repaired")
	// A clock stepping back does not stop the looks.
	a.Write(t, certFile, keyFile)
	now = now.Add(-time.Hour)
	serving(a, "clock stepped back")

	for _, k := range [][]byte{a.KeyPEM, b.KeyPEM, c.KeyPEM} {
		if strings.Contains(logs.String(), string(k[30:60])) {
			t.Error("the log holds key material")
		}
	}
	if n := logs.count(`"level":"WARN"`); n != 3 {
		t.Errorf("%d warnings, want 3:\n%s", n, logs)
	}
	t.Logf("log:\n%s", logs)
}

// TestServeTLS serves over a real TLS listener: TLS 1.3 with HTTP/2, TLS 1.2 refused, plain
// HTTP answered 400, and a start-up with a bad pair refused as a usage error naming the file.
func TestServeTLS(t *testing.T) {
	certFile, keyFile := pairFiles(t)
	cert := clitest.NewTestCert(t)
	cert.Write(t, certFile, keyFile)
	h := validHTTP()
	h.TLSCert, h.TLSKey = certFile, keyFile
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ln, err := h.Listen(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, r.Proto) })
	go func() { served <- Serve(ctx, ln, handler, h, discard()) }()
	addr := ln.Addr().String()

	resp, err := clitest.TLSClient(0, 0, cert.Cert).Get("https://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "HTTP/2.0" || resp.TLS.Version != tls.VersionTLS13 {
		t.Errorf("TLS 1.3 client: %d %q, version %#x", resp.StatusCode, body, resp.TLS.Version)
	}
	// HTTP/1.1 by ALPN.
	c11 := clitest.TLSClient(0, 0, cert.Cert)
	c11.Transport.(*http.Transport).ForceAttemptHTTP2 = false
	if resp, err := c11.Get("https://" + addr + "/"); err != nil {
		t.Error(err)
	} else {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != "HTTP/1.1" {
			t.Errorf("HTTP/1.1 client got %q", body)
		}
	}
	_, err = clitest.TLSClient(tls.VersionTLS10, tls.VersionTLS12, cert.Cert).Get("https://" + addr + "/")
	if err == nil || !strings.Contains(err.Error(), "protocol version") {
		t.Errorf("TLS 1.2 client: err = %v, want a protocol version alert", err)
	}
	resp, err = http.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || !strings.Contains(string(body), "Client sent an HTTP request to an HTTPS server") {
		t.Errorf("plain HTTP: %d %q", resp.StatusCode, body)
	}
	cancel()
	if err := <-served; err != nil {
		t.Errorf("Serve = %v", err)
	}

	bad := h
	bad.TLSKey = certFile
	if _, err := bad.Listen(context.Background(), nil); !IsUsage(err) || !errors.Is(err, ErrTLSKeyPair) ||
		!strings.Contains(err.Error(), "tls-key "+certFile) {
		t.Errorf("Listen with a bad pair = %v", err)
	}
}
