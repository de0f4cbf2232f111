package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tongban/tongban/admin"
	"github.com/tongban/tongban/audit"
	"github.com/tongban/tongban/cmd/internal/app"
	"github.com/tongban/tongban/storage"
)

// `idp admins grant|revoke|list`: the roles of the admin console (docs/operators/admin-console.md).
// Grants are made on the server's shell only, each audited (admin.role.grant, admin.role.revoke,
// actor "operator").
func (c *cli) adminsCmd() *cobra.Command {
	return app.Group("admins", "Grant, revoke and list the roles of the admin console",
		c.adminsGrantCmd(), c.adminsRevokeCmd(), c.adminsListCmd())
}

// roleFlagUsage is the help text of --role.
const roleFlagUsage = "the role: operator (apps and people), reviewer (approves and rejects apps), auditor (reads the audit log) or department-admin (its department's apps; needs --department) (required)"

// adminRoleCmd is grant or revoke: the same flags, a different change.
func (c *cli) adminRoleCmd(use, short, long, done string, change func(cmd *cobra.Command, st admin.RoleStore, personID, role, dept string) error) *cobra.Command {
	var person, role, dept string
	cmd := &cobra.Command{
		Use:     use + " --person ID-NUMBER|PHONE|PERSON-ID --role ROLE [--department CODE]",
		Short:   short,
		Long:    long,
		Example: "  idp admins " + use + " --person 11010519491231002X --role operator\n  idp admins " + use + " --person 13800138000 --role department-admin --department gongan",
		Args:    cobra.NoArgs,
	}
	cmd.Flags().StringVar(&person, "person", "", personFlagUsage)
	cmd.Flags().StringVar(&role, "role", "", roleFlagUsage)
	cmd.Flags().StringVar(&dept, "department", "", "the department code of a department-admin, e.g. gongan (1 to 64 of a-z, 0-9, -)")
	_ = cmd.MarkFlagRequired("person")
	_ = cmd.MarkFlagRequired("role")
	cmd.RunE = c.run(func(cmd *cobra.Command, args []string) error {
		svc, b, err := c.peopleService(cmd)
		if err != nil {
			return err
		}
		defer b.Close()
		p, err := lookupPerson(cmd.Context(), svc, person)
		if err != nil {
			return err
		}
		err = change(cmd, b.Store, p.ID, role, dept)
		switch {
		case errors.Is(err, admin.ErrInvalid):
			return app.Usage(err)
		case errors.Is(err, admin.ErrConflict):
			return app.Usagef("person %s holds %s already", describePerson(p), grantText(role, dept))
		case errors.Is(err, admin.ErrNotFound):
			return app.Usagef("person %s does not hold %s", describePerson(p), grantText(role, dept))
		case err != nil:
			return err
		}
		_, err = fmt.Fprintf(c.out, "%s %s to person %s\n", done, grantText(role, dept), describePerson(p))
		return err
	})
	return cmd
}

func grantText(role, dept string) string {
	if dept == "" {
		return "role " + role
	}
	return "role " + role + " for department " + dept
}

func (c *cli) adminsGrantCmd() *cobra.Command {
	cmd := c.adminRoleCmd("grant", "Grant a role of the admin console to a person (audited as the operator)",
		`Grant a person a role of the admin console at /admin. The person logs in there with their
own password and second factor (an authenticator app or a passkey, enrolled on their account
page): a role without a second factor opens nothing. A department-admin grant names the
department whose apps the person manages (--department); a person may hold that role for several
departments. The grant is audited (admin.role.grant, actor "operator").`,
		"granted", func(cmd *cobra.Command, st admin.RoleStore, personID, role, dept string) error {
			return admin.GrantRole(cmd.Context(), st, audit.Shell, time.Now(), personID, role, dept)
		})
	return cmd
}

func (c *cli) adminsRevokeCmd() *cobra.Command {
	cmd := c.adminRoleCmd("revoke", "Revoke a role of the admin console from a person (audited as the operator)",
		`Revoke one role (for a department-admin, one department's) from a person. Their open console
pages lose the role at their next request. The revocation is audited (admin.role.revoke, actor
"operator").`,
		"revoked", func(cmd *cobra.Command, st admin.RoleStore, personID, role, dept string) error {
			return admin.RevokeRole(cmd.Context(), st, audit.Shell, time.Now(), personID, role, dept)
		})
	cmd.Example = strings.ReplaceAll(cmd.Example, "grant", "revoke")
	return cmd
}

// adminJSON is one grant in the --json output of `idp admins list`.
type adminJSON struct {
	Person         string    `json:"person"`
	IDNumberMasked string    `json:"id_number_masked"`
	Role           string    `json:"role"`
	Department     string    `json:"department,omitempty"`
	GrantedAt      time.Time `json:"granted_at"`
	GrantedBy      string    `json:"granted_by"`
}

func (c *cli) adminsListCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List every role of the admin console and who holds it",
		Long: `List every grant of the admin console: the person (their ID and masked ID number), the role,
the department of a department-admin, when (Beijing time, UTC+8) and by whom it was granted.`,
		Args: cobra.NoArgs,
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the grants as JSON (times in UTC, RFC 3339)")
	cmd.RunE = c.run(func(cmd *cobra.Command, args []string) error {
		_, b, err := c.peopleService(cmd)
		if err != nil {
			return err
		}
		defer b.Close()
		ctx := cmd.Context()
		grants, err := b.Store.ListAllRoles(ctx)
		if err != nil {
			return err
		}
		out := []adminJSON{}
		masked := map[string]string{}
		for _, g := range grants {
			if _, ok := masked[g.PersonID]; !ok {
				p, err := b.Store.GetPerson(ctx, g.PersonID)
				if err != nil && !errors.Is(err, storage.ErrNotFound) {
					return err
				}
				masked[g.PersonID] = p.IDNumberMasked
			}
			out = append(out, adminJSON{Person: g.PersonID, IDNumberMasked: masked[g.PersonID], Role: g.Role,
				Department: g.Department, GrantedAt: g.GrantedAt, GrantedBy: g.GrantedBy})
		}
		if asJSON {
			return app.PrintJSON(c.out, out)
		}
		rows := make([][]string, 0, len(out))
		for _, a := range out {
			dept := a.Department
			if dept == "" {
				dept = "-"
			}
			rows = append(rows, []string{a.Person, a.IDNumberMasked, a.Role, dept, a.GrantedAt.In(beijing).Format("2006-01-02 15:04"), a.GrantedBy})
		}
		return app.Table(c.out, []string{"PERSON", "ID NUMBER", "ROLE", "DEPARTMENT", "GRANTED (BEIJING TIME)", "BY"}, rows)
	})
	return cmd
}
