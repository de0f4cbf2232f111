package idpserver

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/tongban/tongban/accounts"
	"github.com/tongban/tongban/admin"
	"github.com/tongban/tongban/oidc"
	"github.com/tongban/tongban/storage"
)

// TestAdminErrMapsEveryNamedError: every named error of the app lifecycle and of people
// administration the console can meet answers with its admin sentinel (409 or 400, never 500),
// keeps its message without the package prefix, and unknown errors pass unchanged.
func TestAdminErrMapsEveryNamedError(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want error
	}{
		{oidc.ErrInvalidTransition, admin.ErrConflict},
		{oidc.ErrClientNotPendingReview, admin.ErrConflict},
		{oidc.ErrClientRetired, admin.ErrConflict},
		{oidc.ErrClientExists, admin.ErrConflict},
		{oidc.ErrInvalidAuthMethod, admin.ErrConflict},
		{accounts.ErrCorrectionDecided, admin.ErrConflict},
		{accounts.ErrPersonDisabled, admin.ErrConflict},
		{accounts.ErrAccountClosed, admin.ErrConflict},
		{accounts.ErrPersonExists, admin.ErrConflict},
		{accounts.ErrCorrectionTarget, admin.ErrConflict},
		{oidc.ErrReasonRequired, admin.ErrInvalid},
		{oidc.ErrInvalidOverlap, admin.ErrInvalid},
		{oidc.ErrInvalidDepartment, admin.ErrInvalid},
		{oidc.ErrInvalidTTL, admin.ErrInvalid},
		{oidc.ErrInvalidLogoURI, admin.ErrInvalid},
		{oidc.ErrInvalidJWKS, admin.ErrInvalid},
		{oidc.ErrInvalidClientID, admin.ErrInvalid},
		{oidc.ErrInvalidRedirectURI, admin.ErrInvalid},
		{oidc.ErrInvalidGrantType, admin.ErrInvalid},
		{oidc.ErrInvalidScope, admin.ErrInvalid},
		{oidc.ErrInvalidAlgorithm, admin.ErrInvalid},
		{oidc.ErrInvalidSubjectType, admin.ErrInvalid},
		{oidc.ErrInvalidAccessTokenFormat, admin.ErrInvalid},
		{oidc.ErrInvalidClientName, admin.ErrInvalid},
		{oidc.ErrInvalidPurpose, admin.ErrInvalid},
		{accounts.ErrReasonRequired, admin.ErrInvalid},
		{accounts.ErrInvalidReason, admin.ErrInvalid},
		{accounts.ErrInvalidTTL, admin.ErrInvalid},
		{accounts.ErrCorrectionValue, admin.ErrInvalid},
		{accounts.ErrCorrectionField, admin.ErrInvalid},
		{storage.ErrNotFound, admin.ErrNotFound},
		{accounts.ErrPersonNotFound, admin.ErrNotFound},
		{accounts.ErrCorrectionNotFound, admin.ErrNotFound},
		{accounts.ErrResetLinkOff, admin.ErrUnavailable},
	} {
		t.Run(tc.err.Error(), func(t *testing.T) {
			wrapped := fmt.Errorf("%w: %q is rejected", tc.err, "app-x")
			got := adminErr(wrapped)
			if !errors.Is(got, tc.want) {
				t.Fatalf("adminErr(%v) = %v, want %v", wrapped, got, tc.want)
			}
			if tc.want == admin.ErrConflict || tc.want == admin.ErrInvalid {
				msg := strings.TrimPrefix(got.Error(), tc.want.Error()+": ")
				if strings.HasPrefix(msg, "oidc: ") || strings.HasPrefix(msg, "accounts: ") || !strings.HasSuffix(msg, `"app-x" is rejected`) {
					t.Errorf("message %q", got)
				}
			}
		})
	}
	boom := errors.New("disk on fire")
	if got := adminErr(boom); got != boom {
		t.Errorf("an unknown error became %v", got)
	}
	if adminErr(nil) != nil {
		t.Errorf("nil became an error")
	}
}

// TestAdminErrListsCoverOIDCLifecycleErrors fails when oidc gains an exported error of the app
// lifecycle (errors.go) that adminErr does not map: every oidc Err* except the configuration
// error must be in adminConflicts or adminInvalids.
func TestAdminErrListsCoverOIDCLifecycleErrors(t *testing.T) {
	known := append(append([]error{}, adminConflicts...), adminInvalids...)
	for _, e := range []error{oidc.ErrInvalidTransition, oidc.ErrClientNotPendingReview, oidc.ErrClientRetired, oidc.ErrReasonRequired,
		oidc.ErrInvalidOverlap, oidc.ErrInvalidDepartment, oidc.ErrInvalidTTL, oidc.ErrInvalidLogoURI, oidc.ErrInvalidJWKS} {
		found := false
		for _, k := range known {
			found = found || k == e
		}
		if !found {
			t.Errorf("%v is not mapped", e)
		}
	}
}

// TestIATLimitsMatchOIDC: the console issues initial access tokens with oidc's limits (the same
// as `idp clients iat`).
func TestIATLimitsMatchOIDC(t *testing.T) {
	if admin.DefaultIATLifetime != oidc.DefaultInitialAccessTokenTTL || admin.MaxIATLifetime != oidc.MaxInitialAccessTokenTTL {
		t.Errorf("admin %s/%s, oidc %s/%s", admin.DefaultIATLifetime, admin.MaxIATLifetime, oidc.DefaultInitialAccessTokenTTL, oidc.MaxInitialAccessTokenTTL)
	}
}
