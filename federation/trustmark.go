package federation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
)

// TrustMark is a verified trust mark (信任标志, §7).
type TrustMark struct {
	Type     string    // trust_mark_type, a URI
	Issuer   string    // iss
	Subject  string    // sub, the entity it is about
	IssuedAt time.Time // iat
	Expires  time.Time // exp; zero when it does not expire
	Raw      string    // the compact JWS
}

// RejectedTrustMark is a trust mark of the chain's leaf that did not verify.
type RejectedTrustMark struct {
	Type string // the trust_mark_type of the trust_marks entry
	Err  error  // why; wraps ErrTrustMark and the cause (ErrSignature, ErrExpired …)
}

type trustMarkClaims struct {
	Iss  string `json:"iss"`
	Sub  string `json:"sub"`
	Type string `json:"trust_mark_type"`
	Iat  int64  `json:"iat"`
	Exp  int64  `json:"exp,omitempty"`
}

// SignTrustMark issues a trust mark (JWT typ "trust-mark+jwt", §7.1) of type typ about sub,
// signed by signer on behalf of issuer; a zero exp means none. Errors: ErrMalformed for empty
// or malformed arguments; signing failures.
func SignTrustMark(signer *Signer, issuer, sub, typ string, iat, exp time.Time) (string, error) {
	if err := CheckEntityID(issuer, true); err != nil {
		return "", err
	}
	if err := CheckEntityID(sub, true); err != nil {
		return "", err
	}
	if typ == "" {
		return "", fmt.Errorf("%w: empty trust mark type", ErrMalformed)
	}
	c := trustMarkClaims{Iss: issuer, Sub: sub, Type: typ, Iat: iat.Unix()}
	if !exp.IsZero() {
		if !exp.After(iat) {
			return "", fmt.Errorf("%w: trust mark exp not after iat", ErrMalformed)
		}
		c.Exp = exp.Unix()
	}
	return signer.SignJWT(TypeTrustMark, c)
}

// checkTrustMarks verifies the leaf's trust marks into chain.TrustMarks and
// chain.RejectedTrustMarks. A mark is valid when its typ is trust-mark+jwt, its sub is the
// leaf, its trust_mark_type is the entry's, its issuer is the trust anchor or listed in the
// anchor's trust_mark_issuers for that type, its signature verifies with the issuer's keys
// (the anchor's, or those of the issuer's own chain to the same anchor), and it is within
// iat/exp.
func (r *Resolver) checkTrustMarks(ctx context.Context, chain *TrustChain) {
	leaf, ta := chain.Statements[0], chain.Statements[len(chain.Statements)-1]
	for _, ref := range leaf.TrustMarks {
		tm, err := r.verifyTrustMark(ctx, ref, leaf.Subject, ta)
		if err != nil {
			chain.RejectedTrustMarks = append(chain.RejectedTrustMarks, RejectedTrustMark{Type: ref.Type, Err: fmt.Errorf("%w: %w", ErrTrustMark, err)})
			continue
		}
		chain.TrustMarks = append(chain.TrustMarks, tm)
	}
}

func (r *Resolver) verifyTrustMark(ctx context.Context, ref TrustMarkRef, subject string, ta *EntityStatement) (TrustMark, error) {
	h, payload, err := parseHeader(ref.TrustMark, TypeTrustMark)
	if err != nil {
		return TrustMark{}, err
	}
	var c trustMarkClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		return TrustMark{}, fmt.Errorf("%w: trust mark claims: %v", ErrMalformed, err)
	}
	if c.Iss == "" || c.Sub == "" || c.Type == "" || c.Iat == 0 {
		return TrustMark{}, fmt.Errorf("%w: trust mark lacks iss, sub, trust_mark_type or iat", ErrMalformed)
	}
	if c.Sub != subject {
		return TrustMark{}, fmt.Errorf("%w: trust mark is about %s", ErrWrongSubject, truncate(c.Sub))
	}
	if c.Type != ref.Type {
		return TrustMark{}, fmt.Errorf("%w: trust mark type %q, entry says %q", ErrMalformed, truncate(c.Type), truncate(ref.Type))
	}
	if c.Iss != ta.Subject && !slices.Contains(ta.TrustMarkIssuers[c.Type], c.Iss) {
		return TrustMark{}, fmt.Errorf("%w: %s is not a trust_mark_issuer of %s for %s", ErrConstraint, truncate(c.Iss), ta.Subject, truncate(c.Type))
	}
	keys := ta.JWKS
	if c.Iss != ta.Subject {
		ic, err := r.resolve(ctx, c.Iss, "", &walk{anchor: ta.Subject, skipMarks: true})
		if err != nil {
			return TrustMark{}, fmt.Errorf("issuer %s: %w", c.Iss, err)
		}
		keys = ic.Statements[1].JWKS
	}
	if err := verifyJWS(ref.TrustMark, h, keys); err != nil {
		return TrustMark{}, err
	}
	now := r.now()
	tm := TrustMark{Type: c.Type, Issuer: c.Iss, Subject: c.Sub, IssuedAt: time.Unix(c.Iat, 0).UTC(), Raw: ref.TrustMark}
	if tm.IssuedAt.After(now.Add(r.skew())) {
		return TrustMark{}, fmt.Errorf("%w: trust mark issued in the future", ErrExpired)
	}
	if c.Exp != 0 {
		tm.Expires = time.Unix(c.Exp, 0).UTC()
		if !now.Before(tm.Expires) {
			return TrustMark{}, fmt.Errorf("%w: trust mark expired at %s", ErrExpired, tm.Expires.Format(time.RFC3339))
		}
	}
	return tm, nil
}

