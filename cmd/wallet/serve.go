package main

import (
	"github.com/spf13/cobra"

	"github.com/tongban/tongban/cmd/internal/app"
	"github.com/tongban/tongban/cmd/internal/walletserver"
)

func (c *cli) serveCmd() *cobra.Command {
	var sc walletserver.Config
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
Every --purge-interval (default 10m; 0 = never) it deletes expired wallet sessions and the
code records (亮证记录) older than 180 days, with their counters' receipts.
Besides the pages and the API it serves GET /trust-list, GET /status-list (the signed status
list of pre-fetched offline codes, fresh for --status-list-validity), /healthz, /readyz and /metrics.
Logs are JSON lines on standard error, without personal data.`,
		Args: cobra.NoArgs,
	}
	sc.AddFlags(cmd.Flags())
	cmd.RunE = c.run(func(cmd *cobra.Command, args []string) error {
		log, err := c.setup(cmd, false, sc.Validate)
		if err != nil {
			return err
		}
		if err := sc.LoadSecret(); err != nil {
			return err
		}
		log.Info("configuration", "sources", c.common.Sources)
		ctx, stop := app.SignalContext(cmd.Context())
		defer stop()
		b, err := app.OpenBackend(ctx, c.common, log) // only serve creates the database and KEK file
		if err != nil {
			return err
		}
		defer b.Close()
		return walletserver.Run(ctx, sc, b, log, nil)
	})
	return cmd
}
