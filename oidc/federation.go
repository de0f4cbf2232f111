package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/tongban/tongban/federation"
	"github.com/tongban/tongban/keyring"
	"github.com/tongban/tongban/storage"
)

// OpenID Federation 1.0 endpoints of this instance (package federation does the protocol):
// its entity configuration (§9), and the fetch (§8.1), list (§8.2) and resolve (§8.3)
// endpoints of a superior. The entity ID is the issuer. Statements are signed with the
// federation entity key (storage.PurposeFederation, SGD_SM3_SM2; the ES256 key is published
// too). Subordinates, authority hints, trust anchors and trust marks come from storage
// (`idp federation …`).
const (
	PathFederationConfiguration = federation.WellKnownPath
	PathFederationFetch         = "/federation/fetch"
	PathFederationList          = "/federation/list"
	PathFederationResolve       = "/federation/resolve"
)

// FederationSigningAlgs are the algorithms of the federation entity keys; the first signs.
var FederationSigningAlgs = []string{AlgSM2, AlgES256}

func (s *Server) routesFederation(handle func(method, path string, h http.HandlerFunc)) {
	handle("GET", PathFederationConfiguration, s.handleFederationConfiguration)
	handle("GET", PathFederationFetch, s.handleFederationFetch)
	handle("GET", PathFederationList, s.handleFederationList)
	handle("GET", PathFederationResolve, s.handleFederationResolve)
}

func (s *Server) fedLifetime() time.Duration {
	if s.cfg.FederationLifetime > 0 {
		return s.cfg.FederationLifetime
	}
	return 24 * time.Hour
}

// FederationSigner returns the signer of this entity's federation statements (the active
// SGD_SM3_SM2 federation key) and the JWK Set of every published federation key.
func (s *Server) FederationSigner(ctx context.Context) (*federation.Signer, []*federation.Signer, error) {
	return federationSigner(ctx, s.kr)
}

func federationSigner(ctx context.Context, kr *keyring.Keyring) (*federation.Signer, []*federation.Signer, error) {
	keys, err := kr.Published(ctx, storage.PurposeFederation)
	if err != nil {
		return nil, nil, err
	}
	active, err := kr.Active(ctx, storage.PurposeFederation, FederationSigningAlgs[0])
	if err != nil {
		return nil, nil, err
	}
	signer, err := federation.NewSigner(active.Signer, active.ID)
	if err != nil {
		return nil, nil, err
	}
	all := make([]*federation.Signer, 0, len(keys))
	for _, k := range keys {
		fs, err := federation.NewSigner(k.Signer, k.ID)
		if err != nil {
			return nil, nil, fmt.Errorf("federation key %s: %w", k.ID, err)
		}
		all = append(all, fs)
	}
	return signer, all, nil
}

// EnsureFederationKeys creates the federation entity keys that do not exist yet.
func EnsureFederationKeys(ctx context.Context, kr *keyring.Keyring) error {
	return kr.EnsureSigningKeys(ctx, storage.PurposeFederation, FederationSigningAlgs...)
}

// FederationMetadata returns this entity's metadata (§5): federation_entity with its
// endpoints and organization name, and openid_provider with the members of the discovery
// document.
func (s *Server) FederationMetadata() (map[string]map[string]any, error) {
	return FederationMetadataOf(s.issuer, s.cfg.FederationOrganization)
}

// FederationMetadataOf is the metadata of the entity configuration of issuer (see
// Server.FederationMetadata); organization "" is left out.
func FederationMetadataOf(issuer, organization string) (map[string]map[string]any, error) {
	disc, err := DiscoveryDocument(issuer)
	if err != nil {
		return nil, err
	}
	var op map[string]any
	if err := json.Unmarshal(disc, &op); err != nil {
		return nil, err
	}
	fe := map[string]any{
		"federation_fetch_endpoint":   issuer + PathFederationFetch,
		"federation_list_endpoint":    issuer + PathFederationList,
		"federation_resolve_endpoint": issuer + PathFederationResolve,
	}
	if organization != "" {
		fe["organization_name"] = organization
		op["organization_name"] = organization
	}
	return map[string]map[string]any{federation.EntityTypeFederation: fe, federation.EntityTypeOP: op}, nil
}

