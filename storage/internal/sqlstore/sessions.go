package sqlstore

import (
	"context"
	"time"

	"github.com/tongban/tongban/storage"
)

const loginSessionColumns = `id, person_id, auth_time, acr, amr, created_at, expires_at, device, client_ip, last_seen`

type loginSessionRow struct {
	ID        string `db:"id"`
	PersonID  string `db:"person_id"`
	AuthTime  int64  `db:"auth_time"`
	ACR       string `db:"acr"`
	AMR       string `db:"amr"`
	CreatedAt int64  `db:"created_at"`
	ExpiresAt int64  `db:"expires_at"`
	Device    string `db:"device"`
	ClientIP  string `db:"client_ip"`
	LastSeen  int64  `db:"last_seen"`
}

// CreateLoginSession inserts ls; ErrConflict when the ID exists. PersonID is not checked
// against people: the wallet keeps sessions for subjects of the identity provider.
func (s *Store) CreateLoginSession(ctx context.Context, ls storage.LoginSession) error {
	_, err := s.exec(ctx, "create login session", `INSERT INTO login_sessions (`+loginSessionColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		ls.ID, ls.PersonID, micros(ls.AuthTime), ls.ACR, list(ls.AMR), micros(ls.CreatedAt), micros(ls.ExpiresAt),
		ls.Device, ls.ClientIP, zeroMicros(ls.LastSeen))
	return err
}

// GetLoginSession returns the session, ErrNotFound, or ErrExpired when now is at or after
// its ExpiresAt.
func (s *Store) GetLoginSession(ctx context.Context, id string, now time.Time) (storage.LoginSession, error) {
	const op = "get login session"
	var r loginSessionRow
	if err := s.get(ctx, op, &r, `SELECT `+loginSessionColumns+` FROM login_sessions WHERE id = ?`, id); err != nil {
		return storage.LoginSession{}, err
	}
	ls, err := r.session()
	if err != nil {
		return storage.LoginSession{}, s.wrap(op, err)
	}
	if !now.Before(ls.ExpiresAt) {
		return storage.LoginSession{}, s.fail(op, storage.ErrExpired)
	}
	return ls, nil
}

// DeleteLoginSession removes it; ErrNotFound when missing.
func (s *Store) DeleteLoginSession(ctx context.Context, id string) error {
	return s.execOne(ctx, "delete login session", `DELETE FROM login_sessions WHERE id = ?`, id)
}

// DeleteLoginSessionsForPerson ends every session of a person and returns how many.
func (s *Store) DeleteLoginSessionsForPerson(ctx context.Context, personID string) (int64, error) {
	return s.exec(ctx, "delete login sessions of person", `DELETE FROM login_sessions WHERE person_id = ?`, personID)
}

// DeleteExpiredLoginSessions removes sessions whose expiry is before t and returns how many.
// A session expiring exactly at t is kept (GetLoginSession already refuses it).
func (s *Store) DeleteExpiredLoginSessions(ctx context.Context, before time.Time) (int64, error) {
	return s.exec(ctx, "delete expired login sessions", `DELETE FROM login_sessions WHERE expires_at < ?`, micros(before))
}

type consentRow struct {
	PersonID  string `db:"person_id"`
	ClientID  string `db:"client_id"`
	Scopes    string `db:"scopes"`
	GrantedAt int64  `db:"granted_at"`
}

// SaveConsent inserts or replaces the consent for (PersonID, ClientID). ErrNotFound when the
// person or the client does not exist.
func (s *Store) SaveConsent(ctx context.Context, c storage.Consent) error {
	_, err := s.exec(ctx, "save consent", `INSERT INTO consents (person_id, client_id, scopes, granted_at)
		VALUES (?, ?, ?, ?)
		ON CONFLICT (person_id, client_id) DO UPDATE SET scopes = excluded.scopes, granted_at = excluded.granted_at`,
		c.PersonID, c.ClientID, list(c.Scopes), micros(c.GrantedAt))
	return err
}

// GetConsent returns the consent or ErrNotFound.
func (s *Store) GetConsent(ctx context.Context, personID, clientID string) (storage.Consent, error) {
	const op = "get consent"
	var r consentRow
	if err := s.get(ctx, op, &r, `SELECT person_id, client_id, scopes, granted_at FROM consents
		WHERE person_id = ? AND client_id = ?`, personID, clientID); err != nil {
		return storage.Consent{}, err
	}
	scopes, err := fromList(r.Scopes)
	if err != nil {
		return storage.Consent{}, s.wrap(op, err)
	}
	return storage.Consent{PersonID: r.PersonID, ClientID: r.ClientID, Scopes: scopes, GrantedAt: fromMicros(r.GrantedAt)}, nil
}

// DeleteConsent removes it; ErrNotFound when missing.
func (s *Store) DeleteConsent(ctx context.Context, personID, clientID string) error {
	return s.execOne(ctx, "delete consent", `DELETE FROM consents WHERE person_id = ? AND client_id = ?`,
		personID, clientID)
}
