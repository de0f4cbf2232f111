package main

import (
	"context"
	"strings"
	"testing"

	"github.com/tongban/tongban/accounts"
	smcrypto "github.com/tongban/tongban/sm-crypto"
	"github.com/tongban/tongban/storage"
)

// openForTest opens dir's database with its KEK and an accounts.Service on it (as the account
// page would), closed at the end of the test.
func openForTest(t *testing.T, dir string) (*accounts.Service, storage.Storage) {
	t.Helper()
	store, kr := openStore(t, dir)
	t.Cleanup(func() { store.Close() })
	svc, err := accounts.New(accounts.Config{Store: store, Keyring: kr, PasswordParams: smcrypto.PasswordParams{Iterations: 1000, SaltLen: 16, KeyLen: 32}})
	if err != nil {
		t.Fatal(err)
	}
	return svc, store
}

// TestPeopleAdmin: an operator finds a person as typed at a counter, disables and enables them,
// lifts a lockout, ends their sessions and makes a reset link; every action is audited as the
// operator and only masked numbers are printed.
func TestPeopleAdmin(t *testing.T) {
	dir := t.TempDir()
	initVar(t, dir)
	r := idp(t, dir, testPassword+"\n", nil, "people", "add", "--id-number", testIDNumber, "--name", "张三",
		"--phone", "13800138000", "--json")
	mustOK(t, r, "people add")
	person := decode[personJSON](t, r)

	r = idp(t, dir, "", nil, "people", "find", "＋８６ １３８-００１３-８０００", "--json")
	mustOK(t, r, "find by full-width phone")
	if f := decode[personFindJSON](t, r); f.ID != person.ID || f.NameMasked != "*三" || f.PhoneMasked != "138****8000" || f.Disabled {
		t.Errorf("find: %s", r.Stdout)
	}
	r = idp(t, dir, "", nil, "people", "find", strings.ToLower(testIDNumber))
	mustOK(t, r, "find by ID number")
	if want := "person " + person.ID + " (" + person.IDNumberMasked + ")\nkind natural\nname *三\nphone 138****8000\nstate enabled\n"; r.Stdout != want {
		t.Errorf("find printed %q, want %q", r.Stdout, want)
	}

	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"fail/find unknown phone", []string{"people", "find", "13900139000"}, "no person with mobile number 139****9000"},
		{"fail/disable without reason", []string{"people", "disable", "--person", person.ID}, "reason"},
		{"fail/disable blank reason", []string{"people", "disable", "--person", person.ID, "--reason", " "}, "reason is required"},
		{"fail/reset-link ttl too short", []string{"people", "reset-link", "--person", person.ID, "--ttl", "1m"}, "invalid link lifetime"},
		{"fail/unknown correction", []string{"corrections", "apply", "nope"}, "no such correction"},
		{"fail/reject without reason", []string{"corrections", "reject", "nope"}, "reason"},
		{"fail/bad status", []string{"corrections", "list", "--status", "done"}, "--status"},
	} {
		r := idp(t, dir, "", nil, tc.args...)
		if r.Code != 2 || !strings.Contains(r.Stderr, tc.want) {
			t.Errorf("%s: exit %d, stderr %s", tc.name, r.Code, r.Stderr)
		}
		if strings.Contains(r.Stderr, "13900139000") {
			t.Errorf("%s: stderr shows the number: %s", tc.name, r.Stderr)
		}
	}

	r = idp(t, dir, "", nil, "people", "disable", "--person", "13800138000", "--reason", "ticket 2026-42")
	mustOK(t, r, "disable")
	if r = idp(t, dir, "", nil, "people", "find", person.ID, "--json"); !decode[personFindJSON](t, r).Disabled {
		t.Errorf("after disable: %s", r.Stdout)
	}
	r = idp(t, dir, "", nil, "people", "reset-link", "--person", person.ID)
	if r.Code != 2 || !strings.Contains(r.Stderr, "person disabled") {
		t.Errorf("reset-link of a disabled person: exit %d, %s", r.Code, r.Stderr)
	}
	mustOK(t, idp(t, dir, "", nil, "people", "enable", "--person", person.ID), "enable")
	mustOK(t, idp(t, dir, "", nil, "people", "unlock", "--person", testIDNumber), "unlock")
	r = idp(t, dir, "", nil, "people", "end-sessions", "--person", person.ID)
	mustOK(t, r, "end-sessions")
	if !strings.HasPrefix(r.Stdout, "ended 0 sessions of person "+person.ID) {
		t.Errorf("end-sessions printed %q", r.Stdout)
	}
	r = idp(t, dir, "", []string{"TONGBAN_ISSUER=https://id.example.gov.cn"}, "people", "reset-link", "--person", person.ID, "--ttl", "2h", "--json")
	mustOK(t, r, "reset-link")
	link := decode[resetLinkJSON](t, r)
	if !strings.HasPrefix(link.Link, "https://id.example.gov.cn/account/reset?token=") || link.Person != person.ID {
		t.Errorf("reset-link: %s", r.Stdout)
	}

	svc, store := openForTest(t, dir)
	ctx := context.Background()
	if p, err := svc.PasswordResetPerson(ctx, strings.TrimPrefix(link.Link, "https://id.example.gov.cn/account/reset?token=")); err != nil || p.ID != person.ID {
		t.Errorf("the link's token: %v", err)
	}
	for _, action := range []string{"person.disable", "person.enable", "person.unlock", "person.sessions.end", "person.reset_link"} {
		ev, err := store.QueryAudit(ctx, storage.AuditQuery{Action: action, Limit: 10})
		if err != nil || len(ev) != 1 || ev[0].Actor != "operator" || ev[0].Subject != person.ID || strings.Contains(ev[0].Detail, "token=") {
			t.Errorf("audit %s: %+v %v", action, ev, err)
		}
	}
}

