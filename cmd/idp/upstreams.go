package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tongban/tongban/audit"
	"github.com/tongban/tongban/cmd/internal/app"
	"github.com/tongban/tongban/cmd/internal/idpserver"
	"github.com/tongban/tongban/oidc"
	"github.com/tongban/tongban/storage"
)

// `idp upstreams add|list|remove` (docs/operators/federation.md): the upstream OpenID
// providers the login page offers (brokered login, oidc/broker.go). Each change is audited as
// the operator (audit.Shell) in the same transaction.
func (c *cli) upstreamsCmd() *cobra.Command {
	return app.Group("upstreams", "Manage the upstream identity providers citizens may log in with",
		c.upstreamsAddCmd(), c.upstreamsListCmd(), c.upstreamsRemoveCmd())
}

// withNamedStore opens the backend and runs fn, mapping its errors to exit codes: invalid
// (the package's error for bad input, oidc.ErrInvalidUpstream or oidc.ErrInvalidFederation)
// is a usage error, storage.ErrConflict "<what> exists already", storage.ErrNotFound "no such
// <what>" (exit 2); anything else is classified as every command's errors are.
func (c *cli) withNamedStore(cmd *cobra.Command, what string, invalid error, fn func(ctx context.Context, b *app.Backend) error) error {
	log, err := c.setup(cmd, true, nil)
	if err != nil {
		return err
	}
	b, err := c.openBackend(cmd.Context(), log)
	if err != nil {
		return err
	}
	defer b.Close()
	err = fn(cmd.Context(), b)
	switch {
	case errors.Is(err, invalid):
		return app.Usage(err)
	case errors.Is(err, storage.ErrConflict):
		return app.Usagef("%s exists already", what)
	case errors.Is(err, storage.ErrNotFound):
		return app.Usagef("no such %s", what)
	case err != nil:
		return classify(err)
	}
	return nil
}

// withUpstreamStore is withNamedStore for the upstreams commands.
func (c *cli) withUpstreamStore(cmd *cobra.Command, what string, fn func(ctx context.Context, b *app.Backend) error) error {
	return c.withNamedStore(cmd, what, oidc.ErrInvalidUpstream, fn)
}

// upstreamJSON is an upstream as `idp upstreams list --json` prints it (no secret).
type upstreamJSON struct {
	ID               string            `json:"id"`
	Issuer           string            `json:"issuer"`
	ClientID         string            `json:"client_id"`
	Scopes           []string          `json:"scopes"`
	IDNumberClaim    string            `json:"id_number_claim,omitempty"`
	TrustedIDNumbers bool              `json:"trusted_id_numbers"`
	AllowJIT         bool              `json:"jit"`
	SilentSSO        bool              `json:"silent_sso"`
	ACRMap           map[string]string `json:"acr_map,omitempty"`
	LabelZH          string            `json:"label_zh"`
	LabelEN          string            `json:"label_en"`
	Federation       bool              `json:"federation"`
	CreatedAt        time.Time         `json:"created_at"`
}

