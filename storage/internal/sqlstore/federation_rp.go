package sqlstore

import "github.com/tongban/tongban/storage"

// OpenID Federation columns of clients (migration 00030), in federationArgs order.
const (
	federationColumns      = `source, trust_anchor, federation_expires_at`
	federationPlaceholders = `?, ?, ?`
	federationSet          = `source = ?, trust_anchor = ?, federation_expires_at = ?`
)

type federationRow struct {
	Source              string `db:"source"`
	TrustAnchor         string `db:"trust_anchor"`
	FederationExpiresAt int64  `db:"federation_expires_at"`
}

func (r federationRow) apply(c *storage.Client) {
	c.Source = r.Source
	c.TrustAnchor = r.TrustAnchor
	c.FederationExpiresAt = fromOptMicros(r.FederationExpiresAt)
}

func federationArgs(c storage.Client) []any {
	return []any{c.Source, c.TrustAnchor, optMicros(c.FederationExpiresAt)}
}
