package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tongban/tongban/accounts"
	"github.com/tongban/tongban/audit"
)

const testCreditCode = "91440300MA5F000181"

// TestCompanies: an operator records a company's representative by the company's credit code
// and the person's ID number, mobile number or person ID; `idp companies show` lists the
// representative and the agents the representative authorised, masked; wrong arguments exit
// with status 2 and mask the numbers typed. The change is audited as the operator.
func TestCompanies(t *testing.T) {
	dir := t.TempDir()
	initVar(t, dir)
	r := idp(t, dir, testPassword+"\n", nil, "people", "add", "--kind", "legal", "--id-number", testCreditCode,
		"--name", "深圳某某科技有限公司", "--json")
	mustOK(t, r, "people add company")
	co := decode[personJSON](t, r)
	r = idp(t, dir, testPassword+"\n", nil, "people", "add", "--id-number", testIDNumber, "--name", "张三", "--phone", "13800138000", "--json")
	mustOK(t, r, "people add representative")
	rep := decode[personJSON](t, r)
	r = idp(t, dir, testPassword+"\n", nil, "people", "add", "--id-number", "110101199002020020", "--name", "李经办", "--json")
	mustOK(t, r, "people add agent")
	agent := decode[personJSON](t, r)

	r = idp(t, dir, "", nil, "companies", "show", testCreditCode, "--json")
	mustOK(t, r, "show before")
	if c := decode[companyJSON](t, r); c.ID != co.ID || c.Representative != nil || len(c.Agents) != 0 {
		t.Fatalf("show before: %s", r.Stdout)
	}

	for _, tc := range []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"fail/bad check character", []string{"--company", "91440300MA5F000182", "--person", testIDNumber}, "check"},
		{"fail/unknown company", []string{"--company", "91330100MA2B00027W", "--person", testIDNumber}, "no company with unified social credit code 913301"},
		{"fail/unknown person", []string{"--company", testCreditCode, "--person", "440305198503030030"}, "no person with ID number"},
		{"fail/company as representative", []string{"--company", testCreditCode, "--person", co.ID}, "is not a natural person"},
		{"fail/a resident ID number as company", []string{"--company", testIDNumber, "--person", testIDNumber}, "is a resident ID number, not a unified social credit code"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := idp(t, dir, "", nil, append([]string{"companies", "representative"}, tc.args...)...)
			if r.Code != 2 || !strings.Contains(r.Stderr, tc.wantErr) {
				t.Fatalf("exit %d, stderr %q; want 2 and %q", r.Code, r.Stderr, tc.wantErr)
			}
			if strings.Contains(r.Stderr, "440305198503030030") || strings.Contains(r.Stderr, "91330100MA2B00027W") {
				t.Errorf("stderr shows a full number: %s", r.Stderr)
			}
		})
	}

	// By mobile number, as text.
	r = idp(t, dir, "", nil, "companies", "representative", "--company", strings.ToLower(testCreditCode), "--person", "138 0013 8000")
	mustOK(t, r, "representative by phone")
	if !strings.Contains(r.Stdout, "representative "+rep.ID+" ("+rep.IDNumberMasked+")") || strings.Contains(r.Stdout, testIDNumber) {
		t.Fatalf("representative: %s", r.Stdout)
	}

	// The representative authorises an agent (as the account page does), on the same database.
	authoriseForTest(t, dir, co.ID, rep.ID, "110101199002020020", "李经办")
	r = idp(t, dir, "", nil, "companies", "show", testCreditCode, "--json")
	mustOK(t, r, "show after")
	c := decode[companyJSON](t, r)
	if c.Representative == nil || c.Representative.ID != rep.ID || len(c.Agents) != 1 || c.Agents[0].ID != agent.ID ||
		c.Agents[0].NameMasked != "李*办" || c.Agents[0].IDNumberMasked != agent.IDNumberMasked || len(c.Agents[0].Clients) != 0 {
		t.Fatalf("show after: %s", r.Stdout)
	}
	r = idp(t, dir, "", nil, "companies", "show", testCreditCode)
	mustOK(t, r, "show as text")
	lines := strings.Split(strings.TrimSpace(r.Stdout), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[2], "AGENT ") || !strings.HasPrefix(lines[3], agent.ID+" ") || !strings.Contains(lines[3], "all") {
		t.Fatalf("show as text: %s", r.Stdout)
	}
	for _, full := range []string{"110101199002020020", "李经办", testIDNumber} {
		if strings.Contains(r.Stdout, full) {
			t.Errorf("show prints %q in full: %s", full, r.Stdout)
		}
	}

	// The operator withdraws the agent (the representative could not); a second withdrawal
	// finds nothing standing.
	r = idp(t, dir, "", nil, "companies", "withdraw", "--company", testCreditCode, "--agent", "110101199002020020", "--json")
	mustOK(t, r, "withdraw")
	if c := decode[companyJSON](t, r); len(c.Agents) != 0 || !strings.Contains(r.Stderr, "withdrew the authorisation of "+agent.ID) {
		t.Fatalf("agents after withdrawal: %s\nstderr: %s", r.Stdout, r.Stderr)
	}
	r = idp(t, dir, "", nil, "companies", "withdraw", "--company", testCreditCode, "--agent", agent.ID)
	if r.Code != 2 || !strings.Contains(r.Stderr, "is not authorised to act for this company") {
		t.Fatalf("second withdrawal: exit %d, stderr %q", r.Code, r.Stderr)
	}

	r = idp(t, dir, "", nil, "audit", "list", "--json")
	mustOK(t, r, "audit list")
	for _, want := range []string{`"company.representative"`, `"agent.authorise"`, `"agent.withdraw"`} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("audit lacks %s: %s", want, r.Stdout)
		}
	}
}

// authoriseForTest authorises the agent for the company as its representative repID, with
// the accounts package on the test's database.
func authoriseForTest(t *testing.T, dir, companyID, repID, agentNumber, agentName string) {
	t.Helper()
	ctx := context.Background()
	svc, _ := openForTest(t, dir)
	if _, err := svc.AuthoriseAgent(ctx, audit.Actor{ID: repID}, companyID, accounts.AgentGrant{IDNumber: agentNumber, Name: agentName,
		Until: time.Now().Add(30 * 24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
}