// TestCorrectionsCLI: a person files corrections (as the account page does); the operator lists
// the pending ones, applies one — the record changes — and rejects another with a reason.
func TestCorrectionsCLI(t *testing.T) {
	dir := t.TempDir()
	initVar(t, dir)
	r := idp(t, dir, testPassword+"\n", nil, "people", "add", "--id-number", testIDNumber, "--name", "张三",
		"--phone", "13800138000", "--json")
	mustOK(t, r, "people add")
	person := decode[personJSON](t, r)
	svc, store := openForTest(t, dir)
	ctx := context.Background()
	name, err := svc.FileCorrection(ctx, person.ID, accounts.CorrectionRequest{Target: "person", Field: "name", Value: "张叁", Reason: "户口簿为叁"})
	if err != nil {
		t.Fatal(err)
	}
	phone, err := svc.FileCorrection(ctx, person.ID, accounts.CorrectionRequest{Target: "person", Field: "phone", Value: "13900139000", Reason: "换号"})
	if err != nil {
		t.Fatal(err)
	}

	r = idp(t, dir, "", nil, "corrections", "list", "--status", "pending", "--json")
	mustOK(t, r, "list")
	list := decode[[]correctionJSON](t, r)
	if len(list) != 2 || list[0].ID != phone.ID || list[1].ID != name.ID || list[1].Proposed != "张叁" || list[1].CurrentMasked != "*三" ||
		list[0].Person != person.ID || list[0].Status != "pending" {
		t.Fatalf("list: %s", r.Stdout)
	}
	r = idp(t, dir, "", nil, "corrections", "list", "--person", "13800138000")
	mustOK(t, r, "list table")
	if lines := strings.Split(strings.TrimSpace(r.Stdout), "\n"); len(lines) != 3 || !strings.HasPrefix(lines[0], "ID ") || !strings.Contains(lines[2], "张叁") {
		t.Errorf("table: %s", r.Stdout)
	}

	r = idp(t, dir, "", nil, "corrections", "apply", name.ID, "--note", "已核户口簿")
	mustOK(t, r, "apply")
	if p, err := store.GetPerson(ctx, person.ID); err != nil || p.Name != "张叁" {
		t.Errorf("name after apply: %q, %v", p.Name, err)
	}
	r = idp(t, dir, "", nil, "corrections", "apply", name.ID)
	if r.Code != 2 || !strings.Contains(r.Stderr, "decided already") {
		t.Errorf("apply twice: exit %d, %s", r.Code, r.Stderr)
	}
	mustOK(t, idp(t, dir, "", nil, "corrections", "reject", phone.ID, "--reason", "请携带新号码的实名登记证明"), "reject")
	got, err := svc.GetCorrection(ctx, phone.ID)
	if err != nil || got.Status != storage.CorrectionRejected || got.DecisionNote != "请携带新号码的实名登记证明" || got.DecidedBy != "operator" {
		t.Errorf("rejected: %+v %v", got, err)
	}
	r = idp(t, dir, "", nil, "corrections", "list", "--status", "pending", "--json")
	if l := decode[[]correctionJSON](t, r); len(l) != 0 {
		t.Errorf("pending after decisions: %s", r.Stdout)
	}
	for _, action := range []string{"correction.file", "correction.apply", "correction.reject"} {
		ev, err := store.QueryAudit(ctx, storage.AuditQuery{Action: action, Limit: 10})
		if err != nil || len(ev) == 0 || ev[len(ev)-1].Subject != person.ID || strings.Contains(ev[len(ev)-1].Detail, "139") {
			t.Errorf("audit %s: %+v %v", action, ev, err)
		}
	}
}
