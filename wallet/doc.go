// Package wallet is tongban's e-licence wallet (电子证照): the licence service that stores the
// licences issuing authorities push, the minting of signed dynamic QR codes (扫码亮证, 多码合一)
// with the keyring's SM2 code-signing key, the signed trust list verifiers need, and the HTTP
// server citizens and the mobile app use (DESIGN §1, §5).
//
// Service is the core without HTTP: Import, Put, Licences, SetStatus, Mint and TrustList.
// cmd/wallet's commands call it directly. Server puts it on the web:
//
//   - citizens log in through the identity provider (the wallet is an OpenID Connect client:
//     authorization code flow with PKCE S256, state and nonce, ID token verified with the
//     provider's JWKS in the one algorithm the client is registered for, Config.IDTokenAlg,
//     SM2 by default) and see their licences, masked; logins are stored server-side
//     (Config.Sessions), so logout kills every copy of the session cookie;
//   - a licence opens as a QR code that refreshes every 30 seconds, and the 多码合一 page puts
//     several licences under one signature;
//   - the JSON API for the mobile app (GET /api/v1/licences, POST /api/v1/codes) takes the
//     provider's bearer access tokens, checked by introspection and userinfo, and accepts
//     only tokens meant for the wallet (Config.APIClients, Config.APIAudience; none by
//     default);
//   - GET /trust-list serves the signed trust list.
//
// Licences are stored through storage.Licences with every personal field sealed by the
// keyring (SM4-GCM) and found by a blind index of the holder's number (HMAC-SM3): one number
// finds all of a holder's licences (一证通办). A licence is also found by kind and licence
// number (storage.Licences.FindLicences), and a business licence by the blind indexes of its
// authorised agents (storage.Licence.AgentIndexes, storage.Licences.ListLicencesByAgent).
//
// The trust list is a pure function of the stored keys and the current day, signed
// deterministically, so every replica serves the same bytes (Service.TrustList). Verifiers pin
// the trust-list signing key, written as a PEM "trust anchor" by MarshalTrustAnchors.
//
// See docs/verifiers/counter-guide.md for the verifier side and docs/demo.md for a
// walk-through; package wallettest has the helpers of the end-to-end tests.
//
// Nothing here logs personal data: logs and audit entries carry licence IDs, kinds, opaque
// subjects and key IDs only.
package wallet