// EntityConfiguration builds and signs this instance's entity configuration: jwks (every
// published federation key), authority_hints (storage, in the order added), metadata
// (FederationMetadata), the trust marks it holds, and trust_mark_issuers naming itself for
// every trust mark type it has issued.
func (s *Server) EntityConfiguration(ctx context.Context) (*federation.EntityStatement, error) {
	return BuildEntityConfiguration(ctx, s.store, s.kr, s.issuer, s.cfg.FederationOrganization, s.now(), s.fedLifetime())
}

// BuildEntityConfiguration builds and signs the entity configuration of issuer from store
// and kr (Server.EntityConfiguration; `idp federation show` without a running server).
func BuildEntityConfiguration(ctx context.Context, store storage.Storage, kr *keyring.Keyring, issuer, organization string, now time.Time, lifetime time.Duration) (*federation.EntityStatement, error) {
	signer, all, err := federationSigner(ctx, kr)
	if err != nil {
		return nil, err
	}
	hints, err := store.ListFederationAuthorityHints(ctx)
	if err != nil {
		return nil, err
	}
	held, err := store.ListHeldTrustMarks(ctx)
	if err != nil {
		return nil, err
	}
	issued, err := store.ListIssuedTrustMarks(ctx)
	if err != nil {
		return nil, err
	}
	md, err := FederationMetadataOf(issuer, organization)
	if err != nil {
		return nil, err
	}
	if err := entityRPMetadata(ctx, store, kr, issuer, md); err != nil { // federation_rp.go: as a relying party of federation upstreams
		return nil, err
	}
	now = now.UTC().Truncate(time.Second)
	ec := &federation.EntityStatement{Issuer: issuer, Subject: issuer, IssuedAt: now, Expires: now.Add(lifetime),
		JWKS: federation.KeySet(all...), Metadata: md}
	for _, h := range hints {
		ec.AuthorityHints = append(ec.AuthorityHints, h.EntityID)
	}
	for _, m := range held {
		ec.TrustMarks = append(ec.TrustMarks, federation.TrustMarkRef{Type: m.Type, TrustMark: m.TrustMark})
	}
	for _, m := range issued {
		if ec.TrustMarkIssuers == nil {
			ec.TrustMarkIssuers = map[string][]string{}
		}
		if !slices.Contains(ec.TrustMarkIssuers[m.Type], issuer) {
			ec.TrustMarkIssuers[m.Type] = append(ec.TrustMarkIssuers[m.Type], issuer)
		}
	}
	if _, err := federation.SignEntityStatement(ec, signer); err != nil {
		return nil, err
	}
	return ec, nil
}

// SubordinateStatement builds and signs this instance's statement about the stored
// subordinate sub. Errors: storage.ErrNotFound; federation.ErrMalformed for stored JSON
// that no longer parses.
func (s *Server) SubordinateStatement(ctx context.Context, sub string) (*federation.EntityStatement, error) {
	rec, err := s.store.GetFederationSubordinate(ctx, sub)
	if err != nil {
		return nil, err
	}
	signer, _, err := s.FederationSigner(ctx)
	if err != nil {
		return nil, err
	}
	jwks, err := federation.ParseJWKS(rec.JWKS)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC().Truncate(time.Second)
	ss := &federation.EntityStatement{Issuer: s.issuer, Subject: rec.EntityID, IssuedAt: now, Expires: now.Add(s.fedLifetime()),
		JWKS: jwks, SourceEndpoint: s.url(PathFederationFetch)}
	if len(rec.MetadataPolicy) > 0 {
		if err := json.Unmarshal(rec.MetadataPolicy, &ss.MetadataPolicy); err != nil {
			return nil, fmt.Errorf("%w: stored metadata policy: %v", federation.ErrMalformed, err)
		}
	}
	if len(rec.Constraints) > 0 {
		if err := json.Unmarshal(rec.Constraints, &ss.Constraints); err != nil {
			return nil, fmt.Errorf("%w: stored constraints: %v", federation.ErrMalformed, err)
		}
	}
	if _, err := federation.SignEntityStatement(ss, signer); err != nil {
		return nil, err
	}
	return ss, nil
}

