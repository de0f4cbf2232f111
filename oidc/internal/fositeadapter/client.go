package fositeadapter

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ory/fosite"

	"github.com/tongban/tongban/keyring"
	"github.com/tongban/tongban/storage"
)

// Client adapts a storage.Client to fosite.Client. It deliberately does not implement
// fosite.OpenIDConnectClient, so fosite refuses "request" and "request_uri" objects and
// private_key_jwt (tongban supports neither). As a fosite.ResponseModeClient it allows only
// response_mode=query (the default of the code flow): no fragment, no form_post.
type Client struct {
	// Registration is the client as registered (oidc.CreateClient). Read only: a Client is
	// shared by every request until the cache refetches it.
	Registration storage.Client
}

var (
	_ fosite.Client             = (*Client)(nil)
	_ fosite.ResponseModeClient = (*Client)(nil)
)

func (c *Client) GetResponseModes() []fosite.ResponseModeType {
	return []fosite.ResponseModeType{fosite.ResponseModeQuery}
}

func (c *Client) GetID() string             { return c.Registration.ID }
func (c *Client) GetHashedSecret() []byte   { return c.Registration.SecretHash }
func (c *Client) GetRedirectURIs() []string { return c.Registration.RedirectURIs }
func (c *Client) GetGrantTypes() fosite.Arguments {
	return fosite.Arguments(c.Registration.GrantTypes)
}
func (c *Client) GetResponseTypes() fosite.Arguments {
	if len(c.Registration.ResponseTypes) == 0 {
		return fosite.Arguments{"code"}
	}
	return fosite.Arguments(c.Registration.ResponseTypes)
}
func (c *Client) GetScopes() fosite.Arguments   { return fosite.Arguments(c.Registration.Scopes) }
func (c *Client) IsPublic() bool                { return c.Registration.Public }
func (c *Client) GetAudience() fosite.Arguments { return fosite.Arguments(c.Registration.Audience) }

// IDTokenAlg is the client's registered id_token_signed_response_alg; RS256 when unset (OIDC
// Dynamic Client Registration §2).
func (c *Client) IDTokenAlg() string {
	if c.Registration.IDTokenSignedResponseAlg == "" {
		return keyring.AlgRS256
	}
	return c.Registration.IDTokenSignedResponseAlg
}

// DisplayName is the name shown on the login and consent pages: the registered name or the ID.
func (c *Client) DisplayName() string {
	if c.Registration.Name != "" {
		return c.Registration.Name
	}
	return c.Registration.ID
}

// ClientCache keeps clients in memory for a short time: every token request authenticates a
// client and every stored grant is restored with its client, so reading storage each time
// would double the database work of the hot paths. Unknown IDs are cached too.
type ClientCache struct {
	store storage.Clients
	ttl   time.Duration
	now   func() time.Time

	mu sync.RWMutex
	m  map[string]cachedClient
}

// NewClientCache returns a cache of store's clients that rereads a client after ttl (zero or
// negative: every time), by the clock now.
func NewClientCache(store storage.Clients, ttl time.Duration, now func() time.Time) *ClientCache {
	return &ClientCache{store: store, ttl: ttl, now: now, m: map[string]cachedClient{}}
}

type cachedClient struct {
	c       *Client // nil = not found
	fetched time.Time
}

// Forget drops id from the cache, so that the next Get reads storage: for changes made
// through this process (the admin console, RFC 7592), which then apply at once rather than
// after the TTL. Other replicas still see them within the TTL.
func (cc *ClientCache) Forget(id string) {
	cc.mu.Lock()
	delete(cc.m, id)
	cc.mu.Unlock()
}

// maxCachedClients bounds the cache (unknown IDs are attacker-chosen).
const maxCachedClients = 10000

// ErrClientNotFound: no client is registered with the ID asked for.
var ErrClientNotFound = errors.New("oidc: client not found")

// Get returns the client, or an error wrapping ErrClientNotFound and fosite.ErrNotFound, or
// a storage error.
func (cc *ClientCache) Get(ctx context.Context, id string) (*Client, error) {
	now := cc.now()
	if cc.ttl > 0 {
		cc.mu.RLock()
		e, ok := cc.m[id]
		cc.mu.RUnlock()
		if ok && now.Sub(e.fetched) < cc.ttl {
			if e.c == nil {
				return nil, fmt.Errorf("%w: %w", ErrClientNotFound, fosite.ErrNotFound)
			}
			return e.c, nil
		}
	}
	sc, err := cc.store.GetClient(ctx, id)
	var c *Client
	switch {
	case err == nil:
		c = &Client{Registration: sc}
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
		return nil, fmt.Errorf("%w: %w", ErrClientNotFound, fosite.ErrNotFound)
	}
	return c, nil
}
