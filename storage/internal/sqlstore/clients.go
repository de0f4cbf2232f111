package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/tongban/tongban/storage"
)

const clientColumns = `id, name, secret_hash, public, redirect_uris, post_logout_redirect_uris,
	grant_types, response_types, scopes, audience, id_token_signed_response_alg,
	token_endpoint_auth_method, subject_type, sector_identifier, created_at, access_token_format,
	purpose, purpose_en, ` + lifecycleColumns + `, ` + logoutColumns + `, ` + federationColumns

type clientRow struct {
	ID                       string `db:"id"`
	Name                     string `db:"name"`
	SecretHash               []byte `db:"secret_hash"`
	Public                   bool   `db:"public"`
	RedirectURIs             string `db:"redirect_uris"`
	PostLogoutRedirectURIs   string `db:"post_logout_redirect_uris"`
	GrantTypes               string `db:"grant_types"`
	ResponseTypes            string `db:"response_types"`
	Scopes                   string `db:"scopes"`
	Audience                 string `db:"audience"`
	IDTokenSignedResponseAlg string `db:"id_token_signed_response_alg"`
	TokenEndpointAuthMethod  string `db:"token_endpoint_auth_method"`
	SubjectType              string `db:"subject_type"`
	SectorIdentifier         string `db:"sector_identifier"`
	CreatedAt                int64  `db:"created_at"`
	AccessTokenFormat        string `db:"access_token_format"`
	Purpose                  string `db:"purpose"`
	PurposeEn                string `db:"purpose_en"`
	lifecycleRow
	logoutRow
	federationRow
}

func (r clientRow) client() (storage.Client, error) {
	c := storage.Client{
		ID:                       r.ID,
		Name:                     r.Name,
		SecretHash:               fromBlob(r.SecretHash),
		Public:                   r.Public,
		IDTokenSignedResponseAlg: r.IDTokenSignedResponseAlg,
		TokenEndpointAuthMethod:  r.TokenEndpointAuthMethod,
		SubjectType:              r.SubjectType,
		SectorIdentifier:         r.SectorIdentifier,
		CreatedAt:                fromMicros(r.CreatedAt),
		AccessTokenFormat:        r.AccessTokenFormat,
		Purpose:                  r.Purpose,
		PurposeEn:                r.PurposeEn,
	}
	r.lifecycleRow.apply(&c)
	r.logoutRow.apply(&c)
	r.federationRow.apply(&c)
	for _, f := range []struct {
		dst *[]string
		src string
	}{
		{&c.RedirectURIs, r.RedirectURIs},
		{&c.PostLogoutRedirectURIs, r.PostLogoutRedirectURIs},
		{&c.GrantTypes, r.GrantTypes},
		{&c.ResponseTypes, r.ResponseTypes},
		{&c.Scopes, r.Scopes},
		{&c.Audience, r.Audience},
	} {
		l, err := fromList(f.src)
		if err != nil {
			return storage.Client{}, fmt.Errorf("client %q: %w", r.ID, err)
		}
		*f.dst = l
	}
	return c, nil
}

// clientArgs are the column values of c after the ID, in clientColumns order.
func clientArgs(c storage.Client) []any {
	args := []any{c.Name, blob(c.SecretHash), c.Public, list(c.RedirectURIs),
		list(c.PostLogoutRedirectURIs), list(c.GrantTypes), list(c.ResponseTypes), list(c.Scopes),
		list(c.Audience), c.IDTokenSignedResponseAlg, c.TokenEndpointAuthMethod, c.SubjectType,
		c.SectorIdentifier, micros(c.CreatedAt), c.AccessTokenFormat,
		c.Purpose, c.PurposeEn}
	return append(append(append(args, lifecycleArgs(c)...), logoutArgs(c)...), federationArgs(c)...)
}

// CreateClient inserts c; ErrConflict when the ID exists.
func (s *Store) CreateClient(ctx context.Context, c storage.Client) error {
	_, err := s.exec(ctx, "create client", `INSERT INTO clients (`+clientColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,
		?, ?, `+lifecyclePlaceholders+`, `+logoutPlaceholders+`, `+federationPlaceholders+`)`,
		append([]any{c.ID}, clientArgs(c)...)...)
	return err
}

// GetClient returns the client or ErrNotFound.
func (s *Store) GetClient(ctx context.Context, id string) (storage.Client, error) {
	const op = "get client"
	var r clientRow
	if err := s.get(ctx, op, &r, `SELECT `+clientColumns+` FROM clients WHERE id = ?`, id); err != nil {
		return storage.Client{}, err
	}
	c, err := r.client()
	return c, s.wrap(op, err)
}

// ListClients returns all clients ordered by ID (byte order).
func (s *Store) ListClients(ctx context.Context) ([]storage.Client, error) {
	const op = "list clients"
	var rows []clientRow
	if err := s.reader(ctx).SelectContext(ctx, &rows, `SELECT `+clientColumns+` FROM clients ORDER BY id`); err != nil {
		return nil, s.wrap(op, err)
	}
	out := make([]storage.Client, 0, len(rows))
	for _, r := range rows {
		c, err := r.client()
		if err != nil {
			return nil, s.wrap(op, err)
		}
		out = append(out, c)
	}
	return out, nil
}

// UpdateClient applies fn in one transaction; ErrNotFound when missing. fn's error is
// returned as is and nothing is written. fn must not change ID, nor call the store.
func (s *Store) UpdateClient(ctx context.Context, id string, fn func(*storage.Client) error) error {
	const op = "update client"
	return s.inTx(ctx, op, func(tx *sqlx.Tx) error {
		var r clientRow
		err := tx.GetContext(ctx, &r, s.q(`SELECT `+clientColumns+` FROM clients WHERE id = ?`+s.d.ForUpdate), id)
		if errors.Is(err, sql.ErrNoRows) {
			return s.fail(op, storage.ErrNotFound)
		}
		if err != nil {
			return s.wrap(op, err)
		}
		c, err := r.client()
		if err != nil {
			return s.wrap(op, err)
		}
		if err := fn(&c); err != nil {
			return err
		}
		if c.ID != id {
			return fmt.Errorf("%s: %s: the update function changed the ID", s.d.Name, op)
		}
		_, err = tx.ExecContext(ctx, s.q(`UPDATE clients SET name = ?, secret_hash = ?, public = ?,
			redirect_uris = ?, post_logout_redirect_uris = ?, grant_types = ?, response_types = ?,
			scopes = ?, audience = ?, id_token_signed_response_alg = ?, token_endpoint_auth_method = ?,
			subject_type = ?, sector_identifier = ?, created_at = ?, access_token_format = ?,
			purpose = ?, purpose_en = ?, `+lifecycleSet+`, `+logoutSet+`, `+federationSet+` WHERE id = ?`),
			append(clientArgs(c), id)...)
		return s.wrap(op, err)
	})
}

// DeleteClient removes the client together with its tokens and consents (ON DELETE
// CASCADE); ErrNotFound when missing.
func (s *Store) DeleteClient(ctx context.Context, id string) error {
	return s.execOne(ctx, "delete client", `DELETE FROM clients WHERE id = ?`, id)
}
