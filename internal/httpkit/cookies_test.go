package httpkit_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/tongban/tongban/internal/httpkit"
)

// TestCookiesSet pins the Set-Cookie lines byte for byte: they are what both servers sent
// before the helpers moved here.
func TestCookiesSet(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(w http.ResponseWriter)
		want string
	}{
		{"ok/secure-session-cookie", func(w http.ResponseWriter) { httpkit.Cookies{Secure: true}.Set(w, "tb_session", "abc", 0) },
			"__Host-tb_session=abc; Path=/; HttpOnly; Secure; SameSite=Lax"},
		{"ok/plain-session-cookie", func(w http.ResponseWriter) { httpkit.Cookies{}.Set(w, "tb_session", "abc", 0) },
			"tb_session=abc; Path=/; HttpOnly; SameSite=Lax"},
		{"ok/secure-max-age", func(w http.ResponseWriter) { httpkit.Cookies{Secure: true}.Set(w, "tbw_login", "v", 600) },
			"__Host-tbw_login=v; Path=/; Max-Age=600; HttpOnly; Secure; SameSite=Lax"},
		{"ok/plain-max-age", func(w http.ResponseWriter) { httpkit.Cookies{}.Set(w, "tbw_login", "v", 600) },
			"tbw_login=v; Path=/; Max-Age=600; HttpOnly; SameSite=Lax"},
		{"ok/negative-max-age-deletes", func(w http.ResponseWriter) { httpkit.Cookies{Secure: true}.Set(w, "tb_session", "", -1) },
			"__Host-tb_session=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax"},
		{"ok/clear-secure", func(w http.ResponseWriter) { httpkit.Cookies{Secure: true}.Clear(w, "tbw_session") },
			"__Host-tbw_session=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax"},
		{"ok/clear-plain", func(w http.ResponseWriter) { httpkit.Cookies{}.Clear(w, "tbw_session") },
			"tbw_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax"},
		{"ok/unprefixed-secure", func(w http.ResponseWriter) {
			httpkit.Cookies{Secure: true}.SetUnprefixed(w, "tbw_lang", "en", 365*24*3600)
		},
			"tbw_lang=en; Path=/; Max-Age=31536000; HttpOnly; Secure; SameSite=Lax"},
		{"ok/unprefixed-plain", func(w http.ResponseWriter) { httpkit.Cookies{}.SetUnprefixed(w, "tbw_lang", "zh", 365*24*3600) },
			"tbw_lang=zh; Path=/; Max-Age=31536000; HttpOnly; SameSite=Lax"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			tc.set(rec)
			got := rec.Header().Values("Set-Cookie")
			if len(got) != 1 || got[0] != tc.want {
				t.Errorf("Set-Cookie = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestCookiesName(t *testing.T) {
	if got := (httpkit.Cookies{Secure: true}).Name("tb_csrf"); got != "__Host-tb_csrf" {
		t.Errorf("secure name %q", got)
	}
	if got := (httpkit.Cookies{}).Name("tb_csrf"); got != "tb_csrf" {
		t.Errorf("plain name %q", got)
	}
}

func TestCookiesValue(t *testing.T) {
	for _, tc := range []struct {
		name    string
		secure  bool
		cookies []*http.Cookie
		want    string
	}{
		{"ok/secure", true, []*http.Cookie{{Name: "__Host-tb_session", Value: "s1"}}, "s1"},
		{"ok/plain", false, []*http.Cookie{{Name: "tb_session", Value: "s1"}}, "s1"},
		{"ok/other-cookies-ignored", false, []*http.Cookie{{Name: "x", Value: "1"}, {Name: "tb_session", Value: "s1"}}, "s1"},
		{"fail/absent", true, nil, ""},
		// Over https an unprefixed cookie may come from anyone on the network: not ours.
		{"fail/unprefixed-when-secure", true, []*http.Cookie{{Name: "tb_session", Value: "planted"}}, ""},
		{"fail/prefixed-when-plain", false, []*http.Cookie{{Name: "__Host-tb_session", Value: "s1"}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			for _, c := range tc.cookies {
				r.AddCookie(c)
			}
			if got := (httpkit.Cookies{Secure: tc.secure}).Value(r, "tb_session"); got != tc.want {
				t.Errorf("Value = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestCookiesRoundTrip: what Set writes, a browser sends back, and Value reads.
func TestCookiesRoundTrip(t *testing.T) {
	for _, secure := range []bool{false, true} {
		c := httpkit.Cookies{Secure: secure}
		rec := httptest.NewRecorder()
		c.Set(rec, "tbw_session", "sealed-value", 3600)
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		for _, ck := range rec.Result().Cookies() {
			r.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
		}
		if got := c.Value(r, "tbw_session"); got != "sealed-value" {
			t.Errorf("secure=%v: round trip gave %q", secure, got)
		}
	}
}
