package sqlstore

import (
	"context"
	"database/sql"

	"github.com/tongban/tongban/storage"
)

const fedSubColumns = `entity_id, jwks, entity_types, metadata_policy, constraints, created_at, updated_at,
	created_by, updated_by`

type fedSubRow struct {
	EntityID       string `db:"entity_id"`
	JWKS           string `db:"jwks"`
	EntityTypes    string `db:"entity_types"`
	MetadataPolicy string `db:"metadata_policy"`
	Constraints    string `db:"constraints"`
	CreatedAt      int64  `db:"created_at"`
	UpdatedAt      int64  `db:"updated_at"`
	CreatedBy      string `db:"created_by"`
	UpdatedBy      string `db:"updated_by"`
}

// optJSON reads an optional JSON document stored as text ("" for none).
func optJSON(s string) []byte {
	if s == "" {
		return nil
	}
	return []byte(s)
}

func (r fedSubRow) subordinate() (storage.FederationSubordinate, error) {
	types, err := fromList(r.EntityTypes)
	if err != nil {
		return storage.FederationSubordinate{}, err
	}
	return storage.FederationSubordinate{EntityID: r.EntityID, JWKS: []byte(r.JWKS), EntityTypes: types,
		MetadataPolicy: optJSON(r.MetadataPolicy), Constraints: optJSON(r.Constraints),
		CreatedAt: fromMicros(r.CreatedAt), UpdatedAt: fromMicros(r.UpdatedAt), CreatedBy: r.CreatedBy, UpdatedBy: r.UpdatedBy}, nil
}

// CreateFederationSubordinate inserts s; ErrConflict when the entity ID exists.
func (s *Store) CreateFederationSubordinate(ctx context.Context, f storage.FederationSubordinate) error {
	_, err := s.exec(ctx, "create federation subordinate", `INSERT INTO federation_subordinates (`+fedSubColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, f.EntityID, string(f.JWKS), list(f.EntityTypes), string(f.MetadataPolicy),
		string(f.Constraints), micros(f.CreatedAt), micros(f.UpdatedAt), f.CreatedBy, f.UpdatedBy)
	return err
}

// GetFederationSubordinate returns the subordinate or ErrNotFound.
func (s *Store) GetFederationSubordinate(ctx context.Context, entityID string) (storage.FederationSubordinate, error) {
	var r fedSubRow
	if err := s.get(ctx, "get federation subordinate", &r, `SELECT `+fedSubColumns+` FROM federation_subordinates WHERE entity_id = ?`, entityID); err != nil {
		return storage.FederationSubordinate{}, err
	}
	f, err := r.subordinate()
	if err != nil {
		return storage.FederationSubordinate{}, s.wrap("get federation subordinate", err)
	}
	return f, nil
}

// ListFederationSubordinates returns every subordinate ordered by entity ID.
func (s *Store) ListFederationSubordinates(ctx context.Context) ([]storage.FederationSubordinate, error) {
	var rows []fedSubRow
	if err := s.reader(ctx).SelectContext(ctx, &rows, s.q(`SELECT `+fedSubColumns+` FROM federation_subordinates ORDER BY entity_id`)); err != nil {
		return nil, s.wrap("list federation subordinates", err)
	}
	out := make([]storage.FederationSubordinate, 0, len(rows))
	for _, r := range rows {
		f, err := r.subordinate()
		if err != nil {
			return nil, s.wrap("list federation subordinates", err)
		}
		out = append(out, f)
	}
	return out, nil
}

// DeleteFederationSubordinate removes it; ErrNotFound when missing.
func (s *Store) DeleteFederationSubordinate(ctx context.Context, entityID string) error {
	return s.execOne(ctx, "delete federation subordinate", `DELETE FROM federation_subordinates WHERE entity_id = ?`, entityID)
}

type fedAnchorRow struct {
	EntityID  string `db:"entity_id"`
	JWKS      string `db:"jwks"`
	CreatedAt int64  `db:"created_at"`
	CreatedBy string `db:"created_by"`
}

// CreateFederationAnchor inserts a; ErrConflict when the entity ID exists.
func (s *Store) CreateFederationAnchor(ctx context.Context, a storage.FederationAnchor) error {
	_, err := s.exec(ctx, "create federation anchor", `INSERT INTO federation_anchors (entity_id, jwks, created_at, created_by)
		VALUES (?, ?, ?, ?)`, a.EntityID, string(a.JWKS), micros(a.CreatedAt), a.CreatedBy)
	return err
}

// ListFederationAnchors returns every anchor ordered by entity ID.
func (s *Store) ListFederationAnchors(ctx context.Context) ([]storage.FederationAnchor, error) {
	var rows []fedAnchorRow
	if err := s.reader(ctx).SelectContext(ctx, &rows, s.q(`SELECT entity_id, jwks, created_at, created_by
		FROM federation_anchors ORDER BY entity_id`)); err != nil {
		return nil, s.wrap("list federation anchors", err)
	}
	out := make([]storage.FederationAnchor, 0, len(rows))
	for _, r := range rows {
		out = append(out, storage.FederationAnchor{EntityID: r.EntityID, JWKS: []byte(r.JWKS),
			CreatedAt: fromMicros(r.CreatedAt), CreatedBy: r.CreatedBy})
	}
	return out, nil
}

// DeleteFederationAnchor removes it; ErrNotFound when missing.
func (s *Store) DeleteFederationAnchor(ctx context.Context, entityID string) error {
	return s.execOne(ctx, "delete federation anchor", `DELETE FROM federation_anchors WHERE entity_id = ?`, entityID)
}

