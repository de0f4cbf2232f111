package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/tongban/tongban/accounts"
	"github.com/tongban/tongban/audit"
	"github.com/tongban/tongban/oidc"
	smcrypto "github.com/tongban/tongban/sm-crypto"
	"github.com/tongban/tongban/storage"
	"github.com/tongban/tongban/wallet/wallettest"
)

// The example business licence's company (docs/examples/licences.jsonl) and its legal
// representative (made up; the representative's number has a valid check character).
const (
	companyCode = "91110101MA01TB8K0H"
	companyName = "北京同办示例科技有限公司"
	repNumber   = "110102198005150033"
	repName     = "周明远"
)

// TestLookupActingForCompany: 一证通办 for a company's licence. An agent (经办人) authorised by the
// company's legal representative (法定代表人) logs in to a department app acting for the company
// and consents for it; the app's token then reads the company's business licence in full. The
// same person's own token reads no business licence: being an agent who may show it in the
// wallet is not a consent for the company.
func TestLookupActingForCompany(t *testing.T) {
	w := newWorldOpts(t, worldOptions{alg: oidc.AlgSM2})
	ctx := context.Background()
	people, err := accounts.New(accounts.Config{Store: w.store, Keyring: w.kr,
		PasswordParams: smcrypto.PasswordParams{Iterations: 1000, SaltLen: 16, KeyLen: 32}})
	must(t, err)
	company, err := people.CreatePerson(ctx, accounts.NewPerson{Kind: storage.LegalPerson, IDNumber: companyCode, Name: companyName, Password: []byte("company-password-2026")})
	must(t, err)
	rep, err := people.CreatePerson(ctx, accounts.NewPerson{IDNumber: repNumber, Name: repName, Password: []byte("rep-password-2026")})
	must(t, err)
	must(t, people.SetRepresentative(ctx, audit.Shell, company.ID, rep.ID))
	_, _, err = oidc.CreateClient(ctx, w.store, w.kr, oidc.NewClient{
		ID: deptApp, Name: deptName, Public: true, RedirectURIs: []string{w.mobileRed},
		Scopes:  []string{"openid", "licence:resident-id", "licence:business-licence"},
		Purpose: deptPurpose, PurposeEn: deptPurposeEn,
	})
	must(t, err)
	_, err = people.AuthoriseAgent(ctx, audit.Actor{ID: rep.ID}, company.ID, accounts.AgentGrant{
		IDNumber: citizen, Name: citizenName, Clients: []string{deptApp}, Until: time.Now().Add(30 * 24 * time.Hour),
	})
	must(t, err)

	// Acting for the company: the consent page names it, and the token reads its licence.
	consent, tok := w.lookupToken(t, wallettest.NewBrowser(t), "openid licence:business-licence", "zh-CN",
		oauth2.SetAuthURLParam("acting_for", companyCode))
	if !strings.Contains(consent, companyName) || !strings.Contains(consent, deptPurpose) {
		t.Errorf("consent page while acting lacks the company or the purpose:\n%s", consent)
	}
	r := lookup(t, w, tok, "kind=business-licence")
	if r.status != http.StatusOK {
		t.Fatalf("lookup acting for the company: %d %s", r.status, r.raw)
	}
	list, _ := r.body["licences"].([]any)
	if len(list) != 1 {
		t.Fatalf("lookup acting for the company answered %d licences: %s", len(list), r.raw)
	}
	if lic := list[0].(map[string]any); lic["holder"] != companyCode || lic["kind"] != "business-licence" {
		t.Errorf("licence read acting for the company: %s", r.raw)
	}
	// The acting token is the company's: it reads none of the agent's own licences.
	if r := lookup(t, w, tok, "kind=resident-id"); r.status != http.StatusForbidden {
		t.Errorf("acting token read the agent's resident ID card: %d %s", r.status, r.raw)
	}

	// As themself the agent consents only for their own licences: no business licence.
	_, own := w.lookupToken(t, wallettest.NewBrowser(t), "openid licence:business-licence", "zh-CN")
	r = lookup(t, w, own, "kind=business-licence")
	if list, _ := r.body["licences"].([]any); r.status != http.StatusOK || len(list) != 0 {
		t.Errorf("the agent's own token read a business licence: %d %s", r.status, r.raw)
	}
}
