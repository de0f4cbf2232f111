package httpkit

import "net/http"

// HostPrefix is the cookie name prefix of Cookies.Secure (RFC 6265bis §4.1.3.2): a browser
// accepts a "__Host-" cookie only when it is Secure, has Path=/ and no Domain, so no sibling
// host (another subdomain, or plain http on the same name) can set or overwrite it.
const HostPrefix = "__Host-"

// Cookies sets, clears and reads one server's cookies. Every cookie it sets is HttpOnly,
// SameSite=Lax, on Path=/ and without Domain (host-only). With Secure it is also Secure and
// its name takes HostPrefix; without (development over http) it is neither. Names are given
// as the base name ("tb_session") and prefixed here.
//
// The zero value is the development setting (http, no prefix).
type Cookies struct {
	// Secure marks the cookies Secure and prefixes their names with HostPrefix. Set it when
	// the server's public URL is https.
	Secure bool
}

// Name returns the name of cookie base on the wire: HostPrefix + base when Secure, else base.
func (c Cookies) Name(base string) string {
	if c.Secure {
		return HostPrefix + base
	}
	return base
}

// Set sets cookie base (named by Name) to value. maxAge is in seconds: positive keeps the
// cookie that long (Max-Age), 0 makes a browser-session cookie (no Max-Age), negative deletes
// it (Max-Age=0). value must be a valid cookie value (base64url is); net/http drops invalid
// bytes.
func (c Cookies) Set(w http.ResponseWriter, base, value string, maxAge int) {
	c.set(w, c.Name(base), value, maxAge)
}

// Clear deletes cookie base: an empty value with Max-Age=0.
func (c Cookies) Clear(w http.ResponseWriter, base string) { c.Set(w, base, "", -1) }

// SetUnprefixed is Set with name exactly as given, without HostPrefix even when Secure: for a
// cookie whose name must stay the same over http and https and whose integrity does not
// matter (the wallet's language choice, tbw_lang). Every other attribute is as Set's.
func (c Cookies) SetUnprefixed(w http.ResponseWriter, name, value string, maxAge int) {
	c.set(w, name, value, maxAge)
}

func (c Cookies) set(w http.ResponseWriter, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     "/",
		MaxAge:   maxAge,
		Secure:   c.Secure,
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
	})
}

// Value returns the value of cookie base (named by Name) in r, or "" when r has none. With
// Secure, a cookie named base without the prefix is ignored: anyone on the network could have
// set it.
func (c Cookies) Value(r *http.Request, base string) string {
	ck, err := r.Cookie(c.Name(base))
	if err != nil {
		return ""
	}
	return ck.Value
}
