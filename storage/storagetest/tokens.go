package storagetest

import (
	"testing"
	"time"

	"github.com/tongban/tongban/storage"
)

func wantToken(r storage.TokenRecord) storage.TokenRecord {
	r.RequestedAt = stored(r.RequestedAt)
	r.ExpiresAt = stored(r.ExpiresAt)
	r.Data = storedBytes(r.Data)
	return r
}

func token(kind storage.TokenKind, sig, requestID string, active bool, expires time.Time) storage.TokenRecord {
	return storage.TokenRecord{Kind: kind, Signature: sig, RequestID: requestID, ClientID: "client", Subject: "person",
		Active: active, RequestedAt: t0, ExpiresAt: expires, Data: []byte(`{"form":"` + sig + `"}`)}
}

func testTokens(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	must(t, "CreateClient", s.CreateClient(ctx, testClient("client")))
	code := token(storage.KindAuthorizeCode, "code-sig", "req-1", true, t0.Add(time.Minute))
	inactive := token(storage.KindRefreshToken, "rotated-sig", "req-1", false, t0.Add(24*time.Hour))
	clientCreds := storage.TokenRecord{Kind: storage.KindAccessToken, Signature: "cc-sig", RequestID: "req-2",
		ClientID: "client", Active: true, RequestedAt: pre1970, ExpiresAt: t0, Data: []byte{}}
	sameSigOtherKind := token(storage.KindPKCE, code.Signature, "req-1", true, t0.Add(time.Minute))

	t.Run("CreateToken", func(t *testing.T) {
		for _, tc := range []struct {
			name    string
			r       storage.TokenRecord
			wantErr error
		}{
			{"ok/active authorization code", code, nil},
			{"ok/inactive refresh token", inactive, nil},
			{"ok/no subject, empty data", clientCreds, nil},
			{"ok/same signature, other kind", sameSigOtherKind, nil},
			{"fail/duplicate kind and signature", token(code.Kind, code.Signature, "req-9", true, t0), storage.ErrConflict},
			{"fail/unknown client", storage.TokenRecord{Kind: storage.KindAccessToken, Signature: "orphan", ClientID: "nobody"}, storage.ErrNotFound},
		} {
			t.Run(tc.name, func(t *testing.T) {
				checkErr(t, "CreateToken", s.CreateToken(ctx, tc.r), tc.wantErr)
			})
		}
	})

	t.Run("GetToken", func(t *testing.T) {
		for _, tc := range []struct {
			name    string
			kind    storage.TokenKind
			sig     string
			want    storage.TokenRecord
			wantErr error
		}{
			{"ok/active", code.Kind, code.Signature, code, nil},
			{"ok/inactive", inactive.Kind, inactive.Signature, inactive, nil},
			{"ok/empty data is nil", clientCreds.Kind, clientCreds.Signature, clientCreds, nil},
			{"ok/kind tells records apart", sameSigOtherKind.Kind, sameSigOtherKind.Signature, sameSigOtherKind, nil},
			{"fail/unknown signature", code.Kind, "nothing", storage.TokenRecord{}, storage.ErrNotFound},
			{"fail/signature under another kind", storage.KindRefreshToken, code.Signature, storage.TokenRecord{}, storage.ErrNotFound},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, err := s.GetToken(ctx, tc.kind, tc.sig)
				if checkErr(t, "GetToken", err, tc.wantErr) && tc.wantErr == nil {
					checkEqual(t, "token", got, wantToken(tc.want))
				}
			})
		}
	})

	t.Run("InvalidateToken", func(t *testing.T) {
		for _, tc := range []struct {
			name    string
			kind    storage.TokenKind
			sig     string
			wantErr error
		}{
			{"ok/first redemption", code.Kind, code.Signature, nil},
			{"fail/second redemption", code.Kind, code.Signature, storage.ErrAlreadyUsed},
			{"fail/created inactive", inactive.Kind, inactive.Signature, storage.ErrAlreadyUsed},
			{"fail/unknown", code.Kind, "nothing", storage.ErrNotFound},
			{"ok/other kind with the same signature is separate", sameSigOtherKind.Kind, sameSigOtherKind.Signature, nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				checkErr(t, "InvalidateToken", s.InvalidateToken(ctx, tc.kind, tc.sig), tc.wantErr)
			})
		}
		got, err := s.GetToken(ctx, code.Kind, code.Signature)
		must(t, "GetToken", err)
		want := code
		want.Active = false
		checkEqual(t, "invalidated token", got, wantToken(want))
	})

	t.Run("DeleteToken", func(t *testing.T) {
		for _, tc := range []struct {
			name    string
			kind    storage.TokenKind
			sig     string
			wantErr error
		}{
			{"ok/existing", clientCreds.Kind, clientCreds.Signature, nil},
			{"fail/already deleted", clientCreds.Kind, clientCreds.Signature, storage.ErrNotFound},
			{"fail/unknown", storage.KindOIDC, "nothing", storage.ErrNotFound},
		} {
			t.Run(tc.name, func(t *testing.T) {
				checkErr(t, "DeleteToken", s.DeleteToken(ctx, tc.kind, tc.sig), tc.wantErr)
			})
		}
	})

	t.Run("RevokeByRequestID", func(t *testing.T) {
		for _, r := range []storage.TokenRecord{
			token(storage.KindRefreshToken, "family-1", "family", true, t0.Add(time.Hour)),
			token(storage.KindRefreshToken, "family-2", "family", true, t0.Add(time.Hour)),
			token(storage.KindRefreshToken, "family-3", "family", false, t0.Add(time.Hour)),
			token(storage.KindAccessToken, "family-access", "family", true, t0.Add(time.Hour)),
			token(storage.KindRefreshToken, "stranger", "other-family", true, t0.Add(time.Hour)),
		} {
			must(t, "CreateToken", s.CreateToken(ctx, r))
		}
		for _, tc := range []struct {
			name      string
			kind      storage.TokenKind
			requestID string
			want      int64
		}{
			{"ok/active records of the kind", storage.KindRefreshToken, "family", 2},
			{"ok/again changes nothing", storage.KindRefreshToken, "family", 0},
			{"ok/unknown request ID", storage.KindRefreshToken, "nobody", 0},
		} {
			t.Run(tc.name, func(t *testing.T) {
				n, err := s.RevokeByRequestID(ctx, tc.kind, tc.requestID)
				must(t, "RevokeByRequestID", err)
				if n != tc.want {
					t.Errorf("RevokeByRequestID = %d, want %d", n, tc.want)
				}
			})
		}
		for sig, wantActive := range map[string]bool{"family-1": false, "family-2": false, "family-3": false, "stranger": true} {
			r, err := s.GetToken(ctx, storage.KindRefreshToken, sig)
			must(t, "GetToken", err)
			if r.Active != wantActive {
				t.Errorf("%s: Active = %v, want %v", sig, r.Active, wantActive)
			}
		}
		r, err := s.GetToken(ctx, storage.KindAccessToken, "family-access")
		must(t, "GetToken", err)
		if !r.Active {
			t.Error("RevokeByRequestID revoked a record of another kind")
		}
	})

	t.Run("DeleteExpiredTokens", func(t *testing.T) {
		cut := t0.Add(10 * 24 * time.Hour)
		for _, r := range []storage.TokenRecord{
			token(storage.KindAccessToken, "exp-before", "x", true, cut.Add(-time.Microsecond)),
			token(storage.KindAccessToken, "exp-at", "x", true, cut),
			token(storage.KindAccessToken, "exp-after", "x", false, cut.Add(time.Microsecond)),
		} {
			must(t, "CreateToken", s.CreateToken(ctx, r))
		}
		// Every token created above expires before cut except exp-at and exp-after.
		n, err := s.DeleteExpiredTokens(ctx, cut)
		must(t, "DeleteExpiredTokens", err)
		if n != 9 {
			t.Errorf("DeleteExpiredTokens = %d, want 9", n)
		}
		for sig, wantErr := range map[string]error{"exp-before": storage.ErrNotFound, "exp-at": nil, "exp-after": nil, "family-access": storage.ErrNotFound} {
			_, err := s.GetToken(ctx, storage.KindAccessToken, sig)
			checkErr(t, "GetToken "+sig, err, wantErr)
		}
		n, err = s.DeleteExpiredTokens(ctx, cut)
		must(t, "DeleteExpiredTokens", err)
		if n != 0 {
			t.Errorf("DeleteExpiredTokens again = %d, want 0", n)
		}
	})
}
