package fositeadapter

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"

	"github.com/ory/fosite"
)

// PKCEHandler enforces PKCE (RFC 7636) with S256 for every client, public or confidential
// (RFC 9700 §2.1.1, DESIGN §4). It replaces fosite's pkce.Handler, which keeps the challenge
// in a separate storage record (three more database operations per code); here the challenge
// rides in the code's session.
//
//   - Authorization endpoint: code_challenge is required (missing → invalid_request),
//     code_challenge_method must be S256 ("plain" or absent → invalid_request), and the
//     challenge must be 43 base64url characters (the SHA-256 of a verifier).
//   - Token endpoint: code_verifier must be 43–128 characters of [A-Za-z0-9-._~] and
//     BASE64URL(SHA256(code_verifier)) must equal the challenge; otherwise invalid_grant.
type PKCEHandler struct{}

var (
	_ fosite.AuthorizeEndpointHandler = PKCEHandler{}
	_ fosite.TokenEndpointHandler     = PKCEHandler{}
)

// ValidateChallenge checks the PKCE parameters of an authorization request. Errors:
// fosite.ErrInvalidRequest, with a hint that names the problem.
func ValidateChallenge(challenge, method string) error {
	if challenge == "" {
		return fosite.ErrInvalidRequest.WithHint("PKCE is required for every client: send code_challenge and code_challenge_method=S256 (RFC 7636).")
	}
	if method != "S256" {
		return fosite.ErrInvalidRequest.WithHint("code_challenge_method must be S256; plain is not allowed.")
	}
	if len(challenge) != 43 || !isUnreserved(challenge) {
		return fosite.ErrInvalidRequest.WithHint("code_challenge must be the 43-character base64url SHA-256 of the code verifier.")
	}
	return nil
}

// isUnreserved reports whether s has only RFC 3986 unreserved characters.
func isUnreserved(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~') {
			return false
		}
	}
	return true
}

func (PKCEHandler) HandleAuthorizeEndpointRequest(_ context.Context, ar fosite.AuthorizeRequester, _ fosite.AuthorizeResponder) error {
	if !ar.GetResponseTypes().Has("code") {
		return nil
	}
	f := ar.GetRequestForm()
	if err := ValidateChallenge(f.Get("code_challenge"), f.Get("code_challenge_method")); err != nil {
		return err
	}
	sess, ok := ar.GetSession().(*Session)
	if !ok {
		return fosite.ErrServerError.WithWrap(ErrSessionType)
	}
	sess.CodeChallenge = f.Get("code_challenge")
	return nil
}

func (PKCEHandler) HandleTokenEndpointRequest(ctx context.Context, req fosite.AccessRequester) error {
	if !req.GetGrantTypes().ExactOne("authorization_code") {
		return fosite.ErrUnknownRequest
	}
	sess, ok := req.GetSession().(*Session)
	if !ok {
		return fosite.ErrServerError.WithWrap(ErrSessionType)
	}
	verifier := req.GetRequestForm().Get("code_verifier")
	switch {
	case sess.CodeChallenge == "":
		return fosite.ErrInvalidGrant.WithHint("The authorization code carries no PKCE challenge.")
	case verifier == "":
		return fosite.ErrInvalidGrant.WithHint("code_verifier is required (PKCE).")
	case len(verifier) < 43 || len(verifier) > 128 || !isUnreserved(verifier):
		return fosite.ErrInvalidGrant.WithHint("code_verifier must be 43 to 128 characters of [A-Za-z0-9-._~].")
	}
	sum := sha256.Sum256([]byte(verifier))
	if subtle.ConstantTimeCompare([]byte(b64.EncodeToString(sum[:])), []byte(sess.CodeChallenge)) != 1 {
		return fosite.ErrInvalidGrant.WithHint("The PKCE code_verifier does not match the code_challenge.")
	}
	sess.CodeChallenge = ""
	return nil
}

func (PKCEHandler) PopulateTokenEndpointResponse(context.Context, fosite.AccessRequester, fosite.AccessResponder) error {
	return fosite.ErrUnknownRequest
}

func (PKCEHandler) CanSkipClientAuth(context.Context, fosite.AccessRequester) bool { return false }

func (PKCEHandler) CanHandleTokenEndpointRequest(_ context.Context, req fosite.AccessRequester) bool {
	return req.GetGrantTypes().ExactOne("authorization_code")
}
