package httpkit_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/tongban/tongban/internal/httpkit"
)

var csrfKey = []byte("0123456789abcdef0123456789abcdef")

// TestCSRFTokenKnownAnswer pins the construction base64url(HMAC-SM3(key, purpose ‖ 0x00 ‖
// secret)); the values were computed with smcrypto.HMACSM3 directly.
func TestCSRFTokenKnownAnswer(t *testing.T) {
	c := httpkit.CSRF{Key: csrfKey}
	if got, want := c.Token("login", "secret-1"), "bcKOVUJyHoLzfv6-XH-Wf_ZoFTfamOUBts-XNLjZN-o"; got != want {
		t.Errorf("Token(login, secret-1) = %q, want %q", got, want)
	}
	if got := c.Token("login", "secret-1"); len(got) != 43 {
		t.Errorf("token length %d, want 43", len(got))
	}
}

func TestCSRFValid(t *testing.T) {
	c := httpkit.CSRF{Key: csrfKey}
	good := c.Token("logout", "sid-1")
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	for _, tc := range []struct {
		name                   string
		key                    []byte
		token, purpose, secret string
		want                   bool
	}{
		{"ok/same-purpose-and-secret", csrfKey, good, "logout", "sid-1", true},
		{"fail/other-purpose", csrfKey, good, "login", "sid-1", false},
		{"fail/other-secret", csrfKey, good, "logout", "sid-2", false},
		{"fail/other-key", []byte("another key, another server....."), good, "logout", "sid-1", false},
		{"fail/empty-token", csrfKey, "", "logout", "sid-1", false},
		{"fail/empty-secret", csrfKey, c.Token("logout", ""), "logout", "", false},
		{"fail/first-char-flipped", csrfKey, flip(good, 0), "logout", "sid-1", false},
		{"fail/last-char-flipped", csrfKey, flip(good, len(good)-1), "logout", "sid-1", false},
		{"fail/truncated", csrfKey, good[:42], "logout", "sid-1", false},
		{"fail/extended", csrfKey, good + "A", "logout", "sid-1", false},
		{"fail/padded", csrfKey, good + "=", "logout", "sid-1", false},
		{"fail/std-base64", csrfKey, strings.NewReplacer("-", "+", "_", "/").Replace(c.Token("login", "secret-1")), "login", "secret-1", false},
		// purpose ‖ 0 ‖ secret: moving the separator must not give a valid token.
		{"fail/purpose-secret-boundary", csrfKey, c.Token("log", "out\x00sid-1"), "logout", "sid-1", false},
		{"fail/nul-in-purpose", csrfKey, good, "logout\x00", "sid-1", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := httpkit.CSRF{Key: tc.key}
			if got := v.Valid(tc.token, tc.purpose, tc.secret); got != tc.want {
				t.Errorf("Valid = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestCSRFTamper: every single-character change of a token is refused.
func TestCSRFTamper(t *testing.T) {
	c := httpkit.CSRF{Key: csrfKey}
	good := c.Token("consent", "secret")
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := range len(good) {
		for _, ch := range []byte(alphabet) {
			if ch == good[i] {
				continue
			}
			b := []byte(good)
			b[i] = ch
			if c.Valid(string(b), "consent", "secret") {
				t.Fatalf("token with character %d changed to %q accepted", i, ch)
			}
		}
	}
}

func TestCSRFTokenPanicsOnNUL(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Token with a NUL in the purpose did not panic")
		}
	}()
	httpkit.CSRF{Key: csrfKey}.Token("a\x00b", "s")
}

// postForm returns a POST request with form as its body and cookies.
func postForm(form url.Values, cookies ...*http.Cookie) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/logout", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, c := range cookies {
		r.AddCookie(c)
	}
	return r
}

func TestCSRFCheck(t *testing.T) {
	c := httpkit.CSRF{Key: csrfKey}
	tok := c.Token("logout", "sid-1")
	if !c.Check(postForm(url.Values{"csrf": {tok}}), "logout", "sid-1") {
		t.Error("ok/posted-field refused")
	}
	if c.Check(postForm(url.Values{"csrf": {tok}}), "logout", "sid-2") {
		t.Error("fail/other-session accepted")
	}
	if c.Check(postForm(url.Values{"token": {tok}}), "logout", "sid-1") {
		t.Error("fail/other-field accepted")
	}
	// The token must come in the body, not in the URL (where it would leak to logs).
	r := httptest.NewRequest(http.MethodPost, "/logout?csrf="+tok, nil)
	if c.Check(r, "logout", "sid-1") {
		t.Error("fail/token-in-query accepted")
	}
}

// TestCSRFCookie: the double-submit flow of forms shown before a login.
func TestCSRFCookie(t *testing.T) {
	for _, secure := range []bool{false, true} {
		c := httpkit.CSRF{Key: csrfKey, Cookies: httpkit.Cookies{Secure: secure}, Cookie: "tb_csrf"}
		name := c.Cookies.Name("tb_csrf")

		// A browser without the cookie gets one, and a token for it.
		rec := httptest.NewRecorder()
		tok := c.CookieToken(rec, httptest.NewRequest(http.MethodGet, "/login", nil), "login")
		set := rec.Result().Cookies()
		if len(set) != 1 || set[0].Name != name || len(set[0].Value) != httpkit.CSRFSecretLen || !set[0].HttpOnly {
			t.Fatalf("secure=%v: CSRF cookie %+v", secure, set)
		}
		secret := &http.Cookie{Name: name, Value: set[0].Value}

		// A browser with the cookie keeps it: no new Set-Cookie, the same token.
		rec = httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodGet, "/login", nil)
		r.AddCookie(secret)
		if again := c.CookieToken(rec, r, "login"); again != tok || len(rec.Result().Cookies()) != 0 {
			t.Errorf("secure=%v: a second page replaced the cookie or changed the token", secure)
		}

		// A cookie shorter than CSRFSecretLen is replaced (it may have been planted).
		rec = httptest.NewRecorder()
		r = httptest.NewRequest(http.MethodGet, "/login", nil)
		r.AddCookie(&http.Cookie{Name: name, Value: strings.Repeat("a", httpkit.CSRFSecretLen-1)})
		c.CookieToken(rec, r, "login")
		if got := rec.Result().Cookies(); len(got) != 1 || len(got[0].Value) != httpkit.CSRFSecretLen {
			t.Errorf("secure=%v: short cookie not replaced: %+v", secure, got)
		}

		short := strings.Repeat("a", httpkit.CSRFSecretLen-1)
		for _, tc := range []struct {
			name    string
			form    url.Values
			cookies []*http.Cookie
			purpose string
			want    bool
		}{
			{"ok/cookie-and-token", url.Values{"csrf": {tok}}, []*http.Cookie{secret}, "login", true},
			{"fail/no-cookie", url.Values{"csrf": {tok}}, nil, "login", false},
			{"fail/other-browser", url.Values{"csrf": {tok}}, []*http.Cookie{{Name: name, Value: httpkit.RandomString(32)}}, "login", false},
			{"fail/other-form", url.Values{"csrf": {tok}}, []*http.Cookie{secret}, "consent", false},
			{"fail/no-token", url.Values{}, []*http.Cookie{secret}, "login", false},
			{"fail/short-cookie", url.Values{"csrf": {c.Token("login", short)}}, []*http.Cookie{{Name: name, Value: short}}, "login", false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if got := c.CheckCookie(postForm(tc.form, tc.cookies...), tc.purpose); got != tc.want {
					t.Errorf("secure=%v: CheckCookie = %v, want %v", secure, got, tc.want)
				}
			})
		}
		if secure {
			// An unprefixed cookie with the right value is not the browser's CSRF cookie.
			r := postForm(url.Values{"csrf": {tok}}, &http.Cookie{Name: "tb_csrf", Value: secret.Value})
			if c.CheckCookie(r, "login") {
				t.Error("fail/unprefixed-cookie accepted over https")
			}
		}
	}
}
