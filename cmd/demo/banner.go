package main

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/tongban/tongban/cmd/internal/app"
)

type demoBanner struct {
	issuer, wallet, list, anchor, fingerprint, db, kek string
	notifier                                           string // --notifier: "console" or "none"
	licences                                           int
}

// printDemo prints what docs/demo.md walks through.
func printDemo(w io.Writer, b demoBanner) {
	// Extra flags for the wallet commands when the database is not the default one.
	extra := ""
	if filepath.Clean(b.db) != filepath.Clean(app.DefaultDB) || filepath.Clean(b.kek) != filepath.Clean(app.DefaultKEKFile) {
		extra = " --db " + b.db + " --kek-file " + b.kek
	}
	challenge := sha256.Sum256([]byte(demoVerifier))
	appRedirect := "http://127.0.0.1:" + demoAppPort + "/callback"
	authz := b.issuer + "/authorize?" + url.Values{
		"client_id": {demoAppID}, "response_type": {"code"}, "scope": {"openid profile"},
		"redirect_uri": {appRedirect}, "state": {"demo-state-12345"}, "nonce": {"demo-nonce-12345"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(challenge[:])}, "code_challenge_method": {"S256"},
	}.Encode()
	// The phone gets "forgot password" codes only from the console notifier; with none, the
	// idp turns access recovery off.
	phone := demoPhone + " (\"forgot password\" codes print here)"
	if b.notifier != "console" {
		phone = demoPhone + " (recovery by code is off: --notifier " + b.notifier + ")"
	}
	lines := []string{
		"tongban demo is running. Ctrl-C stops both services.",
		"",
		"  identity provider  " + b.issuer + "   (discovery: " + b.issuer + "/.well-known/openid-configuration)",
		"  e-licence wallet   " + b.wallet,
		"",
		"Demo login (a made-up citizen):",
		"  ID number  " + demoIDNumber,
		"  password   " + demoPassword,
		"  name       " + demoName,
		"  phone      " + phone,
		"  account    " + b.issuer + "/account (password, devices, apps, my data)",
		fmt.Sprintf("  licences   %d, one of every kind", b.licences),
		"",
		"Trust list for verifiers: " + b.list + " (trust anchor " + b.anchor + ", fingerprint " + b.fingerprint + ")",
		"",
		"Next:",
		"  1. Open " + b.wallet + " and log in with the ID number and password above.",
		"  2. Press 亮证 on a licence: its QR code refreshes every 30 s. 多码合一 combines several.",
		"  3. Press 保存二维码图片 and save the image as code.png in this directory, then",
		"     within 60 seconds verify it offline:",
		"       go run ./cmd/wallet verify --trust-list " + b.list + " --png code.png",
		"  Or mint a code from the command line and verify it:",
		"       go run ./cmd/wallet code" + extra + " --holder " + demoIDNumber + " --kind resident-id --png code.png",
		"       go run ./cmd/wallet verify --trust-list " + b.list + " --png code.png",
		"",
		"Admin console (统一应用管理): " + b.issuer + "/admin",
		"  log in as the demo operator: ID number " + demoOperatorIDNumber + ", the same password",
		"  (roles operator, reviewer, auditor). The console wants a second factor: first add an",
		"  authenticator app for that person at " + b.issuer + "/account.",
		"  App " + demoPendingAppID + " waits for review; " + demoLookupAppID + " (department " + demoDepartment + ") reads a resident",
		"  ID card in full after the holder's consent.",
		"",
		"Demo relying app " + demoAppID + " (public client, PKCE S256, redirect http://127.0.0.1/callback on any port):",
		"  open   " + authz,
		"  then copy the code from the address bar (" + appRedirect + "?code=…) and run",
		"       curl -s " + b.issuer + "/token -d grant_type=authorization_code -d client_id=" + demoAppID +
			" -d redirect_uri=" + appRedirect + " -d code_verifier=" + demoVerifier + " -d code=CODE",
		"",
	}
	fmt.Fprintln(w, strings.Join(lines, "\n"))
}
