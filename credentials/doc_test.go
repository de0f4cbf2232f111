package credentials

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

const licencesDoc = "../docs/formats/licences.md"

// TestDocFieldTables checks that each kind's field table in
// docs/formats/licences.md lists exactly FieldSpecs (name, code, label,
// required).
func TestDocFieldTables(t *testing.T) {
	doc, err := os.ReadFile(licencesDoc)
	if err != nil {
		t.Fatal(err)
	}
	sections := regexp.MustCompile(`(?m)^### ([a-z-]+)$`).Split(string(doc), -1)
	heads := regexp.MustCompile(`(?m)^### ([a-z-]+)$`).FindAllStringSubmatch(string(doc), -1)
	row := regexp.MustCompile("(?m)^\\| `([a-z_]+)` \\| (\\d+) \\| ([^|]+) \\| (yes|no) \\|")
	seen := map[Kind]bool{}
	for i, h := range heads {
		k, err := ParseKind(h[1])
		if err != nil {
			t.Errorf("section %q: %v", h[1], err)
			continue
		}
		seen[k] = true
		var got []string
		for _, m := range row.FindAllStringSubmatch(sections[i+1], -1) {
			got = append(got, m[1]+"/"+m[2]+"/"+strings.TrimSpace(m[3])+"/"+m[4])
		}
		var want []string
		for _, f := range FieldSpecs(k) {
			req := "no"
			if f.Required {
				req = "yes"
			}
			want = append(want, f.Name+"/"+strconv.Itoa(f.Code)+"/"+f.Label+"/"+req)
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%s table:\n doc  %v\n code %v", k, got, want)
		}
	}
	for _, k := range Kinds {
		if !seen[k] {
			t.Errorf("no section for %s", k)
		}
	}
}

// TestDocImportExample parses the jsonl blocks of the doc.
func TestDocImportExample(t *testing.T) {
	doc, err := os.ReadFile(licencesDoc)
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```jsonl\n(.*?)```").FindAllStringSubmatch(string(doc), -1)
	if len(blocks) == 0 {
		t.Fatal("no jsonl example")
	}
	for _, b := range blocks {
		good, bad, err := ParseImport(strings.NewReader(b[1]))
		if err != nil || len(bad) != 0 || len(good) == 0 {
			t.Errorf("example: %d good, bad %v, err %v", len(good), bad, err)
		}
	}
}
