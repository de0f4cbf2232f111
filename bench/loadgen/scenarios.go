package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
)

// maxBody bounds what loadgen reads of a response.
const maxBody = 1 << 20

func newScenario(ctx context.Context, o options, base *url.URL, t *http.Transport) (scenario, error) {
	plain := &http.Client{Transport: t, Timeout: o.timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	switch o.scenario {
	case "healthz":
		return &healthz{c: plain, url: base.String() + "/healthz"}, nil
	case "client-credentials":
		ep, err := discover(ctx, plain, base)
		if err != nil {
			return nil, err
		}
		return &clientCredentials{c: plain, o: o, token: ep.token}, nil
	case "sso", "login":
		ep, err := discover(ctx, plain, base)
		if err != nil {
			return nil, err
		}
		f := &flow{o: o, t: t, base: base, ep: ep, users: strings.Split(o.username, ",")}
		if o.scenario == "login" {
			// One login with consent per account first, so that the measured logins find it
			// granted.
			for w := range min(o.conns, len(f.users)) {
				if _, err := f.newSession(ctx, w); err != nil {
					return nil, err
				}
			}
			return &login{f: f}, nil
		}
		s := &sso{f: f, sessions: make([]*http.Client, o.conns)}
		for w := range o.conns {
			c, err := f.newSession(ctx, w)
			if err != nil {
				return nil, fmt.Errorf("session for worker %d: %w", w, err)
			}
			s.sessions[w] = c
		}
		return s, nil
	}
	return nil, fmt.Errorf("unknown scenario %q", o.scenario)
}

// endpoints are the URLs from discovery, moved onto the target's scheme and host (the issuer
// may name another host:port than the one loaded).
type endpoints struct{ authorize, token string }

func discover(ctx context.Context, c *http.Client, base *url.URL) (endpoints, error) {
	var doc struct {
		Authorization string `json:"authorization_endpoint"`
		Token         string `json:"token_endpoint"`
	}
	if err := getJSON(ctx, c, base.String()+"/.well-known/openid-configuration", &doc); err != nil {
		return endpoints{}, fmt.Errorf("discovery: %w", err)
	}
	onTarget := func(s string) (string, error) {
		u, err := url.Parse(s)
		if err != nil {
			return "", err
		}
		u.Scheme, u.Host = base.Scheme, base.Host
		return u.String(), nil
	}
	a, err := onTarget(doc.Authorization)
	if err != nil {
		return endpoints{}, err
	}
	tk, err := onTarget(doc.Token)
	return endpoints{authorize: a, token: tk}, err
}

func getJSON(ctx context.Context, c *http.Client, u string, v any) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: status %d", req.URL.Path, resp.StatusCode)
	}
	return json.NewDecoder(io.LimitReader(resp.Body, maxBody)).Decode(v)
}

// drain reads and closes a body so the connection is reused.
func drain(resp *http.Response) {
	io.Copy(io.Discard, io.LimitReader(resp.Body, maxBody))
	resp.Body.Close()
}

// healthz is the baseline: the HTTP stack and the ops mux alone.
type healthz struct {
	c   *http.Client
	url string
}

func (h *healthz) iterate(ctx context.Context, _ int) (int, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, h.url, nil)
	resp, err := h.c.Do(req)
	if err != nil {
		return 1, err
	}
	drain(resp)
	if resp.StatusCode != http.StatusOK {
		return 1, fmt.Errorf("healthz: status %d", resp.StatusCode)
	}
	return 1, nil
}

// clientCredentials asks the token endpoint for an access token with client_secret_basic.
type clientCredentials struct {
	c     *http.Client
	o     options
	token string
}

func (cc *clientCredentials) iterate(ctx context.Context, _ int) (int, error) {
	form := url.Values{"grant_type": {"client_credentials"}}
	if cc.o.scope != "" && cc.o.scope != "openid profile" {
		form.Set("scope", cc.o.scope)
	}
	_, err := tokenRequest(ctx, cc.c, cc.token, cc.o.clientID, cc.o.clientSecret, form, false)
	return 1, err
}

