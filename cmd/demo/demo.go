package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tongban/tongban/cmd/internal/app"
	"github.com/tongban/tongban/cmd/internal/idpserver"
	"github.com/tongban/tongban/cmd/internal/walletserver"
	"github.com/tongban/tongban/oidc"
	"github.com/tongban/tongban/storage/health"
	"github.com/tongban/tongban/wallet"
)

// The demo's made-up citizen: the holder of docs/examples/licences.jsonl (a valid GB 11643-1999
// number, check character X) and an authorised agent of its business licence.
const (
	demoIDNumber = "11010119900307002X"
	demoName     = "林晓彤"
	demoPassword = "demo-password-2026"
	demoPhone    = "13800138000" // made up; the console notifier prints recovery codes for it
	demoWalletID = "wallet"
	// demoWalletAlg is the wallet client's ID-token algorithm, registered and pinned alike.
	demoWalletAlg = oidc.AlgSM2
	demoAppID     = "demo-app"
	// demoVerifier is the PKCE code_verifier printed for trying the demo app's flow by hand.
	// Printing a verifier defeats PKCE: it is for the demo app only.
	demoVerifier = "tongban-demo-verifier-0123456789-abcdefghijklmnop"
	demoAppPort  = "9999" // any loopback port works for the demo app (RFC 8252 §7.3)

	// The admin console's demo (seedAdmin): a made-up operator with the roles operator,
	// reviewer and auditor (same password as the citizen), a department app reading resident
	// ID cards after consent, and an app waiting for review.
	demoOperatorIDNumber = "110102198005150033"
	demoOperatorName     = "周建国"
	demoDepartment       = "demo"
	demoLookupAppID      = "demo-lookup"
	demoPendingAppID     = "demo-pending"
)

// demoOptions are the flags of the demo beyond the common ones.
type demoOptions struct {
	addr, walletAddr, dir, licences string
	purgeInterval                   time.Duration
	apiClients                      []string // client IDs whose access tokens the wallet's JSON API accepts
	notifier                        string   // "console" or "none": how access-recovery codes are sent
}

func (c *cli) demoCmd() *cobra.Command {
	var o demoOptions
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the identity provider and the wallet together, with demo data",
		Long: `Run the identity provider and the e-licence wallet in one process on an embedded SQLite
database under --dir (default ./var), until Ctrl-C (SIGINT) or SIGTERM stops both gracefully.

On every start it makes sure, without duplicating anything, that the database holds a made-up
citizen with a password, a licence of every kind (imported from --licences), the wallet's OIDC
client and a demo relying app; it writes the signed trust list and its trust anchor into --dir
for 'wallet verify'; and it prints the URLs, the demo login and the next commands to try.
The wallet's JSON API accepts no token unless --api-client names the app whose tokens it
accepts (as 'wallet serve --api-client'; register the app with 'idp clients add').

Settings come from flags, then TONGBAN_* environment variables, then the config file
(--config), then defaults. See docs/demo.md.`,
		Example: "  go run ./cmd/demo\n  go run ./cmd/demo --addr 127.0.0.1:9080 --wallet-addr 127.0.0.1:9081 --dir /tmp/tongban",
		Args:    cobra.NoArgs,
	}
	f := cmd.Flags()
	c.common.AddFlags(f)
	idpserver.AddPasswordFlag(f, &c.iterations)
	f.StringVar(&o.addr, "addr", idpserver.DefaultAddr, "identity provider listen address (its issuer is http://ADDR)")
	f.StringVar(&o.walletAddr, "wallet-addr", walletserver.DefaultAddr, "wallet listen address (its URL is http://ADDR)")
	f.StringVar(&o.dir, "dir", "./var", "directory of the database, the key-encryption key and the trust list files")
	f.StringVar(&o.licences, "licences", "docs/examples/licences.jsonl", "demo licences to import (JSON Lines)")
	f.StringSliceVar(&o.apiClients, "api-client", nil, "client ID whose access tokens the wallet's JSON API accepts (repeat; default none: the API refuses every token)")
	app.AddPurgeFlag(f, &o.purgeInterval, idpserver.PurgedRecords+" (the wallet's sessions included)")
	f.StringVar(&o.notifier, "notifier", "console", "how access-recovery codes are sent: console (printed with the demo's output) or none (recovery off)")

	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		c.running = true
		log, err := c.common.Setup(cmd, c.env, c.errOut, true, func(p *app.Problems) {
			c.common.Validate(p)
			app.ValidatePurgeInterval(p, o.purgeInterval)
			if o.notifier != "console" && o.notifier != "none" {
				p.Addf("notifier: want console or none, got %q", o.notifier)
			}
			for _, id := range o.apiClients {
				if strings.TrimSpace(id) == "" {
					p.Addf("api-client: empty client ID")
				}
			}
		})
		if err != nil {
			return err
		}
		common := c.common
		if s := common.Sources["db"]; s == "" || s == app.SourceDefault {
			common.DB = filepath.Join(o.dir, "tongban.db")
		}
		if s := common.Sources["kek-file"]; s == "" || s == app.SourceDefault {
			common.KEKFile = filepath.Join(o.dir, "kek")
		}
		lic, err := os.ReadFile(o.licences)
		if err != nil {
			return app.Usagef("--licences: %w (run the demo from the repository root, or name the file)", err)
		}
		ctx, stop := app.SignalContext(cmd.Context())
		defer stop()
		return runDemo(ctx, demoSetup{
			common: common, iterations: c.iterations, opts: o, licences: lic, out: c.out, log: log,
		})
	}
	return cmd
}

