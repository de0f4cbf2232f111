package main

import (
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tongban/tongban/cmd/internal/app"
	"github.com/tongban/tongban/credentials"
	"github.com/tongban/tongban/qr"
	"github.com/tongban/tongban/wallet"
)

// pngScale is the size of one QR module in the PNG files the command line writes.
const pngScale = 8

// codeJSON is the --json output of `wallet code`.
type codeJSON struct {
	Text      string   `json:"text"`
	PNG       string   `json:"png,omitempty"` // base64; only with --png
	IssuedAt  string   `json:"issued_at"`
	ExpiresAt string   `json:"expires_at"`
	Profile   string   `json:"profile"`
	Version   int      `json:"version"`
	Kinds     []string `json:"kinds"`
	Licences  []string `json:"licences"`
	// StatusIndex: a pre-fetched code's index into the status list (--prefetch).
	StatusIndex *uint64 `json:"status_index,omitempty"`
}

func (c *cli) codeCmd() *cobra.Command {
	var (
		holder, kinds, profile, fields, out, png string
		ids                                      []string
		asJSON                                   bool
		prefetch                                 time.Duration
	)
	cmd := &cobra.Command{
		Use:   "code --holder NUMBER --kind KIND[,KIND…] [--profile NAME] [--out FILE] [--png FILE]",
		Short: "Mint a code for a holder's licences",
		Long: `Mint a signed QR code for the licences of a holder (resident ID number or unified social
credit code), as the wallet service does for the holder, and print its text (or write it to
--out) and/or write it as a PNG image (--png). Several kinds make a 多码合一 code.

Profiles: masked (identity check: masked name and number, valid-until; the default for one
licence), full (full registration data; --fields picks the kind-specific fields), bundle
(多码合一, the default for several licences). A code is valid for 60 seconds.

--prefetch DURATION (at most 24h) mints a pre-fetched code for an offline phone instead:
masked profile, one licence, valid for DURATION, carrying the licence's index into the status
list ('wallet status-list export'); verifiers need a fresh status list to accept it.

A revoked, suspended, expired or not yet valid licence gets no code (exit 1).`,
		Example: `  wallet code --holder 11010119900307002X --kind resident-id --png code.png
  wallet code --holder 11010119900307002X --kind resident-id,medical-insurance,health-code
  wallet code --holder 11010119900307002X --kind driving-licence --profile full --fields class
  wallet code --holder 11010119900307002X --kind resident-id --prefetch 12h`,
		Args: cobra.NoArgs,
	}
	f := cmd.Flags()
	f.StringVar(&holder, "holder", "", "holder: resident ID number or unified social credit code (required)")
	f.StringVar(&kinds, "kind", "", "licence kind(s), comma-separated: "+strings.Join(kindNames(), ", "))
	f.StringSliceVar(&ids, "id", nil, "licence ID (repeat), instead of or besides --kind")
	f.StringVar(&profile, "profile", "", "display profile: masked, full or bundle (default: masked for one licence, bundle for several)")
	f.StringVar(&fields, "fields", "", "full profile only: kind-specific fields to show, comma-separated (default all)")
	f.StringVar(&out, "out", "", "write the code text to FILE instead of standard output")
	f.StringVar(&png, "png", "", "write the code as a PNG image to FILE")
	f.BoolVar(&asJSON, "json", false, "print the result as JSON")
	f.DurationVar(&prefetch, "prefetch", 0, "mint a pre-fetched offline code valid this long (1s to 24h; masked profile, one licence)")
	_ = cmd.MarkFlagRequired("holder")

	cmd.RunE = c.run(func(cmd *cobra.Command, args []string) error {
		var req wallet.CodeRequest
		ctx, svc, closeFn, err := c.adminService(cmd, func(p *app.Problems) {
			if err := checkHolder(holder); err != nil {
				p.Add(err)
			}
			var err error
			kindErr := false
			if req.Kinds, err = wallet.ParseKinds(kinds); err != nil {
				kindErr = true
				p.Addf("--kind %q: unknown licence kind (known: %s)", kinds, strings.Join(kindNames(), ", "))
			}
			for i, k := range req.Kinds {
				if slices.Contains(req.Kinds[:i], k) {
					kindErr = true
					p.Addf("--kind %q: %s named twice (name several licences of one kind by --id)", kinds, k)
					break
				}
			}
			req.IDs = ids
			if cmd.Flags().Changed("prefetch") {
				if prefetch < time.Second || prefetch > qr.PrefetchMaxValidity || prefetch%time.Second != 0 {
					p.Addf("--prefetch %s: want whole seconds from 1s to %s", prefetch, qr.PrefetchMaxValidity)
				}
				req.Prefetch = prefetch
			}
			if !kindErr && len(req.Kinds) == 0 && len(req.IDs) == 0 {
				p.Addf("--kind or --id: name at least one licence")
			}
			if req.Profile, err = wallet.ParseProfile(profile); err != nil {
				p.Addf("--profile %q: want masked, full or bundle", profile)
			}
			if cmd.Flags().Changed("fields") {
				if req.Profile != qr.ProfileFullRegistration {
					p.Addf("--fields: only with --profile full")
				}
				req.Fields = []string{}
				for _, name := range strings.Split(fields, ",") {
					if name = strings.TrimSpace(name); name != "" {
						req.Fields = append(req.Fields, name)
					}
				}
			}
		}, nil)
		if err != nil {
			return err
		}
		defer closeFn()
		m, err := svc.Mint(ctx, svc.HolderIndex(holder), req, wallet.Operator)
		if err != nil {
			if errors.Is(err, wallet.ErrBadRequest) {
				return app.Usage(err)
			}
			return err
		}
		res := codeJSON{
			Text: m.Text, IssuedAt: m.IssuedAt.UTC().Format(time.RFC3339), ExpiresAt: m.ExpiresAt.UTC().Format(time.RFC3339),
			Profile: m.Profile.String(), Version: qr.Version(m.Text), StatusIndex: m.StatusIndex,
		}
		for _, r := range m.Licences {
			res.Kinds = append(res.Kinds, string(r.Licence.Kind))
			res.Licences = append(res.Licences, r.ID)
		}
		if png != "" {
			img, err := qr.RenderPNG(m.Text, -pngScale)
			if err != nil {
				return err
			}
			if err := os.WriteFile(png, img, 0o644); err != nil {
				return err
			}
			if asJSON {
				res.PNG = base64.StdEncoding.EncodeToString(img)
			}
		}
		if out != "" {
			if err := os.WriteFile(out, []byte(m.Text+"\n"), 0o644); err != nil {
				return err
			}
		}
		if asJSON {
			return app.PrintJSON(c.out, res)
		}
		if out == "" {
			fmt.Fprintln(c.out, m.Text)
		}
		names := make([]string, len(m.Licences))
		for i, r := range m.Licences {
			names[i] = string(r.Licence.Kind)
		}
		fmt.Fprintf(c.errOut, "code: %s, profile %s, QR version %d, valid until %s (%d s)\n",
			strings.Join(names, "+"), m.Profile, res.Version,
			m.ExpiresAt.In(credentials.ChinaStandardTime).Format("2006-01-02 15:04:05 -07:00"),
			int(m.ExpiresAt.Sub(m.IssuedAt).Seconds()))
		if png != "" {
			fmt.Fprintf(c.errOut, "wrote %s\n", png)
		}
		if out != "" {
			fmt.Fprintf(c.errOut, "wrote %s\n", out)
		}
		return nil
	})
	return cmd
}
