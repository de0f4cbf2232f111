package accounts

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tongban/tongban/audit"
	"github.com/tongban/tongban/idnumber"
	"github.com/tongban/tongban/storage"
)

// Legal persons and their agents (法人 / 经办人): an operator records a company's legal
// representative (法定代表人); the representative authorises natural persons as agents who
// may log in to apps acting for the company, and withdraws them.

// agentStore is what the agent functions need beyond the rest of Store.
type agentStore interface {
	storage.Agents
	storage.Transactor
	storage.Clients
	storage.Tokens
	storage.Revocations
}

// MaxAgentValidity is the longest an agent authorisation may last: one year from when it is
// given.
const MaxAgentValidity = 366 * 24 * time.Hour

// Errors of the agent functions; test them with errors.Is.
var (
	// ErrNotCompany: the company ID names no legal person (法人), or the representative is
	// not a natural person.
	ErrNotCompany = errors.New("accounts: not a legal person")
	// ErrNotRepresentative: the actor is not the company's legal representative (法定代表人).
	ErrNotRepresentative = errors.New("accounts: not the company's legal representative")
	// ErrAgentUnknown: no registered, enabled natural person has that resident ID number and
	// that name. The one error for every case, so that the form tells nobody who is registered.
	ErrAgentUnknown = errors.New("accounts: no registered person with that ID number and name")
	// ErrInvalidAgentGrant: the validity, apps or scopes of an authorisation are out of range;
	// the message says which.
	ErrInvalidAgentGrant = errors.New("accounts: invalid agent authorisation")
	// ErrNoAuthorisation: the agent holds no standing authorisation of the company (for that
	// app): never given, withdrawn, expired, or the company was disabled.
	ErrNoAuthorisation = errors.New("accounts: no standing agent authorisation")
)

// AgentGrant is what a representative fills in to authorise an agent (经办人).
type AgentGrant struct {
	// IDNumber is the agent's 18-character resident ID number (GB 11643-1999), normalised as
	// NormalizeIdentifier does.
	IDNumber string
	// Name is the agent's registered name; it must match exactly (after trimming spaces).
	Name string
	// Clients are the client IDs of the apps the agent may act in; empty means every app.
	// Each must be a registered client.
	Clients []string
	// Scopes are the scopes the agent may be granted while acting; empty means every scope
	// the app may request. At most 32, each 1 to 64 printable ASCII characters.
	Scopes []string
	// Until is when the authorisation ends: after now and at most MaxAgentValidity later.
	Until time.Time
}

// Company is a legal person an agent may act for, with the authorisation that allows it.
type Company struct {
	ID               string // person ID of the legal person
	Name             string // registered name
	CreditCodeMasked string // unified social credit code, masked ("91110000********1234" style)
	Authorisation    storage.AgentAuthorisation
}

// Agent is a natural person authorised to act for a company, as the representative sees them.
type Agent struct {
	ID             string // person ID
	NameMasked     string // "张*明"
	IDNumberMasked string // "640102********123X"
	Authorisation  storage.AgentAuthorisation
}

// agents returns the store as an agentStore.
func (s *Service) agents() agentStore { return s.store }

// company returns the legal person companyID; ErrNotCompany when it is none.
func (s *Service) company(ctx context.Context, companyID string) (storage.Person, error) {
	p, err := s.store.GetPerson(ctx, companyID)
	if errors.Is(err, storage.ErrNotFound) || err == nil && p.Kind != storage.LegalPerson {
		return p, fmt.Errorf("%w: %q", ErrNotCompany, companyID)
	}
	return p, err
}

// SetRepresentative records personID (a natural person) as the legal representative
// (法定代表人) of companyID (a legal person), replacing any earlier one; agent authorisations
// the earlier representative gave stand. It is an operator's action: actor is audit.Shell or
// an administrator. Audited as "company.representative" (subject the company, detail the
// representative's person ID) in the same transaction.
//
// Errors: ErrNotCompany when companyID is not a legal person or personID not a natural
// person (storage.ErrNotFound wrapped when either does not exist); storage errors.
func (s *Service) SetRepresentative(ctx context.Context, actor audit.Actor, companyID, personID string) error {
	if _, err := s.company(ctx, companyID); err != nil {
		return err
	}
	p, err := s.store.GetPerson(ctx, personID)
	if err != nil {
		return err
	}
	if p.Kind != storage.NaturalPerson {
		return fmt.Errorf("%w: the representative %q is not a natural person", ErrNotCompany, personID)
	}
	now := s.now()
	return s.agents().InTx(ctx, func(ctx context.Context) error {
		if err := s.agents().SetRepresentative(ctx, companyID, personID, now); err != nil {
			return err
		}
		return actor.Record(ctx, s.store, now, "company.representative", companyID, "", "representative="+personID)
	})
}

