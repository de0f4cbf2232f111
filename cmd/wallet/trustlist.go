package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tongban/tongban/cmd/internal/app"
	"github.com/tongban/tongban/credentials"
	"github.com/tongban/tongban/qr"
	"github.com/tongban/tongban/qr/verdict"
	smcrypto "github.com/tongban/tongban/sm-crypto"
	"github.com/tongban/tongban/wallet"
)

// anchorFileName is the trust anchor's file name next to the trust list, the default of
// `trust-list export --anchor` and of `verify --trust-anchor`.
const anchorFileName = "trust-anchor.pem"

func defaultAnchor(listPath string) string {
	return filepath.Join(filepath.Dir(listPath), anchorFileName)
}

func (c *cli) trustListCmd() *cobra.Command {
	return app.Group("trust-list", "Export the signed trust list verifiers use",
		c.trustListExportCmd(), c.trustListShowCmd(), c.rotateAnchorCmd())
}

// exportJSON is the --json output of `trust-list export`.
type exportJSON struct {
	File        string   `json:"file"`
	Anchor      string   `json:"anchor,omitempty"`
	Sequence    uint64   `json:"sequence"`
	IssuedAt    string   `json:"issued_at"`
	ExpiresAt   string   `json:"expires_at"`
	Keys        int      `json:"keys"`
	Fingerprint []string `json:"anchor_fingerprints"`
	SignedBy    string   `json:"signed_by"`                          // fingerprint of the anchor that signed the list
	NextAnchors []string `json:"next_anchor_fingerprints,omitempty"` // announced next anchors
}

func (c *cli) trustListExportCmd() *cobra.Command {
	var anchor string
	var noAnchor, asJSON bool
	cmd := &cobra.Command{
		Use:   "export FILE",
		Short: "Write the signed trust list to FILE and its trust anchor beside it",
		Long: `Write the current signed trust list (COSE_Sign1, the same bytes GET /trust-list serves) to
FILE, and the trust anchor — the public key(s) of the trust-list signing key, PEM, which
verifiers pin — to --anchor (default trust-anchor.pem in FILE's directory). Both files are
replaced atomically. The anchor's fingerprint is printed: read it out to counter operators so
they can check the anchor they install (see docs/verifiers/counter-guide.md).`,
		Example: "  wallet trust-list export var/trust-list.cose",
		Args:    cobra.ExactArgs(1),
	}
	cmd.Flags().StringVar(&anchor, "anchor", "", "trust anchor file (default: trust-anchor.pem beside FILE)")
	cmd.Flags().BoolVar(&noAnchor, "no-anchor", false, "write only the trust list")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	cmd.RunE = c.run(func(cmd *cobra.Command, args []string) error {
		log, err := c.setup(cmd, true, nil)
		if err != nil {
			return err
		}
		file := args[0]
		if anchor == "" {
			anchor = defaultAnchor(file)
		}
		ctx := cmd.Context()
		svc, closeFn, err := c.openService(ctx, log, wallet.ServiceConfig{})
		if err != nil {
			return err
		}
		defer closeFn()
		res, err := exportTrustList(ctx, svc, file, anchor, !noAnchor)
		if err != nil {
			return err
		}
		if asJSON {
			return app.PrintJSON(c.out, res)
		}
		fmt.Fprintf(c.out, "wrote trust list %s: sequence %d, %d code-signing key(s), fresh until %s\n",
			res.File, res.Sequence, res.Keys, res.ExpiresAt)
		fmt.Fprintf(c.out, "signed by trust anchor %s\n", res.SignedBy)
		for _, n := range res.NextAnchors {
			fmt.Fprintf(c.out, "announces next trust anchor %s (rotation prepared)\n", n)
		}
		if res.Anchor != "" {
			fmt.Fprintf(c.out, "wrote trust anchor %s: fingerprint %s\n", res.Anchor, strings.Join(res.Fingerprint, ", "))
		}
		return nil
	})
	return cmd
}

