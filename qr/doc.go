// Package qr is tongban's licence QR code (扫码亮证, 多码合一): the code
// format, its minter and its offline verifier, and the signed trust list
// verifiers use, exactly as DESIGN §5 and docs/formats/qr-payload.md
// specify.
//
// A code's text is Prefix ("LZ1:") followed by the Base45 (RFC 9285) of a
// tagged COSE_Sign1 (RFC 9052) signed with SM2 (smcose.AlgorithmSM2), whose
// payload is deterministic CBOR claims: iat, exp (iat + 60 s), an 8-byte
// random cti and one private claim, ClaimDisplay, whose array layout is
// fixed by a numbered DisplayProfile. The text is uppercase so the QR uses
// alphanumeric mode; RenderPNG draws it at level M.
//
// Issuers mint with a Minter. Verifiers use a Verifier with a TrustSource
// (a *TrustList, or a *TrustStore that refuses rollbacks) and optionally a
// ReplayCache; Verify checks in the order of DESIGN §5 and fails with one
// sentinel error per failure (errors.go). A TrustList is published with
// SignTrustList and read with ParseTrustList against pinned keys.
//
// A verifier that runs more than once keeps its trust state in a
// VerifierState: the highest trust-list sequence (rollback protection), the
// cti of accepted codes (replay protection) and the trust anchors followed
// through a rotation (announced, switched to, retired). It is both the
// TrustSource and the ReplayCache of a Verifier, and persists as a
// VerifierSnapshot through a VerifierStateStore (Load, Save): `wallet
// verify --state` stores the snapshot as a JSON file; a Go application or a
// browser verifier stores it where it likes and gets the same rotation
// handling.
//
// The package is an offline library: it imports no network, storage or
// OIDC code (DESIGN §1).
package qr
