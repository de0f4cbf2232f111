package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tongban/tongban/cmd/internal/app"
	"github.com/tongban/tongban/credentials"
	"github.com/tongban/tongban/idnumber"
	"github.com/tongban/tongban/wallet"
)

func (c *cli) licencesCmd() *cobra.Command {
	return app.Group("licences", "Import, list, revoke, suspend and restore licences",
		c.importCmd(), c.listCmd(),
		c.statusCmd("revoke", credentials.StatusRevoked, "Revoke a licence (吊销/注销): final, no new codes"),
		c.statusCmd("suspend", credentials.StatusSuspended, "Suspend a licence (暂扣/冻结): no new codes until restored"),
		c.statusCmd("restore", credentials.StatusValid, "Restore a suspended licence"))
}

// importJSON is the --json output of `licences import`.
type importJSON struct {
	Created     int                      `json:"created"`
	Updated     int                      `json:"updated"`
	KeptRevoked int                      `json:"kept_revoked"`
	Stored      []wallet.ImportedLicence `json:"stored"`
	Rejected    []rejectedJSON           `json:"rejected"`
}

type rejectedJSON struct {
	Line  int    `json:"line"`
	Error string `json:"error"`
}

func (c *cli) importCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "import FILE",
		Short: "Store licences from a JSON Lines file (- reads standard input)",
		Long: `Store the licences of FILE, one JSON object a line, in the import format of
docs/formats/licences.md (docs/examples/licences.jsonl is an example of every kind).

Each line is checked on its own. A bad line is reported on standard error with its line number
and the reason, and nothing from it is stored; the good lines are stored. A licence already
stored (same kind, issuer and number) is updated and keeps its ID; a revoked licence stays
revoked. A summary goes to standard output.

Exit status: 0 every line was stored; 1 some lines were rejected (the others were stored) or
storage failed; 2 wrong usage.`,
		Example: "  wallet licences import docs/examples/licences.jsonl",
		Args:    cobra.ExactArgs(1),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	cmd.RunE = c.run(func(cmd *cobra.Command, args []string) error {
		log, err := c.setup(cmd, true, nil)
		if err != nil {
			return err
		}
		var in io.Reader = c.in
		name := "standard input"
		if args[0] != "-" {
			f, err := os.Open(args[0])
			if err != nil {
				return app.Usage(err)
			}
			defer f.Close()
			in, name = f, args[0]
		}
		ctx := cmd.Context()
		svc, closeFn, err := c.openService(ctx, log, wallet.ServiceConfig{})
		if err != nil {
			return err
		}
		defer closeFn()
		rep, ierr := svc.Import(ctx, in, wallet.Operator)
		if asJSON {
			out := importJSON{Created: rep.Created, Updated: rep.Updated, KeptRevoked: rep.KeptRevoked,
				Stored: rep.Stored, Rejected: []rejectedJSON{}}
			if out.Stored == nil {
				out.Stored = []wallet.ImportedLicence{}
			}
			for _, le := range rep.Rejected {
				out.Rejected = append(out.Rejected, rejectedJSON{Line: le.Line, Error: oneLine(le.Err)})
			}
			if err := app.PrintJSON(c.out, out); err != nil {
				return err
			}
		} else {
			for _, le := range rep.Rejected {
				fmt.Fprintf(c.errOut, "%s: line %d: %s\n", name, le.Line, oneLine(le.Err))
			}
			for _, s := range rep.Stored {
				verb := "updated"
				if s.Created {
					verb = "created"
				}
				if s.KeptRevoked {
					verb += " (kept revoked)"
				}
				fmt.Fprintf(c.out, "%-8s %-18s %-20s %s\n", verb, s.Kind, s.MaskedNumber, s.ID)
			}
			fmt.Fprintf(c.out, "%s: %d stored (%d created, %d updated), %d line(s) rejected\n",
				name, len(rep.Stored), rep.Created, rep.Updated, len(rep.Rejected))
		}
		if ierr != nil {
			return ierr
		}
		if len(rep.Rejected) > 0 {
			code := app.ExitFailure
			c.exit = &code
			if !asJSON {
				if len(rep.Stored) == 0 {
					fmt.Fprintf(c.errOut, "wallet: %d line(s) rejected; nothing was stored\n", len(rep.Rejected))
				} else {
					fmt.Fprintf(c.errOut, "wallet: %d line(s) rejected; the other lines were stored\n", len(rep.Rejected))
				}
			}
		}
		return nil
	})
	return cmd
}

// oneLine joins the lines of an errors.Join error with "; ".
func oneLine(err error) string { return strings.ReplaceAll(err.Error(), "\n", "; ") }

// licenceJSON is a licence in --json output: masked.
type licenceJSON struct {
	ID           string `json:"id"`
	Kind         string `json:"kind"`
	MaskedNumber string `json:"masked_number"`
	MaskedHolder string `json:"masked_holder"`
	Issuer       string `json:"issuer"`
	ValidUntil   string `json:"valid_until,omitempty"`
	Status       string `json:"status"`
	AsAgent      bool   `json:"as_agent,omitempty"`
}

func toLicenceJSON(r wallet.Record) licenceJSON {
	l := r.Licence
	j := licenceJSON{ID: r.ID, Kind: string(l.Kind), MaskedNumber: l.MaskedNumber(), MaskedHolder: l.MaskedHolder(),
		Issuer: l.Issuer, Status: string(l.Status), AsAgent: r.AsAgent}
	if l.ValidUntil != nil {
		j.ValidUntil = l.ValidUntil.String()
	}
	return j
}

