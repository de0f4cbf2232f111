package main

import (
	"crypto/ecdsa"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/tongban/tongban/qr"
	"github.com/tongban/tongban/wallet"
)

func (c *cli) rotateAnchorCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rotate-anchor (prepare | commit)",
		Short: "Rotate the trust anchor (the trust-list signing key) in two phases",
		Long: `Rotate the trust-list signing key, the trust anchor verifiers pin, without breaking them
(docs/operators/wallet.md):

  prepare   create the next trust-list key; trust lists are still signed by the current
            anchor and announce the next one, so verifiers that load them (with --state)
            learn it.
  commit    after verifiers had time to fetch an announcing list (at least the trust list's
            validity, 7 days by default, since prepare), sign the lists with the new key and
            retire the old one (its record stays in 'wallet keys list').

Export the trust list after each phase ('wallet trust-list export'); after commit, give
counters without --state the new trust-anchor.pem and its fingerprint.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	var force bool
	prepare := &cobra.Command{
		Use:   "prepare",
		Short: "Create the next trust anchor and announce it in the trust lists",
		Args:  cobra.NoArgs,
	}
	prepare.RunE = c.run(func(cmd *cobra.Command, args []string) error {
		ctx, svc, closeFn, err := c.adminService(cmd, nil, nil)
		if err != nil {
			return err
		}
		defer closeFn()
		st, err := svc.PrepareAnchorRotation(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.out, "prepared the next trust anchor %s (key %s)\n", fingerprintOf(st.Next[0].Public), st.Next[0].ID)
		fmt.Fprintf(c.out, "trust lists are still signed by %s and announce it; export and publish one now.\n", fingerprintOf(st.Current.Public))
		_, err = fmt.Fprintf(c.out, "commit ('wallet trust-list rotate-anchor commit') after %s (not before %s).\n",
			svc.TrustListValidity(), time.Now().Add(svc.TrustListValidity()).UTC().Format(time.RFC3339))
		return err
	})
	commit := &cobra.Command{
		Use:   "commit [--force]",
		Short: "Sign the trust lists with the prepared anchor and retire the old one",
		Args:  cobra.NoArgs,
	}
	commit.Flags().BoolVar(&force, "force", false, "commit before the trust list validity has passed since prepare")
	commit.RunE = c.run(func(cmd *cobra.Command, args []string) error {
		ctx, svc, closeFn, err := c.adminService(cmd, nil, nil)
		if err != nil {
			return err
		}
		defer closeFn()
		st, err := svc.AnchorRotation(ctx)
		if err != nil {
			return err
		}
		if len(st.Next) == 0 {
			return wallet.ErrNoAnchorRotation
		}
		if ready := st.Next[0].CreatedAt.Add(svc.TrustListValidity()); time.Now().Before(ready) && !force {
			return fmt.Errorf("the rotation was prepared at %s: counters may not have fetched a list announcing the new anchor until %s; wait, or add --force (counters that have not will need the new trust-anchor.pem)",
				st.Next[0].CreatedAt.UTC().Format(time.RFC3339), ready.UTC().Format(time.RFC3339))
		}
		after, retired, err := svc.CommitAnchorRotation(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.out, "trust lists are now signed by %s (key %s); retired %s (key %s)\n",
			fingerprintOf(after.Current.Public), after.Current.ID, fingerprintOf(retired.Public), retired.ID)
		_, err = fmt.Fprintln(c.out, "export the trust list and the new trust-anchor.pem now; give counters without --state the new anchor and its fingerprint.")
		return err
	})
	cmd.AddCommand(prepare, commit)
	return cmd
}

func fingerprintOf(pub any) string {
	if k, ok := pub.(*ecdsa.PublicKey); ok {
		return qr.AnchorFingerprint(k)
	}
	return "?"
}
