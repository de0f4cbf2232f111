package oidc_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tongban/tongban/audit"
	"github.com/tongban/tongban/federation"
	tboidc "github.com/tongban/tongban/oidc"
	"github.com/tongban/tongban/storage"
	"github.com/tongban/tongban/storage/storagetest"
)

// The federation endpoints of a real provider over HTTP (plain, loopback), with a leaf entity
// (an RP publishing its entity configuration with package federation's signing helpers) below
// it, and the provider configured as its own trust anchor.

func TestFederationEndpointsSQLite(t *testing.T) {
	testFederationEndpoints(t, storagetest.SQLite(t))
}

func TestFederationEndpointsPostgres(t *testing.T) {
	testFederationEndpoints(t, storagetest.Postgres(t))
}

// testLeaf is an RP publishing its entity configuration.
type testLeaf struct {
	id     string
	signer *federation.Signer
	hints  []string
	marks  []federation.TrustMarkRef
}

func newTestLeaf(t *testing.T, hint string) *testLeaf {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	l := &testLeaf{hints: []string{hint}}
	if l.signer, err = federation.NewSigner(k, ""); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != federation.WellKnownPath {
			http.NotFound(w, r)
			return
		}
		now := time.Now().Truncate(time.Second)
		ec := &federation.EntityStatement{Issuer: l.id, Subject: l.id, IssuedAt: now, Expires: now.Add(time.Hour),
			JWKS: federation.KeySet(l.signer), AuthorityHints: l.hints, TrustMarks: l.marks,
			Metadata: map[string]map[string]any{federation.EntityTypeRP: {
				"client_name": "乙省 app", "redirect_uris": []any{"https://app.example/cb"},
				"grant_types": []any{"authorization_code", "refresh_token"},
			}}}
		raw, err := federation.SignEntityStatement(ec, l.signer)
		if err != nil {
			t.Error(err)
			return
		}
		w.Header().Set("Content-Type", federation.ContentTypeStatement)
		_, _ = io.WriteString(w, raw)
	}))
	t.Cleanup(srv.Close)
	l.id = srv.URL
	return l
}

type fedResponse struct {
	status int
	ctype  string
	body   string
}

func fedGet(t *testing.T, u string) fedResponse {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return fedResponse{resp.StatusCode, resp.Header.Get("Content-Type"), string(b)}
}

func (r fedResponse) errorCode(t *testing.T) string {
	t.Helper()
	var e struct {
		Error string `json:"error"`
	}
	if err := json.Unmarshal([]byte(r.body), &e); err != nil {
		t.Fatalf("error body %q: %v", r.body, err)
	}
	return e.Error
}

