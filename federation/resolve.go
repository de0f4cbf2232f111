package federation

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tongban/tongban/sm-crypto/smjose"
)

// TrustAnchor is a trust anchor (信任锚) configured out of band: its entity ID and its
// federation entity keys. The keys are never taken from the wire: the anchor's entity
// configuration must verify with them.
type TrustAnchor struct {
	EntityID string
	JWKS     []byte // JWK Set document (RFC 7517 §5), standard and SM2 members
}

// TrustChain is a validated trust chain (信任链, §4) from Subject to TrustAnchor.
type TrustChain struct {
	Subject, TrustAnchor string
	// Statements are the leaf's entity configuration, the subordinate statements up the
	// chain, and the trust anchor's entity configuration (§4.1 order), each with Raw set.
	Statements []*EntityStatement
	// Expires is the earliest exp in the chain (and of the verified trust marks): the chain
	// must be resolved again after it.
	Expires time.Time
	// Metadata is the metadata of the entity type asked for after the immediate superior's
	// metadata overrides and every superior's policy (§6.1.4), the leaf's own as base. Nil
	// when Resolve was asked for no entity type.
	Metadata map[string]any
	// AllMetadata is every entity type's resolved metadata (types removed by
	// allowed_entity_types are absent).
	AllMetadata map[string]map[string]any
	// TrustMarks are the leaf's trust marks that verified; RejectedTrustMarks the others.
	TrustMarks         []TrustMark
	RejectedTrustMarks []RejectedTrustMark
}

// RawChain returns the compact JWS of each statement, in chain order (the trust_chain
// member of a resolve response, §8.3.2).
func (c *TrustChain) RawChain() []string {
	out := make([]string, len(c.Statements))
	for i, s := range c.Statements {
		out[i] = s.Raw
	}
	return out
}

// HasTrustMark returns nil when the chain carries a verified trust mark of type typ, else an
// error wrapping ErrTrustMark with the reason it was rejected or "not present".
func (c *TrustChain) HasTrustMark(typ string) error {
	for _, m := range c.TrustMarks {
		if m.Type == typ {
			return nil
		}
	}
	for _, m := range c.RejectedTrustMarks {
		if m.Type == typ {
			return fmt.Errorf("%w: %s: %w", ErrTrustMark, typ, m.Err)
		}
	}
	return fmt.Errorf("%w: %s: not present", ErrTrustMark, typ)
}

// Resolver resolves and validates trust chains (§10) and caches them until the earliest exp
// in the chain. The zero value is not usable without Anchors; other fields have defaults.
// Set the fields before the first Resolve and do not change them after. Safe for concurrent
// use.
type Resolver struct {
	// Anchors are the trust anchors chains may end at.
	Anchors []TrustAnchor
	// HTTPClient fetches statements; nil means a client with a 10 s timeout that refuses to
	// connect to loopback, private, link-local, unspecified and multicast addresses (checked
	// on the address each connection dials, so DNS rebinding gains nothing), loopback allowed
	// when AllowHTTP. A client given here is used as it is: it must guard against SSRF itself.
	HTTPClient *http.Client
	// Logger receives the detail of fetch failures (the URL and the network error), which
	// callers only see as "could not be fetched"; nil means slog.Default().
	Logger *slog.Logger
	// MaxPathLength is the most intermediates a chain may have; 0 means 4.
	MaxPathLength int
	// MaxFetches bounds the HTTP requests of one resolution (every authority hint tried); 0
	// means 32.
	MaxFetches int
	// FetchTimeout bounds each request; 0 means 10 s.
	FetchTimeout time.Duration
	// ClockSkew is tolerated on iat; 0 means 60 s.
	ClockSkew time.Duration
	// AllowHTTP accepts http:// entity IDs on loopback hosts and lets the default HTTP client
	// connect to loopback addresses (test federations on one machine only).
	AllowHTTP bool
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	mu      sync.Mutex
	chains  map[chainKey]*TrustChain
	configs map[string]*EntityStatement
	keys    map[string]*smjose.KeySet // parsed anchor JWKS
}

type chainKey struct{ subject, anchor, entityType string }

// maxBody is the largest response accepted from a federation endpoint.
const maxBody = 1 << 20

// maxCached bounds the entity-configuration cache; it is emptied when full.
const maxCached = 4096

func (r *Resolver) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Resolver) skew() time.Duration {
	if r.ClockSkew > 0 {
		return r.ClockSkew
	}
	return 60 * time.Second
}

func (r *Resolver) maxPath() int {
	if r.MaxPathLength > 0 {
		return r.MaxPathLength
	}
	return 4
}

