package web_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/tongban/tongban/keyring"
	smcrypto "github.com/tongban/tongban/sm-crypto"
	"github.com/tongban/tongban/storage/storagetest"
	"github.com/tongban/tongban/wallet"
	"github.com/tongban/tongban/wallet/wallettest"
	"github.com/tongban/tongban/wallet/web"
)

// fakeProvider is a minimal OpenID provider for one test: discovery, JWKS and a token
// endpoint that answers any code with an ES256 ID token carrying the nonce of the last
// authorization request and the claims in extra.
type fakeProvider struct {
	srv   *httptest.Server
	key   *ecdsa.PrivateKey
	mu    sync.Mutex
	nonce string
	extra map[string]any
}

func newFakeProvider(t *testing.T) *fakeProvider {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	p := &fakeProvider{key: key}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		u := p.srv.URL
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer": u, "authorization_endpoint": u + "/authorize", "token_endpoint": u + "/token",
			"jwks_uri": u + "/jwks", "userinfo_endpoint": u + "/userinfo", "end_session_endpoint": u + "/logout",
			"id_token_signing_alg_values_supported": []string{"ES256"},
		})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"}}})
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		claims := map[string]any{"iss": p.srv.URL, "sub": "person-1", "aud": "wallet", "nonce": p.nonce,
			"iat": time.Now().Unix(), "exp": time.Now().Add(time.Minute).Unix(), "name": citizenName, "id_number": citizen}
		for k, v := range p.extra {
			claims[k] = v
		}
		p.mu.Unlock()
		signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: p.key}, (&jose.SignerOptions{}).WithHeader("kid", "k1"))
		must(t, err)
		payload, _ := json.Marshal(claims)
		jws, err := signer.Sign(payload)
		must(t, err)
		idt, _ := jws.CompactSerialize()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "at", "token_type": "Bearer", "expires_in": 60, "id_token": idt})
	})
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

// TestElderModeClaim: a login whose ID token carries elder_mode true (the provider's 长辈模式
// account setting, scope profile) turns elder mode on in the wallet's browser; false or
// absent leaves the browser's own choice alone.
func TestElderModeClaim(t *testing.T) {
	prov := newFakeProvider(t)
	store := storagetest.SQLite(t)
	kek, err := smcrypto.GenerateKEK(nil)
	must(t, err)
	kr, err := keyring.Open(t.Context(), store, kek)
	must(t, err)
	svc, err := wallet.NewService(t.Context(), wallet.ServiceConfig{Store: store, Keyring: kr})
	must(t, err)
	walH := &lateHandler{}
	wal := httptest.NewServer(walH)
	t.Cleanup(wal.Close)
	srv, err := web.NewServer(t.Context(), web.Config{Service: svc, Issuer: prov.srv.URL, ClientID: "wallet",
		ClientSecret: "secret", PublicURL: wal.URL, IDTokenAlg: "ES256"})
	must(t, err)
	walH.set(srv.Handler())

	login := func(b *wallettest.Browser, extra map[string]any) *wallettest.Page {
		t.Helper()
		b.Stop = []string{prov.srv.URL + "/authorize"}
		p := b.Get(wal.URL + "/login")
		auth := p.Location()
		if auth == nil || !strings.HasPrefix(auth.String(), prov.srv.URL+"/authorize") {
			t.Fatalf("login did not go to the provider: %d %s", p.Status, p.Header.Get("Location"))
		}
		prov.mu.Lock()
		prov.nonce, prov.extra = auth.Query().Get("nonce"), extra
		prov.mu.Unlock()
		return b.Get(wal.URL + "/callback?" + url.Values{"code": {"c"}, "state": {auth.Query().Get("state")}}.Encode())
	}
	elder := func(p *wallettest.Page) bool { return strings.Contains(p.Body, `class="elder"`) }

	for _, tc := range []struct {
		name      string
		extra     map[string]any
		before    bool // elder mode on in the browser before the login
		wantElder bool
	}{
		{"ok/claim-true", map[string]any{"elder_mode": true}, false, true},
		{"ok/claim-false", map[string]any{"elder_mode": false}, false, false},
		{"ok/claim-absent", nil, false, false},
		{"ok/claim-false-keeps-the-browser's-choice", map[string]any{"elder_mode": false}, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := wallettest.NewBrowser(t)
			if tc.before {
				b.PostForm(wal.URL+"/prefs/elder", url.Values{"on": {"1"}, "back": {"/"}})
			}
			p := login(b, tc.extra)
			if p.Status != http.StatusOK || !strings.Contains(p.Body, "110101********002X") {
				t.Fatalf("login: %d %s\n%s", p.Status, p.URL, p.Body)
			}
			if elder(p) != tc.wantElder {
				t.Errorf("elder mode after the login: %v, want %v", elder(p), tc.wantElder)
			}
		})
	}
}
