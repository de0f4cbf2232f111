package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/tongban/tongban/accounts"
	"github.com/tongban/tongban/keyring"
	"github.com/tongban/tongban/sm-crypto"
	"github.com/tongban/tongban/storage"
	"github.com/tongban/tongban/storage/sqlite"
)

// TestPeopleOTP: an operator lists a person's OTP devices and removes the one they lost; the
// removal is audited as the operator, and the last device takes the recovery codes with it.
func TestPeopleOTP(t *testing.T) {
	dir := t.TempDir()
	initVar(t, dir)
	r := idp(t, dir, testPassword+"\n", nil, "people", "add", "--id-number", testIDNumber, "--name", "张三", "--json")
	mustOK(t, r, "people add")
	person := decode[personJSON](t, r)

	r = idp(t, dir, "", nil, "people", "otp", "list", "--person", person.ID, "--json")
	mustOK(t, r, "otp list")
	if l := decode[otpListJSON](t, r); len(l.Devices) != 0 || l.RecoveryCodesLeft != 0 {
		t.Errorf("before enrolment: %s", r.Stdout)
	}
	// The person enrols a device (as the account page does), on the same database.
	device := enrolForTest(t, dir, person.ID)

	r = idp(t, dir, "", nil, "people", "otp", "list", "--person", person.ID, "--json")
	mustOK(t, r, "otp list")
	l := decode[otpListJSON](t, r)
	if len(l.Devices) != 1 || l.Devices[0].ID != device || l.Devices[0].Algorithm != "totp" || l.RecoveryCodesLeft != 10 {
		t.Fatalf("after enrolment: %s", r.Stdout)
	}
	if strings.Contains(r.Stdout, "phone-of-zhang") {
		t.Error("the list shows the person's device name")
	}
	r = idp(t, dir, "", nil, "people", "otp", "list", "--person", person.ID)
	mustOK(t, r, "otp list (table)")
	if !strings.Contains(r.Stdout, device) || !strings.Contains(r.Stdout, "recovery codes left: 10") {
		t.Errorf("table: %s", r.Stdout)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"fail/unknown-person", []string{"people", "otp", "list", "--person", "nobody"}, `no person "nobody"`},
		{"fail/unknown-device", []string{"people", "otp", "remove", "--person", person.ID, "--device", "nope"}, `has no device "nope"`},
		{"fail/missing-device-flag", []string{"people", "otp", "remove", "--person", person.ID}, "device"},
	} {
		r := idp(t, dir, "", nil, tc.args...)
		if r.Code != 2 || !strings.Contains(r.Stderr, tc.want) {
			t.Errorf("%s: exit %d, stderr %s", tc.name, r.Code, r.Stderr)
		}
	}
	r = idp(t, dir, "", nil, "people", "otp", "remove", "--person", person.ID, "--device", device)
	mustOK(t, r, "otp remove")
	r = idp(t, dir, "", nil, "people", "otp", "list", "--person", person.ID, "--json")
	if l := decode[otpListJSON](t, r); len(l.Devices) != 0 || l.RecoveryCodesLeft != 0 {
		t.Errorf("after removal: %s", r.Stdout)
	}
	store, err := sqlite.Open(context.Background(), filepath.Join(dir, "var", "tongban.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	events, err := store.QueryAudit(context.Background(), storage.AuditQuery{Action: "otp.remove", Limit: 10})
	if err != nil || len(events) != 1 || events[0].Actor != "operator" || events[0].Subject != person.ID {
		t.Errorf("audit %+v %v", events, err)
	}
}

// enrolForTest enrols and confirms a TOTP device for personID on dir's database with its KEK,
// and returns the device ID.
func enrolForTest(t *testing.T, dir, personID string) string {
	t.Helper()
	ctx := context.Background()
	text, err := os.ReadFile(filepath.Join(dir, "var", "kek"))
	if err != nil {
		t.Fatal(err)
	}
	kek, err := smcrypto.ParseKEK(strings.TrimSpace(string(text)))
	if err != nil {
		t.Fatal(err)
	}
	store, err := sqlite.Open(ctx, filepath.Join(dir, "var", "tongban.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	kr, err := keyring.Open(ctx, store, kek)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := accounts.New(accounts.Config{Store: store, Keyring: kr, PasswordParams: smcrypto.PasswordParams{Iterations: 1000, SaltLen: 16, KeyLen: 32}})
	if err != nil {
		t.Fatal(err)
	}
	e, err := svc.BeginOTPEnrolment(ctx, personID, "phone-of-zhang", storage.OTPAlgTOTP)
	if err != nil {
		t.Fatal(err)
	}
	code, _ := totp.GenerateCode(e.Secret, time.Now())
	if _, err := svc.ConfirmOTPDevice(ctx, personID, e.DeviceID, code); err != nil {
		t.Fatal(err)
	}
	return e.DeviceID
}