type fedHintRow struct {
	EntityID  string `db:"entity_id"`
	CreatedAt int64  `db:"created_at"`
	CreatedBy string `db:"created_by"`
}

// CreateFederationAuthorityHint inserts h; ErrConflict when the entity ID exists.
func (s *Store) CreateFederationAuthorityHint(ctx context.Context, h storage.FederationAuthorityHint) error {
	_, err := s.exec(ctx, "create federation authority hint", `INSERT INTO federation_authority_hints (entity_id, created_at, created_by)
		VALUES (?, ?, ?)`, h.EntityID, micros(h.CreatedAt), h.CreatedBy)
	return err
}

// ListFederationAuthorityHints returns the hints ordered by CreatedAt, then entity ID.
func (s *Store) ListFederationAuthorityHints(ctx context.Context) ([]storage.FederationAuthorityHint, error) {
	var rows []fedHintRow
	if err := s.reader(ctx).SelectContext(ctx, &rows, s.q(`SELECT entity_id, created_at, created_by
		FROM federation_authority_hints ORDER BY created_at, entity_id`)); err != nil {
		return nil, s.wrap("list federation authority hints", err)
	}
	out := make([]storage.FederationAuthorityHint, 0, len(rows))
	for _, r := range rows {
		out = append(out, storage.FederationAuthorityHint{EntityID: r.EntityID, CreatedAt: fromMicros(r.CreatedAt), CreatedBy: r.CreatedBy})
	}
	return out, nil
}

// DeleteFederationAuthorityHint removes it; ErrNotFound when missing.
func (s *Store) DeleteFederationAuthorityHint(ctx context.Context, entityID string) error {
	return s.execOne(ctx, "delete federation authority hint", `DELETE FROM federation_authority_hints WHERE entity_id = ?`, entityID)
}

type issuedMarkRow struct {
	ID        string        `db:"id"`
	Type      string        `db:"trust_mark_type"`
	Subject   string        `db:"subject"`
	IssuedAt  int64         `db:"issued_at"`
	ExpiresAt sql.NullInt64 `db:"expires_at"`
	CreatedBy string        `db:"created_by"`
}

// CreateIssuedTrustMark records m; ErrConflict when the ID exists.
func (s *Store) CreateIssuedTrustMark(ctx context.Context, m storage.IssuedTrustMark) error {
	_, err := s.exec(ctx, "create issued trust mark", `INSERT INTO federation_issued_trust_marks
		(id, trust_mark_type, subject, issued_at, expires_at, created_by) VALUES (?, ?, ?, ?, ?, ?)`,
		m.ID, m.Type, m.Subject, micros(m.IssuedAt), nullMicros(m.ExpiresAt), m.CreatedBy)
	return err
}

// ListIssuedTrustMarks returns every issued mark ordered by IssuedAt, then ID.
func (s *Store) ListIssuedTrustMarks(ctx context.Context) ([]storage.IssuedTrustMark, error) {
	var rows []issuedMarkRow
	if err := s.reader(ctx).SelectContext(ctx, &rows, s.q(`SELECT id, trust_mark_type, subject, issued_at, expires_at, created_by
		FROM federation_issued_trust_marks ORDER BY issued_at, id`)); err != nil {
		return nil, s.wrap("list issued trust marks", err)
	}
	out := make([]storage.IssuedTrustMark, 0, len(rows))
	for _, r := range rows {
		out = append(out, storage.IssuedTrustMark{ID: r.ID, Type: r.Type, Subject: r.Subject, IssuedAt: fromMicros(r.IssuedAt),
			ExpiresAt: fromNullMicros(r.ExpiresAt), CreatedBy: r.CreatedBy})
	}
	return out, nil
}

type heldMarkRow struct {
	Type      string `db:"trust_mark_type"`
	TrustMark string `db:"trust_mark"`
	AddedAt   int64  `db:"added_at"`
	AddedBy   string `db:"added_by"`
}

// PutHeldTrustMark inserts or replaces the held mark of m.Type.
func (s *Store) PutHeldTrustMark(ctx context.Context, m storage.HeldTrustMark) error {
	_, err := s.exec(ctx, "put held trust mark", `INSERT INTO federation_held_trust_marks (trust_mark_type, trust_mark, added_at, added_by)
		VALUES (?, ?, ?, ?) ON CONFLICT (trust_mark_type) DO UPDATE SET trust_mark = excluded.trust_mark,
		added_at = excluded.added_at, added_by = excluded.added_by`, m.Type, m.TrustMark, micros(m.AddedAt), m.AddedBy)
	return err
}

// ListHeldTrustMarks returns the held marks ordered by type.
func (s *Store) ListHeldTrustMarks(ctx context.Context) ([]storage.HeldTrustMark, error) {
	var rows []heldMarkRow
	if err := s.reader(ctx).SelectContext(ctx, &rows, s.q(`SELECT trust_mark_type, trust_mark, added_at, added_by
		FROM federation_held_trust_marks ORDER BY trust_mark_type`)); err != nil {
		return nil, s.wrap("list held trust marks", err)
	}
	out := make([]storage.HeldTrustMark, 0, len(rows))
	for _, r := range rows {
		out = append(out, storage.HeldTrustMark{Type: r.Type, TrustMark: r.TrustMark, AddedAt: fromMicros(r.AddedAt), AddedBy: r.AddedBy})
	}
	return out, nil
}

// DeleteHeldTrustMark removes the held mark of typ; ErrNotFound when missing.
func (s *Store) DeleteHeldTrustMark(ctx context.Context, typ string) error {
	return s.execOne(ctx, "delete held trust mark", `DELETE FROM federation_held_trust_marks WHERE trust_mark_type = ?`, typ)
}