func (c *cli) upstreamsAddCmd() *cobra.Command {
	var (
		n      oidc.NewUpstream
		scopes string
		acr    []string
	)
	cmd := &cobra.Command{
		Use:   "add --id ID (--issuer URL --client-id ID | --federation --entity-id URL) --label-zh 名称 --label-en NAME [flags]",
		Short: "Register an upstream identity provider; its client secret is read from standard input",
		Long: `Register an upstream OpenID provider (another province's tongban, the national platform,
any standard OP) that the login page offers as "用 … 登录 / Log in with …". Register tongban
at the upstream first, with the redirect URI <this issuer>/upstream/callback; the client secret
it gave is read from standard input (asked without echo on a terminal) and stored sealed.

--trusted-id-numbers links a subject to the local person with the same resident ID number
(read from --id-number-claim) without a local login; --jit also creates the person when none
exists. Without them a new subject is linked after one local password login. --silent-sso
sends every authorization request without a session to this upstream with prompt=none first.
--acr UPSTREAM=LOCAL maps an upstream acr value (repeatable); unknown values map to the
lowest local level. The registration is audited (upstream.add).

--federation --entity-id URL finds the upstream through OpenID Federation 1.0 instead: its
endpoints and keys come from its trust chain (resolved to one of this server's trust anchors,
again whenever the chain expires), and this server registers there automatically with its own
entity ID, a signed request object and private_key_jwt — no --issuer, --client-id or secret.`,
		Example: `  printf '%s' "$SECRET" | idp upstreams add --id province-a --issuer https://idp.a.gov.cn \
      --client-id province-b --scopes openid,profile,id_number --id-number-claim id_number \
      --trusted-id-numbers --label-zh 甲省政务服务 --label-en "Province A"
  idp upstreams add --federation --id province-a --entity-id https://idp.a.gov.cn \
      --scopes openid,profile,id_number --id-number-claim id_number --trusted-id-numbers \
      --label-zh 甲省政务服务 --label-en "Province A"`,
		Args: cobra.NoArgs,
	}
	f := cmd.Flags()
	f.StringVar(&n.ID, "id", "", "the upstream's name here, [a-z0-9-] (required)")
	f.StringVar(&n.Issuer, "issuer", "", "the upstream's issuer URL (required without --federation)")
	f.StringVar(&n.ClientID, "client-id", "", "tongban's client ID at the upstream (required without --federation)")
	f.BoolVar(&n.Federation, "federation", false, "find the upstream through OpenID Federation (with --entity-id; no client ID or secret)")
	var entityID string
	f.StringVar(&entityID, "entity-id", "", "with --federation: the upstream's entity identifier")
	f.StringVar(&scopes, "scopes", "openid", "scopes to ask for, comma-separated (openid is always added)")
	f.StringVar(&n.IDNumberClaim, "id-number-claim", "", "the ID-token claim carrying the verified resident ID number")
	f.BoolVar(&n.TrustedIDNumbers, "trusted-id-numbers", false, "link by ID number without a local login")
	f.BoolVar(&n.AllowJIT, "jit", false, "create a local person when none has the ID number (needs --trusted-id-numbers)")
	f.BoolVar(&n.SilentSSO, "silent-sso", false, "try this upstream with prompt=none before showing the login page")
	f.StringArrayVar(&acr, "acr", nil, "map an upstream acr to a local one, UPSTREAM=LOCAL (repeatable)")
	f.StringVar(&n.LabelZH, "label-zh", "", "the login button's Chinese label (required)")
	f.StringVar(&n.LabelEN, "label-en", "", "the login button's English label (required)")
	for _, r := range []string{"id", "label-zh", "label-en"} {
		_ = cmd.MarkFlagRequired(r)
	}
	cmd.RunE = c.run(func(cmd *cobra.Command, args []string) error {
		for _, s := range strings.Split(scopes, ",") {
			if s = strings.TrimSpace(s); s != "" {
				n.Scopes = append(n.Scopes, s)
			}
		}
		for _, m := range acr {
			up, local, ok := strings.Cut(m, "=")
			if !ok {
				return app.Usagef("--acr %q: want UPSTREAM=LOCAL", m)
			}
			if n.ACRMap == nil {
				n.ACRMap = map[string]string{}
			}
			n.ACRMap[up] = local
		}
		switch {
		case n.Federation && (entityID == "" || n.Issuer != "" || n.ClientID != ""):
			return app.Usagef("--federation takes --entity-id, and no --issuer or --client-id")
		case n.Federation:
			n.Issuer, n.Self = entityID, ownIssuer(cmd)
		case entityID != "":
			return app.Usagef("--entity-id needs --federation")
		case n.Issuer == "" || n.ClientID == "":
			return app.Usagef("--issuer and --client-id are required (or --federation --entity-id)")
		default:
			secret, err := app.ReadPassword(c.in, c.errOut, "Client secret: ", false)
			if err != nil {
				return fmt.Errorf("client secret: %w", err)
			}
			n.ClientSecret = secret
		}
		return c.withUpstreamStore(cmd, "upstream "+n.ID, func(ctx context.Context, b *app.Backend) error {
			u, err := oidc.AddUpstream(ctx, b.Store, b.Keyring, audit.Shell, n, time.Now())
			if err != nil {
				return err
			}
			if u.Federation {
				_, err = fmt.Fprintf(c.out, "added upstream %s (entity %s), found through the federation\n"+
					"this server registers there automatically with its entity ID; nothing to register by hand\n", u.ID, u.Issuer)
				return err
			}
			_, err = fmt.Fprintf(c.out, "added upstream %s (%s)\nthe redirect URI to register at the upstream: %s\n"+
				"the back-channel logout URI to register at the upstream: %s\n",
				u.ID, u.Issuer, oidc.UpstreamRedirectURI("<this issuer>"), oidc.UpstreamBackchannelLogoutURI("<this issuer>"))
			return err
		})
	})
	return cmd
}

