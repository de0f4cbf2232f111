package fositeadapter

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ory/fosite"

	"github.com/tongban/tongban/storage"
)

// TestSealAccessToken: a sealed access token carries the request an access token needs —
// grant ID, client, scopes, audience, subject, login facts, the claims request, expiry and
// generation — and not what only the code exchange needs (form, nonce, PKCE challenge, the
// other tokens' expiries); nor any of it in the clear.
func TestSealAccessToken(t *testing.T) {
	now := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	s := NewAccessTokenSealer(bytes.Repeat([]byte{3}, 32), func() time.Time { return now })
	c := &Client{Registration: storage.Client{ID: "app"}}
	sess := &Session{Subject: "sub-1", PersonID: "person-1", AuthTime: 1, ACR: "urn:tongban:acr:mfa",
		AMR: []string{"pwd", "otp"}, Nonce: "n-123456", CodeChallenge: "challenge", CodeExp: 2,
		AccessExp: now.Add(10 * time.Minute).UnixNano(), RefreshExp: 3, IDExp: 4, Gen: 7,
		Claims: &ClaimsRequest{UserInfo: map[string]*ClaimSpec{"name": nil}}}
	r := &fosite.Request{ID: "grant-1", RequestedAt: now, Client: c, RequestedScope: fosite.Arguments{"openid", "profile"},
		GrantedScope: fosite.Arguments{"openid"}, RequestedAudience: fosite.Arguments{"api"}, GrantedAudience: fosite.Arguments{"api"},
		Form: map[string][]string{"redirect_uri": {"https://app.example/cb"}}, Session: sess}
	tok, err := sealAccessToken(s, r, sess)
	if err != nil {
		t.Fatal(err)
	}
	for _, clear := range []string{"grant-1", "sub-1", "person-1", "app.example", "openid"} {
		if strings.Contains(tok, clear) {
			t.Errorf("the token shows %q in the clear", clear)
		}
	}
	payload, err := s.Open(tok)
	if err != nil {
		t.Fatal(err)
	}
	var sr storedRequest
	if err := json.Unmarshal(payload, &sr); err != nil {
		t.Fatal(err)
	}
	got, gotSess := sr.request(c)
	want := Session{Subject: "sub-1", PersonID: "person-1", AuthTime: 1, ACR: "urn:tongban:acr:mfa",
		AMR: []string{"pwd", "otp"}, AccessExp: sess.AccessExp, Gen: 7, Claims: sess.Claims}
	gotSess.idClaims, gotSess.idHeaders = nil, nil
	if b1, b2 := mustJSON(t, *gotSess), mustJSON(t, want); b1 != b2 {
		t.Errorf("session:\n got  %s\n want %s", b1, b2)
	}
	if got.ID != "grant-1" || got.Client != c || !got.RequestedAt.Equal(now) || len(got.Form) != 0 ||
		strings.Join(got.GrantedScope, " ") != "openid" || strings.Join(got.GrantedAudience, " ") != "api" {
		t.Errorf("request: %+v", got)
	}
	if sess.Nonce != "n-123456" || sess.CodeChallenge != "challenge" {
		t.Error("sealing changed the request's own session")
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
