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
	"github.com/tongban/tongban/cmd/internal/idpserver"
	"github.com/tongban/tongban/idnumber"
	"github.com/tongban/tongban/storage"
)

// `idp people find|disable|enable|unlock|reset-link|end-sessions` and
// `idp corrections list|apply|reject` (issue 9, part C): the operator's side of people
// administration and corrections (纠错) on the server's shell. Every change goes through
// package accounts (accounts/admin.go, accounts/corrections.go) as audit.Shell, the same
// functions the admin console calls.

// personFindJSON is the output of `idp people find --json`: no clear personal data beyond
// the masked number, name and phone.
type personFindJSON struct {
	ID             string    `json:"id"`
	Kind           string    `json:"kind"`
	NameMasked     string    `json:"name_masked"`
	IDNumberMasked string    `json:"id_number_masked"`
	PhoneMasked    string    `json:"phone_masked,omitempty"`
	Disabled       bool      `json:"disabled"`
	CreatedAt      time.Time `json:"created_at"`
}

// peopleAdminCmds are the people administration commands, added to `idp people`.
func (c *cli) peopleAdminCmds() []*cobra.Command {
	return []*cobra.Command{c.peopleFindCmd(), c.peopleDisableCmd(), c.peopleEnableCmd(), c.peopleUnlockCmd(),
		c.peopleResetLinkCmd(), c.peopleEndSessionsCmd()}
}

func (c *cli) peopleFindCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "find ID-NUMBER|PHONE|PERSON-ID",
		Short: "Find a person by ID number, credit code, mobile number or person ID",
		Long: `Find a person by their resident ID number or unified social credit code, their mobile
number (full-width digits, spaces, hyphens and +86 are accepted, as typed at a counter), or
their person ID; several arguments are joined with spaces, so the number may be typed with
spaces unquoted. Prints the person ID, kind, masked name, ID number and mobile number, and
whether the account is disabled.`,
		Example: "  idp people find 11010519491231002X\n  idp people find 138-0013-8000 --json",
		Args:    cobra.MinimumNArgs(1),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	cmd.RunE = c.run(func(cmd *cobra.Command, args []string) error {
		svc, p, done, err := c.operatorPerson(cmd, strings.Join(args, " "))
		if err != nil {
			return err
		}
		defer done()
		phone, err := svc.PhoneNumber(p)
		if err != nil {
			return err
		}
		out := personFindJSON{ID: p.ID, Kind: string(p.Kind), NameMasked: idnumber.MaskName(p.Name), IDNumberMasked: p.IDNumberMasked,
			Disabled: p.Disabled, CreatedAt: p.CreatedAt}
		if phone != "" {
			out.PhoneMasked = accounts.MaskPhone(phone)
		}
		if asJSON {
			return app.PrintJSON(c.out, out)
		}
		state := "enabled"
		if p.Disabled {
			state = "disabled"
		}
		_, err = fmt.Fprintf(c.out, "person %s\nkind %s\nname %s\nphone %s\nstate %s\n", describePerson(p), p.Kind,
			printable(out.NameMasked), orDash(out.PhoneMasked), state)
		return err
	})
	return cmd
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// personCmd makes a command that acts on --person with svc, audited as the shell operator.
func (c *cli) personCmd(use, short, long string, extra func(*cobra.Command), act func(cmd *cobra.Command, svc *accounts.Service, p storage.Person) error) *cobra.Command {
	var person string
	cmd := &cobra.Command{Use: use, Short: short, Long: long, Args: cobra.NoArgs}
	cmd.Flags().StringVar(&person, "person", "", personFlagUsage)
	_ = cmd.MarkFlagRequired("person")
	if extra != nil {
		extra(cmd)
	}
	cmd.RunE = c.run(func(cmd *cobra.Command, args []string) error {
		svc, p, done, err := c.operatorPerson(cmd, person)
		if err != nil {
			return err
		}
		defer done()
		return act(cmd, svc, p)
	})
	return cmd
}

// adminErr maps the administration's errors for a wrong argument to usage errors (exit 2).
func adminErr(err error) error {
	for _, e := range []error{accounts.ErrReasonRequired, accounts.ErrInvalidReason, accounts.ErrInvalidTTL,
		accounts.ErrAccountClosed, accounts.ErrPersonDisabled, accounts.ErrCorrectionNotFound, accounts.ErrCorrectionDecided} {
		if errors.Is(err, e) {
			return app.Usage(err)
		}
	}
	return err
}

