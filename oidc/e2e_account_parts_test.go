package oidc_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"testing"

	"github.com/tongban/tongban/accounts"
	"github.com/tongban/tongban/storage"
)

// testAccountPartsTogether: the parts of the account page meet — the data download lists the
// person's OTP devices and how many recovery codes are left (never a secret or a code), and
// closing the account deletes the devices and the recovery codes.
func testAccountPartsTogether(t *testing.T, e *env) {
	ctx := context.Background()
	person, num := e.person("周九", "")
	b := e.browser()
	b.login(b.get(e.issuer+"/account"), num, testPassword)
	secret, _, codes := enrolOTP(t, e, b, "我的验证器")

	// The browser's session was made with the password alone (before the device existed):
	// changing the password now wants the second factor first, and a crafted ?done= shows no
	// claim of what did not happen.
	p := b.get(e.issuer + "/account?done=selfPwChanged&ui_locales=zh-CN")
	if !strings.Contains(p.body, "密码已修改") {
		t.Fatalf("the account page's own notice is not shown: %.300s", p.body)
	}
	if p = b.get(e.issuer + "/account?done=scanAgo"); strings.Contains(p.body, `class="notice"`) {
		t.Error("a message key that is not an account notice is shown")
	}
	csrf := match(t, reCSRF, p.body)
	p = b.post(e.issuer+"/account/password?ui_locales=zh-CN", url.Values{"csrf": {csrf}, "old": {testPassword},
		"new": {"Zt8#qWm4!vRn2"}, "new2": {"Zt8#qWm4!vRn2"}})
	if !p.isLoginForm() || !strings.Contains(p.body, `name="otp"`) {
		t.Fatalf("password change from a password-only session of a person with a second factor: %d %s, want the login page asking for the code", p.status, p.url)
	}
	if pp, _ := e.store.GetPerson(ctx, person.ID); pp.PasswordHash == "" {
		t.Fatal("person lost")
	} else if _, err := e.accounts.AuthenticatePassword(ctx, accounts.PasswordLogin{Identifier: num, Password: []byte(testPassword), ClientIP: "192.0.2.1"}); err != nil {
		t.Fatalf("the password changed without the second factor: %v", err)
	}

	p = b.get(e.issuer + "/account/data")
	if p.status != http.StatusOK {
		t.Fatalf("download: %d", p.status)
	}
	var doc struct {
		More struct {
			OTP struct {
				Devices []struct {
					Name, Algorithm string
				} `json:"devices"`
				Left int `json:"recovery_codes_left"`
			} `json:"otp"`
			Passkeys []any `json:"passkeys"`
		} `json:"more"`
	}
	if err := json.Unmarshal([]byte(p.body), &doc); err != nil {
		t.Fatal(err)
	}
	if d := doc.More.OTP.Devices; len(d) != 1 || d[0].Name != "我的验证器" || d[0].Algorithm != "totp" || doc.More.OTP.Left != len(codes) {
		t.Errorf("download's otp section: %+v", doc.More.OTP)
	}
	if doc.More.Passkeys == nil {
		t.Error("download has no passkeys section")
	}
	for _, c := range append(codes, secret) {
		if c = strings.ReplaceAll(c, " ", ""); c != "" && strings.Contains(p.body, c) {
			t.Fatalf("the download carries a secret or recovery code")
		}
	}

	pk := storage.Passkey{CredentialID: []byte("credential-of-zhou-jiu"), PersonID: person.ID, PublicKey: []byte{0xa0},
		Name: "我的手机", CreatedAt: e.clock.Now().UTC().Truncate(time.Microsecond)}
	if err := e.store.CreatePasskey(ctx, pk); err != nil {
		t.Fatal(err)
	}
	if err := e.accounts.CloseAccount(ctx, person.ID); err != nil {
		t.Fatal(err)
	}
	if devs, err := e.store.ListOTPDevices(ctx, person.ID); err != nil || len(devs) != 0 {
		t.Errorf("OTP devices after closing: %v %v", devs, err)
	}
	if pks, err := e.store.ListPasskeys(ctx, person.ID); err != nil || len(pks) != 0 {
		t.Errorf("passkeys after closing: %d %v", len(pks), err)
	}
	if n, err := e.store.CountRecoveryCodes(ctx, person.ID); err != nil || n != 0 {
		t.Errorf("recovery codes after closing: %d %v", n, err)
	}
}
