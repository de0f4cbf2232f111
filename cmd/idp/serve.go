package main

import (
	"github.com/spf13/cobra"

	"github.com/tongban/tongban/cmd/internal/app"
	"github.com/tongban/tongban/cmd/internal/idpserver"
)

func (c *cli) serveCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the OpenID Connect provider",
		Long: `Run the OpenID Connect provider until SIGINT or SIGTERM, then shut down gracefully.

On first start it creates the key-encryption key file (--kek-file, mode 0600), the database
(--db) and the SM2, ES256 and RS256 ID-token signing keys. Besides the provider it serves
/healthz (liveness), /readyz (storage reachable) and /metrics (Prometheus). Every
--purge-interval (default 10m; 0 = never) it deletes expired codes, tokens, one-time values
and login sessions, and old login failures. Logs are JSON lines on standard error.`,
		Args: cobra.NoArgs,
	}
	c.cfg.AddFlags(cmd.Flags())
	cmd.RunE = c.run(func(cmd *cobra.Command, args []string) error {
		log, err := c.setup(cmd, false, func(p *app.Problems) { c.cfg.Validate(p) })
		if err != nil {
			return err
		}
		log.Info("configuration", "sources", c.cfg.Sources)
		ctx, stop := app.SignalContext(cmd.Context())
		defer stop()
		return idpserver.Run(ctx, c.cfg, log, nil)
	})
	return cmd
}
