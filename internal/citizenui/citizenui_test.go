package citizenui_test

import (
	"errors"
	"html/template"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/tongban/tongban/internal/citizenui"
)

func post(h http.Handler, form url.Values, header map[string]string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, "http://wallet.example"+citizenui.PathElder, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestHandler(t *testing.T) {
	var saved []bool
	h := citizenui.Handler{OnChange: func(r *http.Request, on bool) error { saved = append(saved, on); return nil }}
	cases := []struct {
		name     string
		form     url.Values
		header   map[string]string
		status   int
		location string
		cookie   string // "" none, "1" set, "-" cleared
	}{
		{"on", url.Values{"on": {"1"}, "back": {"/show?kind=resident_id"}}, nil, 303, "/show?kind=resident_id", "1"},
		{"off", url.Values{"on": {"0"}, "back": {"/"}}, nil, 303, "/", "-"},
		{"same origin", url.Values{"on": {"1"}, "back": {"/a"}}, map[string]string{"Origin": "http://wallet.example", "Sec-Fetch-Site": "same-origin"}, 303, "/a", "1"},
		{"open redirect", url.Values{"on": {"1"}, "back": {"//evil.example/x"}}, nil, 303, "/", "1"},
		{"absolute back", url.Values{"on": {"1"}, "back": {"https://evil.example/"}}, nil, 303, "/", "1"},
		{"backslash back", url.Values{"on": {"1"}, "back": {`/\evil.example`}}, nil, 303, "/", "1"},
		{"control back", url.Values{"on": {"1"}, "back": {"/a\r\nSet-Cookie: x=1"}}, nil, 303, "/", "1"},
		{"bad on", url.Values{"on": {"yes"}}, nil, 400, "", ""},
		{"cross-site", url.Values{"on": {"1"}}, map[string]string{"Sec-Fetch-Site": "cross-site"}, 403, "", ""},
		{"other origin", url.Values{"on": {"1"}}, map[string]string{"Origin": "https://evil.example"}, 403, "", ""},
		{"same site, other origin", url.Values{"on": {"1"}}, map[string]string{"Origin": "http://other.wallet.example", "Sec-Fetch-Site": "same-site"}, 403, "", ""},
		{"typed or bookmarked", url.Values{"on": {"1"}, "back": {"/a"}}, map[string]string{"Sec-Fetch-Site": "none"}, 303, "/a", "1"},
		{"old browser, Origin null", url.Values{"on": {"1"}, "back": {"/a"}}, map[string]string{"Origin": "null"}, 303, "/a", "1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := post(h, c.form, c.header)
			if w.Code != c.status {
				t.Fatalf("status %d, want %d (%s)", w.Code, c.status, w.Body)
			}
			if got := w.Header().Get("Location"); got != c.location {
				t.Errorf("Location %q, want %q", got, c.location)
			}
			var cookie string
			for _, ck := range w.Result().Cookies() {
				if ck.Name == citizenui.CookieName {
					cookie = ck.Value
					if ck.MaxAge < 0 {
						cookie = "-"
					}
					if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode {
						t.Errorf("cookie attributes: %+v", ck)
					}
				}
			}
			if cookie != c.cookie {
				t.Errorf("cookie %q, want %q", cookie, c.cookie)
			}
		})
	}
	if len(saved) != 9 || saved[1] {
		t.Errorf("OnChange saw %v", saved)
	}
}

func TestHandlerSaveFails(t *testing.T) {
	h := citizenui.Handler{OnChange: func(*http.Request, bool) error { return errors.New("disk full") }}
	w := post(h, url.Values{"on": {"1"}}, nil)
	if w.Code != 500 || len(w.Result().Cookies()) != 0 {
		t.Fatalf("status %d cookies %v", w.Code, w.Result().Cookies())
	}
}

func TestElderAndTemplates(t *testing.T) {
	r := httptest.NewRequest("GET", "/show?x=1", nil)
	if citizenui.Elder(r) {
		t.Fatal("elder without cookie")
	}
	r.AddCookie(&http.Cookie{Name: citizenui.CookieName, Value: "1"})
	if !citizenui.Elder(r) {
		t.Fatal("no elder with cookie")
	}
	tm := template.Must(template.New("x").Parse(citizenui.Templates))
	var b strings.Builder
	if err := tm.ExecuteTemplate(&b, "elder-switch", citizenui.NewSwitch(r, "zh-CN")); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`value="0"`, `value="/show?x=1"`, `aria-pressed="true"`, "长辈模式", "已开启"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("switch lacks %q: %s", want, b.String())
		}
	}
	b.Reset()
	if err := tm.ExecuteTemplate(&b, "speak-button", citizenui.NewSpeak("en")); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `data-speak-lang="en-US"`) || !strings.Contains(b.String(), "Read aloud") {
		t.Errorf("speak button: %s", b.String())
	}
	if citizenui.Asset("citizen.css") == nil || citizenui.Asset("citizen.js") == nil || citizenui.Asset("x.js") != nil {
		t.Error("Asset")
	}
}

func TestBreakable(t *testing.T) {
	for in, want := range map[string]string{
		"110101********002X": "110101<wbr>********<wbr>002X",
		"****4261":           "****<wbr>4261",
		"京A***26":            "京A<wbr>***<wbr>26",
		"林*彤":                "林<wbr>*<wbr>彤",
		"<b>&":               "&lt;b&gt;&amp;",
		"":                   "",
	} {
		if got := string(citizenui.Breakable(in)); got != want {
			t.Errorf("Breakable(%q) = %q, want %q", in, got, want)
		}
	}
}
