package fositeadapter

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ory/fosite"
)

func TestHMACStrategy(t *testing.T) {
	now := time.Now()
	key := make([]byte, 32)
	h := newHMACStrategy(key, func() time.Time { return now })
	ctx := context.Background()
	tok, sig, err := h.GenerateAccessToken(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok, prefixAccess) || h.AccessTokenSignature(ctx, tok) != sig || len(sig) != 43 {
		t.Fatalf("token %q sig %q", tok, sig)
	}
	req := func(exp time.Time) fosite.Requester {
		s := &Session{}
		s.SetExpiresAt(fosite.AccessToken, exp)
		s.SetExpiresAt(fosite.RefreshToken, exp)
		s.SetExpiresAt(fosite.AuthorizeCode, exp)
		return &fosite.Request{Session: s}
	}
	for _, tc := range []struct {
		name    string
		tok     string
		exp     time.Time
		wantErr error
	}{
		{"ok", tok, now.Add(time.Minute), nil},
		{"ok/no-expiry", tok, time.Time{}, nil},
		{"fail/expired", tok, now, fosite.ErrTokenExpired},
		{"fail/tampered", tamper(tok, len(tok)-1), now.Add(time.Minute), fosite.ErrTokenSignatureMismatch},
		{"fail/body", tamper(tok, len(prefixAccess)), now.Add(time.Minute), fosite.ErrTokenSignatureMismatch},
		{"fail/refresh-as-access", prefixRefresh + tok[len(prefixAccess):], now.Add(time.Minute), fosite.ErrInvalidTokenFormat},
		{"fail/shape", "garbage", now.Add(time.Minute), fosite.ErrInvalidTokenFormat},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := h.ValidateAccessToken(ctx, req(tc.exp), tc.tok)
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("err = %v, want %v", err, tc.wantErr)
			}
		})
	}
	// Code and refresh tokens use their own prefixes, so one kind never validates as another.
	code, _, _ := h.GenerateAuthorizeCode(ctx, nil)
	if h.ValidateRefreshToken(ctx, req(now.Add(time.Minute)), code) == nil || h.RefreshTokenSignature(ctx, code) != "" {
		t.Error("a code validated as a refresh token")
	}
	if other := newHMACStrategy(make([]byte, 32), time.Now); other.ValidateAuthorizeCode(ctx, req(time.Time{}), code) != nil {
		t.Error("same key, different strategy instance: code refused")
	}
	k2 := make([]byte, 32)
	k2[0] = 1
	if newHMACStrategy(k2, time.Now).ValidateAuthorizeCode(ctx, req(time.Time{}), code) == nil {
		t.Error("code accepted under another key")
	}
	// The token and revocation endpoints' checks before any database read.
	refresh, _, _ := h.GenerateRefreshToken(ctx, nil)
	for _, tc := range []struct {
		name string
		got  bool
		want bool
	}{
		{"ok/code", h.AuthenticCode(code), true},
		{"ok/refresh", h.AuthenticRefreshToken(refresh), true},
		{"fail/tampered-code", h.AuthenticCode(tamper(code, len(code)-1)), false},
		{"fail/tampered-refresh", h.AuthenticRefreshToken(tamper(refresh, len(prefixRefresh))), false},
		{"fail/refresh-as-code", h.AuthenticCode(refresh), false},
		{"fail/code-as-refresh", h.AuthenticRefreshToken(code), false},
		{"fail/other-key", newHMACStrategy(k2, time.Now).AuthenticCode(code), false},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, tc.got, tc.want)
		}
	}
}

// tamper returns s with the lowest bit of byte i flipped: always a different string, and never
// a '.' for a base64url character.
func tamper(s string, i int) string {
	b := []byte(s)
	b[i] ^= 1
	return string(b)
}
