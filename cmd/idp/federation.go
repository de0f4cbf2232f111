package main

import (
	"context"
	"crypto"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tongban/tongban/audit"
	"github.com/tongban/tongban/cmd/internal/app"
	"github.com/tongban/tongban/cmd/internal/idpserver"
	"github.com/tongban/tongban/federation"
	"github.com/tongban/tongban/oidc"
	"github.com/tongban/tongban/sm-crypto/smjose"
	"github.com/tongban/tongban/storage"
)

// `idp federation …`: this instance's place in an OpenID Federation 1.0 (oidc/federation.go,
// package federation). Every change is audited as the operator (audit.Shell) in the same
// transaction; bad input exits 2 and stores nothing.
func (c *cli) federationCmd() *cobra.Command {
	g := app.Group("federation", "OpenID Federation: this entity's configuration, superiors, trust anchors, subordinates and trust marks",
		c.fedShowCmd(),
		app.Group("authority", "The superiors of this entity (authority_hints)", c.fedAuthorityAddCmd(), c.fedAuthorityRemoveCmd(), c.fedAuthorityListCmd()),
		app.Group("anchor", "The trust anchors chains are resolved to", c.fedAnchorAddCmd(), c.fedAnchorListCmd(), c.fedAnchorRemoveCmd()),
		app.Group("subordinate", "The entities this instance issues subordinate statements about", c.fedSubAddCmd(), c.fedSubListCmd(), c.fedSubShowCmd(), c.fedSubRemoveCmd()),
		c.fedResolveCmd(),
		app.Group("trust-mark", "Trust marks this instance issues (as trust-mark issuer) or holds", c.fedMarkIssueCmd(), c.fedMarkListCmd(), c.fedMarkAddCmd()),
	)
	g.PersistentFlags().StringVar(&c.cfg.Issuer, "issuer", idpserver.DefaultIssuer, "this provider's issuer URL (its entity ID), as for idp serve")
	app.Configurable(g.PersistentFlags(), "issuer")
	return g
}

func (c *cli) issuer() string { return strings.TrimSuffix(c.cfg.Issuer, "/") }

// withFedStore is withNamedStore for the federation commands.
func (c *cli) withFedStore(cmd *cobra.Command, what string, fn func(ctx context.Context, b *app.Backend) error) error {
	return c.withNamedStore(cmd, what, oidc.ErrInvalidFederation, fn)
}