type demoSetup struct {
	common     app.Common
	iterations int
	opts       demoOptions
	licences   []byte
	out        io.Writer
	log        *slog.Logger
}

// runDemo is the demo after the flags: listen, open, seed, print, serve both until ctx ends.
func runDemo(ctx context.Context, d demoSetup) error {
	idpCfg := idpserver.DefaultConfig()
	idpCfg.Common = d.common
	idpCfg.PasswordIterations = d.iterations
	idpCfg.HTTP.Addr = d.opts.addr
	idpCfg.PurgeInterval = d.opts.purgeInterval
	idpCfg.Notifier, idpCfg.NotifierOut = d.opts.notifier, d.out
	walCfg := walletserver.DefaultConfig()
	walCfg.HTTP = idpCfg.HTTP
	walCfg.HTTP.Addr = d.opts.walletAddr

	// Listen first: the issuer and the wallet's redirect URI name the real ports.
	idpLn, err := idpCfg.HTTP.Listen(ctx, d.log)
	if err != nil {
		return err
	}
	defer idpLn.Close()
	walLn, err := walCfg.HTTP.Listen(ctx, d.log)
	if err != nil {
		return err
	}
	defer walLn.Close()
	idpCfg.Issuer = "http://" + idpLn.Addr().String()
	walletURL := "http://" + walLn.Addr().String()
	var p app.Problems
	idpCfg.Validate(&p)
	if err := p.Err(); err != nil {
		return err
	}

	b, err := app.OpenBackend(ctx, d.common, d.log)
	if err != nil {
		return err
	}
	defer b.Close()
	// Corrections of licence fields reach the demo's licences: the wallet shares the database.
	idpCfg.Licences, err = wallet.NewService(ctx, wallet.ServiceConfig{Store: b.Store, Keyring: b.Keyring, Logger: d.log})
	if err != nil {
		return err
	}
	idp, err := idpserver.NewService(ctx, idpCfg, b, d.log)
	if err != nil {
		return err
	}
	walletSecret, err := seedAccounts(ctx, b.Store, b.Keyring, idpCfg, walletURL)
	if err != nil {
		return fmt.Errorf("demo data: %w", err)
	}
	// The wallet accepts ID tokens in the algorithm its client is registered for. Its JSON
	// API accepts the tokens of the --api-client apps only; without one it is off (every
	// token is refused): the demo seeds no mobile app, and demo-app is not granted id_number.
	walCfg.Issuer, walCfg.PublicURL = idpCfg.Issuer, walletURL
	walCfg.ClientID, walCfg.ClientSecret, walCfg.IDTokenAlg = demoWalletID, walletSecret, demoWalletAlg
	walCfg.APIClients = d.opts.apiClients
	wal, err := walletserver.NewService(ctx, walCfg, b, d.log)
	if err != nil {
		return err
	}
	licences, err := importLicences(ctx, wal.Wallet, d.licences)
	if err != nil {
		return fmt.Errorf("demo data: %w", err)
	}
	listPath := filepath.Join(d.opts.dir, "trust-list.cose")
	anchorPath := filepath.Join(d.opts.dir, "trust-anchor.pem")
	fingerprint, err := writeTrustFiles(ctx, wal.Wallet, listPath, anchorPath)
	if err != nil {
		return err
	}

	printDemo(d.out, demoBanner{
		issuer: idpCfg.Issuer, wallet: walletURL, list: listPath, anchor: anchorPath, fingerprint: fingerprint,
		licences: licences, db: d.common.DB, kek: d.common.KEKFile, notifier: d.opts.notifier,
	})

	// One database: the provider's purge deletes the wallet's expired sessions as well.
	stopPurge := idp.StartPurge(ctx, idpCfg.PurgeInterval, d.log.With("service", "idp"))
	defer stopPurge() // before b.Close
	stopAppStats := idp.OIDC.StartAppStats(ctx)
	defer stopAppStats()                             // after the servers drained their requests: flushes the last per-app counts
	stopLogouts := idp.OIDC.StartLogoutDelivery(ctx) // back-channel logout (the wallet's session too)
	defer stopLogouts()
	// One database, one audit chain: checkpoints signed by one process.
	stopAudit, err := app.StartAudit(ctx, idpCfg.Audit, b, d.log)
	if err != nil {
		return err
	}
	defer stopAudit() // after both servers drained their requests, before b.Close
	for _, h := range []*health.Monitor{idp.Health, wal.Health} {
		stop := app.StartHealth(ctx, h)
		defer stop()
	}

	errc := make(chan error, 2)
	go func() { errc <- app.Serve(ctx, idpLn, idp.Handler, idpCfg.HTTP, d.log.With("service", "idp")) }()
	go func() { errc <- app.Serve(ctx, walLn, wal.Handler, walCfg.HTTP, d.log.With("service", "wallet")) }()
	// Both servers stop when ctx ends; if one fails first, the other keeps serving until
	// Ctrl-C, so report the failure at once.
	first := <-errc
	if first != nil {
		d.log.Error("a demo service stopped; press Ctrl-C to stop the other", "err", first.Error())
	}
	return errors.Join(first, <-errc)
}
