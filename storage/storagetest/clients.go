package storagetest

import (
	"slices"
	"testing"
	"time"

	"github.com/tongban/tongban/storage"
)

func wantClient(c storage.Client) storage.Client {
	c.SecretHash = storedBytes(c.SecretHash)
	c.CreatedAt = stored(c.CreatedAt)
	return wantLifecycle(c)
}

func wantClients(cs ...storage.Client) []storage.Client {
	out := []storage.Client{}
	for _, c := range cs {
		out = append(out, wantClient(c))
	}
	return out
}

// testClient returns a client with every field set.
func testClient(id string) storage.Client {
	return storage.Client{
		ID:                       id,
		Name:                     "政务服务 " + id,
		SecretHash:               index("secret " + id),
		Public:                   false,
		RedirectURIs:             []string{"https://app.example.gov.cn/cb", "https://app.example.gov.cn/cb2"},
		PostLogoutRedirectURIs:   []string{"https://app.example.gov.cn/"},
		GrantTypes:               []string{"authorization_code", "refresh_token"},
		ResponseTypes:            []string{"code"},
		Scopes:                   []string{"openid", "profile", "id_number"},
		Audience:                 []string{"https://api.example.gov.cn"},
		IDTokenSignedResponseAlg: "SGD_SM3_SM2",
		TokenEndpointAuthMethod:  "client_secret_basic",
		SubjectType:              "pairwise",
		SectorIdentifier:         "example.gov.cn",
		CreatedAt:                t0,
		AccessTokenFormat:        "jwt",
	}
}