func (c *cli) fedShowCmd() *cobra.Command {
	var asJSON, jwksOnly bool
	var org string
	cmd := &cobra.Command{
		Use:   "show",
		Short: "Print this entity's configuration (as /.well-known/openid-federation serves it), decoded",
		Args:  cobra.NoArgs,
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the claims as JSON")
	cmd.Flags().BoolVar(&jwksOnly, "jwks", false, "print only the federation keys, a JWK Set document for a superior's or anchor's --jwks-file")
	cmd.Flags().StringVar(&org, "federation-organization", "", "organization_name, as for idp serve")
	app.Configurable(cmd.Flags(), "federation-organization")
	cmd.RunE = c.run(func(cmd *cobra.Command, args []string) error {
		return c.withFedStore(cmd, "entity", func(ctx context.Context, b *app.Backend) error {
			if err := oidc.EnsureFederationKeys(ctx, b.Keyring); err != nil {
				return err
			}
			ec, err := oidc.BuildEntityConfiguration(ctx, b.Store, b.Keyring, c.issuer(), org, time.Now(), 24*time.Hour)
			if err != nil {
				return err
			}
			if jwksOnly {
				return app.PrintJSON(c.out, ec.JWKS)
			}
			if asJSON {
				claims, err := ec.MarshalClaims()
				if err != nil {
					return err
				}
				return app.PrintJSON(c.out, json.RawMessage(claims))
			}
			fmt.Fprintf(c.out, "entity ID        %s\nsigned with      %s (kid %s)\nvalid until      %s\n", ec.Issuer, ec.Alg, ec.KeyID, ec.Expires.Format(time.RFC3339))
			fmt.Fprintf(c.out, "authority hints  %s\n", orNone(strings.Join(ec.AuthorityHints, ", ")))
			for _, fp := range thumbprints(ec.JWKS) {
				fmt.Fprintf(c.out, "key              %s\n", fp)
			}
			for _, m := range ec.TrustMarks {
				fmt.Fprintf(c.out, "trust mark       %s\n", m.Type)
			}
			fmt.Fprintf(c.out, "fetch endpoint   %s\n", ec.FederationEndpoint("federation_fetch_endpoint"))
			return nil
		})
	})
	return cmd
}

func orNone(s string) string {
	if s == "" {
		return "(none: a trust anchor)"
	}
	return s
}

// thumbprints describes each key of a JWK Set: alg, kid and the RFC 7638 SHA-256 thumbprint
// (base64url), for checking out of band. For SM2 keys the thumbprint is computed the same way
// over {"crv","kty","x","y"}.
func thumbprints(ks *smjose.KeySet) []string {
	var out []string
	for _, k := range ks.Standard.Keys {
		tp, err := k.Thumbprint(crypto.SHA256)
		if err != nil {
			continue
		}
		out = append(out, fmt.Sprintf("%s kid=%s sha256=%s", k.Algorithm, k.KeyID, base64.RawURLEncoding.EncodeToString(tp)))
	}
	for _, k := range ks.SM2 {
		raw, err := k.MarshalJSON()
		if err != nil {
			continue
		}
		var m struct{ Crv, Kty, X, Y string }
		_ = json.Unmarshal(raw, &m)
		canon := fmt.Sprintf(`{"crv":%q,"kty":%q,"x":%q,"y":%q}`, m.Crv, m.Kty, m.X, m.Y)
		sum := sha256.Sum256([]byte(canon))
		out = append(out, fmt.Sprintf("%s kid=%s sha256=%s", smjose.AlgSM2, k.KeyID, base64.RawURLEncoding.EncodeToString(sum[:])))
	}
	return out
}

// fedEntityFlag registers --entity-id.
func fedEntityFlag(cmd *cobra.Command, v *string) {
	cmd.Flags().StringVar(v, "entity-id", "", "the entity ID (an https URL; http only on a loopback host)")
	_ = cmd.MarkFlagRequired("entity-id")
}

func (c *cli) fedAuthorityAddCmd() *cobra.Command {
	var id string
	cmd := &cobra.Command{Use: "add --entity-id URL", Short: "Add a superior to this entity's authority_hints (audited)", Args: cobra.NoArgs}
	fedEntityFlag(cmd, &id)
	cmd.RunE = c.run(func(cmd *cobra.Command, args []string) error {
		return c.withFedStore(cmd, "authority hint "+id, func(ctx context.Context, b *app.Backend) error {
			if err := oidc.AddAuthorityHint(ctx, b.Store, audit.Shell, id, time.Now()); err != nil {
				return err
			}
			_, err := fmt.Fprintf(c.out, "added authority hint %s\n", id)
			return err
		})
	})
	return cmd
}

func (c *cli) fedAuthorityRemoveCmd() *cobra.Command {
	return c.fedRemoveCmd("Remove a superior (audited)", "authority hint", oidc.RemoveAuthorityHint)
}

// fedRemoveCmd is a `remove URL` command: remove the what named URL as the operator
// (audit.Shell) and say "removed <what> URL".
func (c *cli) fedRemoveCmd(short, what string, remove func(context.Context, storage.Storage, audit.Actor, string, time.Time) error) *cobra.Command {
	cmd := &cobra.Command{Use: "remove URL", Short: short, Args: cobra.ExactArgs(1)}
	cmd.RunE = c.run(func(cmd *cobra.Command, args []string) error {
		return c.withFedStore(cmd, what+" "+args[0], func(ctx context.Context, b *app.Backend) error {
			if err := remove(ctx, b.Store, audit.Shell, args[0], time.Now()); err != nil {
				return err
			}
			_, err := fmt.Fprintf(c.out, "removed %s %s\n", what, args[0])
			return err
		})
	})
	return cmd
}

func (c *cli) fedAuthorityListCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{Use: "list", Short: "List the superiors, in the order the entity configuration names them", Args: cobra.NoArgs}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	cmd.RunE = c.run(func(cmd *cobra.Command, args []string) error {
		return c.withFedStore(cmd, "authority hint", func(ctx context.Context, b *app.Backend) error {
			hints, err := b.Store.ListFederationAuthorityHints(ctx)
			if err != nil {
				return err
			}
			ids := []string{}
			rows := [][]string{}
			for _, h := range hints {
				ids = append(ids, h.EntityID)
				rows = append(rows, []string{h.EntityID, h.CreatedAt.Format(time.RFC3339)})
			}
			if asJSON {
				return app.PrintJSON(c.out, ids)
			}
			return app.Table(c.out, []string{"ENTITY ID", "ADDED"}, rows)
		})
	})
	return cmd
}

