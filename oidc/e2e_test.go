package oidc_test

import (
	"testing"

	"github.com/tongban/tongban/storage"
	"github.com/tongban/tongban/storage/storagetest"
)

// The end-to-end suite runs a real provider over HTTPS (httptest) on a real store and drives it
// with go-oidc, x/oauth2 and a cookie-jar browser that fills in the HTML forms (harness_test.go).
// The cases share one provider and run in the order of runSuite's table — ok/metrics and
// ok/logs-without-personal-data look at what every case before them did. Each case lives in the
// e2e_<flow>_test.go file of its flow.

func TestEndToEndSQLite(t *testing.T) {
	runSuite(t, func(t testing.TB) storage.Storage { return storagetest.SQLite(t) })
}

func TestEndToEndPostgres(t *testing.T) {
	runSuite(t, func(t testing.TB) storage.Storage { return storagetest.Postgres(t) })
}

func runSuite(t *testing.T, newStore func(testing.TB) storage.Storage) {
	e := newEnv(t, newStore(t), envOptions{})
	for _, tc := range []struct {
		name string
		test func(*testing.T, *env)
	}{
		{"ok/discovery-and-jwks", testDiscovery},
		{"ok/code-flow", testCodeFlow},
		{"ok/public-client", testPublicClient},
		{"ok/refresh-rotation-and-reuse", testRefresh},
		{"ok/userinfo", testUserinfo},
		{"ok/claims-parameter", testClaimsParameter},
		{"ok/sso-two-clients", testSSO},
		{"ok/pairwise-subject", testPairwise},
		{"ok/logout", testLogout},
		{"ok/logout-confirmation", testLogoutConfirmation},
		{"ok/prompt-login", testPromptLogin},
		{"ok/prompt-consent-and-deny", testConsentDeny},
		{"ok/max-age-forces-login", testMaxAge},
		{"ok/acr-step-up-totp", testStepUp},
		{"ok/loopback-port-may-vary", testLoopbackPort},
		{"ok/client-credentials", testClientCredentials},
		{"ok/introspection", testIntrospection},
		{"ok/revocation", testRevocation},
		{"ok/revocation-of-stale-tokens", testRevocationOfStaleTokens},
		{"ok/jwt-access-tokens", testJWTAccessTokens},
		{"fail/jwt-access-token-misuse", testJWTAccessTokenAttacks},
		{"ok/pages-headers-and-locales", testPages},
		{"fail/code-replay", testCodeReplay},
		{"fail/code-replay-concurrent", testCodeReplayConcurrent},
		{"fail/refresh-reuse-concurrent", testRefreshConcurrent},
		{"fail/pkce", testPKCE},
		{"fail/redirect-uri-mismatch", testRedirectMismatch},
		{"fail/unknown-client", testUnknownClient},
		{"fail/request-object-not-supported", testRequestObjectNotSupported},
		{"fail/expired-code", testExpiredCode},
		{"fail/prompt-none", testPromptNone},
		{"fail/login-no-enumeration", testNoEnumeration},
		{"fail/lockout", testLockout},
		{"ok/elder-mode", testElderMode}, // e2e_elder_test.go
		{"ok/error-pages-way-back", testWayBack},
		{"fail/csrf", testCSRF},
		{"fail/lockout-across-identifiers", testLockoutAcrossIdentifiers},
		{"fail/duplicate-parameters", testDuplicateParams},
		{"fail/scope-without-openid", testNoOpenIDScope},
		{"fail/oversized-parameters", testParamLimits},
		{"fail/redirect-uri-userinfo", testRedirectUserinfo},
		{"fail/form-replay", testFormReplay},
		{"fail/consent-not-transferable", testConsentNotTransferable},
		{"fail/id-token-hint-other-person-logs-in", testHintOtherPersonLogsIn},
		{"fail/forged-token-uses-nothing", testForgedTokens},
		{"ok/refused-refresh-keeps-token", testRefreshRefusedKeepsToken},
		{"ok/refresh-narrowed-scope", testRefreshNarrowScope},
		{"ok/refresh-reuse-logged-once", testRefreshReuseLoggedOnce},
		{"ok/logout-client-id", testLogoutClientID},
		{"ok/logout-hint", testLogoutHint},
		{"fail/logout-cross-site-post", testLogoutCrossSitePost},
		{"fail/token-endpoint", testTokenEndpointErrors},
		{"ok/cors-and-purge", testCORSAndPurge},
		{"ok/metrics", testMetrics},
		{"ok/logs-without-personal-data", testLogs},
		{"ok/account-login", testAccountLogin},
		{"ok/assets", testAssets},
		{"ok/account-parts-together", testAccountPartsTogether},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.t = t
			tc.test(t, e)
		})
	}
}
