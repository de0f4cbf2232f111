package oidc_test

import (
	"os"
	"strings"
	"testing"
)

// TestDeveloperGuideSample checks that docs/developers/app-developers.md shows exactly the code
// between BEGIN SAMPLE and END SAMPLE in sm2sample_test.go, which the end-to-end suite runs.
func TestDeveloperGuideSample(t *testing.T) {
	src, err := os.ReadFile("sm2sample_test.go")
	if err != nil {
		t.Fatal(err)
	}
	s := string(src)
	begin := strings.Index(s, "// BEGIN SAMPLE\n")
	end := strings.Index(s, "// END SAMPLE")
	if begin < 0 || end < begin {
		t.Fatal("sample markers missing")
	}
	sample := strings.TrimRight(s[begin+len("// BEGIN SAMPLE\n"):end], "\n") + "\n"
	guide, err := os.ReadFile("../docs/developers/app-developers.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(guide), "```go\n"+sample+"```\n") {
		t.Error("the Go sample in docs/developers/app-developers.md differs from oidc/sm2sample_test.go; copy it over")
	}
}
