//go:build !linux

package app

import "os"

// isTerminal reports whether f is a character device; outside Linux echo cannot be turned off
// without another dependency, so the password is read with echo on.
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func echoOff(*os.File) (func(), error) { return func() {}, nil }
