package verifier

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

//go:embed site
var siteFS embed.FS

// Names of the files a deployment adds to the site.
const (
	ConfigFile    = "config.json"
	AnchorFile    = "trust-anchor.pem"
	TrustListFile = "trust-list.cose"
	ReceiptsFile  = "receipts.js"
)

// Config is a deployment's config.json: where the page fetches its lists. The zero value is
// an exported folder that holds its own trust list and no status list.
type Config struct {
	// TrustListURL is where the page fetches the signed trust list, relative to the page or
	// absolute: "/trust-list" on the wallet, or "https://wallet.example.gov.cn/trust-list"
	// for an office's folder (the wallet answers it with CORS allowed). "" means
	// TrustListFile, the snapshot in the folder.
	TrustListURL string `json:"trust_list_url,omitempty"`
	// TrustListSnapshot, when set, is tried when TrustListURL cannot be fetched or its list is
	// refused: TrustListFile in an exported folder.
	TrustListSnapshot string `json:"trust_list_snapshot,omitempty"`
	// StatusListURL is where the page fetches the signed status list for pre-fetched offline
	// codes; "" means none (pre-fetched codes are refused as status_list_missing).
	StatusListURL string `json:"status_list_url,omitempty"`
	// WalletURL is the wallet's base URL, where the counter enrols and sends its receipts for
	// the holder's record (receipts.js posts to WalletURL+"/api/v1/counters/enrol" and
	// WalletURL+"/api/v1/receipts"; the wallet answers them with CORS allowed): an absolute
	// http(s) URL without credentials, query or fragment, e.g. "https://wallet.example.gov.cn"
	// for an office's folder. "" means the page's own origin, which is right on the wallet
	// itself (it serves the page at /verify/) and wrong anywhere else: Export turns receipts
	// off (NoReceipts) when it is "".
	WalletURL string `json:"wallet_url,omitempty"`
	// NoReceipts turns enrolment and receipts off: the page verifies, shows no counter panel
	// and sends nothing. Export sets it for a folder without WalletURL.
	NoReceipts bool `json:"no_receipts,omitempty"`
}

// JSON returns c as config.json.
func (c Config) JSON() []byte {
	b, _ := json.MarshalIndent(c, "", "  ") // plain strings: cannot fail
	return append(b, '\n')
}

// Origins returns the origins (scheme://host[:port]) of c's absolute URLs, which the page's
// Content-Security-Policy must allow it to connect to.
func (c Config) Origins() []string {
	var out []string
	for _, s := range []string{c.TrustListURL, c.TrustListSnapshot, c.StatusListURL, c.WalletURL} {
		if u, err := url.Parse(s); err == nil && u.IsAbs() && u.Host != "" {
			if o := u.Scheme + "://" + u.Host; !slices.Contains(out, o) {
				out = append(out, o)
			}
		}
	}
	return out
}

// Validate reports every URL of c that is neither a relative path nor an absolute http(s) URL
// without credentials, and a WalletURL that is not an absolute http(s) URL without
// credentials, query or fragment, all at once.
func (c Config) Validate() error {
	var bad []string
	for name, s := range map[string]string{"trust list URL": c.TrustListURL, "trust list snapshot": c.TrustListSnapshot, "status list URL": c.StatusListURL} {
		if s == "" {
			continue
		}
		u, err := url.Parse(s)
		switch {
		case err != nil:
			bad = append(bad, fmt.Sprintf("%s %q: %v", name, s, err))
		case u.User != nil || strings.ContainsAny(s, "'\" ;"):
			bad = append(bad, fmt.Sprintf("%s %q: no credentials, quotes, spaces or semicolons", name, s))
		case u.IsAbs() && (u.Scheme != "https" && u.Scheme != "http" || u.Host == ""):
			bad = append(bad, fmt.Sprintf("%s %q: want an http(s) URL or a relative path", name, s))
		}
	}
	if s := c.WalletURL; s != "" {
		u, err := url.Parse(s)
		switch {
		case err != nil:
			bad = append(bad, fmt.Sprintf("wallet URL %q: %v", s, err))
		case u.User != nil || strings.ContainsAny(s, "'\" ;"):
			bad = append(bad, fmt.Sprintf("wallet URL %q: no credentials, quotes, spaces or semicolons", s))
		case !u.IsAbs() || u.Scheme != "https" && u.Scheme != "http" || u.Host == "" || u.RawQuery != "" || u.ForceQuery || strings.Contains(s, "#"):
			bad = append(bad, fmt.Sprintf("wallet URL %q: want the wallet's address, an http(s) URL such as https://wallet.example.gov.cn without query or fragment", s))
		}
	}
	if len(bad) > 0 {
		slices.Sort(bad)
		return fmt.Errorf("verifier: %s", strings.Join(bad, "; "))
	}
	return nil
}