// walk is the state of one resolution.
type walk struct {
	fetches   int
	anchor    string // "" any configured anchor
	skipMarks bool   // resolving a trust-mark issuer: do not check its marks
}

// Resolve returns a trust chain from subject to any configured trust anchor, with the
// metadata of entityType ("" for none) resolved. Authority hints are tried depth first in
// document order and the first chain that validates fully is returned (and cached until its
// Expires). The returned chain is shared: do not modify it.
//
// Errors (errors.Is; when several hints fail, the error joins each hint's reason):
// ErrMalformed, ErrSignature (ErrUnsupportedAlg), ErrExpired, ErrWrongSubject, ErrLoop,
// ErrPathTooLong, ErrNoTrustAnchor, ErrPolicyConflict, ErrPolicyViolation, ErrConstraint,
// ErrFetch.
func (r *Resolver) Resolve(ctx context.Context, subject, entityType string) (*TrustChain, error) {
	return r.resolve(ctx, subject, entityType, &walk{})
}

// ResolveTo is Resolve restricted to the configured trust anchor anchor. Errors: those of
// Resolve; ErrNoTrustAnchor when anchor is not configured.
func (r *Resolver) ResolveTo(ctx context.Context, subject, anchor, entityType string) (*TrustChain, error) {
	if !slices.ContainsFunc(r.Anchors, func(a TrustAnchor) bool { return a.EntityID == anchor }) {
		return nil, fmt.Errorf("%w: %q is not a configured trust anchor", ErrNoTrustAnchor, truncate(anchor))
	}
	return r.resolve(ctx, subject, entityType, &walk{anchor: anchor})
}

func (r *Resolver) resolve(ctx context.Context, subject, entityType string, w *walk) (*TrustChain, error) {
	if err := CheckEntityID(subject, r.AllowHTTP); err != nil {
		return nil, err
	}
	if len(r.Anchors) == 0 {
		return nil, fmt.Errorf("%w: none configured", ErrNoTrustAnchor)
	}
	key := chainKey{subject, w.anchor, entityType}
	now := r.now()
	if !w.skipMarks {
		r.mu.Lock()
		c, ok := r.chains[key]
		r.mu.Unlock()
		if ok && now.Before(c.Expires) {
			return c, nil
		}
	}
	leaf, err := r.config(ctx, w, subject)
	if err != nil {
		return nil, err
	}
	var chain *TrustChain
	if _, ok := r.anchorFor(w, subject); ok {
		chain, err = r.validate(ctx, w, []*EntityStatement{leaf}, entityType)
	} else {
		chain, err = r.search(ctx, w, leaf, []*EntityStatement{leaf}, []string{subject}, entityType)
	}
	if err != nil {
		return nil, err
	}
	if !w.skipMarks {
		r.mu.Lock()
		if r.chains == nil {
			r.chains = map[chainKey]*TrustChain{}
		}
		if len(r.chains) >= maxCached {
			clear(r.chains)
		}
		r.chains[key] = chain
		r.mu.Unlock()
	}
	return chain, nil
}

// anchorFor returns the configured anchor id, honouring the walk's restriction.
func (r *Resolver) anchorFor(w *walk, id string) (TrustAnchor, bool) {
	if w.anchor != "" && id != w.anchor {
		return TrustAnchor{}, false
	}
	for _, a := range r.Anchors {
		if a.EntityID == id {
			return a, true
		}
	}
	return TrustAnchor{}, false
}

// anchorKeys returns the parsed JWKS of a configured anchor.
func (r *Resolver) anchorKeys(a TrustAnchor) (*smjose.KeySet, error) {
	r.mu.Lock()
	ks, ok := r.keys[a.EntityID]
	r.mu.Unlock()
	if ok {
		return ks, nil
	}
	ks, err := ParseJWKS(a.JWKS)
	if err != nil {
		return nil, fmt.Errorf("trust anchor %s: %w", a.EntityID, err)
	}
	r.mu.Lock()
	if r.keys == nil {
		r.keys = map[string]*smjose.KeySet{}
	}
	r.keys[a.EntityID] = ks
	r.mu.Unlock()
	return ks, nil
}

