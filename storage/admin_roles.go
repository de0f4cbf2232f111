package storage

import (
	"context"
	"time"
)

// Administrator roles (AdminRole.Role), granted on the shell with `idp admins grant`
// (docs/operators/admin-console.md).
const (
	// RoleOperator manages apps (suspend, resume, retire, rotate secrets, issue initial
	// access tokens) and people (disable, enable, unlock, reset links, end sessions,
	// corrections 纠错); it reads the audit log.
	RoleOperator = "operator"
	// RoleReviewer approves and rejects apps waiting for review.
	RoleReviewer = "reviewer"
	// RoleAuditor reads the audit log.
	RoleAuditor = "auditor"
	// RoleDepartmentAdmin manages only the apps of its department (AdminRole.Department):
	// registers and changes them and sees their figures; it never approves.
	RoleDepartmentAdmin = "department-admin"
)

// AdminRoles lists every role, in the order they are shown.
var AdminRoles = []string{RoleOperator, RoleReviewer, RoleAuditor, RoleDepartmentAdmin}

// AdminRole is one role granted to one person for the admin console and API.
type AdminRole struct {
	PersonID string // people.id; the grant is deleted with the person
	Role     string // RoleOperator, RoleReviewer, RoleAuditor or RoleDepartmentAdmin
	// Department is the department code (Client.Department, [a-z0-9-]{1,64}) of a
	// RoleDepartmentAdmin grant, "" for the other roles. A person may hold the same role for
	// several departments.
	Department string
	GrantedAt  time.Time
	GrantedBy  string // audit.Actor ID of who granted it ("operator" on the shell)
}

// AdminRoleStore stores the roles of administrators (table admin_roles).
type AdminRoleStore interface {
	// GrantRole stores r. ErrConflict when the person holds that role for that department
	// already; ErrNotFound when the person does not exist. Storage checks neither the role
	// name nor the department: callers do.
	GrantRole(ctx context.Context, r AdminRole) error
	// RevokeRole removes the person's role for department ("" for roles without one) and
	// returns the grant it removed; ErrNotFound when there was none.
	RevokeRole(ctx context.Context, personID, role, department string) (AdminRole, error)
	// ListRoles returns the person's roles ordered by Role then Department; none is an empty
	// list.
	ListRoles(ctx context.Context, personID string) ([]AdminRole, error)
	// ListAllRoles returns every grant ordered by PersonID, Role then Department.
	ListAllRoles(ctx context.Context) ([]AdminRole, error)
}
