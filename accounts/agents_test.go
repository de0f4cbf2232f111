package accounts_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tongban/tongban/accounts"
	"github.com/tongban/tongban/audit"
	"github.com/tongban/tongban/storage"
)

// agentEnv is a company (co) with its representative (rep) and two other natural persons
// (alice, bob), on a fresh store with a fixed clock.
type agentEnv struct {
	svc             *accounts.Service
	store           storage.Storage
	now             time.Time
	co, other       storage.Person
	rep, alice, bob storage.Person
}

func newAgentEnv(t *testing.T) *agentEnv {
	t.Helper()
	e := &agentEnv{now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	e.svc, e.store, _ = newService(t, accounts.Config{Now: func() time.Time { return e.now }, Scopes: []string{"openid", "profile", "id_number"}})
	ctx := t.Context()
	add := func(kind storage.PersonKind, num, name string) storage.Person {
		p, err := e.svc.CreatePerson(ctx, accounts.NewPerson{Kind: kind, IDNumber: num, Name: name, Password: []byte("correct horse battery")})
		if err != nil {
			t.Fatalf("CreatePerson %s: %v", name, err)
		}
		return p
	}
	e.co = add(storage.LegalPerson, "91440300MA5F000181", "深圳某某科技有限公司")
	e.other = add(storage.LegalPerson, "91330100MA2B00027W", "杭州某某贸易有限公司")
	e.rep = add(storage.NaturalPerson, "110101198001010010", "王法人")
	e.alice = add(storage.NaturalPerson, "110101199002020020", "李经办")
	e.bob = add(storage.NaturalPerson, "440305198503030030", "张三")
	if err := e.store.CreateClient(ctx, storage.Client{ID: "tax-app", Name: "税务", RedirectURIs: []string{"https://tax.example/cb"}, Scopes: []string{"openid", "profile"}}); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.SetRepresentative(ctx, audit.Shell, e.co.ID, e.rep.ID); err != nil {
		t.Fatalf("SetRepresentative: %v", err)
	}
	return e
}

func TestSetRepresentative(t *testing.T) {
	e := newAgentEnv(t)
	ctx := t.Context()
	for _, tc := range []struct {
		name            string
		company, person string
		wantErr         error
	}{
		{"ok/replace", e.co.ID, e.bob.ID, nil},
		{"fail/company is a natural person", e.alice.ID, e.bob.ID, accounts.ErrNotCompany},
		{"fail/representative is a legal person", e.co.ID, e.other.ID, accounts.ErrNotCompany},
		{"fail/unknown company", "nobody", e.bob.ID, accounts.ErrNotCompany},
		{"fail/unknown person", e.co.ID, "nobody", storage.ErrNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := e.svc.SetRepresentative(ctx, audit.Shell, tc.company, tc.person)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("SetRepresentative = %v, want %v", err, tc.wantErr)
			}
		})
	}
	rep, err := e.svc.Representative(ctx, e.co.ID)
	if err != nil || rep != e.bob.ID {
		t.Errorf("Representative = %q, %v; want bob", rep, err)
	}
	events, _ := e.store.ListAudit(ctx, 0, 100)
	n := 0
	for _, ev := range events {
		if ev.Action == "company.representative" && ev.Subject == e.co.ID {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d company.representative entries, want 2", n)
	}
}

