package oidc

import (
	"context"
	"errors"
	"fmt"

	"github.com/tongban/tongban/audit"
	"github.com/tongban/tongban/internal/httpkit"
	"github.com/tongban/tongban/keyring"
	"github.com/tongban/tongban/storage"
)

// RegisterClient registers an app for review, as a department administrator does in the
// admin console: nc is validated exactly as CreateClient validates it (same defaults, same
// errors), and nc.Department is required; the app is stored as pending_review — it logs
// nobody in and gets no tokens until ApproveClient publishes it — and the actor's
// client.register entry (detail "department=D status=pending_review") is written in the same
// transaction. A confidential app's secret (256 random bits, base64url, 43 characters) is
// returned once and stored only as keyring.ClientSecretHash; a public or private_key_jwt
// app's is "".
//
// Errors: ErrInvalidDepartment when nc.Department is empty or not a department code; the
// validation errors of CreateClient, joined; ErrClientExists when the ID is taken; storage
// errors.
func RegisterClient(ctx context.Context, store storage.Storage, kr *keyring.Keyring, actor audit.Actor, nc NewClient) (storage.Client, string, error) {
	var problems []error
	if nc.Department == "" {
		problems = append(problems, fmt.Errorf("%w: an app registered for review needs its department", ErrInvalidDepartment))
	}
	c, more := buildClient(nc)
	if problems = append(problems, more...); len(problems) > 0 {
		return storage.Client{}, "", errors.Join(problems...)
	}
	secret := ""
	if !c.Public && c.TokenEndpointAuthMethod != AuthPrivateKeyJWT {
		secret = httpkit.RandomString(32)
		c.SecretHash = kr.ClientSecretHash(secret)
	}
	now := timeNow().UTC()
	c.Status = storage.ClientPendingReview
	c.CreatedAt, c.UpdatedAt = now, now
	err := store.InTx(ctx, func(ctx context.Context) error {
		if err := store.CreateClient(ctx, c); err != nil {
			if errors.Is(err, storage.ErrConflict) {
				return fmt.Errorf("%w: %q", ErrClientExists, c.ID)
			}
			return err
		}
		return actor.Record(ctx, store, now, actionRegister, c.ID, c.ID, "department="+c.Department+" status="+storage.ClientPendingReview)
	})
	if err != nil {
		return storage.Client{}, "", err
	}
	return c, secret, nil
}
