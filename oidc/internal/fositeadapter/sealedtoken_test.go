package fositeadapter

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ory/fosite"

	"github.com/tongban/tongban/storage"
)

// TestSealAccessToken: a sealed access token carries the request an access token needs —
// grant ID, client, scopes, audience, subject, login facts, the names of the claims request's
// userinfo member, expiry, generation and when it was made — and not what only the code
// exchange needs (form, nonce, PKCE challenge, the id_token member, the other tokens'
// expiries); nor any of it in the clear.
func TestSealAccessToken(t *testing.T) {
	now := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	s := NewAccessTokenSealer(bytes.Repeat([]byte{3}, 32), func() time.Time { return now })
	c := &Client{Registration: storage.Client{ID: "app"}}
	sess := &Session{Subject: "sub-1", PersonID: "person-1", AuthTime: 1, ACR: "urn:tongban:acr:mfa",
		AMR: []string{"pwd", "otp"}, Nonce: "n-123456", CodeChallenge: "challenge", CodeExp: 2,
		AccessExp: now.Add(10 * time.Minute).UnixNano(), RefreshExp: 3, IDExp: 4, Gen: 7,
		Claims: &ClaimsRequest{IDToken: map[string]*ClaimSpec{"acr": {Essential: true}},
			UserInfo: map[string]*ClaimSpec{"name": {Essential: true, Value: "<x>"}}}}
	r := &fosite.Request{ID: "grant-1", RequestedAt: now, Client: c, RequestedScope: fosite.Arguments{"openid", "profile"},
		GrantedScope: fosite.Arguments{"openid"}, RequestedAudience: fosite.Arguments{"api"}, GrantedAudience: fosite.Arguments{"api"},
		Form: map[string][]string{"redirect_uri": {"https://app.example/cb"}}, Session: sess}
	tok, err := sealAccessToken(s, r, sess, now)
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
		AMR: []string{"pwd", "otp"}, AccessExp: sess.AccessExp, Gen: 7, AccessIssued: now.UnixNano(),
		Claims: &ClaimsRequest{UserInfo: map[string]*ClaimSpec{"name": nil}}}
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

// TestSealAccessTokenTooLarge: a claims request that would make an access token longer than
// a server accepts is refused at issuance with invalid_request, not issued unusable.
func TestSealAccessTokenTooLarge(t *testing.T) {
	now := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	s := NewAccessTokenSealer(bytes.Repeat([]byte{3}, 32), func() time.Time { return now })
	names := map[string]*ClaimSpec{}
	for i := range 2000 {
		names[strings.Repeat("\u2028", 3)+string(rune('a'+i%26))+strings.Repeat("x", i%7)+fmt.Sprint(i)] = nil
	}
	sess := &Session{Claims: &ClaimsRequest{UserInfo: names}}
	r := &fosite.Request{ID: "g", Client: &Client{Registration: storage.Client{ID: "app"}}, Session: sess}
	if _, err := sealAccessToken(s, r, sess, now); !errors.Is(err, fosite.ErrInvalidRequest) {
		t.Errorf("huge claims request: %v, want invalid_request", err)
	}
	sess.Claims = &ClaimsRequest{UserInfo: map[string]*ClaimSpec{"<name>&": nil}}
	tok, err := sealAccessToken(s, r, sess, now)
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := s.Open(tok); !bytes.Contains(p, []byte(`"<name>&"`)) {
		t.Errorf("HTML characters were escaped: %s", p)
	}
}

// TestSealedTokenLifetimeShortened: after the operator shortens the access-token lifetime, a
// sealed token made before is valid only for the new lifetime (plus a minute) after it was
// made — exactly as long as a revocation of it is remembered — whatever its own expiry says.
func TestSealedTokenLifetimeShortened(t *testing.T) {
	now := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	key := bytes.Repeat([]byte{3}, 32)
	long := NewTokenStrategy(key, nil, "https://idp", "https://idp/userinfo", time.Hour, func() time.Time { return now })
	c := &Client{Registration: storage.Client{ID: "app"}}
	sess := &Session{}
	r := &fosite.Request{ID: "g", Client: c, Session: sess}
	tok, _, err := long.GenerateAccessToken(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := long.Sealer().Open(tok)
	if err != nil {
		t.Fatal(err)
	}
	var sr storedRequest
	if err := json.Unmarshal(payload, &sr); err != nil {
		t.Fatal(err)
	}
	issued, _ := sr.request(c)
	for _, tc := range []struct {
		name     string
		lifetime time.Duration
		after    time.Duration
		wantErr  error
	}{
		{"ok/same lifetime", time.Hour, 50 * time.Minute, nil},
		{"fail/own expiry", time.Hour, 61 * time.Minute, fosite.ErrTokenExpired},
		{"ok/shortened, within it", 5 * time.Minute, 5 * time.Minute, nil},
		{"fail/shortened, past it", 5 * time.Minute, 6*time.Minute + time.Second, fosite.ErrTokenExpired},
	} {
		t.Run(tc.name, func(t *testing.T) {
			at := now.Add(tc.after)
			s := NewTokenStrategy(key, nil, "https://idp", "https://idp/userinfo", tc.lifetime, func() time.Time { return at })
			if err := s.ValidateAccessToken(context.Background(), issued, tok); !errors.Is(err, tc.wantErr) && (tc.wantErr != nil || err != nil) {
				t.Errorf("ValidateAccessToken = %v, want %v", err, tc.wantErr)
			}
		})
	}
}
