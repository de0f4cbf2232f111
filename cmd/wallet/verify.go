package main

import (
	"crypto/ecdsa"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tongban/tongban/cmd/internal/app"
	"github.com/tongban/tongban/qr"
	"github.com/tongban/tongban/qr/qrimage"
	"github.com/tongban/tongban/qr/verdict"
	"github.com/tongban/tongban/wallet"
)

// Input limits of verify.
const (
	maxCodeInput = 64 << 10 // text on standard input
	maxPNGInput  = 8 << 20  // a PNG file
)

// verifyJSON is the --json output of `wallet verify`: verdict.Verdict, whose field names are
// stable.
type verifyJSON = verdict.Verdict

func (c *cli) verifyCmd() *cobra.Command {
	var listPath, anchorPath, at, pngPath, statePath, statusPath string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "verify --trust-list FILE [--trust-anchor FILE] [--at RFC3339] [--state FILE] [--status-list FILE] [--json] (TEXT | --png FILE | -)",
		Short: "Check a code offline (counters): exit 0 valid, 1 rejected, 2 usage error",
		Long: `Check a licence code with nothing but the trust list and its pinned trust anchor: no network,
no database, no key-encryption key. The code is the text TEXT, the QR code in the PNG image
--png FILE, or the text on standard input (-).

The trust list (--trust-list, from 'wallet trust-list export' or GET /trust-list) must be
signed by the trust anchor (--trust-anchor, default trust-anchor.pem beside the trust list;
install it once from a trusted channel and check its fingerprint). With --state FILE the
verifier remembers the highest trust-list sequence number it has accepted, and refuses an
older list (rollback), and the codes it has accepted, and refuses them a second time
(replay).

A pre-fetched offline code (wallet code --prefetch) carries a status index: it verifies only
with --status-list FILE ('wallet status-list export', GET /status-list), a status list signed
by a key of the trust list and not yet expired, which must not mark the licence revoked or
suspended. Ordinary 60-second codes ignore the status list.

It prints what the code shows — masked, unless the holder chose the full profile — and the
result. Exit status: 0 the code is valid; 1 it is rejected (the reason is printed) or the
trust list is not acceptable; 2 wrong usage or an unreadable file.`,
		Example: `  wallet verify --trust-list var/trust-list.cose --png code.png
  wallet code --holder 11010119900307002X --kind resident-id | wallet verify --trust-list var/trust-list.cose -
  wallet verify --trust-list /etc/tongban/trust-list.cose --trust-anchor /etc/tongban/trust-anchor.pem \
      --state /var/lib/tongban/verifier.json --json 'LZ1:…'`,
		Args: cobra.MaximumNArgs(1),
	}
	f := cmd.Flags()
	f.StringVar(&listPath, "trust-list", "", "signed trust list file (required)")
	f.StringVar(&anchorPath, "trust-anchor", "", "pinned trust anchor PEM (default: trust-anchor.pem beside the trust list)")
	f.StringVar(&at, "at", "", "verify as of this time (RFC 3339, e.g. 2026-11-29T10:00:00+08:00) instead of now")
	f.StringVar(&pngPath, "png", "", "read the code from the QR code in this PNG image")
	f.StringVar(&statusPath, "status-list", "", "signed status list (wallet status-list export, GET /status-list): needed for pre-fetched offline codes")
	f.StringVar(&statePath, "state", "", "verifier state file: highest trust-list sequence seen and codes already accepted")
	f.BoolVar(&asJSON, "json", false, "print the result as JSON")

	cmd.RunE = c.run(func(cmd *cobra.Command, args []string) error {
		// Usage first: every problem at once, nothing opened yet.
		var p app.Problems
		if listPath == "" {
			p.Addf("--trust-list: required")
		}
		var now time.Time
		if at != "" {
			t, err := time.Parse(time.RFC3339, at)
			if err != nil {
				p.Addf("--at %q: want RFC 3339, e.g. 2026-11-29T10:00:00+08:00", at)
			}
			now = t
		}
		switch {
		case len(args) == 1 && pngPath != "":
			p.Addf("give the code as TEXT, --png FILE or - (standard input), not several")
		case len(args) == 0 && pngPath == "":
			p.Addf("give the code as TEXT, --png FILE or - (standard input)")
		}
		if err := p.Err(); err != nil {
			return err
		}
		clock := time.Now
		if at != "" {
			clock = func() time.Time { return now }
		}
		if anchorPath == "" {
			anchorPath = defaultAnchor(listPath)
		}

		// Inputs: unreadable files are usage errors (exit 2).
		listBytes, err := readLimited(listPath, qr.MaxTrustListSize+1)
		if err != nil {
			return app.Usagef("--trust-list: %w", err)
		}
		var statusBytes []byte
		if statusPath != "" {
			if statusBytes, err = readLimited(statusPath, qr.MaxStatusListSize+1); err != nil {
				return app.Usagef("--status-list: %w", err)
			}
		}
		anchorBytes, err := readLimited(anchorPath, 1<<20)
		if err != nil {
			return app.Usagef("--trust-anchor: %w (install the trust anchor beside the trust list or name it)", err)
		}
		anchors, err := wallet.ParseTrustAnchors(anchorBytes)
		if err != nil {
			return app.Usagef("--trust-anchor %s: %w", anchorPath, err)
		}
		var snap *qr.VerifierSnapshot
		if statePath != "" {
			if snap, err = stateFile(statePath).Load(); err != nil {
				return app.Usagef("--state: %w", err)
			}
		}
		var text string
		var inputErr error
		switch {
		case pngPath != "":
			img, err := readLimited(pngPath, maxPNGInput)
			if err != nil {
				return app.Usagef("--png: %w", err)
			}
			text, inputErr = decodeQR(img)
		case args[0] == "-":
			b, err := io.ReadAll(io.LimitReader(c.in, maxCodeInput))
			if err != nil {
				return app.Usagef("standard input: %w", err)
			}
			text = strings.TrimSpace(string(b))
		default:
			text = strings.TrimSpace(args[0])
		}

		out, state := check(text, inputErr, listBytes, statusBytes, anchors, snap, clock)
		if statePath != "" && state != nil {
			if err := state.Save(stateFile(statePath)); err != nil {
				return fmt.Errorf("--state: %w", err)
			}
		}
		if asJSON {
			if err := app.PrintJSON(c.out, out); err != nil {
				return err
			}
		} else {
			printResult(c.out, out)
		}
		code := app.ExitOK
		if !out.Valid {
			code = app.ExitFailure
		}
		c.exit = &code
		return nil
	})
	return cmd
}

