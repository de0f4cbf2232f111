package oidc_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/tongban/tongban/audit"
	tboidc "github.com/tongban/tongban/oidc"
	"github.com/tongban/tongban/storage"
	"github.com/tongban/tongban/storage/storagetest"
)

// Token exchange (RFC 8693, issue 8 part 3): a citizen logs in to app A (code flow, x/oauth2),
// service A exchanges the access token for department B's API, B introspects the result.

func TestTokenExchangeSQLite(t *testing.T) {
	runExchange(t, storagetest.SQLite(t))
}

func TestTokenExchangePostgres(t *testing.T) {
	runExchange(t, storagetest.Postgres(t))
}

const (
	audB = "https://b.example.gov.cn/api"
	audC = "https://c.example.gov.cn/api"
)

// exchangeForm is a token exchange request for subject token tok with extra parameters
// (key, value pairs; a value "" deletes the key).
func exchangeForm(tok string, kv ...string) url.Values {
	f := url.Values{"grant_type": {tboidc.GrantTokenExchange}, "subject_token": {tok},
		"subject_token_type": {tboidc.TokenTypeAccessToken}, "audience": {audB}}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			f.Del(kv[i])
		} else {
			f.Set(kv[i], kv[i+1])
		}
	}
	return f
}

// exchangeAudits returns the token.exchange and token.exchange.refused entries.
func exchangeAudits(t *testing.T, e *env) (ok, refused []storage.AuditEvent) {
	t.Helper()
	evs, err := e.store.ListAudit(context.Background(), 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		switch ev.Action {
		case "token.exchange":
			ok = append(ok, ev)
		case "token.exchange.refused":
			refused = append(refused, ev)
		}
	}
	return ok, refused
}

