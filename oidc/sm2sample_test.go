package oidc_test

// This file holds the code sample of docs/developers/app-developers.md ("Verify an SM2 ID
// token in Go"). TestDeveloperGuideSample checks that the guide shows exactly this code, and
// the end-to-end suite verifies every SGD_SM3_SM2 ID token with it.

// BEGIN SAMPLE
import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/tongban/tongban/sm-crypto/smjose"
)

// sm2KeySet is a go-oidc KeySet that checks SGD_SM3_SM2 signatures with the SM2 keys of the
// provider's JWKS. go-oidc then checks iss, aud, exp and (with Config) the rest, as it does
// for RS256 and ES256.
type sm2KeySet struct {
	jwksURL string
	client  *http.Client

	mu   sync.Mutex
	keys *smjose.KeySet
}

func (k *sm2KeySet) fetch(ctx context.Context) (*smjose.KeySet, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, k.jwksURL, nil)
	if err != nil {
		return nil, err
	}
	resp, err := k.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("jwks: %s", resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	return smjose.ParseJWKS(body)
}

// VerifySignature implements oidc.KeySet. It re-reads the JWKS once when the token's kid is
// unknown (the provider rotated its keys).
func (k *sm2KeySet) VerifySignature(ctx context.Context, jwt string) ([]byte, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.keys != nil {
		payload, err := k.keys.VerifySM2(jwt)
		if !errors.Is(err, smjose.ErrUnknownKey) {
			return payload, err
		}
	}
	keys, err := k.fetch(ctx)
	if err != nil {
		return nil, err
	}
	k.keys = keys
	return keys.VerifySM2(jwt)
}

// NewSM2Verifier returns a go-oidc verifier for ID tokens signed with SGD_SM3_SM2 by the
// provider at issuer, for the app clientID. client is used for discovery and the JWKS.
func NewSM2Verifier(ctx context.Context, issuer, clientID string, client *http.Client) (*oidc.IDTokenVerifier, error) {
	provider, err := oidc.NewProvider(oidc.ClientContext(ctx, client), issuer)
	if err != nil {
		return nil, err
	}
	var meta struct {
		JWKSURI string `json:"jwks_uri"`
	}
	if err := provider.Claims(&meta); err != nil {
		return nil, err
	}
	keys := &sm2KeySet{jwksURL: meta.JWKSURI, client: client}
	return oidc.NewVerifier(issuer, keys, &oidc.Config{
		ClientID:             clientID,
		SupportedSigningAlgs: []string{string(smjose.AlgSM2)},
	}), nil
}

// VerifySM2AccessTokenHash checks the at_hash claim of an SM2-signed ID token: the left half
// of SM3(access token), base64url. (go-oidc's IDToken.VerifyAccessToken knows only SHA-2.)
func VerifySM2AccessTokenHash(idToken *oidc.IDToken, accessToken string) error {
	if idToken.AccessTokenHash == "" {
		return errors.New("id token has no at_hash")
	}
	if smjose.HalfHashSM3([]byte(accessToken)) != idToken.AccessTokenHash {
		return errors.New("at_hash does not match the access token")
	}
	return nil
}

// FinishLogin runs after the redirect back to the app: it redeems the code with the PKCE
// verifier, verifies the ID token with v and checks its nonce and at_hash. alg is the app's
// registered ID-token algorithm. ctx may carry the HTTP client (oauth2.HTTPClient).
func FinishLogin(ctx context.Context, cfg *oauth2.Config, v *oidc.IDTokenVerifier, alg, code, verifier, nonce string) (*oidc.IDToken, *oauth2.Token, error) {
	tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		return nil, nil, err
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok {
		return nil, nil, errors.New("no id_token in the token response")
	}
	idToken, err := v.Verify(ctx, raw)
	if err != nil {
		return nil, nil, err
	}
	if idToken.Nonce != nonce {
		return nil, nil, errors.New("nonce does not match")
	}
	if alg == string(smjose.AlgSM2) {
		err = VerifySM2AccessTokenHash(idToken, tok.AccessToken)
	} else {
		err = idToken.VerifyAccessToken(tok.AccessToken) // RS256, ES256: SHA-256
	}
	if err != nil {
		return nil, nil, err
	}
	return idToken, tok, nil
}

// END SAMPLE
