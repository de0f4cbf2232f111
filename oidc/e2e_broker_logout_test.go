package oidc_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/tongban/tongban/keyring"
	tboidc "github.com/tongban/tongban/oidc"
	"github.com/tongban/tongban/storage"
	"github.com/tongban/tongban/storage/storagetest"
)

// lateTransport is a RoundTripper set after the server that uses it is built.
type lateTransport struct {
	mu sync.Mutex
	rt http.RoundTripper
}

func (l *lateTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	l.mu.Lock()
	rt := l.rt
	l.mu.Unlock()
	return rt.RoundTrip(r)
}

func TestUpstreamBackchannelLogoutSQLite(t *testing.T) {
	for _, alg := range []string{tboidc.AlgSM2, tboidc.AlgES256} {
		t.Run(alg, func(t *testing.T) {
			testUpstreamBackchannelLogout(t, storagetest.SQLite(t), storagetest.SQLite(t), alg)
		})
	}
}

func TestUpstreamBackchannelLogoutPostgres(t *testing.T) {
	testUpstreamBackchannelLogout(t, storagetest.Postgres(t), storagetest.Postgres(t), tboidc.AlgSM2)
}

// testUpstreamBackchannelLogout: a citizen of province A logs in to an app of province B
// through A; B is registered at A with its upstream back-channel logout URI. The citizen logs
// out at A: A's worker sends B a logout token, B ends the brokered session and B's worker sends
// B's app its own logout token (sid of B's session). Then forged, replayed and wrong tokens
// signed with A's real key are refused with 400, audited, and end nothing.
func testUpstreamBackchannelLogout(t *testing.T, sa, sb storage.Storage, alg string) {
	ctx := context.Background()
	late := &lateTransport{}
	p := newBrokerPairOn(t, sa, sb, alg, nil, func(c *tboidc.Config) {
		c.LogoutHTTPClient = &http.Client{Transport: late, Timeout: 5 * time.Second}
	})
	late.mu.Lock()
	late.rt = p.a.hs.Client().Transport // trusts httptest's certificate, B's too
	late.mu.Unlock()
	if err := p.a.store.UpdateClient(ctx, "province-b", func(c *storage.Client) error {
		c.BackchannelLogoutURI = tboidc.UpstreamBackchannelLogoutURI(p.b.issuer)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	recv := newLogoutReceiver(p.b, 0)
	p.app = p.b.newRP(tboidc.NewClient{BackchannelLogoutURI: recv.hs.URL + "/bcl"})
	_, num := p.a.person("周八", "")
	local := p.localPerson(num)

	br := p.browser()
	a := p.app.authURL()
	claims := p.appLogin(p.finish(br, p.startAtB(br, a), num), a)
	sidB, _ := claims["sid"].(string)
	if sidB == "" || claims["sub"] != local.ID {
		t.Fatalf("B's ID token: %v", claims)
	}
	us := p.upstreamSession(local.ID)
	if us.UpstreamSID == "" {
		t.Fatal("the upstream sid of A's ID token was not recorded")
	}

	// The citizen logs out at A (RP-initiated logout, confirmed).
	pg := br.get(p.a.issuer + "/logout")
	action, vals := pg.form(t)
	if pg = br.post(action, vals); pg.status != http.StatusOK {
		t.Fatalf("logout at A: %d %s", pg.status, pg.body)
	}
	if n, err := p.a.srv.DeliverLogouts(ctx); err != nil || n != 1 {
		t.Fatalf("A's DeliverLogouts = %d, %v; want 1 (to B)", n, err)
	}
	if !p.audited("upstream.logout", "upstream="+upstreamID+" by=sid+sub sessions_ended=1") {
		t.Error("B did not audit upstream.logout ending one session")
	}
	if n, err := p.b.srv.DeliverLogouts(ctx); err != nil || n != 1 {
		t.Fatalf("B's DeliverLogouts = %d, %v; want 1 (to B's app)", n, err)
	}
	if got := recv.tokens(); len(got) != 1 {
		t.Fatalf("B's app received %d logout tokens", len(got))
	} else {
		checkLogoutToken(t, p.b, got[0], p.app.client.ID, sidB, local.ID)
	}
	if pg := br.get(p.b.issuer + "/account"); !pg.isLogin() {
		t.Errorf("B's session survived the logout at A: %d %s", pg.status, pg.url)
	}

	// Bad input: a new brokered session at B, then tokens that must each end nothing.
	br2 := p.browser()
	a2 := p.app.authURL()
	p.appLogin(p.finish(br2, p.startAtB(br2, a2), num), a2)
	us = p.upstreamSession(local.ID)
	now := time.Now()
	good := func() map[string]any {
		return map[string]any{"iss": p.a.issuer, "aud": "province-b", "iat": now.Unix(), "exp": now.Add(2 * time.Minute).Unix(),
			"jti": randomJTI(), "sub": us.Subject, "sid": us.UpstreamSID,
			"events": map[string]any{tboidc.EventBackchannelLogout: map[string]any{}}}
	}
	with := func(mod func(map[string]any)) string {
		c := good()
		mod(c)
		return p.signAsA(c)
	}
	replayed := with(func(c map[string]any) { c["sid"] = "another-session-at-a" }) // valid, matches nothing
	if st := p.postUpstreamLogout(replayed); st != http.StatusOK {
		t.Fatalf("a valid token naming no session: %d, want 200", st)
	}
	for _, tc := range []struct {
		name, reason, token string
	}{
		{"fail/replayed jti", "replay", replayed},
		{"fail/nonce", "claims", with(func(c map[string]any) { c["nonce"] = "n-0S6_WzA2Mj" })},
		{"fail/wrong aud", "aud", with(func(c map[string]any) { c["aud"] = "another-rp" })},
		{"fail/wrong iss", "iss", with(func(c map[string]any) { c["iss"] = "https://evil.example" })},
		{"fail/no event", "claims", with(func(c map[string]any) { c["events"] = map[string]any{"x": map[string]any{}} })},
		{"fail/event not an object", "claims", with(func(c map[string]any) {
			c["events"] = map[string]any{tboidc.EventBackchannelLogout: "yes"}
		})},
		{"fail/no sub nor sid", "claims", with(func(c map[string]any) { delete(c, "sub"); delete(c, "sid") })},
		{"fail/no jti", "claims", with(func(c map[string]any) { delete(c, "jti") })},
		{"fail/old iat", "expired", with(func(c map[string]any) { c["iat"] = now.Add(-10 * time.Minute).Unix() })},
		{"fail/expired", "expired", with(func(c map[string]any) { c["exp"] = now.Add(-5 * time.Minute).Unix() })},
		{"fail/signature byte", "signature", flipChar(2, 10)(p.signAsA(good()))},
		{"fail/payload byte", "signature", flipChar(1, 20)(p.signAsA(good()))},
		{"fail/alg none", "alg", unsigned("none", func(string) string { return "" })(p.signAsA(good()))},
		{"fail/empty", "claims", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if st := p.postUpstreamLogout(tc.token); st != http.StatusBadRequest {
				t.Fatalf("status %d, want 400", st)
			}
			if !p.audited("upstream.logout.refused", "reason="+tc.reason) {
				t.Errorf("refusal not audited with reason=%s", tc.reason)
			}
			if ids, err := p.b.store.FindUpstreamSessions(ctx, upstreamID, "", us.UpstreamSID); err != nil || len(ids) != 1 {
				t.Fatalf("the brokered session ended: %v %v", ids, err)
			}
		})
	}
	// The same token with sid only, correct: the session ends.
	if st := p.postUpstreamLogout(with(func(c map[string]any) { delete(c, "sub") })); st != http.StatusOK {
		t.Fatalf("valid sid-only token: %d", st)
	}
	if ids, _ := p.b.store.FindUpstreamSessions(ctx, upstreamID, "", us.UpstreamSID); len(ids) != 0 {
		t.Errorf("sessions left: %v", ids)
	}
	if !p.audited("upstream.logout", "by=sid sessions_ended=1") {
		t.Error("sid-only logout not audited")
	}
}

// upstreamSession returns the upstream-session record of the person's one session at B.
func (p *brokerPair) upstreamSession(personID string) storage.UpstreamSession {
	p.t.Helper()
	ids, err := p.b.store.ListSessionIDsForPerson(context.Background(), personID)
	if err != nil || len(ids) != 1 {
		p.t.Fatalf("sessions of the person at B: %v %v", ids, err)
	}
	us, err := p.b.store.GetUpstreamSession(context.Background(), ids[0])
	if err != nil {
		p.t.Fatal(err)
	}
	return us
}

// signAsA signs claims with province A's ES256 ID-token key.
func (p *brokerPair) signAsA(claims map[string]any) string {
	p.t.Helper()
	key, err := p.a.kr.Active(context.Background(), storage.PurposeIDToken, keyring.AlgES256)
	if err != nil {
		p.t.Fatal(err)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: key.Signer, KeyID: key.ID}},
		(&jose.SignerOptions{}).WithType("logout+jwt"))
	if err != nil {
		p.t.Fatal(err)
	}
	js, _ := json.Marshal(claims)
	jws, err := s.Sign(js)
	if err != nil {
		p.t.Fatal(err)
	}
	out, _ := jws.CompactSerialize()
	return out
}

// postUpstreamLogout POSTs a logout token to B's upstream back-channel logout endpoint and
// returns the status.
func (p *brokerPair) postUpstreamLogout(tok string) int {
	p.t.Helper()
	resp, err := p.b.hs.Client().Post(tboidc.UpstreamBackchannelLogoutURI(p.b.issuer), "application/x-www-form-urlencoded",
		strings.NewReader(url.Values{"logout_token": {tok}}.Encode()))
	if err != nil {
		p.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

var jtiSeq atomic.Int64

// randomJTI returns a jti unique within the test binary.
func randomJTI() string { return "test-jti-" + strconv.FormatInt(jtiSeq.Add(1), 10) }