func TestAuthoriseAgent(t *testing.T) {
	e := newAgentEnv(t)
	ctx := t.Context()
	repActor := audit.Actor{ID: e.rep.ID, Address: "203.0.113.9"}
	until := e.now.Add(90 * 24 * time.Hour)
	for _, tc := range []struct {
		name    string
		actor   audit.Actor
		company string
		grant   accounts.AgentGrant
		wantErr error
	}{
		{"fail/not the representative", audit.Actor{ID: e.alice.ID}, e.co.ID,
			accounts.AgentGrant{IDNumber: "440305198503030030", Name: "张三", Until: until}, accounts.ErrNotRepresentative},
		{"fail/operator is not the representative", audit.Shell, e.co.ID,
			accounts.AgentGrant{IDNumber: "440305198503030030", Name: "张三", Until: until}, accounts.ErrNotRepresentative},
		{"fail/company without representative", repActor, e.other.ID,
			accounts.AgentGrant{IDNumber: "440305198503030030", Name: "张三", Until: until}, accounts.ErrNotRepresentative},
		{"fail/wrong name", repActor, e.co.ID,
			accounts.AgentGrant{IDNumber: "440305198503030030", Name: "张四", Until: until}, accounts.ErrAgentUnknown},
		{"fail/unregistered number", repActor, e.co.ID,
			accounts.AgentGrant{IDNumber: "440305197504040041", Name: "张三", Until: until}, accounts.ErrAgentUnknown},
		{"fail/invalid number", repActor, e.co.ID,
			accounts.AgentGrant{IDNumber: "440305198503030031", Name: "张三", Until: until}, accounts.ErrAgentUnknown},
		{"fail/a company as agent", repActor, e.co.ID,
			accounts.AgentGrant{IDNumber: "91330100MA2B00027W", Name: "杭州某某贸易有限公司", Until: until}, accounts.ErrAgentUnknown},
		{"fail/themself", repActor, e.co.ID,
			accounts.AgentGrant{IDNumber: "110101198001010010", Name: "王法人", Until: until}, accounts.ErrAgentUnknown},
		{"fail/more than a year", repActor, e.co.ID,
			accounts.AgentGrant{IDNumber: "440305198503030030", Name: "张三", Until: e.now.Add(367 * 24 * time.Hour)}, accounts.ErrInvalidAgentGrant},
		{"fail/in the past", repActor, e.co.ID,
			accounts.AgentGrant{IDNumber: "440305198503030030", Name: "张三", Until: e.now}, accounts.ErrInvalidAgentGrant},
		{"fail/unknown app", repActor, e.co.ID,
			accounts.AgentGrant{IDNumber: "440305198503030030", Name: "张三", Clients: []string{"nope"}, Until: until}, accounts.ErrInvalidAgentGrant},
		{"fail/bad scope", repActor, e.co.ID,
			accounts.AgentGrant{IDNumber: "440305198503030030", Name: "张三", Scopes: []string{"a b"}, Until: until}, accounts.ErrInvalidAgentGrant},
		{"fail/not a scope of the platform", repActor, e.co.ID,
			accounts.AgentGrant{IDNumber: "440305198503030030", Name: "张三", Scopes: []string{"admin"}, Until: until}, accounts.ErrInvalidAgentGrant},
		{"fail/a scope the app may not ask for", repActor, e.co.ID,
			accounts.AgentGrant{IDNumber: "440305198503030030", Name: "张三", Clients: []string{"tax-app"}, Scopes: []string{"id_number"}, Until: until}, accounts.ErrInvalidAgentGrant},
		{"ok/all apps", repActor, e.co.ID,
			accounts.AgentGrant{IDNumber: "440305198503030030", Name: " 张三 ", Until: until}, nil},
		{"ok/one app, scopes", repActor, e.co.ID,
			accounts.AgentGrant{IDNumber: "110101199002020020", Name: "李经办", Clients: []string{"tax-app"}, Scopes: []string{"profile", "openid"}, Until: until}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.svc.AuthoriseAgent(ctx, tc.actor, tc.company, tc.grant)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("AuthoriseAgent = %v, want %v", err, tc.wantErr)
			}
		})
	}
	agents, err := e.svc.AgentsOf(ctx, e.co.ID)
	if err != nil || len(agents) != 2 {
		t.Fatalf("AgentsOf = %v, %v; want 2", agents, err)
	}
	cos, err := e.svc.CompaniesForClient(ctx, e.alice.ID, "tax-app")
	if err != nil || len(cos) != 1 || cos[0].Name != e.co.Name || strings.Join(cos[0].Authorisation.Scopes, " ") != "openid profile" {
		t.Fatalf("CompaniesForClient(alice, tax-app) = %+v, %v", cos, err)
	}
	if cos, _ := e.svc.CompaniesForClient(ctx, e.alice.ID, "other-app"); len(cos) != 0 {
		t.Errorf("alice may act in other-app: %+v", cos)
	}
	// Audit: two authorisations, refusals of non-representatives, and no ID number or name.
	events, _ := e.store.ListAudit(ctx, 0, 1000)
	counts := map[string]int{}
	for _, ev := range events {
		counts[ev.Action]++
		for _, secret := range []string{"440305198503030030", "张三", "李经办"} {
			if strings.Contains(ev.Detail, secret) {
				t.Errorf("audit detail %q holds personal data", ev.Detail)
			}
		}
	}
	if counts["agent.authorise"] != 2 || counts["admin.denied"] != 3 {
		t.Errorf("audit counts %v, want 2 agent.authorise and 3 admin.denied", counts)
	}

	// Expiry: a day after until nothing stands.
	e.now = until.Add(time.Second)
	if cos, _ := e.svc.CompaniesFor(ctx, e.bob.ID); len(cos) != 0 {
		t.Errorf("expired authorisation still offered: %+v", cos)
	}
	if _, _, err := e.svc.ActingAuthorisation(ctx, e.co.ID, e.bob.ID, "tax-app"); !errors.Is(err, accounts.ErrNoAuthorisation) {
		t.Errorf("ActingAuthorisation after expiry = %v", err)
	}
}

