// Package sqlstore implements storage.Storage once, over sqlx, for every SQL dialect tongban
// supports. storage/sqlite and storage/postgres are thin packages that open the database, run
// their own embedded migrations and hand sqlstore a Dialect: the bind-variable style, how to
// recognise unique and foreign-key violations, and the few statements that differ.
//
// Representation, the same in every dialect:
//   - times are BIGINT Unix microseconds (UTC). Writes truncate to the microsecond; reads
//     return UTC. Optional times (*time.Time) are NULL when nil.
//   - string lists are JSON text: nil is stored as "null" and read back as nil, an empty
//     list as "[]" and read back as an empty, non-nil slice.
//   - byte slices are BLOB/BYTEA; an empty slice is stored as NULL and read back as nil (the
//     record types use nil for "none", and NULL keeps optional unique indexes such as the
//     phone index free of collisions between people who have none).
//
// Single use is one conditional statement: InvalidateToken is
// UPDATE … SET active = false WHERE … AND active, UseNonce is
// INSERT … ON CONFLICT DO NOTHING. Whoever changes the row wins; everyone else sees zero rows
// affected. This holds across connections, processes and replicas because the database
// serialises writes to one row.
//
// Updaters (UpdatePerson, UpdateClient) run in one transaction: BEGIN IMMEDIATE on SQLite (the
// write pool has one connection), SELECT … FOR UPDATE on PostgreSQL. The function passed to an
// updater must not call the store: on SQLite the only write connection is held by the
// transaction, on PostgreSQL the row lock is.
package sqlstore
