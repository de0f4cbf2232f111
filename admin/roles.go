package admin

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/tongban/tongban/audit"
	"github.com/tongban/tongban/storage"
)

// Permission is what a route needs (route.perm). Roles grant permissions (rolePermissions);
// a department-admin's apply only to apps of its department.
type Permission string

// Permissions of the console and API.
const (
	PermMe                Permission = "me"                 // who am I (any role)
	PermAppsRead          Permission = "apps.read"          // list and read apps
	PermAppsStats         Permission = "apps.stats"         // an app's hourly figures
	PermAppsReview        Permission = "apps.review"        // approve, reject
	PermAppsManage        Permission = "apps.manage"        // suspend, resume, retire
	PermAppsSecret        Permission = "apps.secret"        // rotate an app's secret
	PermAppsRegister      Permission = "apps.register"      // register an app for review
	PermAppsChange        Permission = "apps.change"        // propose a change of an app's metadata
	PermIATIssue          Permission = "iat.issue"          // issue initial access tokens
	PermPeopleRead        Permission = "people.read"        // search and read people
	PermPeopleManage      Permission = "people.manage"      // disable, enable, unlock, reset link, end sessions
	PermCorrectionsRead   Permission = "corrections.read"   // the correction queue
	PermCorrectionsDecide Permission = "corrections.decide" // apply, reject
	PermAuditRead         Permission = "audit.read"         // the audit log
)

// rolePermissions is what each role may do. An operator manages apps and people but does not
// review; a reviewer only reads and reviews apps; an auditor only reads the audit log; a
// department-admin reads, registers (for review), changes (through review), sees the figures of
// and rotates the secrets of its department's apps and issues initial access tokens for its
// department — it never approves.
var rolePermissions = map[string][]Permission{
	storage.RoleOperator: {PermMe, PermAppsRead, PermAppsStats, PermAppsManage, PermAppsSecret, PermIATIssue, PermAppsRegister, PermAppsChange,
		PermPeopleRead, PermPeopleManage, PermCorrectionsRead, PermCorrectionsDecide, PermAuditRead},
	storage.RoleReviewer:        {PermMe, PermAppsRead, PermAppsStats, PermAppsReview},
	storage.RoleAuditor:         {PermMe, PermAuditRead},
	storage.RoleDepartmentAdmin: {PermMe, PermAppsRead, PermAppsStats, PermAppsSecret, PermIATIssue, PermAppsRegister, PermAppsChange},
}

// Principal is an administrator and their grants.
type Principal struct {
	PersonID string
	Grants   []storage.AdminRole
}

// Allow reports whether p may use perm on an object of department (an app's Department, the
// department of an initial access token or of a list filter; "" when the object belongs to
// no department or the action concerns none), and under which role (the first allowing grant
// of a role without department, else of a department-admin grant for that department). A
// department-admin is allowed only for a non-empty department equal to its grant's, except
// for PermMe.
func (p Principal) Allow(perm Permission, department string) (role string, ok bool) {
	for _, g := range p.Grants {
		if g.Role != storage.RoleDepartmentAdmin && slices.Contains(rolePermissions[g.Role], perm) {
			return g.Role, true
		}
	}
	for _, g := range p.Grants {
		if g.Role != storage.RoleDepartmentAdmin || !slices.Contains(rolePermissions[g.Role], perm) {
			continue
		}
		if perm == PermMe || (department != "" && department == g.Department) {
			return g.Role, true
		}
	}
	return "", false
}

// Global reports whether p holds perm for every department (a role without department).
func (p Principal) Global(perm Permission) bool {
	for _, g := range p.Grants {
		if g.Role != storage.RoleDepartmentAdmin && slices.Contains(rolePermissions[g.Role], perm) {
			return true
		}
	}
	return false
}

// Departments returns the departments for which p holds perm through department-admin
// grants, sorted.
func (p Principal) Departments(perm Permission) []string {
	var out []string
	for _, g := range p.Grants {
		if g.Role == storage.RoleDepartmentAdmin && slices.Contains(rolePermissions[g.Role], perm) && !slices.Contains(out, g.Department) {
			out = append(out, g.Department)
		}
	}
	slices.Sort(out)
	return out
}

