package oidc

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/tongban/tongban/audit"
	"github.com/tongban/tongban/federation"
	"github.com/tongban/tongban/keyring"
	"github.com/tongban/tongban/storage"
)

// Administration of this instance's OpenID Federation configuration (`idp federation …`).
// Every change is audited by the actor in the same transaction; bad input is refused with
// ErrInvalidFederation and nothing is stored.

// ErrInvalidFederation: a federation setting with a bad field; the message says which.
var ErrInvalidFederation = errors.New("oidc: invalid federation setting")

// checkFedEntityID checks id with federation.CheckEntityID (https, or http for a loopback
// host: a test federation on one machine); the error names flag, the command-line flag that
// gave it.
func checkFedEntityID(flag, id string) error {
	if err := federation.CheckEntityID(id, true); err != nil {
		return fmt.Errorf("%w: %s: %s", ErrInvalidFederation, flag, strings.TrimPrefix(err.Error(), federation.ErrMalformed.Error()+": "))
	}
	return nil
}

var entityTypeRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// NewFederationSubordinate is what `idp federation subordinate add` stores.
type NewFederationSubordinate struct {
	EntityID       string
	JWKS           []byte   // JWK Set document, checked out of band by the operator
	EntityTypes    []string // e.g. openid_relying_party
	MetadataPolicy []byte   // metadata_policy JSON object, or nil
	MaxPathLength  *int     // constraints.max_path_length, or nil
	Constraints    []byte   // other constraints (JSON object), or nil; MaxPathLength overrides its member
}

// AddFederationSubordinate validates n and stores it as a subordinate of this instance,
// auditing "federation.subordinate.add". The policy must be a metadata_policy whose operators
// combine as OpenID Federation 1.0 §6.1.3.1 allows; the JWK Set must hold a usable key.
// Errors: ErrInvalidFederation, storage.ErrConflict.
func AddFederationSubordinate(ctx context.Context, store storage.Storage, actor audit.Actor, n NewFederationSubordinate, now time.Time) (storage.FederationSubordinate, error) {
	if err := checkFedEntityID("--entity-id", n.EntityID); err != nil {
		return storage.FederationSubordinate{}, err
	}
	jwks, err := normalJWKS(n.JWKS)
	if err != nil {
		return storage.FederationSubordinate{}, err
	}
	for _, t := range n.EntityTypes {
		if !entityTypeRE.MatchString(t) {
			return storage.FederationSubordinate{}, fmt.Errorf("%w: entity type %q", ErrInvalidFederation, t)
		}
	}
	var policy []byte
	if len(bytes.TrimSpace(n.MetadataPolicy)) > 0 {
		var p federation.Policy
		if err := strictJSON(n.MetadataPolicy, &p, false); err != nil || p == nil {
			return storage.FederationSubordinate{}, fmt.Errorf("%w: metadata policy is not a JSON object of entity types: %v", ErrInvalidFederation, err)
		}
		if _, err := federation.MergePolicies(federation.Policy{}, p, nil); err != nil {
			return storage.FederationSubordinate{}, fmt.Errorf("%w: metadata policy: %w", ErrInvalidFederation, err)
		}
		policy, _ = json.Marshal(p)
	}
	var c federation.Constraints
	if len(bytes.TrimSpace(n.Constraints)) > 0 {
		if err := strictJSON(n.Constraints, &c, true); err != nil {
			return storage.FederationSubordinate{}, fmt.Errorf("%w: constraints: %v", ErrInvalidFederation, err)
		}
	}
	if n.MaxPathLength != nil {
		if *n.MaxPathLength < 0 {
			return storage.FederationSubordinate{}, fmt.Errorf("%w: max path length %d is negative", ErrInvalidFederation, *n.MaxPathLength)
		}
		c.MaxPathLength = n.MaxPathLength
	}
	var constraints []byte
	if c.MaxPathLength != nil || c.NamingConstraints != nil || c.AllowedEntityTypes != nil {
		constraints, _ = json.Marshal(c)
	}
	now = now.UTC().Truncate(time.Microsecond)
	types := n.EntityTypes
	if types == nil {
		types = []string{}
	}
	rec := storage.FederationSubordinate{EntityID: n.EntityID, JWKS: jwks, EntityTypes: types, MetadataPolicy: policy,
		Constraints: constraints, CreatedAt: now, UpdatedAt: now, CreatedBy: actor.ID, UpdatedBy: actor.ID}
	err = store.InTx(ctx, func(ctx context.Context) error {
		if err := store.CreateFederationSubordinate(ctx, rec); err != nil {
			return err
		}
		return actor.Record(ctx, store, now, "federation.subordinate.add", n.EntityID, "",
			fmt.Sprintf("entity_types=%s policy=%t", strings.Join(types, ","), policy != nil))
	})
	if err != nil {
		return storage.FederationSubordinate{}, err
	}
	return rec, nil
}

