package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/tongban/tongban/cmd/internal/app"
	"github.com/tongban/tongban/wallet"
)

// cli is the state shared by the commands of one run.
type cli struct {
	in     io.Reader
	out    io.Writer
	errOut io.Writer
	env    func(string) (string, bool)

	// common holds --config, --db, --kek-file and --log-level (persistent flags of the root).
	common app.Common
	// running is set once a command's own run function starts: errors before that (unknown
	// command or flag, wrong arguments, missing required flags) are usage errors.
	running bool
	// exit, when set, is the exit status the command chose itself (verify, import).
	exit *int
}

// Main runs the wallet command line with args (without the program name) and returns the
// exit status (app.ExitOK, app.ExitFailure or app.ExitUsage). Errors are printed to errOut
// as "wallet: message".
func Main(args []string, in io.Reader, out, errOut io.Writer, env func(string) (string, bool)) int {
	c := &cli{in: in, out: out, errOut: errOut, env: env}
	code := app.Execute(c.newRoot(), args, errOut, &c.running, "Run 'wallet help' or add --help to a command for usage.")
	if code == app.ExitOK && c.exit != nil {
		return *c.exit
	}
	return code
}

func (c *cli) newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "wallet",
		Short: "tongban's e-licence wallet: dynamic signed QR codes and their offline verification",
		Long: `wallet is tongban's e-licence wallet (电子证照).

  wallet serve                          run the wallet service (citizens' pages, mobile API, trust list)
  wallet licences import FILE           store licences pushed by issuing authorities (JSON Lines)
  wallet licences list --holder N       list a holder's licences (masked)
  wallet licences revoke|suspend|restore (--id ID | --kind K --number N)
  wallet code --holder N --kind K[,K…]  mint a code from the command line
  wallet trust-list export FILE         write the signed trust list and its trust anchor
  wallet trust-list show FILE           check a trust list offline and show what it trusts
  wallet trust-list rotate-anchor prepare|commit  rotate the trust anchor in two phases
  wallet verify --trust-list FILE CODE  check a code offline (counters): exit 0 valid, 1 rejected
  wallet keys list|rotate               list the signing keys; rotate the code-signing key
  wallet counters add|list|disable      the counters (柜台) that send receipts for the holder's record
  wallet audit verify|list|show|checkpoint  check and read the tamper-evident audit log

Settings come from flags, then TONGBAN_* environment variables, then the config file
(--config), then defaults; the database and key-encryption key are the identity provider's
(--db, --kek-file). wallet verify needs neither. See docs/verifiers/counter-guide.md.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
		RunE:          func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	root.CompletionOptions.DisableDefaultCmd = true
	root.SetIn(c.in)
	root.SetOut(c.out)
	root.SetErr(c.errOut)
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error { return app.Usage(err) })
	c.common.AddFlags(root.PersistentFlags())
	root.AddCommand(c.serveCmd(), c.licencesCmd(), c.codeCmd(), c.trustListCmd(), c.statusListCmd(), c.verifyCmd(), c.verifierCmd(), c.keysCmd(), c.countersCmd(), app.AuditCommands{
		Open: func(cmd *cobra.Command) (*app.Backend, error) {
			log, err := c.setup(cmd, true, nil)
			if err != nil {
				return nil, err
			}
			return app.OpenExisting(cmd.Context(), c.common, log)
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

// setup runs app.Common.Setup with the common validation followed by validate (may be nil).
func (c *cli) setup(cmd *cobra.Command, admin bool, validate func(p *app.Problems)) (*slog.Logger, error) {
	return c.common.Setup(cmd, c.env, c.errOut, admin, func(p *app.Problems) {
		c.common.Validate(p)
		if validate != nil {
			validate(p)
		}
	})
}

// adminService runs setup for an admin command (validate may be nil) and opens the wallet
// service; the caller defers the returned close function. cfg (nil = zero configuration) is
// called after setup, so flags set from the environment or a config file are already in place.
func (c *cli) adminService(cmd *cobra.Command, validate func(p *app.Problems), cfg func() wallet.ServiceConfig) (context.Context, *wallet.Service, func(), error) {
	log, err := c.setup(cmd, true, validate)
	if err != nil {
		return nil, nil, nil, err
	}
	var sc wallet.ServiceConfig
	if cfg != nil {
		sc = cfg()
	}
	ctx := cmd.Context()
	svc, closeFn, err := c.openService(ctx, log, sc)
	if err != nil {
		return nil, nil, nil, err
	}
	return ctx, svc, closeFn, nil
}

// openService opens the existing storage, key-encryption key and keyring (app.OpenExisting:
// a missing --db file or --kek-file is an error; only serve creates them) and the wallet
// service on them, which creates the code-signing and trust-list keys on first use.
func (c *cli) openService(ctx context.Context, log *slog.Logger, cfg wallet.ServiceConfig) (*wallet.Service, func(), error) {
	b, err := app.OpenExisting(ctx, c.common, log)
	if err != nil {
		return nil, nil, err
	}
	cfg.Store, cfg.Keyring, cfg.Logger = b.Store, b.Keyring, log
	svc, err := wallet.NewService(ctx, cfg)
	if err != nil {
		b.Close()
		return nil, nil, err
	}
	return svc, func() { b.Close() }, nil
}

// writeFileAtomic writes data to path through a temporary file in the same directory and a
// rename, so that a reader (a verifier picking up a new trust list) never sees half a file.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
