package main

import (
	"crypto/ecdsa"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tongban/tongban/cmd/internal/app"
	"github.com/tongban/tongban/credentials"
	"github.com/tongban/tongban/qr"
	"github.com/tongban/tongban/qr/qrimage"
	"github.com/tongban/tongban/wallet"
)

// Input limits of verify.
const (
	maxCodeInput = 64 << 10 // text on standard input
	maxPNGInput  = 8 << 20  // a PNG file
)

// verifyJSON is the --json output of `wallet verify`. Field names are stable.
type verifyJSON struct {
	Valid     bool   `json:"valid"`
	Reason    string `json:"reason,omitempty"`     // stable code, see counter-guide.md
	Message   string `json:"message,omitempty"`    // English explanation
	MessageZH string `json:"message_zh,omitempty"` // Chinese explanation
	Detail    string `json:"detail,omitempty"`     // the verifier's error

	Profile           int     `json:"profile,omitempty"`
	ProfileName       string  `json:"profile_name,omitempty"`
	IssuedAt          string  `json:"issued_at,omitempty"`
	ExpiresAt         string  `json:"expires_at,omitempty"`
	CTI               string  `json:"cti,omitempty"`
	KeyID             string  `json:"key_id,omitempty"`
	KeyIssuer         string  `json:"key_issuer,omitempty"`
	TrustListSequence uint64  `json:"trust_list_sequence,omitempty"`
	StatusIndex       *uint64 `json:"status_index,omitempty"`  // pre-fetched code: checked against --status-list
	HolderName        string  `json:"holder_name,omitempty"`   // bundle: masked
	HolderNumber      string  `json:"holder_number,omitempty"` // bundle: masked
	Licences          []shown `json:"licences,omitempty"`
}

// shown is one licence as the code shows it: masked unless the profile is full.
type shown struct {
	Kind       string            `json:"kind"`
	KindName   string            `json:"kind_name"`
	Name       string            `json:"name,omitempty"`
	Number     string            `json:"number,omitempty"`
	Holder     string            `json:"holder,omitempty"`
	Issuer     string            `json:"issuer,omitempty"`
	ValidFrom  string            `json:"valid_from,omitempty"`
	ValidUntil string            `json:"valid_until,omitempty"`
	LongTerm   bool              `json:"long_term,omitempty"`
	Status     string            `json:"status,omitempty"`
	Colour     string            `json:"colour,omitempty"`
	Fields     map[string]string `json:"fields,omitempty"`
}

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
// fresh one, as without --state) and returns the result, which carries the reason on failure,
// and the state after it (nil when snap is unusable).
func check(text string, inputErr error, listBytes, statusBytes []byte, anchors []*ecdsa.PublicKey, snap *qr.VerifierSnapshot, now func() time.Time) (*verifyJSON, *qr.VerifierState) {
	fail := func(err error) *verifyJSON {
		r := reasonOf(err)
		return &verifyJSON{Reason: r.code, Message: r.en, MessageZH: r.zh, Detail: err.Error()}
	}
	state, err := qr.NewVerifierState(snap, anchors, now)
	if err != nil {
		return fail(fmt.Errorf("--state: %w", err)), nil
	}
	list, err := state.UpdateTrustList(listBytes)
	if err != nil {
		return fail(err), state
	}
	if inputErr != nil {
		return fail(inputErr), state
	}
	v := qr.Verifier{Trust: state, Now: now, Replay: state}
	if statusBytes != nil {
		// A damaged or untrusted status list is reported whatever the code: the counter's
		// files need fixing. Its freshness matters only to pre-fetched codes (Verify).
		sl, err := qr.ParseStatusList(statusBytes, list)
		if err != nil {
			out := fail(err)
			out.TrustListSequence = list.Sequence
			return out, state
		}
		v.Status = sl
	}
	res, err := v.Verify(text)
	if err != nil {
		out := fail(err)
		out.TrustListSequence = list.Sequence
		return out, state
	}
	return describe(res, list.Sequence), state
}

