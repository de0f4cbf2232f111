package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tongban/tongban/accounts"
	"github.com/tongban/tongban/cmd/internal/app"
	"github.com/tongban/tongban/cmd/internal/idpserver"
	"github.com/tongban/tongban/oidc"
	"github.com/tongban/tongban/storage"
)

// cli is the state shared by the commands of one run.
type cli struct {
	in     *os.File
	out    io.Writer
	errOut io.Writer
	env    func(string) (string, bool)

	// cfg holds every setting: the common ones and --password-iterations are persistent
	// flags of the root; serve adds the rest.
	cfg idpserver.Config

	// running is set once a command's own run function starts: errors before that (unknown
	// command or flag, wrong arguments, missing required flags) are usage errors.
	running bool
}

// Main runs the idp command line with args (without the program name) and returns the exit
// status (app.ExitOK, app.ExitFailure or app.ExitUsage). Errors are printed to errOut as
// "idp: message".
func Main(args []string, in *os.File, out, errOut io.Writer, env func(string) (string, bool)) int {
	c := &cli{in: in, out: out, errOut: errOut, env: env}
	return app.Execute(c.newRoot(), args, errOut, &c.running, "Run 'idp help' or add --help to a command for usage.")
}

func (c *cli) newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "idp",
		Short: "tongban's OpenID Connect provider (SM2, ES256 and RS256 ID tokens)",
		Long: `idp is tongban's OpenID Connect provider.

  idp serve                 run the provider
  idp people add            register a person (password read from standard input)
  idp people otp list|remove
                            a person's one-time-password devices (lost-device help)
  idp people find|disable|enable|unlock|reset-link|end-sessions
                            people administration at a service hall (audited)
  idp corrections list|apply|reject
                            the corrections (纠错) people ask for on their account page
  idp admins grant|revoke|list
                            roles of the admin console at /admin
  idp clients add|list      register and list relying apps
  idp keys list|rotate      list and rotate the ID-token signing keys
  idp keys rewrap           move the stored keys to a key-encryption key in a PKCS#11 token
  idp kek pkcs11-generate   create that key-encryption key inside the token
  idp federation show|authority|anchor|subordinate|resolve|trust-mark
                            this entity's place in an OpenID Federation
  idp audit verify|list|show|checkpoint
                            check and read the tamper-evident audit log

Settings come from flags, then TONGBAN_* environment variables, then the config file
(--config), then defaults. See docs/operators/idp.md.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return cmd.Help()
		},
	}
	root.CompletionOptions.DisableDefaultCmd = true
	root.SetIn(c.in)
	root.SetOut(c.out)
	root.SetErr(c.errOut)
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error { return app.Usage(err) })

	pf := root.PersistentFlags()
	c.cfg.Common.AddFlags(pf)
	idpserver.AddPasswordFlag(pf, &c.cfg.PasswordIterations)

	root.AddCommand(c.serveCmd(), c.peopleCmd(), c.correctionsCmd(), c.adminsCmd(), c.clientsCmd(), c.companiesCmd(), c.keysCmd(), c.kekCmd(), c.upstreamsCmd(), c.federationCmd(), app.AuditCommands{
		Open: func(cmd *cobra.Command) (*app.Backend, error) {
			log, err := c.setup(cmd, true, nil)
			if err != nil {
				return nil, err
			}
			return app.OpenExisting(cmd.Context(), c.cfg.Common, log)
		},
		Run: c.run,
		Out: func() io.Writer { return c.out },
	}.Command())
	return root
}

// run wraps a command's run function: it marks the run as started, so that the errors it
// returns are classified by app.ExitCode.
func (c *cli) run(fn func(cmd *cobra.Command, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		c.running = true
		return fn(cmd, args)
	}
}

// setup runs app.Common.Setup: validate, when given, replaces the common validation (callers
// include c.cfg.Common.Validate or c.cfg.Validate themselves).
func (c *cli) setup(cmd *cobra.Command, admin bool, validate func(p *app.Problems)) (*slog.Logger, error) {
	return c.cfg.Common.Setup(cmd, c.env, c.errOut, admin, validate)
}

// openBackend opens the existing storage and key-encryption key (app.OpenExisting: a missing
// --db file or --kek-file is an error; only serve and the demo create them) and the keyring, and
// creates the missing ID-token signing keys, as `idp serve` would.
func (c *cli) openBackend(ctx context.Context, log *slog.Logger) (*app.Backend, error) {
	b, err := app.OpenExisting(ctx, c.cfg.Common, log) // only serve and the demo create them
	if err != nil {
		return nil, err
	}
	if err := b.Keyring.EnsureSigningKeys(ctx, storage.PurposeIDToken, idpserver.SigningAlgorithms...); err != nil {
		b.Close()
		return nil, fmt.Errorf("create signing keys: %w", err)
	}
	return b, nil
}

// validationErrors are oidc's and accounts' errors for a wrong argument; they exit with status 2.
var validationErrors = []error{
	accounts.ErrInvalidConfig, accounts.ErrInvalidPersonKind, accounts.ErrInvalidIDNumber, accounts.ErrInvalidName,
	accounts.ErrInvalidPhone, accounts.ErrInvalidPassword,
	oidc.ErrInvalidConfig, oidc.ErrInvalidClientID,
	oidc.ErrInvalidRedirectURI, oidc.ErrInvalidClientName, oidc.ErrInvalidGrantType, oidc.ErrInvalidScope,
	oidc.ErrInvalidAlgorithm, oidc.ErrInvalidSubjectType, oidc.ErrInvalidAuthMethod, oidc.ErrInvalidAccessTokenFormat,
	oidc.ErrInvalidPurpose,                                                                        // licence lookup
	oidc.ErrReasonRequired, oidc.ErrInvalidOverlap, oidc.ErrInvalidDepartment, oidc.ErrInvalidTTL, // clients_lifecycle.go
	oidc.ErrInvalidLogoURI, oidc.ErrInvalidJWKS,
}

// A duplicate (accounts.ErrPersonExists, oidc.ErrClientExists) is a conflict with the stored
// data, not wrong usage: it exits with status 1 and no usage hint.

// classify marks err as a usage error when it wraps one of the validation errors.
func classify(err error) error {
	for _, v := range validationErrors {
		if errors.Is(err, v) {
			return app.Usage(err)
		}
	}
	return err
}

// splitList splits comma- or blank-separated values, dropping empty ones.
func splitList(values ...string) []string {
	var out []string
	for _, v := range values {
		out = append(out, strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })...)
	}
	return out
}