// Roles returns p's role names, each once, in storage.AdminRoles order.
func (p Principal) Roles() []string {
	var out []string
	for _, r := range storage.AdminRoles {
		if slices.ContainsFunc(p.Grants, func(g storage.AdminRole) bool { return g.Role == r }) {
			out = append(out, r)
		}
	}
	return out
}

// departmentRE is a department code (storage.Client.Department).
var departmentRE = regexp.MustCompile(`^[a-z0-9-]{1,64}$`)

// ValidDepartment reports whether d is a department code: 1 to 64 of a-z, 0-9 and "-".
func ValidDepartment(d string) bool { return departmentRE.MatchString(d) }

// checkGrant validates a role and its department: a known role; a department exactly for
// department-admin.
func checkGrant(role, department string) error {
	switch {
	case !slices.Contains(storage.AdminRoles, role):
		return fmt.Errorf("%w: unknown role %q (want one of %s)", ErrInvalid, role, strings.Join(storage.AdminRoles, ", "))
	case role == storage.RoleDepartmentAdmin && !ValidDepartment(department):
		return fmt.Errorf("%w: role %s needs a department code (1 to 64 of a-z, 0-9, -), got %q", ErrInvalid, role, department)
	case role != storage.RoleDepartmentAdmin && department != "":
		return fmt.Errorf("%w: role %s takes no department", ErrInvalid, role)
	}
	return nil
}

// RoleStore is what GrantRole and RevokeRole need of storage.
type RoleStore interface {
	storage.AdminRoleStore
	storage.Audit
	storage.Transactor
}

// GrantRole grants role (for department, only with storage.RoleDepartmentAdmin) to the person
// with ID personID at at, and records admin.role.grant (Subject the person, Detail
// "grant=ROLE[@DEPARTMENT]") by actor in the same transaction.
//
// Errors: ErrInvalid for an unknown role or a missing, malformed or superfluous department;
// ErrConflict when the person holds that grant already; ErrNotFound when there is no such
// person; storage errors.
func GrantRole(ctx context.Context, st RoleStore, actor audit.Actor, at time.Time, personID, role, department string) error {
	if err := checkGrant(role, department); err != nil {
		return err
	}
	err := st.InTx(ctx, func(ctx context.Context) error {
		if err := st.GrantRole(ctx, storage.AdminRole{PersonID: personID, Role: role, Department: department,
			GrantedAt: at, GrantedBy: auditID(actor)}); err != nil {
			return err
		}
		return actor.Record(ctx, st, at, "admin.role.grant", personID, "", "grant="+grantName(role, department))
	})
	return storageErr(err)
}

// RevokeRole revokes the person's role (for department) and records admin.role.revoke by
// actor in the same transaction. Errors: ErrInvalid as for GrantRole; ErrNotFound when the
// person does not hold that grant; storage errors.
func RevokeRole(ctx context.Context, st RoleStore, actor audit.Actor, at time.Time, personID, role, department string) error {
	if err := checkGrant(role, department); err != nil {
		return err
	}
	err := st.InTx(ctx, func(ctx context.Context) error {
		if _, err := st.RevokeRole(ctx, personID, role, department); err != nil {
			return err
		}
		return actor.Record(ctx, st, at, "admin.role.revoke", personID, "", "grant="+grantName(role, department))
	})
	return storageErr(err)
}

// grantName is "role" or "role@department".
func grantName(role, department string) string {
	if department == "" {
		return role
	}
	return role + "@" + department
}

func auditID(a audit.Actor) string {
	if a.ID == "" {
		return audit.ShellOperator
	}
	return a.ID
}

// storageErr adds this package's sentinel to a storage sentinel.
func storageErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, storage.ErrNotFound):
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	case errors.Is(err, storage.ErrConflict):
		return fmt.Errorf("%w: %w", ErrConflict, err)
	}
	return err
}