// fedKeys reads a JWK Set from --jwks-file, or with --fetch from the entity's self-signed
// configuration, printing the thumbprints to check out of band.
func (c *cli) fedKeys(ctx context.Context, id, file string, fetch bool) ([]byte, error) {
	switch {
	case file != "" && fetch:
		return nil, app.Usagef("give --jwks-file or --fetch, not both")
	case file != "":
		data, err := readInput(c.in, file)
		if err != nil {
			return nil, app.Usagef("--jwks-file: %v", err)
		}
		return data, nil
	case !fetch:
		return nil, app.Usagef("give --jwks-file FILE or --fetch")
	}
	if err := federation.CheckEntityID(id, isLoopbackURL(id)); err != nil {
		return nil, app.Usage(err)
	}
	ec, err := fetchConfiguration(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("fetch the entity configuration of %s: %w", id, err)
	}
	fmt.Fprintf(c.out, "fetched the self-signed entity configuration of %s; check these keys with its operator:\n", id)
	for _, fp := range thumbprints(ec.JWKS) {
		fmt.Fprintf(c.out, "  %s\n", fp)
	}
	return ec.JWKS.MarshalJSON()
}

func readInput(in io.Reader, file string) ([]byte, error) {
	if file == "-" {
		return io.ReadAll(io.LimitReader(in, 1<<20))
	}
	return os.ReadFile(file)
}

func isLoopbackURL(id string) bool {
	u, err := url.Parse(id)
	if err != nil {
		return false
	}
	ip := net.ParseIP(u.Hostname())
	return u.Hostname() == "localhost" || (ip != nil && ip.IsLoopback())
}

// fetchConfiguration fetches and checks (self-signature, iss = sub = id, not expired) an
// entity configuration.
func fetchConfiguration(ctx context.Context, id string) (*federation.EntityStatement, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, federation.WellKnownURL(id), nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	ec, err := federation.ParseStatement(strings.TrimSpace(string(body)))
	if err != nil {
		return nil, err
	}
	if ec.Issuer != id || ec.Subject != id {
		return nil, fmt.Errorf("%w: it names %s", federation.ErrWrongSubject, ec.Subject)
	}
	if err := federation.VerifyStatement(ec, nil); err != nil {
		return nil, err
	}
	if !time.Now().Before(ec.Expires) {
		return nil, federation.ErrExpired
	}
	return ec, nil
}

