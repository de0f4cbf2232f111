package oidc

import (
	"encoding/json"
	"net/http"
)

// discoveryDocument builds the provider metadata (OpenID Connect Discovery 1.0 §3 and RFC 8414
// §2), served at /.well-known/openid-configuration and /.well-known/oauth-authorization-server.
func (s *Server) discoveryDocument() ([]byte, error) { return DiscoveryDocument(s.issuer) }

// DiscoveryDocument returns the provider metadata of issuer (no trailing slash) as
// /.well-known/openid-configuration serves it.
func DiscoveryDocument(issuer string) ([]byte, error) {
	url := func(path string) string { return issuer + path }
	doc := map[string]any{
		"issuer":                                                   issuer,
		"authorization_endpoint":                                   url(pathAuthorize),
		"token_endpoint":                                           url(pathToken),
		"userinfo_endpoint":                                        url(pathUserinfo),
		"jwks_uri":                                                 url(pathJWKS),
		"end_session_endpoint":                                     url(pathLogout),
		"introspection_endpoint":                                   url(pathIntrospect),
		"revocation_endpoint":                                      url(pathRevoke),
		"scopes_supported":                                         SupportedScopes,
		"response_types_supported":                                 []string{"code"},
		"response_modes_supported":                                 []string{"query"},
		"grant_types_supported":                                    []string{"authorization_code", "refresh_token", "client_credentials", GrantDeviceCode, GrantTokenExchange},
		"device_authorization_endpoint":                            url(pathDeviceAuthorization),
		"subject_types_supported":                                  []string{"public", "pairwise"},
		"id_token_signing_alg_values_supported":                    SigningAlgorithms,
		"token_endpoint_auth_methods_supported":                    []string{"client_secret_basic", "client_secret_post", AuthPrivateKeyJWT, "none"},
		"introspection_endpoint_auth_methods_supported":            []string{"client_secret_basic", "client_secret_post", AuthPrivateKeyJWT},
		"revocation_endpoint_auth_methods_supported":               []string{"client_secret_basic", "client_secret_post", AuthPrivateKeyJWT, "none"},
		"token_endpoint_auth_signing_alg_values_supported":         ClientAssertionSigningAlgs,
		"introspection_endpoint_auth_signing_alg_values_supported": ClientAssertionSigningAlgs,
		"revocation_endpoint_auth_signing_alg_values_supported":    ClientAssertionSigningAlgs,
		"registration_endpoint":                                    url(pathRegister),
		"code_challenge_methods_supported":                         []string{"S256"},
		"claims_supported": []string{"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "at_hash",
			ClaimName, ClaimElderMode, ClaimPhoneNumber, ClaimIDNumber, ClaimIDNumberType, ClaimCreditCode, ClaimAct},
		"claim_types_supported":                          []string{"normal"},
		"claims_parameter_supported":                     true,
		"request_uri_parameter_supported":                false,
		"acr_values_supported":                           SupportedACRValues,
		"prompt_values_supported":                        []string{"none", "login", "consent"},
		"ui_locales_supported":                           UILocales,
		"authorization_response_iss_parameter_supported": true,
		"frontchannel_logout_supported":                  true, // logout_backchannel.go
		"frontchannel_logout_session_supported":          true,
		"backchannel_logout_supported":                   true,
		"backchannel_logout_session_supported":           true,
	}
	// federation_register.go: request objects of OpenID Federation automatic registration (§12.1).
	doc["request_parameter_supported"] = true
	doc["request_object_signing_alg_values_supported"] = ClientAssertionSigningAlgs
	doc["client_registration_types_supported"] = []string{"automatic"}
	return json.MarshalIndent(doc, "", "  ")
}

// handleDiscovery serves the provider metadata.
func (s *Server) handleDiscovery(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	_, _ = w.Write(s.discovery)
}

// handleJWKS serves the ID-token keys (see idTokenSigner.JWKS).
func (s *Server) handleJWKS(w http.ResponseWriter, r *http.Request) {
	body, err := s.signer.JWKS(r.Context())
	if err != nil {
		s.log.ErrorContext(r.Context(), "jwks", "err", err)
		oauthJSON.Error(w, http.StatusInternalServerError, "server_error", "")
		return
	}
	w.Header().Set("Content-Type", "application/jwk-set+json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	_, _ = w.Write(body)
}
