package oidc

// OpenID Federation 1.0, the parts of the provider that use it (docs/design/federation.md,
// branch fed-rp): automatic registration of relying parties whose trust chain resolves to a
// configured trust anchor (federation_register.go, §12.1), and upstream providers found
// through the federation for brokered login (federation_upstream.go). Trust chains, entity
// statements and metadata policy are package federation's; the provider reaches them through
// Config.Federation.

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/go-jose/go-jose/v4"

	"github.com/tongban/tongban/federation"
	"github.com/tongban/tongban/keyring"
	"github.com/tongban/tongban/sm-crypto/smjose"
	"github.com/tongban/tongban/storage"
)

// Entity types of OpenID Federation 1.0 §5.1 that the provider resolves.
const (
	EntityTypeRelyingParty = "openid_relying_party"
	EntityTypeProvider     = "openid_provider"
)

// Federation is what the provider needs of OpenID Federation 1.0. Package federation's
// trust-chain Resolver implements it (cmd/internal/idpserver wires it into Config.Federation).
// Implementations must be safe for concurrent use and may cache chains until they expire.
type Federation interface {
	// EntityID returns this instance's entity identifier (an https URL; http on a loopback
	// host in tests): the client_id it registers with at federation upstreams.
	EntityID() string
	// ResolveEntity resolves the trust chain of the entity subject (its entity identifier)
	// to one of the configured trust anchors (§10) and returns its metadata of entityType
	// (EntityTypeRelyingParty or EntityTypeProvider) after every superior's metadata policy
	// (§6.1), with the anchor and the chain's expiry (its earliest exp). An error means the
	// entity is not trusted; a *ChainError tells why in one word.
	ResolveEntity(ctx context.Context, subject, entityType string) (ResolvedEntity, error)
}

// ResolvedEntity is an entity whose trust chain resolved (Federation.ResolveEntity).
type ResolvedEntity struct {
	// Metadata is the entity's metadata of the requested entity type, policies applied: JSON
	// values as encoding/json decodes them into any (string, float64, bool, []any,
	// map[string]any).
	Metadata map[string]any
	// TrustAnchor is the entity identifier of the anchor the chain ends at.
	TrustAnchor string
	// Expires is when the chain stops being valid (the earliest exp of its statements).
	Expires time.Time
}

// ChainError is a trust chain that did not resolve, with a one-word reason for audit entries
// and logs ("signature", "expired", "no_trust_anchor", "policy", "fetch", …: the federation
// package's sentinel errors). Err is the cause.
type ChainError struct {
	Reason string
	Err    error
}

func (e *ChainError) Error() string {
	return "federation: trust chain: " + e.Reason + ": " + e.Err.Error()
}
func (e *ChainError) Unwrap() error { return e.Err }

// Refusals of OpenID Federation automatic registration (federation_register.go) and of
// federation upstreams (federation_upstream.go). Each has its own error page and audit
// reason; nothing is registered after any of them.
var (
	// ErrFederationChain: the entity's trust chain does not resolve to a configured trust
	// anchor (forged, expired, not reaching the anchor, policy violated…); wraps the
	// Federation's error, usually a *ChainError.
	ErrFederationChain = errors.New("oidc: federation: trust chain not resolved")
	// ErrFederationMetadata: the chain resolved, but the entity's metadata cannot be used
	// (no redirect URIs or keys, a value tongban does not accept).
	ErrFederationMetadata = errors.New("oidc: federation: unusable metadata")
	// ErrRequestObject: the authorization request of a federation client has no request
	// object, or one that is malformed or whose claims are wrong (iss, client_id, aud, jti).
	ErrRequestObject = errors.New("oidc: federation: request object refused")
	// ErrRequestObjectSignature: the request object's signature does not verify with the
	// keys of the client's resolved metadata, or its alg is not SGD_SM3_SM2 or ES256.
	ErrRequestObjectSignature = errors.New("oidc: federation: request object signature refused")
	// ErrRequestObjectExpired: the request object has no exp, has expired, or its iat or nbf is
	// in the future.
	ErrRequestObjectExpired = errors.New("oidc: federation: request object expired")
	// ErrRequestObjectLifetime: the request object's exp is more than five minutes ahead
	// (too far in the future; it is also ErrRequestObject).
	ErrRequestObjectLifetime = fmt.Errorf("%w: exp too far in the future", ErrRequestObject)
	// ErrRequestObjectReplay: the request object's jti was used before.
	ErrRequestObjectReplay = errors.New("oidc: federation: request object replayed")
)

