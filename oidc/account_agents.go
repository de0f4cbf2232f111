package oidc

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tongban/tongban/accounts"
	"github.com/tongban/tongban/audit"
	"github.com/tongban/tongban/storage"
)

// The account page's companies section (我的企业): a legal representative (法定代表人)
// authorises agents (经办人) of their company and withdraws them; an agent sees the companies
// they may act for. Authorising and withdrawing want a fresh login (accountSession(…, true)).
// The rules are package accounts' (accounts/agents.go).
const (
	pathAgentAuthorise = "/account/agents/authorise" // POST company, id_number, name, clients, scopes, until
	pathAgentWithdraw  = "/account/agents/withdraw"  // POST company, agent
)

// agentsPage is what the companies section sees (pageData.Agents).
type agentsPage struct {
	AuthoriseAction, WithdrawAction string
	Represented                     []agentsCompany // companies the person represents
	ActingFor                       []agentsGrant   // companies the person may act for
	DefaultUntil, MaxUntil, MinDate string          // dates (YYYY-MM-DD, Beijing time) for the form
}

// agentsCompany is a company the person represents, with its agents.
type agentsCompany struct {
	ID, Name, CreditCodeMasked string
	Agents                     []agentsGrant
}

// agentsGrant is one authorisation as shown: who (the agent, or the company), which apps and
// scopes, until when.
type agentsGrant struct {
	ID, Name, NumberMasked string
	Apps, Scopes           []string // names; empty = all
	Until                  string
}

// showApps returns the display names of the apps of an authorisation.
func (s *Server) showApps(ctx context.Context, ids []string) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		name := id
		if c, err := s.clients.Get(ctx, id); err == nil {
			name = c.DisplayName()
		}
		out = append(out, name)
	}
	return out
}

// fillAccountAgents fills pageData.Agents: the companies the person represents with their
// agents, and the companies the person may act for. The section is left out (nil) for a
// person who is neither.
func (s *Server) fillAccountAgents(ctx context.Context, d *pageData, _ *storage.LoginSession, p storage.Person) error {
	cos, err := s.accounts.RepresentedCompanies(ctx, p.ID)
	if err != nil {
		return err
	}
	acting, err := s.accounts.CompaniesFor(ctx, p.ID)
	if err != nil {
		return err
	}
	if len(cos) == 0 && len(acting) == 0 {
		return nil
	}
	now := s.now().In(pageZone)
	q := "?ui_locales=" + url.QueryEscape(d.Lang)
	ap := &agentsPage{
		AuthoriseAction: s.localPath(pathAgentAuthorise) + q,
		WithdrawAction:  s.localPath(pathAgentWithdraw) + q,
		DefaultUntil:    now.AddDate(0, 3, 0).Format(time.DateOnly),
		MaxUntil:        now.AddDate(1, 0, -1).Format(time.DateOnly),
		MinDate:         now.Format(time.DateOnly),
	}
	for _, co := range cos {
		agents, err := s.accounts.AgentsOf(ctx, co.ID)
		if err != nil {
			return err
		}
		ac := agentsCompany{ID: co.ID, Name: co.Name, CreditCodeMasked: co.IDNumberMasked}
		for _, a := range agents {
			ac.Agents = append(ac.Agents, agentsGrant{ID: a.ID, Name: a.NameMasked, NumberMasked: a.IDNumberMasked,
				Apps: s.showApps(ctx, a.Authorisation.Clients), Scopes: scopeTexts(d.Lang, a.Authorisation.Scopes),
				Until: showUntil(a.Authorisation.ValidUntil)})
		}
		ap.Represented = append(ap.Represented, ac)
	}
	for _, c := range acting {
		ap.ActingFor = append(ap.ActingFor, agentsGrant{ID: c.ID, Name: c.Name, NumberMasked: c.CreditCodeMasked,
			Apps: s.showApps(ctx, c.Authorisation.Clients), Scopes: scopeTexts(d.Lang, c.Authorisation.Scopes),
			Until: showUntil(c.Authorisation.ValidUntil)})
	}
	d.Agents = ap
	return nil
}

