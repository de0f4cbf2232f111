package oidc

import (
	"encoding/base64"
	"errors"
	"net/http"
	"time"

	smcrypto "github.com/tongban/tongban/sm-crypto"
	"github.com/tongban/tongban/storage"
)

// pathAdmin is where the admin console and API live on the provider's host (package admin,
// mounted by cmd/internal/idpserver); a login may continue there (accountNext).
const pathAdmin = "/admin"

// AdminSession is the browser's SSO session as the admin console (package admin) sees it.
type AdminSession struct {
	// PersonID is the person logged in.
	PersonID string
	// AuthTime is when they logged in.
	AuthTime time.Time
	// MFA: the login passed the second factor (acr urn:tongban:acr:mfa or stronger).
	MFA bool
	// Fresh: AuthTime is no longer than Config.FreshLogin ago.
	Fresh bool
	// SecondFactor: the person has a second factor (a confirmed OTP device, the legacy
	// secret, or a passkey). Looked up only when MFA is false; true when MFA is true.
	SecondFactor bool
	// Binding is a secret of this session alone: base64url (no padding) of
	// HMAC-SM3(key derived for admin sessions, session ID), 43 characters. It is the secret
	// CSRF tokens are bound to (httpkit.CSRF); it changes at every login.
	Binding string
}

// AdminSession returns r's SSO session for the admin console. ok is false when r has no live
// session, or its person is missing or disabled (nothing is written to w in any case). err is
// a storage failure.
func (s *Server) AdminSession(r *http.Request) (as AdminSession, ok bool, err error) {
	ctx := r.Context()
	ls, err := s.loginSession(ctx, r)
	if err != nil || ls == nil {
		return as, false, err
	}
	p, err := s.store.GetPerson(ctx, ls.PersonID)
	switch {
	case errors.Is(err, storage.ErrNotFound) || (err == nil && p.Disabled):
		return as, false, nil
	case err != nil:
		return as, false, err
	}
	as = AdminSession{PersonID: p.ID, AuthTime: ls.AuthTime,
		MFA:     acrLevel(ls.ACR) >= acrLevel(ACRMultiFactor),
		Fresh:   s.now().Sub(ls.AuthTime) <= s.cfg.FreshLogin,
		Binding: base64.RawURLEncoding.EncodeToString(smcrypto.HMACSM3(s.keys.adminBinding, []byte(ls.ID)))}
	as.SecondFactor = as.MFA
	if !as.MFA {
		if as.SecondFactor, err = s.hasSecondFactor(ctx, p); err != nil {
			return as, false, err
		}
	}
	return as, true, nil
}

// AdminLogin answers with a 303 to the login page asking for the second factor (acr
// urn:tongban:acr:mfa), which continues at next once the person has logged in; with fresh the
// page says a fresh login is wanted. next must be a path under the issuer's /admin (else the
// login continues at the account page). lang is "zh-CN" or "en" (anything else is zh-CN).
func (s *Server) AdminLogin(w http.ResponseWriter, r *http.Request, next, lang string, fresh bool) {
	s.loginFor(w, r, next, pickLang(lang), loginNeed{Fresh: fresh, MFA: true})
}

// AdminPath is the path of the admin console on this host: the issuer's path + "/admin".
func (s *Server) AdminPath() string { return s.localPath(pathAdmin) }
