// Command idp is tongban's OpenID Connect provider: `idp serve` runs it, and the admin
// commands `idp people`, `idp clients` and `idp keys` work on the same storage. See
// docs/operators/idp.md.
//
// Exit status: 0 success, 1 runtime failure, 2 wrong usage or configuration.
package main

import (
	"os"
)

func main() {
	os.Exit(Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.LookupEnv))
}