func (c *cli) upstreamsListCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the upstream identity providers (without secrets)",
		Args:  cobra.NoArgs,
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	cmd.RunE = c.run(func(cmd *cobra.Command, args []string) error {
		return c.withUpstreamStore(cmd, "upstream", func(ctx context.Context, b *app.Backend) error {
			ups, err := b.Store.ListUpstreams(ctx)
			if err != nil {
				return err
			}
			out := make([]upstreamJSON, 0, len(ups))
			rows := make([][]string, 0, len(ups))
			for _, u := range ups {
				out = append(out, upstreamJSON{ID: u.ID, Issuer: u.Issuer, ClientID: u.ClientID, Scopes: u.Scopes,
					IDNumberClaim: u.IDNumberClaim, TrustedIDNumbers: u.TrustedIDNumbers, AllowJIT: u.AllowJIT,
					SilentSSO: u.SilentSSO, ACRMap: u.ACRMap, LabelZH: u.LabelZH, LabelEN: u.LabelEN, Federation: u.Federation,
					CreatedAt: u.CreatedAt})
				link := "local login"
				if u.TrustedIDNumbers {
					link = "ID number"
				}
				if u.AllowJIT {
					link += " + JIT"
				}
				clientID := u.ClientID
				if u.Federation && clientID == "" {
					clientID = "(federation: entity ID)"
				}
				rows = append(rows, []string{u.ID, u.Issuer, clientID, link, fmt.Sprint(u.SilentSSO), u.LabelEN, u.LabelZH})
			}
			if asJSON {
				return app.PrintJSON(c.out, out)
			}
			return app.Table(c.out, []string{"ID", "ISSUER", "CLIENT ID", "LINK BY", "SILENT", "LABEL", "标签"}, rows)
		})
	})
	return cmd
}

func (c *cli) upstreamsRemoveCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "remove ID",
		Short: "Remove an upstream identity provider and every link to it (audited)",
		Args:  cobra.ExactArgs(1),
	}
	cmd.RunE = c.run(func(cmd *cobra.Command, args []string) error {
		return c.withUpstreamStore(cmd, "upstream "+args[0], func(ctx context.Context, b *app.Backend) error {
			if err := oidc.RemoveUpstream(ctx, b.Store, audit.Shell, args[0], time.Now()); err != nil {
				return err
			}
			_, err := fmt.Fprintf(c.out, "removed upstream %s and its links\n", args[0])
			return err
		})
	})
	return cmd
}

