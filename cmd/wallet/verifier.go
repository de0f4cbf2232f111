package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tongban/tongban/cmd/internal/app"
	"github.com/tongban/tongban/qr"
	"github.com/tongban/tongban/wallet"
	"github.com/tongban/tongban/wallet/verifier"
)

func (c *cli) verifierCmd() *cobra.Command {
	return app.Group("verifier", "The counter verifier in the browser (扫码核验)", c.verifierExportCmd())
}

// verifierExportJSON is the --json output of `verifier export`.
type verifierExportJSON struct {
	Dir          string   `json:"dir"`
	Files        []string `json:"files"`
	TrustListURL string   `json:"trust_list_url"`
	StatusURL    string   `json:"status_list_url,omitempty"`
	WalletURL    string   `json:"wallet_url,omitempty"` // where receipts go; "" when they are off
	Receipts     bool     `json:"receipts"`
	Sequence     uint64   `json:"trust_list_sequence"`
	ExpiresAt    string   `json:"trust_list_expires_at"`
	Fingerprint  []string `json:"anchor_fingerprints"`
}

func (c *cli) verifierExportCmd() *cobra.Command {
	var listURL, statusURL, walletURL string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "export DIR [--wallet-url URL] [--trust-list-url URL] [--status-list-url URL] [--json]",
		Short: "Write the browser verifier as a static folder an office can host",
		Long: `Write the counter verifier page — the same one the wallet serves at /verify/ — to DIR, as
static files any web server can host (over HTTPS, or http://localhost: browsers give the camera
and the service worker only to secure pages): the page, its script and stylesheet, the service
worker, the verifier compiled to WebAssembly, the QR decoder, config.json, the trust anchor
(trust-anchor.pem, the public key(s) that sign trust lists) and a snapshot of the current trust
list (trust-list.cose).

The page fetches the trust list from --trust-list-url, e.g. the wallet's
https://wallet.example.gov.cn/trust-list (the wallet allows that from any origin), and falls
back to the snapshot; without --trust-list-url it uses the snapshot, which the office must then
replace at least weekly (wallet trust-list export DIR/trust-list.cose --no-anchor).
--status-list-url (the wallet's /status-list) lets it accept pre-fetched offline codes.

--wallet-url is the wallet's address, e.g. https://wallet.example.gov.cn: the page enrols the
counter there (柜台登记, with the one-time code of 'wallet counters add') and sends it a receipt
for every valid code, for the holder's record (docs/operators/counters.md). The page's
Content-Security-Policy allows it. Without --wallet-url the folder sends no receipts and shows
no enrolment: its own host is not the wallet.

Files of the same names in DIR are replaced. The anchor's fingerprint is printed: check it as
for wallet verify (docs/verifiers/counter-guide.md).`,
		Example: `  wallet verifier export /var/www/verify --wallet-url https://wallet.example.gov.cn --trust-list-url https://wallet.example.gov.cn/trust-list
  wallet verifier export counter-site`,
		Args: cobra.ExactArgs(1),
	}
	f := cmd.Flags()
	f.StringVar(&listURL, "trust-list-url", "", "where the page fetches the trust list (default: the snapshot in DIR)")
	f.StringVar(&statusURL, "status-list-url", "", "where the page fetches the status list (default: none)")
	f.StringVar(&walletURL, "wallet-url", "", "the wallet's address, where the counter enrols and sends receipts (default: no receipts)")
	f.BoolVar(&asJSON, "json", false, "print the result as JSON")
	cmd.RunE = c.run(func(cmd *cobra.Command, args []string) error {
		cfg := verifier.Config{TrustListURL: listURL, StatusListURL: statusURL, WalletURL: walletURL}
		if err := cfg.Validate(); err != nil {
			return app.Usage(err)
		}
		cfg.WalletURL = strings.TrimRight(cfg.WalletURL, "/") // validated: more than a slash
		log, err := c.setup(cmd, true, nil)
		if err != nil {
			return err
		}
		ctx := cmd.Context()
		svc, closeFn, err := c.openService(ctx, log, wallet.ServiceConfig{})
		if err != nil {
			return err
		}
		defer closeFn()
		signed, list, err := svc.TrustList(ctx)
		if err != nil {
			return err
		}
		anchors, err := svc.TrustAnchors(ctx)
		if err != nil {
			return err
		}
		pemBytes, err := wallet.MarshalTrustAnchors(anchors)
		if err != nil {
			return err
		}
		dir := args[0]
		if err := verifier.Export(dir, cfg, pemBytes, signed); err != nil {
			return err
		}
		res := verifierExportJSON{
			Dir: dir, TrustListURL: listURL, StatusURL: statusURL, Sequence: list.Sequence,
			WalletURL: cfg.WalletURL, Receipts: cfg.WalletURL != "",
			ExpiresAt: list.ExpiresAt.UTC().Format("2006-01-02T15:04:05Z"),
			Files:     append(verifier.Names(), verifier.ConfigFile, verifier.AnchorFile, verifier.TrustListFile),
		}
		if res.TrustListURL == "" {
			res.TrustListURL = verifier.TrustListFile
		}
		for _, a := range anchors {
			res.Fingerprint = append(res.Fingerprint, qr.AnchorFingerprint(a))
		}
		if asJSON {
			return app.PrintJSON(c.out, res)
		}
		fmt.Fprintf(c.out, "wrote the counter verifier to %s (%d files): open index.html from a web server\n", dir, len(res.Files))
		fmt.Fprintf(c.out, "trust list from %s; snapshot sequence %d, fresh until %s\n", res.TrustListURL, res.Sequence, res.ExpiresAt)
		if res.Receipts {
			fmt.Fprintf(c.out, "counters enrol and send receipts to %s\n", res.WalletURL)
		} else {
			fmt.Fprintf(c.out, "receipts off: no --wallet-url\n")
		}
		fmt.Fprintf(c.out, "trust anchor fingerprint %s\n", strings.Join(res.Fingerprint, ", "))
		return nil
	})
	return cmd
}
