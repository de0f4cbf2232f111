package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tongban/tongban/accounts"
	"github.com/tongban/tongban/audit"
	"github.com/tongban/tongban/cmd/internal/app"
	"github.com/tongban/tongban/idnumber"
	"github.com/tongban/tongban/storage"
)

// `idp companies representative|show`: an operator records a company's legal representative
// (法定代表人), who then authorises the company's agents (经办人) on their account page
// (docs/citizens/agents.md), and shows who may act for a company.
func (c *cli) companiesCmd() *cobra.Command {
	return app.Group("companies", "Manage legal persons' representatives and see their agents",
		c.companiesRepresentativeCmd(), c.companiesShowCmd(), c.companiesWithdrawCmd())
}

// companyJSON is the --json output of `idp companies representative` and `idp companies show`:
// opaque IDs and masked numbers only.
type companyJSON struct {
	ID               string      `json:"id"`
	Name             string      `json:"name"`
	CreditCodeMasked string      `json:"credit_code_masked"`
	Representative   *personRef  `json:"representative,omitempty"`
	Agents           []agentJSON `json:"agents"`
}

type personRef struct {
	ID             string `json:"id"`
	IDNumberMasked string `json:"id_number_masked"`
}

type agentJSON struct {
	ID             string    `json:"id"`
	NameMasked     string    `json:"name_masked"`
	IDNumberMasked string    `json:"id_number_masked"`
	Clients        []string  `json:"clients"` // empty: every app
	Scopes         []string  `json:"scopes"`  // empty: every scope the app may request
	ValidUntil     time.Time `json:"valid_until"`
}

// lookupCompany resolves a unified social credit code to the legal person; a malformed or
// unknown code is a usage error whose message masks the code.
func lookupCompany(cmd *cobra.Command, svc *accounts.Service, code string) (storage.Person, error) {
	co, err := svc.CompanyByCreditCode(cmd.Context(), code)
	switch {
	case errors.Is(err, accounts.ErrInvalidIDNumber) && idnumber.ValidateResidentID(idnumber.NormalizeResidentID(code)) == nil:
		return co, app.Usagef("--company: %s is a resident ID number, not a unified social credit code: name the company",
			idnumber.MaskResidentID(idnumber.NormalizeResidentID(code)))
	case errors.Is(err, accounts.ErrInvalidIDNumber):
		return co, app.Usage(fmt.Errorf("--company: %w", err))
	case errors.Is(err, storage.ErrNotFound):
		return co, app.Usagef("no company with unified social credit code %s", idnumber.MaskCreditCode(idnumber.NormalizeCreditCode(code)))
	}
	return co, err
}

// companyOut describes co with its representative and standing agents.
func companyOut(cmd *cobra.Command, svc *accounts.Service, b *app.Backend, co storage.Person) (companyJSON, error) {
	ctx := cmd.Context()
	out := companyJSON{ID: co.ID, Name: co.Name, CreditCodeMasked: co.IDNumberMasked, Agents: []agentJSON{}}
	rep, err := svc.Representative(ctx, co.ID)
	if err != nil {
		return out, err
	}
	if rep != "" {
		p, err := b.Store.GetPerson(ctx, rep)
		if err != nil {
			return out, err
		}
		out.Representative = &personRef{ID: p.ID, IDNumberMasked: p.IDNumberMasked}
	}
	agents, err := svc.AgentsOf(ctx, co.ID)
	if err != nil {
		return out, err
	}
	for _, a := range agents {
		out.Agents = append(out.Agents, agentJSON{ID: a.ID, NameMasked: a.NameMasked, IDNumberMasked: a.IDNumberMasked,
			Clients: nonNil(a.Authorisation.Clients), Scopes: nonNil(a.Authorisation.Scopes), ValidUntil: a.Authorisation.ValidUntil})
	}
	return out, nil
}

