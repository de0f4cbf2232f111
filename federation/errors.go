package federation

import "errors"

// Sentinel errors. Every error of this package wraps one of them (errors.Is) with the detail.
var (
	// ErrMalformed: a statement, JWS, JWKS, trust mark or policy that does not parse, lacks a
	// required claim, carries an unknown crit member, or an entity ID that is not a URL this
	// package accepts.
	ErrMalformed = errors.New("federation: malformed statement")
	// ErrWrongType: the JWT header typ is not the one the context requires (e.g.
	// "entity-statement+jwt"); it is also ErrMalformed.
	ErrWrongType = errors.New("federation: wrong JWT typ")
	// ErrUnsupportedAlg: the JWS alg is not SGD_SM3_SM2, ES256 or RS256 ("none" included); it
	// is also ErrSignature.
	ErrUnsupportedAlg = errors.New("federation: unsupported JWS alg")
	// ErrSignature: no key of the set that must have signed a statement verifies it.
	ErrSignature = errors.New("federation: signature does not verify")
	// ErrExpired: a statement or trust mark has expired (exp ≤ now) or is issued in the
	// future (iat > now + skew).
	ErrExpired = errors.New("federation: statement expired or not yet valid")
	// ErrWrongSubject: a statement is about another entity, or issued by another entity, than
	// the one the chain needs at that link.
	ErrWrongSubject = errors.New("federation: statement about another entity")
	// ErrLoop: following authority_hints comes back to an entity already in the path.
	ErrLoop = errors.New("federation: loop in authority hints")
	// ErrPathTooLong: the chain would need more intermediates than the resolver's
	// MaxPathLength or a superior's max_path_length constraint allows.
	ErrPathTooLong = errors.New("federation: trust chain too long")
	// ErrNoTrustAnchor: no authority hint leads to a configured trust anchor (or no anchor is
	// configured); the error also wraps each hint's own failure.
	ErrNoTrustAnchor = errors.New("federation: no trust chain to a configured trust anchor")
	// ErrPolicyConflict: the metadata policies of two superiors cannot be merged, or a merged
	// policy combines operators the specification forbids (§6.1.3.1).
	ErrPolicyConflict = errors.New("federation: conflicting metadata policies")
	// ErrPolicyViolation: the subject's metadata is outside the merged policy (§6.1.4.2).
	ErrPolicyViolation = errors.New("federation: metadata violates the policy")
	// ErrConstraint: a naming_constraints or allowed_entity_types constraint excludes the
	// subject (§6.2), or the entity type asked for is not in the resolved metadata.
	ErrConstraint = errors.New("federation: constraint violated")
	// ErrFetch: an entity configuration or subordinate statement could not be fetched: network
	// error, timeout, HTTP status other than 200, wrong content type, a body over 1 MB, or the
	// resolver's bound on fetches reached.
	ErrFetch = errors.New("federation: fetch failed")
	// ErrTrustMark: a trust mark did not verify (see TrustChain.RejectedTrustMarks for why), or
	// a caller requires a trust mark the chain does not carry.
	ErrTrustMark = errors.New("federation: trust mark not valid")
)
