package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/tongban/tongban/accounts"
	"github.com/tongban/tongban/admin"
	"github.com/tongban/tongban/audit"
	"github.com/tongban/tongban/cmd/internal/idpserver"
	"github.com/tongban/tongban/credentials"
	"github.com/tongban/tongban/keyring"
	"github.com/tongban/tongban/oidc"
	"github.com/tongban/tongban/storage"
	"github.com/tongban/tongban/wallet"
)

// seedAccounts makes the demo's accounts present at the provider, idempotently: the person
// (kept if registered), the wallet client (created, or updated to the current redirect URIs;
// its secret is replaced on every start, since only its hash is stored) and the demo app. It
// returns the wallet client's secret.
func seedAccounts(ctx context.Context, store storage.Storage, kr *keyring.Keyring, cfg idpserver.Config, walletURL string) (string, error) {
	people, err := accounts.New(accounts.Config{Store: store, Keyring: kr, PasswordParams: cfg.PasswordParams()})
	if err != nil {
		return "", fmt.Errorf("person: %w", err)
	}
	_, err = people.CreatePerson(ctx, accounts.NewPerson{
		IDNumber: demoIDNumber, Name: demoName, Phone: demoPhone, Password: []byte(demoPassword),
	})
	if err != nil && !errors.Is(err, accounts.ErrPersonExists) {
		return "", fmt.Errorf("person: %w", err)
	}

	walletClient := oidc.NewClient{
		ID: demoWalletID, Name: "电子证照 (demo wallet)",
		RedirectURIs:           []string{walletURL + "/callback"},
		PostLogoutRedirectURIs: []string{walletURL + "/"},
		Scopes:                 []string{oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeIDNumber},
		IDTokenAlg:             demoWalletAlg,
		// The wallet ends its session when the provider's session ends (wallet/web/backchannel.go).
		BackchannelLogoutURI: walletURL + "/backchannel-logout",
	}
	_, secret, err := oidc.CreateClient(ctx, store, kr, walletClient)
	if errors.Is(err, oidc.ErrClientExists) {
		secret = newSecret()
		err = store.UpdateClient(ctx, demoWalletID, func(c *storage.Client) error {
			c.RedirectURIs = walletClient.RedirectURIs
			c.PostLogoutRedirectURIs = walletClient.PostLogoutRedirectURIs
			c.Scopes = walletClient.Scopes
			c.IDTokenSignedResponseAlg = walletClient.IDTokenAlg
			c.BackchannelLogoutURI = walletClient.BackchannelLogoutURI
			c.SecretHash = kr.ClientSecretHash(secret)
			return nil
		})
	}
	if err != nil {
		return "", fmt.Errorf("wallet client: %w", err)
	}

	_, _, err = oidc.CreateClient(ctx, store, kr, oidc.NewClient{
		ID: demoAppID, Name: "示例应用 (demo app)", Public: true,
		RedirectURIs: []string{"http://127.0.0.1/callback"},
		Scopes:       []string{oidc.ScopeOpenID, oidc.ScopeProfile},
		IDTokenAlg:   oidc.AlgSM2,
	})
	if err != nil && !errors.Is(err, oidc.ErrClientExists) {
		return "", fmt.Errorf("demo app: %w", err)
	}
	if err := seedAdmin(ctx, store, kr, people); err != nil {
		return "", err
	}
	return secret, nil
}

// seedAdmin makes the admin console's demo present, idempotently: the demo operator (a
// second made-up person holding the roles operator, reviewer and auditor), a department app
// that reads resident ID cards in full after consent (一证通办, with its purpose), and an app
// of department "demo" waiting for review, as if registered through RFC 7591.
func seedAdmin(ctx context.Context, store storage.Storage, kr *keyring.Keyring, people *accounts.Service) error {
	op, err := people.CreatePerson(ctx, accounts.NewPerson{
		IDNumber: demoOperatorIDNumber, Name: demoOperatorName, Password: []byte(demoPassword),
	})
	if errors.Is(err, accounts.ErrPersonExists) {
		op, err = people.FindPerson(ctx, demoOperatorIDNumber)
	}
	if err != nil {
		return fmt.Errorf("demo operator: %w", err)
	}
	roles, err := store.ListRoles(ctx, op.ID)
	if err != nil {
		return fmt.Errorf("demo operator: %w", err)
	}
	for _, role := range []string{storage.RoleOperator, storage.RoleReviewer, storage.RoleAuditor} {
		if slices.ContainsFunc(roles, func(r storage.AdminRole) bool { return r.Role == role }) {
			continue
		}
		if err := admin.GrantRole(ctx, store, audit.Shell, time.Now(), op.ID, role, ""); err != nil {
			return fmt.Errorf("demo operator: %w", err)
		}
	}
	_, _, err = oidc.CreateClient(ctx, store, kr, oidc.NewClient{
		ID: demoLookupAppID, Name: "社保经办 (demo department app)", Public: true, Department: demoDepartment,
		RedirectURIs: []string{"http://127.0.0.1/callback"},
		Scopes:       []string{oidc.ScopeOpenID, oidc.LicenceScope(credentials.ResidentID)},
		IDTokenAlg:   oidc.AlgSM2,
		Purpose:      "办理社会保障卡补换，核对您的居民身份证信息",
		PurposeEn:    "To replace your social security card, checking your resident ID card",
	})
	if err != nil && !errors.Is(err, oidc.ErrClientExists) {
		return fmt.Errorf("demo department app: %w", err)
	}
	_, _, err = oidc.CreateClient(ctx, store, kr, oidc.NewClient{
		ID: demoPendingAppID, Name: "公积金查询 (demo, waiting for review)", Department: demoDepartment,
		RedirectURIs: []string{"https://gjj.example.gov.cn/callback"},
		IDTokenAlg:   oidc.AlgSM2,
	})
	switch {
	case errors.Is(err, oidc.ErrClientExists):
	case err != nil:
		return fmt.Errorf("demo pending app: %w", err)
	default: // as if registered through RFC 7591: it waits for a reviewer
		err = store.UpdateClient(ctx, demoPendingAppID, func(c *storage.Client) error {
			c.Status = storage.ClientPendingReview
			return nil
		})
		if err != nil {
			return fmt.Errorf("demo pending app: %w", err)
		}
	}
	return nil
}

// importLicences imports the demo licences (a re-import updates them) and returns how many
// are stored; a rejected line is an error.
func importLicences(ctx context.Context, svc *wallet.Service, licences []byte) (int, error) {
	rep, err := svc.Import(ctx, bytes.NewReader(licences), wallet.Operator)
	if err != nil {
		return 0, fmt.Errorf("licences: %w", err)
	}
	if len(rep.Rejected) > 0 {
		return 0, fmt.Errorf("licences: %d line(s) rejected, first: %v", len(rep.Rejected), rep.Rejected[0])
	}
	return len(rep.Stored), nil
}

// newSecret returns a 256-bit random client secret, base64url without padding.
func newSecret() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
