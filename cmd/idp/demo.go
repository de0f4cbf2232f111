package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tongban/tongban/cmd/internal/app"
	"github.com/tongban/tongban/cmd/internal/idpserver"
	"github.com/tongban/tongban/keyring"
	"github.com/tongban/tongban/oidc"
	"github.com/tongban/tongban/qr"
	"github.com/tongban/tongban/storage"
	"github.com/tongban/tongban/wallet"
	"github.com/tongban/tongban/wallet/web"
)

// The demo's made-up citizen: the holder of docs/examples/licences.jsonl (a valid GB 11643-1999
// number, check character X) and an authorised agent of its business licence.
const (
	demoIDNumber = "11010119900307002X"
	demoName     = "林晓彤"
	demoPassword = "demo-password-2026"
	demoWalletID = "wallet"
	// demoWalletAlg is the wallet client's ID-token algorithm, registered and pinned alike.
	demoWalletAlg = oidc.AlgSM2
	demoAppID     = "demo-app"
	// demoVerifier is the PKCE code_verifier printed for trying the demo app's flow by hand.
	// Printing a verifier defeats PKCE: it is for the demo app only.
	demoVerifier = "tongban-demo-verifier-0123456789-abcdefghijklmnop"
	demoAppPort  = "9999" // any loopback port works for the demo app (RFC 8252 §7.3)
)

