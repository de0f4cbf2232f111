package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/tongban/tongban/storage"
)

const upstreamColumns = `id, issuer, client_id, client_secret_sealed, scopes, id_number_claim,
	trusted_id_numbers, allow_jit, silent_sso, acr_map, label_zh, label_en, created_at, updated_at,
	federation`

type upstreamRow struct {
	ID                 string `db:"id"`
	Issuer             string `db:"issuer"`
	ClientID           string `db:"client_id"`
	ClientSecretSealed []byte `db:"client_secret_sealed"`
	Scopes             string `db:"scopes"`
	IDNumberClaim      string `db:"id_number_claim"`
	TrustedIDNumbers   bool   `db:"trusted_id_numbers"`
	AllowJIT           bool   `db:"allow_jit"`
	SilentSSO          bool   `db:"silent_sso"`
	ACRMap             string `db:"acr_map"`
	LabelZH            string `db:"label_zh"`
	LabelEN            string `db:"label_en"`
	CreatedAt          int64  `db:"created_at"`
	UpdatedAt          int64  `db:"updated_at"`
	Federation         bool   `db:"federation"`
}

func (r upstreamRow) upstream() (storage.Upstream, error) {
	scopes, err := fromList(r.Scopes)
	if err != nil {
		return storage.Upstream{}, err
	}
	var acr map[string]string
	if err := json.Unmarshal([]byte(r.ACRMap), &acr); err != nil {
		return storage.Upstream{}, fmt.Errorf("malformed acr map: %w", err)
	}
	if len(acr) == 0 {
		acr = nil
	}
	return storage.Upstream{ID: r.ID, Issuer: r.Issuer, ClientID: r.ClientID,
		ClientSecretSealed: fromBlob(r.ClientSecretSealed), Scopes: scopes, IDNumberClaim: r.IDNumberClaim,
		TrustedIDNumbers: r.TrustedIDNumbers, AllowJIT: r.AllowJIT, SilentSSO: r.SilentSSO, ACRMap: acr,
		LabelZH: r.LabelZH, LabelEN: r.LabelEN, CreatedAt: fromMicros(r.CreatedAt), UpdatedAt: fromMicros(r.UpdatedAt),
		Federation: r.Federation}, nil
}

// CreateUpstream inserts u; ErrConflict when the ID exists.
func (s *Store) CreateUpstream(ctx context.Context, u storage.Upstream) error {
	acr := u.ACRMap
	if acr == nil {
		acr = map[string]string{}
	}
	acrJSON, _ := json.Marshal(acr) // a map[string]string always marshals
	// client_secret_sealed is NOT NULL; a federation upstream has no secret.
	_, err := s.exec(ctx, "create upstream", `INSERT INTO upstreams (`+upstreamColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		u.ID, u.Issuer, u.ClientID, nonNilBlob(u.ClientSecretSealed), list(u.Scopes), u.IDNumberClaim,
		u.TrustedIDNumbers, u.AllowJIT, u.SilentSSO, string(acrJSON), u.LabelZH, u.LabelEN,
		micros(u.CreatedAt), micros(u.UpdatedAt), u.Federation)
	return err
}

// GetUpstream returns the upstream or ErrNotFound.
func (s *Store) GetUpstream(ctx context.Context, id string) (storage.Upstream, error) {
	var r upstreamRow
	if err := s.get(ctx, "get upstream", &r, `SELECT `+upstreamColumns+` FROM upstreams WHERE id = ?`, id); err != nil {
		return storage.Upstream{}, err
	}
	u, err := r.upstream()
	if err != nil {
		return storage.Upstream{}, s.wrap("get upstream", err)
	}
	return u, nil
}

// ListUpstreams returns every upstream ordered by ID.
func (s *Store) ListUpstreams(ctx context.Context) ([]storage.Upstream, error) {
	var rows []upstreamRow
	if err := s.reader(ctx).SelectContext(ctx, &rows, s.q(`SELECT `+upstreamColumns+` FROM upstreams ORDER BY id`)); err != nil {
		return nil, s.wrap("list upstreams", err)
	}
	out := make([]storage.Upstream, 0, len(rows))
	for _, r := range rows {
		u, err := r.upstream()
		if err != nil {
			return nil, s.wrap("list upstreams", err)
		}
		out = append(out, u)
	}
	return out, nil
}

// DeleteUpstream removes the upstream and (ON DELETE CASCADE) its links.
func (s *Store) DeleteUpstream(ctx context.Context, id string) error {
	return s.execOne(ctx, "delete upstream", `DELETE FROM upstreams WHERE id = ?`, id)
}