// `idp people links list|remove`: the upstream accounts linked to a person.
func (c *cli) peopleLinksCmd() *cobra.Command {
	list := &cobra.Command{
		Use:   "list --person ID-NUMBER|PHONE|PERSON-ID",
		Short: "List the upstream accounts linked to a person",
		Args:  cobra.NoArgs,
	}
	var person, upstream, subject string
	var asJSON bool
	list.Flags().StringVar(&person, "person", "", personFlagUsage)
	list.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	_ = list.MarkFlagRequired("person")
	list.RunE = c.run(func(cmd *cobra.Command, args []string) error {
		svc, p, done, err := c.operatorPerson(cmd, person)
		if err != nil {
			return err
		}
		defer done()
		_ = svc
		links, err := c.linksOf(cmd, p.ID)
		if err != nil {
			return err
		}
		if asJSON {
			return app.PrintJSON(c.out, links)
		}
		rows := make([][]string, 0, len(links))
		for _, l := range links {
			rows = append(rows, []string{l.UpstreamID, printable(l.Subject), l.CreatedAt.In(beijing).Format("2006-01-02 15:04"),
				l.LastUsedAt.In(beijing).Format("2006-01-02 15:04")})
		}
		if _, err := fmt.Fprintf(c.out, "person %s\n", describePerson(p)); err != nil {
			return err
		}
		return app.Table(c.out, []string{"UPSTREAM", "SUBJECT", "LINKED (BEIJING TIME)", "LAST USED (BEIJING TIME)"}, rows)
	})
	remove := &cobra.Command{
		Use:   "remove --person ID-NUMBER|PHONE|PERSON-ID --upstream ID --subject SUB",
		Short: "Unlink an upstream account from a person (audited)",
		Args:  cobra.NoArgs,
	}
	remove.Flags().StringVar(&person, "person", "", personFlagUsage)
	remove.Flags().StringVar(&upstream, "upstream", "", "the upstream ID (required)")
	remove.Flags().StringVar(&subject, "subject", "", "the subject at the upstream, as \"idp people links list\" prints it (required)")
	for _, r := range []string{"person", "upstream", "subject"} {
		_ = remove.MarkFlagRequired(r)
	}
	remove.RunE = c.run(func(cmd *cobra.Command, args []string) error {
		_, p, done, err := c.operatorPerson(cmd, person)
		if err != nil {
			return err
		}
		done()
		return c.withUpstreamStore(cmd, "link", func(ctx context.Context, b *app.Backend) error {
			if err := oidc.UnlinkUpstream(ctx, b.Store, audit.Shell, p.ID, upstream, subject, time.Now()); err != nil {
				return err
			}
			_, err := fmt.Fprintf(c.out, "unlinked %s at %s from person %s\n", printable(subject), upstream, describePerson(p))
			return err
		})
	})
	return app.Group("links", "List and remove the upstream accounts linked to a person", list, remove)
}

// linkJSON is one link as `idp people links list --json` prints it.
type linkJSON struct {
	UpstreamID string    `json:"upstream"`
	Subject    string    `json:"subject"`
	CreatedAt  time.Time `json:"created_at"`
	LastUsedAt time.Time `json:"last_used_at"`
}

func (c *cli) linksOf(cmd *cobra.Command, personID string) ([]linkJSON, error) {
	out := []linkJSON{}
	err := c.withUpstreamStore(cmd, "person", func(ctx context.Context, b *app.Backend) error {
		links, err := b.Store.ListUpstreamLinks(ctx, personID)
		for _, l := range links {
			out = append(out, linkJSON{UpstreamID: l.UpstreamID, Subject: l.Subject, CreatedAt: l.CreatedAt, LastUsedAt: l.LastUsedAt})
		}
		return err
	})
	return out, err
}

// ownIssuer is this server's issuer (its entity ID) as idp serve reads it — TONGBAN_ISSUER, the
// config file's issuer key, or idpserver.DefaultIssuer — for commands whose own --issuer flag
// means something else (upstreams add). An unreadable config file gives the default: the
// command's own setup reports it.
func ownIssuer(cmd *cobra.Command) string {
	if v, ok := os.LookupEnv(app.EnvName("issuer")); ok && v != "" {
		return strings.TrimSuffix(v, "/")
	}
	path := os.Getenv(app.EnvName(app.ConfigFlag))
	if f := cmd.Flags().Lookup(app.ConfigFlag); f != nil && f.Changed {
		path = f.Value.String()
	}
	if path != "" {
		entries, _ := app.ReadConfigFile(path)
		for _, e := range entries {
			if e.Key == "issuer" {
				return strings.TrimSuffix(e.Value, "/")
			}
		}
	}
	return strings.TrimSuffix(idpserver.DefaultIssuer, "/")
}