func (c *cli) fedAnchorAddCmd() *cobra.Command {
	var (
		id, file string
		fetch    bool
	)
	cmd := &cobra.Command{
		Use:   "add --entity-id URL (--jwks-file FILE | --fetch)",
		Short: "Trust a trust anchor with its federation keys (audited)",
		Long: `Add a trust anchor: chains are resolved to it and checked with these keys, never with keys
taken from the wire. --jwks-file reads its JWK Set ("-" for standard input); --fetch takes
the keys from its self-signed entity configuration and prints their thumbprints: check them
with the anchor's operator out of band before relying on it.`,
		Args: cobra.NoArgs,
	}
	fedEntityFlag(cmd, &id)
	cmd.Flags().StringVar(&file, "jwks-file", "", "the anchor's JWK Set document")
	cmd.Flags().BoolVar(&fetch, "fetch", false, "take the keys from its entity configuration")
	cmd.RunE = c.run(func(cmd *cobra.Command, args []string) error {
		jwks, err := c.fedKeys(cmd.Context(), id, file, fetch)
		if err != nil {
			return err
		}
		return c.withFedStore(cmd, "trust anchor "+id, func(ctx context.Context, b *app.Backend) error {
			if _, err := oidc.AddFederationAnchor(ctx, b.Store, audit.Shell, id, jwks, time.Now()); err != nil {
				return err
			}
			_, err := fmt.Fprintf(c.out, "added trust anchor %s\n", id)
			return err
		})
	})
	return cmd
}

func (c *cli) fedAnchorListCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{Use: "list", Short: "List the trust anchors and their key thumbprints", Args: cobra.NoArgs}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	cmd.RunE = c.run(func(cmd *cobra.Command, args []string) error {
		return c.withFedStore(cmd, "trust anchor", func(ctx context.Context, b *app.Backend) error {
			anchors, err := b.Store.ListFederationAnchors(ctx)
			if err != nil {
				return err
			}
			type anchorJSON struct {
				EntityID string          `json:"entity_id"`
				JWKS     json.RawMessage `json:"jwks"`
				Keys     []string        `json:"keys"`
			}
			out := []anchorJSON{}
			rows := [][]string{}
			for _, a := range anchors {
				var keys []string
				if ks, err := federation.ParseJWKS(a.JWKS); err == nil {
					keys = thumbprints(ks)
				}
				out = append(out, anchorJSON{a.EntityID, a.JWKS, keys})
				rows = append(rows, []string{a.EntityID, strings.Join(keys, "; ")})
			}
			if asJSON {
				return app.PrintJSON(c.out, out)
			}
			return app.Table(c.out, []string{"ENTITY ID", "KEYS"}, rows)
		})
	})
	return cmd
}

func (c *cli) fedAnchorRemoveCmd() *cobra.Command {
	return c.fedRemoveCmd("Stop trusting a trust anchor (audited)", "trust anchor", oidc.RemoveFederationAnchor)
}

func (c *cli) fedSubAddCmd() *cobra.Command {
	var (
		n             oidc.NewFederationSubordinate
		file, policy  string
		fetch         bool
		maxPathLength int
	)
	cmd := &cobra.Command{
		Use:   "add --entity-id URL (--jwks-file FILE | --fetch) [--entity-type T]... [--policy-file FILE] [--max-path-length N]",
		Short: "Vouch for a subordinate entity: its statement is served at /federation/fetch (audited)",
		Long: `Add a subordinate. Its keys come from --jwks-file ("-" for standard input) or, with --fetch,
from its self-signed entity configuration (the thumbprints are printed: check them with its
operator). --policy-file holds a metadata_policy JSON object (OpenID Federation 1.0 §6.1:
entity type → parameter → operators value, add, default, one_of, subset_of, superset_of,
essential); a policy whose operators cannot combine is refused.`,
		Example: `  idp federation subordinate add --entity-id https://app.b.gov.cn --fetch \
      --entity-type openid_relying_party --policy-file rp-policy.json --max-path-length 0`,
		Args: cobra.NoArgs,
	}
	fedEntityFlag(cmd, &n.EntityID)
	f := cmd.Flags()
	f.StringVar(&file, "jwks-file", "", "the subordinate's JWK Set document")
	f.BoolVar(&fetch, "fetch", false, "take the keys from its entity configuration")
	f.StringArrayVar(&n.EntityTypes, "entity-type", nil, "its entity type, e.g. openid_relying_party (repeatable)")
	f.StringVar(&policy, "policy-file", "", "metadata_policy JSON object")
	f.IntVar(&maxPathLength, "max-path-length", -1, "constraints.max_path_length: intermediates allowed below it")
	cmd.RunE = c.run(func(cmd *cobra.Command, args []string) error {
		if policy != "" {
			data, err := readInput(c.in, policy)
			if err != nil {
				return app.Usagef("--policy-file: %v", err)
			}
			n.MetadataPolicy = data
		}
		if cmd.Flags().Changed("max-path-length") {
			if maxPathLength < 0 {
				return app.Usagef("--max-path-length must be 0 or more")
			}
			n.MaxPathLength = &maxPathLength
		}
		jwks, err := c.fedKeys(cmd.Context(), n.EntityID, file, fetch)
		if err != nil {
			return err
		}
		n.JWKS = jwks
		return c.withFedStore(cmd, "subordinate "+n.EntityID, func(ctx context.Context, b *app.Backend) error {
			if _, err := oidc.AddFederationSubordinate(ctx, b.Store, audit.Shell, n, time.Now()); err != nil {
				return err
			}
			_, err := fmt.Fprintf(c.out, "added subordinate %s; its statement: %s%s?sub=%s\n", n.EntityID, c.issuer(), oidc.PathFederationFetch, url.QueryEscape(n.EntityID))
			return err
		})
	})
	return cmd
}

