package clitest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestCert is a self-signed ECDSA P-256 server certificate for 127.0.0.1, ::1 and localhost,
// valid from an hour ago for a day, with a random 128-bit serial number, and its key, in PEM.
type TestCert struct {
	Cert    *x509.Certificate
	CertPEM []byte // one CERTIFICATE block
	KeyPEM  []byte // one PRIVATE KEY block (PKCS #8)
}

// NewTestCert makes a TestCert; errors fail t.
func NewTestCert(t testing.TB) TestCert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "tongban test " + serial.Text(16)[:8]},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return TestCert{
		Cert:    cert,
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}),
	}
}

// Write writes the certificate to certFile and the key to keyFile (mode 0600), each by
// writing a new file beside it and renaming it over the old one, as ACME clients and
// Kubernetes secret volumes replace theirs, so that a reader never sees half a file.
func (c TestCert) Write(t testing.TB, certFile, keyFile string) {
	t.Helper()
	ReplaceFile(t, certFile, c.CertPEM)
	ReplaceFile(t, keyFile, c.KeyPEM)
}

// ReplaceFile writes data to path (mode 0600) through a temporary file renamed over it.
func ReplaceFile(t testing.TB, path string, data []byte) {
	t.Helper()
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o600)
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		t.Fatal(err)
	}
}

// TLSClient returns an HTTP client that trusts only roots, speaks TLS from minVersion to
// maxVersion (0: Go's defaults), tries HTTP/2, and opens a new connection for every request
// (keep-alives off), so that each request sees the certificate the server serves now.
func TLSClient(minVersion, maxVersion uint16, roots ...*x509.Certificate) *http.Client {
	pool := x509.NewCertPool()
	for _, r := range roots {
		pool.AddCert(r)
	}
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			TLSClientConfig:   &tls.Config{RootCAs: pool, MinVersion: minVersion, MaxVersion: maxVersion},
			ForceAttemptHTTP2: true,
			DisableKeepAlives: true,
		},
	}
}

// PeerSerial connects to addr (host:port) over TLS 1.3, trusting any certificate, and returns
// the serial number of the leaf certificate the server presented.
func PeerSerial(t testing.TB, addr string) *big.Int {
	t.Helper()
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr,
		&tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS13}) // only the serial is read
	if err != nil {
		t.Fatalf("TLS dial %s: %v", addr, err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber
}
