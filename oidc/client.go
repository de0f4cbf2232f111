package oidc

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ory/fosite"

	"github.com/tongban/tongban/storage"
)

// client adapts a storage.Client to fosite.Client. It deliberately does not implement
// fosite.OpenIDConnectClient, so fosite refuses "request" and "request_uri" objects and
// private_key_jwt (tongban supports neither). As a fosite.ResponseModeClient it allows only
// response_mode=query (the default of the code flow): no fragment, no form_post.
type client struct {
	c storage.Client
}

var (
	_ fosite.Client             = (*client)(nil)
	_ fosite.ResponseModeClient = (*client)(nil)
)

func (c *client) GetResponseModes() []fosite.ResponseModeType {
	return []fosite.ResponseModeType{fosite.ResponseModeQuery}
}

func (c *client) GetID() string             { return c.c.ID }
func (c *client) GetHashedSecret() []byte   { return c.c.SecretHash }
func (c *client) GetRedirectURIs() []string { return c.c.RedirectURIs }
func (c *client) GetGrantTypes() fosite.Arguments {
	return fosite.Arguments(c.c.GrantTypes)
}
func (c *client) GetResponseTypes() fosite.Arguments {
	if len(c.c.ResponseTypes) == 0 {
		return fosite.Arguments{"code"}
	}
	return fosite.Arguments(c.c.ResponseTypes)
}
func (c *client) GetScopes() fosite.Arguments   { return fosite.Arguments(c.c.Scopes) }
func (c *client) IsPublic() bool                { return c.c.Public }
func (c *client) GetAudience() fosite.Arguments { return fosite.Arguments(c.c.Audience) }

// idTokenAlg is the client's registered id_token_signed_response_alg; RS256 when unset (OIDC
// Dynamic Client Registration §2).
func (c *client) idTokenAlg() string {
	if c.c.IDTokenSignedResponseAlg == "" {
		return AlgRS256
	}
	return c.c.IDTokenSignedResponseAlg
}

// displayName is the name shown on the consent page: the registered name or the ID.
func (c *client) displayName() string {
	if c.c.Name != "" {
		return c.c.Name
	}
	return c.c.ID
}

// clientCache keeps clients in memory for a short time: every token request authenticates a
// client and every stored grant is restored with its client, so reading storage each time
// would double the database work of the hot paths. Unknown IDs are cached too.
type clientCache struct {
	store storage.Clients
	ttl   time.Duration
	now   func() time.Time

	mu sync.RWMutex
	m  map[string]cachedClient
}

type cachedClient struct {
	c       *client // nil = not found
	fetched time.Time
}

// maxCachedClients bounds the cache (unknown IDs are attacker-chosen).
const maxCachedClients = 10000

var errClientNotFound = errors.New("oidc: client not found")

// get returns the client, or an error wrapping errClientNotFound and fosite.ErrNotFound.
func (cc *clientCache) get(ctx context.Context, id string) (*client, error) {
	now := cc.now()
	if cc.ttl > 0 {
		cc.mu.RLock()
		e, ok := cc.m[id]
		cc.mu.RUnlock()
		if ok && now.Sub(e.fetched) < cc.ttl {
			if e.c == nil {
				return nil, fmt.Errorf("%w: %w", errClientNotFound, fosite.ErrNotFound)
			}
			return e.c, nil
		}
	}
	sc, err := cc.store.GetClient(ctx, id)
	var c *client
	switch {
	case err == nil:
		c = &client{c: sc}
	case errors.Is(err, storage.ErrNotFound):
	default:
		return nil, err
	}
	if cc.ttl > 0 {
		cc.mu.Lock()
		if len(cc.m) >= maxCachedClients {
			clear(cc.m)
		}
		cc.m[id] = cachedClient{c: c, fetched: now}
		cc.mu.Unlock()
	}
	if c == nil {
		return nil, fmt.Errorf("%w: %w", errClientNotFound, fosite.ErrNotFound)
	}
	return c, nil
}
