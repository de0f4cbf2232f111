package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tongban/tongban/audit"
	"github.com/tongban/tongban/cmd/internal/app"
	"github.com/tongban/tongban/oidc"
	"github.com/tongban/tongban/storage"
)

// The app lifecycle commands (docs/design/app-management.md, docs/operators/idp.md). Each goes
// through the oidc lifecycle function with the actor audit.Shell, which writes the audit entry
// in the same transaction as the change.

// pendingChangeJSON is cl's pending change as JSON for output; nil when none.
func pendingChangeJSON(cl storage.Client) any {
	if cl.PendingChange == nil {
		return nil
	}
	var v any
	if json.Unmarshal(cl.PendingChange, &v) != nil {
		return nil
	}
	return v
}

// withStore opens the backend and runs fn with it.
func (c *cli) withStore(cmd *cobra.Command, fn func(ctx context.Context, b *app.Backend) error) error {
	log, err := c.setup(cmd, true, nil)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	b, err := c.openBackend(ctx, log)
	if err != nil {
		return err
	}
	defer b.Close()
	if err := fn(ctx, b); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("no such client: %w", err)
		}
		return classify(err)
	}
	return nil
}

func (c *cli) clientsListCmd() *cobra.Command {
	var (
		asJSON             bool
		status, department string
	)
	cmd := &cobra.Command{
		Use:   "list [--status S] [--department D]",
		Short: "List the registered relying apps (without secrets)",
		Long: `List the registered relying apps, in ID order, read 500 at a time. --status selects one state
(pending_review, published, rejected, suspended, retired); --department one department.`,
		Args: cobra.NoArgs,
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	cmd.Flags().StringVar(&status, "status", "", "only apps in this state")
	cmd.Flags().StringVar(&department, "department", "", "only apps of this department")
	cmd.RunE = c.run(func(cmd *cobra.Command, args []string) error {
		return c.withStore(cmd, func(ctx context.Context, b *app.Backend) error {
			switch status {
			case "", storage.ClientPendingReview, storage.ClientPublished, storage.ClientRejected, storage.ClientSuspended, storage.ClientRetired:
			default:
				return app.Usagef("--status %q: want pending_review, published, rejected, suspended or retired", status)
			}
			var clients []storage.Client
			q := storage.ClientQuery{Status: status, Department: department, Limit: 500}
			for {
				page, err := oidc.ListClients(ctx, b.Store, q)
				if err != nil {
					return fmt.Errorf("list clients: %w", err)
				}
				clients = append(clients, page...)
				if len(page) < q.Limit {
					break
				}
				q.After = page[len(page)-1].ID
			}
			if asJSON {
				out := make([]clientJSON, 0, len(clients))
				for _, cl := range clients {
					out = append(out, toClientJSON(cl, ""))
				}
				return app.PrintJSON(c.out, out)
			}
			rows := make([][]string, 0, len(clients))
			for _, cl := range clients {
				rows = append(rows, []string{
					cl.ID, cl.Name, cl.EffectiveStatus(), cl.Department, clientType(cl), strings.Join(cl.GrantTypes, ","),
					strings.Join(cl.Scopes, " "), cl.IDTokenSignedResponseAlg, strings.Join(cl.RedirectURIs, " "),
				})
			}
			return app.Table(c.out, []string{"ID", "NAME", "STATUS", "DEPARTMENT", "TYPE", "GRANTS", "SCOPES", "ID TOKEN ALG", "REDIRECT URIS"}, rows)
		})
	})
	return cmd
}

func (c *cli) clientsShowCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "show ID",
		Short: "Show one app's registration, state and pending change as JSON (no secrets)",
		Args:  cobra.ExactArgs(1),
	}
	cmd.RunE = c.run(func(cmd *cobra.Command, args []string) error {
		return c.withStore(cmd, func(ctx context.Context, b *app.Backend) error {
			cl, err := b.Store.GetClient(ctx, args[0])
			if err != nil {
				return err
			}
			return app.PrintJSON(c.out, toClientJSON(cl, ""))
		})
	})
	return cmd
}

// reasonFlag says whether a lifecycle command takes --reason.
type reasonFlag int

const (
	noReason       reasonFlag = iota
	reasonRequired            // --reason R must be given
	reasonOptional            // --reason R may be given
)

