package app

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

// Group returns a command that only groups subs (`idp clients`, `wallet licences`, …): it takes
// no arguments and, run alone, prints its help.
func Group(use, short string, subs ...*cobra.Command) *cobra.Command {
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	cmd.AddCommand(subs...)
	return cmd
}

// Execute runs root with args and returns the exit status: ExitOK when it succeeds, else
// ExitCode of the error — or ExitUsage whatever the error while *started is false, i.e. when
// the error came before the command's own run function (unknown command or flag, wrong
// arguments). The error is printed to errOut as "NAME: message", NAME being root's name,
// followed by the line hint when the status is ExitUsage and the error is not a *ConfigError
// (whose message lists every problem already).
func Execute(root *cobra.Command, args []string, errOut io.Writer, started *bool, hint string) int {
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	if err == nil {
		return ExitOK
	}
	code := ExitCode(err)
	if !*started {
		code = ExitUsage
	}
	fmt.Fprintf(errOut, "%s: %s\n", root.Name(), Message(err))
	var ce *ConfigError
	if code == ExitUsage && !errors.As(err, &ce) {
		fmt.Fprintln(errOut, hint)
	}
	return code
}
