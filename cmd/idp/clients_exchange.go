package main

import (
	"context"
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

// The token exchange policy commands (RFC 8693, oidc.SetExchangePolicy, docs/operators/idp.md):
// which audiences a confidential app may exchange citizens' access tokens for. Each change is
// audited (client.exchange_policy.set / .remove, actor audit.Shell) in its transaction.

func (c *cli) clientsExchangePolicyCmd() *cobra.Command {
	return app.Group("exchange-policy", "Manage which APIs an app may exchange citizens' tokens for (RFC 8693)",
		c.exchangePolicyAddCmd(), c.exchangePolicyListCmd(), c.exchangePolicyRemoveCmd())
}

// exchangePolicyErr maps the policy's validation errors to usage errors (exit status 2).
func exchangePolicyErr(err error) error {
	for _, v := range []error{oidc.ErrInvalidExchangeAudience, oidc.ErrInvalidExchangeLifetime, oidc.ErrExchangePublicClient, oidc.ErrInvalidScope} {
		if errors.Is(err, v) {
			return app.Usage(err)
		}
	}
	return err
}

// exchangePolicyJSON is the --json form of a policy; max_lifetime in Go duration syntax, "0s"
// for the server's access token lifetime.
type exchangePolicyJSON struct {
	ClientID    string    `json:"client_id"`
	Audience    string    `json:"audience"`
	Scopes      []string  `json:"scopes"`
	MaxLifetime string    `json:"max_lifetime"`
	CreatedAt   time.Time `json:"created_at"`
}

func toExchangePolicyJSON(p storage.ExchangePolicy) exchangePolicyJSON {
	scopes := p.Scopes
	if scopes == nil {
		scopes = []string{}
	}
	return exchangePolicyJSON{ClientID: p.ClientID, Audience: p.Audience, Scopes: scopes, MaxLifetime: p.MaxLifetime.String(), CreatedAt: p.CreatedAt}
}

func (c *cli) exchangePolicyAddCmd() *cobra.Command {
	var (
		p      storage.ExchangePolicy
		scopes string
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "add --client ID --audience URI [--scopes \"a b\"] [--max-lifetime 10m]",
		Short: "Let a confidential app exchange citizens' access tokens for tokens for an API",
		Long: `Let the confidential app --client exchange a citizen's access token at the token endpoint
(grant type urn:ietf:params:oauth:grant-type:token-exchange, RFC 8693) for an access token for
the API --audience (an absolute URI; the app names it with the audience or the resource
parameter). The app must be registered for that grant type. --scopes limits the scopes of the
exchanged token (always within the citizen's token's; default: any of them except licence
scopes, which must be listed). --max-lifetime bounds its lifetime (1m to 24h; default the access
token lifetime); it never outlives the citizen's token. Adding a policy for an audience the app
already has replaces it. No policy, no exchange.`,
		Example: `  idp clients exchange-policy add --client gongan-svc --audience https://api.renshe.example.gov.cn/ \
      --scopes "openid profile" --max-lifetime 10m`,
		Args: cobra.NoArgs,
	}
	f := cmd.Flags()
	f.StringVar(&p.ClientID, "client", "", "the app's client ID (required)")
	f.StringVar(&p.Audience, "audience", "", "the API's URI, an absolute URI without a fragment (required)")
	f.StringVar(&scopes, "scopes", "", "scopes the exchanged token may carry, blank- or comma-separated (default: the citizen's token's, without licence scopes)")
	f.DurationVar(&p.MaxLifetime, "max-lifetime", 0, "longest lifetime of an exchanged token, 1m to 24h (default: the access token lifetime)")
	f.BoolVar(&asJSON, "json", false, "print the result as JSON")
	_ = cmd.MarkFlagRequired("client")
	_ = cmd.MarkFlagRequired("audience")
	cmd.RunE = c.run(func(cmd *cobra.Command, args []string) error {
		p.Scopes = splitList(scopes)
		return c.withStore(cmd, func(ctx context.Context, b *app.Backend) error {
			saved, err := oidc.SetExchangePolicy(ctx, b.Store, audit.Shell, p)
			if err != nil {
				return exchangePolicyErr(err)
			}
			if asJSON {
				return app.PrintJSON(c.out, toExchangePolicyJSON(saved))
			}
			fmt.Fprintf(c.out, "client %s may exchange tokens for %s (scopes %s, max lifetime %s)\n", saved.ClientID, saved.Audience,
				orAll(saved.Scopes), lifetimeText(saved.MaxLifetime))
			return nil
		})
	})
	return cmd
}

func orAll(scopes []string) string {
	if len(scopes) == 0 {
		return "any of the citizen's token's"
	}
	return strings.Join(scopes, " ")
}

func lifetimeText(d time.Duration) string {
	if d == 0 {
		return "the access token lifetime"
	}
	return d.String()
}

func (c *cli) exchangePolicyListCmd() *cobra.Command {
	var (
		clientID string
		asJSON   bool
	)
	cmd := &cobra.Command{
		Use:   "list [--client ID]",
		Short: "List the token exchange policies, of one app or of all",
		Args:  cobra.NoArgs,
	}
	cmd.Flags().StringVar(&clientID, "client", "", "only this app's policies")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	cmd.RunE = c.run(func(cmd *cobra.Command, args []string) error {
		return c.withStore(cmd, func(ctx context.Context, b *app.Backend) error {
			ps, err := oidc.ListExchangePolicies(ctx, b.Store, clientID)
			if err != nil {
				return err
			}
			if asJSON {
				out := make([]exchangePolicyJSON, 0, len(ps))
				for _, p := range ps {
					out = append(out, toExchangePolicyJSON(p))
				}
				return app.PrintJSON(c.out, out)
			}
			rows := make([][]string, 0, len(ps))
			for _, p := range ps {
				rows = append(rows, []string{p.ClientID, p.Audience, orAll(p.Scopes), lifetimeText(p.MaxLifetime)})
			}
			return app.Table(c.out, []string{"CLIENT", "AUDIENCE", "SCOPES", "MAX LIFETIME"}, rows)
		})
	})
	return cmd
}

func (c *cli) exchangePolicyRemoveCmd() *cobra.Command {
	var clientID, audience string
	cmd := &cobra.Command{
		Use:   "remove --client ID --audience URI",
		Short: "Stop an app exchanging tokens for an API (tokens already exchanged live out their lifetime)",
		Args:  cobra.NoArgs,
	}
	cmd.Flags().StringVar(&clientID, "client", "", "the app's client ID (required)")
	cmd.Flags().StringVar(&audience, "audience", "", "the API's URI, as added (required)")
	_ = cmd.MarkFlagRequired("client")
	_ = cmd.MarkFlagRequired("audience")
	cmd.RunE = c.run(func(cmd *cobra.Command, args []string) error {
		return c.withStore(cmd, func(ctx context.Context, b *app.Backend) error {
			if err := oidc.RemoveExchangePolicy(ctx, b.Store, audit.Shell, clientID, audience); err != nil {
				if errors.Is(err, storage.ErrNotFound) {
					return fmt.Errorf("client %s has no exchange policy for %s: %w", clientID, audience, err)
				}
				return err
			}
			fmt.Fprintf(c.out, "client %s may no longer exchange tokens for %s\n", clientID, audience)
			return nil
		})
	})
	return cmd
}
