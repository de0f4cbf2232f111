package federation

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tongban/tongban/sm-crypto/smjose"
)

// JWT header typ values and HTTP content types (OpenID Federation 1.0 §3, §7, §8.3.2, §15).
const (
	TypeEntityStatement  = "entity-statement+jwt"
	TypeTrustMark        = "trust-mark+jwt"
	TypeResolveResponse  = "resolve-response+jwt"
	ContentTypeStatement = "application/entity-statement+jwt"
	ContentTypeTrustMark = "application/trust-mark+jwt"
	ContentTypeResolve   = "application/resolve-response+jwt"
	// WellKnownPath is appended to an entity ID to fetch its entity configuration (§9).
	WellKnownPath = "/.well-known/openid-federation"
)

// Entity types (§5.1) this package names.
const (
	EntityTypeFederation   = "federation_entity"
	EntityTypeOP           = "openid_provider"
	EntityTypeRP           = "openid_relying_party"
	EntityTypeOAuthAS      = "oauth_authorization_server"
	EntityTypeOAuthClient  = "oauth_client"
	EntityTypeResourceSrv  = "oauth_resource"
	federationFetchParam   = "federation_fetch_endpoint"
	federationListParam    = "federation_list_endpoint"
	federationResolveParam = "federation_resolve_endpoint"
)

// Policy is a metadata_policy claim (§6.1): entity type → metadata parameter → operator →
// operator value, as decoded from JSON.
type Policy map[string]map[string]map[string]any

// Constraints is the constraints claim of a subordinate statement (§6.2).
type Constraints struct {
	// MaxPathLength is the most intermediates allowed between the issuer of the statement and
	// the chain's subject; nil means no limit from this statement.
	MaxPathLength *int `json:"max_path_length,omitempty"`
	// NamingConstraints restricts the entity IDs below the issuer (RFC 5280 §4.2.1.10 style
	// host names: "example.org" matches that host, ".example.org" its subdomains).
	NamingConstraints *NamingConstraints `json:"naming_constraints,omitempty"`
	// AllowedEntityTypes lists the entity types the subject may have besides
	// federation_entity; nil means any.
	AllowedEntityTypes []string `json:"allowed_entity_types,omitempty"`
}

// NamingConstraints is the naming_constraints member of Constraints.
type NamingConstraints struct {
	Permitted []string `json:"permitted,omitempty"`
	Excluded  []string `json:"excluded,omitempty"`
}

// TrustMarkRef is one member of an entity configuration's trust_marks claim (§3.1.1).
type TrustMarkRef struct {
	Type      string `json:"trust_mark_type"` // the trust mark type identifier (a URI)
	TrustMark string `json:"trust_mark"`      // the trust mark JWT (typ trust-mark+jwt)
}

// EntityStatement is an entity configuration (Issuer == Subject, published by the entity
// itself) or a subordinate statement (a superior's statement about a subordinate), §3.
// Times are whole seconds (JWT NumericDate).
type EntityStatement struct {
	Issuer   string    // iss, an entity ID
	Subject  string    // sub, an entity ID
	IssuedAt time.Time // iat
	Expires  time.Time // exp
	// JWKS is the jwks claim: the federation entity keys of Subject. Required.
	JWKS *smjose.KeySet
	// AuthorityHints lists the entity IDs of Subject's superiors (entity configurations only).
	AuthorityHints []string
	// Metadata is entity type → metadata parameters. In a subordinate statement its
	// parameters override the subject's own (§6.1.4.1).
	Metadata map[string]map[string]any
	// MetadataPolicy applies to the subject and everything below it (subordinate statements).
	MetadataPolicy     Policy
	MetadataPolicyCrit []string // policy operators beyond the standard ones that must be understood
	Constraints        *Constraints
	Crit               []string // claims beyond this specification that must be understood
	TrustMarks         []TrustMarkRef
	// TrustMarkIssuers (trust anchors): trust mark type → entity IDs allowed to issue it.
	TrustMarkIssuers map[string][]string
	SourceEndpoint   string // source_endpoint: the fetch endpoint that issued the statement

	// Raw is the compact JWS the statement was parsed from or signed into; "" otherwise.
	Raw string
	// Alg and KeyID are the JWS header's alg and kid ("" before signing).
	Alg, KeyID string
}

