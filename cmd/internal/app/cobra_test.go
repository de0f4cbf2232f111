package app

import (
	"bytes"
	"errors"
	"testing"

	"github.com/spf13/cobra"
)

func TestExecute(t *testing.T) {
	const hint = "Run 'x --help' for usage."
	for _, tc := range []struct {
		name     string
		args     []string
		runErr   error // what the command's run function returns
		wantCode int
		wantOut  string
	}{
		{"ok/success", nil, nil, ExitOK, ""},
		{"fail/unknown flag before the run", []string{"--nope"}, nil, ExitUsage, "x: unknown flag: --nope\n" + hint + "\n"},
		{"fail/runtime error", nil, errors.New("disk full"), ExitFailure, "x: disk full\n"},
		{"fail/usage error", nil, Usagef("bad --y"), ExitUsage, "x: bad --y\n" + hint + "\n"},
		{"fail/config error without the hint", nil, Usage(&ConfigError{Problems: []string{"db: empty"}}), ExitUsage, "x: invalid configuration: db: empty\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			started := false
			root := &cobra.Command{Use: "x", SilenceUsage: true, SilenceErrors: true, Args: cobra.NoArgs,
				RunE: func(*cobra.Command, []string) error { started = true; return tc.runErr }}
			var errOut bytes.Buffer
			code := Execute(root, tc.args, &errOut, &started, hint)
			if code != tc.wantCode {
				t.Errorf("code %d, want %d", code, tc.wantCode)
			}
			if errOut.String() != tc.wantOut {
				t.Errorf("errOut %q, want %q", errOut.String(), tc.wantOut)
			}
		})
	}
}