// search follows the authority hints of ec (the configuration of the topmost entity so far);
// below is the chain from the leaf up to and including ec's subordinate statement (or the
// leaf's configuration), path the entity IDs visited.
func (r *Resolver) search(ctx context.Context, w *walk, ec *EntityStatement, below []*EntityStatement, path []string, entityType string) (*TrustChain, error) {
	if len(ec.AuthorityHints) == 0 {
		return nil, fmt.Errorf("%w: %s has no authority hints and is not a configured trust anchor", ErrNoTrustAnchor, ec.Subject)
	}
	var errs []error
	for _, hint := range ec.AuthorityHints {
		chain, err := r.tryHint(ctx, w, ec, hint, below, path, entityType)
		if err == nil {
			return chain, nil
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%w: %w", ErrFetch, ctx.Err())
		}
		errs = append(errs, fmt.Errorf("via %s: %w", hint, err))
	}
	if len(errs) == 1 {
		return nil, errs[0]
	}
	return nil, errors.Join(errs...)
}

func (r *Resolver) tryHint(ctx context.Context, w *walk, ec *EntityStatement, hint string, below []*EntityStatement, path []string, entityType string) (*TrustChain, error) {
	if err := CheckEntityID(hint, r.AllowHTTP); err != nil {
		return nil, err
	}
	if slices.Contains(path, hint) {
		return nil, fmt.Errorf("%w: %s is already in the path", ErrLoop, hint)
	}
	anchor, isAnchor := r.anchorFor(w, hint)
	intermediates := len(path) - 1
	if !isAnchor && intermediates+1 > r.maxPath() {
		return nil, fmt.Errorf("%w: more than %d intermediates", ErrPathTooLong, r.maxPath())
	}
	sup, err := r.config(ctx, w, hint)
	if err != nil {
		return nil, err
	}
	if isAnchor {
		ks, err := r.anchorKeys(anchor)
		if err != nil {
			return nil, err
		}
		if err := VerifyStatement(sup, ks); err != nil {
			return nil, fmt.Errorf("trust anchor configuration of %s: %w", hint, err)
		}
	}
	ss, err := r.subordinate(ctx, w, sup, ec.Subject)
	if err != nil {
		return nil, err
	}
	chain := append(slices.Clone(below), ss)
	if isAnchor {
		return r.validate(ctx, w, append(chain, sup), entityType)
	}
	return r.search(ctx, w, sup, chain, append(slices.Clone(path), hint), entityType)
}

// config returns the verified entity configuration of id (self-signed, iss == sub == id,
// within its validity), from the cache when it is still valid.
func (r *Resolver) config(ctx context.Context, w *walk, id string) (*EntityStatement, error) {
	now := r.now()
	r.mu.Lock()
	c, ok := r.configs[id]
	r.mu.Unlock()
	if ok && now.Before(c.Expires) {
		return c, nil
	}
	body, err := r.get(ctx, w, "entity configuration of "+truncate(id), WellKnownURL(id))
	if err != nil {
		return nil, err
	}
	ec, err := ParseStatement(body)
	if err != nil {
		return nil, fmt.Errorf("entity configuration of %s: %w", id, err)
	}
	if ec.Issuer != id || ec.Subject != id {
		return nil, fmt.Errorf("%w: entity configuration fetched for %s has iss %s, sub %s", ErrWrongSubject, id, ec.Issuer, ec.Subject)
	}
	if err := VerifyStatement(ec, nil); err != nil {
		return nil, fmt.Errorf("entity configuration of %s: %w", id, err)
	}
	if err := r.checkTimes(ec); err != nil {
		return nil, err
	}
	r.mu.Lock()
	if r.configs == nil || len(r.configs) >= maxCached {
		r.configs = map[string]*EntityStatement{}
	}
	r.configs[id] = ec
	r.mu.Unlock()
	return ec, nil
}

// subordinate fetches sup's statement about sub from sup's fetch endpoint (§8.1) and checks
// iss, sub, signature (sup's keys) and times.
func (r *Resolver) subordinate(ctx context.Context, w *walk, sup *EntityStatement, sub string) (*EntityStatement, error) {
	endpoint := sup.FederationEndpoint(federationFetchParam)
	if endpoint == "" {
		return nil, fmt.Errorf("%w: %s publishes no federation_fetch_endpoint", ErrFetch, sup.Subject)
	}
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "https" && (!r.AllowHTTP || u.Scheme != "http")) || u.Host == "" {
		return nil, fmt.Errorf("%w: federation_fetch_endpoint of %s is not an https URL", ErrMalformed, sup.Subject)
	}
	q := u.Query()
	q.Set("sub", sub)
	u.RawQuery = q.Encode()
	body, err := r.get(ctx, w, "subordinate statement of "+truncate(sup.Subject)+" about "+truncate(sub), u.String())
	if err != nil {
		return nil, err
	}
	ss, err := ParseStatement(body)
	if err != nil {
		return nil, fmt.Errorf("subordinate statement of %s about %s: %w", sup.Subject, sub, err)
	}
	if ss.Issuer != sup.Subject || ss.Subject != sub {
		return nil, fmt.Errorf("%w: asked %s about %s, got a statement of %s about %s", ErrWrongSubject,
			sup.Subject, sub, truncate(ss.Issuer), truncate(ss.Subject))
	}
	if err := VerifyStatement(ss, sup.JWKS); err != nil {
		return nil, fmt.Errorf("subordinate statement of %s about %s: %w", sup.Subject, sub, err)
	}
	if err := r.checkTimes(ss); err != nil {
		return nil, err
	}
	return ss, nil
}

