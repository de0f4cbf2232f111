package app

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"sync"
	"time"

	"github.com/spf13/pflag"
)

// TLS of `idp serve` and `wallet serve` (docs/design/audit-keys-transport.md §3): the server
// terminates TLS itself when --tls-cert and --tls-key name a PEM certificate chain and its
// private key. TLS 1.3 only, HTTP/2 and HTTP/1.1 offered by ALPN, and the files re-read when
// they change (CertReloader), so that a certificate renewed by an ACME client or a CA is served
// without a restart.

// TLSReloadInterval is how often, at most, CertReloader looks at its files: the first
// handshake after this long since the last look stats both files and, if either changed,
// reloads the pair.
const TLSReloadInterval = time.Second

// ALPN protocols offered when the server terminates TLS, in order of preference.
var tlsNextProtos = []string{"h2", "http/1.1"}

// addTLSFlags registers --tls-cert and --tls-key on fs, configurable (TONGBAN_TLS_CERT,
// TONGBAN_TLS_KEY, config-file keys tls-cert and tls-key).
func (h *HTTPConfig) addTLSFlags(fs *pflag.FlagSet) {
	fs.StringVar(&h.TLSCert, "tls-cert", "", "PEM file of the TLS certificate chain, leaf first; with --tls-key the server speaks HTTPS (TLS 1.3) and re-reads both files when they change; empty = plain HTTP")
	fs.StringVar(&h.TLSKey, "tls-key", "", "PEM file of the private key of --tls-cert")
	Configurable(fs, "tls-cert", "tls-key")
}

// TLSEnabled reports whether h terminates TLS: TLSCert and TLSKey are both set.
func (h *HTTPConfig) TLSEnabled() bool { return h.TLSCert != "" && h.TLSKey != "" }

// Scheme returns the URL scheme h serves: "https" when TLSEnabled, else "http".
func (h *HTTPConfig) Scheme() string {
	if h.TLSEnabled() {
		return "https"
	}
	return "http"
}

// validateTLS records the TLS problems of h in p: only one of tls-cert and tls-key set, or a
// pair that does not load (LoadKeyPair: a missing or unreadable file, no PEM, a key that does
// not match the certificate).
func (h *HTTPConfig) validateTLS(p *Problems) {
	switch {
	case h.TLSCert == "" && h.TLSKey == "":
	case h.TLSKey == "":
		p.Addf("tls-cert is set but tls-key is not: give both (the certificate and its private key) or neither")
	case h.TLSCert == "":
		p.Addf("tls-key is set but tls-cert is not: give both (the certificate and its private key) or neither")
	default:
		if _, err := LoadKeyPair(h.TLSCert, h.TLSKey); err != nil {
			p.Add(err)
		}
	}
}

// ErrTLSKeyPair is wrapped by every error of LoadKeyPair.
var ErrTLSKeyPair = errors.New("app: TLS certificate and key do not load")

// keyPairError is an error of LoadKeyPair: a message naming the file(s) and the cause, which
// it wraps together with ErrTLSKeyPair.
type keyPairError struct {
	msg string
	err error
}

func (e *keyPairError) Error() string   { return e.msg }
func (e *keyPairError) Unwrap() []error { return []error{ErrTLSKeyPair, e.err} }

// readPEM reads one of the pair's files; the error names the flag and the file once.
func readPEM(flag, path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		cause := err
		var pe *fs.PathError
		if errors.As(err, &pe) {
			cause = fmt.Errorf("%s: %w", pe.Op, pe.Err)
		}
		return nil, &keyPairError{msg: fmt.Sprintf("%s %s: %v", flag, path, cause), err: err}
	}
	return b, nil
}

// LoadKeyPair reads the PEM certificate chain (leaf first) in certFile and its private key in
// keyFile (PKCS #1, PKCS #8 or SEC 1, unencrypted) and checks that they belong together, as
// tls.X509KeyPair does. The returned certificate's Leaf is set. Errors wrap ErrTLSKeyPair and
// the cause (fs.ErrNotExist for a missing file), name the file at fault (both for a key that
// does not match the certificate) and hold no key material.
func LoadKeyPair(certFile, keyFile string) (*tls.Certificate, error) {
	certPEM, err := readPEM("tls-cert", certFile)
	if err != nil {
		return nil, err
	}
	keyPEM, err := readPEM("tls-key", keyFile)
	if err != nil {
		return nil, err
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, &keyPairError{msg: fmt.Sprintf("tls-cert %s with tls-key %s: %v", certFile, keyFile, err), err: err}
	}
	if cert.Leaf == nil { // set by X509KeyPair since Go 1.23; kept for clarity
		if cert.Leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return nil, &keyPairError{msg: fmt.Sprintf("tls-cert %s: %v", certFile, err), err: err}
		}
	}
	return &cert, nil
}

// fileStamp identifies one version of a file: its identity (device and inode), size and
// modification time, or the error of stat.
type fileStamp struct {
	info os.FileInfo
	err  string
}

