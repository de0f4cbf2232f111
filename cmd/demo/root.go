package main

import (
	"io"

	"github.com/spf13/cobra"

	"github.com/tongban/tongban/cmd/internal/app"
)

// Main runs the demo command line with args (without the program name) and returns the exit
// status (app.ExitOK, app.ExitFailure or app.ExitUsage). Errors are printed to errOut as
// "demo: message".
func Main(args []string, out, errOut io.Writer, env func(string) (string, bool)) int {
	c := &cli{out: out, errOut: errOut, env: env}
	root := c.demoCmd()
	root.SilenceUsage, root.SilenceErrors = true, true
	root.CompletionOptions.DisableDefaultCmd = true
	root.SetOut(out)
	root.SetErr(errOut)
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error { return app.Usage(err) })
	return app.Execute(root, args, errOut, &c.running, "Run 'demo --help' for usage.")
}

// cli is the state of one run.
type cli struct {
	out    io.Writer
	errOut io.Writer
	env    func(string) (string, bool)

	// common holds --config, --db, --kek-file and --log-level; iterations
	// --password-iterations.
	common     app.Common
	iterations int
	// running is set once the command's own run function starts: errors before that (unknown
	// flag, arguments) are usage errors.
	running bool
}