// fedState caches the resolver of the resolve endpoint and FederationResolver.
type fedState struct {
	mu       sync.Mutex
	resolver *federation.Resolver
	anchors  string // the anchors it was built from (JSON)
	loaded   time.Time
}

// fedAnchorTTL is how long the list of trust anchors is cached; `idp federation anchor …`
// changes reach a running server within it.
const fedAnchorTTL = 10 * time.Second

// FederationResolver returns the trust-chain resolver configured with the stored trust
// anchors (rebuilt, with an empty cache, when they change; read again at most every 10 s).
// It accepts http:// entity IDs only when this issuer is http (a loopback test federation).
func (s *Server) FederationResolver(ctx context.Context) (*federation.Resolver, error) {
	st := &s.fed
	now := s.now()
	st.mu.Lock()
	if st.resolver != nil && now.Sub(st.loaded) < fedAnchorTTL && now.Sub(st.loaded) >= 0 {
		r := st.resolver
		st.mu.Unlock()
		return r, nil
	}
	st.mu.Unlock()
	anchors, err := s.store.ListFederationAnchors(ctx)
	if err != nil {
		return nil, err
	}
	list := make([]federation.TrustAnchor, 0, len(anchors))
	for _, a := range anchors {
		list = append(list, federation.TrustAnchor{EntityID: a.EntityID, JWKS: a.JWKS})
	}
	key, _ := json.Marshal(list)
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.resolver == nil || st.anchors != string(key) {
		st.resolver = &federation.Resolver{Anchors: list, HTTPClient: s.cfg.FederationHTTPClient, Now: s.now,
			AllowHTTP: len(s.issuer) > 7 && s.issuer[:7] == "http://"}
		st.anchors = string(key)
	}
	st.loaded = now
	return st.resolver, nil
}

// fedError answers with the federation error format (§8.9): a JSON object with error and
// error_description, and counts it.
func (s *Server) fedError(w http.ResponseWriter, endpoint string, status int, code, desc string) {
	s.metrics.fed.WithLabelValues(endpoint, code).Inc()
	oauthJSON.Error(w, status, code, desc)
}

func (s *Server) fedJWT(w http.ResponseWriter, endpoint, contentType, jwt string, maxAge int) {
	s.metrics.fed.WithLabelValues(endpoint, "ok").Inc()
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Cache-Control", fmt.Sprintf("public, max-age=%d", maxAge))
	_, _ = w.Write([]byte(jwt))
}

// handleFederationConfiguration serves the entity configuration (§9).
func (s *Server) handleFederationConfiguration(w http.ResponseWriter, r *http.Request) {
	ec, err := s.EntityConfiguration(r.Context())
	if err != nil {
		s.log.ErrorContext(r.Context(), "federation: entity configuration", "err", err)
		s.fedError(w, "configuration", http.StatusInternalServerError, "server_error", "")
		return
	}
	s.fedJWT(w, "configuration", federation.ContentTypeStatement, ec.Raw, 60)
}

// handleFederationFetch serves the subordinate statement about ?sub= (§8.1.1).
func (s *Server) handleFederationFetch(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	sub := q.Get("sub")
	switch {
	case sub == "" || len(q["sub"]) > 1:
		s.fedError(w, "fetch", http.StatusBadRequest, "invalid_request", "one sub parameter is required")
		return
	case sub == s.issuer:
		s.fedError(w, "fetch", http.StatusBadRequest, "invalid_request", "this entity's own configuration is at "+PathFederationConfiguration)
		return
	}
	ss, err := s.SubordinateStatement(r.Context(), sub)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		s.fedError(w, "fetch", http.StatusNotFound, "not_found", "no subordinate with that entity ID")
		return
	case err != nil:
		s.log.ErrorContext(r.Context(), "federation: subordinate statement", "sub", sub, "err", err)
		s.fedError(w, "fetch", http.StatusInternalServerError, "server_error", "")
		return
	}
	s.fedJWT(w, "fetch", federation.ContentTypeStatement, ss.Raw, 60)
}

