package credentials

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/tongban/tongban/idnumber"
)

// MaxLineLength is the longest import line ParseImport accepts, in bytes,
// excluding the line ending.
const MaxLineLength = 16 << 10

// LineError reports an import line that was rejected; nothing from it is
// kept.
type LineError struct {
	Line int   // 1-based line number
	Err  error // wraps ErrMalformedLine, ErrLineTooLong, ErrDuplicateLicence or a Validate error
}

func (e LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }

func (e LineError) Unwrap() error { return e.Err }

// ParseImport reads the licence import format: JSON Lines (one JSON object
// per line, UTF-8, lines ended by LF or CRLF), each object a Licence in its
// JSON form (docs/formats/licences.md). Blank lines are skipped; a UTF-8
// byte order mark before the first line is ignored.
//
// Each line is decoded strictly (unknown keys and trailing data rejected)
// and checked with Licence.Validate. A bad line is reported in bad with its
// line number and reason and contributes nothing; good lines are returned
// in order. A line repeating the kind and number of an earlier good line is
// bad (ErrDuplicateLicence). err is non-nil only when reading r fails; the
// lines read before the failure are still returned.
func ParseImport(r io.Reader) (good []Licence, bad []LineError, err error) {
	lines, bad, err := ParseImportLines(r)
	for _, l := range lines {
		good = append(good, l.Licence)
	}
	return good, bad, err
}

// ImportLine is a good import line: its 1-based line number and its licence.
type ImportLine struct {
	Line    int
	Licence Licence
}

// ParseImportLines is ParseImport that also returns the line number of each good line, so
// a caller that refuses a line later (when storing it) can report it as a LineError.
func ParseImportLines(r io.Reader) (good []ImportLine, bad []LineError, err error) {
	br := bufio.NewReader(r)
	seen := make(map[[2]string]int)
	for lineNo := 1; ; lineNo++ {
		line, tooLong, rerr := readLine(br)
		if rerr != nil && rerr != io.EOF {
			return good, bad, fmt.Errorf("credentials: reading import: %w", rerr)
		}
		if rerr == io.EOF && len(line) == 0 && !tooLong {
			return good, bad, nil
		}
		if lineNo == 1 {
			line = bytes.TrimPrefix(line, []byte("\ufeff"))
		}
		switch {
		case tooLong:
			bad = append(bad, LineError{lineNo, fmt.Errorf("%w: more than %d bytes", ErrLineTooLong, MaxLineLength)})
		case len(bytes.TrimSpace(line)) == 0:
		default:
			l, err := parseLine(line)
			if err == nil {
				key := [2]string{string(l.Kind), l.Number}
				if first, dup := seen[key]; dup {
					err = fmt.Errorf("%w: same %s number as line %d", ErrDuplicateLicence, l.Kind, first)
				} else {
					seen[key] = lineNo
				}
			}
			if err != nil {
				bad = append(bad, LineError{lineNo, err})
			} else {
				good = append(good, ImportLine{lineNo, l})
			}
		}
		if rerr == io.EOF {
			return good, bad, nil
		}
	}
}

// readLine returns the next line without its ending. If the line exceeds
// MaxLineLength the rest of it is consumed and tooLong is set.
func readLine(br *bufio.Reader) (line []byte, tooLong bool, err error) {
	for {
		chunk, err := br.ReadSlice('\n')
		if !tooLong {
			line = append(line, chunk...)
			if len(line) > MaxLineLength+2 {
				tooLong, line = true, nil
			}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		line = bytes.TrimSuffix(line, []byte("\n"))
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) > MaxLineLength {
			tooLong, line = true, nil
		}
		return line, tooLong, err
	}
}

func parseLine(line []byte) (Licence, error) {
	var l Licence
	if t := bytes.TrimSpace(line); len(t) == 0 || t[0] != '{' {
		return Licence{}, fmt.Errorf("%w: line is not a JSON object", ErrMalformedLine)
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&l); err != nil {
		switch {
		case errors.Is(err, ErrInvalidDates):
			return Licence{}, err
		case strings.HasPrefix(err.Error(), "json: unknown field"):
			return Licence{}, fmt.Errorf("%w: %s", ErrUnknownField, strings.TrimPrefix(err.Error(), "json: "))
		default:
			return Licence{}, fmt.Errorf("%w: %v", ErrMalformedLine, err)
		}
	}
	if _, err := dec.Token(); err != io.EOF {
		return Licence{}, fmt.Errorf("%w: data after the JSON object", ErrMalformedLine)
	}
	l.normalizeNumbers()
	if err := l.Validate(); err != nil {
		return Licence{}, err
	}
	return l, nil
}

// normalizeNumbers normalises the holder number, agents and (for kinds whose number is the
// holder number) the licence number as idnumber.NormalizeResidentID / NormalizeCreditCode
// do — spaces removed, full-width folded, letters upper-cased (a lower-case check character
// x is accepted, as by idp people add and wallet code).
func (l *Licence) normalizeNumbers() {
	norm := idnumber.NormalizeResidentID
	if l.Kind.HolderType() == LegalPerson {
		norm = idnumber.NormalizeCreditCode
	}
	if l.Holder != "" {
		l.Holder = norm(l.Holder)
	}
	switch l.Kind {
	case ResidentID, DrivingLicence, BusinessLicence:
		if l.Number != "" {
			l.Number = norm(l.Number)
		}
	}
	for i, a := range l.Agents {
		l.Agents[i] = idnumber.NormalizeResidentID(a)
	}
}
