package app

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
)

// MaxPasswordLen bounds a password read by ReadPassword, in bytes.
const MaxPasswordLen = 1024

// ErrEmptyPassword: no password was given (an empty line or end of input).
var ErrEmptyPassword = errors.New("empty password")

// ReadPassword reads a password for an admin command. When in is a terminal it prints prompt
// to out, reads a line with echo turned off (on Linux; elsewhere echo stays on), and, if
// confirm is true, asks again and requires the same text. Otherwise it reads one line from in
// (a pipe: `printf '%s\n' "$PW" | idp people add …`) without prompting. The line ending (\n or
// \r\n) is removed; nothing else is trimmed.
//
// Errors: ErrEmptyPassword for an empty line or no input at all, a *UsageError when the two
// entries differ or the line is longer than MaxPasswordLen, or the read error.
func ReadPassword(in *os.File, out io.Writer, prompt string, confirm bool) ([]byte, error) {
	if !isTerminal(in) {
		return readLine(bufio.NewReader(in))
	}
	pw, err := readHidden(in, out, prompt)
	if err != nil || !confirm {
		return pw, err
	}
	again, err := readHidden(in, out, "Repeat "+lowerFirst(prompt))
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(pw, again) {
		return nil, Usagef("the passwords do not match")
	}
	return pw, nil
}

func readHidden(in *os.File, out io.Writer, prompt string) ([]byte, error) {
	fmt.Fprint(out, prompt)
	restore, err := echoOff(in)
	if err != nil {
		return nil, err
	}
	pw, rerr := readLine(bufio.NewReader(in))
	restore()
	fmt.Fprintln(out)
	return pw, rerr
}

// readLine reads one line of at most MaxPasswordLen bytes.
func readLine(r *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		b, err := r.ReadByte()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read password: %w", err)
		}
		if b == '\n' {
			break
		}
		if len(line) == MaxPasswordLen+1 {
			return nil, Usagef("password longer than %d bytes", MaxPasswordLen)
		}
		line = append(line, b)
	}
	line = bytes.TrimSuffix(line, []byte("\r"))
	if len(line) > MaxPasswordLen {
		return nil, Usagef("password longer than %d bytes", MaxPasswordLen)
	}
	if len(line) == 0 {
		return nil, Usage(ErrEmptyPassword)
	}
	return line, nil
}

func lowerFirst(s string) string {
	if s != "" && s[0] >= 'A' && s[0] <= 'Z' {
		return string(s[0]+'a'-'A') + s[1:]
	}
	return s
}