// demoOptions are the flags of `idp demo`.
type demoOptions struct {
	addr, walletAddr, dir, licences string
	purgeInterval                   time.Duration
	apiClients                      []string // client IDs whose access tokens the wallet's JSON API accepts
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
See docs/demo.md.`,
		Example: "  go run ./cmd/idp demo\n  go run ./cmd/idp demo --addr 127.0.0.1:9080 --wallet-addr 127.0.0.1:9081 --dir /tmp/tongban",
		Args:    cobra.NoArgs,
	}
	f := cmd.Flags()
	f.StringVar(&o.addr, "addr", idpserver.DefaultAddr, "identity provider listen address (its issuer is http://ADDR)")
	f.StringVar(&o.walletAddr, "wallet-addr", "127.0.0.1:8081", "wallet listen address (its URL is http://ADDR)")
	f.StringVar(&o.dir, "dir", "./var", "directory of the database, the key-encryption key and the trust list files")
	f.StringVar(&o.licences, "licences", "docs/examples/licences.jsonl", "demo licences to import (JSON Lines)")
	f.StringSliceVar(&o.apiClients, "api-client", nil, "client ID whose access tokens the wallet's JSON API accepts (repeat; default none: the API refuses every token)")
	app.AddPurgeFlag(f, &o.purgeInterval, idpserver.PurgedRecords+" (the wallet's sessions included)")

	cmd.RunE = c.run(func(cmd *cobra.Command, args []string) error {
		log, err := c.setup(cmd, true, func(p *app.Problems) {
			c.cfg.Common.Validate(p)
			app.ValidatePurgeInterval(p, o.purgeInterval)
			for _, id := range o.apiClients {
				if strings.TrimSpace(id) == "" {
					p.Addf("api-client: empty client ID")
				}
			}
		})
		if err != nil {
			return err
		}
		common := c.cfg.Common
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
			common: common, iterations: c.cfg.PasswordIterations, opts: o, licences: lic, out: c.out, log: log,
		})
	})
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

// runDemo is `idp demo` after the flags: listen, open, seed, print, serve both until ctx ends.
func runDemo(ctx context.Context, d demoSetup) error {
	idpCfg := idpserver.DefaultConfig()
	idpCfg.Common = d.common
	idpCfg.PasswordIterations = d.iterations
	idpCfg.HTTP.Addr = d.opts.addr
	idpCfg.PurgeInterval = d.opts.purgeInterval
	walHTTP := idpCfg.HTTP
	walHTTP.Addr = d.opts.walletAddr

	// Listen first: the issuer and the wallet's redirect URI name the real ports.
	idpLn, err := idpCfg.HTTP.Listen(ctx)
	if err != nil {
		return err
	}
	defer idpLn.Close()
	walLn, err := walHTTP.Listen(ctx)
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
	idp, err := idpserver.NewService(ctx, idpCfg, b, d.log)
	if err != nil {
		return err
	}
	svc, err := wallet.NewService(ctx, wallet.ServiceConfig{Store: b.Store, Keyring: b.Keyring, Logger: d.log})
	if err != nil {
		return err
	}
	seed, err := seedDemo(ctx, b.Store, b.Keyring, svc, idpCfg, walletURL, d.licences)
	if err != nil {
		return fmt.Errorf("demo data: %w", err)
	}
	// The wallet accepts ID tokens in the algorithm its client is registered for. Its JSON
	// API accepts the tokens of the --api-client apps only; without one it is off (every
	// token is refused): the demo seeds no mobile app, and demo-app is not granted id_number.
	walSrv, err := web.NewServer(ctx, web.Config{
		Service: svc, Issuer: idpCfg.Issuer, ClientID: demoWalletID, ClientSecret: seed.walletSecret,
		PublicURL: walletURL, Logger: d.log, IDTokenAlg: demoWalletAlg, APIClients: d.opts.apiClients,
	})
	if err != nil {
		return err
	}
	listPath := filepath.Join(d.opts.dir, "trust-list.cose")
	anchorPath := filepath.Join(d.opts.dir, "trust-anchor.pem")
	fingerprint, err := writeTrustFiles(ctx, svc, listPath, anchorPath)
	if err != nil {
		return err
	}

	printDemo(d.out, demoBanner{
		issuer: idpCfg.Issuer, wallet: walletURL, list: listPath, anchor: anchorPath, fingerprint: fingerprint,
		licences: seed.licences, db: d.common.DB, kek: d.common.KEKFile,
	})

	// One database: the provider's purge deletes the wallet's expired sessions as well.
	stopPurge := idp.StartPurge(ctx, idpCfg.PurgeInterval, d.log.With("service", "idp"))
	defer stopPurge() // before b.Close

	m := app.NewMetrics()
	walHandler := app.OpsHandler(walSrv.Handler(), walSrv.Ready, m, d.log)
	errc := make(chan error, 2)
	go func() { errc <- app.Serve(ctx, idpLn, idp.Handler, idpCfg.HTTP, d.log.With("service", "idp")) }()
	go func() { errc <- app.Serve(ctx, walLn, walHandler, walHTTP, d.log.With("service", "wallet")) }()
	// Both servers stop when ctx ends; if one fails first, the other keeps serving until
	// Ctrl-C, so report the failure at once.
	first := <-errc
	if first != nil {
		d.log.Error("a demo service stopped; press Ctrl-C to stop the other", "err", first.Error())
	}
	return errors.Join(first, <-errc)
}

type seeded struct {
	walletSecret string
	licences     int
}

// seedDemo makes the demo data present, idempotently: the person (kept if registered), the
// wallet client (created, or updated to the current redirect URIs; its secret is replaced on
// every start, since only its hash is stored), the demo app, and the licences (re-import
// updates).
func seedDemo(ctx context.Context, store storage.Storage, kr *keyring.Keyring, svc *wallet.Service, cfg idpserver.Config, walletURL string, licences []byte) (*seeded, error) {
	_, err := oidc.CreatePerson(ctx, store, kr, oidc.NewPerson{
		IDNumber: demoIDNumber, Name: demoName, Password: []byte(demoPassword),
	}, cfg.PasswordParams())
	if err != nil && !errors.Is(err, oidc.ErrPersonExists) {
		return nil, fmt.Errorf("person: %w", err)
	}

	walletClient := oidc.NewClient{
		ID: demoWalletID, Name: "电子证照 (demo wallet)",
		RedirectURIs:           []string{walletURL + "/callback"},
		PostLogoutRedirectURIs: []string{walletURL + "/"},
		Scopes:                 []string{oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeIDNumber},
		IDTokenAlg:             demoWalletAlg,
	}
	_, secret, err := oidc.CreateClient(ctx, store, kr, walletClient)
	if errors.Is(err, oidc.ErrClientExists) {
		secret = newSecret()
		err = store.UpdateClient(ctx, demoWalletID, func(c *storage.Client) error {
			c.RedirectURIs = walletClient.RedirectURIs
			c.PostLogoutRedirectURIs = walletClient.PostLogoutRedirectURIs
			c.Scopes = walletClient.Scopes
			c.IDTokenSignedResponseAlg = walletClient.IDTokenAlg
			c.SecretHash = kr.ClientSecretHash(secret)
			return nil
		})
	}
	if err != nil {
		return nil, fmt.Errorf("wallet client: %w", err)
	}

	_, _, err = oidc.CreateClient(ctx, store, kr, oidc.NewClient{
		ID: demoAppID, Name: "示例应用 (demo app)", Public: true,
		RedirectURIs: []string{"http://127.0.0.1/callback"},
		Scopes:       []string{oidc.ScopeOpenID, oidc.ScopeProfile},
		IDTokenAlg:   oidc.AlgSM2,
	})
	if err != nil && !errors.Is(err, oidc.ErrClientExists) {
		return nil, fmt.Errorf("demo app: %w", err)
	}

	rep, err := svc.Import(ctx, bytes.NewReader(licences), wallet.Operator)
	if err != nil {
		return nil, fmt.Errorf("licences: %w", err)
	}
	if len(rep.Rejected) > 0 {
		return nil, fmt.Errorf("licences: %d line(s) rejected, first: %v", len(rep.Rejected), rep.Rejected[0])
	}
	return &seeded{walletSecret: secret, licences: len(rep.Stored)}, nil
}

// writeTrustFiles writes the signed trust list and its trust anchor and returns the anchor's
// fingerprint.
func writeTrustFiles(ctx context.Context, svc *wallet.Service, listPath, anchorPath string) (string, error) {
	signed, _, err := svc.TrustList(ctx)
	if err != nil {
		return "", err
	}
	anchors, err := svc.TrustAnchors(ctx)
	if err != nil {
		return "", err
	}
	pemBytes, err := wallet.MarshalTrustAnchors(anchors)
	if err != nil {
		return "", err
	}
	for _, f := range []struct {
		path string
		data []byte
	}{{listPath, signed}, {anchorPath, pemBytes}} {
		tmp := f.path + ".tmp"
		if err := os.WriteFile(tmp, f.data, 0o644); err != nil {
			return "", fmt.Errorf("write %s: %w", f.path, err)
		}
		if err := os.Rename(tmp, f.path); err != nil {
			return "", fmt.Errorf("write %s: %w", f.path, err)
		}
	}
	return qr.AnchorFingerprint(anchors[0]), nil
}

type demoBanner struct {
	issuer, wallet, list, anchor, fingerprint, db, kek string
	licences                                           int
}

// printDemo prints what docs/demo.md walks through.
func printDemo(w io.Writer, b demoBanner) {
	// Extra flags for the wallet commands when the database is not the default one.
	extra := ""
	if filepath.Clean(b.db) != filepath.Clean(app.DefaultDB) || filepath.Clean(b.kek) != filepath.Clean(app.DefaultKEKFile) {
		extra = " --db " + b.db + " --kek-file " + b.kek
	}
	challenge := sha256.Sum256([]byte(demoVerifier))
	appRedirect := "http://127.0.0.1:" + demoAppPort + "/callback"
	authz := b.issuer + "/authorize?" + url.Values{
		"client_id": {demoAppID}, "response_type": {"code"}, "scope": {"openid profile"},
		"redirect_uri": {appRedirect}, "state": {"demo-state-12345"}, "nonce": {"demo-nonce-12345"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(challenge[:])}, "code_challenge_method": {"S256"},
	}.Encode()
	lines := []string{
		"tongban demo is running. Ctrl-C stops both services.",
		"",
		"  identity provider  " + b.issuer + "   (discovery: " + b.issuer + "/.well-known/openid-configuration)",
		"  e-licence wallet   " + b.wallet,
		"",
		"Demo login (a made-up citizen):",
		"  ID number  " + demoIDNumber,
		"  password   " + demoPassword,
		"  name       " + demoName,
		fmt.Sprintf("  licences   %d, one of every kind", b.licences),
		"",
		"Trust list for verifiers: " + b.list + " (trust anchor " + b.anchor + ", fingerprint " + b.fingerprint + ")",
		"",
		"Next:",
		"  1. Open " + b.wallet + " and log in with the ID number and password above.",
		"  2. Press 亮证 on a licence: its QR code refreshes every 30 s. 多码合一 combines several.",
		"  3. Press 保存二维码图片 and save the image as code.png in this directory, then",
		"     within 60 seconds verify it offline:",
		"       go run ./cmd/wallet verify --trust-list " + b.list + " --png code.png",
		"  Or mint a code from the command line and verify it:",
		"       go run ./cmd/wallet code" + extra + " --holder " + demoIDNumber + " --kind resident-id --png code.png",
		"       go run ./cmd/wallet verify --trust-list " + b.list + " --png code.png",
		"",
		"Demo relying app " + demoAppID + " (public client, PKCE S256, redirect http://127.0.0.1/callback on any port):",
		"  open   " + authz,
		"  then copy the code from the address bar (" + appRedirect + "?code=…) and run",
		"       curl -s " + b.issuer + "/token -d grant_type=authorization_code -d client_id=" + demoAppID +
			" -d redirect_uri=" + appRedirect + " -d code_verifier=" + demoVerifier + " -d code=CODE",
		"",
	}
	fmt.Fprintln(w, strings.Join(lines, "\n"))
}

// newSecret returns a 256-bit random client secret, base64url without padding.
func newSecret() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