func (c *cli) peopleDisableCmd() *cobra.Command {
	var reason string
	return c.personCmd("disable --person ID-NUMBER|PHONE|PERSON-ID --reason R",
		"Disable a person: no login, every session ended, every token revoked (audited)",
		`Disable a person's account: they can no longer log in, every login session ends, and every
grant they gave an app is revoked (refresh and access tokens become inactive at once), and
apps with a back-channel logout URI are told (the running server sends the logout tokens
waiting in the outbox). The reason (at most 200 characters, no personal data: it goes into the audit log) is required.
Audited as person.disable, actor "operator".`,
		func(cmd *cobra.Command) {
			cmd.Flags().StringVar(&reason, "reason", "", "why, e.g. a ticket number (required)")
			_ = cmd.MarkFlagRequired("reason")
		},
		func(cmd *cobra.Command, svc *accounts.Service, p storage.Person) error {
			if err := svc.DisablePerson(cmd.Context(), audit.Shell, p.ID, reason); err != nil {
				return adminErr(err)
			}
			_, err := fmt.Fprintf(c.out, "disabled person %s\n", describePerson(p))
			return err
		})
}

func (c *cli) peopleEnableCmd() *cobra.Command {
	return c.personCmd("enable --person ID-NUMBER|PHONE|PERSON-ID",
		"Let a disabled person log in again (audited)",
		`Let a disabled person log in again. A closed account (closed by its owner) stays closed.
Audited as person.enable, actor "operator".`, nil,
		func(cmd *cobra.Command, svc *accounts.Service, p storage.Person) error {
			if err := svc.EnablePerson(cmd.Context(), audit.Shell, p.ID); err != nil {
				return adminErr(err)
			}
			_, err := fmt.Fprintf(c.out, "enabled person %s\n", describePerson(p))
			return err
		})
}

func (c *cli) peopleUnlockCmd() *cobra.Command {
	return c.personCmd("unlock --person ID-NUMBER|PHONE|PERSON-ID",
		"Lift the login lockout of a person's account (audited)",
		`Lift the login lockout of a person's account (the pause after repeated wrong passwords) and
the access-recovery throttle, for a person who proved who they are at the counter. Audited
as person.unlock, actor "operator".`, nil,
		func(cmd *cobra.Command, svc *accounts.Service, p storage.Person) error {
			if err := svc.UnlockPerson(cmd.Context(), audit.Shell, p.ID); err != nil {
				return adminErr(err)
			}
			_, err := fmt.Fprintf(c.out, "unlocked person %s\n", describePerson(p))
			return err
		})
}

func (c *cli) peopleEndSessionsCmd() *cobra.Command {
	return c.personCmd("end-sessions --person ID-NUMBER|PHONE|PERSON-ID",
		"End every login session of a person (audited)",
		`End every login session of a person on every device: they must log in again. The tokens
apps got through those sessions are revoked, and apps with a back-channel logout URI are
told: the logout tokens wait in the outbox and the running server sends them (within a
second or so). Tokens of grants outside those sessions stay valid (use "idp people disable"
to revoke every one). Audited as person.sessions.end, actor "operator".`, nil,
		func(cmd *cobra.Command, svc *accounts.Service, p storage.Person) error {
			n, err := svc.EndSessions(cmd.Context(), audit.Shell, p.ID)
			if err != nil {
				return adminErr(err)
			}
			_, err = fmt.Fprintf(c.out, "ended %d sessions of person %s\n", n, describePerson(p))
			return err
		})
}

// resetLinkJSON is the --json output of `idp people reset-link`.
type resetLinkJSON struct {
	Person    string    `json:"person"`
	Link      string    `json:"link"`
	ExpiresAt time.Time `json:"expires_at"`
}

