package app

import (
	"errors"
	"fmt"
	"strings"
)

// Exit statuses of tongban's binaries.
const (
	ExitOK      = 0 // success
	ExitFailure = 1 // runtime failure: storage unreachable, wrong key-encryption key, I/O error
	ExitUsage   = 2 // wrong usage: unknown flag or command, invalid argument or configuration
)

// UsageError marks an error caused by what the operator typed or configured (an unknown flag,
// an invalid ID number, a malformed duration in the environment). ExitCode maps it to ExitUsage.
// Its message is meant for the operator as is.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// Usage wraps err as a *UsageError; it returns nil for a nil err.
func Usage(err error) error {
	if err == nil {
		return nil
	}
	var ue *UsageError
	if errors.As(err, &ue) {
		return err
	}
	return &UsageError{Err: err}
}

// Usagef returns a *UsageError with a formatted message; %w is honoured.
func Usagef(format string, args ...any) error {
	return &UsageError{Err: fmt.Errorf(format, args...)}
}

// IsUsage reports whether err is or wraps a *UsageError.
func IsUsage(err error) bool {
	var ue *UsageError
	return errors.As(err, &ue)
}

// ExitCode returns the process exit status for err: ExitOK for nil, ExitUsage for a
// *UsageError (including a *ConfigError), ExitFailure otherwise.
func ExitCode(err error) int {
	switch {
	case err == nil:
		return ExitOK
	case IsUsage(err):
		return ExitUsage
	}
	return ExitFailure
}

// Problems collects configuration problems so that validation reports all of them at once
// instead of stopping at the first. The zero value is ready to use.
type Problems struct{ list []string }

// Addf records one problem; the message names the setting and what is wrong with it.
func (p *Problems) Addf(format string, args ...any) {
	p.list = append(p.list, fmt.Sprintf(format, args...))
}

// Add records err's message as a problem when err is not nil.
func (p *Problems) Add(err error) {
	if err != nil {
		p.list = append(p.list, err.Error())
	}
}

// Merge records the problems listed by err: each problem of a *ConfigError it wraps, or its
// message. A nil err adds nothing.
func (p *Problems) Merge(err error) {
	var ce *ConfigError
	switch {
	case err == nil:
	case errors.As(err, &ce):
		p.list = append(p.list, ce.Problems...)
	default:
		p.list = append(p.list, err.Error())
	}
}

// Len returns the number of problems recorded.
func (p *Problems) Len() int { return len(p.list) }

// Err returns nil when no problem was recorded, else a *ConfigError listing all of them in the
// order they were added, wrapped in a *UsageError (exit status 2).
func (p *Problems) Err() error {
	if len(p.list) == 0 {
		return nil
	}
	return &UsageError{Err: &ConfigError{Problems: append([]string(nil), p.list...)}}
}

// ConfigError lists every invalid setting found in one validation.
type ConfigError struct{ Problems []string }

func (e *ConfigError) Error() string {
	if len(e.Problems) == 1 {
		return "invalid configuration: " + e.Problems[0]
	}
	return "invalid configuration:\n  - " + strings.Join(e.Problems, "\n  - ")
}

// packagePrefixes are the "pkg: " prefixes tongban's packages put on their errors. Message
// drops them: the operator sees one clean message after the program name.
var packagePrefixes = map[string]bool{
	"wallet": true, "qr": true, "oidc": true, "accounts": true, "idp": true, "credentials": true, "keyring": true,
	"storage": true, "idnumber": true, "smcrypto": true, "smcose": true, "app": true,
}

// Message returns err's text for printing after "prog: ": the Go error chain's package
// prefixes ("wallet: ", "qr: ", "oidc: " …) are removed wherever they start a segment, and a
// segment repeating the one before it is dropped, so "wallet: wallet: mint: qr: too long"
// prints as "mint: too long".
func Message(err error) string {
	if err == nil {
		return ""
	}
	parts := strings.Split(err.Error(), ": ")
	out := parts[:0:0]
	for i, s := range parts {
		if i < len(parts)-1 && packagePrefixes[s] {
			continue
		}
		if len(out) > 0 && out[len(out)-1] == s {
			continue
		}
		out = append(out, s)
	}
	return strings.Join(out, ": ")
}
