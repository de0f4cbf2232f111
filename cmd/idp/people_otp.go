package main

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/tongban/tongban/accounts"
	"github.com/tongban/tongban/cmd/internal/app"
	"github.com/tongban/tongban/storage"
)

// `idp people otp list|remove`: an operator's view of a person's one-time-password devices
// (docs/citizens/otp.md), for a person who lost every device and recovery code and proved who
// they are at a counter. People enrol devices themselves on the account page.
func (c *cli) peopleOTPCmd() *cobra.Command {
	return app.Group("otp", "List and remove a person's one-time-password devices",
		c.peopleOTPListCmd(), c.peopleOTPRemoveCmd())
}

// otpDeviceJSON is one device in the --json output of `idp people otp list` (no secret, and
// no name: the name is the person's own text).
type otpDeviceJSON struct {
	ID        string     `json:"id"`
	Algorithm string     `json:"algorithm"`
	Legacy    bool       `json:"legacy,omitempty"`
	CreatedAt *time.Time `json:"created_at,omitempty"`
	LastUsed  *time.Time `json:"last_used,omitempty"`
}

type otpListJSON struct {
	Devices           []otpDeviceJSON `json:"devices"`
	RecoveryCodesLeft int             `json:"recovery_codes_left"`
}

// peopleService opens the backend and an accounts.Service on it; close the backend after use.
func (c *cli) peopleService(cmd *cobra.Command) (*accounts.Service, *app.Backend, error) {
	log, err := c.setup(cmd, true, nil)
	if err != nil {
		return nil, nil, err
	}
	b, err := c.openBackend(cmd.Context(), log)
	if err != nil {
		return nil, nil, err
	}
	svc, err := accounts.New(accounts.Config{Store: b.Store, Keyring: b.Keyring, Logger: log, PasswordParams: c.cfg.PasswordParams()})
	if err != nil {
		b.Close()
		return nil, nil, classify(err)
	}
	return svc, b, nil
}

func (c *cli) peopleOTPListCmd() *cobra.Command {
	var (
		person string
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "list --person ID",
		Short: "List a person's confirmed one-time-password devices and unused recovery codes",
		Args:  cobra.NoArgs,
	}
	cmd.Flags().StringVar(&person, "person", "", "the person's ID, as `idp people add` printed it (required)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	_ = cmd.MarkFlagRequired("person")
	cmd.RunE = c.run(func(cmd *cobra.Command, args []string) error {
		svc, b, err := c.peopleService(cmd)
		if err != nil {
			return err
		}
		defer b.Close()
		ctx := cmd.Context()
		devs, err := svc.ListOTPDevices(ctx, person)
		if errors.Is(err, storage.ErrNotFound) {
			return app.Usage(fmt.Errorf("--person: no person %q", person))
		}
		if err != nil {
			return err
		}
		left, err := svc.RecoveryCodesLeft(ctx, person)
		if err != nil {
			return err
		}
		out := otpListJSON{Devices: []otpDeviceJSON{}, RecoveryCodesLeft: left}
		for _, d := range devs {
			j := otpDeviceJSON{ID: d.ID, Algorithm: d.Algorithm, Legacy: d.Legacy}
			if !d.CreatedAt.IsZero() {
				j.CreatedAt = &d.CreatedAt
			}
			if !d.LastUsed.IsZero() {
				j.LastUsed = &d.LastUsed
			}
			out.Devices = append(out.Devices, j)
		}
		if asJSON {
			return app.PrintJSON(c.out, out)
		}
		rows := make([][]string, 0, len(out.Devices))
		for _, d := range out.Devices {
			created, used := "-", "-"
			if d.CreatedAt != nil {
				created = d.CreatedAt.UTC().Format(time.RFC3339)
			}
			if d.LastUsed != nil {
				used = d.LastUsed.UTC().Format(time.RFC3339)
			}
			rows = append(rows, []string{d.ID, d.Algorithm, created, used})
		}
		if err := app.Table(c.out, []string{"DEVICE", "ALGORITHM", "CREATED", "LAST USED"}, rows); err != nil {
			return err
		}
		_, err = fmt.Fprintln(c.out, "recovery codes left: "+strconv.Itoa(left))
		return err
	})
	return cmd
}

func (c *cli) peopleOTPRemoveCmd() *cobra.Command {
	var person, device string
	cmd := &cobra.Command{
		Use:   "remove --person ID --device DEVICE",
		Short: "Remove one of a person's one-time-password devices (audited as the operator)",
		Long: `Remove one of a person's one-time-password devices, for a person who lost it together with
their recovery codes and has proved who they are in another way. Removing the last device also
voids the person's recovery codes. The removal is audited (otp.remove, actor "operator").`,
		Args: cobra.NoArgs,
	}
	cmd.Flags().StringVar(&person, "person", "", "the person's ID (required)")
	cmd.Flags().StringVar(&device, "device", "", "the device ID, as `idp people otp list` prints it (required)")
	_ = cmd.MarkFlagRequired("person")
	_ = cmd.MarkFlagRequired("device")
	cmd.RunE = c.run(func(cmd *cobra.Command, args []string) error {
		svc, b, err := c.peopleService(cmd)
		if err != nil {
			return err
		}
		defer b.Close()
		err = svc.RemoveOTPDeviceAsOperator(cmd.Context(), person, device)
		if errors.Is(err, accounts.ErrOTPDeviceNotFound) {
			return app.Usage(fmt.Errorf("--device: person %q has no device %q", person, device))
		}
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(c.out, "removed device %s of person %s\n", device, person)
		return err
	})
	return cmd
}
