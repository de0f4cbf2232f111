package main

import (
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/tongban/tongban/cmd/internal/app"
	"github.com/tongban/tongban/cmd/internal/walletserver"
	"github.com/tongban/tongban/wallet"
)

// statusListJSON is the --json output of `status-list export`.
type statusListJSON struct {
	File      string `json:"file"`
	Entries   int    `json:"entries"`
	IssuedAt  string `json:"issued_at"`
	ExpiresAt string `json:"expires_at"`
	SignedBy  string `json:"signed_by"` // kid of the code-signing key, hex
}

func (c *cli) statusListCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "status-list",
		Short: "Export the signed status list for pre-fetched offline codes",
	}
	var asJSON bool
	var validity time.Duration
	export := &cobra.Command{
		Use:   "export FILE",
		Short: "Write the signed status list to FILE",
		Long: `Write the current signed status list (COSE_Sign1 of type application/statuslist+cwt, the same
form GET /status-list serves) to FILE, replacing it atomically. It holds the status of every
licence that has had a pre-fetched code (wallet code --prefetch), is signed by the active
code-signing key (listed in the trust list) and is fresh for --status-list-validity (default
1h, as wallet serve): counters that accept pre-fetched codes must load a new one within that
time (wallet verify --status-list).`,
		Example: "  wallet status-list export var/status-list.cwt",
		Args:    cobra.ExactArgs(1),
	}
	export.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	walletserver.AddStatusListValidityFlag(export.Flags(), &validity)
	app.Configurable(export.Flags(), "status-list-validity")
	export.RunE = c.run(func(cmd *cobra.Command, args []string) error {
		ctx, svc, closeFn, err := c.adminService(cmd, nil, func() wallet.ServiceConfig {
			return wallet.ServiceConfig{StatusListValidity: validity}
		})
		if err != nil {
			return err
		}
		defer closeFn()
		signed, list, err := svc.StatusList(ctx)
		if err != nil {
			return err
		}
		file := args[0]
		tmp, err := os.CreateTemp(filepath.Dir(file), ".status-list-*")
		if err != nil {
			return err
		}
		defer os.Remove(tmp.Name())
		if _, err := tmp.Write(signed); err != nil {
			tmp.Close()
			return err
		}
		if err := tmp.Chmod(0o644); err != nil {
			tmp.Close()
			return err
		}
		if err := tmp.Close(); err != nil {
			return err
		}
		if err := os.Rename(tmp.Name(), file); err != nil {
			return err
		}
		res := statusListJSON{
			File: file, Entries: len(list.Statuses),
			IssuedAt:  list.IssuedAt.UTC().Format(time.RFC3339),
			ExpiresAt: list.ExpiresAt.UTC().Format(time.RFC3339),
			SignedBy:  hex.EncodeToString(list.SignerKID[:]),
		}
		if asJSON {
			return app.PrintJSON(c.out, res)
		}
		fmt.Fprintf(c.out, "wrote status list %s: %d licence(s), signed by code-signing key %s, fresh until %s\n",
			res.File, res.Entries, res.SignedBy, res.ExpiresAt)
		return nil
	})
	cmd.AddCommand(export)
	return cmd
}
