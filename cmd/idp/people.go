package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/tongban/tongban/accounts"
	"github.com/tongban/tongban/cmd/internal/app"
	"github.com/tongban/tongban/cmd/internal/idpserver"
	"github.com/tongban/tongban/storage"
)

func (c *cli) peopleCmd() *cobra.Command {
	return app.Group("people", "Manage the people (citizens, enterprise agents) who log in",
		append([]*cobra.Command{c.peopleAddCmd(), c.peopleOTPCmd(), c.peopleLinksCmd()}, c.peopleAdminCmds()...)...) // people_admin.go
}

// personJSON is the --json output of `idp people add`. It holds no clear personal data
// beyond the masked number.
type personJSON struct {
	ID             string    `json:"id"`
	Kind           string    `json:"kind"`
	IDNumberMasked string    `json:"id_number_masked"`
	HasPhone       bool      `json:"has_phone"`
	CreatedAt      time.Time `json:"created_at"`
}

func (c *cli) peopleAddCmd() *cobra.Command {
	var (
		idNumber, name, phone, kind string
		asJSON                      bool
	)
	cmd := &cobra.Command{
		Use:   "add --id-number N --name NAME [--phone P]",
		Short: "Register a person; the password is read from standard input",
		Long: `Register a person who can log in with their ID number (or phone number) and a password.

The password is read from standard input: from a terminal it is asked twice without echo;
from a pipe the first line is taken, for example

  printf '%s\n' "$PASSWORD" | idp people add --id-number 11010519491231002X --name 张三

A natural person (--kind natural, the default) has an 18-character resident ID number
(GB 11643-1999); a legal person (--kind legal) has an 18-character unified social credit code
(GB 32100-2015).`,
		Args: cobra.NoArgs,
	}
	f := cmd.Flags()
	f.StringVar(&idNumber, "id-number", "", "resident ID number, or unified social credit code with --kind legal (required)")
	f.StringVar(&name, "name", "", "name as registered (required)")
	f.StringVar(&phone, "phone", "", "mainland China mobile number, also usable to log in")
	f.StringVar(&kind, "kind", string(storage.NaturalPerson), "natural (自然人) or legal (法人)")
	f.BoolVar(&asJSON, "json", false, "print the result as JSON")
	_ = cmd.MarkFlagRequired("id-number")
	_ = cmd.MarkFlagRequired("name")

	cmd.RunE = c.run(func(cmd *cobra.Command, args []string) error {
		log, err := c.setup(cmd, true, func(p *app.Problems) {
			c.cfg.Common.Validate(p)
			if k := storage.PersonKind(kind); k != storage.NaturalPerson && k != storage.LegalPerson {
				p.Addf("--kind: want natural or legal, got %q", kind)
			}
			idpserver.ValidatePasswordIterations(p, c.cfg.PasswordIterations)
		})
		if err != nil {
			return err
		}
		pw, err := app.ReadPassword(c.in, c.errOut, "Password: ", true)
		if err != nil {
			return fmt.Errorf("password: %w", err) // usage errors stay usage errors
		}
		defer clear(pw)

		ctx := cmd.Context()
		b, err := c.openBackend(ctx, log)
		if err != nil {
			return err
		}
		defer b.Close()
		people, err := accounts.New(accounts.Config{
			Store: b.Store, Keyring: b.Keyring, Logger: log, PasswordParams: c.cfg.PasswordParams(),
		})
		if err != nil {
			return classify(err)
		}
		person, err := people.CreatePerson(ctx, accounts.NewPerson{
			Kind:     storage.PersonKind(kind),
			IDNumber: idNumber,
			Name:     name,
			Phone:    phone,
			Password: pw,
		})
		if err != nil {
			return classify(err)
		}
		out := personJSON{
			ID: person.ID, Kind: string(person.Kind), IDNumberMasked: person.IDNumberMasked,
			HasPhone: person.PhoneIndex != nil, CreatedAt: person.CreatedAt,
		}
		if asJSON {
			return app.PrintJSON(c.out, out)
		}
		_, err = fmt.Fprintf(c.out, "registered %s person %s (%s)\n", out.Kind, out.ID, out.IDNumberMasked)
		return err
	})
	return cmd
}
