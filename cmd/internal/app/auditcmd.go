package app

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/tongban/tongban/audit"
	"github.com/tongban/tongban/idnumber"
	"github.com/tongban/tongban/storage"
)

// ErrAuditProblems: `audit verify` found the log altered (exit status 1).
var ErrAuditProblems = errors.New("audit log verification failed")

// AuditCommands are `audit verify|list|show|checkpoint` of a binary. Open opens the existing
// backend (storage, key-encryption key, keyring) after the binary's own setup and returns a
// function closing it; Run wraps each command's run function as the binary's other commands
// are wrapped; Out is where results go.
type AuditCommands struct {
	Open func(cmd *cobra.Command) (*Backend, error)
	Run  func(fn func(cmd *cobra.Command, args []string) error) func(*cobra.Command, []string) error
	Out  func() io.Writer
}

// Command returns the `audit` group.
func (a AuditCommands) Command() *cobra.Command {
	return Group("audit", "Verify and read the tamper-evident audit log",
		a.verifyCmd(), a.listCmd(), a.showCmd(), a.checkpointCmd())
}

func (a AuditCommands) verifyCmd() *cobra.Command {
	var (
		sinkDir string
		asJSON  bool
	)
	cmd := &cobra.Command{
		Use:   "verify [--sink DIR] [--json]",
		Short: "Check the audit chain and its signed checkpoints: exit 0 intact, 1 altered",
		Long: `Check the whole audit chain: positions without gaps, each entry's SM3 chain hash, the
database's order, every checkpoint's SM2 signature (with the audit keys unwrapped by the
key-encryption key) and that the chain still holds what each checkpoint signed. With --sink, the
copy written by --audit-sink file:DIR is compared too, which finds the newest entries deleted or
edited after the last checkpoint. The first bad entry is named first. Exit status 0: intact;
1: altered (or the log could not be read); 2: usage error. See docs/operators/audit.md.`,
		Args: cobra.NoArgs,
	}
	cmd.Flags().StringVar(&sinkDir, "sink", "", "a file sink directory to compare with")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	cmd.RunE = a.Run(func(cmd *cobra.Command, args []string) error {
		if cmd.Flags().Changed("sink") {
			if st, err := os.Stat(sinkDir); err != nil || !st.IsDir() {
				return Usagef("--sink: %q is not a directory", sinkDir)
			}
		}
		b, err := a.Open(cmd)
		if err != nil {
			return err
		}
		defer b.Close()
		ctx := cmd.Context()
		keys, err := b.Keyring.AuditVerificationKeys(ctx)
		if err != nil {
			return err
		}
		opts := audit.VerifyOptions{Keys: keys}
		if sinkDir != "" {
			opts.Sink = audit.ReadFileSink(sinkDir)
		}
		rep, err := audit.Verify(ctx, b.Store, opts)
		if err != nil {
			return fmt.Errorf("verify audit log: %w", err)
		}
		out := a.Out()
		if asJSON {
			if err := PrintJSON(out, rep); err != nil {
				return err
			}
		} else {
			fmt.Fprintf(out, "entries: %d (head position %d)\n", rep.Entries, rep.Head)
			fmt.Fprintf(out, "checkpoints: %d, signed through position %d\n", rep.Checkpoints, rep.Signed)
			if sinkDir != "" {
				fmt.Fprintf(out, "sink records compared: %d\n", rep.SinkRecords)
				if rep.SinkRecords == 0 {
					fmt.Fprintf(out, "warning: %s holds no audit-*.jsonl records\n", sinkDir)
				}
			}
			for i, p := range rep.Problems {
				if i == 0 {
					fmt.Fprintf(out, "FIRST BAD: %s\n", p)
					continue
				}
				fmt.Fprintf(out, "also: %s\n", p)
			}
			if rep.More > 0 {
				fmt.Fprintf(out, "and %d more problems\n", rep.More)
			}
			if rep.OK() {
				fmt.Fprintf(out, "OK: the audit log is intact (checked in %s)\n", rep.Duration)
			}
		}
		if !rep.OK() {
			n := len(rep.Problems) + rep.More
			noun := "problems"
			if n == 1 {
				noun = "problem"
			}
			return fmt.Errorf("%w: %d %s, the first at position %d", ErrAuditProblems, n, noun, rep.Problems[0].Pos)
		}
		return nil
	})
	return cmd
}

// parseAuditTime accepts RFC 3339 or a date (YYYY-MM-DD, UTC midnight).
func parseAuditTime(flag, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, nil
	}
	return time.Time{}, Usagef("--%s: want RFC 3339 (2026-12-05T08:00:00+08:00) or a date (2026-12-05), got %q", flag, v)
}