// IsConfiguration reports whether the statement is an entity configuration (iss == sub).
func (s *EntityStatement) IsConfiguration() bool { return s.Issuer == s.Subject }

// wireStatement is the JSON form of the claims.
type wireStatement struct {
	Iss                string                    `json:"iss"`
	Sub                string                    `json:"sub"`
	Iat                int64                     `json:"iat"`
	Exp                int64                     `json:"exp"`
	JWKS               json.RawMessage           `json:"jwks,omitempty"`
	AuthorityHints     []string                  `json:"authority_hints,omitempty"`
	Metadata           map[string]map[string]any `json:"metadata,omitempty"`
	MetadataPolicy     Policy                    `json:"metadata_policy,omitempty"`
	MetadataPolicyCrit []string                  `json:"metadata_policy_crit,omitempty"`
	Constraints        *Constraints              `json:"constraints,omitempty"`
	Crit               []string                  `json:"crit,omitempty"`
	TrustMarks         []TrustMarkRef            `json:"trust_marks,omitempty"`
	TrustMarkIssuers   map[string][]string       `json:"trust_mark_issuers,omitempty"`
	SourceEndpoint     string                    `json:"source_endpoint,omitempty"`
}

// knownClaims are the claim names wireStatement reads; crit may name none of them (§13.4).
var knownClaims = []string{"iss", "sub", "iat", "exp", "jwks", "authority_hints", "metadata",
	"metadata_policy", "metadata_policy_crit", "constraints", "crit", "trust_marks",
	"trust_mark_issuers", "trust_mark_owners", "source_endpoint"}

// MarshalClaims returns the JSON claims set of s (the JWS payload). Errors: ErrMalformed when
// s lacks iss, sub, iat, exp or jwks.
func (s *EntityStatement) MarshalClaims() ([]byte, error) {
	if s.Issuer == "" || s.Subject == "" || s.IssuedAt.IsZero() || s.Expires.IsZero() || s.JWKS == nil {
		return nil, fmt.Errorf("%w: iss, sub, iat, exp and jwks are required", ErrMalformed)
	}
	jwks, err := s.JWKS.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("%w: jwks: %v", ErrMalformed, err)
	}
	return json.Marshal(wireStatement{
		Iss: s.Issuer, Sub: s.Subject, Iat: s.IssuedAt.Unix(), Exp: s.Expires.Unix(), JWKS: jwks,
		AuthorityHints: s.AuthorityHints, Metadata: s.Metadata, MetadataPolicy: s.MetadataPolicy,
		MetadataPolicyCrit: s.MetadataPolicyCrit, Constraints: s.Constraints, Crit: s.Crit,
		TrustMarks: s.TrustMarks, TrustMarkIssuers: s.TrustMarkIssuers, SourceEndpoint: s.SourceEndpoint,
	})
}

