package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/tongban/tongban/credentials"
	"github.com/tongban/tongban/wallet/wallettest"
)

// TestCitizenPagesHTTP checks over HTTP what the citizen pages promise besides their looks:
// the wallet's own 404 page (zh and en, with a way home) and the API's JSON 404; 405 for other
// methods still; the logout confirmation with a cancel back to a local page only; 长辈模式
// switched by POST /prefs/elder and applied to every page; a 多码合一 refusal answered on the
// form with the selection kept; the code page's states and disclosure in the page.
func TestCitizenPagesHTTP(t *testing.T) {
	w := newWorld(t)
	b := wallettest.NewBrowser(t)

	// 404: a page, not "404 page not found".
	for _, tc := range []struct{ path, want string }{
		{"/no-such-page", "页面不存在"}, {"/no-such-page?lang=en", "Page not found"},
	} {
		p := b.Get(w.wal.URL + tc.path)
		if p.Status != http.StatusNotFound || !strings.Contains(p.Body, tc.want) || !strings.Contains(p.Body, `href="/"`) ||
			!strings.Contains(p.Header.Get("Content-Type"), "text/html") {
			t.Errorf("GET %s: %d %s\n%s", tc.path, p.Status, p.Header.Get("Content-Type"), p.Body)
		}
	}
	if r := api(t, "GET", w.wal.URL+"/api/v1/nope", "", "", ""); r.status != http.StatusNotFound || !strings.Contains(r.raw, `"not_found"`) {
		t.Errorf("GET /api/v1/nope: %d %s", r.status, r.raw)
	}
	if r := api(t, "POST", w.wal.URL+"/show", "", "", ""); r.status != http.StatusMethodNotAllowed {
		t.Errorf("POST /show: %d", r.status)
	}
	// No session: the logout page goes home.
	if p := b.Get(w.wal.URL + "/logout"); p.URL.Path != "/" || strings.Contains(p.Body, `name="csrf"`) {
		t.Errorf("logout page without a session: %s", p.URL)
	}

	home := b.LoginWallet(w.wal.URL, citizen, password)
	if !strings.Contains(home.Body, `href="/logout?back=%2F"`) || strings.Contains(home.Body, `name="csrf"`) {
		t.Errorf("home: the header should link to the logout confirmation, not log out at once:\n%s", home.Body)
	}
	for _, tc := range []struct{ back, cancel string }{
		{"/bundle", `href="/bundle"`}, {"//evil.example/x", `href="/"`}, {"https://evil.example/", `href="/"`},
	} {
		p := b.Get(w.wal.URL + "/logout?" + url.Values{"back": {tc.back}}.Encode())
		if _, _, ok := p.Form("csrf"); !ok || !strings.Contains(p.Body, "确定要退出") || !strings.Contains(p.Body, tc.cancel) {
			t.Errorf("logout page with back=%s: %d\n%s", tc.back, p.Status, p.Body)
		}
	}

	// 长辈模式: off by default, on for every page after the switch, off again.
	elder := regexp.MustCompile(`<html lang="zh-CN" class="elder">`)
	if elder.MatchString(home.Body) {
		t.Error("elder mode on before the switch")
	}
	p := b.PostForm(w.wal.URL+"/prefs/elder", url.Values{"on": {"1"}, "back": {"/bundle"}})
	if p.URL.Path != "/bundle" || !elder.MatchString(p.Body) || !strings.Contains(p.Body, `aria-pressed="true"`) {
		t.Errorf("after switching elder mode on: %s\n%s", p.URL, p.Body)
	}
	for _, path := range []string{"/", "/records", "/no-such-page", "/logout"} {
		if p := b.Get(w.wal.URL + path); !elder.MatchString(p.Body) {
			t.Errorf("%s without elder mode", path)
		}
	}
	b.PostForm(w.wal.URL+"/prefs/elder", url.Values{"on": {"0"}, "back": {"/"}})
	if p := b.Get(w.wal.URL + "/"); elder.MatchString(p.Body) {
		t.Error("elder mode still on after switching it off")
	}

	recs, err := w.svc.Licences(t.Context(), citizen)
	must(t, err)
	idOf := map[credentials.Kind]string{}
	for _, r := range recs {
		idOf[r.Licence.Kind] = r.ID
	}
	checked := func(body, id string) bool {
		return strings.Contains(body, `value="`+id+`" checked`)
	}
	// 多码合一 refusals come back to the form, the selection kept.
	for _, tc := range []struct {
		name    string
		q       url.Values
		status  int
		want    string
		checked []string
	}{
		{"fail/none", url.Values{"from": {"bundle"}, "profile": {"bundle"}}, 422, "您还没有勾选证照", nil},
		{"fail/one", url.Values{"from": {"bundle"}, "profile": {"bundle"}, "l": {idOf[credentials.HealthCode]}}, 422,
			"您只勾选了 1 个证照", []string{idOf[credentials.HealthCode]}},
		{"fail/masked-of-two", url.Values{"from": {"bundle"}, "profile": {"masked"}, "l": {idOf[credentials.HealthCode], idOf[credentials.TransitCode]}},
			422, "只能出示 1 个证照", []string{idOf[credentials.HealthCode], idOf[credentials.TransitCode]}},
		{"fail/mixed-holders", url.Values{"from": {"bundle"}, "profile": {"bundle"}, "l": {idOf[credentials.ResidentID], idOf[credentials.BusinessLicence]}},
			422, "同一持证人", []string{idOf[credentials.ResidentID], idOf[credentials.BusinessLicence]}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := b.Get(w.wal.URL + "/show?" + tc.q.Encode())
			if p.Status != tc.status || !strings.Contains(p.Body, tc.want) || !strings.Contains(p.Body, `id="bundle-form"`) {
				t.Fatalf("%d\n%s", p.Status, p.Body)
			}
			for _, id := range tc.checked {
				if !checked(p.Body, id) {
					t.Errorf("licence %s no longer ticked", id)
				}
			}
			if n := strings.Count(p.Body, `" checked>`) - 1; n != len(tc.checked) { // one profile radio is checked too
				t.Errorf("%d boxes ticked, want %d", n, len(tc.checked))
			}
			if want := `value="` + tc.q.Get("profile") + `" checked`; !strings.Contains(p.Body, want) {
				t.Errorf("the profile choice was not kept (%s)", want)
			}
		})
	}

	// The code page: the health code's colour in words, the states' texts and the way back in.
	p = b.Get(w.wal.URL + "/show?l=" + idOf[credentials.HealthCode])
	for _, want := range []string{"hc-green", "绿码", `id="code-dead"`, "/login?next=%2Fshow%3Fl%3D", `id="clock"`, "live-dot", "data-speak"} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("code page lacks %q", want)
		}
	}
	p = b.Get(w.wal.URL + "/show?lang=en&profile=full&l=" + idOf[credentials.ResidentID])
	for _, want := range []string{"your full ID number", "Date of birth", "in full in the code"} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("full code page lacks %q", want)
		}
	}
	for _, bad := range []string{"birth_date", citizen, citizenName} {
		if strings.Contains(p.Body, ">"+bad) || strings.Contains(p.Body, bad+"<") {
			t.Errorf("full code page shows %q", bad)
		}
	}
	w.checkLogs(t)
}
