package sqlstore

import "context"

// FindUpstreamSessions implements storage.UpstreamLogout.
func (s *Store) FindUpstreamSessions(ctx context.Context, upstreamID, subject, sid string) ([]string, error) {
	out := []string{}
	if subject == "" && sid == "" {
		return out, nil
	}
	q := `SELECT session_id FROM upstream_sessions WHERE upstream_id = ?`
	args := []any{upstreamID}
	if subject != "" {
		q += ` AND subject = ?`
		args = append(args, subject)
	}
	if sid != "" {
		q += ` AND upstream_sid = ?`
		args = append(args, sid)
	}
	if err := s.reader(ctx).SelectContext(ctx, &out, s.q(q+` ORDER BY session_id`), args...); err != nil {
		return nil, s.wrap("find upstream sessions", err)
	}
	return out, nil
}