// check verifies text against the trust list with the verifier state snap describes (nil: a
// fresh one, as without --state) on a verdict.Station — the verifier the browser runs too —
// and returns the verdict, which carries the reason on failure, and the state after it (nil
// when snap is unusable).
func check(text string, inputErr error, listBytes, statusBytes []byte, anchors []*ecdsa.PublicKey, snap *qr.VerifierSnapshot, now func() time.Time) (*verifyJSON, *qr.VerifierState) {
	st, err := verdict.NewStation(anchors, snap, now)
	if err != nil {
		return verdict.Rejected(fmt.Errorf("--state: %w", err)), nil
	}
	list, err := st.LoadTrustList(listBytes)
	if err != nil {
		return verdict.Rejected(err), st.State()
	}
	if inputErr != nil {
		return verdict.Rejected(inputErr), st.State()
	}
	if statusBytes != nil {
		// A damaged or untrusted status list is reported whatever the code: the counter's
		// files need fixing. Its freshness matters only to pre-fetched codes (Verify).
		if _, err := st.LoadStatusList(statusBytes); err != nil {
			out := verdict.Rejected(err)
			out.TrustListSequence = list.Sequence
			return out, st.State()
		}
	}
	return st.Verify(text), st.State()
}

// printResult writes the result for people: the verdict first, then what the code shows
// (verdict.Rows, the lines the browser verifier shows too).
func printResult(w io.Writer, r *verifyJSON) {
	if !r.Valid {
		fmt.Fprintf(w, "REJECTED 无效: %s\n  %s\n  %s\n", r.Reason, r.MessageZH, r.Message)
		if r.Detail != "" {
			fmt.Fprintf(w, "  (%s)\n", r.Detail)
		}
		return
	}
	fmt.Fprintln(w, "VALID 有效")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, row := range r.Rows() {
		fmt.Fprintf(tw, "%s%s %s\t%s\n", strings.Repeat("  ", row.Level), row.EN, row.ZH, row.Value)
	}
	_ = tw.Flush()
}

// decodeQR reads the QR code in a PNG image; every failure is verdict.ErrUnreadableImage, with the
// decoder's detail (an image over qrimage.MaxPixels is refused from its header).
func decodeQR(data []byte) (string, error) {
	text, err := qrimage.Decode(data)
	if err != nil {
		return "", fmt.Errorf("%w: %w", verdict.ErrUnreadableImage, err)
	}
	return text, nil
}

// readLimited reads a file of at most limit bytes.
func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, limit)
	}
	return b, nil
}
