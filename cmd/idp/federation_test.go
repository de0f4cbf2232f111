package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tongban/tongban/federation"
)

// fedEntity is a federation entity over loopback HTTP built with package federation's
// helpers: its entity configuration, and a fetch endpoint serving statements about subs.
type fedEntity struct {
	id     string
	signer *federation.Signer
	hints  []string
	md     map[string]map[string]any
	subs   map[string]*federation.Signer
}

func newFedEntity(t *testing.T, hints ...string) *fedEntity {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	e := &fedEntity{hints: hints, subs: map[string]*federation.Signer{}}
	e.signer, _ = federation.NewSigner(k, "")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := time.Now().Truncate(time.Second)
		st := &federation.EntityStatement{Issuer: e.id, Subject: e.id, IssuedAt: now, Expires: now.Add(time.Hour),
			JWKS: federation.KeySet(e.signer), AuthorityHints: e.hints, Metadata: e.md}
		if r.URL.Path == "/fetch" {
			s, ok := e.subs[r.URL.Query().Get("sub")]
			if !ok {
				http.NotFound(w, r)
				return
			}
			st = &federation.EntityStatement{Issuer: e.id, Subject: r.URL.Query().Get("sub"), IssuedAt: now, Expires: now.Add(time.Hour),
				JWKS: federation.KeySet(s)}
		} else if r.URL.Path != federation.WellKnownPath {
			http.NotFound(w, r)
			return
		}
		raw, err := federation.SignEntityStatement(st, e.signer)
		if err != nil {
			t.Error(err)
			return
		}
		w.Header().Set("Content-Type", federation.ContentTypeStatement)
		_, _ = io.WriteString(w, raw)
	}))
	t.Cleanup(srv.Close)
	e.id = srv.URL
	e.md = map[string]map[string]any{federation.EntityTypeFederation: {"federation_fetch_endpoint": e.id + "/fetch"}}
	return e
}