func testClients(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	full := testClient("beta")
	nilLists := storage.Client{ID: "Zeta", Public: true, TokenEndpointAuthMethod: "none", CreatedAt: pre1970}
	emptyLists := storage.Client{ID: "alpha", SecretHash: []byte{}, RedirectURIs: []string{}, PostLogoutRedirectURIs: []string{},
		GrantTypes: []string{}, ResponseTypes: []string{}, Scopes: []string{}, Audience: []string{}}

	t.Run("ListClients/ok/empty store", func(t *testing.T) {
		got, err := s.ListClients(ctx)
		must(t, "ListClients", err)
		if len(got) != 0 {
			t.Errorf("ListClients: %d clients, want 0", len(got))
		}
	})

	t.Run("CreateClient", func(t *testing.T) {
		for _, tc := range []struct {
			name    string
			c       storage.Client
			wantErr error
		}{
			{"ok/every field", full, nil},
			{"ok/nil lists", nilLists, nil},
			{"ok/empty lists", emptyLists, nil},
			{"fail/duplicate ID", storage.Client{ID: full.ID}, storage.ErrConflict},
		} {
			t.Run(tc.name, func(t *testing.T) {
				checkErr(t, "CreateClient", s.CreateClient(ctx, tc.c), tc.wantErr)
			})
		}
	})

	t.Run("GetClient", func(t *testing.T) {
		for _, tc := range []struct {
			name    string
			id      string
			want    storage.Client
			wantErr error
		}{
			{"ok/every field", full.ID, full, nil},
			{"ok/nil lists stay nil", nilLists.ID, nilLists, nil},
			{"ok/empty lists stay empty", emptyLists.ID, emptyLists, nil},
			{"fail/unknown", "nobody", storage.Client{}, storage.ErrNotFound},
			{"fail/IDs are case-sensitive", "ZETA", storage.Client{}, storage.ErrNotFound},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, err := s.GetClient(ctx, tc.id)
				if checkErr(t, "GetClient", err, tc.wantErr) && tc.wantErr == nil {
					checkEqual(t, "client", got, wantClient(tc.want))
				}
			})
		}
	})

	t.Run("ListClients/ok/ordered by ID in byte order", func(t *testing.T) {
		got, err := s.ListClients(ctx)
		must(t, "ListClients", err)
		checkEqual(t, "clients", got, wantClients(nilLists, emptyLists, full)) // "Zeta" < "alpha" < "beta"
	})

	t.Run("UpdateClient", func(t *testing.T) {
		changed := testClient(full.ID)
		changed.Name = "changed"
		changed.SecretHash = nil
		changed.Public = true
		changed.RedirectURIs = []string{"http://127.0.0.1/cb"}
		changed.PostLogoutRedirectURIs = nil
		changed.GrantTypes = []string{"client_credentials"}
		changed.ResponseTypes = []string{}
		changed.Scopes = []string{"openid"}
		changed.Audience = nil
		changed.IDTokenSignedResponseAlg = "ES256"
		changed.TokenEndpointAuthMethod = "none"
		changed.SubjectType = "public"
		changed.SectorIdentifier = ""
		changed.CreatedAt = t0.Add(time.Minute)
		changed.AccessTokenFormat = "opaque"
		for _, tc := range []struct {
			name    string
			id      string
			fn      func(*storage.Client) error
			want    storage.Client
			wantErr error
		}{
			{"ok/every field", full.ID, func(c *storage.Client) error { *c = changed; return nil }, changed, nil},
			{"fail/unknown client", "nobody", func(*storage.Client) error {
				t.Error("fn called for a missing client")
				return nil
			}, storage.Client{}, storage.ErrNotFound},
			{"fail/fn error rolls back", nilLists.ID, func(c *storage.Client) error {
				c.Name = "not written"
				c.Scopes = []string{"not", "written"}
				return errBoom
			}, nilLists, errBoom},
			{"fail/fn changes ID", nilLists.ID, func(c *storage.Client) error { c.ID = "other"; return nil }, nilLists, errAny},
		} {
			t.Run(tc.name, func(t *testing.T) {
				err := s.UpdateClient(ctx, tc.id, tc.fn)
				switch tc.wantErr {
				case errBoom:
					if err != errBoom {
						t.Errorf("UpdateClient returned %v, want fn's error as is", err)
					}
				case errAny:
					if err == nil {
						t.Error("UpdateClient: no error")
					}
				default:
					checkErr(t, "UpdateClient", err, tc.wantErr)
				}
				if tc.want.ID == "" {
					return
				}
				got, err := s.GetClient(ctx, tc.id)
				must(t, "GetClient", err)
				checkEqual(t, "client after update", got, wantClient(tc.want))
			})
		}
	})

	t.Run("DeleteClient", func(t *testing.T) {
		// Deleting a client deletes its tokens and consents.
		must(t, "CreateToken", s.CreateToken(ctx, storage.TokenRecord{Kind: storage.KindAccessToken, Signature: "sig",
			RequestID: "req", ClientID: emptyLists.ID, Active: true, RequestedAt: t0, ExpiresAt: t0.Add(time.Hour)}))
		must(t, "CreatePerson", s.CreatePerson(ctx, storage.Person{ID: "person", Kind: storage.NaturalPerson, IDNumberIndex: index("p")}))
		must(t, "SaveConsent", s.SaveConsent(ctx, storage.Consent{PersonID: "person", ClientID: emptyLists.ID, Scopes: []string{"openid"}, GrantedAt: t0}))
		for _, tc := range []struct {
			name    string
			id      string
			wantErr error
		}{
			{"ok/existing", emptyLists.ID, nil},
			{"fail/already deleted", emptyLists.ID, storage.ErrNotFound},
			{"fail/unknown", "nobody", storage.ErrNotFound},
		} {
			t.Run(tc.name, func(t *testing.T) {
				checkErr(t, "DeleteClient", s.DeleteClient(ctx, tc.id), tc.wantErr)
			})
		}
		_, err := s.GetClient(ctx, emptyLists.ID)
		checkErr(t, "GetClient after delete", err, storage.ErrNotFound)
		_, err = s.GetToken(ctx, storage.KindAccessToken, "sig")
		checkErr(t, "GetToken of deleted client", err, storage.ErrNotFound)
		_, err = s.GetConsent(ctx, "person", emptyLists.ID)
		checkErr(t, "GetConsent of deleted client", err, storage.ErrNotFound)
		got, err := s.ListClients(ctx)
		must(t, "ListClients", err)
		var ids []string
		for _, c := range got {
			ids = append(ids, c.ID)
		}
		if want := []string{nilLists.ID, full.ID}; !slices.Equal(ids, want) {
			t.Errorf("ListClients after delete: %q, want %q", ids, want)
		}
	})
}
