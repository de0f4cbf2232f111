package oidc_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"github.com/tongban/tongban/audit"
	tboidc "github.com/tongban/tongban/oidc"
	"github.com/tongban/tongban/storage"
	"github.com/tongban/tongban/storage/storagetest"
)

// listFederation is a Config.Federation over a fixed list of entities, for the provider's side
// of OpenID Federation alone (package federation's Resolver resolves real chains in the
// three-instance test, cmd/idp): each entity's answer is a function, so a test changes what
// the "chain" says.
type listFederation struct {
	entityID string
	mu       sync.Mutex
	entities map[string]func() (tboidc.ResolvedEntity, error) // by subject + " " + entity type
	calls    int
}

func (f *listFederation) EntityID() string { return f.entityID }

func (f *listFederation) ResolveEntity(_ context.Context, subject, entityType string) (tboidc.ResolvedEntity, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	fn, ok := f.entities[subject+" "+entityType]
	if !ok {
		return tboidc.ResolvedEntity{}, &tboidc.ChainError{Reason: "no_trust_anchor", Err: errors.New("no chain")}
	}
	return fn()
}

func (f *listFederation) set(subject, entityType string, fn func() (tboidc.ResolvedEntity, error)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.entities == nil {
		f.entities = map[string]func() (tboidc.ResolvedEntity, error){}
	}
	f.entities[subject+" "+entityType] = fn
}

// fedRP is a federation relying party: an entity ID, an ES256 key published in its metadata,
// and go-oidc's provider for the OP.
type fedRP struct {
	e        *env
	id       string
	key      *ecdsa.PrivateKey
	redirect string
	metadata map[string]any
}

func newFedRP(t *testing.T, e *env, n int) *fedRP {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	jwk, err := (&jose.JSONWebKey{Key: &key.PublicKey, KeyID: "rp-1", Algorithm: "ES256", Use: "sig"}).MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	var jwkMap map[string]any
	_ = json.Unmarshal(jwk, &jwkMap)
	r := &fedRP{e: e, id: fmt.Sprintf("http://127.0.0.1:%d/rp", 41000+n), key: key,
		redirect: fmt.Sprintf("http://127.0.0.1:%d/rp/callback", 41000+n)}
	r.metadata = map[string]any{
		"client_registration_types": []any{"automatic"}, "client_name": "乙省联盟应用",
		"redirect_uris": []any{r.redirect}, "token_endpoint_auth_method": "private_key_jwt",
		"id_token_signed_response_alg": "ES256", "scope": "openid profile",
		"jwks": map[string]any{"keys": []any{jwkMap}},
	}
	return r
}

// requestObject signs an authorization request's parameters (plus iss, aud, exp, jti) with key.
func (r *fedRP) requestObject(t *testing.T, key *ecdsa.PrivateKey, claims map[string]any) string {
	t.Helper()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: key, KeyID: "rp-1"}},
		(&jose.SignerOptions{}).WithType("oauth-authz-req+jwt"))
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	jws, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := jws.CompactSerialize()
	return out
}

// authorize builds an authorization request whose parameters are all in a request object;
// mod changes the claims before signing.
func (r *fedRP) authorize(t *testing.T, key *ecdsa.PrivateKey, mod func(map[string]any)) (authRequest, string) {
	a := authRequest{state: randString(), nonce: randString(), verifier: oauth2.GenerateVerifier()}
	now := r.e.clock.Now()
	claims := map[string]any{"iss": r.id, "aud": r.e.issuer, "client_id": r.id, "jti": randString(),
		"iat": now.Unix(), "exp": now.Add(2 * time.Minute).Unix(),
		"response_type": "code", "redirect_uri": r.redirect, "scope": "openid profile", "state": a.state, "nonce": a.nonce,
		"code_challenge": oauth2.S256ChallengeFromVerifier(a.verifier), "code_challenge_method": "S256"}
	if mod != nil {
		mod(claims)
	}
	ro := r.requestObject(t, key, claims)
	a.url = r.e.issuer + "/authorize?" + url.Values{"client_id": {r.id}, "response_type": {"code"}, "scope": {"openid"},
		"request": {ro}}.Encode()
	return a, ro
}