// TestFederationCommands: `idp federation …` stores, lists and removes superiors, anchors,
// subordinates and trust marks, refuses bad input with exit 2 storing nothing, resolves a
// chain over HTTP, and audits every change.
func TestFederationCommands(t *testing.T) {
	dir := t.TempDir()
	initVar(t, dir)
	const self = "http://127.0.0.1:8080" // idpserver.DefaultIssuer

	r := idp(t, dir, "", nil, "federation", "show", "--json")
	mustOK(t, r, "show")
	ec := decode[map[string]any](t, r)
	if ec["iss"] != self || ec["sub"] != self || ec["authority_hints"] != nil {
		t.Fatalf("show: %s", r.Stdout)
	}

	mustOK(t, idp(t, dir, "", nil, "federation", "authority", "add", "--entity-id", "https://national.example"), "authority add")
	for _, bad := range [][]string{
		{"federation", "authority", "add", "--entity-id", "ftp://national.example"},
		{"federation", "authority", "add", "--entity-id", "http://national.example"},  // http only on loopback
		{"federation", "authority", "add", "--entity-id", "https://national.example"}, // duplicate
		{"federation", "authority", "remove", "https://nowhere.example"},
	} {
		if r := idp(t, dir, "", nil, bad...); r.Code != 2 {
			t.Errorf("%v: exit %d %s", bad, r.Code, r.Stderr)
		}
	}
	r = idp(t, dir, "", nil, "federation", "authority", "list", "--json")
	if hints := decode[[]string](t, r); len(hints) != 1 || hints[0] != "https://national.example" {
		t.Fatalf("authority list: %s", r.Stdout)
	}
	r = idp(t, dir, "", nil, "federation", "show")
	if !strings.Contains(r.Stdout, "authority hints  https://national.example") || !strings.Contains(r.Stdout, "SGD_SM3_SM2 kid=") {
		t.Errorf("show: %s", r.Stdout)
	}

	// Subordinates, by JWKS file.
	app := newFedEntity(t, self)
	jwks, _ := federation.KeySet(app.signer).MarshalJSON()
	jwksFile := filepath.Join(dir, "app.jwks")
	policyFile := filepath.Join(dir, "policy.json")
	badPolicy := filepath.Join(dir, "bad-policy.json")
	_ = os.WriteFile(jwksFile, jwks, 0o600)
	_ = os.WriteFile(policyFile, []byte(`{"openid_relying_party":{"grant_types":{"subset_of":["authorization_code"]}}}`), 0o600)
	_ = os.WriteFile(badPolicy, []byte(`{"openid_relying_party":{"grant_types":{"one_of":["a"],"subset_of":["a"]}}}`), 0o600)
	for _, bad := range [][]string{
		{"--entity-id", "https://app.example", "--jwks-file", jwksFile, "--policy-file", badPolicy},
		{"--entity-id", "https://app.example", "--jwks-file", jwksFile, "--max-path-length", "-1"},
		{"--entity-id", "https://app.example"},
		{"--entity-id", "https://app.example", "--jwks-file", jwksFile, "--fetch"},
		{"--entity-id", "https://app.example", "--jwks-file", policyFile},
		{"--entity-id", "https://app.example", "--jwks-file", jwksFile, "--entity-type", "Bad Type"},
	} {
		if r := idp(t, dir, "", nil, append([]string{"federation", "subordinate", "add"}, bad...)...); r.Code != 2 {
			t.Errorf("subordinate add %v: exit %d %s", bad, r.Code, r.Stderr)
		}
	}
	if r := idp(t, dir, "", nil, "federation", "subordinate", "list", "--json"); strings.TrimSpace(r.Stdout) != "[]" {
		t.Fatalf("refused subordinates were stored: %s", r.Stdout)
	}
	mustOK(t, idp(t, dir, "", nil, "federation", "subordinate", "add", "--entity-id", app.id, "--jwks-file", jwksFile,
		"--entity-type", "openid_relying_party", "--policy-file", policyFile, "--max-path-length", "0"), "subordinate add")
	r = idp(t, dir, "", nil, "federation", "subordinate", "show", app.id)
	mustOK(t, r, "subordinate show")
	sub := decode[subordinateJSON](t, r)
	if sub.EntityID != app.id || !strings.Contains(string(sub.Constraints), `"max_path_length": 0`) || sub.EntityTypes[0] != "openid_relying_party" {
		t.Fatalf("subordinate show: %s", r.Stdout)
	}
	mustOK(t, idp(t, dir, "", nil, "federation", "subordinate", "remove", app.id), "subordinate remove")
	if r := idp(t, dir, "", nil, "federation", "subordinate", "show", app.id); r.Code != 2 {
		t.Errorf("show removed: exit %d", r.Code)
	}

	// A trust anchor by --fetch, and a chain resolved to it: app → anchor.
	ta := newFedEntity(t)
	ta.subs[app.id] = app.signer
	app.hints = []string{ta.id}
	app.md[federation.EntityTypeRP] = map[string]any{"client_name": "app"}
	r = idp(t, dir, "", nil, "federation", "anchor", "add", "--entity-id", ta.id, "--fetch")
	mustOK(t, r, "anchor add --fetch")
	if !strings.Contains(r.Stdout, "ES256 kid="+ta.signer.KeyID()+" sha256=") {
		t.Errorf("anchor add --fetch printed no thumbprint: %s", r.Stdout)
	}
	r = idp(t, dir, "", nil, "federation", "resolve", "--entity-id", app.id, "--entity-type", "openid_relying_party", "--json")
	mustOK(t, r, "resolve")
	res := decode[map[string]any](t, r)
	if res["trust_anchor"] != ta.id || res["metadata"].(map[string]any)["client_name"] != "app" || len(res["trust_chain"].([]any)) != 3 {
		t.Fatalf("resolve: %s", r.Stdout)
	}
	delete(ta.subs, app.id)
	other := newFedEntity(t, ta.id)
	if r := idp(t, dir, "", nil, "federation", "resolve", "--entity-id", other.id); r.Code != 1 || !strings.Contains(r.Stderr, "no valid trust chain") {
		t.Errorf("resolve unknown: exit %d %s", r.Code, r.Stderr)
	}
	if r := idp(t, dir, "", nil, "federation", "resolve", "--entity-id", "not-a-url"); r.Code != 2 {
		t.Errorf("resolve bad id: exit %d %s", r.Code, r.Stderr)
	}
	r = idp(t, dir, "", nil, "federation", "anchor", "list", "--json")
	if !strings.Contains(r.Stdout, ta.id) {
		t.Errorf("anchor list: %s", r.Stdout)
	}

	// Trust marks: issue one about the app; hold one the anchor issued to this instance.
	const typ = "https://national.example/trust-marks/gov"
	mustOK(t, idp(t, dir, "", nil, "federation", "trust-mark", "issue", "--sub", app.id, "--id", typ, "--ttl", "24h"), "trust-mark issue")
	if r := idp(t, dir, "", nil, "federation", "trust-mark", "issue", "--sub", app.id, "--id", "not a uri"); r.Code != 2 {
		t.Errorf("bad type: exit %d", r.Code)
	}
	now := time.Now().Truncate(time.Second)
	mark, err := federation.SignTrustMark(ta.signer, ta.id, self, typ, now, now.Add(48*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	r = idp(t, dir, mark, nil, "federation", "trust-mark", "add", "--file", "-")
	mustOK(t, r, "trust-mark add")
	wantExp := now.Add(48 * time.Hour).UTC().Format(time.RFC3339)
	if !strings.Contains(r.Stdout, "issued by "+ta.id+", expires "+wantExp) {
		t.Errorf("trust-mark add: %s", r.Stdout)
	}
	if r := idp(t, dir, "not a jwt", nil, "federation", "trust-mark", "add", "--file", "-"); r.Code != 2 {
		t.Errorf("bad mark: exit %d", r.Code)
	}
	r = idp(t, dir, "", nil, "federation", "trust-mark", "list")
	if !strings.Contains(r.Stdout, "issued") || !regexp.MustCompile(`held +`+regexp.QuoteMeta(typ)+` +\S+ +`+wantExp).MatchString(r.Stdout) {
		t.Errorf("trust-mark list lacks the held mark's exp %s: %s", wantExp, r.Stdout)
	}
	mustOK(t, idp(t, dir, "", nil, "federation", "anchor", "remove", ta.id), "anchor remove")
	r = idp(t, dir, "", nil, "federation", "show", "--json")
	ec = decode[map[string]any](t, r)
	if marks, _ := ec["trust_marks"].([]any); len(marks) != 1 || ec["trust_mark_issuers"] == nil {
		t.Errorf("show after marks: %s", r.Stdout)
	}

	r = idp(t, dir, "", nil, "audit", "list", "--action", "federation.")
	mustOK(t, r, "audit list")
	for _, a := range []string{"federation.authority.add", "federation.subordinate.add", "federation.subordinate.remove",
		"federation.anchor.add", "federation.anchor.remove", "federation.trust_mark.issue", "federation.trust_mark.add"} {
		if !strings.Contains(r.Stdout, a) {
			t.Errorf("audit has no %s", a)
		}
	}
}

// TestFederationTrustMarkAddVerifies: `idp federation trust-mark add` refuses, storing
// nothing, a mark when no anchor is configured, and forged (wrong key, issuer no anchor
// vouches for), expired or foreign marks; `trust-mark list` then shows none held.
func TestFederationTrustMarkAddVerifies(t *testing.T) {
	dir := t.TempDir()
	initVar(t, dir)
	const self = "http://127.0.0.1:8080" // idpserver.DefaultIssuer
	const typ = "https://national.example/trust-marks/gov"
	ta := newFedEntity(t)
	now := time.Now().Truncate(time.Second)
	sign := func(s *federation.Signer, iss, sub string, iat, exp time.Time) string {
		m, err := federation.SignTrustMark(s, iss, sub, typ, iat, exp)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	good := sign(ta.signer, ta.id, self, now, now.Add(time.Hour))
	if r := idp(t, dir, good, nil, "federation", "trust-mark", "add", "--file", "-"); r.Code != 2 || !strings.Contains(r.Stderr, "no trust anchor is configured") {
		t.Errorf("no anchor: exit %d %s", r.Code, r.Stderr)
	}
	mustOK(t, idp(t, dir, "", nil, "federation", "anchor", "add", "--entity-id", ta.id, "--fetch"), "anchor add")
	forger := newFedEntity(t) // a real entity no anchor vouches for
	for name, c := range map[string]struct{ mark, want string }{
		"wrong key":      {sign(forger.signer, ta.id, self, now, now.Add(time.Hour)), "signature"},
		"fake issuer":    {sign(forger.signer, forger.id, self, now, now.Add(time.Hour)), "not a trust_mark_issuer"},
		"expired":        {sign(ta.signer, ta.id, self, now.Add(-2*time.Hour), now.Add(-time.Hour)), "expired"},
		"other subject":  {sign(ta.signer, ta.id, "https://other.example", now, now.Add(time.Hour)), "not this instance"},
		"issued in 2099": {sign(ta.signer, ta.id, self, now.AddDate(73, 0, 0), now.AddDate(74, 0, 0)), "future"},
	} {
		r := idp(t, dir, c.mark, nil, "federation", "trust-mark", "add", "--file", "-")
		if r.Code != 2 || !strings.Contains(r.Stderr, c.want) {
			t.Errorf("%s: exit %d, want 2 saying %q: %s", name, r.Code, c.want, r.Stderr)
		}
	}
	if r := idp(t, dir, "", nil, "federation", "trust-mark", "list", "--json"); strings.Contains(r.Stdout, "held") {
		t.Fatalf("a refused mark is held: %s", r.Stdout)
	}
	mustOK(t, idp(t, dir, good, nil, "federation", "trust-mark", "add", "--file", "-"), "good mark")
}

// TestFederationEntityIDFlags: every command taking an entity ID refuses user info, spaces, a
// bad port, an over-long host, this server's own entity ID and one already used, naming the
// flag, and stores nothing.
func TestFederationEntityIDFlags(t *testing.T) {
	dir := t.TempDir()
	initVar(t, dir)
	const self = "http://127.0.0.1:8080" // idpserver.DefaultIssuer
	bad := []string{"https://user:pw@idp.a.gov.cn", "https://idp.a.gov.cn ", "https://idp.a.gov.cn:99999",
		"https://" + strings.Repeat("a", 3000) + ".example", "https://idp.a.gov.cn:0"}
	up := func(id, entity string) []string {
		return []string{"upstreams", "add", "--federation", "--id", id, "--entity-id", entity, "--label-zh", "甲省", "--label-en", "A"}
	}
	for _, e := range append(bad, self, self+"/") {
		r := idp(t, dir, "", nil, up("province-a", e)...)
		if r.Code != 2 || !strings.Contains(r.Stderr, "--entity-id") || strings.Contains(r.Stderr, "issuer must") {
			t.Errorf("upstreams add --entity-id %.40q: exit %d %s", e, r.Code, r.Stderr)
		}
	}
	mustOK(t, idp(t, dir, "", nil, up("province-a", "https://idp.a.gov.cn")...), "upstreams add")
	if r := idp(t, dir, "", nil, up("province-a2", "https://idp.a.gov.cn/")...); r.Code != 2 || !strings.Contains(r.Stderr, "already upstream province-a") {
		t.Errorf("second upstream for one entity: exit %d %s", r.Code, r.Stderr)
	}
	r := idp(t, dir, "", nil, "upstreams", "list", "--json")
	if ups := decode[[]upstreamJSON](t, r); len(ups) != 1 {
		t.Fatalf("refused upstreams were stored: %s", r.Stdout)
	}
	jwksFile := filepath.Join(dir, "app.jwks")
	jwks, _ := federation.KeySet(newFedEntity(t).signer).MarshalJSON()
	_ = os.WriteFile(jwksFile, jwks, 0o600)
	for _, e := range bad {
		for _, args := range [][]string{
			{"federation", "subordinate", "add", "--entity-id", e, "--jwks-file", jwksFile},
			{"federation", "authority", "add", "--entity-id", e},
			{"federation", "anchor", "add", "--entity-id", e, "--jwks-file", jwksFile},
		} {
			if r := idp(t, dir, "", nil, args...); r.Code != 2 || !strings.Contains(r.Stderr, "--entity-id") {
				t.Errorf("%s %s %.40q: exit %d %s", args[1], args[2], e, r.Code, r.Stderr)
			}
		}
	}
	if r := idp(t, dir, "", nil, "federation", "subordinate", "list", "--json"); strings.TrimSpace(r.Stdout) != "[]" {
		t.Fatalf("refused subordinates were stored: %s", r.Stdout)
	}
}

// TestFederationResolvePath: `idp federation resolve` prints each entity of the chain once.
func TestFederationResolvePath(t *testing.T) {
	dir := t.TempDir()
	initVar(t, dir)
	ta := newFedEntity(t)
	mid := newFedEntity(t, ta.id)
	leaf := newFedEntity(t, mid.id)
	ta.subs[mid.id], mid.subs[leaf.id] = mid.signer, leaf.signer
	mustOK(t, idp(t, dir, "", nil, "federation", "anchor", "add", "--entity-id", ta.id, "--fetch"), "anchor add")
	r := idp(t, dir, "", nil, "federation", "resolve", "--entity-id", leaf.id)
	mustOK(t, r, "resolve")
	if want := "trust chain  " + leaf.id + " → " + mid.id + " → " + ta.id + "\n"; !strings.Contains(r.Stdout, want) {
		t.Errorf("resolve: want %q in %s", want, r.Stdout)
	}
}
