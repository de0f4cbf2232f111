package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/spf13/cobra"

	"github.com/tongban/tongban/accounts"
	"github.com/tongban/tongban/cmd/internal/app"
	"github.com/tongban/tongban/oidc"
	"github.com/tongban/tongban/storage"
)

// `idp people otp list|remove`: an operator's view of a person's one-time-password devices
// (docs/citizens/otp.md), for a person who lost every device and recovery code and proved who
// they are at a counter. People enrol devices themselves on the account page.
func (c *cli) peopleOTPCmd() *cobra.Command {
	return app.Group("otp", "List and remove a person's one-time-password devices",
		c.peopleOTPListCmd(), c.peopleOTPRemoveCmd())
}

// personFlagUsage is the help text of --person. pflag takes a back-quoted word in a flag's
// usage as the name of its value, so this text has none.
const personFlagUsage = "the person: their ID number or mobile number, or the person ID that \"idp people add\" printed (required)"

// beijing is the time zone of the times `idp people otp list` prints: China Standard Time
// (UTC+8, Beijing time), as the operator's counter and the person's phone show them.
var beijing = time.FixedZone("CST", 8*60*60)

// otpDeviceJSON is one device in the --json output of `idp people otp list` (no secret). The
// name is the one the person gave the device, so that they can say which one they lost.
type otpDeviceJSON struct {
	ID        string     `json:"id"`
	Name      string     `json:"name,omitempty"`
	Algorithm string     `json:"algorithm"`
	Legacy    bool       `json:"legacy,omitempty"`
	CreatedAt *time.Time `json:"created_at,omitempty"`
	LastUsed  *time.Time `json:"last_used,omitempty"`
}

type otpListJSON struct {
	Person            string          `json:"person"`
	IDNumberMasked    string          `json:"id_number_masked"`
	Devices           []otpDeviceJSON `json:"devices"`
	RecoveryCodesLeft int             `json:"recovery_codes_left"`
}

// peopleService opens the backend and an accounts.Service on it; close the backend after use.
func (c *cli) peopleService(cmd *cobra.Command) (*accounts.Service, *app.Backend, error) {
	return c.peopleServiceWith(cmd, nil)
}

// peopleServiceWith is peopleService with accounts.Config.PasswordResetURL resetURL(), called
// once the settings are loaded (nil: no reset links).
func (c *cli) peopleServiceWith(cmd *cobra.Command, resetURL func() string) (*accounts.Service, *app.Backend, error) {
	log, err := c.setup(cmd, true, nil)
	if err != nil {
		return nil, nil, err
	}
	b, err := c.openBackend(cmd.Context(), log)
	if err != nil {
		return nil, nil, err
	}
	reset := ""
	if resetURL != nil {
		reset = resetURL()
	}
	// Sessions ended here reach the apps as the console's do: their grants are revoked and
	// back-channel logout deliveries wait in the outbox for the running server's worker.
	slo := oidc.LogoutQueue{Store: b.Store, Keyring: b.Keyring, AccessTokenLifetime: c.cfg.AccessTokenLifetime}
	svc, err := accounts.New(accounts.Config{Store: b.Store, Keyring: b.Keyring, Logger: log, PasswordParams: c.cfg.PasswordParams(),
		PasswordResetURL: reset, OnSessionsEnded: func(ctx context.Context, personID string) {
			n, err := slo.PersonSessionsEnded(ctx, personID)
			if err != nil {
				log.ErrorContext(ctx, "single logout after the sessions were ended", "person_id", personID, "err", err.Error())
				return
			}
			log.InfoContext(ctx, "back-channel logouts queued", "person_id", personID, "queued", n)
		}})
	if err != nil {
		b.Close()
		return nil, nil, classify(err)
	}
	return svc, b, nil
}

// operatorPerson opens the people service for an operator command and finds the person ref
// names (lookupPerson); done closes the database.
func (c *cli) operatorPerson(cmd *cobra.Command, ref string) (svc *accounts.Service, p storage.Person, done func(), err error) {
	svc, b, err := c.peopleService(cmd)
	if err != nil {
		return nil, p, nil, err
	}
	if p, err = lookupPerson(cmd.Context(), svc, ref); err != nil {
		b.Close()
		return nil, p, nil, err
	}
	return svc, p, func() { b.Close() }, nil
}

// lookupPerson resolves --person (accounts.Service.FindPerson: a person ID, an ID number or a
// mobile number). An unknown person is a usage error whose message masks the number typed.
func lookupPerson(ctx context.Context, svc *accounts.Service, ref string) (storage.Person, error) {
	p, err := svc.FindPerson(ctx, ref)
	if nf := (*accounts.PersonNotFoundError)(nil); errors.As(err, &nf) {
		return p, app.Usagef("--person: %s", nf.Desc)
	}
	return p, err
}

