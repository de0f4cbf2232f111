// Package storage defines the persistence interfaces of tongban's identity provider and wallet,
// with tongban's own record types and sentinel errors. It imports nothing else of tongban's.
//
// Backends live in storage/sqlite (embedded, pure Go, the default) and storage/postgres
// (production, multi-replica); storage/storagetest is the conformance suite both pass.
// Single use (authorization codes, refresh tokens, nonces) is atomic in the database, never in
// process memory, so it holds across replicas (DESIGN §6).
package storage