// redeem exchanges code with a private_key_jwt assertion signed with the RP's key.
func (r *fedRP) redeem(t *testing.T, code, verifier string) (int, map[string]any) {
	t.Helper()
	signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: r.key, KeyID: "rp-1"}}, nil)
	tok := r.e.assertion(assertionKey{signer}, r.id, r.id, r.e.issuer+"/token", r.e.clock.Now().Add(time.Minute), randString())
	return r.e.postForm("/token", "", "", url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"code_verifier": {verifier}, "redirect_uri": {r.redirect}, "client_assertion_type": {tboidc.ClientAssertionType},
		"client_assertion": {tok}})
}

func (e *env) auditDetail(action, subject string) []string {
	e.t.Helper()
	evs, err := e.store.ListAudit(context.Background(), 0, 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, ev := range evs {
		if ev.Action == action && ev.Subject == subject {
			out = append(out, ev.Detail)
		}
	}
	return out
}

func TestFederationAutomaticRegistrationSQLite(t *testing.T) {
	testFederationAutomaticRegistration(t, storagetest.SQLite(t))
}

func TestFederationAutomaticRegistrationPostgres(t *testing.T) {
	testFederationAutomaticRegistration(t, storagetest.Postgres(t))
}

// testFederationAutomaticRegistration: an RP unknown to the provider sends a signed request
// object; its "chain" resolves, the app is registered from the metadata (published, source
// federation, expiring with the chain), the citizen logs in, and the code is redeemed with
// private_key_jwt. Then every refusal — no request object, a chain that does not resolve,
// unusable metadata, a wrong key, a wrong aud, an expired object, a replayed jti — has its
// own page and audit reason and registers nothing; an expired chain is resolved again on next
// use (metadata refreshed, audited), at the token endpoint too; a suspended app stays
// suspended.
func testFederationAutomaticRegistration(t *testing.T, store storage.Storage) {
	fed := &listFederation{entityID: "http://127.0.0.1:1/op"}
	e := newEnv(t, store, envOptions{mutate: func(c *tboidc.Config) { c.Federation = fed }})
	ctx := context.Background()
	_, num := e.person("张三", "")
	good := newFedRP(t, e, 1)
	anchor := "https://national.example"
	expires := e.clock.Now().Add(time.Hour).Truncate(time.Second)
	fed.set(good.id, tboidc.EntityTypeRelyingParty, func() (tboidc.ResolvedEntity, error) {
		return tboidc.ResolvedEntity{Metadata: good.metadata, TrustAnchor: anchor, Expires: expires}, nil
	})
	b := e.browser()

	// The happy path.
	a, ro := good.authorize(t, good.key, func(c map[string]any) { c["max_age"] = 3600 }) // a number, as JSON has it
	code := b.signIn(a, num)
	c, err := store.GetClient(ctx, good.id)
	if err != nil {
		t.Fatalf("app not registered: %v", err)
	}
	if c.Source != storage.ClientSourceFederation || c.Status != storage.ClientPublished || c.TrustAnchor != anchor ||
		!c.FederationExpiresAt.Equal(expires) || c.TokenEndpointAuthMethod != tboidc.AuthPrivateKeyJWT ||
		c.Name != "乙省联盟应用" || !slices.Equal(c.RedirectURIs, []string{good.redirect}) {
		t.Errorf("registered app = %+v", c)
	}
	if d := e.auditDetail("client.federation_register", good.id); len(d) != 1 || !strings.Contains(d[0], "trust_anchor="+anchor) {
		t.Errorf("registration audit: %q", d)
	}
	status, body := good.redeem(t, code, a.verifier)
	if status != 200 || body["id_token"] == nil {
		t.Fatalf("token: %d %v", status, body)
	}

	// The same request object again: a replay, even for a registered app.
	if p := b.get(a.url); p.status != 400 || !strings.Contains(p.body, "已使用过") {
		t.Errorf("replayed request object: %d %s", p.status, p.body)
	}
	if d := e.auditDetail("client.federation_refused", good.id); len(d) != 1 || d[0] != "reason=replay" {
		t.Errorf("replay audit: %q", d)
	}
	_ = ro

	// Refusals of an unknown RP: each its own reason; nothing registered.
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	for i, tc := range []struct {
		name   string
		setup  func(r *fedRP)
		key    func(r *fedRP) *ecdsa.PrivateKey
		mod    func(map[string]any)
		plain  bool // no request object
		detail string
		page   string
	}{
		{name: "fail/no request object", plain: true, detail: "reason=request_object", page: "请求对象无效"},
		{name: "fail/chain does not resolve", setup: func(r *fedRP) {
			fed.set(r.id, tboidc.EntityTypeRelyingParty, func() (tboidc.ResolvedEntity, error) {
				return tboidc.ResolvedEntity{}, &tboidc.ChainError{Reason: "signature", Err: errors.New("forged")}
			})
		}, detail: "reason=chain chain=signature", page: "可信联盟确认该应用"},
		{name: "fail/no chain to the anchor", detail: "reason=chain chain=no_trust_anchor", page: "可信联盟确认该应用"},
		{name: "fail/metadata without keys", setup: func(r *fedRP) {
			md := maps(r.metadata)
			delete(md, "jwks")
			fed.set(r.id, tboidc.EntityTypeRelyingParty, func() (tboidc.ResolvedEntity, error) {
				return tboidc.ResolvedEntity{Metadata: md, TrustAnchor: anchor, Expires: expires}, nil
			})
		}, detail: "reason=metadata", page: "元数据"},
		{name: "fail/signed with another key", key: func(*fedRP) *ecdsa.PrivateKey { return other }, detail: "reason=signature", page: "签名无效"},
		{name: "fail/aud another provider", mod: func(c map[string]any) { c["aud"] = "https://elsewhere.example" }, detail: "reason=request_object", page: "请求对象无效"},
		{name: "fail/iss another entity", mod: func(c map[string]any) { c["iss"] = good.id }, detail: "reason=request_object", page: "请求对象无效"},
		{name: "fail/expired", mod: func(c map[string]any) { c["exp"] = e.clock.Now().Add(-time.Second).Unix() }, detail: "reason=expired", page: "已过期"},
		{name: "fail/lives too long", mod: func(c map[string]any) { c["exp"] = e.clock.Now().Add(time.Hour).Unix() }, detail: "reason=expired", page: "已过期"},
		{name: "fail/no jti", mod: func(c map[string]any) { delete(c, "jti") }, detail: "reason=request_object", page: "请求对象无效"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newFedRP(t, e, 10+i)
			if tc.setup != nil {
				tc.setup(r)
			} else if !strings.Contains(tc.name, "no chain") {
				fed.set(r.id, tboidc.EntityTypeRelyingParty, func() (tboidc.ResolvedEntity, error) {
					return tboidc.ResolvedEntity{Metadata: r.metadata, TrustAnchor: anchor, Expires: expires}, nil
				})
			}
			key := r.key
			if tc.key != nil {
				key = tc.key(r)
			}
			a, _ := r.authorize(t, key, tc.mod)
			if tc.plain {
				a.url = e.issuer + "/authorize?" + url.Values{"client_id": {r.id}, "response_type": {"code"}, "scope": {"openid"},
					"redirect_uri": {r.redirect}, "state": {a.state}, "code_challenge": {oauth2.S256ChallengeFromVerifier(a.verifier)},
					"code_challenge_method": {"S256"}}.Encode()
			}
			p := b.get(a.url)
			if p.status != 400 || p.location != "" || !strings.Contains(p.body, tc.page) {
				t.Errorf("want the error page (%q), got %d %q:\n%s", tc.page, p.status, p.location, p.body)
			}
			if _, err := store.GetClient(ctx, r.id); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("app registered anyway: %v", err)
			}
			if d := e.auditDetail("client.federation_refused", r.id); len(d) != 1 || d[0] != tc.detail {
				t.Errorf("audit %q, want %q", d, tc.detail)
			}
		})
	}

	// The chain expires: the next authorization request resolves it again and the app gets
	// the new metadata (a second redirect URI), audited.
	e.clock.Advance(2 * time.Hour)
	second := strings.Replace(good.redirect, "/callback", "/callback2", 1)
	md := maps(good.metadata)
	md["redirect_uris"] = []any{good.redirect, second}
	expires2 := e.clock.Now().Add(time.Hour).Truncate(time.Second)
	fed.set(good.id, tboidc.EntityTypeRelyingParty, func() (tboidc.ResolvedEntity, error) {
		return tboidc.ResolvedEntity{Metadata: md, TrustAnchor: anchor, Expires: expires2}, nil
	})
	a, _ = good.authorize(t, good.key, func(c map[string]any) { c["redirect_uri"] = second })
	code = b.signIn(a, num)
	c, _ = store.GetClient(ctx, good.id)
	if !c.FederationExpiresAt.Equal(expires2) || len(c.RedirectURIs) != 2 {
		t.Errorf("refreshed app = %v %v", c.FederationExpiresAt, c.RedirectURIs)
	}
	if d := e.auditDetail("client.federation_refresh", good.id); len(d) != 1 {
		t.Errorf("refresh audit: %q", d)
	}
	// The chain expires between the code and its redemption and no longer resolves: the token
	// endpoint resolves it again (its next use) and refuses the app.
	fed.set(good.id, tboidc.EntityTypeRelyingParty, func() (tboidc.ResolvedEntity, error) {
		return tboidc.ResolvedEntity{Metadata: good.metadata, TrustAnchor: anchor, Expires: e.clock.Now().Add(20 * time.Second)}, nil
	})
	e.clock.Advance(2 * time.Hour)
	a, _ = good.authorize(t, good.key, nil)
	code = b.signIn(a, num)
	fed.set(good.id, tboidc.EntityTypeRelyingParty, func() (tboidc.ResolvedEntity, error) {
		return tboidc.ResolvedEntity{}, &tboidc.ChainError{Reason: "expired", Err: errors.New("superior statement expired")}
	})
	e.clock.Advance(30 * time.Second) // the code (60 s) is still good, the chain (20 s) is not
	if status, body := good.redeem(t, code, a.verifier); status != 401 || body["error"] != "invalid_client" {
		t.Errorf("redeem after the chain broke: %d %v", status, body)
	}
	if d := e.auditDetail("client.federation_refused", good.id); len(d) != 2 || d[1] != "reason=chain chain=expired" {
		t.Errorf("token endpoint refusal audit: %q", d)
	}

	// An operator suspends the app: its request objects no longer register or refresh it.
	fed.set(good.id, tboidc.EntityTypeRelyingParty, func() (tboidc.ResolvedEntity, error) {
		return tboidc.ResolvedEntity{Metadata: good.metadata, TrustAnchor: anchor, Expires: e.clock.Now().Add(time.Hour)}, nil
	})
	if err := tboidc.SuspendClient(ctx, store, audit.Shell, good.id, "审核发现问题"); err != nil {
		t.Fatal(err)
	}
	e.srv.ForgetClient(good.id)
	a, _ = good.authorize(t, good.key, nil)
	if p := b.get(a.url); p.status != http.StatusForbidden || p.location != "" {
		t.Errorf("suspended federation app: %d %q", p.status, p.location)
	}
	if c, _ := store.GetClient(ctx, good.id); c.Status != storage.ClientSuspended {
		t.Errorf("status after a request of the suspended app: %s", c.Status)
	}
}