func scopeTexts(lang string, scopes []string) []string {
	out := make([]string, 0, len(scopes))
	for _, sc := range scopes {
		out = append(out, scopeText(lang, sc))
	}
	return out
}

// showUntil shows an authorisation's end: the last day it is valid through when it ends at
// midnight Beijing time (as parseUntil makes it: "有效期至 2027-03-01" lasts through that day),
// otherwise the time it ends.
func showUntil(t time.Time) string {
	if l := t.In(pageZone); !t.IsZero() && l.Hour() == 0 && l.Minute() == 0 && l.Second() == 0 && l.Nanosecond() == 0 {
		return l.AddDate(0, 0, -1).Format(time.DateOnly)
	}
	return showTime(t)
}

// parseUntil reads the form's end of validity, a date (YYYY-MM-DD) in Beijing time: the
// authorisation lasts through that day.
func parseUntil(v string) (time.Time, bool) {
	day, err := time.ParseInLocation(time.DateOnly, strings.TrimSpace(v), pageZone)
	if err != nil {
		return time.Time{}, false
	}
	return day.AddDate(0, 0, 1), true
}

// agentFailure maps an error of AuthoriseAgent or WithdrawAgent to a status and message key;
// ok false for a failure of the server.
func agentFailure(err error) (status int, msg string, ok bool) {
	switch {
	case errors.Is(err, accounts.ErrNotRepresentative), errors.Is(err, accounts.ErrNotCompany):
		return http.StatusForbidden, "agentsNotRepresentative", true
	case errors.Is(err, accounts.ErrAgentUnknown):
		return http.StatusBadRequest, "agentsUnknown", true
	case errors.Is(err, accounts.ErrInvalidAgentGrant):
		return http.StatusBadRequest, "agentsInvalid", true
	case errors.Is(err, accounts.ErrNoAuthorisation):
		return http.StatusNotFound, "agentsNoAuthorisation", true
	}
	return 0, "", false
}

// accountActor is the audit actor of a person acting on their own account page.
func (s *Server) accountActor(r *http.Request, p storage.Person) audit.Actor {
	return audit.Actor{ID: p.ID, Address: s.cfg.ClientIP(r)}
}

// handleAgentAuthorise authorises an agent (POST /account/agents/authorise: company, id_number,
// name, clients and scopes space-separated — empty for all —, until YYYY-MM-DD).
func (s *Server) handleAgentAuthorise(w http.ResponseWriter, r *http.Request) {
	ls, p, ok := s.selfForm(w, r, true)
	if !ok {
		return
	}
	ctx := r.Context()
	f := r.PostForm
	until, ok := parseUntil(f.Get("until"))
	if !ok {
		s.accountFailed(w, r, ls, p, http.StatusBadRequest, "agentsInvalid")
		return
	}
	_, err := s.accounts.AuthoriseAgent(ctx, s.accountActor(r, p), f.Get("company"), accounts.AgentGrant{
		IDNumber: f.Get("id_number"), Name: f.Get("name"),
		Clients: strings.Fields(f.Get("clients")), Scopes: strings.Fields(f.Get("scopes")), Until: until,
	})
	if err != nil {
		if status, msg, ok := agentFailure(err); ok {
			s.log.InfoContext(ctx, "agent authorisation refused", "person_id", p.ID, "err", err)
			s.accountFailed(w, r, ls, p, status, msg)
			return
		}
		s.pageError(ctx, w, r, pickLang(r.URL.Query().Get("ui_locales")), "authorise agent", err)
		return
	}
	s.accountDone(w, r, "agentAuthorised")
}