// subordinateJSON is a subordinate as list/show --json print it.
type subordinateJSON struct {
	EntityID       string          `json:"entity_id"`
	EntityTypes    []string        `json:"entity_types"`
	JWKS           json.RawMessage `json:"jwks"`
	MetadataPolicy json.RawMessage `json:"metadata_policy,omitempty"`
	Constraints    json.RawMessage `json:"constraints,omitempty"`
	CreatedAt      time.Time       `json:"created_at"`
}

func toSubJSON(s storage.FederationSubordinate) subordinateJSON {
	return subordinateJSON{s.EntityID, s.EntityTypes, s.JWKS, s.MetadataPolicy, s.Constraints, s.CreatedAt}
}

func (c *cli) fedSubListCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{Use: "list", Short: "List the subordinates", Args: cobra.NoArgs}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	cmd.RunE = c.run(func(cmd *cobra.Command, args []string) error {
		return c.withFedStore(cmd, "subordinate", func(ctx context.Context, b *app.Backend) error {
			subs, err := b.Store.ListFederationSubordinates(ctx)
			if err != nil {
				return err
			}
			out := []subordinateJSON{}
			rows := [][]string{}
			for _, s := range subs {
				out = append(out, toSubJSON(s))
				rows = append(rows, []string{s.EntityID, strings.Join(s.EntityTypes, ","), fmt.Sprint(s.MetadataPolicy != nil), string(s.Constraints)})
			}
			if asJSON {
				return app.PrintJSON(c.out, out)
			}
			return app.Table(c.out, []string{"ENTITY ID", "TYPES", "POLICY", "CONSTRAINTS"}, rows)
		})
	})
	return cmd
}

func (c *cli) fedSubShowCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "show URL", Short: "Print a subordinate's record as JSON", Args: cobra.ExactArgs(1)}
	cmd.RunE = c.run(func(cmd *cobra.Command, args []string) error {
		return c.withFedStore(cmd, "subordinate "+args[0], func(ctx context.Context, b *app.Backend) error {
			s, err := b.Store.GetFederationSubordinate(ctx, args[0])
			if err != nil {
				return err
			}
			return app.PrintJSON(c.out, toSubJSON(s))
		})
	})
	return cmd
}

func (c *cli) fedSubRemoveCmd() *cobra.Command {
	return c.fedRemoveCmd("Stop vouching for a subordinate (audited)", "subordinate", oidc.RemoveFederationSubordinate)
}

