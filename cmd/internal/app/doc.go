// Package app is the plumbing that tongban's binaries (cmd/idp, cmd/wallet) share, so that both
// are started, configured and operated the same way (DESIGN §7):
//
//   - Layered configuration: a command-line flag wins over its environment variable
//     (TONGBAN_<NAME>), which wins over a key in the config file (--config FILE or
//     TONGBAN_CONFIG, see ParseConfigFile for the format), which wins over the flag's default.
//     Only flags marked with Configurable take part; ApplyConfig does the layering and
//     Problems collects every invalid setting so that one run reports all of them.
//   - Storage and keys: OpenBackend opens the store named by --db (an SQLite file path, or a
//     postgres:// URL), loads the key-encryption key (TONGBAN_KEK, or the file named by
//     --kek-file, created with mode 0600 on first start) and opens the keyring.
//   - Logging: NewLogger writes JSON lines with log/slog. Callers log no personal data and no
//     tokens; the helpers here log only settings, addresses and error causes.
//   - HTTP: Serve runs an http.Server with timeouts and a header size limit until its context
//     ends, then shuts down gracefully. With --tls-cert and --tls-key, HTTPConfig.Listen
//     returns a TLS 1.3 listener whose CertReloader re-reads the files when they change. OpsHandler adds /healthz, /readyz and /metrics in front
//     of a service's handler, and Metrics records request durations by route pattern.
//   - CLI: UsageError and ExitCode give the exit status convention: 0 success, 1 runtime
//     failure, 2 wrong usage or configuration. ReadPassword reads a password from a terminal
//     without echo, or one line from a pipe.
package app
