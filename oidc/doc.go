// Package oidc is tongban's OpenID Connect provider (DESIGN §4), built on github.com/ory/fosite
// v0.49: one login (an SSO session) serves every relying app, ID tokens are signed with SM2
// (SGD_SM3_SM2) or, per client, ES256 or RS256, codes and refresh tokens are opaque HMAC-SM3
// values, and access tokens are opaque too: sealed with SM4-GCM and stored nowhere, checked
// against a short list of revoked grants (docs/design/token-transactions.md), or RFC 9068 JWTs
// for the clients registered for them.
//
// Each code redemption and each refresh is one database transaction, committed before the
// answer: a claim and everything it issues are written together, a failure of the server
// rolls the claim back, and a concurrent replay waits for the first redemption and then revokes
// what it issued. While the database refuses writes (storage.ErrUnavailable) the endpoints
// answer 503 — temporarily_unavailable at the authorization endpoint — without logging each
// request (docs/design/storage-faults.md).
//
// # Using it
//
// cmd/idp opens the storage and the keyring, builds a Config and serves Handler:
//
//	kr, err := keyring.Open(ctx, store, kek)
//	srv, err := oidc.NewServer(ctx, oidc.Config{
//		Issuer:     "https://idp.example.gov.cn",
//		Store:      store,
//		Keyring:    kr,
//		Logger:     logger,               // slog JSON handler
//		Registerer: prometheus.DefaultRegisterer,
//	})
//	mux.Handle("/", srv.Handler())        // /healthz, /readyz, /metrics are cmd/idp's
//
// NewServer creates the missing ID-token keys (SGD_SM3_SM2, ES256, RS256) on first start, and
// the accounts.Service its login page checks credentials with. Admin commands register apps
// with CreateClient and ResetClientSecret (registration.go) and people with package accounts
// (accounts.Service.CreatePerson, EnrollTOTP) on the same storage; they need no Server. Every
// validation error they return wraps a sentinel of this package or of accounts
// (ErrInvalidRedirectURI, accounts.ErrInvalidIDNumber, …; errors.Is), several problems joined
// into one error, so a CLI prints the message and exits 2 when errors.Is matches any sentinel.
//
// Signing keys rotate with keyring.Rotate(ctx, storage.PurposeIDToken, alg, keepFor) (`idp keys
// rotate`); the new key signs at once and the retired one stays in the JWKS for keepFor. Keep
// it at least Config.SessionLifetime (and IDTokenLifetime), so ID tokens and id_token_hint
// values signed before the rotation keep verifying; a running server sees the rotation within
// keyring.CacheTTL. Server.Purge deletes expired codes and tokens, one-time values, login
// sessions and old login failures; run it periodically (`idp serve` does, every
// --purge-interval). It deletes by expiry only, so replicas may all run it.
//
// # Endpoints
//
// All paths are relative to the issuer (an issuer with a path puts them under it):
//
//	GET       /.well-known/openid-configuration   OIDC Discovery 1.0 + RFC 8414 metadata
//	GET       /.well-known/oauth-authorization-server  (the same document, RFC 8414 §3)
//	GET       /jwks                 every published ID-token key (SM2 as crv "SM2-P-256")
//	GET, POST /authorize            authorization endpoint (code flow only)
//	GET       /authorize/resume     continues a request after login or consent
//	GET, POST /login                login page (ID number, credit code or phone + password)
//	GET, POST /consent              consent page (remembered per client)
//	POST      /token                authorization_code (+PKCE), refresh_token, client_credentials,
//	                                urn:ietf:params:oauth:grant-type:device_code (RFC 8628 §3.4)
//	POST      /device_authorization RFC 8628 §3.1 device authorization (TVs, self-service terminals)
//	GET, POST /device               the user-code page (verification_uri): confirm a device
//	GET, POST /userinfo             UserInfo (bearer access token with scope openid)
//	POST      /introspect           RFC 7662, confidential clients only
//	POST      /revoke               RFC 7009
//	GET, POST /logout               RP-initiated logout (end_session_endpoint)
//	POST      /login/passkey/{begin,finish}     passwordless login with a passkey (passkey.go)
//	POST      /account/passkeys/{begin,finish,rename,remove}  enrol and manage passkeys
//	GET       /assets/style.css     the pages' stylesheet; citizen.css, citizen.js (internal/citizenui)
//	POST      /prefs/elder          the 长辈模式 switch of every page (elder.go)
//
// # Profile (RFC 9700, DESIGN §4)
//
//   - Authorization code flow only; implicit, hybrid and password grants are refused
//     (unsupported_response_type, unsupported_grant_type).
//   - PKCE with S256 for every client; plain and missing challenges are invalid_request.
//   - Redirect URIs match exactly; only the port of an http loopback URI may vary (RFC 8252
//     §7.3). A request whose client or redirect URI is not registered gets an error page,
//     never a redirect. state is required (at least 8 characters, fosite's rule).
//   - Codes live 60 s and are single use: the first redemption claims the code with one
//     conditional UPDATE (storage.InvalidateToken); a replay gets invalid_grant and revokes every
//     token the code issued, including in the race where the replay arrives while the first
//     redemption is still storing its tokens. A failed redemption (wrong PKCE verifier, wrong
//     client) also uses the code up. A code or refresh token whose HMAC does not verify (say,
//     one built around a signature read from the database) is refused at the token and
//     revocation endpoints before any database read, so it uses up and revokes nothing.
//   - Refresh tokens rotate: a refresh answers a new refresh token and access token, the
//     presented one becomes inactive and the access tokens issued before are revoked. Presenting
//     an inactive refresh token again revokes the whole family (every refresh and access token
//     of the grant). Refresh tokens are issued only with the offline_access scope. A refresh
//     refused before the rotation (another client, a scope broader than the one granted:
//     invalid_scope) leaves the token usable; the token is claimed only in the rotation. A
//     narrower scope (RFC 6749 §6) is granted to the new access token only; the rotated
//     refresh token keeps the original grant's scope.
//   - The authorization response carries iss (RFC 9207), on success and on error.
//   - Client authentication: client_secret_basic or client_secret_post for confidential clients
//     (both accepted), none for public clients. Secrets are 256-bit random values compared as
//     HMAC-SM3 in constant time.
//
// # Scopes and claims
//
//	openid          sub (the opaque person ID, or a pairwise value for pairwise clients)
//	profile         name, elder_mode (true when the person has 长辈模式 on, else absent; elder.go)
//	phone           phone_number (E.164, "+8613800138000")
//	id_number       id_number (the full resident ID number or unified social credit code) and
//	                id_number_type ("resident_id" or "credit_code")
//	offline_access  a refresh token
//
// ID tokens carry iss, sub, aud (the client ID), exp, iat, auth_time, acr, amr, at_hash (the
// left half of SHA-256, or of SM3 for SGD_SM3_SM2), nonce (code exchange only) and the claims
// of the granted scopes; UserInfo returns sub and the same claims. The claims request
// parameter (OIDC Core §5.5) narrows either set to the claims it names and never widens it
// beyond the granted scopes. Personal data is read from storage when a token or UserInfo
// response is made; token records hold none. The JWS header has kid and typ "JWT".
//
// acr values, weakest first: urn:tongban:acr:password (password) and urn:tongban:acr:mfa
// (password and a TOTP code; accounts.Service.EnrollTOTP). amr is ["pwd"] or ["pwd","otp"]
// (RFC 8176), as accounts.Service.AuthenticatePassword reports it. A passkey login (a
// user-verified WebAuthn assertion, package accounts/passkey) is urn:tongban:acr:mfa with amr
// ["hwk","user","mfa"], or ["swk","user","mfa"] for a backup-eligible passkey.
//
// # Authorization requests (OIDC Core §3.1.2)
//
// prompt none|login|consent, max_age, id_token_hint, login_hint (pre-fills the identifier),
// acr_values and the claims parameter's acr (step-up: the login page asks for the TOTP code),
// claims, ui_locales (zh-CN by default, en) and nonce (at least 8 characters) are honoured. A
// request needs a login when there is no session, prompt=login, the session is older than
// max_age, its acr is below the weakest requested one, or id_token_hint names someone else;
// with prompt=none that is login_required — and when id_token_hint names someone other than
// the person who has just logged in for the request, login_required too. Consent is needed when
// prompt=consent or the remembered consent lacks a requested scope (consent_required with
// prompt=none); a consent given on the consent page counts only for the person and login
// session that gave it, so a captured resume URL opened elsewhere asks again. An essential
// acr that the person cannot reach gives unmet_authentication_requirements.
//
// # Browser sessions and pages
//
// The SSO session is a browser-session cookie (HttpOnly, SameSite=Lax, Secure and __Host-
// prefixed for https issuers) holding a 256-bit secret; storage keeps only its HMAC-SM3
// (storage.LoginSession.ID), so a copy of the database cannot be replayed as a cookie. It lasts
// Config.SessionLifetime from the login and ends for every app at logout.
//
// The login, consent and logout pages are server-rendered (html/template), Chinese first with an
// English switch, CSRF-protected (double-submit cookie, HMAC-bound to the form's purpose), and
// sent with Content-Security-Policy frame-ancestors 'none', X-Frame-Options DENY and
// Cache-Control no-store. Every POST that succeeds answers 303 See Other. A pending
// authorization request travels between the pages as an HMAC-SM3-protected parameter, so the
// pages need no server-side state. Every citizen page has the 长辈模式 switch and the 朗读
// button (elder.go): large type, 7:1 contrast and 48 px targets when on, remembered in the
// browser and, while logged in, in the account.
//
// The login page checks credentials with accounts.Service.AuthenticatePassword. Login
// failures look the same for an unknown identifier and a wrong password (same message, same
// status, and the same PBKDF2 work against a dummy hash). The lockout is accounts' (its package
// doc, "Lockout"): a browser with a valid device cookie for the person — tb_device, set after
// every successful login: the opaque person ID, a random nonce and the issue time under
// HMAC-SM3, Config.DeviceCookieLifetime, devicecookie.go — is judged by its own failures only;
// other browsers wait progressively longer once an account has Config.AccountLockThreshold
// failures from them, and refused attempts count against the client address
// (Config.ClientIP). A paused account or locked address gets 429 with Retry-After and the wait
// on the page; a failure close to a pause says how many attempts are left.
//
// # Stored data conventions
//
// Person fields are sealed and indexed by package accounts (its doc says how); the ID token and
// UserInfo read the phone_number and id_number claims through accounts.Service.PhoneNumber and
// IDNumber. Derived keys (CSRF, pending requests, session IDs, pairwise subjects, device
// cookies) are HMAC-SM3 of keyring.TokenKey with a label, so they survive restarts and are the
// same on every replica.
//
// # Logs and metrics
//
// Logs (Config.Logger) carry client IDs, opaque person IDs, OAuth error codes and hints (and
// client addresses in login lockout lines), never names, numbers, phone numbers, passwords,
// codes or tokens. Logins, consents, logouts, code replays and refresh-token reuse (once per
// revoked family) are also appended to storage.Audit, and so are device authorizations
// (device.authorize, device.approve, device.deny, device.user_code_wrong,
// device.user_code_locked, device.replay).
// Prometheus collectors (registered on Config.Registerer):
//
//	tongban_idp_logins_total{result="success|failure|throttled|locked|csrf",client}
//	tongban_idp_tokens_issued_total{grant="authorization_code|refresh_token|client_credentials|urn:…:device_code",client}
//	tongban_idp_oauth_errors_total{endpoint,error,client}
//	tongban_idp_replays_total{kind="authorization_code|refresh_token|device_code"}
//	tongban_idp_request_duration_seconds{endpoint="authorize|token",client}  histogram, LatencyBuckets
//
// client is a registered client's ID, at most Config.MetricClients of them per process (first
// come), LabelOtherClients for the rest, LabelNoClient ("") when no registered client is
// responsible (appstats.go). The latency of every other route is left to the service that
// serves Handler (cmd/idp measures every route as tongban_http_request_duration_seconds{method,route,code}).
//
// Per-app hourly counts, exact for every app and summed over replicas, are accumulated in
// memory and added to storage.AppStats by FlushAppStats (StartAppStats runs it every
// Config.AppStatsFlushInterval and at stop); AppStats reads them for the console.
//
// # fosite seams (DESIGN §8)
//
// tongban replaces these fosite parts: the HMAC strategy (HMAC-SM3, Config.Now, no global
// mutex), the ID-token strategy and signer (per-client algorithm, SM2 through smjose, SM3
// at_hash), the PKCE handler (S256 only, challenge kept in the code's session), the
// token-endpoint half of the OpenID Connect handlers, the client authentication strategy and
// the secrets hasher (HMAC-SM3 instead of bcrypt), and the storage (atomic single use). fosite
// still parses and validates requests, runs the code, refresh and client-credentials grants,
// validates prompt / max_age / id_token_hint a second time, introspects and revokes.
//
// The storage adapter, the token strategies (HMAC-SM3 codes and refresh tokens, sealed and RFC
// 9068 JWT access tokens),
// the session and its stored encoding, the fosite client and its cache, and the PKCE handler
// live in oidc/internal/fositeadapter; the ID-token signer and handlers (signer.go,
// idtoken.go), client authentication (clientauth.go) and the wiring (Server.composeFosite)
// stay here.
package oidc