// tokenRequest posts form to the token endpoint with client_secret_basic (RFC 6749 §2.3.1)
// and checks the response carries an access token (and an ID token when wantID).
func tokenRequest(ctx context.Context, c *http.Client, endpoint, id, secret string, form url.Values, wantID bool) (string, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer drain(resp)
	var tr struct {
		AccessToken string `json:"access_token"`
		IDToken     string `json:"id_token"`
		Error       string `json:"error"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxBody)).Decode(&tr); err != nil {
		return "", fmt.Errorf("token: status %d: %w", resp.StatusCode, err)
	}
	if resp.StatusCode != http.StatusOK || tr.AccessToken == "" {
		return "", fmt.Errorf("token: status %d error %q", resp.StatusCode, tr.Error)
	}
	if wantID && tr.IDToken == "" {
		return "", errors.New("token: no id_token")
	}
	return tr.AccessToken, nil
}

// flow runs authorization-code flows like a browser (cookies, redirects, forms) and a client
// (PKCE, token exchange).
type flow struct {
	o     options
	t     *http.Transport
	base  *url.URL
	ep    endpoints
	users []string // worker w logs in as users[w % len(users)]
}

// browser returns a client with its own cookie jar that does not follow redirects itself.
func (f *flow) browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Transport: f.t, Jar: jar, Timeout: f.o.timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// newSession logs a fresh browser in (granting consent if asked) and returns it holding the
// SSO session cookie.
func (f *flow) newSession(ctx context.Context, w int) (*http.Client, error) {
	b := f.browser()
	if _, err := f.codeFlow(ctx, b, w, true); err != nil {
		return nil, err
	}
	return b, nil
}

// codeFlow runs one authorization request with PKCE in browser b up to the code, answering the
// login form with the password (and, when allowConsent, the consent form), then redeems the
// code. It returns the number of HTTP requests made.
func (f *flow) codeFlow(ctx context.Context, b *http.Client, w int, allowConsent bool) (int, error) {
	verifier := randomToken(32)
	sum := sha256.Sum256([]byte(verifier))
	state := randomToken(16)
	q := url.Values{
		"response_type":         {"code"},
		"client_id":             {f.o.clientID},
		"redirect_uri":          {f.o.redirectURI},
		"scope":                 {f.o.scope},
		"state":                 {state},
		"nonce":                 {randomToken(16)},
		"code_challenge":        {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"},
	}
	next, err := http.NewRequestWithContext(ctx, http.MethodGet, f.ep.authorize+"?"+q.Encode(), nil)
	if err != nil {
		return 0, err
	}
	requests := 0
	for step := 0; step < 10; step++ {
		resp, err := b.Do(next)
		requests++
		if err != nil {
			return requests, err
		}
		switch {
		case resp.StatusCode >= 300 && resp.StatusCode < 400:
			drain(resp)
			loc, err := resp.Location()
			if err != nil {
				return requests, fmt.Errorf("redirect without Location: %w", err)
			}
			if strings.HasPrefix(loc.String(), f.o.redirectURI) {
				return f.redeem(ctx, b, loc, state, verifier, requests)
			}
			if next, err = http.NewRequestWithContext(ctx, http.MethodGet, loc.String(), nil); err != nil {
				return requests, err
			}
		case resp.StatusCode == http.StatusOK:
			body, _ := io.ReadAll(io.LimitReader(resp.Body, maxBody))
			resp.Body.Close()
			form, err := parseForm(string(body), resp.Request.URL)
			if err != nil {
				return requests, fmt.Errorf("page %s: %w", resp.Request.URL.Path, err)
			}
			if next, err = f.answer(ctx, form, f.users[w%len(f.users)], allowConsent); err != nil {
				return requests, err
			}
		default:
			drain(resp)
			return requests, fmt.Errorf("%s %s: status %d", next.Method, next.URL.Path, resp.StatusCode)
		}
	}
	return requests, errors.New("too many steps before the code")
}

// answer fills a login or consent form.
func (f *flow) answer(ctx context.Context, form *htmlForm, user string, allowConsent bool) (*http.Request, error) {
	v := form.values()
	switch {
	case form.password != "":
		v.Set(form.password, f.o.password)
		if form.username == "" {
			return nil, errors.New("login form without a username field")
		}
		v.Set(form.username, user)
	case allowConsent:
		if !form.chooseSubmit(v, "allow", "approve", "accept", "grant", "consent", "yes", "agree") {
			return nil, errors.New("consent form without an approve button")
		}
	default:
		return nil, errors.New("unexpected form (consent not granted?)")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, form.action.String(), strings.NewReader(v.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req, nil
}

// redeem checks the authorization response and exchanges the code.
func (f *flow) redeem(ctx context.Context, b *http.Client, loc *url.URL, state, verifier string, requests int) (int, error) {
	q := loc.Query()
	if e := q.Get("error"); e != "" {
		return requests, fmt.Errorf("authorization error %q", e)
	}
	if q.Get("state") != state {
		return requests, errors.New("state mismatch")
	}
	code := q.Get("code")
	if code == "" {
		return requests, errors.New("no code in the redirect")
	}
	form := url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"redirect_uri":  {f.o.redirectURI},
		"code_verifier": {verifier},
	}
	_, err := tokenRequest(ctx, b, f.ep.token, f.o.clientID, f.o.clientSecret, form, true)
	return requests + 1, err
}

// sso is the app-to-app single sign-on round trip: each worker holds its own live session.
type sso struct {
	f        *flow
	sessions []*http.Client
}

func (s *sso) iterate(ctx context.Context, w int) (int, error) {
	return s.f.codeFlow(ctx, s.sessions[w], w, false)
}

// login is a full password login in a fresh browser (no session cookie).
type login struct{ f *flow }

func (l *login) iterate(ctx context.Context, w int) (int, error) {
	return l.f.codeFlow(ctx, l.f.browser(), w, false)
}

func randomToken(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