// Representative returns the person ID of the company's legal representative, or "" when
// none is recorded. Errors: ErrNotCompany; storage errors.
func (s *Service) Representative(ctx context.Context, companyID string) (string, error) {
	if _, err := s.company(ctx, companyID); err != nil {
		return "", err
	}
	id, err := s.agents().GetRepresentative(ctx, companyID)
	if errors.Is(err, storage.ErrNotFound) {
		return "", nil
	}
	return id, err
}

// RepresentedCompanies returns the legal persons personID represents, ordered by ID.
func (s *Service) RepresentedCompanies(ctx context.Context, personID string) ([]storage.Person, error) {
	ids, err := s.agents().ListRepresentedCompanies(ctx, personID)
	if err != nil {
		return nil, err
	}
	out := make([]storage.Person, 0, len(ids))
	for _, id := range ids {
		p, err := s.store.GetPerson(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// requireRepresentative checks that actor is the company's representative. A refusal is
// audited as "admin.denied" (detail "action=<action>").
func (s *Service) requireRepresentative(ctx context.Context, actor audit.Actor, companyID, action string) error {
	if _, err := s.company(ctx, companyID); err != nil {
		return err
	}
	rep, err := s.agents().GetRepresentative(ctx, companyID)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	if rep == "" || subtle.ConstantTimeCompare([]byte(rep), []byte(actor.ID)) != 1 {
		if aerr := actor.Record(ctx, s.store, s.now(), "admin.denied", companyID, "", "action="+action); aerr != nil {
			return aerr
		}
		return ErrNotRepresentative
	}
	return nil
}

// validateGrant checks the apps, scopes and validity of g at now.
func (s *Service) validateGrant(ctx context.Context, g AgentGrant, now time.Time) error {
	var problems []string
	switch {
	case !g.Until.After(now):
		problems = append(problems, "the end of validity must be in the future")
	case g.Until.Sub(now) > MaxAgentValidity:
		problems = append(problems, "an authorisation lasts at most one year")
	}
	// The scopes the named apps may request: an authorisation cannot grant more.
	appScopes := map[string]bool{}
	if len(g.Clients) > 64 {
		problems = append(problems, "at most 64 apps")
	} else {
		for _, c := range g.Clients {
			cl, err := s.agents().GetClient(ctx, c)
			if errors.Is(err, storage.ErrNotFound) {
				problems = append(problems, fmt.Sprintf("no app with client ID %q", c))
			} else if err != nil {
				return err
			}
			for _, sc := range cl.Scopes {
				appScopes[sc] = true
			}
		}
	}
	if len(g.Scopes) > 32 {
		problems = append(problems, "at most 32 scopes")
	}
	for _, sc := range g.Scopes {
		switch {
		case sc == "" || len(sc) > 64 || strings.ContainsFunc(sc, func(r rune) bool { return r <= ' ' || r > '~' }),
			s.cfg.Scopes != nil && !slices.Contains(s.cfg.Scopes, sc):
			problems = append(problems, fmt.Sprintf("%q is not a scope of this platform", sc))
		case len(g.Clients) > 0 && !appScopes[sc]:
			problems = append(problems, fmt.Sprintf("none of the apps named may ask for %q", sc))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %s", ErrInvalidAgentGrant, strings.Join(problems, "; "))
	}
	return nil
}

// findAgent returns the enabled natural person with resident ID number idNumber and name
// name, or ErrAgentUnknown. The name is compared in constant time.
func (s *Service) findAgent(ctx context.Context, idNumber, name string) (storage.Person, error) {
	norm := idnumber.NormalizeResidentID(idNumber)
	name = strings.TrimSpace(name)
	if idnumber.ValidateResidentID(norm) != nil || name == "" || !utf8.ValidString(name) {
		return storage.Person{}, ErrAgentUnknown
	}
	p, err := s.store.GetPersonByIDNumberIndex(ctx, s.kr.BlindIndex(norm))
	if errors.Is(err, storage.ErrNotFound) {
		return p, ErrAgentUnknown
	} else if err != nil {
		return p, err
	}
	if p.Kind != storage.NaturalPerson || p.Disabled || subtle.ConstantTimeCompare([]byte(p.Name), []byte(name)) != 1 {
		return storage.Person{}, ErrAgentUnknown
	}
	return p, nil
}

// AuthoriseAgent lets the natural person g names act for companyID in the apps and with the
// scopes of g until g.Until, replacing any earlier authorisation of that person. Only the
// company's legal representative may do it: actor.ID must be their person ID (the account
// page passes the logged-in person). Audited as "agent.authorise" (subject the company,
// detail the agent's person ID, the apps, the scopes and the end of validity) in the same transaction; a
// refusal for not being the representative is audited as "admin.denied". It returns the
// agent's person ID.
//
// Errors: ErrNotCompany; ErrNotRepresentative; ErrInvalidAgentGrant (every problem listed);
// ErrAgentUnknown when no enabled natural person has that ID number and that name (also
// when the representative names themself); storage errors.
func (s *Service) AuthoriseAgent(ctx context.Context, actor audit.Actor, companyID string, g AgentGrant) (string, error) {
	if err := s.requireRepresentative(ctx, actor, companyID, "agent.authorise"); err != nil {
		return "", err
	}
	now := s.now()
	if err := s.validateGrant(ctx, g, now); err != nil {
		return "", err
	}
	agent, err := s.findAgent(ctx, g.IDNumber, g.Name)
	if err != nil {
		return "", err
	}
	if agent.ID == actor.ID {
		return "", ErrAgentUnknown // a representative acts for the company in their own right
	}
	clients, scopes := slices.Clone(g.Clients), slices.Clone(g.Scopes)
	slices.Sort(clients)
	slices.Sort(scopes)
	a := storage.AgentAuthorisation{CompanyID: companyID, AgentID: agent.ID, Clients: slices.Compact(clients),
		Scopes: slices.Compact(scopes), ValidUntil: g.Until, CreatedAt: now, CreatedBy: actor.ID}
	err = s.agents().InTx(ctx, func(ctx context.Context) error {
		if err := s.agents().PutAgentAuthorisation(ctx, a); err != nil {
			return err
		}
		detail := fmt.Sprintf("agent=%s until=%s clients=%s scopes=%s", agent.ID, g.Until.UTC().Format(time.RFC3339),
			strings.Join(a.Clients, ","), strings.Join(a.Scopes, ","))
		return actor.Record(ctx, s.store, now, "agent.authorise", companyID, "", detail)
	})
	if err != nil {
		return "", err
	}
	s.log.InfoContext(ctx, "agent authorised", "company", companyID, "agent", agent.ID)
	return agent.ID, nil
}

// WithdrawAgent ends the standing authorisation of agentID for companyID at once, and
// revokes every grant the agent was issued while acting for the company
// (storage.Agents.ListActingGrants): refresh tokens are refused and access tokens inactive
// at introspection and userinfo (Config.RevokeGrant). Only the company's representative may
// do it (actor.ID). Audited as "agent.withdraw" in the same transaction as the change and the
// revocations; a refusal as "admin.denied".
//
// Errors: ErrNotCompany; ErrNotRepresentative; ErrNoAuthorisation (wrapping
// storage.ErrNotFound) when nothing stands; storage errors.
func (s *Service) WithdrawAgent(ctx context.Context, actor audit.Actor, companyID, agentID string) error {
	// An operator on the shell may withdraw (not grant) an authorisation, for a company whose
	// representative cannot (`idp companies withdraw`); anyone else must be the representative.
	var err error
	if actor.ID == audit.ShellOperator {
		_, err = s.company(ctx, companyID)
	} else {
		err = s.requireRepresentative(ctx, actor, companyID, "agent.withdraw")
	}
	if err != nil {
		return err
	}
	now := s.now()
	revoked := 0
	err = s.agents().InTx(ctx, func(ctx context.Context) error {
		revoked = 0
		if err := s.agents().WithdrawAgentAuthorisation(ctx, companyID, agentID, actor.ID, now); errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("%w: %w", ErrNoAuthorisation, err)
		} else if err != nil {
			return err
		}
		grants, err := s.agents().ListActingGrants(ctx, companyID, agentID)
		if err != nil {
			return err
		}
		for _, g := range grants {
			if err := s.revokeGrant(ctx, g); err != nil {
				return err
			}
			revoked++
		}
		return actor.Record(ctx, s.store, now, "agent.withdraw", companyID, "", fmt.Sprintf("agent=%s grants=%d", agentID, revoked))
	})
	if err == nil {
		s.log.InfoContext(ctx, "agent authorisation withdrawn", "company", companyID, "agent", agentID, "grants_revoked", revoked)
	}
	return err
}

// revokeGrant revokes every token of the grant requestID: Config.RevokeGrant, or without it
// the stored refresh and access tokens and, for sealed access tokens, an entry of the
// revoked-grant list kept for RevocationFallbackTTL.
func (s *Service) revokeGrant(ctx context.Context, requestID string) error {
	if s.cfg.RevokeGrant != nil {
		return s.cfg.RevokeGrant(ctx, requestID)
	}
	if err := s.agents().RevokeGrant(ctx, requestID, storage.RevokedAll, s.now().Add(RevocationFallbackTTL)); err != nil {
		return err
	}
	for _, k := range []storage.TokenKind{storage.KindRefreshToken, storage.KindAccessToken} {
		if _, err := s.agents().RevokeByRequestID(ctx, k, requestID); err != nil {
			return err
		}
	}
	return nil
}

// RevocationFallbackTTL is how long a grant revoked without Config.RevokeGrant stays on the
// revoked-grant list: longer than any access-token lifetime an operator would configure.
const RevocationFallbackTTL = 25 * time.Hour

// CompaniesFor returns the companies agentID holds a standing authorisation of, ordered by
// company ID, leaving out disabled companies. None is an empty list.
func (s *Service) CompaniesFor(ctx context.Context, agentID string) ([]Company, error) {
	auths, err := s.agents().ListCompaniesOf(ctx, agentID, s.now())
	if err != nil {
		return nil, err
	}
	out := make([]Company, 0, len(auths))
	for _, a := range auths {
		p, err := s.store.GetPerson(ctx, a.CompanyID)
		if errors.Is(err, storage.ErrNotFound) || err == nil && p.Disabled {
			continue
		} else if err != nil {
			return nil, err
		}
		out = append(out, Company{ID: p.ID, Name: p.Name, CreditCodeMasked: p.IDNumberMasked, Authorisation: a})
	}
	return out, nil
}

// CompaniesForClient is CompaniesFor narrowed to the authorisations that cover the app
// clientID.
func (s *Service) CompaniesForClient(ctx context.Context, agentID, clientID string) ([]Company, error) {
	all, err := s.CompaniesFor(ctx, agentID)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(c Company) bool { return !c.Authorisation.AllowsClient(clientID) }), nil
}

// AgentsOf returns the agents holding a standing authorisation of companyID, ordered by
// person ID. None is an empty list. Errors: ErrNotCompany; storage errors.
func (s *Service) AgentsOf(ctx context.Context, companyID string) ([]Agent, error) {
	if _, err := s.company(ctx, companyID); err != nil {
		return nil, err
	}
	auths, err := s.agents().ListAgentsOf(ctx, companyID, s.now())
	if err != nil {
		return nil, err
	}
	out := make([]Agent, 0, len(auths))
	for _, a := range auths {
		p, err := s.store.GetPerson(ctx, a.AgentID)
		if err != nil {
			return nil, err
		}
		out = append(out, Agent{ID: p.ID, NameMasked: idnumber.MaskName(p.Name), IDNumberMasked: p.IDNumberMasked, Authorisation: a})
	}
	return out, nil
}

// ActingAuthorisation returns the authorisation that lets agentID act for companyID in the
// app clientID now: standing (not withdrawn, not expired), covering the app, the company
// enabled and the agent enabled. It is checked at every login, token request, introspection
// and userinfo request made while acting. It also returns the company.
//
// Errors: ErrNoAuthorisation otherwise; storage errors.
func (s *Service) ActingAuthorisation(ctx context.Context, companyID, agentID, clientID string) (storage.AgentAuthorisation, storage.Person, error) {
	a, err := s.agents().GetAgentAuthorisation(ctx, companyID, agentID)
	if errors.Is(err, storage.ErrNotFound) {
		return a, storage.Person{}, ErrNoAuthorisation
	} else if err != nil {
		return a, storage.Person{}, err
	}
	if !a.ActiveAt(s.now()) || !a.AllowsClient(clientID) {
		return a, storage.Person{}, ErrNoAuthorisation
	}
	co, err := s.store.GetPerson(ctx, companyID)
	if errors.Is(err, storage.ErrNotFound) || err == nil && (co.Disabled || co.Kind != storage.LegalPerson) {
		return a, co, ErrNoAuthorisation
	} else if err != nil {
		return a, co, err
	}
	return a, co, nil
}

// CompanyByCreditCode returns the legal person with that unified social credit code
// (GB 32100-2015, normalised as NormalizeIdentifier does). Errors: ErrInvalidIDNumber when
// code is not a valid credit code (wrapping the idnumber error); storage.ErrNotFound when no
// legal person has it; storage errors.
func (s *Service) CompanyByCreditCode(ctx context.Context, code string) (storage.Person, error) {
	norm := idnumber.NormalizeCreditCode(code)
	if err := idnumber.ValidateCreditCode(norm); err != nil {
		return storage.Person{}, fmt.Errorf("%w: %w", ErrInvalidIDNumber, err)
	}
	p, err := s.store.GetPersonByIDNumberIndex(ctx, s.kr.BlindIndex(norm))
	if err == nil && p.Kind != storage.LegalPerson {
		return storage.Person{}, fmt.Errorf("accounts: company: %w", storage.ErrNotFound)
	}
	return p, err
}
