package sqlstore

import "context"

// NonceUsed reports whether (namespace, value) is in the nonces table: one indexed read on
// the primary key (namespace, value).
func (s *Store) NonceUsed(ctx context.Context, namespace, value string) (bool, error) {
	var n int
	if err := s.get(ctx, "check nonce", &n, `SELECT COUNT(*) FROM nonces WHERE namespace = ? AND value = ?`,
		namespace, value); err != nil {
		return false, err
	}
	return n > 0, nil
}