func (c *cli) fedResolveCmd() *cobra.Command {
	var (
		id, anchor, entityType string
		asJSON                 bool
	)
	cmd := &cobra.Command{
		Use:   "resolve --entity-id URL [--trust-anchor URL] [--entity-type T] [--json]",
		Short: "Resolve and check the trust chain of an entity to a configured trust anchor",
		Args:  cobra.NoArgs,
	}
	fedEntityFlag(cmd, &id)
	cmd.Flags().StringVar(&anchor, "trust-anchor", "", "resolve to this configured anchor only")
	cmd.Flags().StringVar(&entityType, "entity-type", "", "print the resolved metadata of this entity type")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	cmd.RunE = c.run(func(cmd *cobra.Command, args []string) error {
		return c.withFedStore(cmd, "trust anchor "+anchor, func(ctx context.Context, b *app.Backend) error {
			anchors, err := b.Store.ListFederationAnchors(ctx)
			if err != nil {
				return err
			}
			// Fetch failures reach the caller as "could not be fetched"; the detail goes to stderr.
			r := &federation.Resolver{AllowHTTP: isLoopbackURL(id), Logger: slog.New(slog.NewTextHandler(c.errOut, nil))}
			for _, a := range anchors {
				r.Anchors = append(r.Anchors, federation.TrustAnchor{EntityID: a.EntityID, JWKS: a.JWKS})
			}
			var chain *federation.TrustChain
			if anchor != "" {
				chain, err = r.ResolveTo(ctx, id, anchor, entityType)
			} else {
				chain, err = r.Resolve(ctx, id, entityType)
			}
			if errors.Is(err, federation.ErrMalformed) && federation.CheckEntityID(id, r.AllowHTTP) != nil {
				return app.Usage(err)
			}
			if err != nil {
				return fmt.Errorf("no valid trust chain: %w", err)
			}
			path := chainPath(chain)
			marks := []string{}
			for _, m := range chain.TrustMarks {
				marks = append(marks, m.Type)
			}
			if asJSON {
				return app.PrintJSON(c.out, map[string]any{"subject": chain.Subject, "trust_anchor": chain.TrustAnchor,
					"path": path, "expires": chain.Expires, "metadata": chain.Metadata, "all_metadata": chain.AllMetadata,
					"trust_marks": marks, "trust_chain": chain.RawChain()})
			}
			fmt.Fprintf(c.out, "trust chain  %s\nvalid until  %s\n", strings.Join(path, " → "), chain.Expires.Format(time.RFC3339))
			for _, m := range marks {
				fmt.Fprintf(c.out, "trust mark   %s\n", m)
			}
			for _, m := range chain.RejectedTrustMarks {
				fmt.Fprintf(c.out, "rejected     %s: %v\n", m.Type, m.Err)
			}
			if chain.Metadata != nil {
				b, _ := json.MarshalIndent(chain.Metadata, "", "  ")
				fmt.Fprintf(c.out, "%s metadata:\n%s\n", entityType, b)
			}
			return nil
		})
	})
	return cmd
}

func (c *cli) fedMarkIssueCmd() *cobra.Command {
	var (
		sub, typ string
		ttl      time.Duration
	)
	cmd := &cobra.Command{
		Use:   "issue --sub URL --id URI [--ttl D]",
		Short: "Issue a trust mark about an entity, signed by this instance (audited); prints the JWT",
		Long: `Issue a trust mark (typ trust-mark+jwt) of type --id about --sub, signed with this
instance's federation key, valid for --ttl (0: no expiry). Give the printed JWT to the
subject's operator, who adds it with "idp federation trust-mark add". A trust anchor lists
this instance as the mark's issuer in its trust_mark_issuers.`,
		Args: cobra.NoArgs,
	}
	cmd.Flags().StringVar(&sub, "sub", "", "the entity ID the mark is about")
	cmd.Flags().StringVar(&typ, "id", "", "the trust mark type (a URI)")
	cmd.Flags().DurationVar(&ttl, "ttl", 365*24*time.Hour, "how long the mark is valid (0: no expiry)")
	_ = cmd.MarkFlagRequired("sub")
	_ = cmd.MarkFlagRequired("id")
	cmd.RunE = c.run(func(cmd *cobra.Command, args []string) error {
		return c.withFedStore(cmd, "trust mark", func(ctx context.Context, b *app.Backend) error {
			jwt, err := oidc.IssueTrustMark(ctx, b.Store, b.Keyring, audit.Shell, c.issuer(), sub, typ, ttl, time.Now())
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(c.out, jwt)
			return err
		})
	})
	return cmd
}

