// Package web is the web side of tongban's e-licence wallet: it puts a wallet.Service on
// HTTP for citizens and the mobile app (DESIGN §1). Server serves, in one route table:
//
//   - the pages (zh-CN first, en): citizens log in through the identity provider — the wallet
//     is an OpenID Connect client (go-oidc, x/oauth2): authorization code flow with PKCE S256,
//     state and nonce, ID token verified with the provider's JWKS in the one algorithm the
//     client is registered for, Config.IDTokenAlg, SM2 by default — and see their licences,
//     masked; logins are stored server-side (Config.Sessions), so logout kills every copy of
//     the session cookie;
//   - a licence as a QR code that refreshes every Config.Refresh (30 s), and the 多码合一 page
//     that puts several licences under one signature;
//   - the JSON API for the mobile app (GET /api/v1/licences, POST /api/v1/codes), which takes
//     the provider's bearer access tokens, checked by introspection (RFC 7662) and userinfo,
//     and accepts only tokens meant for the wallet (Config.APIClients, Config.APIAudience;
//     none by default);
//   - the licence lookup API for department apps (GET /api/v1/lookup/licences, 一证通办): the
//     holder's licences in full, for tokens granted licence:<kind> by the holder's consent, every
//     read audited (wallet.Service.Lookup); and the holder's records page (GET /records) listing
//     those reads (docs/developers/licence-lookup.md);
//   - GET /trust-list (wallet.Service.TrustList) and GET /status-list
//     (wallet.Service.StatusList) for verifiers.
//
// Errors of the core are shown as a public message (page text or API error code); the cause
// goes to the log only. While the database refuses writes or cannot be reached
// (storage.ErrUnavailable) every answer that needs it is 503 with Retry-After: the plain
// "temporarily unavailable" page, or the API error temporarily_unavailable; these are logged
// at debug only, the readiness monitor counting them (docs/design/storage-faults.md). Logs carry opaque subjects, client IDs, licence IDs and causes —
// never names, numbers, tokens or cookies.
//
// cmd/internal/walletserver builds a Server, with its wallet.Service, for `wallet serve` and
// the demo (cmd/demo).
package web