// federationReason names a refusal in audit details, logs and its error page.
func federationReason(err error) (reason, msg string) {
	for _, c := range []struct {
		err         error
		reason, msg string
	}{
		{ErrFederationChain, "chain", "errFederationChain"},
		{ErrFederationMetadata, "metadata", "errFederationMetadata"},
		{ErrRequestObjectSignature, "signature", "errRequestObjectSignature"},
		{ErrRequestObjectExpired, "expired", "errRequestObjectExpired"},
		{ErrRequestObjectLifetime, "lifetime", "errRequestObjectLifetime"},
		{ErrRequestObjectReplay, "replay", "errRequestObjectReplay"},
		{ErrRequestObject, "request_object", "errRequestObject"},
	} {
		if errors.Is(err, c.err) {
			return c.reason, c.msg
		}
	}
	return "error", msgServer
}

// chainReason is the one-word reason of a chain failure ("" when err is no *ChainError).
func chainReason(err error) string {
	var ce *ChainError
	if errors.As(err, &ce) {
		return ce.Reason
	}
	return ""
}

// maxEntityID bounds an entity identifier used as a client_id.
const maxEntityID = 255

// isEntityID reports whether id has the shape of an entity identifier tongban resolves
// (OpenID Federation 1.0 §1.2): an https URL with a host, no query, fragment or user info, at
// most 255 bytes; http is accepted on a loopback host (tests, development), as for redirect
// URIs.
func isEntityID(id string) bool {
	return len(id) <= maxEntityID && federation.CheckEntityID(id, true) == nil
}

// rpSigner signs what this instance sends as a federation relying party (request objects,
// client assertions) with its keyring's active SGD_SM3_SM2 key of purpose
// storage.PurposeFederationRP; the go-jose signer is cached per key.
type rpSigner struct {
	kr *keyring.Keyring

	mu      sync.Mutex
	signers map[string]jose.Signer // by kid + typ
}