func stampOf(path string) fileStamp {
	fi, err := os.Stat(path) // follows symbolic links, as certbot's live/ directory uses
	if err != nil {
		return fileStamp{err: err.Error()}
	}
	return fileStamp{info: fi}
}

func (a fileStamp) same(b fileStamp) bool {
	if a.info == nil || b.info == nil {
		return a.info == nil && b.info == nil && a.err == b.err
	}
	return os.SameFile(a.info, b.info) && a.info.Size() == b.info.Size() && a.info.ModTime().Equal(b.info.ModTime())
}

// CertReloader serves the certificate of a certificate file and a key file through
// GetCertificate and re-reads the files when they change. At most once per TLSReloadInterval,
// on a handshake, it stats both files; when either differs from the version it last read (size,
// modification time, or the file itself, as after a rename or a symbolic link moved to a new
// target) it loads the pair again with LoadKeyPair. A reload that fails — a pair half written,
// a key that does not match, a file missing for a moment — keeps the previous certificate in
// service and logs a warning once per distinct failure; the files are tried again when they
// change again. Safe for concurrent use.
type CertReloader struct {
	certFile, keyFile string
	log               *slog.Logger
	now               func() time.Time

	mu       sync.Mutex
	cert     *tls.Certificate
	seen     [2]fileStamp // the files as of the last load attempt, successful or not
	checked  time.Time    // when the files were last stat'ed
	lastWarn string       // the failure last logged, to log each distinct failure once
}

// NewCertReloader loads the pair (LoadKeyPair) and returns a reloader serving it. log receives
// an info line for each certificate loaded (subject, serial number, expiry: no key material)
// and the reload warnings; nil discards them. The error is LoadKeyPair's.
func NewCertReloader(certFile, keyFile string, log *slog.Logger) (*CertReloader, error) {
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	r := &CertReloader{certFile: certFile, keyFile: keyFile, log: log, now: time.Now}
	seen := [2]fileStamp{stampOf(certFile), stampOf(keyFile)}
	cert, err := LoadKeyPair(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	r.cert, r.seen, r.checked = cert, seen, r.now()
	r.logLoaded("TLS certificate loaded", cert)
	return r, nil
}

// Certificate returns the certificate being served, after looking at the files if
// TLSReloadInterval has passed since the last look. It never returns nil.
func (r *CertReloader) Certificate() *tls.Certificate {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	if now.Sub(r.checked) < TLSReloadInterval && !now.Before(r.checked) {
		return r.cert
	}
	r.checked = now
	seen := [2]fileStamp{stampOf(r.certFile), stampOf(r.keyFile)}
	if seen[0].same(r.seen[0]) && seen[1].same(r.seen[1]) {
		return r.cert
	}
	r.seen = seen // stat before reading: a change during the read is seen on the next look
	cert, err := LoadKeyPair(r.certFile, r.keyFile)
	if err != nil {
		if msg := err.Error(); msg != r.lastWarn {
			r.lastWarn = msg
			r.log.Warn("TLS certificate reload failed: still serving the previous certificate",
				"err", msg, "serial", r.cert.Leaf.SerialNumber.String())
		}
		return r.cert
	}
	r.cert, r.lastWarn = cert, ""
	r.logLoaded("TLS certificate reloaded", cert)
	return r.cert
}

// GetCertificate is the tls.Config.GetCertificate of the reloader: Certificate, whatever the
// client hello. It never fails.
func (r *CertReloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return r.Certificate(), nil
}

func (r *CertReloader) logLoaded(msg string, cert *tls.Certificate) {
	leaf := cert.Leaf
	attrs := []any{"cert_file", r.certFile, "subject", leaf.Subject.String(), "serial", leaf.SerialNumber.String(),
		"not_after", leaf.NotAfter.UTC().Format(time.RFC3339)}
	if r.now().After(leaf.NotAfter) {
		r.log.Warn(msg+": it has expired", attrs...)
		return
	}
	r.log.Info(msg, attrs...)
}

// TLSConfig returns the server TLS configuration of r: TLS 1.3 minimum (tls.VersionTLS13; its
// cipher suites are Go's fixed TLS 1.3 set), certificates from r.GetCertificate, ALPN "h2"
// then "http/1.1".
func (r *CertReloader) TLSConfig() *tls.Config {
	return &tls.Config{
		MinVersion:     tls.VersionTLS13,
		GetCertificate: r.GetCertificate,
		NextProtos:     append([]string(nil), tlsNextProtos...),
	}
}

// listenTLS wraps the TCP listener ln in TLS with a CertReloader of h's files.
func (h *HTTPConfig) listenTLS(ln net.Listener, log *slog.Logger) (net.Listener, error) {
	r, err := NewCertReloader(h.TLSCert, h.TLSKey, log)
	if err != nil {
		return nil, Usage(err)
	}
	return tls.NewListener(ln, r.TLSConfig()), nil
}