// exportTrustList writes the signed list and, with withAnchor, the anchor PEM, each
// atomically (the list 0644: it is public; so is the anchor).
func exportTrustList(ctx context.Context, svc *wallet.Service, file, anchor string, withAnchor bool) (*exportJSON, error) {
	signed, list, err := svc.TrustList(ctx)
	if err != nil {
		return nil, err
	}
	anchors, err := svc.TrustAnchors(ctx)
	if err != nil {
		return nil, err
	}
	res := &exportJSON{
		File: file, Sequence: list.Sequence, Keys: len(list.Keys),
		IssuedAt: list.IssuedAt.UTC().Format(time.RFC3339), ExpiresAt: list.ExpiresAt.UTC().Format(time.RFC3339),
	}
	for _, a := range anchors {
		res.Fingerprint = append(res.Fingerprint, qr.AnchorFingerprint(a))
		if smcrypto.KeyID(a) == list.SignerKID {
			res.SignedBy = qr.AnchorFingerprint(a)
		}
	}
	for _, n := range list.NextAnchors {
		res.NextAnchors = append(res.NextAnchors, qr.AnchorFingerprint(n.PublicKey))
	}
	if err := writeFileAtomic(file, signed, 0o644); err != nil {
		return nil, fmt.Errorf("write trust list: %w", err)
	}
	if withAnchor {
		pemBytes, err := wallet.MarshalTrustAnchors(anchors)
		if err != nil {
			return nil, err
		}
		if err := writeFileAtomic(anchor, pemBytes, 0o644); err != nil {
			return nil, fmt.Errorf("write trust anchor: %w", err)
		}
		res.Anchor = anchor
	}
	return res, nil
}

// showJSON is the --json output of `trust-list show`.
type showJSON struct {
	Acceptable bool      `json:"acceptable"`
	Reason     string    `json:"reason,omitempty"`
	Message    string    `json:"message,omitempty"`
	Detail     string    `json:"detail,omitempty"`
	Anchors    []string  `json:"anchor_fingerprints"`
	Next       []string  `json:"next_anchor_fingerprints,omitempty"` // announced by the list
	Sequence   uint64    `json:"sequence,omitempty"`
	IssuedAt   string    `json:"issued_at,omitempty"`
	ExpiresAt  string    `json:"expires_at,omitempty"`
	Keys       []keyJSON `json:"keys,omitempty"`
}

type keyJSON struct {
	KeyID     string   `json:"key_id"`
	Issuer    string   `json:"issuer"`
	Kinds     []string `json:"kinds"`
	Profiles  []int    `json:"profiles"`
	NotBefore string   `json:"not_before"`
	NotAfter  string   `json:"not_after"`
}

