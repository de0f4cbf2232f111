package sqlstore

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/tongban/tongban/storage"
)

// The storage of legal representatives and agents (storage.Agents, migration 00018).

// SetRepresentative implements storage.Agents with one upsert; a missing person is a
// foreign-key violation, ErrNotFound.
func (s *Store) SetRepresentative(ctx context.Context, companyID, personID string, at time.Time) error {
	_, err := s.exec(ctx, "set representative", `INSERT INTO company_representatives (company_id, person_id, set_at)
		VALUES (?, ?, ?)
		ON CONFLICT (company_id) DO UPDATE SET person_id = excluded.person_id, set_at = excluded.set_at`,
		companyID, personID, micros(at))
	return err
}

// GetRepresentative implements storage.Agents.
func (s *Store) GetRepresentative(ctx context.Context, companyID string) (string, error) {
	var id string
	err := s.get(ctx, "get representative", &id, `SELECT person_id FROM company_representatives WHERE company_id = ?`, companyID)
	return id, err
}

// ListRepresentedCompanies implements storage.Agents.
func (s *Store) ListRepresentedCompanies(ctx context.Context, personID string) ([]string, error) {
	out := []string{}
	if err := s.reader(ctx).SelectContext(ctx, &out, s.q(`SELECT company_id FROM company_representatives WHERE person_id = ?`), personID); err != nil {
		return nil, s.wrap("list represented companies", err)
	}
	slices.Sort(out)
	return out, nil
}

// agentRow is a row of agent_authorisations.
type agentRow struct {
	CompanyID   string `db:"company_id"`
	AgentID     string `db:"agent_id"`
	Clients     string `db:"clients"`
	Scopes      string `db:"scopes"`
	ValidUntil  int64  `db:"valid_until"`
	CreatedAt   int64  `db:"created_at"`
	CreatedBy   string `db:"created_by"`
	WithdrawnAt int64  `db:"withdrawn_at"`
	WithdrawnBy string `db:"withdrawn_by"`
}

const agentColumns = `company_id, agent_id, clients, scopes, valid_until, created_at, created_by, withdrawn_at, withdrawn_by`

func (r agentRow) authorisation() (storage.AgentAuthorisation, error) {
	clients, err := fromList(r.Clients)
	if err != nil {
		return storage.AgentAuthorisation{}, err
	}
	scopes, err := fromList(r.Scopes)
	if err != nil {
		return storage.AgentAuthorisation{}, err
	}
	return storage.AgentAuthorisation{
		CompanyID: r.CompanyID, AgentID: r.AgentID, Clients: clients, Scopes: scopes,
		ValidUntil: fromMicros(r.ValidUntil), CreatedAt: fromMicros(r.CreatedAt), CreatedBy: r.CreatedBy,
		WithdrawnAt: fromZeroMicros(r.WithdrawnAt), WithdrawnBy: r.WithdrawnBy,
	}, nil
}

// nonEmpty is l, or nil when empty (so that empty and nil lists are stored alike).
func nonEmpty(l []string) []string {
	if len(l) == 0 {
		return nil
	}
	return l
}

