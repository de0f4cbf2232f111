// Package wallet is the licence core of tongban's e-licence wallet (电子证照): the licence
// service that stores the licences issuing authorities push, the minting of signed dynamic QR
// codes (扫码亮证, 多码合一) with the keyring's SM2 code-signing key, and the signed trust list
// and status list verifiers need (DESIGN §1, §5).
//
// Service is the whole core: Import, Put, Licences, SetStatus, Mint, TrustList, StatusList and
// the two-phase trust-anchor rotation (PrepareAnchorRotation, CommitAnchorRotation).
// cmd/wallet's commands call it directly. The package has no HTTP: it imports neither
// net/http nor an OpenID Connect or OAuth client (a test asserts it). Package wallet/web puts a
// Service on the web — citizens' pages, the mobile app's JSON API, the login through the
// identity provider, GET /trust-list and GET /status-list — and cmd/internal/walletserver
// assembles the two for `wallet serve` and the demo (cmd/demo).
//
// Licences are stored through storage.Licences with every personal field sealed by the
// keyring (SM4-GCM) and found by a blind index of the holder's number (HMAC-SM3): one number
// finds all of a holder's licences (一证通办). A licence is also found by kind and licence
// number (storage.Licences.FindLicences), and a business licence by the blind indexes of its
// authorised agents (storage.Licence.AgentIndexes, storage.Licences.ListLicencesByAgent).
//
// The trust list is a pure function of the stored keys and the current day, signed
// deterministically, so every replica serves the same bytes (Service.TrustList). Verifiers pin
// the trust-list signing key, written as a PEM "trust anchor" by MarshalTrustAnchors, and keep
// their trust state (sequence, replay cache, anchor switches) in a qr.VerifierState.
//
// See docs/verifiers/counter-guide.md for the verifier side and docs/demo.md for a
// walk-through; package wallettest has the helpers of the end-to-end tests.
//
// Nothing here logs personal data: logs and audit entries carry licence IDs, kinds, opaque
// subjects and key IDs only.
package wallet
