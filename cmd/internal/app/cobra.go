package app

import "github.com/spf13/cobra"

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
