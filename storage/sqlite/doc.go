// Package sqlite is the default storage backend: one SQLite file, opened with the pure-Go
// driver modernc.org/sqlite (no cgo), so each tongban service stays a single static binary.
//
// Open creates the file and applies the numbered SQL migrations embedded from migrations/
// (with github.com/pressly/goose/v3). The Store implements storage.Storage and passes
// storage/storagetest; see storage/internal/sqlstore for how records are represented and how
// single use is made atomic.
//
// One file serves one process well. Several processes may open the same file (busy_timeout
// makes them take turns), but replicas behind a load balancer need storage/postgres.
package sqlite
