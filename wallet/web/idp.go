package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"github.com/tongban/tongban/sm-crypto/smjose"
)

// ScopeIDNumber is the identity provider's scope that releases the resident ID number (or
// credit code) as the id_number claim; the wallet asks for it with openid and profile.
const ScopeIDNumber = "id_number"

// IDTokenAlgs are the ID-token signing algorithms the wallet can verify; Config.IDTokenAlg
// picks the one its client is registered for, and only that one is accepted.
var IDTokenAlgs = []string{string(smjose.AlgSM2), string(jose.ES256), string(jose.RS256)}

// DefaultIDTokenAlg is the default of Config.IDTokenAlg: SM2 with SM3, as the wallet client is
// registered in the demo and the documentation (idp clients add --id-token-alg SGD_SM3_SM2).
const DefaultIDTokenAlg = string(smjose.AlgSM2)

// errIDPUnavailable: discovery or a call to the provider failed.
var errIDPUnavailable = errors.New("wallet: identity provider unavailable")

// idp is the wallet's view of the identity provider: discovery done lazily (the provider may
// start after the wallet) and retried after a failure.
type idp struct {
	issuer, clientID, secret, redirect string
	alg                                string // the one ID-token algorithm accepted
	hc                                 *http.Client
	now                                func() time.Time

	mu sync.Mutex
	st *idpState
}

type idpState struct {
	oauth      oauth2.Config
	verifier   *oidc.IDTokenVerifier
	endSession string
	introspect string
	userinfo   string
}

// ctx returns ctx carrying the wallet's HTTP client for go-oidc and x/oauth2.
func (p *idp) ctx(ctx context.Context) context.Context {
	return context.WithValue(oidc.ClientContext(ctx, p.hc), oauth2.HTTPClient, p.hc)
}

// state returns the discovered provider, discovering it on first use.
func (p *idp) state(ctx context.Context) (*idpState, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.st != nil {
		return p.st, nil
	}
	prov, err := oidc.NewProvider(p.ctx(ctx), p.issuer)
	if err != nil {
		return nil, fmt.Errorf("%w: discovery: %w", errIDPUnavailable, err)
	}
	var meta struct {
		JWKS       string `json:"jwks_uri"`
		EndSession string `json:"end_session_endpoint"`
		Introspect string `json:"introspection_endpoint"`
		Userinfo   string `json:"userinfo_endpoint"`
	}
	if err := prov.Claims(&meta); err != nil {
		return nil, fmt.Errorf("%w: discovery: %w", errIDPUnavailable, err)
	}
	ep := prov.Endpoint()
	ep.AuthStyle = oauth2.AuthStyleInHeader
	keys := &keySet{url: meta.JWKS, alg: p.alg, hc: p.hc, now: p.now}
	p.st = &idpState{
		oauth: oauth2.Config{
			ClientID: p.clientID, ClientSecret: p.secret, Endpoint: ep, RedirectURL: p.redirect,
			Scopes: []string{oidc.ScopeOpenID, "profile", ScopeIDNumber},
		},
		verifier: oidc.NewVerifier(p.issuer, keys, &oidc.Config{
			ClientID: p.clientID, SupportedSigningAlgs: []string{p.alg}, Now: p.now,
		}),
		endSession: meta.EndSession, introspect: meta.Introspect, userinfo: meta.Userinfo,
	}
	return p.st, nil
}

// keySet is a go-oidc KeySet over the provider's JWKS that verifies SM2 (SGD_SM3_SM2, through
// smjose) or one of the standard algorithms go-jose knows — only alg, the algorithm the
// wallet's client is registered for, whatever else the provider publishes. The set is cached
// and fetched again when a token names a kid it does not hold, at most every minRefetch.
type keySet struct {
	url string
	alg string // "" means SGD_SM3_SM2
	hc  *http.Client
	now func() time.Time

	mu      sync.Mutex
	set     *smjose.KeySet
	fetched time.Time
}

const (
	jwksMaxAge     = 10 * time.Minute
	jwksMinRefetch = 10 * time.Second
	maxJWKSSize    = 1 << 20
)

// VerifySignature implements oidc.KeySet.
func (k *keySet) VerifySignature(ctx context.Context, token string) ([]byte, error) {
	alg := jose.SignatureAlgorithm(k.alg)
	if alg == "" {
		alg = smjose.AlgSM2
	}
	jws, err := jose.ParseSigned(token, []jose.SignatureAlgorithm{alg})
	if err != nil || len(jws.Signatures) != 1 {
		return nil, fmt.Errorf("wallet: malformed ID token, or not signed with %s", alg)
	}
	hdr := jws.Signatures[0].Header
	if hdr.Algorithm != string(alg) {
		return nil, fmt.Errorf("wallet: ID token signed with %s, want %s", hdr.Algorithm, alg)
	}
	for attempt := 0; attempt < 2; attempt++ {
		set, err := k.keys(ctx, attempt == 1)
		if err != nil {
			return nil, err
		}
		payload, err := verifyWith(set, jws, token, hdr)
		if err == nil || !errors.Is(err, errNoKey) {
			return payload, err
		}
	}
	return nil, fmt.Errorf("wallet: ID token signed by unknown key %q", hdr.KeyID)
}

