package federation

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestResolveThreeLevels(t *testing.T) {
	ta, mid, leaf := threeLevel(t)
	ta.subs[mid.id].policy = Policy{EntityTypeRP: {
		"grant_types": {OpSubsetOf: []any{"authorization_code"}},
		"contacts":    {OpAdd: []any{"help@national.example"}},
	}}
	mid.subs[leaf.id].policy = Policy{EntityTypeRP: {
		"contacts":     {OpAdd: []any{"help@b.example"}},
		"subject_type": {OpValue: "pairwise"},
	}}
	r := newResolver(ta.anchor(t))
	c, err := r.Resolve(context.Background(), leaf.id, EntityTypeRP)
	if err != nil {
		t.Fatal(err)
	}
	if c.Subject != leaf.id || c.TrustAnchor != ta.id || len(c.Statements) != 4 {
		t.Fatalf("chain %s → %s, %d statements", c.Subject, c.TrustAnchor, len(c.Statements))
	}
	want := map[string]any{
		"client_name":   "app of B",
		"redirect_uris": []any{"https://app.example/cb"},
		"grant_types":   []any{"authorization_code"},
		"contacts":      []any{"ops@app.example", "help@national.example", "help@b.example"},
		"subject_type":  "pairwise",
	}
	if !reflect.DeepEqual(c.Metadata, want) {
		t.Fatalf("metadata\n got %v\nwant %v", c.Metadata, want)
	}
	if !c.Expires.Equal(t0.Add(time.Hour)) {
		t.Fatalf("Expires %v", c.Expires)
	}
	for i, s := range c.Statements {
		if s.Raw == "" {
			t.Fatalf("statement %d has no Raw", i)
		}
	}
	if got := c.RawChain(); len(got) != 4 || got[0] != c.Statements[0].Raw {
		t.Fatal("RawChain")
	}
}

func TestResolveDirectAndAnchorItself(t *testing.T) {
	ta := newEntity(t, false)
	leaf := newEntity(t, false, ta)
	ta.addSub(leaf, nil, nil)
	r := newResolver(ta.anchor(t))
	c, err := r.Resolve(context.Background(), leaf.id, EntityTypeFederation)
	if err != nil || len(c.Statements) != 3 {
		t.Fatalf("leaf: %v", err)
	}
	c, err = r.Resolve(context.Background(), ta.id, "")
	if err != nil || len(c.Statements) != 1 || c.Metadata != nil {
		t.Fatalf("anchor itself: %v", err)
	}
}

func TestResolveCache(t *testing.T) {
	ta, mid, leaf := threeLevel(t)
	now := t0
	var mu sync.Mutex
	r := newResolver(ta.anchor(t))
	r.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	ctx := context.Background()
	first, err := r.Resolve(ctx, leaf.id, EntityTypeRP)
	if err != nil {
		t.Fatal(err)
	}
	hits := func() int64 { return ta.hits.Load() + mid.hits.Load() + leaf.hits.Load() }
	before := hits()
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			c, err := r.Resolve(ctx, leaf.id, EntityTypeRP)
			if err != nil || c != first {
				t.Error("cached resolve:", err)
			}
		})
	}
	wg.Wait()
	if hits() != before {
		t.Fatalf("cache hit fetched %d times", hits()-before)
	}
	mu.Lock()
	now = t0.Add(time.Hour) // the configurations' exp: chain and configurations expire
	mu.Unlock()
	if _, err := r.Resolve(ctx, leaf.id, EntityTypeRP); !errors.Is(err, ErrExpired) {
		t.Fatalf("after exp: %v", err) // the served statements are fixed to t0: now expired
	}
	if hits() == before {
		t.Fatal("expired chain not fetched again")
	}
}

func TestResolveSecondHint(t *testing.T) {
	ta := newEntity(t, false)
	dead := newEntity(t, false) // not an anchor, no hints
	mid := newEntity(t, false, ta)
	leaf := newEntity(t, false, dead, mid)
	dead.addSub(leaf, nil, nil)
	mid.addSub(leaf, nil, nil)
	ta.addSub(mid, nil, nil)
	c, err := newResolver(ta.anchor(t)).Resolve(context.Background(), leaf.id, "")
	if err != nil || c.Statements[1].Issuer != mid.id {
		t.Fatalf("second hint: %v", err)
	}
}

// forge signs a JWS with an arbitrary header over payload with a bogus signature.
func forge(header, payload string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(header)) + "." + enc([]byte(payload)) + "." + enc([]byte("sig"))
}

