package main

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tongban/tongban/wallet/wallettest"
)

// Helpers of the tests that drive a running `idp serve` through the code flow, as an app would.

// testRedirect is the redirect URI of the test app "rp"; nothing listens on it, the browser
// stops there.
const testRedirect = "http://127.0.0.1:9/cb"

// addTestApp registers the confidential app "rp" (code flow, refresh tokens) with `idp clients
// add` and returns its secret; db are the storage flags.
func addTestApp(t *testing.T, dir string, db ...string) string {
	t.Helper()
	r := idp(t, dir, "", nil, append([]string{"clients", "add", "--id", "rp", "--redirect-uri", testRedirect, "--json"}, db...)...)
	mustOK(t, r, "clients add")
	return decode[clientJSON](t, r).ClientSecret
}

// authRequest is an authorization request of "rp" with its PKCE verifier.
type authRequest struct{ url, verifier string }

// newAuthRequest returns an authorization request of "rp" at the provider base, with
// offline_access, a fresh state, nonce and PKCE S256 challenge.
func newAuthRequest(t *testing.T, base string) authRequest {
	verifier := randomString(t) + randomString(t) + randomString(t) // 48 characters (RFC 7636 §4.1)
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"client_id": {"rp"}, "response_type": {"code"}, "redirect_uri": {testRedirect},
		"scope": {"openid offline_access"}, "state": {randomString(t)}, "nonce": {randomString(t)},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	return authRequest{base + "/authorize?" + q.Encode(), verifier}
}

// newTestBrowser returns a browser that stops at the test app's redirect URI.
func newTestBrowser(t *testing.T) *wallettest.Browser {
	b := wallettest.NewBrowser(t)
	b.Stop = []string{testRedirect}
	return b
}

// callback returns the query of the redirect to the test app a page stopped at, or nil.
func callback(p *wallettest.Page) url.Values {
	loc := p.Location()
	if loc == nil || !strings.HasPrefix(loc.String(), testRedirect) {
		return nil
	}
	return loc.Query()
}

// loginCode signs the test person in at base with a new browser and returns a code and its
// verifier, and the browser (which keeps the SSO session).
func loginCode(t *testing.T, base string) (code, verifier string, b *wallettest.Browser) {
	t.Helper()
	b = newTestBrowser(t)
	a := newAuthRequest(t, base)
	p := b.LoginAndConsent(b.Get(a.url), testIDNumber, testPassword)
	q := callback(p)
	if q.Get("code") == "" {
		t.Fatalf("login ended at %d %s: %.500s", p.Status, p.URL, p.Body)
	}
	return q.Get("code"), a.verifier, b
}

// redeemForm is the token request redeeming code.
func redeemForm(code, verifier string) url.Values {
	return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {testRedirect}, "code_verifier": {verifier}}
}

// postToken posts form to base's token endpoint as "rp" and returns the status, the decoded
// JSON and the Retry-After header.
func postToken(t *testing.T, base, secret string, form url.Values) (int, map[string]any, string) {
	return postAs(t, base+"/token", secret, form)
}

// introspect asks base's introspection endpoint, as "rp", whether token is active.
func introspect(t *testing.T, base, secret, token string) bool {
	t.Helper()
	status, out, _ := postAs(t, base+"/introspect", secret, url.Values{"token": {token}})
	if status != http.StatusOK {
		t.Errorf("introspect: %d %v", status, out)
	}
	return out["active"] == true
}

// postAs posts form to endpoint with "rp"'s client_secret_basic credentials.
func postAs(t *testing.T, endpoint, secret string, form url.Values) (int, map[string]any, string) {
	req, _ := http.NewRequest("POST", endpoint, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("rp", secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return 0, nil, ""
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(body, &out)
	return resp.StatusCode, out, resp.Header.Get("Retry-After")
}

// randomString returns 16 random base64url characters.
func randomString(t *testing.T) string {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
