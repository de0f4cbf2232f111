// Command wallet is tongban's e-licence wallet: `wallet serve` runs the service citizens and
// the mobile app use; `wallet licences`, `wallet code` and `wallet trust-list` work on the
// same storage for operators; `wallet verify` checks a code offline for counters, with
// nothing but a trust list and its pinned trust anchor (no network, no database, no key).
// See docs/verifiers/counter-guide.md and docs/demo.md.
//
// Exit status: 0 success (verify: the code is valid), 1 runtime failure (verify: the code is
// rejected; import: some lines were rejected), 2 wrong usage or configuration.
package main

import "os"

func main() {
	os.Exit(Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.LookupEnv))
}