// handleAgentWithdraw withdraws an agent's authorisation (POST /account/agents/withdraw:
// company, agent), revoking the grants the agent holds for the company.
func (s *Server) handleAgentWithdraw(w http.ResponseWriter, r *http.Request) {
	ls, p, ok := s.selfForm(w, r, true)
	if !ok {
		return
	}
	ctx := r.Context()
	err := s.accounts.WithdrawAgent(ctx, s.accountActor(r, p), r.PostForm.Get("company"), r.PostForm.Get("agent"))
	if err != nil {
		if status, msg, ok := agentFailure(err); ok {
			s.log.InfoContext(ctx, "agent withdrawal refused", "person_id", p.ID, "err", err)
			s.accountFailed(w, r, ls, p, status, msg)
			return
		}
		s.pageError(ctx, w, r, pickLang(r.URL.Query().Get("ui_locales")), "withdraw agent", err)
		return
	}
	s.accountDone(w, r, "agentWithdrawn")
}

func init() {
	addMessages(map[string]map[string]string{
		langZH: {
			"agentsHeading":           "我的企业",
			"agentsRepresent":         "您是以下企业的法定代表人，可以授权经办人代表企业登录应用。",
			"agentsNone":              "尚未授权经办人。",
			"agentsApps":              "可用应用",
			"agentsScopes":            "可用信息",
			"agentsAll":               "全部",
			"agentsUntil":             "有效期至",
			"agentsWithdraw":          "撤销授权",
			"agentsAddHeading":        "授权经办人",
			"agentsIDNumber":          "经办人居民身份证号码",
			"agentsName":              "经办人姓名",
			"agentsClients":           "应用（client_id，以空格分隔；留空表示全部应用）",
			"agentsScopesField":       "信息范围（scope，以空格分隔；留空表示应用可申请的全部信息）",
			"agentsUntilField":        "有效期至（最长一年）",
			"agentsButton":            "授权",
			"agentsHelp":              "经办人须已在本平台注册，身份证号码与姓名须一致。撤销后经办人代表企业的登录立即失效。",
			"agentsActingHeading":     "我可代表的企业",
			"agentsActingHelp":        "登录应用时，您可以选择以本人或以下企业的身份登录。",
			"agentAuthorised":         "已授权经办人。",
			"agentWithdrawn":          "已撤销授权，该经办人代表企业的登录已失效。",
			"agentsNotRepresentative": "只有企业的法定代表人可以授权或撤销经办人。",
			"agentsUnknown":           "没有找到与该身份证号码和姓名一致的已注册用户。",
			"agentsInvalid":           "授权信息有误：有效期须在今天之后、一年以内，应用须已在本平台登记。",
			"agentsNoAuthorisation":   "该授权已撤销或已过期。",
		},
		langEN: {
			"agentsHeading":           "My companies",
			"agentsRepresent":         "You are the legal representative of these companies and may authorise agents to sign in to apps for them.",
			"agentsNone":              "No agents authorised.",
			"agentsApps":              "Apps",
			"agentsScopes":            "Information",
			"agentsAll":               "all",
			"agentsUntil":             "Valid until",
			"agentsWithdraw":          "Withdraw",
			"agentsAddHeading":        "Authorise an agent",
			"agentsIDNumber":          "Agent's resident ID number",
			"agentsName":              "Agent's name",
			"agentsClients":           "Apps (client IDs separated by spaces; empty for every app)",
			"agentsScopesField":       "Information (scopes separated by spaces; empty for all the app may ask for)",
			"agentsUntilField":        "Valid until (one year at most)",
			"agentsButton":            "Authorise",
			"agentsHelp":              "The agent must be registered here, with this ID number and this name. Once withdrawn, their sign-ins for the company stop working at once.",
			"agentsActingHeading":     "Companies I may act for",
			"agentsActingHelp":        "When you sign in to an app you can choose to sign in as yourself or for one of these companies.",
			"agentAuthorised":         "The agent is authorised.",
			"agentWithdrawn":          "The authorisation is withdrawn; the agent's sign-ins for the company no longer work.",
			"agentsNotRepresentative": "Only the company's legal representative may authorise or withdraw agents.",
			"agentsUnknown":           "No registered person has this ID number and this name.",
			"agentsInvalid":           "The authorisation is not valid: it must end after today and within a year, and the apps must be registered here.",
			"agentsNoAuthorisation":   "That authorisation was withdrawn or has expired.",
		},
	})
}
