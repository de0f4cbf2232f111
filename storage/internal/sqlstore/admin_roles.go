package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"

	"github.com/jmoiron/sqlx"

	"github.com/tongban/tongban/storage"
)

const adminRoleColumns = `person_id, role, department, granted_at, granted_by`

type adminRoleRow struct {
	PersonID   string `db:"person_id"`
	Role       string `db:"role"`
	Department string `db:"department"`
	GrantedAt  int64  `db:"granted_at"`
	GrantedBy  string `db:"granted_by"`
}

func (r adminRoleRow) role() storage.AdminRole {
	return storage.AdminRole{PersonID: r.PersonID, Role: r.Role, Department: r.Department,
		GrantedAt: fromMicros(r.GrantedAt), GrantedBy: r.GrantedBy}
}

// GrantRole stores r; ErrConflict when the grant exists, ErrNotFound when the person does not.
func (s *Store) GrantRole(ctx context.Context, r storage.AdminRole) error {
	_, err := s.exec(ctx, "grant admin role", `INSERT INTO admin_roles (`+adminRoleColumns+`)
		VALUES (?, ?, ?, ?, ?)`, r.PersonID, r.Role, r.Department, micros(r.GrantedAt), r.GrantedBy)
	return err
}

// RevokeRole removes one grant and returns it; ErrNotFound when there was none.
func (s *Store) RevokeRole(ctx context.Context, personID, role, department string) (storage.AdminRole, error) {
	const op = "revoke admin role"
	var out storage.AdminRole
	err := s.inTx(ctx, op, func(tx *sqlx.Tx) error {
		var r adminRoleRow
		err := tx.GetContext(ctx, &r, s.q(`SELECT `+adminRoleColumns+` FROM admin_roles
			WHERE person_id = ? AND role = ? AND department = ?`+s.d.ForUpdate), personID, role, department)
		if errors.Is(err, sql.ErrNoRows) {
			return s.fail(op, storage.ErrNotFound)
		}
		if err != nil {
			return s.wrap(op, err)
		}
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM admin_roles
			WHERE person_id = ? AND role = ? AND department = ?`), personID, role, department); err != nil {
			return s.wrap(op, err)
		}
		out = r.role()
		return nil
	})
	return out, err
}

// ListRoles returns the person's grants ordered by Role then Department.
func (s *Store) ListRoles(ctx context.Context, personID string) ([]storage.AdminRole, error) {
	return s.listRoles(ctx, "list admin roles", `SELECT `+adminRoleColumns+` FROM admin_roles WHERE person_id = ?`, personID)
}

// ListAllRoles returns every grant ordered by PersonID, Role then Department.
func (s *Store) ListAllRoles(ctx context.Context) ([]storage.AdminRole, error) {
	return s.listRoles(ctx, "list all admin roles", `SELECT `+adminRoleColumns+` FROM admin_roles`)
}

// listRoles runs query and orders the grants bytewise in Go, so both backends agree whatever
// the database's collation (the table is small: a few rows per administrator).
func (s *Store) listRoles(ctx context.Context, op, query string, args ...any) ([]storage.AdminRole, error) {
	var rows []adminRoleRow
	if err := s.reader(ctx).SelectContext(ctx, &rows, s.q(query), args...); err != nil {
		return nil, s.wrap(op, err)
	}
	out := make([]storage.AdminRole, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.role())
	}
	slices.SortFunc(out, func(a, b storage.AdminRole) int {
		if c := strings.Compare(a.PersonID, b.PersonID); c != 0 {
			return c
		}
		if c := strings.Compare(a.Role, b.Role); c != 0 {
			return c
		}
		return strings.Compare(a.Department, b.Department)
	})
	return out, nil
}
