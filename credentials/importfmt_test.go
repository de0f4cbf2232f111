package credentials

import (
	"bytes"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"testing/iotest"
)

func exampleLines(t testing.TB) []string {
	t.Helper()
	b, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimRight(string(b), "\n"), "\n")
}

func TestParseImport(t *testing.T) {
	lines := exampleLines(t)
	input := strings.Join([]string{
		"\ufeff" + lines[0], // 1: good, BOM ignored
		"",                  // 2: blank, skipped
		lines[1] + "\r",     // 3: good, CRLF
		`{"kind":"passport","number":"E12345678"}`, // 4: unknown kind
		`not json`, // 5
		lines[0],   // 6: duplicate of line 1
		strings.Replace(lines[2], `"status":"valid"`, `"status":"valid","colour":"red"`, 1), // 7: unknown key
		lines[2] + ` {}`, // 8: trailing data
		strings.Replace(lines[3], `"2022-05-10"`, `"2022-05-32"`, 1), // 9: bad date
		strings.Replace(lines[6], `"green"`, `"purple"`, 1),          // 10: bad colour
		`{"kind":"resident-id"} {"kind":"resident-id"}`,              // 11: two objects
		`[]`,     // 12: not an object
		lines[7], // 13: good
	}, "\n")
	good, bad, err := ParseImport(strings.NewReader(input))
	if err != nil {
		t.Fatal(err)
	}
	if len(good) != 3 || good[0].Kind != ResidentID || good[1].Kind != SocialSecurity || good[2].Kind != TransitCode {
		t.Errorf("good = %d licences %v", len(good), good)
	}
	want := map[int]error{
		4: ErrUnknownKind, 5: ErrMalformedLine, 6: ErrDuplicateLicence, 7: ErrUnknownField,
		8: ErrMalformedLine, 9: ErrInvalidDates, 10: ErrInvalidField, 11: ErrMalformedLine, 12: ErrMalformedLine,
	}
	if len(bad) != len(want) {
		t.Errorf("bad = %v, want lines %v", bad, want)
	}
	for _, le := range bad {
		w, ok := want[le.Line]
		if !ok || !errors.Is(le, w) {
			t.Errorf("line %d: %v, want %v", le.Line, le.Err, w)
		}
		if !strings.HasPrefix(le.Error(), "line ") {
			t.Errorf("LineError text %q", le.Error())
		}
	}
}

func TestParseImportLongLine(t *testing.T) {
	lines := exampleLines(t)
	long := `{"kind":"resident-id","issuer":"` + strings.Repeat("长", MaxLineLength) + `"}`
	input := lines[0] + "\n" + long + "\n" + lines[1] + "\n"
	// A one-byte-at-a-time reader exercises the chunked line reading.
	good, bad, err := ParseImport(iotest.OneByteReader(strings.NewReader(input)))
	if err != nil {
		t.Fatal(err)
	}
	if len(good) != 2 || len(bad) != 1 || bad[0].Line != 2 || !errors.Is(bad[0], ErrLineTooLong) {
		t.Errorf("good %d, bad %v", len(good), bad)
	}
}

func TestParseImportNoFinalNewline(t *testing.T) {
	lines := exampleLines(t)
	good, bad, err := ParseImport(strings.NewReader(lines[0]))
	if err != nil || len(good) != 1 || len(bad) != 0 {
		t.Errorf("good %d, bad %v, err %v", len(good), bad, err)
	}
	good, bad, err = ParseImport(strings.NewReader(""))
	if err != nil || len(good) != 0 || len(bad) != 0 {
		t.Errorf("empty input: good %d, bad %v, err %v", len(good), bad, err)
	}
}

func TestParseImportReadError(t *testing.T) {
	lines := exampleLines(t)
	boom := errors.New("disk on fire")
	r := io.MultiReader(strings.NewReader(lines[0]+"\n"), iotest.ErrReader(boom))
	good, _, err := ParseImport(r)
	if !errors.Is(err, boom) || len(good) != 1 {
		t.Errorf("good %d, err %v", len(good), err)
	}
}

// FuzzParseImport: no panic; every good licence validates; every line is
// accounted for at most once.
func FuzzParseImport(f *testing.F) {
	for _, l := range exampleLines(f) {
		f.Add([]byte(l))
	}
	f.Add([]byte("{}\n\n[]\r\n"))
	f.Add([]byte(`{"kind":"health-code","valid_until":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		good, bad, err := ParseImport(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range good {
			if err := l.Validate(); err != nil {
				t.Fatalf("accepted an invalid licence: %v", err)
			}
		}
		lines := bytes.Count(data, []byte("\n")) + 1
		if len(good)+len(bad) > lines {
			t.Fatalf("%d results from %d lines", len(good)+len(bad), lines)
		}
	})
}

func TestParseImportNullAndLowerCaseX(t *testing.T) {
	lines := exampleLines(t)
	if !strings.Contains(lines[0], demoID) {
		t.Skip("example line 1 is not the demo resident ID")
	}
	lower := strings.ReplaceAll(lines[0], demoID, strings.ToLower(demoID))
	good, bad, err := ParseImportLines(strings.NewReader("null\n" + lower + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(bad) != 1 || bad[0].Line != 1 || !errors.Is(bad[0], ErrMalformedLine) || !strings.Contains(bad[0].Error(), "not a JSON object") {
		t.Errorf("null line: %v", bad)
	}
	if len(good) != 1 || good[0].Line != 2 || good[0].Licence.Holder != demoID || good[0].Licence.Number != demoID {
		t.Errorf("lower-case x line: %+v", good)
	}
}