// handleFederationList lists the subordinates' entity IDs (§8.2), filtered by entity_type.
func (s *Server) handleFederationList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	for name := range q {
		if name != "entity_type" {
			s.fedError(w, "list", http.StatusBadRequest, "unsupported_parameter", name+" is not supported")
			return
		}
	}
	subs, err := s.store.ListFederationSubordinates(r.Context())
	if err != nil {
		s.log.ErrorContext(r.Context(), "federation: list", "err", err)
		s.fedError(w, "list", http.StatusInternalServerError, "server_error", "")
		return
	}
	types := q["entity_type"]
	ids := []string{}
	for _, sub := range subs {
		if len(types) > 0 && !slices.ContainsFunc(types, func(t string) bool { return slices.Contains(sub.EntityTypes, t) }) {
			continue
		}
		ids = append(ids, sub.EntityID)
	}
	s.metrics.fed.WithLabelValues("list", "ok").Inc()
	w.Header().Set("Cache-Control", "public, max-age=60")
	oauthJSON.Write(w, http.StatusOK, ids)
}

// handleFederationResolve resolves ?sub= to ?trust_anchor= (one of the configured anchors)
// and answers with a signed resolve response (§8.3.2): the resolved metadata (of
// ?entity_type= when given), the verified trust marks and the trust chain.
func (s *Server) handleFederationResolve(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	sub, anchor := q.Get("sub"), q.Get("trust_anchor")
	types := q["entity_type"]
	if sub == "" || anchor == "" || len(types) > 1 {
		s.fedError(w, "resolve", http.StatusBadRequest, "invalid_request", "sub and trust_anchor are required, entity_type at most once")
		return
	}
	entityType := q.Get("entity_type")
	res, err := s.FederationResolver(r.Context())
	if err != nil {
		s.log.ErrorContext(r.Context(), "federation: resolver", "err", err)
		s.fedError(w, "resolve", http.StatusInternalServerError, "server_error", "")
		return
	}
	chain, err := res.ResolveTo(r.Context(), sub, anchor, entityType)
	if err != nil {
		code, status := "invalid_trust_chain", http.StatusBadRequest
		switch {
		case errors.Is(err, federation.ErrNoTrustAnchor) && !slices.ContainsFunc(res.Anchors, func(a federation.TrustAnchor) bool { return a.EntityID == anchor }):
			code, status = "invalid_trust_anchor", http.StatusNotFound
		case errors.Is(err, federation.ErrMalformed) && federation.CheckEntityID(sub, res.AllowHTTP) != nil:
			code = "invalid_request"
		case errors.Is(err, federation.ErrPolicyViolation):
			code = "invalid_metadata"
		}
		s.log.InfoContext(r.Context(), "federation: resolve refused", "sub", sub, "trust_anchor", anchor, "err", err)
		s.fedError(w, "resolve", status, code, err.Error())
		return
	}
	signer, _, err := s.FederationSigner(r.Context())
	if err != nil {
		s.log.ErrorContext(r.Context(), "federation: signer", "err", err)
		s.fedError(w, "resolve", http.StatusInternalServerError, "server_error", "")
		return
	}
	md := chain.AllMetadata
	if entityType != "" {
		md = map[string]map[string]any{entityType: chain.Metadata}
	}
	marks := []federation.TrustMarkRef{}
	for _, m := range chain.TrustMarks {
		marks = append(marks, federation.TrustMarkRef{Type: m.Type, TrustMark: m.Raw})
	}
	now := s.now().UTC().Truncate(time.Second)
	exp := chain.Expires
	if lim := now.Add(s.fedLifetime()); lim.Before(exp) {
		exp = lim
	}
	jwt, err := signer.SignJWT(federation.TypeResolveResponse, map[string]any{
		"iss": s.issuer, "sub": chain.Subject, "iat": now.Unix(), "exp": exp.Unix(),
		"metadata": md, "trust_marks": marks, "trust_chain": chain.RawChain(),
	})
	if err != nil {
		s.log.ErrorContext(r.Context(), "federation: sign resolve response", "err", err)
		s.fedError(w, "resolve", http.StatusInternalServerError, "server_error", "")
		return
	}
	s.fedJWT(w, "resolve", federation.ContentTypeResolve, jwt, 0)
}
