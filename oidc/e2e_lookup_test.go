package oidc_test

import (
	"context"
	"errors"
	"html"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	tboidc "github.com/tongban/tongban/oidc"
	"github.com/tongban/tongban/storage"
	"github.com/tongban/tongban/storage/storagetest"
)

// Licence scopes (licence:<kind>, 一证通办 licence lookup): registered only with a purpose,
// listed in discovery, shown on the consent page with the app's purpose, never granted
// without the holder's consent for that very scope.

func TestLicenceScopeRegistration(t *testing.T) {
	store, kr := adminEnv(t)
	ctx := context.Background()
	cb := []string{"https://app.example.gov.cn/cb"}
	long := strings.Repeat("办", tboidc.MaxPurposeLength)
	for _, tc := range []struct {
		name    string
		nc      tboidc.NewClient
		wantErr error
	}{
		{"ok/purpose", tboidc.NewClient{ID: "l1", RedirectURIs: cb, Scopes: []string{"openid", "licence:resident-id"}, Purpose: "  办理居住证时核验身份 ", PurposeEn: "Residence permits"}, nil},
		{"ok/purpose-200-characters", tboidc.NewClient{ID: "l2", RedirectURIs: cb, Scopes: []string{"openid", "licence:driving-licence", "licence:business-licence"}, Purpose: long}, nil},
		{"ok/purpose-without-licence-scope", tboidc.NewClient{ID: "l3", RedirectURIs: cb, Purpose: "说明"}, nil},
		{"fail/licence-scope-without-purpose", tboidc.NewClient{ID: "f1", RedirectURIs: cb, Scopes: []string{"openid", "licence:resident-id"}}, tboidc.ErrInvalidPurpose},
		{"fail/blank-purpose", tboidc.NewClient{ID: "f2", RedirectURIs: cb, Scopes: []string{"openid", "licence:resident-id"}, Purpose: " \t "}, tboidc.ErrInvalidPurpose},
		{"fail/purpose-201-characters", tboidc.NewClient{ID: "f3", RedirectURIs: cb, Scopes: []string{"openid", "licence:resident-id"}, Purpose: long + "事"}, tboidc.ErrInvalidPurpose},
		{"fail/english-purpose-too-long", tboidc.NewClient{ID: "f4", RedirectURIs: cb, Scopes: []string{"openid", "licence:resident-id"}, Purpose: "核验", PurposeEn: strings.Repeat("x", 201)}, tboidc.ErrInvalidPurpose},
		{"fail/purpose-control", tboidc.NewClient{ID: "f5", RedirectURIs: cb, Scopes: []string{"openid", "licence:resident-id"}, Purpose: "核验\n身份"}, tboidc.ErrInvalidPurpose},
		{"fail/purpose-bidi-override", tboidc.NewClient{ID: "f6", RedirectURIs: cb, Scopes: []string{"openid", "licence:resident-id"}, Purpose: "核验\u202e身份"}, tboidc.ErrInvalidPurpose},
		{"fail/unknown-kind", tboidc.NewClient{ID: "f7", RedirectURIs: cb, Scopes: []string{"openid", "licence:passport"}, Purpose: "核验"}, tboidc.ErrInvalidScope},
		{"fail/bare-prefix", tboidc.NewClient{ID: "f8", RedirectURIs: cb, Scopes: []string{"openid", "licence:"}, Purpose: "核验"}, tboidc.ErrInvalidScope},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _, err := tboidc.CreateClient(ctx, store, kr, tc.nc)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				if _, gerr := store.GetClient(ctx, tc.nc.ID); !errors.Is(gerr, storage.ErrNotFound) {
					t.Errorf("a refused client was stored: %v", gerr)
				}
				return
			}
			got, err := store.GetClient(ctx, tc.nc.ID)
			if err != nil || got.Purpose != strings.TrimSpace(tc.nc.Purpose) || got.PurposeEn != tc.nc.PurposeEn || c.Purpose != got.Purpose {
				t.Errorf("stored purpose %q / %q (%v), want %q / %q", got.Purpose, got.PurposeEn, err, strings.TrimSpace(tc.nc.Purpose), tc.nc.PurposeEn)
			}
		})
	}
}

func TestLicenceScopeConsentSQLite(t *testing.T) {
	testLicenceScopeConsent(t, newEnv(t, storagetest.SQLite(t), envOptions{}))
}

func TestLicenceScopeConsentPostgres(t *testing.T) {
	testLicenceScopeConsent(t, newEnv(t, storagetest.Postgres(t), envOptions{}))
}