// describe turns a verified result into the output form.
func describe(res *qr.Result, seq uint64) *verifyJSON {
	out := &verifyJSON{
		Valid: true, Profile: int(res.Profile), ProfileName: res.Profile.String(), StatusIndex: res.StatusIndex,
		IssuedAt: res.IssuedAt.UTC().Format(time.RFC3339), ExpiresAt: res.ExpiresAt.UTC().Format(time.RFC3339),
		CTI: hex.EncodeToString(res.CTI[:]), KeyID: hex.EncodeToString(res.KeyID[:]), KeyIssuer: res.KeyIssuer,
		TrustListSequence: seq,
	}
	until := func(d *credentials.Date) (string, bool) {
		if d == nil {
			return "", true
		}
		return d.String(), false
	}
	switch {
	case res.Identity != nil:
		id := res.Identity
		s := shown{Kind: string(id.Kind), KindName: id.Kind.ChineseName(), Name: id.MaskedName, Number: id.MaskedNumber, Colour: id.Colour}
		s.ValidUntil, s.LongTerm = until(id.ValidUntil)
		out.Licences = []shown{s}
	case res.Registration != nil:
		l := res.Registration
		s := shown{Kind: string(l.Kind), KindName: l.Kind.ChineseName(), Name: l.HolderName, Number: l.Number,
			Holder: l.Holder, Issuer: l.Issuer, ValidFrom: l.ValidFrom.String(), Status: string(l.Status), Fields: l.Fields}
		s.ValidUntil, s.LongTerm = until(l.ValidUntil)
		out.Licences = []shown{s}
	case res.Bundle != nil:
		out.HolderName, out.HolderNumber = res.Bundle.MaskedName, res.Bundle.MaskedHolder
		for _, e := range res.Bundle.Entries {
			s := shown{Kind: string(e.Kind), KindName: e.Kind.ChineseName(), Number: e.MaskedNumber, Status: string(e.Status), Colour: e.Colour}
			s.ValidUntil, s.LongTerm = until(e.ValidUntil)
			out.Licences = append(out.Licences, s)
		}
	}
	return out
}

// printResult writes the result for people: the verdict first, then what the code shows.
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
	line := func(label, value string) {
		if value != "" {
			fmt.Fprintf(tw, "%s\t%s\n", label, value)
		}
	}
	local := func(s string) string {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return s
		}
		return t.In(credentials.ChinaStandardTime).Format("2006-01-02 15:04:05 -07:00")
	}
	line("profile 显示内容", fmt.Sprintf("%d %s", r.Profile, r.ProfileName))
	line("holder 持证人", r.HolderName)
	line("holder number 证件号码", r.HolderNumber)
	for i, l := range r.Licences {
		if len(r.Licences) > 1 {
			fmt.Fprintf(tw, "licence %d 证照\t%s (%s)\n", i+1, l.KindName, l.Kind)
		} else {
			line("licence 证照", fmt.Sprintf("%s (%s)", l.KindName, l.Kind))
		}
		line("  name 姓名/名称", l.Name)
		line("  number 证号", l.Number)
		if l.Holder != l.Number {
			line("  holder number 持证人证件号码", l.Holder)
		}
		line("  issuer 发证机关", l.Issuer)
		line("  valid from 起始日期", l.ValidFrom)
		if l.LongTerm {
			line("  valid until 有效期至", "长期 long-term")
		} else {
			line("  valid until 有效期至", l.ValidUntil)
		}
		line("  status 状态", l.Status)
		line("  colour 颜色", l.Colour)
		kind, _ := credentials.ParseKind(l.Kind)
		for _, spec := range credentials.FieldSpecs(kind) {
			if v, ok := l.Fields[spec.Name]; ok {
				line("  "+spec.Name+" "+spec.Label, v)
			}
		}
	}
	line("code issued 签发时间", local(r.IssuedAt))
	line("code expires 过期时间", local(r.ExpiresAt))
	line("signed by 签发方", fmt.Sprintf("%s (key %s)", r.KeyIssuer, r.KeyID))
	line("trust list 信任列表", fmt.Sprintf("sequence %d", r.TrustListSequence))
	_ = tw.Flush()
}

// decodeQR reads the QR code in a PNG image; every failure is errUnreadableImage, with the
// decoder's detail (an image over qrimage.MaxPixels is refused from its header).
func decodeQR(data []byte) (string, error) {
	text, err := qrimage.Decode(data)
	if err != nil {
		return "", fmt.Errorf("%w: %w", errUnreadableImage, err)
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