const upstreamLinkColumns = `upstream_id, subject, person_id, created_at, last_used_at`

type upstreamLinkRow struct {
	UpstreamID string `db:"upstream_id"`
	Subject    string `db:"subject"`
	PersonID   string `db:"person_id"`
	CreatedAt  int64  `db:"created_at"`
	LastUsedAt int64  `db:"last_used_at"`
}

func (r upstreamLinkRow) link() storage.UpstreamLink {
	return storage.UpstreamLink{UpstreamID: r.UpstreamID, Subject: r.Subject, PersonID: r.PersonID,
		CreatedAt: fromMicros(r.CreatedAt), LastUsedAt: fromMicros(r.LastUsedAt)}
}

// CreateUpstreamLink inserts l; ErrConflict when linked already, ErrNotFound when the upstream
// or the person is missing.
func (s *Store) CreateUpstreamLink(ctx context.Context, l storage.UpstreamLink) error {
	_, err := s.exec(ctx, "create upstream link", `INSERT INTO upstream_links (`+upstreamLinkColumns+`)
		VALUES (?, ?, ?, ?, ?)`, l.UpstreamID, l.Subject, l.PersonID, micros(l.CreatedAt), micros(l.LastUsedAt))
	return err
}

// GetUpstreamLink returns the link or ErrNotFound.
func (s *Store) GetUpstreamLink(ctx context.Context, upstreamID, subject string) (storage.UpstreamLink, error) {
	var r upstreamLinkRow
	if err := s.get(ctx, "get upstream link", &r, `SELECT `+upstreamLinkColumns+` FROM upstream_links
		WHERE upstream_id = ? AND subject = ?`, upstreamID, subject); err != nil {
		return storage.UpstreamLink{}, err
	}
	return r.link(), nil
}

// ListUpstreamLinks returns the person's links ordered by CreatedAt, UpstreamID, Subject.
func (s *Store) ListUpstreamLinks(ctx context.Context, personID string) ([]storage.UpstreamLink, error) {
	var rows []upstreamLinkRow
	if err := s.reader(ctx).SelectContext(ctx, &rows, s.q(`SELECT `+upstreamLinkColumns+` FROM upstream_links
		WHERE person_id = ? ORDER BY created_at, upstream_id, subject`), personID); err != nil {
		return nil, s.wrap("list upstream links", err)
	}
	out := make([]storage.UpstreamLink, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.link())
	}
	return out, nil
}

// TouchUpstreamLink sets the link's last use; ErrNotFound when missing.
func (s *Store) TouchUpstreamLink(ctx context.Context, upstreamID, subject string, at time.Time) error {
	return s.execOne(ctx, "touch upstream link", `UPDATE upstream_links SET last_used_at = ?
		WHERE upstream_id = ? AND subject = ?`, micros(at), upstreamID, subject)
}

// DeleteUpstreamLink removes the link; ErrNotFound when missing.
func (s *Store) DeleteUpstreamLink(ctx context.Context, upstreamID, subject string) error {
	return s.execOne(ctx, "delete upstream link", `DELETE FROM upstream_links WHERE upstream_id = ? AND subject = ?`,
		upstreamID, subject)
}

// CreateUpstreamSession inserts us; ErrConflict when the session has one, ErrNotFound when the
// session or the upstream is missing.
func (s *Store) CreateUpstreamSession(ctx context.Context, us storage.UpstreamSession) error {
	_, err := s.exec(ctx, "create upstream session", `INSERT INTO upstream_sessions (session_id, upstream_id, subject, upstream_sid, created_at)
		VALUES (?, ?, ?, ?, ?)`, us.SessionID, us.UpstreamID, us.Subject, us.UpstreamSID, micros(us.CreatedAt))
	return err
}

// GetUpstreamSession returns the record of the login session or ErrNotFound.
func (s *Store) GetUpstreamSession(ctx context.Context, sessionID string) (storage.UpstreamSession, error) {
	var r struct {
		SessionID  string `db:"session_id"`
		UpstreamID string `db:"upstream_id"`
		Subject    string `db:"subject"`
		SID        string `db:"upstream_sid"`
		CreatedAt  int64  `db:"created_at"`
	}
	if err := s.get(ctx, "get upstream session", &r, `SELECT session_id, upstream_id, subject, upstream_sid, created_at
		FROM upstream_sessions WHERE session_id = ?`, sessionID); err != nil {
		return storage.UpstreamSession{}, err
	}
	return storage.UpstreamSession{SessionID: r.SessionID, UpstreamID: r.UpstreamID, Subject: r.Subject,
		UpstreamSID: r.SID, CreatedAt: fromMicros(r.CreatedAt)}, nil
}
