package federation

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	smcrypto "github.com/tongban/tongban/sm-crypto"
)

// t0 is the fixed clock of the tests.
var t0 = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

// testEntity is a federation entity served over real HTTP (httptest, loopback): its entity
// configuration at /.well-known/openid-federation and, when it has subordinates, a fetch
// endpoint. Hooks let a test forge what it serves.
type testEntity struct {
	t      testing.TB
	id     string
	srv    *httptest.Server
	signer *Signer
	hints  []string
	md     map[string]map[string]any
	marks  []TrustMarkRef
	issuer map[string][]string // trust_mark_issuers
	mu     sync.Mutex
	subs   map[string]*testSub
	hits   atomic.Int64
	// ecHook changes the configuration before it is signed; ecSigner signs it instead.
	ecHook   func(*EntityStatement)
	ecSigner *Signer
	// ssHook changes a subordinate statement before it is signed; ssSigner signs it instead.
	ssHook   func(*EntityStatement)
	ssSigner *Signer
	// raw serves this body for every request instead.
	raw func(w http.ResponseWriter, r *http.Request) bool
}

type testSub struct {
	entity      *testEntity
	policy      Policy
	constraints *Constraints
	md          map[string]map[string]any
}

func newKey(t testing.TB, sm2 bool) *Signer {
	t.Helper()
	var s *Signer
	var err error
	if sm2 {
		k, kerr := smcrypto.GenerateKey(rand.Reader)
		if kerr != nil {
			t.Fatal(kerr)
		}
		s, err = NewSigner(k, "")
	} else {
		k, kerr := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if kerr != nil {
			t.Fatal(kerr)
		}
		s, err = NewSigner(k, "")
	}
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// newEntity starts an entity; sm2 picks its key type.
func newEntity(t testing.TB, sm2 bool, hints ...*testEntity) *testEntity {
	t.Helper()
	e := &testEntity{t: t, signer: newKey(t, sm2), subs: map[string]*testSub{}}
	for _, h := range hints {
		e.hints = append(e.hints, h.id)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+WellKnownPath, e.serveConfig)
	mux.HandleFunc("GET /fetch", e.serveFetch)
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.hits.Add(1)
		if e.raw != nil && e.raw(w, r) {
			return
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(e.srv.Close)
	e.id = e.srv.URL
	e.md = map[string]map[string]any{EntityTypeFederation: {federationFetchParam: e.id + "/fetch", "organization_name": "test"}}
	return e
}

// addSub makes e the superior of sub.
func (e *testEntity) addSub(sub *testEntity, policy Policy, c *Constraints) *testSub {
	ts := &testSub{entity: sub, policy: policy, constraints: c}
	e.mu.Lock()
	e.subs[sub.id] = ts
	e.mu.Unlock()
	return ts
}

func (e *testEntity) config() *EntityStatement {
	return &EntityStatement{Issuer: e.id, Subject: e.id, IssuedAt: t0.Add(-time.Minute), Expires: t0.Add(time.Hour),
		JWKS: KeySet(e.signer), AuthorityHints: e.hints, Metadata: e.md, TrustMarks: e.marks, TrustMarkIssuers: e.issuer}
}

func (e *testEntity) serveConfig(w http.ResponseWriter, _ *http.Request) {
	ec := e.config()
	if e.ecHook != nil {
		e.ecHook(ec)
	}
	s := e.signer
	if e.ecSigner != nil {
		s = e.ecSigner
	}
	raw, err := SignEntityStatement(ec, s)
	if err != nil {
		e.t.Error(err)
		http.Error(w, err.Error(), 500)
		return
	}
	w.Header().Set("Content-Type", ContentTypeStatement)
	_, _ = w.Write([]byte(raw))
}

func (e *testEntity) serveFetch(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	ts, ok := e.subs[r.URL.Query().Get("sub")]
	e.mu.Unlock()
	if !ok {
		http.Error(w, `{"error":"not_found"}`, http.StatusNotFound)
		return
	}
	ss := &EntityStatement{Issuer: e.id, Subject: ts.entity.id, IssuedAt: t0.Add(-time.Minute), Expires: t0.Add(2 * time.Hour),
		JWKS: KeySet(ts.entity.signer), MetadataPolicy: ts.policy, Constraints: ts.constraints, Metadata: ts.md,
		SourceEndpoint: e.id + "/fetch"}
	if e.ssHook != nil {
		e.ssHook(ss)
	}
	s := e.signer
	if e.ssSigner != nil {
		s = e.ssSigner
	}
	raw, err := SignEntityStatement(ss, s)
	if err != nil {
		e.t.Error(err)
		http.Error(w, err.Error(), 500)
		return
	}
	w.Header().Set("Content-Type", ContentTypeStatement)
	_, _ = w.Write([]byte(raw))
}

// anchor returns e as a configured trust anchor.
func (e *testEntity) anchor(t testing.TB) TrustAnchor {
	b, err := KeySet(e.signer).MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return TrustAnchor{EntityID: e.id, JWKS: b}
}

func newResolver(anchors ...TrustAnchor) *Resolver {
	return &Resolver{Anchors: anchors, AllowHTTP: true, Now: func() time.Time { return t0 }}
}

// threeLevel builds leaf → intermediate → anchor; the leaf is an RP.
func threeLevel(t testing.TB) (ta, mid, leaf *testEntity) {
	ta = newEntity(t, true)
	mid = newEntity(t, false, ta)
	leaf = newEntity(t, true, mid)
	leaf.md[EntityTypeRP] = map[string]any{
		"client_name":   "app of B",
		"redirect_uris": []any{"https://app.example/cb"},
		"grant_types":   []any{"authorization_code", "refresh_token"},
		"contacts":      []any{"ops@app.example"},
	}
	ta.addSub(mid, nil, nil)
	mid.addSub(leaf, nil, nil)
	return
}