// lifecycleCmd is a command ID [--reason R] that runs one lifecycle function.
func (c *cli) lifecycleCmd(use, short, done string, rf reasonFlag, fn func(ctx context.Context, store storage.Storage, id, reason string) error) *cobra.Command {
	var reason string
	cmd := &cobra.Command{Use: use, Short: short, Args: cobra.ExactArgs(1)}
	switch rf {
	case reasonRequired:
		cmd.Flags().StringVar(&reason, "reason", "", "why (stored with the app and shown to its developers; no personal data) (required)")
		_ = cmd.MarkFlagRequired("reason")
	case reasonOptional:
		cmd.Flags().StringVar(&reason, "reason", "", "why (stored with the app and shown to its developers; no personal data)")
	}
	cmd.RunE = c.run(func(cmd *cobra.Command, args []string) error {
		return c.withStore(cmd, func(ctx context.Context, b *app.Backend) error {
			if err := fn(ctx, b.Store, args[0], reason); err != nil {
				return err
			}
			cl, err := b.Store.GetClient(ctx, args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(c.out, "client %s %s (status %s)\n", cl.ID, done, cl.EffectiveStatus())
			return nil
		})
	})
	return cmd
}

func (c *cli) clientsApproveCmd() *cobra.Command {
	return c.lifecycleCmd("approve ID", "Publish an app waiting for review, or apply a published app's pending change", "approved", noReason,
		func(ctx context.Context, s storage.Storage, id, _ string) error {
			return oidc.ApproveClient(ctx, s, audit.Shell, id)
		})
}

func (c *cli) clientsRejectCmd() *cobra.Command {
	return c.lifecycleCmd("reject ID --reason R", "Refuse an app waiting for review, or discard a published app's pending change", "rejected", reasonRequired,
		func(ctx context.Context, s storage.Storage, id, r string) error {
			return oidc.RejectClient(ctx, s, audit.Shell, id, r)
		})
}

func (c *cli) clientsSuspendCmd() *cobra.Command {
	return c.lifecycleCmd("suspend ID --reason R", "Stop a published app: no logins or tokens, its tokens inactive, its grants revoked", "suspended", reasonRequired,
		func(ctx context.Context, s storage.Storage, id, r string) error {
			return oidc.SuspendClient(ctx, s, audit.Shell, id, r)
		})
}

func (c *cli) clientsResumeCmd() *cobra.Command {
	return c.lifecycleCmd("resume ID", "Publish a suspended app again", "resumed", noReason,
		func(ctx context.Context, s storage.Storage, id, _ string) error {
			return oidc.ResumeClient(ctx, s, audit.Shell, id)
		})
}

func (c *cli) clientsRetireCmd() *cobra.Command {
	return c.lifecycleCmd("retire ID [--reason R]", "Withdraw an app for good (final): no logins or tokens, its grants revoked", "retired", reasonOptional,
		func(ctx context.Context, s storage.Storage, id, r string) error {
			return oidc.RetireClient(ctx, s, audit.Shell, id, r)
		})
}

func (c *cli) clientsRotateSecretCmd() *cobra.Command {
	var (
		overlap time.Duration
		asJSON  bool
	)
	cmd := &cobra.Command{
		Use:   "rotate-secret ID [--overlap 24h]",
		Short: "Give a confidential app a new secret; the old one works until the overlap ends",
		Long: `Give a confidential app a new client secret, printed once. The old secret keeps working for
--overlap (default 24h, at most 720h) so the app can switch without downtime; --overlap 0 ends it
at once (a leaked secret).`,
		Args: cobra.ExactArgs(1),
	}
	cmd.Flags().DurationVar(&overlap, "overlap", 24*time.Hour, "how long the old secret keeps working (0 to 720h)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	cmd.RunE = c.run(func(cmd *cobra.Command, args []string) error {
		return c.withStore(cmd, func(ctx context.Context, b *app.Backend) error {
			secret, err := oidc.RotateClientSecret(ctx, b.Store, b.Keyring, audit.Shell, args[0], overlap)
			if err != nil {
				return err
			}
			until := time.Now().Add(overlap).UTC().Truncate(time.Second)
			if asJSON {
				return app.PrintJSON(c.out, map[string]any{"client_id": args[0], "client_secret": secret, "previous_secret_expires_at": until})
			}
			fmt.Fprintf(c.out, "client_secret: %s\n(shown once: store it now; the old secret works until %s)\n", secret, until.Format(time.RFC3339))
			return nil
		})
	})
	return cmd
}

func (c *cli) clientsIATCmd() *cobra.Command {
	var (
		department string
		ttl        time.Duration
		asJSON     bool
	)
	cmd := &cobra.Command{
		Use:   "iat --department D [--ttl 24h]",
		Short: "Issue an initial access token for dynamic registration (RFC 7591) by a department",
		Long: `Issue an initial access token: a single-use bearer token with which a developer of the department
registers one app at the registration endpoint (POST /register). The app waits for review
(idp clients approve). The token is printed once and stored only as a hash.`,
		Args: cobra.NoArgs,
	}
	cmd.Flags().StringVar(&department, "department", "", "department code, [a-z0-9-]{1,64} (required)")
	cmd.Flags().DurationVar(&ttl, "ttl", oidc.DefaultInitialAccessTokenTTL, "lifetime, from 5m to 720h")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	_ = cmd.MarkFlagRequired("department")
	cmd.RunE = c.run(func(cmd *cobra.Command, args []string) error {
		if ttl <= 0 { // 0 would mean the default to oidc; on the command line it is a mistake
			return app.Usagef("--ttl %s: must be from %s to %s", ttl, oidc.MinInitialAccessTokenTTL, oidc.MaxInitialAccessTokenTTL)
		}
		return c.withStore(cmd, func(ctx context.Context, b *app.Backend) error {
			tok, exp, err := oidc.IssueInitialAccessToken(ctx, b.Store, b.Keyring, audit.Shell, department, ttl)
			if err != nil {
				return err
			}
			if asJSON {
				return app.PrintJSON(c.out, map[string]any{"initial_access_token": tok, "department": department, "expires_at": exp})
			}
			fmt.Fprintf(c.out, "initial_access_token: %s\n(single use, for department %s, until %s; shown once)\n", tok, department, exp.Format(time.RFC3339))
			return nil
		})
	})
	return cmd
}
