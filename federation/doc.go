// Package federation implements the core of OpenID Federation 1.0 (final specification): entity
// statements (§3: entity configurations and subordinate statements, JWT typ
// "entity-statement+jwt"), metadata policy (§6.1: the operators value, add, default, one_of,
// subset_of, superset_of and essential, merged top-down across the superiors of a chain and then
// applied to the leaf's metadata; metadata_policy_crit), constraints (§6.2: max_path_length,
// naming_constraints, allowed_entity_types), trust marks (§7, JWT typ "trust-mark+jwt", checked
// against the trust anchor's trust_mark_issuers), trust-chain resolution and validation (§10)
// with a cache, and the response formats of the fetch, list and resolve endpoints (§8).
//
// No Go module served to this project implements OpenID Federation, so this package is written
// here on go-jose v4 and tongban's SM2 JOSE adapter (sm-crypto/smjose). Statements are signed
// with SGD_SM3_SM2 (SM2 with SM3, GM/T 0125.1) or ES256 (RFC 7518 §3.4); RS256 is accepted when
// checking statements signed elsewhere. Every other alg, "none" included, is refused.
//
// Resolver resolves a chain from a subject's entity configuration at
// <entity>/.well-known/openid-federation, through the federation_fetch_endpoint of each
// superior named in authority_hints, to a trust anchor configured with its entity ID and JWKS
// (never trusted from the wire). Every error wraps one of the Err* sentinels (errors.Is).
//
// 联邦 (federation), 信任锚 (trust anchor), 信任链 (trust chain), 信任标志 (trust mark).
package federation
