// Package fositeadapter is the part of tongban's OpenID Connect provider that plugs into
// github.com/ory/fosite v0.49 (DESIGN §8), private to package oidc, which composes it with
// fosite's handlers and serves the endpoints:
//
//   - Store (store.go): fosite's storage (fosite.Storage, oauth2.CoreStorage,
//     oauth2.TokenRevocationStorage) over storage.Clients, storage.Tokens and
//     storage.Revocations, with single use of codes and refresh tokens made atomic in the
//     database, inside the token request's transaction (storage.Transactor). The per-request
//     TokenState (WithTokenState) carries what oidc's token and revocation endpoints know
//     before fosite runs (TokenState.Forged) and what the Store claimed.
//   - TokenStrategy (strategy.go, accesstoken.go, sealedtoken.go): the oauth2.CoreStrategy.
//     Codes and refresh tokens are opaque values MACed with HMAC-SM3 ("tb_ac_", "tb_rt_"
//     prefixes; only the MAC is stored). Access tokens ("tb_at_") are sealed with SM4-GCM
//     (package sealed) and stored nowhere (SealedAccessTokens); clients registered for it get
//     RFC 9068 JWT access tokens signed by oidc's ID-token signer (Signer), stored.
//     AuthenticCode, AuthenticRefreshToken and AuthenticAccessToken check a token without
//     reading storage.
//   - Session and its stored encoding (session.go, claims.go): the fosite session of every
//     grant, and the JSON of a fosite request in storage.TokenRecord.Data (client by ID,
//     scopes, audiences, form, session; no personal data). The JSON is a storage format:
//     TestStoredRequest pins it.
//   - Client and ClientCache (client.go): storage.Client as a fosite.Client (query response
//     mode only, no request objects), cached for a configurable time.
//   - PKCEHandler (pkce.go): PKCE with S256 for every client, the challenge kept in the
//     code's session instead of a storage record of its own.
//
// Errors keep the "oidc: " prefix of the package they serve.
package fositeadapter
