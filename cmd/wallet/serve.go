package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tongban/tongban/cmd/internal/app"
	"github.com/tongban/tongban/qr"
	"github.com/tongban/tongban/wallet"
	"github.com/tongban/tongban/wallet/web"
)

// Defaults of `wallet serve`.
const (
	defaultAddr      = "127.0.0.1:8081"
	defaultIssuer    = "http://127.0.0.1:8080"
	defaultPublicURL = "http://127.0.0.1:8081"
	defaultClientID  = "wallet"
)

// serveConfig is the configuration of `wallet serve` beyond the common settings.
type serveConfig struct {
	HTTP              app.HTTPConfig
	Issuer            string
	ClientID          string
	ClientSecret      string
	ClientSecretFile  string
	PublicURL         string
	APIClients        []string
	APIAudience       string
	IDTokenAlg        string
	KeyIssuer         string
	SessionLifetime   time.Duration
	TrustListPeriod   time.Duration
	TrustListValidity time.Duration
	// StatusListValidity is exp − iat of the status list served at GET /status-list.
	StatusListValidity time.Duration
	PurgeInterval      time.Duration
}

func (c *cli) serveCmd() *cobra.Command {
	var sc serveConfig
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the wallet service",
		Long: `Run the wallet service until SIGINT or SIGTERM, then shut down gracefully.

Citizens log in through the identity provider (--issuer): the wallet is its confidential OIDC
client (--client-id, and the secret from --client-secret-file or TONGBAN_CLIENT_SECRET),
registered with the redirect URI <public-url>/callback, the post-logout redirect URI
<public-url>/ and the scopes "openid profile id_number", for example:

  idp clients add --id wallet --name 电子证照 --redirect-uri http://127.0.0.1:8081/callback \
      --post-logout-redirect-uri http://127.0.0.1:8081/ --scopes "openid profile id_number" \
      --id-token-alg SGD_SM3_SM2 --json

The wallet accepts ID tokens signed only with --id-token-alg (default SGD_SM3_SM2): give the
algorithm the client is registered for.

The JSON API (/api/v1) is deny-by-default: it accepts an access token only when it was issued
to a client named by --api-client (the mobile app; repeat for several) or its aud holds
--api-audience (the wallet's resource identifier). With neither, every API call answers
403 invalid_token and the wallet logs a warning at start; the pages work either way.

On first start it creates the SM2 code-signing and trust-list signing keys in the database.
Every --purge-interval (default 10m; 0 = never) it deletes expired wallet sessions.
Besides the pages and the API it serves GET /trust-list, GET /status-list (the signed status
list of pre-fetched offline codes, fresh for --status-list-validity), /healthz, /readyz and /metrics.
Logs are JSON lines on standard error, without personal data.`,
		Args: cobra.NoArgs,
	}
	f := cmd.Flags()
	sc.HTTP.AddFlags(f, defaultAddr)
	f.StringVar(&sc.Issuer, "issuer", defaultIssuer, "issuer URL of the identity provider")
	f.StringVar(&sc.ClientID, "client-id", defaultClientID, "the wallet's client ID at the identity provider")
	f.StringVar(&sc.ClientSecret, "client-secret", "", "the wallet's client secret (prefer TONGBAN_CLIENT_SECRET or --client-secret-file: a flag shows in the process list)")
	f.StringVar(&sc.ClientSecretFile, "client-secret-file", "", "file holding the wallet's client secret")
	f.StringVar(&sc.PublicURL, "public-url", defaultPublicURL, "the wallet's base URL as browsers reach it (scheme://host[:port])")
	f.StringSliceVar(&sc.APIClients, "api-client", nil, "client ID whose access tokens the JSON API accepts (repeat; default none: with no --api-audience either, the API refuses every token)")
	f.StringVar(&sc.APIAudience, "api-audience", "", "the wallet's resource identifier: the JSON API accepts access tokens whose aud contains it")
	f.StringVar(&sc.IDTokenAlg, "id-token-alg", web.DefaultIDTokenAlg, "the only ID-token signing algorithm accepted: the one the wallet's client is registered for ("+strings.Join(web.IDTokenAlgs, ", ")+")")
	f.StringVar(&sc.KeyIssuer, "key-issuer", wallet.DefaultKeyIssuer, "issuer name of the code-signing key in the trust list")
	f.DurationVar(&sc.SessionLifetime, "session-lifetime", web.DefaultSessionLifetime, "wallet login lifetime")
	f.DurationVar(&sc.TrustListPeriod, "trust-list-period", wallet.DefaultTrustListPeriod, "the trust list is re-issued at least this often")
	f.DurationVar(&sc.TrustListValidity, "trust-list-validity", wallet.DefaultTrustListValidity, "how long a trust list stays fresh; verifiers must update within it")
	addStatusListValidityFlag(f, &sc.StatusListValidity)
	app.AddPurgeFlag(f, &sc.PurgeInterval, "wallet sessions")
	app.Configurable(f, "issuer", "client-id", "client-secret", "client-secret-file", "public-url", "api-client",
		"api-audience", "id-token-alg", "key-issuer", "session-lifetime", "trust-list-period", "trust-list-validity",
		"status-list-validity")

	cmd.RunE = c.run(func(cmd *cobra.Command, args []string) error {
		log, err := c.setup(cmd, false, func(p *app.Problems) {
			sc.HTTP.Validate(p)
			app.ValidatePurgeInterval(p, sc.PurgeInterval)
			if u, err := url.Parse(sc.Issuer); err != nil || !u.IsAbs() || u.Host == "" {
				p.Addf("issuer %q: want an absolute URL", sc.Issuer)
			}
			if u, err := url.Parse(sc.PublicURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || strings.Trim(u.Path, "/") != "" {
				p.Addf("public-url %q: want scheme://host[:port] without a path", sc.PublicURL)
			}
			if sc.ClientSecret != "" && sc.ClientSecretFile != "" {
				p.Addf("client-secret and client-secret-file are both set: give one")
			}
			if !slices.Contains(web.IDTokenAlgs, sc.IDTokenAlg) {
				p.Addf("id-token-alg %q: want one of %s", sc.IDTokenAlg, strings.Join(web.IDTokenAlgs, ", "))
			}
			if slices.Contains(sc.APIClients, "") {
				p.Addf("api-client: empty client ID")
			}
			if sc.ClientSecret == "" && sc.ClientSecretFile == "" {
				p.Addf("client-secret: required (TONGBAN_CLIENT_SECRET or --client-secret-file); register the wallet with 'idp clients add'")
			}
		})
		if err != nil {
			return err
		}
		secret := sc.ClientSecret
		if sc.ClientSecretFile != "" {
			b, err := os.ReadFile(sc.ClientSecretFile)
			if err != nil {
				return app.Usagef("client-secret-file: %w", err)
			}
			secret = strings.TrimSpace(string(b))
		}
		log.Info("configuration", "sources", c.common.Sources)
		ctx, stop := app.SignalContext(cmd.Context())
		defer stop()
		c.mayCreate = true
		svc, closeFn, err := c.openService(ctx, log, wallet.ServiceConfig{
			KeyIssuer: sc.KeyIssuer, TrustListPeriod: sc.TrustListPeriod, TrustListValidity: sc.TrustListValidity,
			StatusListValidity: sc.StatusListValidity,
		})
		if err != nil {
			return err
		}
		defer closeFn()
		srv, err := web.NewServer(ctx, web.Config{
			Service: svc, Issuer: sc.Issuer, ClientID: sc.ClientID, ClientSecret: secret,
			PublicURL: sc.PublicURL, Logger: log, APIClients: sc.APIClients, APIAudience: sc.APIAudience,
			IDTokenAlg: sc.IDTokenAlg, SessionLifetime: sc.SessionLifetime,
		})
		if err != nil {
			return app.Usage(err)
		}
		anchors, err := svc.TrustAnchors(ctx)
		if err != nil {
			return err
		}
		m := app.NewMetrics()
		handler := app.OpsHandler(srv.Handler(), srv.Ready, m, log)
		ln, err := sc.HTTP.Listen(ctx)
		if err != nil {
			return err
		}
		if len(sc.APIClients) == 0 && sc.APIAudience == "" {
			log.Warn("the JSON API accepts no tokens: give --api-client (the mobile app's client ID) or --api-audience to enable it")
		}
		// The wallet's own expired records are its server-side sessions; nothing else it stores
		// expires. In a database shared with the provider both purge: deleting by expiry only,
		// that is harmless.
		stopPurge := app.StartPurge(ctx, sc.PurgeInterval, func(ctx context.Context) (map[string]int64, error) {
			n, err := srv.Purge(ctx)
			return map[string]int64{"login_sessions": n}, err
		}, log)
		defer stopPurge() // before closeFn closes the storage
		log.Info("wallet starting", "public_url", sc.PublicURL, "issuer", sc.Issuer,
			"trust_anchor", qr.AnchorFingerprint(anchors[0]))
		if err := app.Serve(ctx, ln, handler, sc.HTTP, log); err != nil {
			return fmt.Errorf("serve: %w", err)
		}
		return nil
	})
	return cmd
}
