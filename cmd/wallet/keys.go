package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/tongban/tongban/cmd/internal/app"
	"github.com/tongban/tongban/keyring"
	"github.com/tongban/tongban/storage"
	"github.com/tongban/tongban/wallet"
)

// defaultKeep is how long a retired code-signing key stays in the trust list: far longer than
// a code lives (60 s), so that every code it signed still verifies, and than the keyring's
// cache, so that replicas have picked up the new key.
const defaultKeep = time.Hour

func (c *cli) keysCmd() *cobra.Command {
	return app.Group("keys", "List and rotate the wallet's signing keys",
		c.keysListCmd(), c.keysRotateCmd())
}

// keyRecordJSON is a key in --json output (no private material).
type keyRecordJSON struct {
	ID        string     `json:"id"`
	Purpose   string     `json:"purpose"`
	Algorithm string     `json:"algorithm"`
	CreatedAt time.Time  `json:"created_at"`
	RetiredAt *time.Time `json:"retired_at,omitempty"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

func (c *cli) keysListCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the code-signing and trust-list signing keys",
		Args:  cobra.NoArgs,
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	cmd.RunE = c.run(func(cmd *cobra.Command, args []string) error {
		log, err := c.setup(cmd, true, nil)
		if err != nil {
			return err
		}
		ctx := cmd.Context()
		b, err := app.OpenExisting(ctx, c.common, log)
		if err != nil {
			return err
		}
		defer b.Close()
		if _, err := wallet.NewService(ctx, wallet.ServiceConfig{Store: b.Store, Keyring: b.Keyring, Logger: log}); err != nil {
			return err
		}
		out := []keyRecordJSON{}
		for _, p := range []storage.KeyPurpose{storage.PurposeQR, storage.PurposeTrustList} {
			recs, err := b.Keyring.List(ctx, p)
			if err != nil {
				return err
			}
			for _, r := range recs {
				out = append(out, keyRecordJSON{ID: r.ID, Purpose: string(r.Purpose), Algorithm: r.Algorithm,
					CreatedAt: r.CreatedAt, RetiredAt: r.RetiredAt, ExpiresAt: r.ExpiresAt})
			}
		}
		if asJSON {
			return app.PrintJSON(c.out, out)
		}
		rows := make([][]string, 0, len(out))
		ts := func(t *time.Time) string {
			if t == nil {
				return ""
			}
			return t.UTC().Format(time.RFC3339)
		}
		for _, k := range out {
			rows = append(rows, []string{k.Purpose, k.ID, k.Algorithm, k.CreatedAt.UTC().Format(time.RFC3339), ts(k.RetiredAt), ts(k.ExpiresAt)})
		}
		return app.Table(c.out, []string{"PURPOSE", "ID", "ALG", "CREATED", "RETIRED", "EXPIRES"}, rows)
	})
	return cmd
}

func (c *cli) keysRotateCmd() *cobra.Command {
	var keep time.Duration
	cmd := &cobra.Command{
		Use:   "rotate [--keep DURATION]",
		Short: "Rotate the SM2 code-signing key",
		Long: `Create a new SM2 code-signing key and retire the current one. The retired key stays in the
trust list for --keep (default 1h), so that the codes it signed keep verifying; the trust list's
sequence number rises at once. Verifiers need nothing but a fresh trust list.

The trust-list signing key is the verifiers' pinned trust anchor and is not rotated here: see
'wallet trust-list rotate-anchor'.`,
		Args: cobra.NoArgs,
	}
	cmd.Flags().DurationVar(&keep, "keep", defaultKeep, "how long the retired key stays in the trust list (at least 5m)")
	cmd.RunE = c.run(func(cmd *cobra.Command, args []string) error {
		log, err := c.setup(cmd, true, func(p *app.Problems) {
			if keep < 5*time.Minute {
				p.Addf("--keep: at least 5m (codes live 60 s, replicas cache keys %s), got %s", keyring.CacheTTL, keep)
			}
		})
		if err != nil {
			return err
		}
		ctx := cmd.Context()
		b, err := app.OpenExisting(ctx, c.common, log)
		if err != nil {
			return err
		}
		defer b.Close()
		if _, err := wallet.NewService(ctx, wallet.ServiceConfig{Store: b.Store, Keyring: b.Keyring, Logger: log}); err != nil {
			return err
		}
		k, err := b.Keyring.Rotate(ctx, storage.PurposeQR, keyring.AlgSM2, keep)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(c.out, "new code-signing key %s; the previous one stays in the trust list for %s\n", k.ID, keep)
		return err
	})
	return cmd
}