// describePerson is how the commands name a person: their ID and masked ID number.
func describePerson(p storage.Person) string {
	return p.ID + " (" + p.IDNumberMasked + ")"
}

// printable replaces control and formatting characters (bidirectional overrides among them)
// of a person's own text with "?", so that it cannot rearrange the operator's terminal.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return '?'
		}
		return r
	}, s)
}

func (c *cli) peopleOTPListCmd() *cobra.Command {
	var (
		person string
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "list --person ID-NUMBER|PHONE|PERSON-ID",
		Short: "List a person's confirmed one-time-password devices and unused recovery codes",
		Long: `List a person's confirmed one-time-password devices, with the name the person gave each,
its algorithm, when it was added and when a code of it was last accepted (Beijing time, UTC+8,
to the minute), and how many recovery codes they have left. The person is named by their
resident ID number (or unified social credit code), their mobile number, or their person ID;
only the masked ID number is printed.`,
		Example: "  idp people otp list --person 11010519491231002X\n  idp people otp list --person 138-0013-8000",
		Args:    cobra.NoArgs,
	}
	cmd.Flags().StringVar(&person, "person", "", personFlagUsage)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON (times in UTC, RFC 3339)")
	_ = cmd.MarkFlagRequired("person")
	cmd.RunE = c.run(func(cmd *cobra.Command, args []string) error {
		svc, p, done, err := c.operatorPerson(cmd, person)
		if err != nil {
			return err
		}
		defer done()
		ctx := cmd.Context()
		devs, err := svc.ListOTPDevices(ctx, p.ID)
		if err != nil {
			return err
		}
		left, err := svc.RecoveryCodesLeft(ctx, p.ID)
		if err != nil {
			return err
		}
		out := otpListJSON{Person: p.ID, IDNumberMasked: p.IDNumberMasked, Devices: []otpDeviceJSON{}, RecoveryCodesLeft: left}
		for _, d := range devs {
			j := otpDeviceJSON{ID: d.ID, Name: d.Name, Algorithm: d.Algorithm, Legacy: d.Legacy}
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
		if _, err := fmt.Fprintf(c.out, "person %s\n", describePerson(p)); err != nil {
			return err
		}
		rows := make([][]string, 0, len(out.Devices))
		for _, d := range out.Devices {
			created, used := "-", "never"
			if d.CreatedAt != nil {
				created = d.CreatedAt.In(beijing).Format("2006-01-02 15:04")
			}
			if d.LastUsed != nil {
				used = d.LastUsed.In(beijing).Format("2006-01-02 15:04")
			}
			name := printable(d.Name)
			if d.Legacy {
				name = "(set up by an administrator)"
			}
			// The name goes last: Chinese characters are two columns wide, which the
			// alignment of the other columns does not know.
			rows = append(rows, []string{d.ID, d.Algorithm, created, used, name})
		}
		if err := app.Table(c.out, []string{"DEVICE", "ALGORITHM", "CREATED (BEIJING TIME)", "LAST USED (BEIJING TIME)", "NAME"}, rows); err != nil {
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
		Use:   "remove --person ID-NUMBER|PHONE|PERSON-ID --device DEVICE",
		Short: "Remove one of a person's one-time-password devices (audited as the operator)",
		Long: `Remove one of a person's one-time-password devices, for a person who lost it together with
their recovery codes and has proved who they are in another way. Removing the last device also
voids the person's recovery codes. The removal is audited (otp.remove, actor "operator").
The person is named as for "idp people otp list", which prints the device IDs.`,
		Args: cobra.NoArgs,
	}
	cmd.Flags().StringVar(&person, "person", "", personFlagUsage)
	cmd.Flags().StringVar(&device, "device", "", "the device ID, as \"idp people otp list\" prints it (required)")
	_ = cmd.MarkFlagRequired("person")
	_ = cmd.MarkFlagRequired("device")
	cmd.RunE = c.run(func(cmd *cobra.Command, args []string) error {
		svc, p, done, err := c.operatorPerson(cmd, person)
		if err != nil {
			return err
		}
		defer done()
		ctx := cmd.Context()
		err = svc.RemoveOTPDeviceAsOperator(ctx, p.ID, device)
		if errors.Is(err, accounts.ErrOTPDeviceNotFound) {
			return app.Usagef("--device: person %s has no device %q", describePerson(p), device)
		}
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(c.out, "removed device %s of person %s\n", device, describePerson(p))
		return err
	})
	return cmd
}
