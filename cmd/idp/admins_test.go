package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tongban/tongban/storage"
	"github.com/tongban/tongban/storage/sqlite"
)

// TestAdmins: roles of the admin console are granted, listed and revoked on the shell, the
// person named by ID number, phone or person ID; bad roles and departments are usage errors
// that change nothing; every change is audited as the operator; only masked numbers print.
func TestAdmins(t *testing.T) {
	dir := t.TempDir()
	initVar(t, dir)
	r := idp(t, dir, testPassword+"\n", nil, "people", "add", "--id-number", testIDNumber, "--name", "张三",
		"--phone", "13800138000", "--json")
	mustOK(t, r, "people add")
	person := decode[personJSON](t, r)

	r = idp(t, dir, "", nil, "admins", "grant", "--person", "110105 19491231 002x", "--role", "operator")
	mustOK(t, r, "grant operator by ID number")
	if want := "granted role operator to person " + person.ID + " (" + person.IDNumberMasked + ")\n"; r.Stdout != want {
		t.Errorf("grant output %q, want %q", r.Stdout, want)
	}
	r = idp(t, dir, "", nil, "admins", "grant", "--person", "+86 138-0013-8000", "--role", "department-admin", "--department", "gongan")
	mustOK(t, r, "grant department-admin by phone")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"again", []string{"--person", person.ID, "--role", "operator"}, "holds role operator already"},
		{"unknown role", []string{"--person", person.ID, "--role", "root"}, "unknown role"},
		{"no department", []string{"--person", person.ID, "--role", "department-admin"}, "needs a department code"},
		{"bad department", []string{"--person", person.ID, "--role", "department-admin", "--department", "Gong An"}, "needs a department code"},
		{"department of operator", []string{"--person", person.ID, "--role", "reviewer", "--department", "gongan"}, "takes no department"},
		{"unknown person", []string{"--person", "13900139000", "--role", "operator"}, "no person with mobile number 139****9000"},
	} {
		r := idp(t, dir, "", nil, append([]string{"admins", "grant"}, tc.args...)...)
		if r.Code != 2 || !strings.Contains(r.Stderr, tc.want) {
			t.Errorf("%s: exit %d, stderr %q, want 2 and %q", tc.name, r.Code, r.Stderr, tc.want)
		}
	}

	r = idp(t, dir, "", nil, "admins", "list", "--json")
	mustOK(t, r, "list")
	list := decode[[]adminJSON](t, r)
	if len(list) != 2 || list[0].Role != "department-admin" || list[0].Department != "gongan" || list[1].Role != "operator" ||
		list[0].Person != person.ID || list[0].IDNumberMasked != person.IDNumberMasked || list[1].GrantedBy != "operator" || list[1].GrantedAt.IsZero() {
		t.Fatalf("list: %s", r.Stdout)
	}
	r = idp(t, dir, "", nil, "admins", "list")
	mustOK(t, r, "list (table)")
	if lines := strings.Split(strings.TrimSpace(r.Stdout), "\n"); len(lines) != 3 || !strings.HasPrefix(lines[0], "PERSON ") ||
		!strings.Contains(lines[1], "gongan") || strings.Contains(r.Stdout, testIDNumber) {
		t.Errorf("table: %s", r.Stdout)
	}

	r = idp(t, dir, "", nil, "admins", "revoke", "--person", person.ID, "--role", "department-admin", "--department", "gongan")
	mustOK(t, r, "revoke")
	r = idp(t, dir, "", nil, "admins", "revoke", "--person", person.ID, "--role", "department-admin", "--department", "gongan")
	if r.Code != 2 || !strings.Contains(r.Stderr, "does not hold role department-admin for department gongan") {
		t.Errorf("revoke again: exit %d %q", r.Code, r.Stderr)
	}

	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(dir, "var", "tongban.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	roles, err := store.ListRoles(ctx, person.ID)
	if err != nil || len(roles) != 1 || roles[0].Role != storage.RoleOperator {
		t.Errorf("roles left: %+v %v", roles, err)
	}
	es, err := store.QueryAudit(ctx, storage.AuditQuery{Action: "admin.role.", Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range es {
		if e.Actor != "operator" || e.Subject != person.ID {
			t.Errorf("audit entry %+v", e)
		}
		got = append(got, e.Action+" "+e.Detail)
	}
	want := []string{"admin.role.grant grant=operator", "admin.role.grant grant=department-admin@gongan", "admin.role.revoke grant=department-admin@gongan"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("audit %q, want %q", got, want)
	}
}