func TestResolveFailures(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name    string
		setup   func(t *testing.T) (*Resolver, string)
		wantErr error
	}{
		{"fail/leaf configuration signed by a key its superior does not name", func(t *testing.T) (*Resolver, string) {
			ta, _, leaf := threeLevel(t)
			other := newKey(t, true)
			leaf.ecSigner = other
			leaf.ecHook = func(s *EntityStatement) { s.JWKS = KeySet(other) } // self-consistent, wrong key
			return newResolver(ta.anchor(t)), leaf.id
		}, ErrSignature},
		{"fail/subordinate statement forged by another key", func(t *testing.T) (*Resolver, string) {
			ta, mid, leaf := threeLevel(t)
			mid.ssSigner = newKey(t, false)
			return newResolver(ta.anchor(t)), leaf.id
		}, ErrSignature},
		{"fail/anchor configuration not signed by the configured keys", func(t *testing.T) (*Resolver, string) {
			ta, _, leaf := threeLevel(t)
			a := ta.anchor(t)
			a.JWKS, _ = KeySet(newKey(t, true)).MarshalJSON()
			return newResolver(a), leaf.id
		}, ErrSignature},
		{"fail/expired subordinate statement", func(t *testing.T) (*Resolver, string) {
			ta, mid, leaf := threeLevel(t)
			mid.ssHook = func(s *EntityStatement) { s.IssuedAt, s.Expires = t0.Add(-2*time.Hour), t0.Add(-time.Second) }
			return newResolver(ta.anchor(t)), leaf.id
		}, ErrExpired},
		{"fail/statement issued in the future", func(t *testing.T) (*Resolver, string) {
			ta, mid, leaf := threeLevel(t)
			mid.ssHook = func(s *EntityStatement) { s.IssuedAt = t0.Add(5 * time.Minute) }
			return newResolver(ta.anchor(t)), leaf.id
		}, ErrExpired},
		{"fail/statement about another entity", func(t *testing.T) (*Resolver, string) {
			ta, mid, leaf := threeLevel(t)
			other := newEntity(t, false)
			mid.ssHook = func(s *EntityStatement) { s.Subject = other.id }
			return newResolver(ta.anchor(t)), leaf.id
		}, ErrWrongSubject},
		{"fail/configuration of another entity", func(t *testing.T) (*Resolver, string) {
			ta, _, leaf := threeLevel(t)
			leaf.ecHook = func(s *EntityStatement) {
				s.Issuer, s.Subject = "https://elsewhere.example", "https://elsewhere.example"
			}
			return newResolver(ta.anchor(t)), leaf.id
		}, ErrWrongSubject},
		{"fail/loop", func(t *testing.T) (*Resolver, string) {
			ta := newEntity(t, false)
			a := newEntity(t, false)
			b := newEntity(t, false, a)
			a.hints = []string{b.id}
			leaf := newEntity(t, false, a)
			a.addSub(leaf, nil, nil)
			b.addSub(a, nil, nil)
			a.addSub(b, nil, nil)
			return newResolver(ta.anchor(t)), leaf.id
		}, ErrLoop},
		{"fail/longer than MaxPathLength", func(t *testing.T) (*Resolver, string) {
			ta := newEntity(t, false)
			up := ta
			for range 6 { // five intermediates and a leaf
				e := newEntity(t, false, up)
				up.addSub(e, nil, nil)
				up = e
			}
			return newResolver(ta.anchor(t)), up.id
		}, ErrPathTooLong},
		{"fail/longer than the anchor's max_path_length", func(t *testing.T) (*Resolver, string) {
			ta, mid, leaf := threeLevel(t)
			zero := 0
			ta.subs[mid.id].constraints = &Constraints{MaxPathLength: &zero}
			return newResolver(ta.anchor(t)), leaf.id
		}, ErrPathTooLong},
		{"fail/naming constraints", func(t *testing.T) (*Resolver, string) {
			ta, mid, leaf := threeLevel(t)
			ta.subs[mid.id].constraints = &Constraints{NamingConstraints: &NamingConstraints{Permitted: []string{".gov.example"}}}
			return newResolver(ta.anchor(t)), leaf.id
		}, ErrConstraint},
		{"fail/entity type not allowed", func(t *testing.T) (*Resolver, string) {
			ta, mid, leaf := threeLevel(t)
			ta.subs[mid.id].constraints = &Constraints{AllowedEntityTypes: []string{EntityTypeOP}}
			return newResolver(ta.anchor(t)), leaf.id
		}, ErrConstraint},
		{"fail/conflicting policies", func(t *testing.T) (*Resolver, string) {
			ta, mid, leaf := threeLevel(t)
			ta.subs[mid.id].policy = Policy{EntityTypeRP: {"subject_type": {OpValue: "pairwise"}}}
			mid.subs[leaf.id].policy = Policy{EntityTypeRP: {"subject_type": {OpValue: "public"}}}
			return newResolver(ta.anchor(t)), leaf.id
		}, ErrPolicyConflict},
		{"fail/metadata outside the policy", func(t *testing.T) (*Resolver, string) {
			ta, mid, leaf := threeLevel(t)
			ta.subs[mid.id].policy = Policy{EntityTypeRP: {"client_name": {OpOneOf: []any{"x", "y"}}}}
			return newResolver(ta.anchor(t)), leaf.id
		}, ErrPolicyViolation},
		{"fail/no anchor", func(t *testing.T) (*Resolver, string) {
			ta := newEntity(t, false)
			mid := newEntity(t, false) // no hints
			leaf := newEntity(t, false, mid)
			mid.addSub(leaf, nil, nil)
			return newResolver(ta.anchor(t)), leaf.id
		}, ErrNoTrustAnchor},
		{"fail/wrong typ", func(t *testing.T) (*Resolver, string) {
			ta, _, leaf := threeLevel(t)
			leaf.raw = func(w http.ResponseWriter, r *http.Request) bool {
				w.Header().Set("Content-Type", ContentTypeStatement)
				tok, _ := leaf.signer.SignJWT("JWT", map[string]any{"iss": leaf.id})
				_, _ = w.Write([]byte(tok))
				return true
			}
			return newResolver(ta.anchor(t)), leaf.id
		}, ErrWrongType},
		{"fail/alg HS256", func(t *testing.T) (*Resolver, string) {
			ta, _, leaf := threeLevel(t)
			leaf.raw = func(w http.ResponseWriter, r *http.Request) bool {
				w.Header().Set("Content-Type", ContentTypeStatement)
				_, _ = w.Write([]byte(forge(`{"alg":"HS256","typ":"entity-statement+jwt"}`, `{}`)))
				return true
			}
			return newResolver(ta.anchor(t)), leaf.id
		}, ErrUnsupportedAlg},
		{"fail/alg none", func(t *testing.T) (*Resolver, string) {
			ta, _, leaf := threeLevel(t)
			leaf.raw = func(w http.ResponseWriter, r *http.Request) bool {
				w.Header().Set("Content-Type", ContentTypeStatement)
				_, _ = w.Write([]byte(forge(`{"alg":"none","typ":"entity-statement+jwt"}`, `{}`)))
				return true
			}
			return newResolver(ta.anchor(t)), leaf.id
		}, ErrUnsupportedAlg},
		{"fail/superior has no statement about the subject", func(t *testing.T) (*Resolver, string) {
			ta, mid, leaf := threeLevel(t)
			delete(mid.subs, leaf.id)
			return newResolver(ta.anchor(t)), leaf.id
		}, ErrFetch},
		{"fail/response over 1 MB", func(t *testing.T) (*Resolver, string) {
			ta, _, leaf := threeLevel(t)
			leaf.raw = func(w http.ResponseWriter, r *http.Request) bool {
				w.Header().Set("Content-Type", ContentTypeStatement)
				_, _ = w.Write([]byte(strings.Repeat("a", maxBody+10)))
				return true
			}
			return newResolver(ta.anchor(t)), leaf.id
		}, ErrFetch},
		{"fail/wrong content type", func(t *testing.T) (*Resolver, string) {
			ta, _, leaf := threeLevel(t)
			leaf.raw = func(w http.ResponseWriter, r *http.Request) bool {
				w.Header().Set("Content-Type", "text/html")
				_, _ = w.Write([]byte("<html>"))
				return true
			}
			return newResolver(ta.anchor(t)), leaf.id
		}, ErrFetch},
		{"fail/timeout", func(t *testing.T) (*Resolver, string) {
			ta, _, leaf := threeLevel(t)
			leaf.raw = func(w http.ResponseWriter, r *http.Request) bool {
				<-r.Context().Done()
				return true
			}
			r := newResolver(ta.anchor(t))
			r.FetchTimeout = 50 * time.Millisecond
			return r, leaf.id
		}, ErrFetch},
		{"fail/unknown crit claim", func(t *testing.T) (*Resolver, string) {
			ta, _, leaf := threeLevel(t)
			leaf.ecHook = func(s *EntityStatement) { s.Crit = []string{"province_extension"} }
			return newResolver(ta.anchor(t)), leaf.id
		}, ErrMalformed},
		{"fail/subject not https", func(t *testing.T) (*Resolver, string) {
			ta, _, leaf := threeLevel(t)
			r := newResolver(ta.anchor(t))
			r.AllowHTTP = false
			return r, leaf.id
		}, ErrMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, subject := c.setup(t)
			chain, err := r.Resolve(ctx, subject, EntityTypeRP)
			if !errors.Is(err, c.wantErr) {
				t.Fatalf("got chain %v, err %v; want %v", chain != nil, err, c.wantErr)
			}
			if chain != nil {
				t.Fatal("chain returned with an error")
			}
		})
	}
}

