package storagetest

import (
	"testing"
	"time"

	"github.com/tongban/tongban/storage"
)

// testAgents checks storage.Agents: representatives, agent authorisations (standing, expired,
// withdrawn, replaced) and the grants issued while acting.
func testAgents(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	for _, p := range []struct {
		id   string
		kind storage.PersonKind
	}{{"co-a", storage.LegalPerson}, {"co-b", storage.LegalPerson}, {"rep", storage.NaturalPerson},
		{"alice", storage.NaturalPerson}, {"bob", storage.NaturalPerson}} {
		must(t, "CreatePerson", s.CreatePerson(ctx, storage.Person{ID: p.id, Kind: p.kind, IDNumberIndex: index(p.id)}))
	}

	t.Run("Representative", func(t *testing.T) {
		_, err := s.GetRepresentative(ctx, "co-a")
		checkErr(t, "GetRepresentative before", err, storage.ErrNotFound)
		checkErr(t, "SetRepresentative unknown company", s.SetRepresentative(ctx, "nobody", "rep", t0), storage.ErrNotFound)
		checkErr(t, "SetRepresentative unknown person", s.SetRepresentative(ctx, "co-a", "nobody", t0), storage.ErrNotFound)
		must(t, "SetRepresentative", s.SetRepresentative(ctx, "co-a", "alice", t0))
		must(t, "SetRepresentative replaces", s.SetRepresentative(ctx, "co-a", "rep", t0.Add(time.Hour)))
		must(t, "SetRepresentative b", s.SetRepresentative(ctx, "co-b", "rep", t0))
		got, err := s.GetRepresentative(ctx, "co-a")
		must(t, "GetRepresentative", err)
		if got != "rep" {
			t.Errorf("GetRepresentative = %q, want rep", got)
		}
		list, err := s.ListRepresentedCompanies(ctx, "rep")
		must(t, "ListRepresentedCompanies", err)
		checkEqual(t, "companies of rep", list, []string{"co-a", "co-b"})
		list, err = s.ListRepresentedCompanies(ctx, "alice")
		must(t, "ListRepresentedCompanies alice", err)
		checkEqual(t, "companies of alice (replaced)", list, []string{})
	})

	t.Run("Authorisations", func(t *testing.T) {
		a := storage.AgentAuthorisation{CompanyID: "co-a", AgentID: "alice", Clients: []string{"app-1", "app-2"},
			Scopes: []string{"openid", "profile"}, ValidUntil: t0.Add(30 * 24 * time.Hour), CreatedAt: t0, CreatedBy: "rep"}
		b := storage.AgentAuthorisation{CompanyID: "co-b", AgentID: "alice", ValidUntil: t0.Add(time.Hour), CreatedAt: t0, CreatedBy: "rep"}
		c := storage.AgentAuthorisation{CompanyID: "co-a", AgentID: "bob", Clients: []string{}, ValidUntil: t0.Add(2 * time.Hour), CreatedAt: t0, CreatedBy: "rep"}
		checkErr(t, "Put unknown agent", s.PutAgentAuthorisation(ctx, storage.AgentAuthorisation{CompanyID: "co-a", AgentID: "nobody",
			ValidUntil: t0.Add(time.Hour), CreatedAt: t0}), storage.ErrNotFound)
		for _, x := range []storage.AgentAuthorisation{a, b, c} {
			must(t, "PutAgentAuthorisation", s.PutAgentAuthorisation(ctx, x))
		}
		want := func(x storage.AgentAuthorisation) storage.AgentAuthorisation {
			x.ValidUntil, x.CreatedAt = stored(x.ValidUntil), stored(x.CreatedAt)
			if !x.WithdrawnAt.IsZero() {
				x.WithdrawnAt = stored(x.WithdrawnAt)
			}
			if len(x.Clients) == 0 {
				x.Clients = nil
			}
			if len(x.Scopes) == 0 {
				x.Scopes = nil
			}
			return x
		}
		got, err := s.GetAgentAuthorisation(ctx, "co-a", "alice")
		must(t, "GetAgentAuthorisation", err)
		checkEqual(t, "authorisation", got, want(a))
		_, err = s.GetAgentAuthorisation(ctx, "co-b", "bob")
		checkErr(t, "GetAgentAuthorisation none", err, storage.ErrNotFound)

		for _, tc := range []struct {
			name string
			list func() ([]storage.AgentAuthorisation, error)
			want []storage.AgentAuthorisation
		}{
			{"ok/agents of co-a ordered by agent", func() ([]storage.AgentAuthorisation, error) { return s.ListAgentsOf(ctx, "co-a", t0) },
				[]storage.AgentAuthorisation{want(a), want(c)}},
			{"ok/companies of alice ordered by company", func() ([]storage.AgentAuthorisation, error) { return s.ListCompaniesOf(ctx, "alice", t0) },
				[]storage.AgentAuthorisation{want(a), want(b)}},
			{"ok/expired left out", func() ([]storage.AgentAuthorisation, error) {
				return s.ListCompaniesOf(ctx, "alice", t0.Add(time.Hour))
			}, []storage.AgentAuthorisation{want(a)}},
			{"ok/none is empty", func() ([]storage.AgentAuthorisation, error) { return s.ListAgentsOf(ctx, "co-b", t0.Add(2*time.Hour)) },
				[]storage.AgentAuthorisation{}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, err := tc.list()
				must(t, "list", err)
				if got == nil {
					t.Error("nil list, want empty")
				}
				checkEqual(t, "authorisations", got, tc.want)
			})
		}

		for _, tc := range []struct {
			name           string
			company, agent string
			at             time.Time
			wantErr        error
		}{
			{"fail/expired", "co-b", "alice", t0.Add(time.Hour), storage.ErrNotFound},
			{"fail/never given", "co-b", "bob", t0, storage.ErrNotFound},
			{"ok/standing", "co-a", "bob", t0.Add(time.Minute), nil},
			{"fail/withdrawn already", "co-a", "bob", t0.Add(2 * time.Minute), storage.ErrNotFound},
		} {
			t.Run("Withdraw/"+tc.name, func(t *testing.T) {
				checkErr(t, "WithdrawAgentAuthorisation", s.WithdrawAgentAuthorisation(ctx, tc.company, tc.agent, "rep", tc.at), tc.wantErr)
			})
		}
		got, err = s.GetAgentAuthorisation(ctx, "co-a", "bob")
		must(t, "GetAgentAuthorisation withdrawn", err)
		wc := c
		wc.WithdrawnAt, wc.WithdrawnBy = t0.Add(time.Minute), "rep"
		checkEqual(t, "withdrawn authorisation", got, want(wc))
		if got.ActiveAt(t0.Add(time.Minute)) {
			t.Error("a withdrawn authorisation is active")
		}
		list, err := s.ListAgentsOf(ctx, "co-a", t0.Add(time.Minute))
		must(t, "ListAgentsOf", err)
		checkEqual(t, "agents after withdrawal", list, []storage.AgentAuthorisation{want(a)})

		// Authorising again replaces the withdrawn one.
		c2 := c
		c2.CreatedAt, c2.ValidUntil = t0.Add(time.Hour), t0.Add(48*time.Hour)
		must(t, "PutAgentAuthorisation again", s.PutAgentAuthorisation(ctx, c2))
		got, err = s.GetAgentAuthorisation(ctx, "co-a", "bob")
		must(t, "GetAgentAuthorisation again", err)
		checkEqual(t, "authorisation given again", got, want(c2))
	})

	t.Run("ActingGrants", func(t *testing.T) {
		must(t, "RecordActingGrant", s.RecordActingGrant(ctx, "req-2", "co-a", "alice", t0.Add(time.Hour)))
		must(t, "RecordActingGrant", s.RecordActingGrant(ctx, "req-1", "co-a", "alice", t0.Add(2*time.Hour)))
		must(t, "RecordActingGrant other", s.RecordActingGrant(ctx, "req-3", "co-b", "alice", t0.Add(time.Hour)))
		must(t, "RecordActingGrant keeps later", s.RecordActingGrant(ctx, "req-1", "co-a", "alice", t0.Add(time.Minute)))
		must(t, "RecordActingGrant extends", s.RecordActingGrant(ctx, "req-2", "co-a", "alice", t0.Add(3*time.Hour)))
		got, err := s.ListActingGrants(ctx, "co-a", "alice")
		must(t, "ListActingGrants", err)
		checkEqual(t, "acting grants", got, []string{"req-1", "req-2"})
		n, err := s.PurgeActingGrants(ctx, t0.Add(150*time.Minute))
		must(t, "PurgeActingGrants", err)
		if n != 2 { // req-1 (2 h, not shortened) and req-3 (1 h)
			t.Errorf("PurgeActingGrants = %d, want 2", n)
		}
		got, err = s.ListActingGrants(ctx, "co-a", "alice")
		must(t, "ListActingGrants after purge", err)
		checkEqual(t, "acting grants after purge", got, []string{"req-2"})
		got, err = s.ListActingGrants(ctx, "co-b", "bob")
		must(t, "ListActingGrants none", err)
		checkEqual(t, "no acting grants", got, []string{})
	})
}
