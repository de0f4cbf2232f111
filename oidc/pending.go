package oidc

import (
	"bytes"
	"context"
	"crypto/hmac"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/tongban/tongban/internal/httpkit"
	smcrypto "github.com/tongban/tongban/sm-crypto"
	"github.com/tongban/tongban/storage"
)

// pendingAuth is an authorization request waiting for login or consent. It travels as the
// "authz" parameter of the login and consent pages, MACed with HMAC-SM3 so it needs no
// storage: base64url(JSON) "." base64url(HMAC-SM3(authz key, JSON)).
type pendingAuth struct {
	// Query is the authorization request's parameters, form-encoded.
	Query string `json:"q"`
	// RequestedAt is when the request first arrived (UnixMicro). A login whose auth_time is
	// not before it was made for this request, which satisfies prompt=login, max_age and
	// acr_values without asking again.
	RequestedAt int64 `json:"t"`
	// Consent is set after the consent page was accepted for this request (prompt=consent):
	// consentBinding of the person who accepted and of their login session. authorize honours
	// it only for that very session, so a resume URL captured by one person and opened in
	// another browser, or after another login, asks for consent again.
	Consent string `json:"c,omitempty"`
	// Expires is when the page stops being usable (UnixMicro).
	Expires int64 `json:"e"`
	// Lang is the page language the person chose with the language switch ("" = ui_locales).
	Lang string `json:"l,omitempty"`
	// Next is a local path (under the issuer, accountNext checks it) to continue at after the
	// login instead of resuming an authorization request: the account page and the pages that
	// confirm a scan-to-login or device code. Query is then empty.
	Next string `json:"x,omitempty"`
	// Acting is the choice made on the acting page (agents.go): actingSelf, or the person ID
	// of the company the person acts for; "" = not chosen yet.
	Acting string `json:"a,omitempty"`
	// Link is set on the login page shown for an upstream subject waiting to be linked
	// (broker.go, upstreamLinkIntent.ID); the password login links it.
	Link string `json:"k,omitempty"`
	// N is random, fresh at every encoding, so each login or consent form carries its own
	// token and a submission can be used once (useForm).
	N string `json:"n,omitempty"`
}

func (s *Server) encodePending(p pendingAuth) string {
	p.N = httpkit.RandomString(12)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(p)
	js := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	body := b64.EncodeToString(js)
	return body + "." + b64.EncodeToString(smcrypto.HMACSM3(s.keys.authz, js))
}

func (s *Server) decodePending(v string) (pendingAuth, error) {
	var p pendingAuth
	body, mac, ok := strings.Cut(v, ".")
	if !ok {
		return p, errInvalidAuthRequest
	}
	js, err1 := b64.DecodeString(body)
	sum, err2 := b64.DecodeString(mac)
	if err1 != nil || err2 != nil || !hmac.Equal(sum, smcrypto.HMACSM3(s.keys.authz, js)) {
		return p, errInvalidAuthRequest
	}
	if err := json.Unmarshal(js, &p); err != nil {
		return p, fmt.Errorf("%w: %w", errInvalidAuthRequest, err)
	}
	if !s.now().Before(time.UnixMicro(p.Expires)) {
		return p, fmt.Errorf("%w: expired", errInvalidAuthRequest)
	}
	return p, nil
}

// consentBinding ties a consent decision to the person who made it and to their login
// session: base64url(HMAC-SM3(authz key, "consent" ‖ 0 ‖ person ID ‖ 0 ‖ session ID)). It is
// opaque, so the pending request (readable in URLs) reveals neither the person nor the session.
func (s *Server) consentBinding(ls *storage.LoginSession) string {
	return b64.EncodeToString(smcrypto.HMACSM3(s.keys.authz, []byte("consent\x00"+ls.PersonID+"\x00"+ls.ID)))
}

// consentedBy reports whether the pending request carries a consent given in session ls.
func (s *Server) consentedBy(p pendingAuth, ls *storage.LoginSession) bool {
	return p.Consent != "" && ls != nil && hmac.Equal([]byte(p.Consent), []byte(s.consentBinding(ls)))
}

// useForm marks the pending request v of a posted login or consent form as used
// (storage.Nonces, namespace ns, until it expires). A second submission of the same form —
// e.g. "allow" after "deny" — gets an error wrapping storage.ErrAlreadyUsed; a storage failure
// is returned as is (the form stays unused, so it can be submitted again).
func (s *Server) useForm(ctx context.Context, ns, v string, p pendingAuth) error {
	_, mac, _ := strings.Cut(v, ".")
	return s.store.UseNonce(ctx, ns, mac, time.UnixMicro(p.Expires))
}
