package main

import (
	"net/url"
	"testing"
)

const loginPage = `<!doctype html><html><body>
<form method="post" action="/login" autocomplete="on">
<input type="hidden" name="authz" value="a&amp;b">
<input type="hidden" name="csrf" value="c1">
<input id="identifier" name="identifier" type="text" value="" required maxlength="64">
<input id="password" name="password" type="password" required>
<input id="otp" name="otp" type="text" inputmode="numeric">
<button type="submit">登录</button>
</form></body></html>`

const consentPage = `<form method="post" action="consent">
<input type="hidden" name="authz" value="z">
<button type="submit" name="decision" value="allow">同意</button>
<button type="submit" name="decision" value="deny" class="secondary">拒绝</button>
</form>`

func TestParseForm(t *testing.T) {
	base, _ := url.Parse("http://127.0.0.1:8080/login?authz=z")
	f, err := parseForm(loginPage, base)
	if err != nil {
		t.Fatal(err)
	}
	if f.action.String() != "http://127.0.0.1:8080/login" || f.username != "identifier" || f.password != "password" {
		t.Errorf("form %+v", f)
	}
	v := f.values()
	if v.Get("authz") != "a&b" || v.Get("csrf") != "c1" || v.Has("") {
		t.Errorf("values %v", v)
	}

	f, err = parseForm(consentPage, base)
	if err != nil {
		t.Fatal(err)
	}
	v = f.values()
	if !f.chooseSubmit(v, "allow") || v.Get("decision") != "allow" || f.action.Path != "/consent" {
		t.Errorf("consent values %v action %s", v, f.action)
	}
	if _, err := parseForm("<p>no form</p>", base); err == nil {
		t.Error("no error for a page without a form")
	}
}

func TestCheckOptionsLoopbackOnly(t *testing.T) {
	o := options{scenario: "healthz", conns: 16, duration: 15e9}
	for target, ok := range map[string]bool{
		"http://127.0.0.1:8080": true, "http://localhost:1": true, "http://[::1]:8080": true,
		"http://10.0.0.1:8080": false, "http://example.gov.cn": false, "http://192.168.1.2:80": false,
	} {
		o.target = target
		if err := checkOptions(o); (err == nil) != ok {
			t.Errorf("checkOptions(%s) = %v", target, err)
		}
	}
	o.target, o.duration = "http://127.0.0.1:8080", 0
	if checkOptions(o) == nil {
		t.Error("unbounded duration accepted")
	}
}