func testLicenceScopeConsent(t *testing.T, e *env) {
	const purpose, purposeEn = "办理居住证时核验您的身份", "To check your identity for your residence permit"
	_, num := e.person("钱多多", "")
	r := e.newRP(tboidc.NewClient{
		Name:    "居住证办理",
		Scopes:  []string{"openid", "profile", "offline_access", "licence:resident-id", "licence:driving-licence"},
		Purpose: purpose, PurposeEn: purposeEn,
		GrantTypes: []string{tboidc.GrantAuthorizationCode, tboidc.GrantRefreshToken, tboidc.GrantClientCredentials},
	})

	// Discovery lists every licence scope.
	var disc struct {
		Scopes []string `json:"scopes_supported"`
	}
	if err := r.provider.Claims(&disc); err != nil {
		t.Fatal(err)
	}
	for _, sc := range tboidc.LicenceScopes {
		if !slices.Contains(disc.Scopes, sc) {
			t.Errorf("discovery does not list %s", sc)
		}
	}

	// A consent for the plain scopes first: no licence box on that page.
	b := e.browser()
	p := b.get(r.authURL().url)
	p = b.login(p, num, testPassword)
	if !p.isConsent() || strings.Contains(p.body, `class="lookup"`) || strings.Contains(p.body, purpose) {
		t.Fatalf("consent for openid profile: want the page without the licence box:\n%s", p.body)
	}
	b.consent(p, "allow").callback(t)

	// That consent does not cover the licence scope: prompt=none gets consent_required.
	withLicence := oauth2.SetAuthURLParam("scope", "openid profile licence:resident-id")
	q := b.get(r.authURL(withLicence, oauth2.SetAuthURLParam("prompt", "none")).url).callback(t)
	if q.Get("error") != "consent_required" {
		t.Fatalf("prompt=none with an unconsented licence scope: %v", q)
	}

	// Without prompt=none the consent page names the purpose and the licence, in both
	// languages.
	p = b.get(r.authURL(withLicence, oauth2.SetAuthURLParam("ui_locales", "en")).url)
	if !p.isConsent() {
		t.Fatalf("no consent page for the licence scope:\n%s", p.body)
	}
	body := html.UnescapeString(p.body)
	for _, want := range []string{`class="lookup"`, purposeEn, "Read your resident ID card in full", "Purpose:"} {
		if !strings.Contains(body, want) {
			t.Errorf("English consent page lacks %q:\n%s", want, p.body)
		}
	}
	a := r.authURL(withLicence)
	p = b.get(a.url)
	body = html.UnescapeString(p.body)
	for _, want := range []string{`class="lookup"`, "<strong>" + purpose + "</strong>", "完整读取您的居民身份证", "用途：", "居住证办理"} {
		if !strings.Contains(body, want) {
			t.Errorf("consent page lacks %q:\n%s", want, p.body)
		}
	}
	if strings.Contains(body, "机动车驾驶证") {
		t.Error("the consent page names a licence the app did not ask for")
	}
	if i, j := strings.Index(body, purpose), strings.Index(body, "完整读取您的居民身份证"); i < 0 || j < i {
		t.Error("the purpose is not shown above the licence line")
	}
	q = b.consent(p, "allow").callback(t)
	tok, err := r.exchange(q.Get("code"), a.verifier)
	if err != nil {
		t.Fatal(err)
	}
	in := e.introspect(r, tok.AccessToken)
	if !active(in) || !slices.Contains(strings.Fields(in["scope"].(string)), "licence:resident-id") {
		t.Fatalf("introspection: %v", in)
	}
	// A licence scope releases the holder's number at userinfo (the wallet finds the holder
	// by it; the full licence carries it anyway).
	if status, ui := e.userinfo(tok.AccessToken); status != http.StatusOK || ui["id_number"] != num || ui["id_number_type"] != "resident_id" {
		t.Errorf("userinfo with a licence scope: %d %v", status, ui)
	}

	// Remembered now: prompt=none with that scope gets a code; another licence scope of the
	// same app is not covered.
	q = b.get(r.authURL(withLicence, oauth2.SetAuthURLParam("prompt", "none")).url).callback(t)
	if q.Get("code") == "" {
		t.Fatalf("prompt=none after consent: %v", q)
	}
	q = b.get(r.authURL(oauth2.SetAuthURLParam("scope", "openid licence:driving-licence"), oauth2.SetAuthURLParam("prompt", "none")).url).callback(t)
	if q.Get("error") != "consent_required" {
		t.Fatalf("prompt=none with another licence scope: %v", q)
	}

	// client_credentials never carries a licence scope: no holder consented.
	status, out := e.postForm("/token", r.client.ID, r.secret, url.Values{"grant_type": {"client_credentials"}, "scope": {"profile licence:resident-id"}})
	if status == http.StatusOK {
		if sc, _ := out["scope"].(string); strings.Contains(sc, "licence:") {
			t.Errorf("client_credentials granted %q", sc)
		}
		if in := e.introspect(r, out["access_token"].(string)); strings.Contains(in["scope"].(string), "licence:") {
			t.Errorf("client_credentials token introspects with %v", in["scope"])
		}
	} else {
		t.Errorf("client_credentials: %d %v", status, out)
	}
}
