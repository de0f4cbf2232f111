package main

import (
	"context"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/tongban/tongban/storage"
	"github.com/tongban/tongban/storage/sqlite"
)

// TestPeopleOTP: an operator finds a person by their ID number or mobile number (or person
// ID), lists their OTP devices with the names, algorithms and times that tell the lost one
// apart, and removes it; the removal is audited as the operator, and the last device takes
// the recovery codes with it. Only the masked ID number is ever printed.
func TestPeopleOTP(t *testing.T) {
	dir := t.TempDir()
	initVar(t, dir)
	r := idp(t, dir, testPassword+"\n", nil, "people", "add", "--id-number", testIDNumber, "--name", "张三",
		"--phone", "13800138000", "--json")
	mustOK(t, r, "people add")
	person := decode[personJSON](t, r)

	r = idp(t, dir, "", nil, "people", "otp", "list", "--person", person.ID, "--json")
	mustOK(t, r, "otp list")
	if l := decode[otpListJSON](t, r); len(l.Devices) != 0 || l.RecoveryCodesLeft != 0 || l.Person != person.ID {
		t.Errorf("before enrolment: %s", r.Stdout)
	}
	// The person enrols a device (as the account page does), on the same database.
	device := enrolForTest(t, dir, person.ID)

	// By ID number, as typed at a counter (lower-case x, spaces).
	r = idp(t, dir, "", nil, "people", "otp", "list", "--person", "110105 19491231 002x", "--json")
	mustOK(t, r, "otp list by ID number")
	l := decode[otpListJSON](t, r)
	if len(l.Devices) != 1 || l.Devices[0].ID != device || l.Devices[0].Name != "phone-of-zhang" ||
		l.Devices[0].Algorithm != "totp" || l.Devices[0].CreatedAt == nil || l.RecoveryCodesLeft != 10 ||
		l.Person != person.ID || l.IDNumberMasked != person.IDNumberMasked {
		t.Fatalf("after enrolment: %s", r.Stdout)
	}
	if strings.Contains(r.Stdout, testIDNumber) {
		t.Errorf("the JSON shows the full ID number: %s", r.Stdout)
	}

	// By mobile number, as a table: the columns, the times in Beijing time.
	r = idp(t, dir, "", nil, "people", "otp", "list", "--person", "+86 138-0013-8000")
	mustOK(t, r, "otp list by phone (table)")
	cst := time.FixedZone("CST", 8*60*60)
	used := "never"
	if l.Devices[0].LastUsed != nil {
		used = l.Devices[0].LastUsed.In(cst).Format("2006-01-02 15:04")
	}
	lines := strings.Split(strings.TrimSpace(r.Stdout), "\n")
	if len(lines) != 4 || lines[0] != "person "+person.ID+" ("+person.IDNumberMasked+")" ||
		!strings.HasPrefix(lines[1], "DEVICE ") ||
		lines[3] != "recovery codes left: 10" {
		t.Fatalf("table: %s", r.Stdout)
	}
	for _, want := range []string{"ALGORITHM", "CREATED (BEIJING TIME)", "LAST USED (BEIJING TIME)", "NAME"} {
		if !strings.Contains(lines[1], want) {
			t.Errorf("table header lacks %q: %s", want, lines[1])
		}
	}
	row := strings.Fields(lines[2])
	wantRow := append(append([]string{device, "totp"}, strings.Fields(l.Devices[0].CreatedAt.In(cst).Format("2006-01-02 15:04"))...),
		append(strings.Fields(used), "phone-of-zhang")...)
	if !reflect.DeepEqual(row, wantRow) {
		t.Errorf("table row %q, want %q", row, wantRow)
	}
	if strings.Contains(r.Stdout, testIDNumber) || strings.Contains(r.Stdout, "13800138000") {
		t.Errorf("the table shows a full number: %s", r.Stdout)
	}

	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"fail/unknown-person-id", []string{"people", "otp", "list", "--person", "nobody"}, `no person with person ID "nobody", and it is not a valid ID number or mobile number`},
		{"fail/unknown-id-number", []string{"people", "otp", "list", "--person", "110102198805120131"}, "no person with ID number 110102********0131"},
		{"fail/unknown-phone", []string{"people", "otp", "remove", "--person", "13900139000", "--device", device}, "no person with mobile number 139****9000"},
		{"fail/unknown-device", []string{"people", "otp", "remove", "--person", testIDNumber, "--device", "nope"}, `has no device "nope"`},
		{"fail/missing-device-flag", []string{"people", "otp", "remove", "--person", person.ID}, "device"},
		{"fail/missing-person-flag", []string{"people", "otp", "list"}, "person"},
	} {
		r := idp(t, dir, "", nil, tc.args...)
		if r.Code != 2 || !strings.Contains(r.Stderr, tc.want) {
			t.Errorf("%s: exit %d, stderr %s", tc.name, r.Code, r.Stderr)
		}
		for _, full := range []string{testIDNumber, "110102198805120131", "13900139000"} {
			if strings.Contains(r.Stderr, full) {
				t.Errorf("%s: stderr shows %s: %s", tc.name, full, r.Stderr)
			}
		}
	}
	r = idp(t, dir, "", nil, "people", "otp", "remove", "--person", testIDNumber, "--device", device)
	mustOK(t, r, "otp remove")
	if want := "removed device " + device + " of person " + person.ID + " (" + person.IDNumberMasked + ")\n"; r.Stdout != want {
		t.Errorf("otp remove printed %q, want %q", r.Stdout, want)
	}
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
	svc, _ := openForTest(t, dir)
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