var errNoKey = errors.New("no key for kid")

func verifyWith(set *smjose.KeySet, jws *jose.JSONWebSignature, token string, hdr jose.Header) ([]byte, error) {
	if hdr.Algorithm == string(smjose.AlgSM2) {
		payload, err := set.VerifySM2(token)
		if errors.Is(err, smjose.ErrUnknownKey) {
			return nil, errNoKey
		}
		return payload, err
	}
	for _, key := range set.Standard.Key(hdr.KeyID) {
		if key.Use != "" && key.Use != "sig" {
			continue
		}
		if key.Algorithm != "" && key.Algorithm != hdr.Algorithm {
			continue
		}
		if payload, err := jws.Verify(key.Key); err == nil {
			return payload, nil
		}
		return nil, fmt.Errorf("wallet: ID token signature does not verify")
	}
	return nil, errNoKey
}

// keys returns the cached set, fetching it when older than jwksMaxAge or when refresh asks
// and the last fetch is older than jwksMinRefetch.
func (k *keySet) keys(ctx context.Context, refresh bool) (*smjose.KeySet, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	now := k.now()
	age := now.Sub(k.fetched)
	if k.set != nil && age < jwksMaxAge && (!refresh || age < jwksMinRefetch) {
		return k.set, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, k.url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := k.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: JWKS: %w", errIDPUnavailable, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: JWKS: HTTP %d", errIDPUnavailable, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSSize))
	if err != nil {
		return nil, fmt.Errorf("%w: JWKS: %w", errIDPUnavailable, err)
	}
	set, err := smjose.ParseJWKS(body)
	if err != nil {
		return nil, fmt.Errorf("wallet: JWKS: %w", err)
	}
	k.set, k.fetched = set, now
	return set, nil
}

// personClaims are the claims the wallet reads from the ID token or userinfo.
type personClaims struct {
	Sub          string `json:"sub"`
	Name         string `json:"name"`
	IDNumber     string `json:"id_number"`
	IDNumberType string `json:"id_number_type"`
	// ElderMode is the provider's elder_mode claim (scope profile): the person's 长辈模式
	// account setting; nil when the provider does not release it.
	ElderMode *bool `json:"elder_mode"`
	// SID is the ID token's sid (Back-Channel Logout 1.0 §2.1): the provider's session, sent
	// back as logout_hint at logout.
	SID string `json:"sid"`
}

// introspection is the part of an RFC 7662 response the wallet reads.
type introspection struct {
	Active    bool    `json:"active"`
	Scope     string  `json:"scope"`
	ClientID  string  `json:"client_id"`
	Sub       string  `json:"sub"`
	Exp       int64   `json:"exp"`
	TokenType string  `json:"token_type"`
	Aud       audList `json:"aud"`
}

// audList is an aud member: one string or an array of strings (RFC 7662 §2.2, RFC 7519 §4.1.3).
type audList []string

func (a *audList) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*a = nil
		return nil
	}
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*a = audList{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*a = many
	return nil
}

// introspect asks the provider about an access token (RFC 7662), authenticating as the
// wallet (client_secret_basic).
func (p *idp) introspect(ctx context.Context, token string) (*introspection, error) {
	st, err := p.state(ctx)
	if err != nil {
		return nil, err
	}
	if st.introspect == "" {
		return nil, fmt.Errorf("%w: no introspection endpoint", errIDPUnavailable)
	}
	form := url.Values{"token": {token}, "token_type_hint": {"access_token"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, st.introspect, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.SetBasicAuth(url.QueryEscape(p.clientID), url.QueryEscape(p.secret))
	var out introspection
	if err := p.doJSON(req, &out); err != nil {
		return nil, fmt.Errorf("introspection: %w", err)
	}
	return &out, nil
}

// userinfo reads the person's claims with their access token.
func (p *idp) userinfo(ctx context.Context, token string) (*personClaims, error) {
	st, err := p.state(ctx)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, st.userinfo, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	var out personClaims
	if err := p.doJSON(req, &out); err != nil {
		return nil, fmt.Errorf("userinfo: %w", err)
	}
	return &out, nil
}

// errHTTPStatus is a non-2xx answer from the provider.
type errHTTPStatus struct{ code int }

func (e errHTTPStatus) Error() string { return fmt.Sprintf("HTTP %d", e.code) }

func (p *idp) doJSON(req *http.Request, v any) error {
	resp, err := p.hc.Do(req)
	if err != nil {
		return fmt.Errorf("%w: %w", errIDPUnavailable, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return fmt.Errorf("%w: %w", errIDPUnavailable, err)
	}
	if resp.StatusCode/100 != 2 {
		if resp.StatusCode >= 500 {
			return fmt.Errorf("%w: HTTP %d", errIDPUnavailable, resp.StatusCode)
		}
		return errHTTPStatus{resp.StatusCode}
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("%w: bad JSON: %w", errIDPUnavailable, err)
	}
	return nil
}
