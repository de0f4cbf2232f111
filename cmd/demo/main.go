// Command demo runs tongban's identity provider and e-licence wallet together in one process,
// on an embedded SQLite database, with a made-up citizen, a licence of every kind, the
// wallet's OIDC client and a demo relying app: `go run ./cmd/demo` from the repository root.
// It builds both services exactly as `idp serve` and `wallet serve` do
// (cmd/internal/idpserver, cmd/internal/walletserver). See docs/demo.md.
//
// Exit status: 0 stopped cleanly (SIGINT, SIGTERM), 1 runtime failure, 2 wrong usage or
// configuration.
package main

import "os"

func main() {
	os.Exit(Main(os.Args[1:], os.Stdout, os.Stderr, os.LookupEnv))
}
