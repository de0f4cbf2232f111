package main

import (
	"fmt"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/tongban/tongban/cmd/internal/app"
	"github.com/tongban/tongban/cmd/internal/idpserver"
	pkcs11kek "github.com/tongban/tongban/kek/pkcs11"
	"github.com/tongban/tongban/storage"
)

// DefaultKeepFor is how long `idp keys rotate` keeps a retired key published by default: far
// longer than an ID token lives (10 minutes by default) plus the time relying apps cache the
// JWKS, so no token signed before the rotation fails to verify.
const DefaultKeepFor = 24 * time.Hour

func (c *cli) keysCmd() *cobra.Command {
	return app.Group("keys", "List, rotate and rewrap the stored keys",
		c.keysListCmd(), c.keysRotateCmd(), c.keysRewrapCmd())
}

// keyJSON is the --json form of a signing key (public information only).
type keyJSON struct {
	KID       string     `json:"kid"`
	Algorithm string     `json:"alg"`
	Status    string     `json:"status"` // active, retired (still published) or expired
	CreatedAt time.Time  `json:"created_at"`
	RetiredAt *time.Time `json:"retired_at,omitempty"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

func keyStatus(k storage.KeyRecord, now time.Time) string {
	switch {
	case k.ExpiresAt != nil && !now.Before(*k.ExpiresAt):
		return "expired"
	case k.RetiredAt != nil && !now.Before(*k.RetiredAt):
		return "retired"
	}
	return "active"
}

func toKeyJSON(k storage.KeyRecord, now time.Time) keyJSON {
	return keyJSON{KID: k.ID, Algorithm: k.Algorithm, Status: keyStatus(k, now), CreatedAt: k.CreatedAt, RetiredAt: k.RetiredAt, ExpiresAt: k.ExpiresAt}
}

func fmtTime(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func (c *cli) keysListCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the ID-token signing keys: active, retired (still in the JWKS) and expired",
		Long: `List the ID-token signing keys, newest first. An active key signs; a retired key no longer
signs but stays in the JWKS until its expiry so that tokens it signed still verify; an expired
key is no longer published. Reads the database only: the key-encryption key is not needed.`,
		Args: cobra.NoArgs,
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	cmd.RunE = c.run(func(cmd *cobra.Command, args []string) error {
		if _, err := c.setup(cmd, true, nil); err != nil {
			return err
		}
		ctx := cmd.Context()
		store, err := app.OpenExistingStore(ctx, c.cfg.DB)
		if err != nil {
			return err
		}
		defer store.Close()
		keys, err := store.ListKeys(ctx, storage.PurposeIDToken)
		if err != nil {
			return fmt.Errorf("list keys: %w", err)
		}
		now := time.Now()
		if asJSON {
			out := make([]keyJSON, 0, len(keys))
			for _, k := range keys {
				out = append(out, toKeyJSON(k, now))
			}
			return app.PrintJSON(c.out, out)
		}
		rows := make([][]string, 0, len(keys))
		for _, k := range keys {
			created := k.CreatedAt
			rows = append(rows, []string{k.ID, k.Algorithm, keyStatus(k, now), fmtTime(&created), fmtTime(k.RetiredAt), fmtTime(k.ExpiresAt)})
		}
		return app.Table(c.out, []string{"KID", "ALG", "STATUS", "CREATED", "RETIRED", "EXPIRES"}, rows)
	})
	return cmd
}

// rotationJSON is the --json output of `idp keys rotate`.
type rotationJSON struct {
	Algorithm string    `json:"alg"`
	NewKID    string    `json:"new_kid"`
	Retired   []string  `json:"retired_kids"`
	ExpiresAt time.Time `json:"retired_published_until"`
}

func (c *cli) keysRotateCmd() *cobra.Command {
	var (
		algs    []string
		keepFor time.Duration
		asJSON  bool
	)
	cmd := &cobra.Command{
		Use:   "rotate [--alg ALG]… [--keep-for DURATION]",
		Short: "Create new signing keys and retire the current ones",
		Long: `Create a new active ID-token signing key for each algorithm and retire the previous active
key of that algorithm. A retired key stops signing at once but stays in the JWKS for --keep-for,
so ID tokens it signed keep verifying; keep it at least as long as an ID token lives plus the
time relying apps cache the JWKS. Use --keep-for 0 only for a compromised key.

Running servers pick up the new keys within 30 seconds (their key cache lifetime).`,
		Args: cobra.NoArgs,
	}
	f := cmd.Flags()
	f.StringSliceVar(&algs, "alg", idpserver.SigningAlgorithms, "algorithms to rotate: SGD_SM3_SM2, ES256, RS256 (comma-separated or repeated)")
	f.DurationVar(&keepFor, "keep-for", DefaultKeepFor, "how long retired keys stay published")
	f.BoolVar(&asJSON, "json", false, "print the result as JSON")

	cmd.RunE = c.run(func(cmd *cobra.Command, args []string) error {
		log, err := c.setup(cmd, true, func(p *app.Problems) {
			c.cfg.Common.Validate(p)
			for _, a := range algs {
				if !slices.Contains(idpserver.SigningAlgorithms, a) {
					p.Addf("--alg: %q is not one of SGD_SM3_SM2, ES256, RS256", a)
				}
			}
			if keepFor < 0 {
				p.Addf("--keep-for: must not be negative, got %s", keepFor)
			}
		})
		if err != nil {
			return err
		}
		ctx := cmd.Context()
		b, err := c.openBackend(ctx, log)
		if err != nil {
			return err
		}
		defer b.Close()
		var results []rotationJSON
		for _, alg := range slices.Compact(slices.Clone(algs)) {
			before, err := b.Keyring.List(ctx, storage.PurposeIDToken)
			if err != nil {
				return err
			}
			fresh, err := b.Keyring.Rotate(ctx, storage.PurposeIDToken, alg, keepFor)
			if err != nil {
				return fmt.Errorf("rotate %s: %w", alg, err)
			}
			r := rotationJSON{Algorithm: alg, NewKID: fresh.ID, Retired: []string{}, ExpiresAt: fresh.CreatedAt.Add(keepFor)}
			now := time.Now()
			for _, k := range before {
				if k.Algorithm == alg && keyStatus(k, now) == "active" {
					r.Retired = append(r.Retired, k.ID)
				}
			}
			results = append(results, r)
			log.Info("rotated signing key", "alg", alg, "kid", fresh.ID, "retired", r.Retired)
		}
		if asJSON {
			return app.PrintJSON(c.out, results)
		}
		for _, r := range results {
			fmt.Fprintf(c.out, "%s: new key %s", r.Algorithm, r.NewKID)
			if len(r.Retired) > 0 {
				fmt.Fprintf(c.out, "; retired %v, published until %s", r.Retired, r.ExpiresAt.UTC().Format(time.RFC3339))
			}
			fmt.Fprintln(c.out)
		}
		return nil
	})
	return cmd
}

func (c *cli) keysRewrapCmd() *cobra.Command {
	var (
		to     string
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "rewrap --to-kek-pkcs11 URI",
		Short: "Move every stored key to a key-encryption key in a PKCS#11 token",
		Long: `Unwrap every stored key (data keys and signing keys) with the current key-encryption key
(--kek-file, TONGBAN_KEK or --kek-pkcs11) and wrap it again with the key named by
--to-kek-pkcs11, in one database transaction, recorded in the audit log as keys.rewrap. On any
error nothing changes.

Stop the servers first: a server that still runs with the old key cannot read keys created
after the rewrap. Then start them with --kek-pkcs11 set to the same URI, and keep the old key's
backup until they run.`,
		Args: cobra.NoArgs,
	}
	cmd.Flags().StringVar(&to, "to-kek-pkcs11", "", "PKCS#11 URI of the new key-encryption key (PIN from its pin-source or TONGBAN_PKCS11_PIN)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	cmd.RunE = c.run(func(cmd *cobra.Command, args []string) error {
		log, err := c.setup(cmd, true, func(p *app.Problems) {
			c.cfg.Common.Validate(p)
			if to == "" {
				p.Addf("--to-kek-pkcs11: required")
			} else if _, err := pkcs11kek.ParseURI(to); err != nil {
				p.Addf("--to-kek-pkcs11: %v", err)
			}
		})
		if err != nil {
			return err
		}
		ctx := cmd.Context()
		b, err := c.openBackend(ctx, log)
		if err != nil {
			return err
		}
		defer b.Close()
		target, err := app.OpenPKCS11KEK(c.cfg.Common, to)
		if err != nil {
			return err
		}
		defer target.Close()
		res, err := app.Rewrap(ctx, b, target)
		if err != nil {
			return err
		}
		log.Info("rewrapped keys", "from_kek_id", res.From, "to_kek_id", res.To, "keys", res.Keys)
		if asJSON {
			return app.PrintJSON(c.out, res)
		}
		fmt.Fprintf(c.out, "rewrapped %d keys from key-encryption key %s to %s; start the servers with --kek-pkcs11\n", res.Keys, res.From, res.To)
		return nil
	})
	return cmd
}
