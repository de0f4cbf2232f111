package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/tongban/tongban/storage"
)

// App lifecycle columns of clients (migrations 00014 and 00020), in lifecycleArgs order.
const (
	lifecycleColumns = `status, department, logo_uri, review_note, pending_change,
	registration_token_hash, previous_secret_hash, previous_secret_expires_at, jwks, updated_at,
	tokens_not_before`
	lifecyclePlaceholders = `?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?`
	lifecycleSet          = `status = ?, department = ?, logo_uri = ?, review_note = ?, pending_change = ?,
	registration_token_hash = ?, previous_secret_hash = ?, previous_secret_expires_at = ?, jwks = ?, updated_at = ?,
	tokens_not_before = ?`
)

type lifecycleRow struct {
	Status                  string `db:"status"`
	Department              string `db:"department"`
	LogoURI                 string `db:"logo_uri"`
	ReviewNote              string `db:"review_note"`
	PendingChange           []byte `db:"pending_change"`
	RegistrationTokenHash   []byte `db:"registration_token_hash"`
	PreviousSecretHash      []byte `db:"previous_secret_hash"`
	PreviousSecretExpiresAt int64  `db:"previous_secret_expires_at"`
	JWKS                    []byte `db:"jwks"`
	UpdatedAt               int64  `db:"updated_at"`
	TokensNotBefore         int64  `db:"tokens_not_before"`
}

func (r lifecycleRow) apply(c *storage.Client) {
	c.Status = r.Status
	c.Department = r.Department
	c.LogoURI = r.LogoURI
	c.ReviewNote = r.ReviewNote
	c.PendingChange = fromBlob(r.PendingChange)
	c.RegistrationTokenHash = fromBlob(r.RegistrationTokenHash)
	c.PreviousSecretHash = fromBlob(r.PreviousSecretHash)
	c.PreviousSecretExpiresAt = fromOptMicros(r.PreviousSecretExpiresAt)
	c.JWKS = fromBlob(r.JWKS)
	c.UpdatedAt = fromOptMicros(r.UpdatedAt)
	c.TokensNotBefore = fromOptMicros(r.TokensNotBefore)
}

func lifecycleArgs(c storage.Client) []any {
	return []any{c.Status, c.Department, c.LogoURI, c.ReviewNote, blob(c.PendingChange),
		blob(c.RegistrationTokenHash), blob(c.PreviousSecretHash), optMicros(c.PreviousSecretExpiresAt),
		blob(c.JWKS), optMicros(c.UpdatedAt), optMicros(c.TokensNotBefore)}
}

// maxClientPage bounds ListClientsPage's limit.
const maxClientPage = 1000

// ListClientsPage returns one keyset page of clients ordered by ID (primary key; the
// department and status filters use the (department, id) and (status, id) indexes).
func (s *Store) ListClientsPage(ctx context.Context, q storage.ClientQuery) ([]storage.Client, error) {
	const op = "list clients page"
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, maxClientPage)
	query := `SELECT ` + clientColumns + ` FROM clients WHERE id > ?`
	args := []any{q.After}
	if q.Department != "" {
		query += ` AND department = ?`
		args = append(args, q.Department)
	}
	switch q.Status {
	case "":
	case storage.ClientPublished:
		query += ` AND status IN ('', 'published')`
	default:
		query += ` AND status = ?`
		args = append(args, q.Status)
	}
	query += ` ORDER BY id LIMIT ?`
	args = append(args, limit)
	var rows []clientRow
	if err := s.reader(ctx).SelectContext(ctx, &rows, s.q(query), args...); err != nil {
		return nil, s.wrap(op, err)
	}
	out := make([]storage.Client, 0, len(rows))
	for _, r := range rows {
		c, err := r.client()
		if err != nil {
			return nil, s.wrap(op, err)
		}
		out = append(out, c)
	}
	return out, nil
}

type iatRow struct {
	Hash       []byte `db:"hash"`
	Department string `db:"department"`
	CreatedBy  string `db:"created_by"`
	CreatedAt  int64  `db:"created_at"`
	ExpiresAt  int64  `db:"expires_at"`
	UsesLeft   int    `db:"uses_left"`
}

