// Package open is the one place that turns a database address (a DSN) into a
// storage.Storage, for cmd/idp, cmd/wallet and cmd/demo (DESIGN §1: only cmd/* picks the
// backend): a postgres:// or postgresql:// URL opens PostgreSQL (storage/postgres), anything
// else is an SQLite file path, with or without a "sqlite:" prefix (storage/sqlite). Parse
// says which, Open opens it with messages that never show a password, and Redact gives an
// address fit for logs.
package open