// maps returns a shallow copy of m.
func maps(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// newFederationBrokerPair is a brokerPair whose province B finds province A through the
// federation (storage.Upstream.Federation): B resolves A's entity as an openid_provider (A's
// discovery document with its JWKS inline, as A's entity configuration publishes them), and A
// resolves B's entity as an openid_relying_party (B's FederationRPMetadata). Nothing is
// registered at A by hand.
func newFederationBrokerPair(t *testing.T, sa, sb storage.Storage) (*brokerPair, *listFederation, *listFederation) {
	t.Helper()
	ctx := context.Background()
	fedA, fedB := &listFederation{}, &listFederation{}
	a := newEnv(t, sa, envOptions{mutate: func(c *tboidc.Config) { c.Federation = fedA }})
	tam := &tamperer{base: a.hs.Client().Transport}
	b := newEnv(t, sb, envOptions{mutate: func(c *tboidc.Config) {
		c.Federation = fedB
		c.UpstreamHTTPClient = &http.Client{Transport: tam, Timeout: 10 * time.Second}
	}})
	fedA.entityID, fedB.entityID = a.issuer, b.issuer
	anchor := "https://national.example"
	fedB.set(a.issuer, tboidc.EntityTypeProvider, func() (tboidc.ResolvedEntity, error) {
		get := func(path string) (map[string]any, error) {
			resp, err := a.hs.Client().Get(a.issuer + path)
			if err != nil {
				return nil, err
			}
			defer resp.Body.Close()
			var m map[string]any
			return m, json.NewDecoder(resp.Body).Decode(&m)
		}
		md, err := get("/.well-known/openid-configuration")
		if err != nil {
			return tboidc.ResolvedEntity{}, err
		}
		jwks, err := get("/jwks")
		if err != nil {
			return tboidc.ResolvedEntity{}, err
		}
		delete(md, "jwks_uri")
		md["jwks"] = jwks
		return tboidc.ResolvedEntity{Metadata: md, TrustAnchor: anchor, Expires: b.clock.Now().Add(time.Hour)}, nil
	})
	fedA.set(b.issuer, tboidc.EntityTypeRelyingParty, func() (tboidc.ResolvedEntity, error) {
		md, err := b.srv.FederationRPMetadata(ctx)
		if err != nil {
			return tboidc.ResolvedEntity{}, err
		}
		js, _ := json.Marshal(md) // as it travels in an entity statement
		var back map[string]any
		_ = json.Unmarshal(js, &back)
		return tboidc.ResolvedEntity{Metadata: back, TrustAnchor: anchor, Expires: a.clock.Now().Add(time.Hour)}, nil
	})
	if _, err := tboidc.AddUpstream(ctx, b.store, b.kr, audit.Shell, tboidc.NewUpstream{ID: upstreamID, Issuer: a.issuer,
		Federation: true, Scopes: []string{"openid", "profile", tboidc.ScopeIDNumber}, IDNumberClaim: tboidc.ClaimIDNumber,
		TrustedIDNumbers: true, LabelZH: "甲省", LabelEN: "Province A"}, time.Now()); err != nil {
		t.Fatal(err)
	}
	return &brokerPair{t: t, a: a, b: b, tamper: tam, app: b.newRP(tboidc.NewClient{}), appA: a.newRP(tboidc.NewClient{})}, fedA, fedB
}

// TestFederationBrokeredLogin: province B brokers to province A found through the federation.
// B sends A a request object signed with its relying-party key (its entity ID as client_id),
// A registers B automatically from B's resolved metadata, B redeems A's code with
// private_key_jwt — no client secret anywhere — and checks A's ID token with the keys of A's
// resolved metadata. With a session at A, idp_hint gets the citizen into B's app with no
// typing; A's logout reaches B through the back-channel logout URI of B's metadata.
func TestFederationBrokeredLogin(t *testing.T) {
	p, _, fedB := newFederationBrokerPair(t, storagetest.SQLite(t), storagetest.SQLite(t))
	ctx := context.Background()
	_, num := p.a.person("张三", "")
	local := p.localPerson(num)

	br := p.browser()
	a := p.app.authURL()
	claims := p.appLogin(p.finish(br, p.startAtB(br, a), num), a)
	if claims["idp"] != p.a.issuer || claims["sub"] != local.ID {
		t.Errorf("claims %v, want idp %s and sub %s", claims, p.a.issuer, local.ID)
	}
	c, err := p.a.store.GetClient(ctx, p.b.issuer)
	if err != nil {
		t.Fatalf("B not registered at A: %v", err)
	}
	if c.Source != storage.ClientSourceFederation || c.TokenEndpointAuthMethod != tboidc.AuthPrivateKeyJWT || len(c.SecretHash) != 0 ||
		c.BackchannelLogoutURI != tboidc.UpstreamBackchannelLogoutURI(p.b.issuer) || c.IDTokenSignedResponseAlg != tboidc.AlgSM2 ||
		!slices.Contains(c.Scopes, tboidc.ScopeIDNumber) {
		t.Errorf("B at A = %+v", c)
	}

	// No re-entry: a session at A, then B's app with idp_hint.
	br2 := p.browser()
	p.appA.login(t, &browser{t: t, e: p.a, c: br2.c}, num)
	a2 := p.app.authURL(oauth2.SetAuthURLParam("idp_hint", upstreamID))
	pg := br2.get(a2.url)
	if pg.isLogin() || pg.isConsent() {
		t.Fatalf("want no page to type in, got %s:\n%s", pg.url, pg.body)
	}
	if claims := p.appLogin(pg, a2); claims["sub"] != local.ID {
		t.Errorf("silent login claims %v", claims)
	}

	// A's chain stops resolving at B: the next login through A is refused with its own page
	// once B's cached metadata expire.
	fedB.set(p.a.issuer, tboidc.EntityTypeProvider, func() (tboidc.ResolvedEntity, error) {
		return tboidc.ResolvedEntity{}, &tboidc.ChainError{Reason: "no_trust_anchor", Err: errors.New("no anchor")}
	})
	p.b.clock.Advance(2 * time.Hour)
	br3 := p.browser()
	pg = br3.get(p.app.authURL(oauth2.SetAuthURLParam("idp_hint", upstreamID)).url)
	if pg.status != http.StatusBadGateway && pg.status != http.StatusBadRequest || !strings.Contains(pg.body, "可信联盟") {
		t.Errorf("want the chain refusal page, got %d at %s", pg.status, pg.url)
	}
	if !p.audited("upstream.refused", "reason=chain") {
		t.Error("chain refusal not audited")
	}
}