func TestResolveBoundOnFetches(t *testing.T) {
	ta, _, leaf := threeLevel(t)
	r := newResolver(ta.anchor(t))
	r.MaxFetches = 2
	if _, err := r.Resolve(context.Background(), leaf.id, ""); !errors.Is(err, ErrFetch) {
		t.Fatalf("got %v", err)
	}
}

func TestResolveTo(t *testing.T) {
	ta, _, leaf := threeLevel(t)
	other := newEntity(t, false)
	r := newResolver(ta.anchor(t), other.anchor(t))
	if _, err := r.ResolveTo(context.Background(), leaf.id, ta.id, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := r.ResolveTo(context.Background(), leaf.id, other.id, ""); !errors.Is(err, ErrNoTrustAnchor) {
		t.Fatalf("other anchor: %v", err)
	}
	if _, err := r.ResolveTo(context.Background(), leaf.id, "https://unknown.example", ""); !errors.Is(err, ErrNoTrustAnchor) {
		t.Fatalf("unknown anchor: %v", err)
	}
}

func TestTrustMarks(t *testing.T) {
	const typ = "https://national.example/marks/gov-app"
	ta, mid, leaf := threeLevel(t)
	ta.issuer = map[string][]string{typ: {mid.id}}
	issue := func(s *Signer, iss, sub, typ string, exp time.Time) string {
		tok, err := SignTrustMark(s, iss, sub, typ, t0.Add(-time.Minute), exp)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	rogue := newEntity(t, false, ta)
	ta.addSub(rogue, nil, nil)
	leaf.marks = []TrustMarkRef{
		{Type: typ, TrustMark: issue(ta.signer, ta.id, leaf.id, typ, t0.Add(30*time.Minute))},        // by the anchor itself
		{Type: typ, TrustMark: issue(mid.signer, mid.id, leaf.id, typ, time.Time{})},                 // listed issuer
		{Type: typ, TrustMark: issue(rogue.signer, rogue.id, leaf.id, typ, time.Time{})},             // not listed
		{Type: typ, TrustMark: issue(newKey(t, true), mid.id, leaf.id, typ, time.Time{})},            // forged
		{Type: typ, TrustMark: issue(mid.signer, mid.id, leaf.id, typ, t0.Add(-time.Second))},        // expired
		{Type: typ, TrustMark: issue(mid.signer, mid.id, mid.id, typ, time.Time{})},                  // about another
		{Type: "https://other", TrustMark: issue(mid.signer, mid.id, leaf.id, typ, time.Time{})},     // type mismatch
		{Type: typ, TrustMark: forge(`{"alg":"ES256","typ":"entity-statement+jwt"}`, `{"iss":"x"}`)}, // wrong typ
	}
	c, err := newResolver(ta.anchor(t)).Resolve(context.Background(), leaf.id, EntityTypeRP)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.TrustMarks) != 2 || c.TrustMarks[0].Issuer != ta.id || c.TrustMarks[1].Issuer != mid.id {
		t.Fatalf("verified marks %+v", c.TrustMarks)
	}
	if !c.Expires.Equal(t0.Add(30 * time.Minute)) {
		t.Fatalf("Expires %v: not bounded by the trust mark", c.Expires)
	}
	wants := []error{ErrConstraint, ErrSignature, ErrExpired, ErrWrongSubject, ErrMalformed, ErrWrongType}
	if len(c.RejectedTrustMarks) != len(wants) {
		t.Fatalf("rejected %d: %+v", len(c.RejectedTrustMarks), c.RejectedTrustMarks)
	}
	for i, w := range wants {
		if err := c.RejectedTrustMarks[i].Err; !errors.Is(err, w) || !errors.Is(err, ErrTrustMark) {
			t.Errorf("rejected %d: %v, want %v", i, err, w)
		}
	}
	if err := c.HasTrustMark(typ); err != nil {
		t.Fatal(err)
	}
	if err := c.HasTrustMark("https://other"); !errors.Is(err, ErrTrustMark) || !errors.Is(err, ErrMalformed) {
		t.Fatalf("HasTrustMark other: %v", err)
	}
	if err := c.HasTrustMark("https://none"); !errors.Is(err, ErrTrustMark) {
		t.Fatalf("HasTrustMark none: %v", err)
	}
}