func (a AuditCommands) listCmd() *cobra.Command {
	var (
		since, until, person string
		q                    storage.AuditQuery
		asJSON               bool
	)
	cmd := &cobra.Command{
		Use:   "list [--since T] [--until T] [--action A] [--actor ID] [--client ID] [--person ID-NUMBER] [--limit N] [--json]",
		Short: "List audit entries, newest first, with filters",
		Long: `List audit entries, newest first. --since and --until take RFC 3339 times or dates;
--action an exact action or a prefix ending in "." (login.); --person a resident ID number,
looked up by its blind index, matching entries whose actor or subject is that person. Entries
hold opaque IDs only, never names or numbers.`,
		Args: cobra.NoArgs,
	}
	f := cmd.Flags()
	f.StringVar(&since, "since", "", "entries at or after this time")
	f.StringVar(&until, "until", "", "entries before this time")
	f.StringVar(&q.Action, "action", "", `an action, or a prefix ending in "."`)
	f.StringVar(&q.Actor, "actor", "", "an actor (person ID, client ID or operator)")
	f.StringVar(&q.ClientID, "client", "", "a client ID")
	f.StringVar(&person, "person", "", "a person's resident ID number")
	f.IntVar(&q.Limit, "limit", 50, "at most this many entries (1 to 10000)")
	f.Int64Var(&q.AfterPos, "before-pos", 0, "only entries before this position (paging)")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	cmd.RunE = a.Run(func(cmd *cobra.Command, args []string) error {
		var err error
		if q.Since, err = parseAuditTime("since", since); err != nil {
			return err
		}
		if q.Until, err = parseAuditTime("until", until); err != nil {
			return err
		}
		if cmd.Flags().Changed("before-pos") && q.AfterPos < 1 {
			return Usagef("--before-pos: must be a chain position (1, 2, 3 …), got %d", q.AfterPos)
		}
		if q.Limit < 1 || q.Limit > 10000 {
			return Usagef("--limit: must be from 1 to 10000, got %d", q.Limit)
		}
		if person != "" {
			if err := idnumber.ValidateResidentID(idnumber.NormalizeResidentID(person)); err != nil {
				return Usage(fmt.Errorf("--person: %w", err))
			}
		}
		b, err := a.Open(cmd)
		if err != nil {
			return err
		}
		defer b.Close()
		ctx := cmd.Context()
		if person != "" {
			p, err := b.Store.GetPersonByIDNumberIndex(ctx, b.Keyring.BlindIndex(idnumber.NormalizeResidentID(person)))
			if errors.Is(err, storage.ErrNotFound) {
				return Usagef("--person: no person has this ID number")
			}
			if err != nil {
				return err
			}
			q.Person = p.ID
		}
		q.Descending = true
		entries, err := b.Store.QueryAudit(ctx, q)
		if err != nil {
			return fmt.Errorf("list audit entries: %w", err)
		}
		return a.printEntries(entries, asJSON)
	})
	return cmd
}

func (a AuditCommands) printEntries(entries []storage.AuditEvent, asJSON bool) error {
	if asJSON {
		out := make([]audit.SinkRecord, 0, len(entries))
		for _, e := range entries {
			out = append(out, audit.Record(e))
		}
		return PrintJSON(a.Out(), out)
	}
	rows := make([][]string, 0, len(entries))
	for _, e := range entries {
		rows = append(rows, []string{strconv.FormatInt(e.Pos, 10), e.Time.UTC().Format(time.RFC3339), e.Action, e.Actor, e.Subject, e.ClientID, e.Detail})
	}
	return Table(a.Out(), []string{"POS", "TIME", "ACTION", "ACTOR", "SUBJECT", "CLIENT", "DETAIL"}, rows)
}

func (a AuditCommands) showCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show POS [--json]",
		Short: "Show one audit entry with its chain hash",
		Args:  cobra.ExactArgs(1),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.RunE = a.Run(func(cmd *cobra.Command, args []string) error {
		pos, err := strconv.ParseInt(args[0], 10, 64)
		if err != nil || pos < 1 {
			return Usagef("POS: want a chain position (1, 2, 3 …), got %q", args[0])
		}
		b, err := a.Open(cmd)
		if err != nil {
			return err
		}
		defer b.Close()
		got, err := b.Store.AuditChain(cmd.Context(), pos-1, 1)
		if err != nil {
			return err
		}
		if len(got) == 0 || got[0].Pos != pos {
			return fmt.Errorf("no audit entry at position %d: %w", pos, storage.ErrNotFound)
		}
		e := audit.Record(got[0])
		if asJSON {
			return PrintJSON(a.Out(), e)
		}
		return Table(a.Out(), []string{"FIELD", "VALUE"}, [][]string{
			{"pos", strconv.FormatInt(e.Pos, 10)}, {"seq", strconv.FormatInt(e.Seq, 10)},
			{"time", e.Time.UTC().Format(time.RFC3339Nano)}, {"action", e.Action}, {"actor", e.Actor},
			{"subject", e.Subject}, {"client", e.ClientID}, {"detail", e.Detail}, {"hash", e.Hash},
		})
	})
	return cmd
}

func (a AuditCommands) checkpointCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "checkpoint",
		Short: "Sign a checkpoint of the audit chain's head now",
		Long: `Sign a checkpoint of the audit chain's head now (serve signs one every
--audit-checkpoint-interval and on shutdown), for example before a backup or an audit.`,
		Args: cobra.NoArgs,
	}
	cmd.RunE = a.Run(func(cmd *cobra.Command, args []string) error {
		b, err := a.Open(cmd)
		if err != nil {
			return err
		}
		defer b.Close()
		cp := &audit.Checkpointer{Store: b.Store, Key: b.Keyring.AuditKey}
		c, wrote, err := cp.Checkpoint(cmd.Context())
		if err != nil {
			return err
		}
		if !wrote {
			fmt.Fprintln(a.Out(), "the audit log is empty: nothing to sign")
			return nil
		}
		fmt.Fprintf(a.Out(), "signed position %d (hash %x) with key %s\n", c.Pos, c.Hash, c.KeyID)
		return nil
	})
	return cmd
}