// RemoveFederationSubordinate deletes the subordinate, auditing
// "federation.subordinate.remove". storage.ErrNotFound when missing.
func RemoveFederationSubordinate(ctx context.Context, store storage.Storage, actor audit.Actor, entityID string, now time.Time) error {
	return removeAudited(ctx, store, actor, now, "federation.subordinate.remove", entityID, store.DeleteFederationSubordinate)
}

// AddFederationAnchor stores a trust anchor with its keys, auditing "federation.anchor.add".
// Errors: ErrInvalidFederation, storage.ErrConflict.
func AddFederationAnchor(ctx context.Context, store storage.Storage, actor audit.Actor, entityID string, jwks []byte, now time.Time) (storage.FederationAnchor, error) {
	if err := checkFedEntityID("--entity-id", entityID); err != nil {
		return storage.FederationAnchor{}, err
	}
	norm, err := normalJWKS(jwks)
	if err != nil {
		return storage.FederationAnchor{}, err
	}
	now = now.UTC().Truncate(time.Microsecond)
	a := storage.FederationAnchor{EntityID: entityID, JWKS: norm, CreatedAt: now, CreatedBy: actor.ID}
	err = store.InTx(ctx, func(ctx context.Context) error {
		if err := store.CreateFederationAnchor(ctx, a); err != nil {
			return err
		}
		return actor.Record(ctx, store, now, "federation.anchor.add", entityID, "", "")
	})
	return a, err
}

// RemoveFederationAnchor deletes a trust anchor, auditing "federation.anchor.remove".
func RemoveFederationAnchor(ctx context.Context, store storage.Storage, actor audit.Actor, entityID string, now time.Time) error {
	return removeAudited(ctx, store, actor, now, "federation.anchor.remove", entityID, store.DeleteFederationAnchor)
}

// AddAuthorityHint adds a superior to this instance's authority_hints, auditing
// "federation.authority.add". Errors: ErrInvalidFederation, storage.ErrConflict.
func AddAuthorityHint(ctx context.Context, store storage.Storage, actor audit.Actor, entityID string, now time.Time) error {
	if err := checkFedEntityID("--entity-id", entityID); err != nil {
		return err
	}
	now = now.UTC().Truncate(time.Microsecond)
	return store.InTx(ctx, func(ctx context.Context) error {
		if err := store.CreateFederationAuthorityHint(ctx, storage.FederationAuthorityHint{EntityID: entityID, CreatedAt: now, CreatedBy: actor.ID}); err != nil {
			return err
		}
		return actor.Record(ctx, store, now, "federation.authority.add", entityID, "", "")
	})
}

// RemoveAuthorityHint removes a superior, auditing "federation.authority.remove".
func RemoveAuthorityHint(ctx context.Context, store storage.Storage, actor audit.Actor, entityID string, now time.Time) error {
	return removeAudited(ctx, store, actor, now, "federation.authority.remove", entityID, store.DeleteFederationAuthorityHint)
}

// IssueTrustMark signs a trust mark (typ trust-mark+jwt) of type typ about sub with this
// instance's federation key, issuer issuer (this instance's entity ID), valid for ttl (0: no
// exp), records it and audits "federation.trust_mark.issue". The JWT is returned for the
// subject's operator (`idp federation trust-mark add` there). Errors: ErrInvalidFederation.
func IssueTrustMark(ctx context.Context, store storage.Storage, kr *keyring.Keyring, actor audit.Actor, issuer, sub, typ string, ttl time.Duration, now time.Time) (string, error) {
	if err := checkFedEntityID("--sub", sub); err != nil {
		return "", err
	}
	if u, err := url.Parse(typ); err != nil || u.Scheme == "" || len(typ) > 512 {
		return "", fmt.Errorf("%w: trust mark type %q is not a URI", ErrInvalidFederation, typ)
	}
	if ttl < 0 {
		return "", fmt.Errorf("%w: negative ttl", ErrInvalidFederation)
	}
	if err := EnsureFederationKeys(ctx, kr); err != nil {
		return "", err
	}
	active, err := kr.Active(ctx, storage.PurposeFederation, FederationSigningAlgs[0])
	if err != nil {
		return "", err
	}
	signer, err := federation.NewSigner(active.Signer, active.ID)
	if err != nil {
		return "", err
	}
	iat := now.UTC().Truncate(time.Second)
	var exp time.Time
	rec := storage.IssuedTrustMark{ID: randomRecordID(), Type: typ, Subject: sub, IssuedAt: iat, CreatedBy: actor.ID}
	if ttl > 0 {
		exp = iat.Add(ttl)
		rec.ExpiresAt = &exp
	}
	jwt, err := federation.SignTrustMark(signer, issuer, sub, typ, iat, exp)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalidFederation, err)
	}
	err = store.InTx(ctx, func(ctx context.Context) error {
		if err := store.CreateIssuedTrustMark(ctx, rec); err != nil {
			return err
		}
		return actor.Record(ctx, store, iat, "federation.trust_mark.issue", sub, "", "type="+typ)
	})
	if err != nil {
		return "", err
	}
	return jwt, nil
}

