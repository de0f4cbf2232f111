package sqlstore

import (
	"context"
	"time"

	"github.com/tongban/tongban/storage"
)

// The storage of token exchange policies (storage.ExchangePolicies, migration 00021).

type exchangePolicyRow struct {
	ClientID    string `db:"client_id"`
	Audience    string `db:"audience"`
	Scopes      string `db:"scopes"`
	MaxLifetime int64  `db:"max_lifetime"`
	CreatedAt   int64  `db:"created_at"`
}

const exchangePolicyColumns = `client_id, audience, scopes, max_lifetime, created_at`

func (r exchangePolicyRow) policy() (storage.ExchangePolicy, error) {
	scopes, err := fromList(r.Scopes)
	if err != nil {
		return storage.ExchangePolicy{}, err
	}
	return storage.ExchangePolicy{ClientID: r.ClientID, Audience: r.Audience, Scopes: scopes,
		MaxLifetime: time.Duration(r.MaxLifetime), CreatedAt: fromMicros(r.CreatedAt)}, nil
}

// PutExchangePolicy implements storage.ExchangePolicies with one upsert; a missing client is
// a foreign-key violation, ErrNotFound.
func (s *Store) PutExchangePolicy(ctx context.Context, p storage.ExchangePolicy) error {
	const op = "put exchange policy"
	if p.ClientID == "" || p.Audience == "" || p.MaxLifetime < 0 {
		return s.fail(op, storage.ErrInvalidExchangePolicy)
	}
	_, err := s.exec(ctx, op, `INSERT INTO exchange_policies (`+exchangePolicyColumns+`) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (client_id, audience) DO UPDATE SET scopes = excluded.scopes,
			max_lifetime = excluded.max_lifetime, created_at = excluded.created_at`,
		p.ClientID, p.Audience, list(nonEmpty(p.Scopes)), int64(p.MaxLifetime), micros(p.CreatedAt))
	return err
}

// GetExchangePolicy implements storage.ExchangePolicies.
func (s *Store) GetExchangePolicy(ctx context.Context, clientID, audience string) (storage.ExchangePolicy, error) {
	var r exchangePolicyRow
	if err := s.get(ctx, "get exchange policy", &r, `SELECT `+exchangePolicyColumns+` FROM exchange_policies
		WHERE client_id = ? AND audience = ?`, clientID, audience); err != nil {
		return storage.ExchangePolicy{}, err
	}
	p, err := r.policy()
	if err != nil {
		return storage.ExchangePolicy{}, s.wrap("get exchange policy", err)
	}
	return p, nil
}

// ListExchangePolicies implements storage.ExchangePolicies.
func (s *Store) ListExchangePolicies(ctx context.Context, clientID string) ([]storage.ExchangePolicy, error) {
	const op = "list exchange policies"
	var rows []exchangePolicyRow
	if err := s.reader(ctx).SelectContext(ctx, &rows, s.q(`SELECT `+exchangePolicyColumns+` FROM exchange_policies
		WHERE ? = '' OR client_id = ? ORDER BY client_id, audience`), clientID, clientID); err != nil {
		return nil, s.wrap(op, err)
	}
	out := make([]storage.ExchangePolicy, 0, len(rows))
	for _, r := range rows {
		p, err := r.policy()
		if err != nil {
			return nil, s.wrap(op, err)
		}
		out = append(out, p)
	}
	return out, nil
}

// DeleteExchangePolicy implements storage.ExchangePolicies.
func (s *Store) DeleteExchangePolicy(ctx context.Context, clientID, audience string) error {
	return s.execOne(ctx, "delete exchange policy", `DELETE FROM exchange_policies WHERE client_id = ? AND audience = ?`, clientID, audience)
}