func (c *cli) fedMarkListCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{Use: "list", Short: "List the trust marks this instance issued and those it holds", Args: cobra.NoArgs}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	cmd.RunE = c.run(func(cmd *cobra.Command, args []string) error {
		return c.withFedStore(cmd, "trust mark", func(ctx context.Context, b *app.Backend) error {
			issued, err := b.Store.ListIssuedTrustMarks(ctx)
			if err != nil {
				return err
			}
			held, err := b.Store.ListHeldTrustMarks(ctx)
			if err != nil {
				return err
			}
			type markJSON struct {
				Role    string     `json:"role"` // issued or held
				Type    string     `json:"type"`
				Subject string     `json:"sub,omitempty"`
				Issuer  string     `json:"iss,omitempty"` // held marks: who issued it
				Issued  time.Time  `json:"issued_at"`
				Expires *time.Time `json:"expires_at,omitempty"`
			}
			out := []markJSON{}
			rows := [][]string{}
			for _, m := range issued {
				out = append(out, markJSON{Role: "issued", Type: m.Type, Subject: m.Subject, Issued: m.IssuedAt, Expires: m.ExpiresAt})
				exp := "never"
				if m.ExpiresAt != nil {
					exp = m.ExpiresAt.Format(time.RFC3339)
				}
				rows = append(rows, []string{"issued", m.Type, m.Subject, exp})
			}
			for _, m := range held {
				j := markJSON{Role: "held", Type: m.Type, Subject: c.issuer(), Issued: m.AddedAt}
				exp := "never"
				if tm, err := federation.ReadTrustMark(m.TrustMark); err != nil {
					exp = "unreadable"
				} else if !tm.Expires.IsZero() {
					j.Issuer, j.Issued, j.Expires = tm.Issuer, tm.IssuedAt, &tm.Expires
					exp = tm.Expires.Format(time.RFC3339)
				} else {
					j.Issuer, j.Issued = tm.Issuer, tm.IssuedAt
				}
				out = append(out, j)
				rows = append(rows, []string{"held", m.Type, c.issuer(), exp})
			}
			if asJSON {
				return app.PrintJSON(c.out, out)
			}
			return app.Table(c.out, []string{"ROLE", "TYPE", "SUBJECT", "EXPIRES"}, rows)
		})
	})
	return cmd
}

func (c *cli) fedMarkAddCmd() *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "add --file FILE",
		Short: "Hold a trust mark issued to this instance: its entity configuration publishes it (audited)",
		Args:  cobra.NoArgs,
	}
	cmd.Flags().StringVar(&file, "file", "", `the trust mark JWT ("-" for standard input)`)
	_ = cmd.MarkFlagRequired("file")
	cmd.RunE = c.run(func(cmd *cobra.Command, args []string) error {
		data, err := readInput(c.in, file)
		if err != nil {
			return app.Usagef("--file: %v", err)
		}
		return c.withFedStore(cmd, "trust mark", func(ctx context.Context, b *app.Backend) error {
			tm, err := oidc.AddHeldTrustMark(ctx, b.Store, nil, audit.Shell, c.issuer(), string(data), time.Now())
			if err != nil {
				return err
			}
			exp := "never"
			if !tm.Expires.IsZero() {
				exp = tm.Expires.Format(time.RFC3339)
			}
			_, err = fmt.Fprintf(c.out, "holding trust mark %s issued by %s, expires %s\n", tm.Type, tm.Issuer, exp)
			return err
		})
	})
	return cmd
}

// chainPath is the entity IDs of a trust chain from its subject up to its trust anchor, each
// once: the subject, then the issuer of each subordinate statement.
func chainPath(chain *federation.TrustChain) []string {
	path := []string{chain.Subject}
	for _, s := range chain.Statements[1:] {
		if !s.IsConfiguration() {
			path = append(path, s.Issuer)
		}
	}
	if path[len(path)-1] != chain.TrustAnchor {
		path = append(path, chain.TrustAnchor)
	}
	return path
}