func runExchange(t *testing.T, store storage.Storage) {
	e := newEnv(t, store, envOptions{})
	ctx := context.Background()
	exchangeGrants := []string{"authorization_code", "refresh_token", tboidc.GrantTokenExchange}
	appA := e.newRP(tboidc.NewClient{GrantTypes: exchangeGrants})
	apiB := e.newRP(tboidc.NewClient{GrantTypes: []string{"client_credentials"}, Scopes: []string{"profile"}})
	if _, err := tboidc.SetExchangePolicy(ctx, store, audit.Shell, storage.ExchangePolicy{ClientID: appA.client.ID,
		Audience: audB, Scopes: []string{"openid", "profile"}, MaxLifetime: 5 * time.Minute}); err != nil {
		t.Fatal(err)
	}
	citizen, citizenNum := e.person("张明", "")
	tok := appA.login(t, e.browser(), citizenNum)
	subjectIntro := e.introspect(apiB, tok.AccessToken)
	if !active(subjectIntro) {
		t.Fatalf("subject token inactive: %v", subjectIntro)
	}
	exchange := func(c *rp, form url.Values) (int, map[string]any) {
		t.Helper()
		return e.postForm("/token", c.client.ID, c.secret, form)
	}
	wantError := func(t *testing.T, status int, out map[string]any, code string) {
		t.Helper()
		if status != http.StatusBadRequest && !(code == "invalid_client" && status == http.StatusUnauthorized) || out["error"] != code {
			t.Errorf("got %d %v, want 400 %s", status, out, code)
		}
		if out["access_token"] != nil {
			t.Errorf("a refused exchange issued a token: %v", out)
		}
	}
	var exchanged string

	t.Run("ok/exchange-and-introspect-as-B", func(t *testing.T) {
		status, out := exchange(appA, exchangeForm(tok.AccessToken))
		if status != 200 {
			t.Fatalf("exchange: %d %v", status, out)
		}
		if out["issued_token_type"] != tboidc.TokenTypeAccessToken || out["token_type"] != "Bearer" || out["refresh_token"] != nil ||
			out["id_token"] != nil || out["scope"] != "openid profile" {
			t.Errorf("response %v", out)
		}
		if exp, _ := out["expires_in"].(float64); exp <= 0 || exp > 300 {
			t.Errorf("expires_in = %v, want ≤ 300 (the policy's 5 minutes)", out["expires_in"])
		}
		exchanged, _ = out["access_token"].(string)
		in := e.introspect(apiB, exchanged)
		act, _ := in["act"].(map[string]any)
		if !active(in) || !slices.Equal(anyStrings(in["aud"]), []string{audB}) || act["sub"] != appA.client.ID || act["act"] != nil ||
			in["sub"] != subjectIntro["sub"] || in["sub"] == nil || in["client_id"] != appA.client.ID || in["scope"] != "openid profile" {
			t.Errorf("introspection of the exchanged token: %v (subject %v)", in, subjectIntro)
		}
		oks, _ := exchangeAudits(t, e)
		if len(oks) != 1 || oks[0].Actor != appA.client.ID || oks[0].Subject != citizen.ID ||
			!strings.Contains(oks[0].Detail, "audience="+audB) || !strings.Contains(oks[0].Detail, "scopes=openid,profile") {
			t.Errorf("audit %+v", oks)
		}
	})

	t.Run("ok/repeatable-each-audited", func(t *testing.T) {
		for range 2 {
			if status, out := exchange(appA, exchangeForm(tok.AccessToken, "scope", "profile")); status != 200 || out["scope"] != "profile" {
				t.Errorf("exchange again: %d %v", status, out)
			}
		}
		// resource (RFC 8707) names the target as well as audience does.
		if status, out := exchange(appA, exchangeForm(tok.AccessToken, "audience", "", "resource", audB)); status != 200 {
			t.Errorf("exchange by resource: %d %v", status, out)
		}
		if oks, _ := exchangeAudits(t, e); len(oks) != 4 {
			t.Errorf("%d token.exchange entries, want 4", len(oks))
		}
	})

	t.Run("ok/actor-token-and-nested-act", func(t *testing.T) {
		cc := clientcredentials.Config{ClientID: apiB.client.ID, ClientSecret: apiB.secret, TokenURL: e.issuer + "/token", Scopes: []string{"profile"}}
		actorTok, err := cc.Token(context.WithValue(e.ctx, oauth2.HTTPClient, e.hs.Client()))
		if err != nil {
			t.Fatal(err)
		}
		status, out := exchange(appA, exchangeForm(tok.AccessToken, "actor_token", actorTok.AccessToken, "actor_token_type", tboidc.TokenTypeAccessToken))
		if status != 200 {
			t.Fatalf("exchange with actor token: %d %v", status, out)
		}
		in := e.introspect(apiB, out["access_token"].(string))
		if act, _ := in["act"].(map[string]any); act["sub"] != apiB.client.ID {
			t.Errorf("act with an actor token: %v", in["act"])
		}
		// A second service exchanges the exchanged token: act nests (RFC 8693 §4.1).
		svc2 := e.newRP(tboidc.NewClient{GrantTypes: []string{"client_credentials", tboidc.GrantTokenExchange}, Scopes: []string{"profile"}})
		if _, err := tboidc.SetExchangePolicy(ctx, store, audit.Shell, storage.ExchangePolicy{ClientID: svc2.client.ID, Audience: audC}); err != nil {
			t.Fatal(err)
		}
		status, out = exchange(svc2, exchangeForm(exchanged, "audience", audC))
		if status != 200 {
			t.Fatalf("second exchange: %d %v", status, out)
		}
		in = e.introspect(apiB, out["access_token"].(string))
		b, _ := json.Marshal(in["act"])
		want := `{"act":{"sub":"` + appA.client.ID + `"},"sub":"` + svc2.client.ID + `"}`
		if string(b) != want || in["sub"] != subjectIntro["sub"] || !slices.Equal(anyStrings(in["aud"]), []string{audC}) {
			t.Errorf("nested act = %s, want %s; %v", b, want, in)
		}
	})

	t.Run("fail/refused", func(t *testing.T) {
		_, refusedBefore := exchangeAudits(t, e)
		noPolicy := e.newRP(tboidc.NewClient{GrantTypes: exchangeGrants})
		notRegistered := e.newRP(tboidc.NewClient{})
		public := e.newRP(tboidc.NewClient{Public: true})
		ccTok, err := (&clientcredentials.Config{ClientID: apiB.client.ID, ClientSecret: apiB.secret, TokenURL: e.issuer + "/token"}).
			Token(context.WithValue(e.ctx, oauth2.HTTPClient, e.hs.Client()))
		if err != nil {
			t.Fatal(err)
		}
		tampered := []byte(tok.AccessToken)
		tampered[len(tampered)/2] ^= 1
		if tampered[len(tampered)/2] == '.' || tampered[len(tampered)/2] == '/' {
			tampered[len(tampered)/2] = 'A'
		}
		for _, c := range []struct {
			name   string
			client *rp
			form   url.Values
			want   string
		}{
			{"no-policy", noPolicy, exchangeForm(tok.AccessToken), "unauthorized_client"},
			{"grant-not-registered", notRegistered, exchangeForm(tok.AccessToken), "unauthorized_client"},
			{"audience-not-in-policy", appA, exchangeForm(tok.AccessToken, "audience", audC), "invalid_target"},
			{"resource-not-in-policy", appA, exchangeForm(tok.AccessToken, "resource", audC), "invalid_target"},
			{"resource-not-absolute", appA, exchangeForm(tok.AccessToken, "audience", "", "resource", "/api"), "invalid_target"},
			{"scope-not-in-subject-token", appA, exchangeForm(tok.AccessToken, "scope", "phone"), "invalid_scope"},
			{"scope-not-in-policy", appA, exchangeForm(tok.AccessToken, "scope", "offline_access"), "invalid_scope"},
			{"wrong-subject-token-type", appA, exchangeForm(tok.AccessToken, "subject_token_type", "urn:ietf:params:oauth:token-type:id_token"), "invalid_request"},
			{"no-subject-token-type", appA, exchangeForm(tok.AccessToken, "subject_token_type", ""), "invalid_request"},
			{"no-subject-token", appA, exchangeForm("", "subject_token", ""), "invalid_request"},
			{"no-target", appA, exchangeForm(tok.AccessToken, "audience", ""), "invalid_request"},
			{"requested-refresh-token", appA, exchangeForm(tok.AccessToken, "requested_token_type", "urn:ietf:params:oauth:token-type:refresh_token"), "invalid_request"},
			{"actor-type-without-token", appA, exchangeForm(tok.AccessToken, "actor_token_type", tboidc.TokenTypeAccessToken), "invalid_request"},
			{"actor-token-without-type", appA, exchangeForm(tok.AccessToken, "actor_token", ccTok.AccessToken), "invalid_request"},
			{"tampered-subject-token", appA, exchangeForm(string(tampered)), "invalid_grant"},
			{"refresh-token-as-subject", appA, exchangeForm(tok.RefreshToken), "invalid_grant"},
			{"subject-token-without-person", appA, exchangeForm(ccTok.AccessToken), "invalid_grant"},
			{"tampered-actor-token", appA, exchangeForm(tok.AccessToken, "actor_token", string(tampered), "actor_token_type", tboidc.TokenTypeAccessToken), "invalid_grant"},
		} {
			t.Run(c.name, func(t *testing.T) {
				status, out := exchange(c.client, c.form)
				wantError(t, status, out, c.want)
			})
		}
		// A public client authenticates with its ID only and is refused.
		status, out := e.postForm("/token", public.client.ID, "", exchangeForm(tok.AccessToken))
		wantError(t, status, out, "unauthorized_client")
		// Duplicate parameters (RFC 6749 §3.2).
		f := exchangeForm(tok.AccessToken)
		f.Add("audience", audC)
		status, out = exchange(appA, f)
		wantError(t, status, out, "invalid_request")

		_, refused := exchangeAudits(t, e)
		refused = refused[len(refusedBefore):]
		if len(refused) != 19 { // every case above but the duplicate (refused before any client is known)
			t.Errorf("%d token.exchange.refused entries, want 19", len(refused))
		}
		found := false
		for _, ev := range refused {
			if strings.Contains(ev.Detail, "error=invalid_target") && strings.Contains(ev.Detail, "audience="+url.QueryEscape(audC)) && ev.Actor == appA.client.ID {
				found = true
			}
		}
		if !found {
			t.Errorf("no invalid_target refusal audited: %+v", refused)
		}
		// The registration refuses the grant for public clients.
		_, _, err = tboidc.CreateClient(ctx, store, e.kr, tboidc.NewClient{ID: "public-exchanger", Public: true,
			GrantTypes: []string{tboidc.GrantTokenExchange}, Scopes: []string{"profile"}})
		if !errors.Is(err, tboidc.ErrInvalidGrantType) {
			t.Errorf("public client registered for token exchange: %v", err)
		}
	})

	t.Run("ok/jwt-access-token-with-act", func(t *testing.T) {
		appJ := e.newRP(tboidc.NewClient{GrantTypes: exchangeGrants, AccessTokenFormat: tboidc.AccessTokenJWT, IDTokenAlg: tboidc.AlgES256})
		if _, err := tboidc.SetExchangePolicy(ctx, store, audit.Shell, storage.ExchangePolicy{ClientID: appJ.client.ID, Audience: audB}); err != nil {
			t.Fatal(err)
		}
		status, out := exchange(appJ, exchangeForm(tok.AccessToken))
		if status != 200 {
			t.Fatalf("exchange: %d %v", status, out)
		}
		jwt, _ := out["access_token"].(string)
		parts := strings.Split(jwt, ".")
		if len(parts) != 3 {
			t.Fatalf("not a JWT: %q", jwt)
		}
		payload, err := base64URLDecode(parts[1])
		if err != nil {
			t.Fatal(err)
		}
		var claims map[string]any
		if err := json.Unmarshal(payload, &claims); err != nil {
			t.Fatal(err)
		}
		act, _ := claims["act"].(map[string]any)
		if act["sub"] != appJ.client.ID || claims["aud"] != audB || claims["sub"] != subjectIntro["sub"] || claims["client_id"] != appJ.client.ID {
			t.Errorf("JWT claims %v", claims)
		}
		if in := e.introspect(apiB, jwt); !active(in) || in["act"] == nil {
			t.Errorf("introspection of the JWT: %v", in)
		}
	})

	t.Run("fail/disabled-person", func(t *testing.T) {
		other, otherNum := e.person("李红", "")
		otherTok := appA.login(t, e.browser(), otherNum)
		status, out := exchange(appA, exchangeForm(otherTok.AccessToken))
		if status != 200 {
			t.Fatalf("exchange: %d %v", status, out)
		}
		if err := store.UpdatePerson(ctx, other.ID, func(p *storage.Person) error { p.Disabled = true; return nil }); err != nil {
			t.Fatal(err)
		}
		status, out2 := exchange(appA, exchangeForm(otherTok.AccessToken))
		wantError(t, status, out2, "invalid_grant")
		if in := e.introspect(apiB, out["access_token"].(string)); active(in) {
			t.Errorf("a disabled person's exchanged token is active: %v", in)
		}
	})

	t.Run("fail/suspended-subject-app", func(t *testing.T) {
		appX := e.newRP(tboidc.NewClient{})
		xTok := appX.login(t, e.browser(), citizenNum)
		if status, out := exchange(appA, exchangeForm(xTok.AccessToken)); status != 200 {
			t.Fatalf("exchange of another app's token: %d %v", status, out)
		}
		if err := tboidc.SuspendClient(ctx, store, audit.Shell, appX.client.ID, "测试"); err != nil {
			t.Fatal(err)
		}
		status, out := exchange(appA, exchangeForm(xTok.AccessToken))
		wantError(t, status, out, "invalid_grant")
	})

	t.Run("fail/revoked-subject-token", func(t *testing.T) {
		t2 := appA.login(t, e.browser(), citizenNum)
		status, out := exchange(appA, exchangeForm(t2.AccessToken))
		if status != 200 {
			t.Fatalf("exchange: %d %v", status, out)
		}
		if status, _ := e.postForm("/revoke", appA.client.ID, appA.secret, url.Values{"token": {t2.AccessToken}}); status != 200 {
			t.Fatalf("revoke: %d", status)
		}
		status, out2 := exchange(appA, exchangeForm(t2.AccessToken))
		wantError(t, status, out2, "invalid_grant")
		// The token exchanged from it is revoked with it.
		if in := e.introspect(apiB, out["access_token"].(string)); active(in) {
			t.Errorf("the exchanged token outlived its subject token's revocation: %v", in)
		}
	})

	t.Run("fail/expired-subject-token", func(t *testing.T) {
		status, out := exchange(appA, exchangeForm(tok.AccessToken))
		if status != 200 {
			t.Fatalf("exchange: %d %v", status, out)
		}
		e.clock.Advance(tboidc.DefaultAccessTokenLifetime + time.Second)
		status, out2 := exchange(appA, exchangeForm(tok.AccessToken))
		wantError(t, status, out2, "invalid_grant")
		if in := e.introspect(apiB, out["access_token"].(string)); active(in) {
			t.Errorf("the exchanged token outlived its subject token: %v", in)
		}
	})

	t.Run("ok/no-tokens-in-audit-or-logs", func(t *testing.T) {
		evs, err := store.ListAudit(ctx, 0, 10000)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs {
			for _, secret := range []string{tok.AccessToken, tok.RefreshToken, exchanged} {
				if strings.Contains(ev.Detail, secret) || strings.Contains(ev.Detail, secret[:20]) {
					t.Errorf("audit entry %s holds a token", ev.Action)
				}
			}
		}
		if strings.Contains(e.logs.String(), exchanged) || strings.Contains(e.logs.String(), tok.AccessToken) {
			t.Error("a token reached the logs")
		}
	})
}

