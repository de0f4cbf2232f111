package oidc

import (
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"unicode"
)

// TestMessagesBothLanguages: every page text exists in Chinese and in English (a label missing
// in one language would show its raw key), and is empty in both or in neither.
func TestMessagesBothLanguages(t *testing.T) {
	for _, pair := range [][2]string{{langZH, langEN}, {langEN, langZH}} {
		var missing []string
		for k, v := range messages[pair[0]] {
			if _, ok := messages[pair[1]][k]; !ok {
				missing = append(missing, k)
			}
			if strings.TrimSpace(v) == "" && strings.TrimSpace(messages[pair[1]][k]) != "" {
				t.Errorf("%s text %q is empty, its %s text is not", pair[0], k, pair[1])
			}
		}
		sort.Strings(missing)
		if len(missing) > 0 {
			t.Errorf("texts in %s without %s: %v", pair[0], pair[1], missing)
		}
	}
}

// TestChinesePunctuation: Chinese texts use full-width punctuation (，：；？！（）) next to
// Chinese characters, never the ASCII forms — in the message table and in the rendered pages.
func TestChinesePunctuation(t *testing.T) {
	for k, v := range messages[langZH] {
		if bad := asciiPunctNextToHan(v); bad != "" {
			t.Errorf("zh text %s: ASCII punctuation in %q", k, bad)
		}
	}
	if bad := asciiPunctNextToHan("请输入身份证号码,然后登录"); bad == "" {
		t.Error("the check misses an ASCII comma between Chinese characters")
	}
	if bad := asciiPunctNextToHan("应用（client_id，以空格分隔）：Apps (client_id): x"); bad != "" {
		t.Errorf("the check flags %q", bad)
	}
}

// asciiPunctNextToHan returns the first ASCII , : ; ? ! ( ) that touches a Han character or
// full-width punctuation in s (with its neighbours), or "".
func asciiPunctNextToHan(s string) string {
	rs := []rune(s)
	cjk := func(i int) bool {
		return i >= 0 && i < len(rs) && (unicode.Is(unicode.Han, rs[i]) || rs[i] >= 0x3000 && rs[i] <= 0x303f || rs[i] >= 0xff00 && rs[i] <= 0xffef)
	}
	for i, r := range rs {
		if strings.ContainsRune(",:;?!()", r) && (cjk(i-1) || cjk(i+1)) {
			return string(rs[max(i-3, 0):min(i+4, len(rs))])
		}
	}
	return ""
}

// TestKeptIdentifier: the login form shown again keeps what was typed, trimmed, but not text
// that is too long or carries control or invisible characters.
func TestKeptIdentifier(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"110101199003070011", "110101199003070011"},
		{" 11010119900307001x ", "11010119900307001x"}, // a wrong check character stays, to be corrected
		{"13800138000", "13800138000"},
		{"張三", "張三"},
		{strings.Repeat("1", 64), strings.Repeat("1", 64)},
		{strings.Repeat("1", 65), ""},
		{"1101\x00", ""},
		{"1101\u200b0119", ""},
		{"\xff\xfe", ""},
	} {
		if got := keptIdentifier(tc.in); got != tc.want {
			t.Errorf("keptIdentifier(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestElderBack: the switch returns to the page it was pressed on — a GET page's own URL, a
// page shown after a POST its GET form — and never off the server.
func TestElderBack(t *testing.T) {
	s := &Server{path: "/idp"}
	for _, tc := range []struct {
		method, target string
		path           string
		query          map[string][]string
		want           string
	}{
		{"GET", "/idp/account?ui_locales=en", pathAccount, nil, "/idp/account?ui_locales=en"},
		{"GET", "//evil.example/x", pathAccount, nil, "/"},
		{"POST", "/idp/login", pathLogin, map[string][]string{"authz": {"abc"}}, "/idp/login?authz=abc&ui_locales=en"},
		{"POST", "/idp/account/close", pathSelfClose, nil, "/idp/account?ui_locales=en"},
	} {
		r := httptest.NewRequest(tc.method, "https://idp.example"+tc.target, nil)
		if tc.target == "//evil.example/x" {
			r.URL.Path, r.URL.RawQuery = "//evil.example/x", ""
		}
		if got := s.elderBack(r, langEN, tc.path, tc.query); got != tc.want {
			t.Errorf("%s %s: back %q, want %q", tc.method, tc.target, got, tc.want)
		}
	}
}