func (c *cli) trustListShowCmd() *cobra.Command {
	var anchorPath, at string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show FILE [--trust-anchor FILE] [--at RFC3339] [--json]",
		Short: "Check a trust list offline and show what it trusts",
		Long: `Check the trust list FILE against the pinned trust anchor (--trust-anchor, default
trust-anchor.pem beside FILE), offline, and print the anchor's fingerprint (computed from the
key, to compare with the one the wallet operator gave you), the list's sequence number and
freshness, and every code-signing key with the licence kinds and display profiles it may sign.

Exit status: 0 the list is acceptable now; 1 it is not (not signed by the anchor, altered,
or out of date); 2 wrong usage or an unreadable file.`,
		Example: "  wallet trust-list show trust-list.cose",
		Args:    cobra.ExactArgs(1),
	}
	cmd.Flags().StringVar(&anchorPath, "trust-anchor", "", "pinned trust anchor PEM (default: trust-anchor.pem beside FILE)")
	cmd.Flags().StringVar(&at, "at", "", "check freshness as of this time (RFC 3339) instead of now")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	cmd.RunE = c.run(func(cmd *cobra.Command, args []string) error {
		now := time.Now()
		if at != "" {
			t, err := time.Parse(time.RFC3339, at)
			if err != nil {
				return app.Usagef("--at %q: want RFC 3339", at)
			}
			now = t
		}
		if anchorPath == "" {
			anchorPath = defaultAnchor(args[0])
		}
		data, err := readLimited(args[0], qr.MaxTrustListSize+1)
		if err != nil {
			return app.Usage(err)
		}
		anchorBytes, err := readLimited(anchorPath, 1<<20)
		if err != nil {
			return app.Usagef("--trust-anchor: %w", err)
		}
		anchors, err := wallet.ParseTrustAnchors(anchorBytes)
		if err != nil {
			return app.Usagef("--trust-anchor %s: %w", anchorPath, err)
		}
		out := showJSON{}
		for _, a := range anchors {
			out.Anchors = append(out.Anchors, qr.AnchorFingerprint(a))
		}
		list, err := qr.NewTrustStore(anchors, func() time.Time { return now }).Update(data)
		if err != nil {
			r := verdict.ReasonOf(err)
			out.Reason, out.Message, out.Detail = r.Code, r.EN, err.Error()
			// Still describe a list that only failed freshness.
			list, _ = qr.ParseTrustList(data, anchors)
		} else {
			out.Acceptable = true
		}
		if list != nil {
			out.Sequence = list.Sequence
			out.IssuedAt = list.IssuedAt.UTC().Format(time.RFC3339)
			out.ExpiresAt = list.ExpiresAt.UTC().Format(time.RFC3339)
			for _, n := range list.NextAnchors {
				out.Next = append(out.Next, qr.AnchorFingerprint(n.PublicKey))
			}
			for _, k := range list.Keys {
				kj := keyJSON{KeyID: hex.EncodeToString(k.KID[:]), Issuer: k.Issuer,
					NotBefore: k.NotBefore.UTC().Format(time.RFC3339), NotAfter: k.NotAfter.UTC().Format(time.RFC3339)}
				for _, kind := range k.Kinds {
					kj.Kinds = append(kj.Kinds, string(kind))
				}
				for _, p := range k.Profiles {
					kj.Profiles = append(kj.Profiles, int(p))
				}
				out.Keys = append(out.Keys, kj)
			}
		}
		code := app.ExitOK
		if !out.Acceptable {
			code = app.ExitFailure
		}
		c.exit = &code
		if asJSON {
			return app.PrintJSON(c.out, out)
		}
		w := c.out
		for _, f := range out.Anchors {
			fmt.Fprintf(w, "trust anchor fingerprint  %s\n", f)
		}
		if out.Acceptable {
			fmt.Fprintln(w, "trust list                ACCEPTABLE 可用")
		} else {
			r := verdict.ReasonOf(err)
			fmt.Fprintf(w, "trust list                NOT ACCEPTABLE 不可用: %s\n  %s\n  %s\n  (%s)\n", r.Code, r.ZH, r.EN, err)
		}
		if list != nil {
			local := func(t time.Time) string { return t.In(credentials.ChinaStandardTime).Format(time.DateTime + " -07:00") }
			fmt.Fprintf(w, "sequence                  %d\n", list.Sequence)
			fmt.Fprintf(w, "issued                    %s\n", local(list.IssuedAt))
			fmt.Fprintf(w, "fresh until               %s\n", local(list.ExpiresAt))
			for _, n := range out.Next {
				fmt.Fprintf(w, "next trust anchor         %s (announced: the operator is rotating the anchor)\n", n)
			}
			for i, k := range out.Keys {
				fmt.Fprintf(w, "code-signing key          %s (%s)\n  kinds     %s\n  profiles  %v\n  usable    %s to %s\n",
					k.KeyID, k.Issuer, strings.Join(k.Kinds, ", "), k.Profiles, local(list.Keys[i].NotBefore), local(list.Keys[i].NotAfter))
			}
		}
		return nil
	})
	return cmd
}
