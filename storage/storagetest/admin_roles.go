package storagetest

import (
	"context"
	"testing"
	"time"

	"github.com/tongban/tongban/storage"
)

// testAdminRoles is the conformance suite of storage.AdminRoleStore.
func testAdminRoles(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	for _, id := range []string{"adm-bob", "adm-alice"} {
		must(t, "CreatePerson", s.CreatePerson(ctx, storage.Person{ID: id, Kind: storage.NaturalPerson, IDNumberIndex: index(id),
			CreatedAt: t0, UpdatedAt: t0}))
	}
	op := storage.AdminRole{PersonID: "adm-alice", Role: storage.RoleOperator, GrantedAt: t0, GrantedBy: "operator"}
	rev := storage.AdminRole{PersonID: "adm-alice", Role: storage.RoleReviewer, GrantedAt: pre1970, GrantedBy: "adm-bob"}
	depB := storage.AdminRole{PersonID: "adm-bob", Role: storage.RoleDepartmentAdmin, Department: "shebao", GrantedAt: t0.Add(time.Hour), GrantedBy: "operator"}
	depA := storage.AdminRole{PersonID: "adm-bob", Role: storage.RoleDepartmentAdmin, Department: "gongan", GrantedAt: t0, GrantedBy: "operator"}
	want := func(r storage.AdminRole) storage.AdminRole { r.GrantedAt = stored(r.GrantedAt); return r }

	t.Run("GrantRole", func(t *testing.T) {
		for _, tc := range []struct {
			name    string
			r       storage.AdminRole
			wantErr error
		}{
			{"ok/operator", op, nil},
			{"ok/reviewer before 1970", rev, nil},
			{"ok/department shebao", depB, nil},
			{"ok/same role other department", depA, nil},
			{"fail/same grant again", storage.AdminRole{PersonID: op.PersonID, Role: op.Role, GrantedAt: t0}, storage.ErrConflict},
			{"fail/same department again", storage.AdminRole{PersonID: depB.PersonID, Role: depB.Role, Department: "shebao", GrantedAt: t0}, storage.ErrConflict},
			{"fail/unknown person", storage.AdminRole{PersonID: "nobody", Role: storage.RoleOperator, GrantedAt: t0}, storage.ErrNotFound},
		} {
			t.Run(tc.name, func(t *testing.T) {
				checkErr(t, "GrantRole", s.GrantRole(ctx, tc.r), tc.wantErr)
			})
		}
	})
	t.Run("ListRoles", func(t *testing.T) {
		got, err := s.ListRoles(ctx, "adm-alice")
		must(t, "ListRoles", err)
		checkEqual(t, "alice's roles", got, []storage.AdminRole{want(op), want(rev)})
		got, err = s.ListRoles(ctx, "adm-bob")
		must(t, "ListRoles", err)
		checkEqual(t, "bob's roles (by department)", got, []storage.AdminRole{want(depA), want(depB)})
		got, err = s.ListRoles(ctx, "nobody")
		must(t, "ListRoles", err)
		if got == nil || len(got) != 0 {
			t.Errorf("ListRoles(nobody) = %#v, want an empty list", got)
		}
	})
	t.Run("ListAllRoles", func(t *testing.T) {
		got, err := s.ListAllRoles(ctx)
		must(t, "ListAllRoles", err)
		checkEqual(t, "all roles", got, []storage.AdminRole{want(op), want(rev), want(depA), want(depB)})
	})
	t.Run("RevokeRole", func(t *testing.T) {
		for _, tc := range []struct {
			name             string
			person, role, dp string
			want             storage.AdminRole
			wantErr          error
		}{
			{"ok/department shebao", "adm-bob", storage.RoleDepartmentAdmin, "shebao", want(depB), nil},
			{"fail/again", "adm-bob", storage.RoleDepartmentAdmin, "shebao", storage.AdminRole{}, storage.ErrNotFound},
			{"fail/wrong department", "adm-alice", storage.RoleOperator, "shebao", storage.AdminRole{}, storage.ErrNotFound},
			{"fail/role not held", "adm-bob", storage.RoleAuditor, "", storage.AdminRole{}, storage.ErrNotFound},
			{"ok/operator", "adm-alice", storage.RoleOperator, "", want(op), nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, err := s.RevokeRole(ctx, tc.person, tc.role, tc.dp)
				if checkErr(t, "RevokeRole", err, tc.wantErr) && err == nil {
					checkEqual(t, "revoked grant", got, tc.want)
				}
			})
		}
		got, err := s.ListAllRoles(ctx)
		must(t, "ListAllRoles", err)
		checkEqual(t, "roles left", got, []storage.AdminRole{want(rev), want(depA)})
	})
	t.Run("InTxRollback", func(t *testing.T) {
		err := s.InTx(ctx, func(ctx context.Context) error {
			if err := s.GrantRole(ctx, storage.AdminRole{PersonID: "adm-bob", Role: storage.RoleAuditor, GrantedAt: t0}); err != nil {
				return err
			}
			return errBoom
		})
		checkErr(t, "InTx", err, errBoom)
		got, err := s.ListRoles(ctx, "adm-bob")
		must(t, "ListRoles", err)
		checkEqual(t, "bob's roles after a rolled-back grant", got, []storage.AdminRole{want(depA)})
	})
}