// checkHolder validates a holder number given on the command line: a resident ID number or
// a unified social credit code.
func checkHolder(holder string) error {
	n := idnumber.NormalizeResidentID(holder)
	rerr := idnumber.ValidateResidentID(n)
	if rerr == nil || idnumber.ValidateCreditCode(n) == nil {
		return nil
	}
	return app.Usagef("--holder: not a valid resident ID number or unified social credit code (%v)", rerr)
}

func (c *cli) listCmd() *cobra.Command {
	var holder string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list --holder NUMBER",
		Short: "List the licences a holder may show (masked)",
		Args:  cobra.NoArgs,
	}
	cmd.Flags().StringVar(&holder, "holder", "", "resident ID number or unified social credit code (required)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	_ = cmd.MarkFlagRequired("holder")
	cmd.RunE = c.run(func(cmd *cobra.Command, args []string) error {
		log, err := c.setup(cmd, true, nil)
		if err != nil {
			return err
		}
		if err := checkHolder(holder); err != nil {
			return err
		}
		ctx := cmd.Context()
		svc, closeFn, err := c.openService(ctx, log, wallet.ServiceConfig{})
		if err != nil {
			return err
		}
		defer closeFn()
		recs, err := svc.Licences(ctx, holder)
		if err != nil {
			return err
		}
		out := make([]licenceJSON, 0, len(recs))
		for _, r := range recs {
			out = append(out, toLicenceJSON(r))
		}
		if asJSON {
			return app.PrintJSON(c.out, out)
		}
		rows := make([][]string, 0, len(out))
		for _, l := range out {
			agent := ""
			if l.AsAgent {
				agent = "agent"
			}
			rows = append(rows, []string{l.ID, l.Kind, l.MaskedNumber, l.Status, l.ValidUntil, agent})
		}
		return app.Table(c.out, []string{"ID", "KIND", "NUMBER", "STATUS", "VALID UNTIL", "AS"}, rows)
	})
	return cmd
}

// statusCmd is `licences revoke|suspend|restore`.
func (c *cli) statusCmd(name string, status credentials.Status, short string) *cobra.Command {
	var id, kind, number, issuer string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   name + " (--id ID | --kind KIND --number NUMBER [--issuer ISSUER])",
		Short: short,
		Long: short + `.

Name the licence by its ID (printed by 'licences import' and 'licences list'), or by kind and
licence number (add --issuer when two issuers use the same number). Revocation is final: a
revoked licence cannot be restored, and re-importing it keeps it revoked.`,
		Example: "  wallet licences " + name + " --kind social-security --number B10374261",
		Args:    cobra.NoArgs,
	}
	f := cmd.Flags()
	f.StringVar(&id, "id", "", "licence ID")
	f.StringVar(&kind, "kind", "", "licence kind: "+strings.Join(kindNames(), ", "))
	f.StringVar(&number, "number", "", "licence number (证号) as issued")
	f.StringVar(&issuer, "issuer", "", "issuing authority, when several issuers use the number")
	f.BoolVar(&asJSON, "json", false, "print the result as JSON")
	cmd.RunE = c.run(func(cmd *cobra.Command, args []string) error {
		var k credentials.Kind
		ctx, svc, closeFn, err := c.adminService(cmd, func(p *app.Problems) {
			switch {
			case id != "" && (kind != "" || number != ""):
				p.Addf("give --id, or --kind and --number, not both")
			case id == "" && (kind == "" || number == ""):
				p.Addf("give --id, or --kind and --number")
			case id == "":
				var err error
				if k, err = credentials.ParseKind(kind); err != nil {
					p.Addf("--kind %q: unknown (known: %s)", kind, strings.Join(kindNames(), ", "))
				}
			}
		}, nil)
		if err != nil {
			return err
		}
		defer closeFn()
		if id == "" {
			recs, err := svc.Find(ctx, k, number)
			if errors.Is(err, wallet.ErrNotFound) {
				return fmt.Errorf("no %s licence with that number", k)
			} else if err != nil {
				return err
			}
			var match []wallet.Record
			for _, r := range recs {
				if issuer == "" || r.Licence.Issuer == issuer {
					match = append(match, r)
				}
			}
			switch len(match) {
			case 0:
				return fmt.Errorf("no %s licence with that number from issuer %q", k, issuer)
			case 1:
				id = match[0].ID
			default:
				var ids []string
				for _, r := range match {
					ids = append(ids, r.ID+" ("+r.Licence.Issuer+")")
				}
				return app.Usagef("%d licences match; add --issuer or use --id: %s", len(match), strings.Join(ids, ", "))
			}
		}
		rec, err := svc.SetStatus(ctx, id, status, wallet.Operator)
		if errors.Is(err, wallet.ErrNotFound) {
			return fmt.Errorf("no licence with ID %q", id)
		} else if err != nil {
			return err
		}
		if asJSON {
			return app.PrintJSON(c.out, toLicenceJSON(rec))
		}
		_, err = fmt.Fprintf(c.out, "%s %s %s (ID %s): status now %s\n", pastTense[name], rec.Licence.Kind, rec.Licence.MaskedNumber(), rec.ID, rec.Licence.Status)
		return err
	})
	return cmd
}

var pastTense = map[string]string{"revoke": "revoked", "suspend": "suspended", "restore": "restored"}

func kindNames() []string {
	out := make([]string, len(credentials.Kinds))
	for i, k := range credentials.Kinds {
		out[i] = string(k)
	}
	return out
}