// sign signs claims as a compact JWS with JWS typ typ ("" for none).
func (r *rpSigner) sign(ctx context.Context, claims map[string]any, typ string) (string, error) {
	key, err := r.kr.Active(ctx, storage.PurposeFederationRP, AlgSM2)
	if err != nil {
		return "", err
	}
	r.mu.Lock()
	js, ok := r.signers[key.ID+"\x00"+typ]
	r.mu.Unlock()
	if !ok {
		priv, isSM2 := key.Signer.(*sm2.PrivateKey)
		if !isSM2 {
			return "", fmt.Errorf("oidc: federation RP key %s has type %T", key.ID, key.Signer)
		}
		opts := &jose.SignerOptions{}
		if typ != "" {
			opts = opts.WithType(jose.ContentType(typ))
		}
		if js, err = jose.NewSigner(jose.SigningKey{Algorithm: smjose.AlgSM2, Key: smjose.NewSigner(priv, key.ID)}, opts); err != nil {
			return "", err
		}
		r.mu.Lock()
		if r.signers == nil {
			r.signers = map[string]jose.Signer{}
		}
		r.signers[key.ID+"\x00"+typ] = js
		r.mu.Unlock()
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	obj, err := js.Sign(payload)
	if err != nil {
		return "", err
	}
	return obj.CompactSerialize()
}

// jwks returns the public keys of storage.PurposeFederationRP as a JWK Set object (SM2 keys as
// {"kty":"EC","crv":"SM2-P-256",…,"alg":"SGD_SM3_SM2","use":"sig"}).
func (r *rpSigner) jwks(ctx context.Context) (map[string]any, error) {
	keys, err := r.kr.Published(ctx, storage.PurposeFederationRP)
	if err != nil {
		return nil, err
	}
	var sm []smjose.JWK
	for _, k := range keys {
		pub, ok := k.Public.(*ecdsa.PublicKey)
		if !ok || k.Algorithm != AlgSM2 {
			continue
		}
		sm = append(sm, smjose.JWK{Key: pub, KeyID: k.ID, Algorithm: AlgSM2, Use: "sig"})
	}
	b, err := smjose.MarshalJWKS(nil, sm)
	if err != nil {
		return nil, err
	}
	var set map[string]any
	return set, json.Unmarshal(b, &set)
}

// FederationRPMetadata returns this instance's openid_relying_party metadata (OpenID
// Federation 1.0 §5.1.2) for its entity configuration, as a relying party of its federation
// upstreams (brokered login, federation_upstream.go): see RelyingPartyMetadata.
func (s *Server) FederationRPMetadata(ctx context.Context) (map[string]any, error) {
	return RelyingPartyMetadata(ctx, s.store, s.kr, s.issuer)
}

// RelyingPartyMetadata is the openid_relying_party metadata of the provider issuer as a
// relying party of its federation upstreams: automatic registration, the upstream callback as
// its only redirect URI, private_key_jwt and request objects signed with SGD_SM3_SM2 by the
// keys in jwks (storage.PurposeFederationRP, created when missing), ID tokens in SGD_SM3_SM2,
// the upstream back-channel logout URI (with sid), and as scope the union of the federation
// upstreams' scopes ("openid" when none). Errors: storage and keyring errors.
func RelyingPartyMetadata(ctx context.Context, store storage.Storage, kr *keyring.Keyring, issuer string) (map[string]any, error) {
	ups, err := store.ListUpstreams(ctx)
	if err != nil {
		return nil, err
	}
	return relyingPartyMetadata(ctx, kr, issuer, ups)
}

// relyingPartyMetadata is RelyingPartyMetadata with the upstreams ups already read.
func relyingPartyMetadata(ctx context.Context, kr *keyring.Keyring, issuer string, ups []storage.Upstream) (map[string]any, error) {
	if err := kr.EnsureSigningKeys(ctx, storage.PurposeFederationRP, AlgSM2); err != nil {
		return nil, err
	}
	jwks, err := (&rpSigner{kr: kr}).jwks(ctx)
	if err != nil {
		return nil, err
	}
	scopes := []string{ScopeOpenID}
	for _, u := range ups {
		if !u.Federation {
			continue
		}
		for _, sc := range u.Scopes {
			if !slices.Contains(scopes, sc) {
				scopes = append(scopes, sc)
			}
		}
	}
	return map[string]any{
		"client_registration_types":           []string{"automatic"},
		"redirect_uris":                       []string{UpstreamRedirectURI(issuer)},
		"response_types":                      []string{"code"},
		"grant_types":                         []string{GrantAuthorizationCode},
		"scope":                               strings.Join(scopes, " "),
		"token_endpoint_auth_method":          AuthPrivateKeyJWT,
		"token_endpoint_auth_signing_alg":     AlgSM2,
		"request_object_signing_alg":          AlgSM2,
		"id_token_signed_response_alg":        AlgSM2,
		"jwks":                                jwks,
		"backchannel_logout_uri":              UpstreamBackchannelLogoutURI(issuer),
		"backchannel_logout_session_required": true,
	}, nil
}

func init() {
	addMessages(map[string]map[string]string{
		langZH: {
			"errFederationChain":        "无法通过可信联盟确认该应用，未进行任何操作。",
			"errFederationMetadata":     "该应用在可信联盟中登记的元数据无法使用，未进行任何操作。",
			"errRequestObject":          "该应用发来的请求对象无效，未进行任何操作。",
			"errRequestObjectSignature": "该应用发来的请求对象签名无效，未进行任何操作。",
			"errRequestObjectExpired":   "该应用发来的请求对象已过期，请回到应用重新登录。",
			"errRequestObjectReplay":    "该应用发来的请求对象已使用过，请回到应用重新登录。",
			"errRequestObjectLifetime":  "该应用发来的请求对象有效期过长（超过5分钟），未进行任何操作。",
		},
		langEN: {
			"errFederationChain":        "This app could not be confirmed through the trust federation; nothing was done.",
			"errFederationMetadata":     "The metadata this app has in the trust federation cannot be used; nothing was done.",
			"errRequestObject":          "The request object this app sent is invalid; nothing was done.",
			"errRequestObjectSignature": "The request object this app sent has an invalid signature; nothing was done.",
			"errRequestObjectExpired":   "The request object this app sent has expired. Go back to the app and log in again.",
			"errRequestObjectReplay":    "The request object this app sent was used before. Go back to the app and log in again.",
			"errRequestObjectLifetime":  "The request object this app sent is valid too far into the future (more than 5 minutes); nothing was done.",
		},
	})
}

// federation returns Config.Federation, or this server's own: its issuer as entity ID and
// FederationResolver (the stored trust anchors) for chains.
func (s *Server) federation() Federation {
	if s.cfg.Federation != nil {
		return s.cfg.Federation
	}
	return ownFederation{s}
}

// ownFederation is the Federation of a server without Config.Federation.
type ownFederation struct{ s *Server }

func (f ownFederation) EntityID() string { return f.s.issuer }

// ResolveEntity resolves with FederationResolver; a failure is a *ChainError named after
// package federation's sentinel error.
func (f ownFederation) ResolveEntity(ctx context.Context, subject, entityType string) (ResolvedEntity, error) {
	r, err := f.s.FederationResolver(ctx)
	if err != nil {
		return ResolvedEntity{}, &ChainError{Reason: "storage", Err: err}
	}
	chain, err := r.Resolve(ctx, subject, entityType)
	if err != nil {
		return ResolvedEntity{}, &ChainError{Reason: federationErrorReason(err), Err: err}
	}
	return ResolvedEntity{Metadata: chain.Metadata, TrustAnchor: chain.TrustAnchor, Expires: chain.Expires}, nil
}

// federationErrorReason names package federation's error in one word. A chain with no anchor
// wraps the failure of every authority hint it tried: a forged statement on the way is named
// (signature, expired…); a hint that leads nowhere (a superior that does not vouch for the
// entity answers 404) is no_trust_anchor; fetch and malformed are left for the entity's own
// configuration.
func federationErrorReason(err error) string {
	for _, c := range []struct {
		err    error
		reason string
	}{
		{federation.ErrUnsupportedAlg, "alg"},
		{federation.ErrSignature, "signature"},
		{federation.ErrWrongSubject, "wrong_subject"},
		{federation.ErrExpired, "expired"},
		{federation.ErrLoop, "loop"},
		{federation.ErrPathTooLong, "path_too_long"},
		{federation.ErrPolicyConflict, "policy_conflict"},
		{federation.ErrPolicyViolation, "policy_violation"},
		{federation.ErrConstraint, "constraint"},
		{federation.ErrTrustMark, "trust_mark"},
		{federation.ErrNoTrustAnchor, "no_trust_anchor"},
		{federation.ErrMalformed, "malformed"},
		{federation.ErrFetch, "fetch"},
	} {
		if errors.Is(err, c.err) {
			return c.reason
		}
	}
	return "error"
}

// entityRPMetadata adds the openid_relying_party metadata of the provider issuer
// (RelyingPartyMetadata) to the metadata md of its entity configuration when it has a
// federation upstream: the upstream's OP resolves this instance's chain to register it.
func entityRPMetadata(ctx context.Context, store storage.Storage, kr *keyring.Keyring, issuer string, md map[string]map[string]any) error {
	ups, err := store.ListUpstreams(ctx)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(ups, func(u storage.Upstream) bool { return u.Federation }) {
		return nil
	}
	rp, err := relyingPartyMetadata(ctx, kr, issuer, ups)
	if err != nil {
		return err
	}
	md[EntityTypeRelyingParty] = rp
	return nil
}