// PeekTrustMark returns the trust_mark_type and sub of a trust mark JWT without verifying its
// signature (for storing a mark issued to oneself). Errors: those of ReadTrustMark.
func PeekTrustMark(jwt string) (typ, sub string, err error) {
	tm, err := ReadTrustMark(jwt)
	return tm.Type, tm.Subject, err
}

// VerifyTrustMark verifies a trust mark JWT about subject before it is held (published in
// subject's entity configuration): JWT typ trust-mark+jwt, sub == subject, within iat/exp,
// issued by a configured trust anchor or by an entity that anchor lists in
// trust_mark_issuers for the mark's type, and signed with the issuer's keys (the anchor's
// configured keys, or those of the issuer's trust chain to that anchor, §7.3). Each
// configured anchor is tried in turn. Errors: ErrNoTrustAnchor when no anchor is configured;
// else ErrTrustMark joined with each anchor's reason (ErrMalformed, ErrWrongType,
// ErrWrongSubject, ErrSignature, ErrExpired, ErrConstraint, ErrFetch…).
func (r *Resolver) VerifyTrustMark(ctx context.Context, jwt, subject string) (TrustMark, error) {
	typ, _, err := PeekTrustMark(jwt)
	if err != nil {
		return TrustMark{}, fmt.Errorf("%w: %w", ErrTrustMark, err)
	}
	if len(r.Anchors) == 0 {
		return TrustMark{}, fmt.Errorf("%w: none configured, so the trust mark's issuer cannot be checked", ErrNoTrustAnchor)
	}
	var errs []error
	for _, a := range r.Anchors {
		tm, err := r.verifyTrustMarkAt(ctx, a, TrustMarkRef{Type: typ, TrustMark: jwt}, subject)
		if err == nil {
			return tm, nil
		}
		errs = append(errs, fmt.Errorf("trust anchor %s: %w", a.EntityID, err))
	}
	return TrustMark{}, fmt.Errorf("%w: %w", ErrTrustMark, errors.Join(errs...))
}

func (r *Resolver) verifyTrustMarkAt(ctx context.Context, a TrustAnchor, ref TrustMarkRef, subject string) (TrustMark, error) {
	w := &walk{anchor: a.EntityID, skipMarks: true}
	ta, err := r.config(ctx, w, a.EntityID)
	if err != nil {
		return TrustMark{}, err
	}
	ks, err := r.anchorKeys(a)
	if err != nil {
		return TrustMark{}, err
	}
	if err := VerifyStatement(ta, ks); err != nil {
		return TrustMark{}, fmt.Errorf("trust anchor configuration: %w", err)
	}
	return r.verifyTrustMark(ctx, ref, subject, ta)
}

// ReadTrustMark returns the claims of a trust mark JWT without verifying its signature (to
// display a mark held: its issuer and exp). Raw is set. Errors: ErrMalformed (ErrWrongType),
// ErrSignature (ErrUnsupportedAlg).
func ReadTrustMark(jwt string) (TrustMark, error) {
	_, payload, err := parseHeader(jwt, TypeTrustMark)
	if err != nil {
		return TrustMark{}, err
	}
	var c trustMarkClaims
	if err := json.Unmarshal(payload, &c); err != nil || c.Type == "" || c.Sub == "" {
		return TrustMark{}, fmt.Errorf("%w: trust mark lacks trust_mark_type or sub", ErrMalformed)
	}
	tm := TrustMark{Type: c.Type, Issuer: c.Iss, Subject: c.Sub, IssuedAt: time.Unix(c.Iat, 0).UTC(), Raw: jwt}
	if c.Exp != 0 {
		tm.Expires = time.Unix(c.Exp, 0).UTC()
	}
	return tm, nil
}
