package oidc

import (
	"context"
	"errors"

	"github.com/ory/fosite"

	"github.com/tongban/tongban/oidc/internal/fositeadapter"
	"github.com/tongban/tongban/storage"
)

// checkPersonActive is introspection's check that the person a token was issued for may
// still use it (issue 9, part C): a disabled or deleted person's tokens are inactive, as at
// UserInfo, even a sealed access token whose grant could not be found to revoke. nil for a
// token without a person (client credentials) and for an active person;
// fosite.ErrInactiveToken for a disabled or missing one; storage errors as they are.
func (s *Server) checkPersonActive(ctx context.Context, ar fosite.AccessRequester) error {
	sess, ok := ar.GetSession().(*fositeadapter.Session)
	if !ok || sess.PersonID == "" {
		return nil
	}
	p, err := s.store.GetPerson(ctx, sess.PersonID)
	if errors.Is(err, storage.ErrNotFound) || err == nil && p.Disabled {
		return fosite.ErrInactiveToken
	}
	return err
}