func (c *cli) peopleResetLinkCmd() *cobra.Command {
	var (
		person string
		ttl    time.Duration
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "reset-link --person ID-NUMBER|PHONE|PERSON-ID [--ttl 24h]",
		Short: "Make a single-use password-reset link to hand to a person (audited)",
		Long: `Make a single-use link at which the person sets a new password, to hand over (printed or
on screen) after checking their papers at the counter. The link is on the provider's issuer
(--issuer or TONGBAN_ISSUER, as for "idp serve"), works once, and expires after --ttl (5m to
168h, default 24h); an earlier link of the person stops working. Only a keyed hash of it is
stored: it is shown here once. Audited as person.reset_link, actor "operator".`,
		Args: cobra.NoArgs,
	}
	f := cmd.Flags()
	f.StringVar(&person, "person", "", personFlagUsage)
	f.DurationVar(&ttl, "ttl", accounts.DefaultResetLinkTTL, "how long the link works (5m to 168h)")
	f.StringVar(&c.cfg.Issuer, "issuer", idpserver.DefaultIssuer, "the provider's issuer URL, as for idp serve")
	f.BoolVar(&asJSON, "json", false, "print the result as JSON")
	app.Configurable(f, "issuer")
	_ = cmd.MarkFlagRequired("person")
	cmd.RunE = c.run(func(cmd *cobra.Command, args []string) error {
		svc, b, err := c.peopleServiceWith(cmd, func() string { return strings.TrimSuffix(c.cfg.Issuer, "/") + "/account/reset" })
		if err != nil {
			return err
		}
		defer b.Close()
		p, err := lookupPerson(cmd.Context(), svc, person)
		if err != nil {
			return err
		}
		link, exp, err := svc.IssuePasswordReset(cmd.Context(), audit.Shell, p.ID, ttl)
		if err != nil {
			return adminErr(err)
		}
		if asJSON {
			return app.PrintJSON(c.out, resetLinkJSON{Person: p.ID, Link: link, ExpiresAt: exp})
		}
		_, err = fmt.Fprintf(c.out, "password-reset link for person %s (single use, expires %s Beijing time):\n%s\n",
			describePerson(p), exp.In(beijing).Format("2006-01-02 15:04"), link)
		return err
	})
	return cmd
}

// correctionsCmd is `idp corrections`.
func (c *cli) correctionsCmd() *cobra.Command {
	return app.Group("corrections", "List, apply and reject the corrections (纠错) people ask for",
		c.correctionsListCmd(), c.correctionsApplyCmd(), c.correctionsRejectCmd())
}

// correctionJSON is one correction in `idp corrections list --json`. Proposed is the value
// the person asked for, in full: the operator checks it against the person's papers.
type correctionJSON struct {
	ID            string     `json:"id"`
	Person        string     `json:"person"`
	Target        string     `json:"target"`
	Field         string     `json:"field"`
	CurrentMasked string     `json:"current_masked"`
	Proposed      string     `json:"proposed"`
	Reason        string     `json:"reason"`
	Status        string     `json:"status"`
	FiledAt       time.Time  `json:"filed_at"`
	DecidedAt     *time.Time `json:"decided_at,omitempty"`
	DecidedBy     string     `json:"decided_by,omitempty"`
	DecisionNote  string     `json:"decision_note,omitempty"`
}

