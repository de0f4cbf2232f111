package open

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/tongban/tongban/storage"
	"github.com/tongban/tongban/storage/postgres"
	"github.com/tongban/tongban/storage/sqlite"
)

// Backend names what a database address selects.
type Backend string

// The backends an address selects.
const (
	SQLite   Backend = "sqlite"
	Postgres Backend = "postgres"
)

// Parse returns the backend dsn selects and what that backend's Open takes. Schemes and the
// sqlite prefix are matched without regard to case (RFC 3986 §3.1):
//   - "postgres://…" and "postgresql://…" select PostgreSQL; the URL is passed on whole, with
//     its scheme in lower case (pgx recognises only that form), so "POSTGRES://db/x" works.
//   - Anything else is the path of an SQLite file, with an optional "sqlite:" or "sqlite://"
//     prefix: "sqlite:data/idp.db" is data/idp.db, "sqlite:///var/lib/idp.db" is
//     /var/lib/idp.db. A PostgreSQL keyword/value string ("host=… dbname=…") is an SQLite
//     path too: give PostgreSQL as a URL.
func Parse(dsn string) (Backend, string) {
	for _, scheme := range []string{"postgres://", "postgresql://"} {
		if hasPrefixFold(dsn, scheme) {
			return Postgres, scheme + dsn[len(scheme):]
		}
	}
	for _, prefix := range []string{"sqlite://", "sqlite:"} {
		if hasPrefixFold(dsn, prefix) {
			return SQLite, dsn[len(prefix):]
		}
	}
	return SQLite, dsn
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// IsPostgres reports whether dsn selects PostgreSQL (Parse).
func IsPostgres(dsn string) bool {
	b, _ := Parse(dsn)
	return b == Postgres
}

// Redact returns dsn as it may appear in logs and messages: a PostgreSQL URL with its
// password replaced by "xxxxx" (url.URL.Redacted), or "postgres://(unparsable URL)" when it
// does not parse; an SQLite address unchanged.
func Redact(dsn string) string {
	if !IsPostgres(dsn) {
		return dsn
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "postgres://(unparsable URL)"
	}
	return u.Redacted()
}

// Open opens the backend dsn selects (Parse) and applies its migrations: postgres.Open, or
// sqlite.Open, which creates a missing directory with mode 0700 and the database file with
// mode 0600. The caller closes the returned storage.
//
// Errors read "open database ADDRESS: CAUSE", with the address redacted (Redact) and the
// password, should the driver quote it, replaced by "xxxxx" in the cause's text; they wrap the
// backend's error (errors.Is, errors.As see it).
func Open(ctx context.Context, dsn string) (storage.Storage, error) {
	backend, target := Parse(dsn)
	if backend == Postgres {
		s, err := postgres.Open(ctx, target)
		if err != nil {
			return nil, fmt.Errorf("open database %s: %w", Redact(dsn), redactErr(err, dsn))
		}
		return s, nil
	}
	s, err := sqlite.Open(ctx, target)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", dsn, err)
	}
	return s, nil
}

// redactErr keeps a password that a driver error may quote out of the message; the result
// still wraps err.
func redactErr(err error, dsn string) error {
	u, perr := url.Parse(dsn)
	if perr != nil || u.User == nil {
		return err
	}
	pw, ok := u.User.Password()
	if !ok || pw == "" || !strings.Contains(err.Error(), pw) {
		return err
	}
	return &redactedError{msg: strings.ReplaceAll(err.Error(), pw, "xxxxx"), err: err}
}

// redactedError is err with a message that does not show the password.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