func nonNil(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

// printCompany prints out as text: the company, its representative, and a table of agents.
func (c *cli) printCompany(out companyJSON) error {
	rep := "none"
	if out.Representative != nil {
		rep = out.Representative.ID + " (" + out.Representative.IDNumberMasked + ")"
	}
	if _, err := fmt.Fprintf(c.out, "company %s (%s) %s\nrepresentative %s\n", out.ID, out.CreditCodeMasked, printable(out.Name), rep); err != nil {
		return err
	}
	rows := make([][]string, 0, len(out.Agents))
	all := func(l []string) string {
		if len(l) == 0 {
			return "all"
		}
		return strings.Join(l, ",")
	}
	for _, a := range out.Agents {
		rows = append(rows, []string{a.ID, a.IDNumberMasked, a.ValidUntil.In(beijing).Format("2006-01-02 15:04"), all(a.Clients), all(a.Scopes), printable(a.NameMasked)})
	}
	return app.Table(c.out, []string{"AGENT", "ID NUMBER", "VALID UNTIL (BEIJING TIME)", "APPS", "SCOPES", "NAME"}, rows)
}

// companyPersonCmd is a command that acts on a company (--company) and a person (--person or
// --agent, named by personFlag): act does the change with the operator's service, then the
// company is printed as `companies show` prints it.
func (c *cli) companyPersonCmd(cmd *cobra.Command, personFlag, personUsage string,
	act func(cmd *cobra.Command, svc *accounts.Service, co, p storage.Person) error) *cobra.Command {
	var company, person string
	var asJSON bool
	cmd.Args = cobra.NoArgs
	cmd.Flags().StringVar(&company, "company", "", "the company's unified social credit code (required)")
	cmd.Flags().StringVar(&person, personFlag, "", personUsage)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	_ = cmd.MarkFlagRequired("company")
	_ = cmd.MarkFlagRequired(personFlag)
	cmd.RunE = c.run(func(cmd *cobra.Command, args []string) error {
		svc, b, err := c.peopleService(cmd)
		if err != nil {
			return err
		}
		defer b.Close()
		co, err := lookupCompany(cmd, svc, company)
		if err != nil {
			return err
		}
		p, err := lookupPerson(cmd.Context(), svc, person)
		if err != nil {
			return err
		}
		if err := act(cmd, svc, co, p); err != nil {
			return err
		}
		out, err := companyOut(cmd, svc, b, co)
		if err != nil {
			return err
		}
		if asJSON {
			return app.PrintJSON(c.out, out)
		}
		return c.printCompany(out)
	})
	return cmd
}

func (c *cli) companiesRepresentativeCmd() *cobra.Command {
	return c.companyPersonCmd(&cobra.Command{
		Use:   "representative --company CREDIT-CODE --person ID-NUMBER|PHONE|PERSON-ID",
		Short: "Record a company's legal representative (audited as the operator)",
		Long: `Record the natural person who is the legal representative (法定代表人) of a company (a legal
person registered with "idp people add --kind legal"), replacing any earlier one, after checking
the business licence. The representative authorises and withdraws the company's agents (经办人)
on their account page; agents they authorised stay authorised when the representative changes.
Audited as company.representative (actor "operator").`,
		Example: "  idp companies representative --company 91440300MA5F000181 --person 11010519491231002X",
	}, "person", personFlagUsage, func(cmd *cobra.Command, svc *accounts.Service, co, p storage.Person) error {
		if err := svc.SetRepresentative(cmd.Context(), audit.Shell, co.ID, p.ID); errors.Is(err, accounts.ErrNotCompany) {
			return app.Usagef("--person: %s is not a natural person", describePerson(p))
		} else if err != nil {
			return err
		}
		return nil
	})
}

func (c *cli) companiesWithdrawCmd() *cobra.Command {
	return c.companyPersonCmd(&cobra.Command{
		Use:   "withdraw --company CREDIT-CODE --agent ID-NUMBER|PHONE|PERSON-ID",
		Short: "Withdraw an agent's authorisation to act for a company (audited as the operator)",
		Long: `Withdraw the authorisation of an agent (经办人) to act for a company, for a company whose legal
representative cannot do it on their account page (after checking the company's papers). As a
withdrawal by the representative, it revokes every grant the agent was issued while acting for
the company: their refresh tokens are refused and their access tokens inactive at once.
Audited as agent.withdraw (actor "operator"). Exit status 2 when no authorisation stands.`,
		Example: "  idp companies withdraw --company 91440300MA5F000181 --agent 11010519491231002X",
	}, "agent", "the agent: resident ID number, mobile number or person ID (required)", func(cmd *cobra.Command, svc *accounts.Service, co, p storage.Person) error {
		if err := svc.WithdrawAgent(cmd.Context(), audit.Shell, co.ID, p.ID); errors.Is(err, accounts.ErrNoAuthorisation) {
			return app.Usagef("--agent: %s is not authorised to act for this company", describePerson(p))
		} else if err != nil {
			return err
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "withdrew the authorisation of %s to act for company %s\n", describePerson(p), co.IDNumberMasked)
		return nil
	})
}

func (c *cli) companiesShowCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show CREDIT-CODE",
		Short: "Show a company's legal representative and the agents who may act for it",
		Long: `Show a company (by unified social credit code): its legal representative and the agents
(经办人) whose authorisation stands now, with the apps and scopes they may act in (empty: all)
and when the authorisation ends (Beijing time, UTC+8). Only masked numbers and names are printed.`,
		Example: "  idp companies show 91440300MA5F000181",
		Args:    cobra.ExactArgs(1),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON (times in UTC, RFC 3339)")
	cmd.RunE = c.run(func(cmd *cobra.Command, args []string) error {
		svc, b, err := c.peopleService(cmd)
		if err != nil {
			return err
		}
		defer b.Close()
		co, err := lookupCompany(cmd, svc, args[0])
		if err != nil {
			return err
		}
		out, err := companyOut(cmd, svc, b, co)
		if err != nil {
			return err
		}
		if asJSON {
			return app.PrintJSON(c.out, out)
		}
		return c.printCompany(out)
	})
	return cmd
}