func (c *cli) correctionsListCmd() *cobra.Command {
	var (
		status, person string
		limit, offset  int
		asJSON         bool
	)
	cmd := &cobra.Command{
		Use:   "list [--status pending] [--person P] [--json]",
		Short: "List corrections, newest first, with the value asked for",
		Long: `List corrections, newest first: their ID, state, when filed, the person, what is to be
corrected, the value recorded now (masked) and the value asked for (in full, to check against
the person's papers), and the person's explanation. --status selects pending, applied or
rejected; --person one person (ID number, mobile number or person ID).`,
		Example: "  idp corrections list --status pending",
		Args:    cobra.NoArgs,
	}
	f := cmd.Flags()
	f.StringVar(&status, "status", "", "pending, applied or rejected (default all)")
	f.StringVar(&person, "person", "", "only this person's (ID number, mobile number or person ID)")
	f.IntVar(&limit, "limit", accounts.DefaultCorrectionPage, "at most this many (1 to 500)")
	f.IntVar(&offset, "offset", 0, "skip this many first (paging)")
	f.BoolVar(&asJSON, "json", false, "print the result as JSON (times in UTC)")
	cmd.RunE = c.run(func(cmd *cobra.Command, args []string) error {
		switch storage.CorrectionStatus(status) {
		case "", storage.CorrectionPending, storage.CorrectionApplied, storage.CorrectionRejected:
		default:
			return app.Usagef("--status: want pending, applied or rejected, got %q", status)
		}
		if limit < 1 || limit > accounts.MaxCorrectionPage || offset < 0 {
			return app.Usagef("--limit: want 1 to %d, --offset: not negative", accounts.MaxCorrectionPage)
		}
		svc, b, err := c.peopleService(cmd)
		if err != nil {
			return err
		}
		defer b.Close()
		ctx := cmd.Context()
		q := storage.CorrectionQuery{Status: storage.CorrectionStatus(status), Limit: limit, Offset: offset}
		if person != "" {
			p, err := lookupPerson(ctx, svc, person)
			if err != nil {
				return err
			}
			q.PersonID = p.ID
		}
		list, err := svc.ListCorrections(ctx, q)
		if err != nil {
			return err
		}
		out := make([]correctionJSON, 0, len(list))
		for _, x := range list {
			v, err := svc.ProposedValue(x)
			if err != nil {
				return fmt.Errorf("correction %s: %w", x.ID, err)
			}
			j := correctionJSON{ID: x.ID, Person: x.PersonID, Target: x.Target, Field: x.Field, CurrentMasked: x.CurrentMasked,
				Proposed: v, Reason: x.Reason, Status: string(x.Status), FiledAt: x.FiledAt, DecidedBy: x.DecidedBy, DecisionNote: x.DecisionNote}
			if !x.DecidedAt.IsZero() {
				j.DecidedAt = &x.DecidedAt
			}
			out = append(out, j)
		}
		if asJSON {
			return app.PrintJSON(c.out, out)
		}
		rows := make([][]string, 0, len(out))
		for _, j := range out {
			rows = append(rows, []string{j.ID, j.Status, j.FiledAt.In(beijing).Format("2006-01-02 15:04"), j.Person, j.Target, j.Field,
				printable(j.CurrentMasked), printable(j.Proposed), printable(j.Reason)})
		}
		return app.Table(c.out, []string{"ID", "STATUS", "FILED (BEIJING TIME)", "PERSON", "TARGET", "FIELD", "NOW", "ASKED FOR", "REASON"}, rows)
	})
	return cmd
}

func (c *cli) correctionsApplyCmd() *cobra.Command {
	var note string
	cmd := &cobra.Command{
		Use:   "apply ID [--note N]",
		Short: "Apply a pending correction: the record is changed (audited)",
		Long: `Apply a pending correction after checking the person's papers: the person's name or mobile
number (they log in with the new number from then on), or the licence field, is changed, and
the person sees "applied" with the note on their account page. Audited as correction.apply,
actor "operator".`,
		Args: cobra.ExactArgs(1),
	}
	cmd.Flags().StringVar(&note, "note", "", "a note the person sees (at most 200 characters)")
	cmd.RunE = c.run(func(cmd *cobra.Command, args []string) error {
		svc, b, err := c.peopleService(cmd)
		if err != nil {
			return err
		}
		defer b.Close()
		if err := svc.ApplyCorrection(cmd.Context(), audit.Shell, args[0], note); err != nil {
			return adminErr(classify(err))
		}
		_, err = fmt.Fprintf(c.out, "applied correction %s\n", args[0])
		return err
	})
	return cmd
}

func (c *cli) correctionsRejectCmd() *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:   "reject ID --reason R",
		Short: "Reject a pending correction with a reason the person sees (audited)",
		Long: `Reject a pending correction; the reason (required, at most 200 characters) is shown to the
person on their account page. Audited as correction.reject, actor "operator".`,
		Args: cobra.ExactArgs(1),
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why, shown to the person (required)")
	_ = cmd.MarkFlagRequired("reason")
	cmd.RunE = c.run(func(cmd *cobra.Command, args []string) error {
		svc, b, err := c.peopleService(cmd)
		if err != nil {
			return err
		}
		defer b.Close()
		if err := svc.RejectCorrection(cmd.Context(), audit.Shell, args[0], reason); err != nil {
			return adminErr(err)
		}
		_, err = fmt.Fprintf(c.out, "rejected correction %s\n", args[0])
		return err
	})
	return cmd
}
