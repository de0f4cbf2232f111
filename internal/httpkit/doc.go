// Package httpkit holds the web helpers that the identity provider (package oidc) and the
// wallet (package wallet/web) share, so that each exists once:
//
//   - Cookies: setting, clearing and reading a server's cookies — HttpOnly, SameSite=Lax,
//     Path=/, and over https Secure with the __Host- name prefix (RFC 6265bis §4.1.3.2);
//   - CSRF: form tokens, base64url(HMAC-SM3(key, purpose ‖ 0x00 ‖ secret)), bound to a secret
//     the browser holds in a cookie and to the form they protect, compared in constant time;
//   - SecurityHeaders: the headers of every answer (Content-Security-Policy with
//     frame-ancestors 'none', X-Frame-Options, X-Content-Type-Options, Referrer-Policy,
//     Cache-Control no-store, and Strict-Transport-Security over https);
//   - JSON: JSON answers and {"error","error_description"} errors, in a server's dialect;
//   - RandomString: random values for cookies, parameters and secrets;
//   - ServeAsset: the pages' stylesheets and scripts, typed by extension and cacheable;
//   - ServerStatus and SetRetryAfter: the answer to a request that failed for a reason of the
//     server, 503 with Retry-After while the database refuses writes
//     (docs/design/storage-faults.md).
//
// It knows nothing of storage, the protocol or licences: it imports neither storage, oidc nor
// wallet; whether an error means "the database refuses writes" is the caller's decision
// (errors.Is(err, storage.ErrUnavailable)), passed in as a bool. None of its helpers changes
// a wire format: cookie names, header values and JSON bodies are the ones both servers wrote
// before the helpers moved here.
package httpkit