func testFederationEndpoints(t *testing.T, store storage.Storage) {
	e := newEnv(t, store, envOptions{plain: true, mutate: func(c *tboidc.Config) { c.FederationOrganization = "乙省政务服务平台" }})
	ctx := context.Background()
	now := time.Now()

	// The entity configuration: self-signed, with the OP metadata of discovery.
	r := fedGet(t, e.issuer+federation.WellKnownPath)
	if r.status != 200 || r.ctype != federation.ContentTypeStatement {
		t.Fatalf("configuration: %d %s %s", r.status, r.ctype, r.body)
	}
	ec, err := federation.ParseStatement(r.body)
	if err != nil {
		t.Fatal(err)
	}
	if err := federation.VerifyStatement(ec, nil); err != nil || ec.Issuer != e.issuer || ec.Subject != e.issuer || ec.Alg != federation.AlgSM2 {
		t.Fatalf("configuration %v alg %s", err, ec.Alg)
	}
	if len(ec.JWKS.SM2) != 1 || len(ec.JWKS.Standard.Keys) != 1 {
		t.Fatalf("jwks: %d SM2, %d standard", len(ec.JWKS.SM2), len(ec.JWKS.Standard.Keys))
	}
	op := ec.Metadata[federation.EntityTypeOP]
	fe := ec.Metadata[federation.EntityTypeFederation]
	if op["issuer"] != e.issuer || op["token_endpoint"] != e.issuer+"/token" || fe["federation_fetch_endpoint"] != e.issuer+"/federation/fetch" ||
		fe["organization_name"] != "乙省政务服务平台" || ec.AuthorityHints != nil {
		t.Fatalf("metadata %v / %v, hints %v", op, fe, ec.AuthorityHints)
	}

	// Authority hints appear in the configuration, in the order added.
	for i, h := range []string{"https://national.example", "https://backup.example"} {
		if err := tboidc.AddAuthorityHint(ctx, store, audit.Shell, h, now.Add(time.Duration(i)*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tboidc.AddAuthorityHint(ctx, store, audit.Shell, "national.example", now); !errors.Is(err, tboidc.ErrInvalidFederation) {
		t.Fatalf("bad hint: %v", err)
	}
	ec, _ = federation.ParseStatement(fedGet(t, e.issuer+federation.WellKnownPath).body)
	if strings.Join(ec.AuthorityHints, " ") != "https://national.example https://backup.example" {
		t.Fatalf("hints %v", ec.AuthorityHints)
	}
	if err := tboidc.RemoveAuthorityHint(ctx, store, audit.Shell, "https://backup.example", now); err != nil {
		t.Fatal(err)
	}

	// A subordinate RP with a policy.
	leaf := newTestLeaf(t, e.issuer)
	jwks, _ := federation.KeySet(leaf.signer).MarshalJSON()
	if _, err := tboidc.AddFederationSubordinate(ctx, store, audit.Shell, tboidc.NewFederationSubordinate{
		EntityID: leaf.id, JWKS: jwks, EntityTypes: []string{federation.EntityTypeRP},
		MetadataPolicy: []byte(`{"openid_relying_party":{"grant_types":{"subset_of":["authorization_code"]},"subject_type":{"value":"pairwise"}}}`),
	}, now); err != nil {
		t.Fatal(err)
	}
	zero := 0
	for name, bad := range map[string]tboidc.NewFederationSubordinate{
		"conflicting policy": {EntityID: "https://x.example", JWKS: jwks, MetadataPolicy: []byte(`{"t":{"p":{"one_of":["a"],"add":["a"]}}}`)},
		"no keys":            {EntityID: "https://x.example", JWKS: []byte(`{"keys":[]}`)},
		"not https":          {EntityID: "http://x.example", JWKS: jwks},
		"bad constraints":    {EntityID: "https://x.example", JWKS: jwks, Constraints: []byte(`{"max_paths":1}`), MaxPathLength: &zero},
		"bad entity type":    {EntityID: "https://x.example", JWKS: jwks, EntityTypes: []string{"OP!"}},
	} {
		if _, err := tboidc.AddFederationSubordinate(ctx, store, audit.Shell, bad, now); !errors.Is(err, tboidc.ErrInvalidFederation) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := store.GetFederationSubordinate(ctx, "https://x.example"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatal("a refused subordinate was stored")
	}

	r = fedGet(t, e.issuer+"/federation/fetch?sub="+url.QueryEscape(leaf.id))
	if r.status != 200 || r.ctype != federation.ContentTypeStatement {
		t.Fatalf("fetch: %d %s", r.status, r.body)
	}
	ss, err := federation.ParseStatement(r.body)
	if err != nil {
		t.Fatal(err)
	}
	if err := federation.VerifyStatement(ss, ec.JWKS); err != nil || ss.Issuer != e.issuer || ss.Subject != leaf.id ||
		ss.MetadataPolicy[federation.EntityTypeRP]["subject_type"]["value"] != "pairwise" || len(ss.JWKS.Standard.Keys) != 1 {
		t.Fatalf("subordinate statement %v: %+v", err, ss)
	}
	for q, want := range map[string]struct {
		status int
		code   string
	}{
		"?sub=" + url.QueryEscape("https://unknown.example"): {404, "not_found"},
		"":                                  {400, "invalid_request"},
		"?sub=" + url.QueryEscape(e.issuer): {400, "invalid_request"},
		"?sub=a&sub=b":                      {400, "invalid_request"},
	} {
		r := fedGet(t, e.issuer+"/federation/fetch"+q)
		if r.status != want.status || r.errorCode(t) != want.code {
			t.Errorf("fetch%s: %d %s", q, r.status, r.body)
		}
	}

	// The list endpoint.
	for q, want := range map[string]string{
		"":                                  `["` + leaf.id + `"]`,
		"?entity_type=openid_relying_party": `["` + leaf.id + `"]`,
		"?entity_type=openid_provider":      `[]`,
	} {
		r := fedGet(t, e.issuer+"/federation/list"+q)
		if r.status != 200 || strings.TrimSpace(r.body) != want {
			t.Errorf("list%s: %d %s", q, r.status, r.body)
		}
	}
	if r := fedGet(t, e.issuer+"/federation/list?intermediate=true"); r.status != 400 || r.errorCode(t) != "unsupported_parameter" {
		t.Errorf("list intermediate: %d %s", r.status, r.body)
	}

	// This instance as trust anchor (and trust-mark issuer); resolve the leaf through it.
	ecJWKS, _ := ec.JWKS.MarshalJSON()
	if _, err := tboidc.AddFederationAnchor(ctx, store, audit.Shell, e.issuer, ecJWKS, now); err != nil {
		t.Fatal(err)
	}
	const markType = "https://national.example/trust-marks/gov-app"
	mark, err := tboidc.IssueTrustMark(ctx, store, e.kr, audit.Shell, e.issuer, leaf.id, markType, time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	leaf.marks = []federation.TrustMarkRef{{Type: markType, TrustMark: mark}}
	resolveURL := func(sub, anchor, et string) string {
		q := url.Values{"sub": {sub}, "trust_anchor": {anchor}}
		if et != "" {
			q.Set("entity_type", et)
		}
		return e.issuer + "/federation/resolve?" + q.Encode()
	}
	r = fedGet(t, resolveURL(leaf.id, e.issuer, federation.EntityTypeRP))
	if r.status != 200 || r.ctype != federation.ContentTypeResolve {
		t.Fatalf("resolve: %d %s", r.status, r.body)
	}
	claims := verifyResolveResponse(t, r.body, ec)
	md := claims["metadata"].(map[string]any)[federation.EntityTypeRP].(map[string]any)
	if md["subject_type"] != "pairwise" || len(md["grant_types"].([]any)) != 1 || claims["sub"] != leaf.id {
		t.Fatalf("resolved metadata %v", md)
	}
	if tc := claims["trust_chain"].([]any); len(tc) != 3 {
		t.Fatalf("trust_chain of %d", len(tc))
	}
	if tm := claims["trust_marks"].([]any); len(tm) != 1 {
		t.Fatalf("trust_marks %v", tm)
	}
	for name, c := range map[string]struct {
		url    string
		status int
		code   string
	}{
		"unknown anchor":  {resolveURL(leaf.id, "https://nowhere.example", ""), 404, "invalid_trust_anchor"},
		"missing anchor":  {e.issuer + "/federation/resolve?sub=" + url.QueryEscape(leaf.id), 400, "invalid_request"},
		"no such subject": {resolveURL("http://127.0.0.1:1", e.issuer, ""), 400, "invalid_trust_chain"},
		"bad subject":     {resolveURL("not a url", e.issuer, ""), 400, "invalid_request"},
		"metadata server": {resolveURL("https://169.254.169.254", e.issuer, ""), 400, "invalid_trust_chain"},
		"private address": {resolveURL("https://10.0.0.1", e.issuer, ""), 400, "invalid_trust_chain"},
		"userinfo":        {resolveURL("https://u:p@app.example", e.issuer, ""), 400, "invalid_request"},
	} {
		r := fedGet(t, c.url)
		if r.status != c.status || r.errorCode(t) != c.code {
			t.Errorf("%s: %d %s", name, r.status, r.body)
		}
		for _, leak := range []string{"dial", "connect", "refused", "lookup", "deadline", "non-public"} {
			if strings.Contains(r.body, leak) {
				t.Errorf("%s: the answer shows the network error (%q): %s", name, leak, r.body)
			}
		}
	}
	// An anchor this instance has not configured: refused before the subject is fetched.
	var hits atomic.Int64
	probe := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	t.Cleanup(probe.Close)
	if r := fedGet(t, resolveURL(probe.URL, "https://nowhere.example", "")); r.status != 404 || r.errorCode(t) != "invalid_trust_anchor" || hits.Load() != 0 {
		t.Errorf("unknown anchor: %d %s, %d fetches of the subject", r.status, r.body, hits.Load())
	}
	// The fetch endpoint issues only as this entity.
	if r := fedGet(t, e.issuer+"/federation/fetch?iss="+url.QueryEscape("https://other.example")+"&sub="+url.QueryEscape(leaf.id)); r.status != 404 || r.errorCode(t) != "invalid_issuer" {
		t.Errorf("fetch with a foreign iss: %d %s", r.status, r.body)
	}
	if r := fedGet(t, e.issuer+"/federation/fetch?iss="+url.QueryEscape(e.issuer)+"&sub="+url.QueryEscape(leaf.id)); r.status != 200 {
		t.Errorf("fetch with iss = this entity: %d %s", r.status, r.body)
	}
	// The leaf rotates its key without telling its superior: the chain no longer verifies.
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf.signer, _ = federation.NewSigner(k, "")
	other := newTestLeaf(t, e.issuer) // a fresh subject (the first chain is cached until exp)
	other.signer = leaf.signer
	if r := fedGet(t, resolveURL(other.id, e.issuer, "")); r.status != 400 || r.errorCode(t) != "invalid_trust_chain" {
		t.Errorf("unregistered subject: %d %s", r.status, r.body)
	}

	// Metrics count the requests; the audit trail has every change.
	mfs, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, mf := range mfs {
		if mf.GetName() != "tongban_idp_federation_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			l := m.GetLabel()
			if l[0].GetValue() == "fetch" && l[1].GetValue() == "not_found" && m.GetCounter().GetValue() == 2 { // the unknown sub, and the unregistered leaf resolved
				found = true
			}
		}
	}
	if !found {
		t.Error("federation metric fetch/not_found is not 2")
	}
	events, err := store.ListAudit(ctx, 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, ev := range events {
		seen[ev.Action] = true
	}
	for _, a := range []string{"federation.authority.add", "federation.authority.remove", "federation.subordinate.add",
		"federation.anchor.add", "federation.trust_mark.issue"} {
		if !seen[a] {
			t.Errorf("no audit event %s", a)
		}
	}
}

func verifyResolveResponse(t *testing.T, jwt string, ec *federation.EntityStatement) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
	var h map[string]any
	_ = json.Unmarshal(hb, &h)
	if h["typ"] != federation.TypeResolveResponse {
		t.Fatalf("resolve response header %v", h)
	}
	if _, err := ec.JWKS.VerifySM2(jwt); err != nil {
		t.Fatalf("resolve response signature: %v", err)
	}
	pb, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var claims map[string]any
	if err := json.Unmarshal(pb, &claims); err != nil {
		t.Fatal(err)
	}
	return claims
}