// AddHeldTrustMark verifies a trust mark issued to this instance and stores it (published in
// its entity configuration), auditing "federation.trust_mark.add". The mark must be a
// trust-mark+jwt about self, not expired, issued by one of the stored trust anchors or an
// issuer that anchor lists in trust_mark_issuers for its type, and signed with the issuer's
// keys (federation.Resolver.VerifyTrustMark, fetching over HTTP; client nil means the
// resolver's guarded default). Errors: ErrInvalidFederation (no trust anchor configured, a
// malformed, forged, expired or foreign mark).
func AddHeldTrustMark(ctx context.Context, store storage.Storage, client *http.Client, actor audit.Actor, self, jwt string, now time.Time) (federation.TrustMark, error) {
	jwt = strings.TrimSpace(jwt)
	typ, sub, err := federation.PeekTrustMark(jwt)
	if err != nil {
		return federation.TrustMark{}, fmt.Errorf("%w: %w", ErrInvalidFederation, err)
	}
	if sub != self {
		return federation.TrustMark{}, fmt.Errorf("%w: the trust mark is about %s, not this instance (%s)", ErrInvalidFederation, sub, self)
	}
	anchors, err := store.ListFederationAnchors(ctx)
	if err != nil {
		return federation.TrustMark{}, err
	}
	if len(anchors) == 0 {
		return federation.TrustMark{}, fmt.Errorf("%w: no trust anchor is configured, so the trust mark cannot be checked; "+
			"add the anchor that vouches for its issuer first (idp federation anchor add)", ErrInvalidFederation)
	}
	res := &federation.Resolver{HTTPClient: client, Now: func() time.Time { return now },
		AllowHTTP: strings.HasPrefix(self, "http://")}
	for _, a := range anchors {
		res.Anchors = append(res.Anchors, federation.TrustAnchor{EntityID: a.EntityID, JWKS: a.JWKS})
	}
	tm, err := res.VerifyTrustMark(ctx, jwt, self)
	if err != nil {
		return federation.TrustMark{}, fmt.Errorf("%w: trust mark %s not accepted: %w", ErrInvalidFederation, typ, err)
	}
	now = now.UTC().Truncate(time.Microsecond)
	err = store.InTx(ctx, func(ctx context.Context) error {
		if err := store.PutHeldTrustMark(ctx, storage.HeldTrustMark{Type: typ, TrustMark: jwt, AddedAt: now, AddedBy: actor.ID}); err != nil {
			return err
		}
		return actor.Record(ctx, store, now, "federation.trust_mark.add", typ, "", "iss="+tm.Issuer)
	})
	return tm, err
}

// normalJWKS checks a JWK Set document and returns it re-encoded (standard keys, then SM2).
func normalJWKS(data []byte) ([]byte, error) {
	ks, err := federation.ParseJWKS(data)
	if err != nil {
		return nil, fmt.Errorf("%w: JWK Set: %w", ErrInvalidFederation, err)
	}
	if len(ks.Skipped) > 0 {
		return nil, fmt.Errorf("%w: JWK Set member %d: %v", ErrInvalidFederation, ks.Skipped[0].Index, ks.Skipped[0].Err)
	}
	out, err := ks.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("%w: JWK Set: %v", ErrInvalidFederation, err)
	}
	return out, nil
}

func strictJSON(data []byte, v any, disallowUnknown bool) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if disallowUnknown {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data")
	}
	return nil
}

func randomRecordID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// removeAudited runs del(ctx, target) and the audit entry action about target in one
// transaction, as every audited removal does: no removal without its entry. del's
// storage.ErrNotFound is returned as is.
func removeAudited(ctx context.Context, store storage.Storage, actor audit.Actor, now time.Time, action, target string, del func(context.Context, string) error) error {
	return store.InTx(ctx, func(ctx context.Context) error {
		if err := del(ctx, target); err != nil {
			return err
		}
		return actor.Record(ctx, store, now, action, target, "", "")
	})
}