// checkTimes checks iat ≤ now + skew < … and now < exp.
func (r *Resolver) checkTimes(s *EntityStatement) error {
	now := r.now()
	if !now.Before(s.Expires) {
		return fmt.Errorf("%w: statement of %s about %s expired at %s", ErrExpired, s.Issuer, s.Subject, s.Expires.Format(time.RFC3339))
	}
	if s.IssuedAt.After(now.Add(r.skew())) {
		return fmt.Errorf("%w: statement of %s about %s issued in the future (%s)", ErrExpired, s.Issuer, s.Subject, s.IssuedAt.Format(time.RFC3339))
	}
	return nil
}

// get fetches url with the walk's bounds and returns the body as a string.
// what names the document in errors ("entity configuration of X"); network errors reach the
// caller only as "what could not be fetched", their detail goes to r.Logger.
func (r *Resolver) get(ctx context.Context, w *walk, what, target string) (string, error) {
	max := r.MaxFetches
	if max <= 0 {
		max = 32
	}
	if w.fetches >= max {
		return "", fmt.Errorf("%w: more than %d requests in one resolution", ErrFetch, max)
	}
	w.fetches++
	timeout := r.FetchTimeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	failed := func(detail error) error {
		log := r.Logger
		if log == nil {
			log = slog.Default()
		}
		log.InfoContext(ctx, "federation: fetch failed", "url", truncate(target), "err", detail)
		return fmt.Errorf("%w: %s could not be fetched", ErrFetch, what)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return "", failed(err)
	}
	client := r.HTTPClient
	switch {
	case client != nil:
	case r.AllowHTTP:
		client = loopbackClient
	default:
		client = publicClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", failed(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%w: %s could not be fetched: HTTP %d", ErrFetch, what, resp.StatusCode)
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != ContentTypeStatement {
		return "", fmt.Errorf("%w: %s: content type %q", ErrFetch, what, truncate(mt))
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return "", failed(err)
	}
	if len(body) > maxBody {
		return "", fmt.Errorf("%w: %s: response over 1 MB", ErrFetch, what)
	}
	return strings.TrimSpace(string(body)), nil
}

// The default HTTP clients of Resolver: publicClient connects to public addresses only,
// loopbackClient to those and loopback (AllowHTTP).
var (
	publicClient   = guardedClient(false)
	loopbackClient = guardedClient(true)
)

// errRefusedAddress is the dialer's refusal of a non-public address.
var errRefusedAddress = errors.New("federation: refusing to connect to a non-public address")

// guardedClient returns an HTTP client (10 s timeout, no proxy) whose dialer checks every
// address it connects to — after name resolution, so a host name that resolves to an
// internal address is refused like the address itself.
func guardedClient(allowLoopback bool) *http.Client {
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second,
		Control: func(_, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return errRefusedAddress
			}
			ip, err := netip.ParseAddr(host)
			if err != nil || !PublicAddress(ip) && !(allowLoopback && ip.Unmap().IsLoopback()) {
				return fmt.Errorf("%w %s", errRefusedAddress, host)
			}
			return nil
		}}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		Proxy: nil, DialContext: d.DialContext, ForceAttemptHTTP2: true, TLSHandshakeTimeout: 10 * time.Second,
		MaxIdleConns: 100, IdleConnTimeout: 90 * time.Second, ResponseHeaderTimeout: 10 * time.Second,
	}}
}

// sharedAddressSpace is 100.64.0.0/10 (RFC 6598, carrier-grade NAT).
var sharedAddressSpace = netip.MustParsePrefix("100.64.0.0/10")

// PublicAddress reports whether the resolver's default client may connect to ip: a global
// unicast address that is not private (RFC 1918, RFC 4193), not shared (RFC 6598), not
// loopback, link-local (169.254.0.0/16 and fe80::/10, cloud metadata included), unspecified
// or multicast. IPv4-mapped IPv6 addresses are judged as IPv4.
func PublicAddress(ip netip.Addr) bool {
	ip = ip.Unmap()
	return ip.IsValid() && ip.IsGlobalUnicast() && !ip.IsPrivate() && !ip.IsLoopback() &&
		!ip.IsLinkLocalUnicast() && !ip.IsLinkLocalMulticast() && !ip.IsInterfaceLocalMulticast() &&
		!ip.IsMulticast() && !ip.IsUnspecified() && !sharedAddressSpace.Contains(ip)
}

