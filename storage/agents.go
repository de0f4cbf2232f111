package storage

import (
	"context"
	"time"
)

// AgentAuthorisation is a company's authorisation of an agent (经办人): a natural person who
// may log in to apps acting for the company (a legal person, 法人). It is given by the
// company's legal representative (法定代表人) and withdrawn by them at any time.
type AgentAuthorisation struct {
	CompanyID string // person ID of the legal person
	AgentID   string // person ID of the natural person authorised
	// Clients are the client IDs of the apps the agent may act in; empty means every app.
	Clients []string
	// Scopes are the scopes the agent may be granted while acting; empty means every scope
	// the app may request.
	Scopes     []string
	ValidUntil time.Time // the authorisation ends at this instant
	CreatedAt  time.Time
	CreatedBy  string // person ID of the representative who gave it
	// WithdrawnAt is when it was withdrawn (zero while it stands), by WithdrawnBy (a person ID).
	WithdrawnAt time.Time
	WithdrawnBy string
}

// ActiveAt reports whether the authorisation stands at now: not withdrawn and now before
// ValidUntil.
func (a AgentAuthorisation) ActiveAt(now time.Time) bool {
	return a.WithdrawnAt.IsZero() && now.Before(a.ValidUntil)
}

// AllowsClient reports whether the authorisation covers the app clientID (Clients empty, or
// holding it).
func (a AgentAuthorisation) AllowsClient(clientID string) bool {
	if len(a.Clients) == 0 {
		return true
	}
	for _, c := range a.Clients {
		if c == clientID {
			return true
		}
	}
	return false
}

// Agents stores the legal representatives of companies (法定代表人), the authorisations of
// their agents (经办人, migration 00018) and the grants agents were issued while acting for a
// company, so that withdrawing an authorisation can revoke them.
type Agents interface {
	// SetRepresentative records personID as the legal representative of companyID at at,
	// replacing any earlier one. ErrNotFound when either person does not exist. The caller
	// checks the kinds (companyID legal, personID natural).
	SetRepresentative(ctx context.Context, companyID, personID string, at time.Time) error
	// GetRepresentative returns the person ID of the company's representative, or ErrNotFound.
	GetRepresentative(ctx context.Context, companyID string) (string, error)
	// ListRepresentedCompanies returns the IDs of the companies personID represents, in byte
	// order; none is an empty list.
	ListRepresentedCompanies(ctx context.Context, personID string) ([]string, error)

	// PutAgentAuthorisation stores a as the authorisation of (a.CompanyID, a.AgentID),
	// replacing any earlier one, withdrawn or not (the audit log keeps the history).
	// ErrNotFound when either person does not exist.
	PutAgentAuthorisation(ctx context.Context, a AgentAuthorisation) error
	// GetAgentAuthorisation returns the authorisation of (companyID, agentID), standing or
	// not, or ErrNotFound.
	GetAgentAuthorisation(ctx context.Context, companyID, agentID string) (AgentAuthorisation, error)
	// WithdrawAgentAuthorisation marks the standing authorisation of (companyID, agentID)
	// withdrawn at at by by, with one conditional UPDATE. ErrNotFound when there is none that
	// stands at at (never given, withdrawn already, or expired).
	WithdrawAgentAuthorisation(ctx context.Context, companyID, agentID, by string, at time.Time) error
	// ListAgentsOf returns the authorisations of the company that stand at now, ordered by
	// AgentID; none is an empty list.
	ListAgentsOf(ctx context.Context, companyID string, now time.Time) ([]AgentAuthorisation, error)
	// ListCompaniesOf returns the authorisations of the agent that stand at now, ordered by
	// CompanyID; none is an empty list.
	ListCompaniesOf(ctx context.Context, agentID string, now time.Time) ([]AgentAuthorisation, error)

	// RecordActingGrant remembers that the grant requestID (storage.TokenRecord.RequestID)
	// was issued to agentID acting for companyID, until expiresAt; a second call for the same
	// grant keeps the later expiry.
	RecordActingGrant(ctx context.Context, requestID, companyID, agentID string, expiresAt time.Time) error
	// ListActingGrants returns the request IDs of the grants recorded for (companyID,
	// agentID), in byte order; none is an empty list.
	ListActingGrants(ctx context.Context, companyID, agentID string) ([]string, error)
	// PurgeActingGrants deletes the records that expired before t; returns how many.
	PurgeActingGrants(ctx context.Context, before time.Time) (int64, error)
}