// CreateInitialAccessToken stores t; ErrConflict when its hash exists.
func (s *Store) CreateInitialAccessToken(ctx context.Context, t storage.InitialAccessToken) error {
	_, err := s.exec(ctx, "create initial access token", `INSERT INTO initial_access_tokens
		(hash, department, created_by, created_at, expires_at, uses_left) VALUES (?, ?, ?, ?, ?, ?)`,
		t.Hash, t.Department, t.CreatedBy, micros(t.CreatedAt), micros(t.ExpiresAt), t.UsesLeft)
	return err
}

// UseInitialAccessToken spends one use of the token in one transaction: the row is read for
// update, checked and decremented.
func (s *Store) UseInitialAccessToken(ctx context.Context, hash []byte, now time.Time) (storage.InitialAccessToken, error) {
	const op = "use initial access token"
	var out storage.InitialAccessToken
	err := s.inTx(ctx, op, func(tx *sqlx.Tx) error {
		var r iatRow
		err := tx.GetContext(ctx, &r, s.q(`SELECT hash, department, created_by, created_at, expires_at, uses_left
			FROM initial_access_tokens WHERE hash = ?`+s.d.ForUpdate), hash)
		if errors.Is(err, sql.ErrNoRows) {
			return s.fail(op, storage.ErrNotFound)
		}
		if err != nil {
			return s.wrap(op, err)
		}
		if micros(now) >= r.ExpiresAt {
			return s.fail(op, storage.ErrExpired)
		}
		if r.UsesLeft <= 0 {
			return s.fail(op, storage.ErrAlreadyUsed)
		}
		res, err := tx.ExecContext(ctx, s.q(`UPDATE initial_access_tokens SET uses_left = uses_left - 1
			WHERE hash = ? AND uses_left > 0`), hash)
		if err != nil {
			return s.wrap(op, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return s.wrap(op, err)
		} else if n != 1 {
			return s.fail(op, storage.ErrAlreadyUsed)
		}
		out = storage.InitialAccessToken{Hash: fromBlob(r.Hash), Department: r.Department, CreatedBy: r.CreatedBy,
			CreatedAt: fromMicros(r.CreatedAt), ExpiresAt: fromMicros(r.ExpiresAt), UsesLeft: r.UsesLeft}
		return nil
	})
	return out, err
}

// PurgeInitialAccessTokens deletes the tokens that expired before t; returns how many.
func (s *Store) PurgeInitialAccessTokens(ctx context.Context, before time.Time) (int64, error) {
	return s.exec(ctx, "purge initial access tokens", `DELETE FROM initial_access_tokens WHERE expires_at < ?`, micros(before))
}

// RevokeClientGrants marks the client's active token records inactive and puts their grants
// on the revoked-grant list, in one transaction.
func (s *Store) RevokeClientGrants(ctx context.Context, clientID string) (int64, error) {
	const op = "revoke client grants"
	var n int64
	err := s.inTx(ctx, op, func(tx *sqlx.Tx) error {
		var grants []struct {
			RequestID string `db:"request_id"`
			ExpiresAt int64  `db:"expires_at"`
		}
		if err := tx.SelectContext(ctx, &grants, s.q(`SELECT request_id, MAX(expires_at) AS expires_at FROM tokens
			WHERE client_id = ? AND active = ? GROUP BY request_id ORDER BY request_id`), clientID, true); err != nil {
			return s.wrap(op, err)
		}
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE tokens SET active = ? WHERE client_id = ? AND active = ?`),
			false, clientID, true); err != nil {
			return s.wrap(op, err)
		}
		for _, g := range grants {
			if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO grant_revocations (request_id, below, expires_at) VALUES (?, ?, ?)
				ON CONFLICT (request_id) DO UPDATE SET below = excluded.below,
				expires_at = CASE WHEN excluded.expires_at > grant_revocations.expires_at THEN excluded.expires_at ELSE grant_revocations.expires_at END`),
				g.RequestID, storage.RevokedAll, g.ExpiresAt); err != nil {
				return s.wrap(op, err)
			}
		}
		n = int64(len(grants))
		return nil
	})
	return n, err
}