func TestWithdrawAgent(t *testing.T) {
	e := newAgentEnv(t)
	ctx := t.Context()
	rep := audit.Actor{ID: e.rep.ID}
	if _, err := e.svc.AuthoriseAgent(ctx, rep, e.co.ID, accounts.AgentGrant{IDNumber: "110101199002020020", Name: "李经办",
		Until: e.now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.svc.ActingAuthorisation(ctx, e.co.ID, e.alice.ID, "tax-app"); err != nil {
		t.Fatalf("ActingAuthorisation: %v", err)
	}
	// A grant issued while acting, with a refresh token.
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(e.store.CreateToken(ctx, storage.TokenRecord{Kind: storage.KindRefreshToken, Signature: "rt", RequestID: "req-1", ClientID: "tax-app",
		Subject: e.alice.ID, Active: true, RequestedAt: e.now, ExpiresAt: e.now.Add(time.Hour), Data: []byte("{}")}))
	must(e.store.RecordActingGrant(ctx, "req-1", e.co.ID, e.alice.ID, e.now.Add(time.Hour)))

	if err := e.svc.WithdrawAgent(ctx, audit.Actor{ID: e.alice.ID}, e.co.ID, e.alice.ID); !errors.Is(err, accounts.ErrNotRepresentative) {
		t.Fatalf("WithdrawAgent by the agent = %v", err)
	}
	if err := e.svc.WithdrawAgent(ctx, rep, e.co.ID, e.alice.ID); err != nil {
		t.Fatalf("WithdrawAgent: %v", err)
	}
	if err := e.svc.WithdrawAgent(ctx, rep, e.co.ID, e.alice.ID); !errors.Is(err, accounts.ErrNoAuthorisation) || !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("second WithdrawAgent = %v", err)
	}
	if _, _, err := e.svc.ActingAuthorisation(ctx, e.co.ID, e.alice.ID, "tax-app"); !errors.Is(err, accounts.ErrNoAuthorisation) {
		t.Errorf("ActingAuthorisation after withdrawal = %v", err)
	}
	rt, err := e.store.GetToken(ctx, storage.KindRefreshToken, "rt")
	must(err)
	if rt.Active {
		t.Error("the refresh token of the acting grant is still active")
	}
	if below, _ := e.store.GrantRevokedBelow(ctx, "req-1"); below != storage.RevokedAll {
		t.Errorf("GrantRevokedBelow = %d, want RevokedAll", below)
	}
}

func TestCompanyByCreditCode(t *testing.T) {
	e := newAgentEnv(t)
	ctx := context.Background()
	if p, err := e.svc.CompanyByCreditCode(ctx, "91440300ma5f000181"); err != nil || p.ID != e.co.ID {
		t.Errorf("CompanyByCreditCode = %v, %v", p.ID, err)
	}
	if _, err := e.svc.CompanyByCreditCode(ctx, "91440300MA5F000182"); !errors.Is(err, accounts.ErrInvalidIDNumber) {
		t.Errorf("bad check char: %v", err)
	}
	if _, err := e.svc.CompanyByCreditCode(ctx, "110101199002020020"); !errors.Is(err, accounts.ErrInvalidIDNumber) {
		t.Errorf("resident ID: %v", err)
	}
}