// PutAgentAuthorisation implements storage.Agents with one upsert.
func (s *Store) PutAgentAuthorisation(ctx context.Context, a storage.AgentAuthorisation) error {
	_, err := s.exec(ctx, "put agent authorisation", `INSERT INTO agent_authorisations (`+agentColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (company_id, agent_id) DO UPDATE SET clients = excluded.clients, scopes = excluded.scopes,
			valid_until = excluded.valid_until, created_at = excluded.created_at, created_by = excluded.created_by,
			withdrawn_at = excluded.withdrawn_at, withdrawn_by = excluded.withdrawn_by`,
		a.CompanyID, a.AgentID, list(nonEmpty(a.Clients)), list(nonEmpty(a.Scopes)), micros(a.ValidUntil),
		micros(a.CreatedAt), a.CreatedBy, zeroMicros(a.WithdrawnAt), a.WithdrawnBy)
	return err
}

// GetAgentAuthorisation implements storage.Agents.
func (s *Store) GetAgentAuthorisation(ctx context.Context, companyID, agentID string) (storage.AgentAuthorisation, error) {
	const op = "get agent authorisation"
	var r agentRow
	if err := s.get(ctx, op, &r, `SELECT `+agentColumns+` FROM agent_authorisations WHERE company_id = ? AND agent_id = ?`,
		companyID, agentID); err != nil {
		return storage.AgentAuthorisation{}, err
	}
	a, err := r.authorisation()
	return a, s.wrap(op, err)
}

// WithdrawAgentAuthorisation implements storage.Agents with one conditional UPDATE.
func (s *Store) WithdrawAgentAuthorisation(ctx context.Context, companyID, agentID, by string, at time.Time) error {
	return s.execOne(ctx, "withdraw agent authorisation", `UPDATE agent_authorisations SET withdrawn_at = ?, withdrawn_by = ?
		WHERE company_id = ? AND agent_id = ? AND withdrawn_at = 0 AND valid_until > ?`,
		micros(at), by, companyID, agentID, micros(at))
}

// listAgents returns the standing authorisations whose column col is id, ordered by order.
func (s *Store) listAgents(ctx context.Context, op, col, order, id string, now time.Time) ([]storage.AgentAuthorisation, error) {
	var rows []agentRow
	if err := s.reader(ctx).SelectContext(ctx, &rows, s.q(`SELECT `+agentColumns+` FROM agent_authorisations
		WHERE `+col+` = ? AND withdrawn_at = 0 AND valid_until > ?`), id, micros(now)); err != nil {
		return nil, s.wrap(op, err)
	}
	out := make([]storage.AgentAuthorisation, 0, len(rows))
	for _, r := range rows {
		a, err := r.authorisation()
		if err != nil {
			return nil, s.wrap(op, err)
		}
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b storage.AgentAuthorisation) int { // byte order on every backend
		if order == "agent_id" {
			return strings.Compare(a.AgentID, b.AgentID)
		}
		return strings.Compare(a.CompanyID, b.CompanyID)
	})
	return out, nil
}

// ListAgentsOf implements storage.Agents.
func (s *Store) ListAgentsOf(ctx context.Context, companyID string, now time.Time) ([]storage.AgentAuthorisation, error) {
	return s.listAgents(ctx, "list agents of company", "company_id", "agent_id", companyID, now)
}

// ListCompaniesOf implements storage.Agents.
func (s *Store) ListCompaniesOf(ctx context.Context, agentID string, now time.Time) ([]storage.AgentAuthorisation, error) {
	return s.listAgents(ctx, "list companies of agent", "agent_id", "company_id", agentID, now)
}

// RecordActingGrant implements storage.Agents with one upsert keeping the later expiry.
func (s *Store) RecordActingGrant(ctx context.Context, requestID, companyID, agentID string, expiresAt time.Time) error {
	_, err := s.exec(ctx, "record acting grant", `INSERT INTO acting_grants (request_id, company_id, agent_id, expires_at)
		VALUES (?, ?, ?, ?)
		ON CONFLICT (request_id) DO UPDATE SET expires_at =
			CASE WHEN excluded.expires_at > acting_grants.expires_at THEN excluded.expires_at ELSE acting_grants.expires_at END`,
		requestID, companyID, agentID, micros(expiresAt))
	return err
}

// ListActingGrants implements storage.Agents.
func (s *Store) ListActingGrants(ctx context.Context, companyID, agentID string) ([]string, error) {
	out := []string{}
	if err := s.reader(ctx).SelectContext(ctx, &out, s.q(`SELECT request_id FROM acting_grants WHERE company_id = ? AND agent_id = ?`),
		companyID, agentID); err != nil {
		return nil, s.wrap("list acting grants", err)
	}
	slices.Sort(out)
	return out, nil
}

// PurgeActingGrants implements storage.Agents.
func (s *Store) PurgeActingGrants(ctx context.Context, before time.Time) (int64, error) {
	return s.exec(ctx, "purge acting grants", `DELETE FROM acting_grants WHERE expires_at < ?`, micros(before))
}