// validate checks a complete chain (§10.2) and resolves its metadata and trust marks.
func (r *Resolver) validate(ctx context.Context, w *walk, stmts []*EntityStatement, entityType string) (*TrustChain, error) {
	n := len(stmts) - 1
	ta := stmts[n]
	anchor, ok := r.anchorFor(w, ta.Subject)
	if !ok || !ta.IsConfiguration() || !stmts[0].IsConfiguration() {
		return nil, fmt.Errorf("%w: chain does not end at a configured trust anchor", ErrNoTrustAnchor)
	}
	taKeys, err := r.anchorKeys(anchor)
	if err != nil {
		return nil, err
	}
	if err := VerifyStatement(ta, taKeys); err != nil {
		return nil, fmt.Errorf("trust anchor configuration of %s: %w", ta.Subject, err)
	}
	expires := ta.Expires
	for j, s := range stmts {
		if err := r.checkTimes(s); err != nil {
			return nil, err
		}
		if s.Expires.Before(expires) {
			expires = s.Expires
		}
		if j == 0 {
			continue
		}
		if s.Subject != stmts[j-1].Issuer {
			return nil, fmt.Errorf("%w: statement %d is about %s, not %s", ErrWrongSubject, j, s.Subject, stmts[j-1].Issuer)
		}
		if j < n {
			// ES[j-1] must be signed by a key the statement above it (ES[j]) names.
			if err := VerifyStatement(stmts[j-1], s.JWKS); err != nil {
				return nil, fmt.Errorf("statement of %s about %s against its superior's keys: %w", stmts[j-1].Issuer, stmts[j-1].Subject, err)
			}
		}
	}
	if n >= 1 {
		if err := VerifyStatement(stmts[n-1], ta.JWKS); err != nil {
			return nil, fmt.Errorf("statement of %s: %w", ta.Subject, err)
		}
	}
	leaf := stmts[0]
	allowed, err := checkConstraints(stmts)
	if err != nil {
		return nil, err
	}
	all, err := resolveMetadata(stmts, allowed)
	if err != nil {
		return nil, err
	}
	chain := &TrustChain{Subject: leaf.Subject, TrustAnchor: ta.Subject, Statements: stmts, AllMetadata: all}
	if entityType != "" {
		md, ok := all[entityType]
		if !ok {
			return nil, fmt.Errorf("%w: %s has no %s metadata in this chain", ErrConstraint, leaf.Subject, entityType)
		}
		chain.Metadata = md
	}
	if !w.skipMarks {
		r.checkTrustMarks(ctx, chain)
		for _, m := range chain.TrustMarks {
			if !m.Expires.IsZero() && m.Expires.Before(expires) {
				expires = m.Expires
			}
		}
	}
	chain.Expires = expires
	return chain, nil
}

// resolveMetadata applies the immediate superior's metadata overrides and the merged
// policies of every subordinate statement (top-down) to the leaf's metadata.
func resolveMetadata(stmts []*EntityStatement, allowed func(string) bool) (map[string]map[string]any, error) {
	leaf := stmts[0]
	all := map[string]map[string]any{}
	for et, md := range leaf.Metadata {
		all[et] = maps.Clone(md)
	}
	if len(stmts) > 2 {
		for et, md := range stmts[1].Metadata {
			if all[et] == nil {
				all[et] = map[string]any{}
			}
			maps.Copy(all[et], md)
		}
	}
	var crit []string
	for _, s := range stmts[1:] {
		crit = append(crit, s.MetadataPolicyCrit...)
	}
	merged := Policy{}
	for j := len(stmts) - 2; j >= 1; j-- {
		m, err := MergePolicies(merged, stmts[j].MetadataPolicy, crit)
		if err != nil {
			return nil, fmt.Errorf("policy of %s: %w", stmts[j].Issuer, err)
		}
		merged = m
	}
	for et := range all {
		if !allowed(et) {
			delete(all, et)
			continue
		}
		if p, ok := merged[et]; ok {
			md, err := ApplyPolicy(all[et], p)
			if err != nil {
				return nil, fmt.Errorf("%s metadata of %s: %w", et, leaf.Subject, err)
			}
			all[et] = md
		}
	}
	return all, nil
}
