// Package open picks and opens the storage backend named by a DSN, for cmd/idp and
// cmd/wallet (DESIGN §1: only cmd/* picks the backend).
package open