var (
	versionOnce sync.Once
	version     string
)

// Version identifies this build of the site: the first 16 hex digits of SHA-256 over the
// names and contents of its files. The service worker's cache is named after it, so a new
// build replaces the cached files.
func Version() string {
	versionOnce.Do(func() {
		h := sha256.New()
		for _, name := range Names() {
			b, _ := fs.ReadFile(siteFS, "site/"+name)
			fmt.Fprintf(h, "%s %d\n", name, len(b))
			h.Write(b)
		}
		version = hex.EncodeToString(h.Sum(nil))[:16]
	})
	return version
}

// Names returns the site's built-in files, sorted: the page (index.html), its assets, the
// WebAssembly verifier, jsQR and its licence, and receipts.js.
func Names() []string {
	entries, _ := fs.ReadDir(siteFS, "site") // embedded: present
	var out []string
	for _, e := range entries {
		if !e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			out = append(out, e.Name())
		}
	}
	return out
}

// File returns the built-in file name for a deployment with config c, with its Content-Type,
// or false when there is none. index.html gets a Content-Security-Policy that allows c's
// origins; sw.js gets Version.
func File(name string, c Config) ([]byte, string, bool) {
	if name == "" {
		name = "index.html"
	}
	b, err := fs.ReadFile(siteFS, "site/"+name)
	if err != nil || strings.Contains(name, "/") {
		return nil, "", false
	}
	switch name {
	case "index.html":
		if o := c.Origins(); len(o) > 0 {
			b = bytes.Replace(b, []byte("connect-src 'self'"), []byte("connect-src 'self' "+strings.Join(o, " ")), 1)
		}
	case "sw.js":
		b = bytes.Replace(b, []byte("var VERSION = 'dev';"), []byte("var VERSION = '"+Version()+"';"), 1)
	}
	return b, ContentType(name), true
}

// ContentType returns the media type the site's files are served with, by extension.
func ContentType(name string) string {
	switch path.Ext(name) {
	case ".html":
		return "text/html; charset=utf-8"
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".wasm":
		return "application/wasm"
	case ".json":
		return "application/json"
	case ".pem":
		return "application/x-pem-file"
	case ".cose":
		return `application/cose; cose-type="cose-sign1"`
	case ".cwt":
		return "application/statuslist+cwt"
	}
	return "text/plain; charset=utf-8"
}

// Export writes the site for an office's web server to dir (created when missing): the
// built-in files, config.json for c, the trust anchor anchorPEM (qr.ParseTrustAnchors
// format) and the signed trust list snapshot trustList. When c.TrustListURL is set the
// snapshot is the fallback (c.TrustListSnapshot is set to it). Without c.WalletURL the folder's
// receipts are off (c.NoReceipts is set): its host is not the wallet. Files are written with mode
// 0644 (they are public); existing files of the same names are replaced.
func Export(dir string, c Config, anchorPEM, trustList []byte) error {
	if c.TrustListURL != "" && c.TrustListSnapshot == "" {
		c.TrustListSnapshot = TrustListFile
	}
	if c.WalletURL == "" {
		c.NoReceipts = true
	}
	if err := c.Validate(); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("verifier: export: %w", err)
	}
	files := map[string][]byte{ConfigFile: c.JSON(), AnchorFile: anchorPEM, TrustListFile: trustList}
	for _, name := range Names() {
		b, _, _ := File(name, c)
		files[name] = b
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return fmt.Errorf("verifier: export: %w", err)
		}
	}
	return nil
}
