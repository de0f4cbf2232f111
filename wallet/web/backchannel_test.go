package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/tongban/tongban/accounts"
	"github.com/tongban/tongban/audit"
	"github.com/tongban/tongban/oidc"
	"github.com/tongban/tongban/storage"
	"github.com/tongban/tongban/wallet/wallettest"
)

// sessionReplay finds the wallet session cookie of b and a function that replays it
// alone against an API page: 401 once the session has ended.
func sessionReplay(t *testing.T, w *world, b *wallettest.Browser) func() int {
	t.Helper()
	u, _ := url.Parse(w.wal.URL)
	var stolen *http.Cookie
	for _, c := range b.Client.Jar.Cookies(u) {
		if c.Name == "tbw_session" {
			stolen = c
		}
	}
	if stolen == nil {
		t.Fatal("no session cookie after login")
	}
	return func() int {
		req, err := http.NewRequest("GET", w.wal.URL+"/code.json?l=x", nil)
		must(t, err)
		req.AddCookie(&http.Cookie{Name: stolen.Name, Value: stolen.Value})
		resp, err := http.DefaultClient.Do(req)
		must(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
}

// TestBackchannelLogoutEndsWalletSession: an operator ends the citizen's sessions at the
// provider; the provider's logout worker POSTs a logout token to the wallet's
// /backchannel-logout, which verifies it and ends the wallet session (its cookie is refused).
func TestBackchannelLogoutEndsWalletSession(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	b := wallettest.NewBrowser(t)
	b.LoginWallet(w.wal.URL, citizen, password)
	replay := sessionReplay(t, w, b)
	if st := replay(); st == http.StatusUnauthorized {
		t.Fatalf("the session does not work before logout: %d", st)
	}
	people, err := accounts.New(accounts.Config{Store: w.store, Keyring: w.kr, OnSessionsEnded: w.op.PersonSessionsEnded})
	must(t, err)
	p, err := people.FindPerson(ctx, citizen)
	must(t, err)
	if n, err := people.EndSessions(ctx, audit.Shell, p.ID); err != nil || n != 1 {
		t.Fatalf("EndSessions = %d, %v", n, err)
	}
	if n, err := w.op.DeliverLogouts(ctx); err != nil || n != 1 {
		t.Fatalf("DeliverLogouts = %d, %v; want the wallet's token sent", n, err)
	}
	if st := replay(); st != http.StatusUnauthorized {
		t.Errorf("the wallet session survived the back-channel logout: %d", st)
	}
	w.checkLogs(t)
}

// TestBackchannelLogoutRefusals: the wallet refuses (400) logout tokens that are replayed, carry
// a nonce, name another audience or issuer, lack the event or sub, are stale, or whose
// signature was tampered with; a good one is accepted once.
func TestBackchannelLogoutRefusals(t *testing.T) {
	w := newWorldAlg(t, oidc.AlgES256)
	ctx := context.Background()
	key, err := w.kr.Active(ctx, storage.PurposeIDToken, oidc.AlgES256)
	must(t, err)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: key.Signer, KeyID: key.ID}},
		(&jose.SignerOptions{}).WithType("logout+jwt"))
	must(t, err)
	now := time.Now()
	base := func() map[string]any {
		return map[string]any{"iss": w.idp.URL, "aud": "wallet", "iat": now.Unix(), "exp": now.Add(2 * time.Minute).Unix(),
			"jti": "jti-" + randJTI(), "sub": "someone", "sid": "s1",
			"events": map[string]any{"http://schemas.openid.net/event/backchannel-logout": map[string]any{}}}
	}
	sign := func(claims map[string]any) string {
		payload, err := json.Marshal(claims)
		must(t, err)
		obj, err := signer.Sign(payload)
		must(t, err)
		tok, err := obj.CompactSerialize()
		must(t, err)
		return tok
	}
	post := func(tok string) int {
		resp, err := http.PostForm(w.wal.URL+"/backchannel-logout", url.Values{"logout_token": {tok}})
		must(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	good := sign(base())
	if st := post(good); st != http.StatusOK {
		t.Fatalf("a good logout token: %d", st)
	}
	with := func(k string, v any) string { c := base(); c[k] = v; return sign(c) }
	without := func(k string) string { c := base(); delete(c, k); return sign(c) }
	tampered := []byte(sign(base()))
	tampered[len(tampered)-5] ^= 1
	for _, tc := range []struct{ name, tok string }{
		{"fail/replayed-jti", good},
		{"fail/nonce", with("nonce", "n-0123456789abcdef")},
		{"fail/other-audience", with("aud", "other-app")},
		{"fail/other-issuer", with("iss", "https://evil.example")},
		{"fail/no-event", without("events")},
		{"fail/event-not-object", with("events", map[string]any{"http://schemas.openid.net/event/backchannel-logout": "x"})},
		{"fail/no-sub", without("sub")},
		{"fail/no-jti", without("jti")},
		{"fail/stale-iat", with("iat", now.Add(-10*time.Minute).Unix())},
		{"fail/expired", with("exp", now.Add(-time.Minute).Unix())},
		{"fail/tampered-signature", string(tampered)},
		{"fail/empty", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if st := post(tc.tok); st != http.StatusBadRequest {
				t.Errorf("status %d, want 400", st)
			}
		})
	}
	if logs := w.logs.String(); !strings.Contains(logs, "logout token replayed") || !strings.Contains(logs, "carries a nonce") {
		t.Errorf("refusals not logged with their reason:\n%s", logs)
	}
}

var jtiSeq int

// randJTI returns a jti not used before in this process.
func randJTI() string { jtiSeq++; return fmt.Sprintf("%08d", jtiSeq) }
