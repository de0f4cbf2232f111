package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/tongban/tongban/audit"
	"github.com/tongban/tongban/cmd/internal/app"
	"github.com/tongban/tongban/credentials"
	"github.com/tongban/tongban/storage"
	"github.com/tongban/tongban/wallet"
)

// Counters (柜台): the verifier pages at offices that send receipts for the holder's record
// (docs/operators/counters.md).

func (c *cli) countersCmd() *cobra.Command {
	return app.Group("counters", "Add, list and disable the counters that send receipts (柜台)",
		c.countersAddCmd(), c.countersListCmd(), c.countersDisableCmd())
}

// counterJSON is a counter in --json output: no enrolment hash, no key.
type counterJSON struct {
	ID                 string     `json:"id"`
	Name               string     `json:"name"`
	Office             string     `json:"office,omitempty"`
	State              string     `json:"state"` // waiting, enrolled, expired, disabled
	KeyID              string     `json:"kid,omitempty"`
	CreatedAt          time.Time  `json:"created_at"`
	EnrolmentExpiresAt time.Time  `json:"enrolment_expires_at"`
	EnrolledAt         *time.Time `json:"enrolled_at,omitempty"`
	DisabledAt         *time.Time `json:"disabled_at,omitempty"`
	EnrolmentCode      string     `json:"enrolment_code,omitempty"` // add only
}

// counterState names where a counter stands at now.
func counterState(ct storage.Counter, now time.Time) string {
	switch {
	case ct.DisabledAt != nil:
		return "disabled"
	case ct.EnrolledAt != nil:
		return "enrolled"
	case !now.Before(ct.EnrolmentExpiresAt):
		return "expired"
	}
	return "waiting"
}

func toCounterJSON(ct storage.Counter, now time.Time) counterJSON {
	return counterJSON{ID: ct.ID, Name: ct.Name, Office: ct.Office, State: counterState(ct, now), KeyID: ct.KeyID,
		CreatedAt: ct.CreatedAt, EnrolmentExpiresAt: ct.EnrolmentExpiresAt, EnrolledAt: ct.EnrolledAt, DisabledAt: ct.DisabledAt}
}

func (c *cli) countersAddCmd() *cobra.Command {
	var name, office string
	var valid time.Duration
	var asJSON bool
	cmd := &cobra.Command{
		Use:   `add --name NAME [--office OFFICE] [--valid 24h]`,
		Short: "Add a counter and print its one-time enrolment code",
		Long: `Add a counter (柜台) and print its one-time enrolment code. Give the code to the counter's
staff: on the verifier page (the wallet's /verify/, or an office's copy exported with
'wallet verifier export --wallet-url') they press 柜台登记 (Enrol this counter) and type it once;
the page enrols a key the browser cannot export, and from then on sends a signed receipt for
each code it finds valid, which the holder sees on their record (亮证记录). The code works once, until --valid has passed (default 24h, at most 168h); only its
hash is stored, so it is shown this once. The addition is audited (counter.add).`,
		Example: `  wallet counters add --name "3号窗口" --office "朝阳区政务服务中心"`,
		Args:    cobra.NoArgs,
	}
	cmd.Flags().StringVar(&name, "name", "", "the counter's name, shown to holders (required, at most 64 characters)")
	cmd.Flags().StringVar(&office, "office", "", "the office the counter belongs to, shown to holders")
	cmd.Flags().DurationVar(&valid, "valid", wallet.DefaultEnrolmentValidity, "how long the enrolment code works")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	_ = cmd.MarkFlagRequired("name")
	cmd.RunE = c.run(func(cmd *cobra.Command, args []string) error {
		ctx, svc, closeFn, err := c.adminService(cmd, nil, nil)
		if err != nil {
			return err
		}
		defer closeFn()
		ct, code, err := svc.AddCounter(ctx, wallet.NewCounter{Name: name, Office: office, Valid: valid}, audit.Shell)
		if errors.Is(err, wallet.ErrBadRequest) {
			return app.Usage(err)
		}
		if err != nil {
			return err
		}
		if asJSON {
			j := toCounterJSON(ct, svc.Now())
			j.EnrolmentCode = code
			return app.PrintJSON(c.out, j)
		}
		_, err = fmt.Fprintf(c.out, "counter %s (%s)\nenrolment code: %s\nvalid until %s; it works once and is not shown again\n",
			ct.ID, displayName(ct), code, ct.EnrolmentExpiresAt.In(credentials.ChinaStandardTime).Format("2006-01-02 15:04 -07:00"))
		return err
	})
	return cmd
}

// displayName is "office · name", or the name alone.
func displayName(ct storage.Counter) string {
	if ct.Office == "" {
		return ct.Name
	}
	return ct.Office + " · " + ct.Name
}

func (c *cli) countersListCmd() *cobra.Command {
	var asJSON, quiet bool
	cmd := &cobra.Command{
		Use:   "list [--json | -q]",
		Short: "List the counters and their state (waiting, enrolled, expired, disabled)",
		Args:  cobra.NoArgs,
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "print the counter IDs only, one a line")
	cmd.RunE = c.run(func(cmd *cobra.Command, args []string) error {
		ctx, svc, closeFn, err := c.adminService(cmd, nil, nil)
		if err != nil {
			return err
		}
		defer closeFn()
		cs, err := svc.Counters(ctx)
		if err != nil {
			return err
		}
		now := svc.Now()
		switch {
		case asJSON:
			out := []counterJSON{}
			for _, ct := range cs {
				out = append(out, toCounterJSON(ct, now))
			}
			return app.PrintJSON(c.out, out)
		case quiet:
			for _, ct := range cs {
				fmt.Fprintln(c.out, ct.ID)
			}
			return nil
		}
		rows := make([][]string, 0, len(cs))
		for _, ct := range cs {
			rows = append(rows, []string{ct.ID, counterState(ct, now), ct.Name, ct.Office,
				ct.CreatedAt.In(credentials.ChinaStandardTime).Format("2006-01-02 15:04")})
		}
		return app.Table(c.out, []string{"ID", "STATE", "NAME", "OFFICE", "CREATED"}, rows)
	})
	return cmd
}

func (c *cli) countersDisableCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "disable ID",
		Short: "Disable a counter for good: its receipts are refused from then on",
		Long: `Disable the counter ID (from 'wallet counters list'): the wallet refuses its receipts from
then on, and its enrolment code, if unused, no longer works. A counter whose computer was lost or
replaced is disabled, and a new one added. Disabling is audited (counter.disable). A counter
that is disabled already is refused (exit status 2, "already disabled") and nothing is audited.`,
		Args: cobra.ExactArgs(1),
	}
	cmd.RunE = c.run(func(cmd *cobra.Command, args []string) error {
		ctx, svc, closeFn, err := c.adminService(cmd, nil, nil)
		if err != nil {
			return err
		}
		defer closeFn()
		if err := svc.DisableCounter(ctx, args[0], audit.Shell); err != nil {
			if errors.Is(err, wallet.ErrCounterNotFound) || errors.Is(err, wallet.ErrCounterAlreadyDisabled) {
				return app.Usage(err)
			}
			return err
		}
		_, err = fmt.Fprintf(c.out, "counter %s disabled\n", args[0])
		return err
	})
	return cmd
}
