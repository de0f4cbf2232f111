package main

import (
	"context"
	"errors"
	"fmt"
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
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	if err == nil {
		return app.ExitOK
	}
	code := app.ExitCode(err)
	if !c.running {
		code = app.ExitUsage
	}
	fmt.Fprintf(errOut, "demo: %s\n", app.Message(err))
	var ce *app.ConfigError
	if code == app.ExitUsage && !errors.As(err, &ce) {
		fmt.Fprintln(errOut, "Run 'demo --help' for usage.")
	}
	return code
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
