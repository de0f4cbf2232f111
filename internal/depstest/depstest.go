// Package depstest checks, in tests, the dependency rules of the layout
// (docs/design/platform-room.md §1, DESIGN §1): which packages a package must not depend on.
// It asks the go command (go list -deps), so it sees every transitive dependency.
package depstest

import (
	"os/exec"
	"strings"
	"testing"
)

// Deps returns the import paths pkgs depend on, themselves included, as go list -deps prints
// them (dependencies first). pkgs are relative to the test's package directory ("." is the
// package itself). A failure of go list fails the test.
func Deps(t testing.TB, pkgs ...string) []string {
	t.Helper()
	out, err := exec.Command("go", append([]string{"list", "-deps"}, pkgs...)...).Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v", strings.Join(pkgs, " "), err)
	}
	return strings.Fields(string(out))
}

// Under reports whether the import path dep is p or a package below it.
func Under(dep, p string) bool { return dep == p || strings.HasPrefix(dep, p+"/") }

// Forbid reports, as test errors, every package of deps that is one of forbidden or below one;
// what names the packages whose dependencies deps are, for the message.
func Forbid(t testing.TB, what string, deps []string, forbidden ...string) {
	t.Helper()
	for _, dep := range deps {
		for _, p := range forbidden {
			if Under(dep, p) {
				t.Errorf("%s depends on %s", what, dep)
			}
		}
	}
}

// Witness reports, as a test error, each of forbidden that deps (the dependencies of what, a
// package known to use them) does not include: a check that cannot see a package proves
// nothing about it.
func Witness(t testing.TB, what string, deps []string, forbidden ...string) {
	t.Helper()
	for _, p := range forbidden {
		seen := false
		for _, dep := range deps {
			seen = seen || Under(dep, p)
		}
		if !seen {
			t.Errorf("%s does not depend on %s: the check cannot tell", what, p)
		}
	}
}