// anyStrings converts a JSON array (or a single string) to []string.
func anyStrings(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		out := make([]string, 0, len(x))
		for _, s := range x {
			str, _ := s.(string)
			out = append(out, str)
		}
		return out
	}
	return nil
}

// TestExchangePolicyValidation checks SetExchangePolicy's refusals (nothing stored, nothing
// audited) and that set and remove are audited.
func TestExchangePolicyValidation(t *testing.T) {
	store := storagetest.SQLite(t)
	e := newEnv(t, store, envOptions{})
	ctx := context.Background()
	svc := e.newRP(tboidc.NewClient{GrantTypes: []string{"client_credentials", tboidc.GrantTokenExchange}, Scopes: []string{"profile"}})
	pub := e.newRP(tboidc.NewClient{Public: true})
	for _, c := range []struct {
		name string
		p    storage.ExchangePolicy
		want error
	}{
		{"fail/unknown-client", storage.ExchangePolicy{ClientID: "nobody", Audience: audB}, storage.ErrNotFound},
		{"fail/public-client", storage.ExchangePolicy{ClientID: pub.client.ID, Audience: audB}, tboidc.ErrExchangePublicClient},
		{"fail/relative-audience", storage.ExchangePolicy{ClientID: svc.client.ID, Audience: "/api"}, tboidc.ErrInvalidExchangeAudience},
		{"fail/fragment", storage.ExchangePolicy{ClientID: svc.client.ID, Audience: audB + "#x"}, tboidc.ErrInvalidExchangeAudience},
		{"fail/space", storage.ExchangePolicy{ClientID: svc.client.ID, Audience: audB + " " + audC}, tboidc.ErrInvalidExchangeAudience},
		{"fail/empty", storage.ExchangePolicy{ClientID: svc.client.ID}, tboidc.ErrInvalidExchangeAudience},
		{"fail/offline-access", storage.ExchangePolicy{ClientID: svc.client.ID, Audience: audB, Scopes: []string{"offline_access"}}, tboidc.ErrInvalidScope},
		{"fail/unknown-scope", storage.ExchangePolicy{ClientID: svc.client.ID, Audience: audB, Scopes: []string{"admin"}}, tboidc.ErrInvalidScope},
		{"fail/lifetime-short", storage.ExchangePolicy{ClientID: svc.client.ID, Audience: audB, MaxLifetime: time.Second}, tboidc.ErrInvalidExchangeLifetime},
		{"fail/lifetime-long", storage.ExchangePolicy{ClientID: svc.client.ID, Audience: audB, MaxLifetime: 25 * time.Hour}, tboidc.ErrInvalidExchangeLifetime},
		{"ok", storage.ExchangePolicy{ClientID: svc.client.ID, Audience: audB, Scopes: []string{"profile", "openid", "profile"}, MaxLifetime: 10 * time.Minute}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := tboidc.SetExchangePolicy(ctx, store, audit.Shell, c.p)
			if !errors.Is(err, c.want) {
				t.Errorf("err = %v, want %v", err, c.want)
			}
		})
	}
	ps, err := tboidc.ListExchangePolicies(ctx, store, "")
	if err != nil || len(ps) != 1 || !slices.Equal(ps[0].Scopes, []string{"openid", "profile"}) {
		t.Fatalf("policies %+v %v", ps, err)
	}
	if err := tboidc.RemoveExchangePolicy(ctx, store, audit.Shell, svc.client.ID, audB); err != nil {
		t.Fatal(err)
	}
	if err := tboidc.RemoveExchangePolicy(ctx, store, audit.Shell, svc.client.ID, audB); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("remove again: %v", err)
	}
	evs, _ := store.ListAudit(ctx, 0, 1000)
	var actions []string
	for _, ev := range evs {
		if strings.HasPrefix(ev.Action, "client.exchange_policy.") {
			actions = append(actions, ev.Action+" "+ev.Actor+" "+ev.Subject)
		}
	}
	want := []string{"client.exchange_policy.set operator " + svc.client.ID, "client.exchange_policy.remove operator " + svc.client.ID}
	if !slices.Equal(actions, want) {
		t.Errorf("audit %q, want %q", actions, want)
	}
}
