package httpkit

import (
	"crypto/hmac"
	"encoding/base64"
	"net/http"
	"strings"

	"github.com/tongban/tongban/sm-crypto"
)

// CSRFField is the name of the form field that carries a CSRF token.
const CSRFField = "csrf"

// CSRFSecretLen is the length of the secret a CSRF cookie holds: 32 random bytes in base64url
// without padding, 43 characters. A shorter cookie value is not taken as a secret.
const CSRFSecretLen = 43

// CSRF makes and checks the tokens that protect a server's forms against cross-site request
// forgery. A token is
//
//	base64url(HMAC-SM3(Key, purpose ‖ 0x00 ‖ secret))
//
// (RFC 4648 §5 without padding, 43 characters; HMAC-SM3 per GB/T 32905-2016 and RFC 2104),
// where secret is a random value the browser holds in an HttpOnly cookie — a CSRF cookie of
// its own (CookieToken) or, for a server with sealed sessions, the session's random ID — and
// purpose names the form ("login", "consent", "logout"). A cross-site page can neither read
// the cookie nor compute the HMAC without Key; the purpose stops a token of one form being
// replayed on another. Tokens are compared in constant time.
type CSRF struct {
	// Key is the HMAC-SM3 key, derived for CSRF tokens alone (never a key that signs or
	// encrypts anything else). Every replica of a server must use the same key.
	Key []byte
	// Cookies sets the CSRF cookie of CookieToken.
	Cookies Cookies
	// Cookie is the base name of the CSRF cookie of CookieToken and CheckCookie (Cookies.Name
	// gives its name on the wire). Token, Valid and Check do not use it.
	Cookie string
}

// Token returns the token of the form purpose for secret. purpose must not contain a 0x00
// byte (it would make two (purpose, secret) pairs hash alike); Token panics if it does, as
// purposes are constants of the program.
func (c CSRF) Token(purpose, secret string) string {
	if strings.IndexByte(purpose, 0) >= 0 {
		panic("httpkit: CSRF purpose contains a NUL byte")
	}
	mac := smcrypto.HMACSM3(c.Key, []byte(purpose+"\x00"+secret))
	return base64.RawURLEncoding.EncodeToString(mac)
}

// Valid reports whether token is the token of purpose for secret. It is false for an empty
// token or secret, and for a purpose with a 0x00 byte. The comparison takes constant time
// for tokens of a given length.
func (c CSRF) Valid(token, purpose, secret string) bool {
	if token == "" || secret == "" || strings.IndexByte(purpose, 0) >= 0 {
		return false
	}
	return hmac.Equal([]byte(token), []byte(c.Token(purpose, secret)))
}

// Check reports whether the CSRFField of r's posted form (r.PostFormValue: the body of a POST,
// not the query) is the token of purpose for secret.
func (c CSRF) Check(r *http.Request, purpose, secret string) bool {
	return c.Valid(r.PostFormValue(CSRFField), purpose, secret)
}

// CookieToken returns the token of purpose for the browser's CSRF cookie (Cookie), first
// setting that cookie to a new random secret (CSRFSecretLen characters, a browser-session
// cookie) when r carries none or one shorter than CSRFSecretLen. For forms shown before a
// login (the provider's login, consent and logout pages).
func (c CSRF) CookieToken(w http.ResponseWriter, r *http.Request, purpose string) string {
	secret := c.Cookies.Value(r, c.Cookie)
	if len(secret) < CSRFSecretLen {
		secret = RandomString(32)
		c.Cookies.Set(w, c.Cookie, secret, 0)
	}
	return c.Token(purpose, secret)
}

// CheckCookie reports whether r posts the token of purpose for its CSRF cookie (Cookie). It
// is false when the cookie is missing or shorter than CSRFSecretLen.
func (c CSRF) CheckCookie(r *http.Request, purpose string) bool {
	secret := c.Cookies.Value(r, c.Cookie)
	return len(secret) >= CSRFSecretLen && c.Check(r, purpose, secret)
}
