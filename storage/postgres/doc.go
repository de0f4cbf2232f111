// Package postgres is the production storage backend: PostgreSQL (or a PostgreSQL-compatible
// database) through the pgx database/sql driver, shared by any number of replicas.
//
// Open applies the numbered SQL migrations embedded from migrations/ (with
// github.com/pressly/goose/v3) under an advisory lock, so replicas may start together. The
// Store implements storage.Storage and passes storage/storagetest; see
// storage/internal/sqlstore for how records are represented and how single use is made
// atomic across replicas.
//
// The tests run the conformance suite when TONGBAN_TEST_POSTGRES names a database, e.g.
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable; each test works in a schema of its
// own, dropped afterwards.
package postgres