// ParseClaims parses the JSON claims set of an entity statement strictly: iss, sub (entity
// IDs), iat, exp (integers, exp after iat) and jwks (at least one usable key) are required;
// crit may not name a claim of this specification, and every other member it names is refused
// because this package understands no extension claims; authority_hints only in an entity
// configuration, metadata_policy only in a subordinate statement. Signature and times are
// not checked here. Errors: ErrMalformed with the reason.
func ParseClaims(payload []byte) (*EntityStatement, error) {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(payload, &members); err != nil {
		return nil, fmt.Errorf("%w: claims: %v", ErrMalformed, err)
	}
	for _, name := range []string{"iss", "sub", "iat", "exp", "jwks"} {
		if v, ok := members[name]; !ok || bytes.Equal(v, []byte("null")) {
			return nil, fmt.Errorf("%w: missing claim %q", ErrMalformed, name)
		}
	}
	var w wireStatement
	dec := json.NewDecoder(bytes.NewReader(payload))
	if err := dec.Decode(&w); err != nil {
		return nil, fmt.Errorf("%w: claims: %v", ErrMalformed, err)
	}
	for _, c := range w.Crit {
		if slices.Contains(knownClaims, c) {
			return nil, fmt.Errorf("%w: crit names the standard claim %q", ErrMalformed, c)
		}
		return nil, fmt.Errorf("%w: crit claim %q is not understood", ErrMalformed, c)
	}
	if _, ok := members["crit"]; ok && len(w.Crit) == 0 {
		return nil, fmt.Errorf("%w: empty crit", ErrMalformed)
	}
	if err := CheckEntityID(w.Iss, true); err != nil {
		return nil, fmt.Errorf("iss: %w", err)
	}
	if err := CheckEntityID(w.Sub, true); err != nil {
		return nil, fmt.Errorf("sub: %w", err)
	}
	if w.Exp <= w.Iat {
		return nil, fmt.Errorf("%w: exp %d not after iat %d", ErrMalformed, w.Exp, w.Iat)
	}
	ks, err := smjose.ParseJWKS(w.JWKS)
	if err != nil {
		return nil, fmt.Errorf("%w: jwks: %v", ErrMalformed, err)
	}
	if len(ks.Standard.Keys)+len(ks.SM2) == 0 {
		return nil, fmt.Errorf("%w: jwks has no usable key", ErrMalformed)
	}
	isConfig := w.Iss == w.Sub
	if !isConfig && len(w.AuthorityHints) > 0 {
		return nil, fmt.Errorf("%w: authority_hints in a subordinate statement", ErrMalformed)
	}
	if isConfig && w.MetadataPolicy != nil {
		return nil, fmt.Errorf("%w: metadata_policy in an entity configuration", ErrMalformed)
	}
	if isConfig && w.Constraints != nil {
		return nil, fmt.Errorf("%w: constraints in an entity configuration", ErrMalformed)
	}
	if _, ok := members["authority_hints"]; ok && len(w.AuthorityHints) == 0 {
		return nil, fmt.Errorf("%w: empty authority_hints", ErrMalformed)
	}
	for _, h := range w.AuthorityHints {
		if err := CheckEntityID(h, true); err != nil {
			return nil, fmt.Errorf("authority_hints: %w", err)
		}
	}
	if c := w.Constraints; c != nil && c.MaxPathLength != nil && *c.MaxPathLength < 0 {
		return nil, fmt.Errorf("%w: negative max_path_length", ErrMalformed)
	}
	for i, tm := range w.TrustMarks {
		if tm.Type == "" || tm.TrustMark == "" {
			return nil, fmt.Errorf("%w: trust_marks[%d] lacks trust_mark_type or trust_mark", ErrMalformed, i)
		}
	}
	if err := checkPolicyShape(w.MetadataPolicy); err != nil {
		return nil, err
	}
	return &EntityStatement{
		Issuer: w.Iss, Subject: w.Sub, IssuedAt: time.Unix(w.Iat, 0).UTC(), Expires: time.Unix(w.Exp, 0).UTC(),
		JWKS: ks, AuthorityHints: w.AuthorityHints, Metadata: w.Metadata, MetadataPolicy: w.MetadataPolicy,
		MetadataPolicyCrit: w.MetadataPolicyCrit, Constraints: w.Constraints, Crit: w.Crit,
		TrustMarks: w.TrustMarks, TrustMarkIssuers: w.TrustMarkIssuers, SourceEndpoint: w.SourceEndpoint,
	}, nil
}

// WellKnownURL returns the URL of the entity configuration of entityID (§9).
func WellKnownURL(entityID string) string {
	return strings.TrimSuffix(entityID, "/") + WellKnownPath
}

// truncate keeps error messages short when input is hostile.
func truncate(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

// FederationEndpoint returns the named federation_entity metadata parameter of s (e.g.
// "federation_fetch_endpoint"), or "".
func (s *EntityStatement) FederationEndpoint(param string) string {
	v, _ := s.Metadata[EntityTypeFederation][param].(string)
	return v
}
