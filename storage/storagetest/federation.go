package storagetest

import (
	"testing"
	"time"

	"github.com/tongban/tongban/storage"
)

// testFederation is the conformance suite of storage.Federation: subordinates, anchors,
// authority hints, issued and held trust marks round-trip, order and report conflicts and
// missing records.
func testFederation(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	b := storage.FederationSubordinate{EntityID: "https://b.example", JWKS: []byte(`{"keys":[{"kty":"EC"}]}`),
		EntityTypes:    []string{"openid_provider", "federation_entity"},
		MetadataPolicy: []byte(`{"openid_relying_party":{"grant_types":{"subset_of":["authorization_code"]}}}`),
		Constraints:    []byte(`{"max_path_length":1}`), CreatedAt: t0, UpdatedAt: t0.Add(time.Second), CreatedBy: "operator", UpdatedBy: "admin-1"}
	a := storage.FederationSubordinate{EntityID: "https://a.example", JWKS: []byte(`{"keys":[]}`), EntityTypes: []string{},
		CreatedAt: pre1970, UpdatedAt: pre1970, CreatedBy: "operator", UpdatedBy: "operator"}
	want := func(f storage.FederationSubordinate) storage.FederationSubordinate {
		f.CreatedAt, f.UpdatedAt = stored(f.CreatedAt), stored(f.UpdatedAt)
		return f
	}
	t.Run("Subordinates", func(t *testing.T) {
		checkErr(t, "create b", s.CreateFederationSubordinate(ctx, b), nil)
		checkErr(t, "create a", s.CreateFederationSubordinate(ctx, a), nil)
		checkErr(t, "create duplicate", s.CreateFederationSubordinate(ctx, a), storage.ErrConflict)
		got, err := s.GetFederationSubordinate(ctx, b.EntityID)
		must(t, "get", err)
		checkEqual(t, "subordinate", got, want(b))
		_, err = s.GetFederationSubordinate(ctx, "https://nowhere.example")
		checkErr(t, "get unknown", err, storage.ErrNotFound)
		list, err := s.ListFederationSubordinates(ctx)
		must(t, "list", err)
		checkEqual(t, "subordinates", list, []storage.FederationSubordinate{want(a), want(b)})
		checkErr(t, "delete", s.DeleteFederationSubordinate(ctx, a.EntityID), nil)
		checkErr(t, "delete again", s.DeleteFederationSubordinate(ctx, a.EntityID), storage.ErrNotFound)
		list, err = s.ListFederationSubordinates(ctx)
		must(t, "list after delete", err)
		checkEqual(t, "subordinates after delete", list, []storage.FederationSubordinate{want(b)})
	})
	t.Run("Anchors", func(t *testing.T) {
		list, err := s.ListFederationAnchors(ctx)
		must(t, "list empty", err)
		checkEqual(t, "no anchors", list, []storage.FederationAnchor{})
		n := storage.FederationAnchor{EntityID: "https://national.example", JWKS: []byte(`{"keys":[1]}`), CreatedAt: t0, CreatedBy: "operator"}
		checkErr(t, "create", s.CreateFederationAnchor(ctx, n), nil)
		checkErr(t, "create duplicate", s.CreateFederationAnchor(ctx, n), storage.ErrConflict)
		list, err = s.ListFederationAnchors(ctx)
		must(t, "list", err)
		n.CreatedAt = stored(n.CreatedAt)
		checkEqual(t, "anchors", list, []storage.FederationAnchor{n})
		checkErr(t, "delete", s.DeleteFederationAnchor(ctx, n.EntityID), nil)
		checkErr(t, "delete again", s.DeleteFederationAnchor(ctx, n.EntityID), storage.ErrNotFound)
	})
	t.Run("AuthorityHints", func(t *testing.T) {
		z := storage.FederationAuthorityHint{EntityID: "https://z.example", CreatedAt: t0, CreatedBy: "operator"}
		y := storage.FederationAuthorityHint{EntityID: "https://y.example", CreatedAt: t0.Add(time.Second), CreatedBy: "operator"}
		checkErr(t, "create z", s.CreateFederationAuthorityHint(ctx, z), nil)
		checkErr(t, "create y", s.CreateFederationAuthorityHint(ctx, y), nil)
		checkErr(t, "create duplicate", s.CreateFederationAuthorityHint(ctx, y), storage.ErrConflict)
		list, err := s.ListFederationAuthorityHints(ctx)
		must(t, "list", err)
		z.CreatedAt, y.CreatedAt = stored(z.CreatedAt), stored(y.CreatedAt)
		checkEqual(t, "hints in the order added", list, []storage.FederationAuthorityHint{z, y})
		checkErr(t, "delete", s.DeleteFederationAuthorityHint(ctx, z.EntityID), nil)
		checkErr(t, "delete again", s.DeleteFederationAuthorityHint(ctx, z.EntityID), storage.ErrNotFound)
	})
	t.Run("IssuedTrustMarks", func(t *testing.T) {
		exp := t0.Add(time.Hour)
		m1 := storage.IssuedTrustMark{ID: "tm-1", Type: "https://ta.example/tm/gov", Subject: "https://b.example", IssuedAt: t0, ExpiresAt: &exp, CreatedBy: "operator"}
		m2 := storage.IssuedTrustMark{ID: "tm-0", Type: "https://ta.example/tm/gov", Subject: "https://a.example", IssuedAt: t0, CreatedBy: "operator"}
		checkErr(t, "create m1", s.CreateIssuedTrustMark(ctx, m1), nil)
		checkErr(t, "create m2", s.CreateIssuedTrustMark(ctx, m2), nil)
		checkErr(t, "create duplicate", s.CreateIssuedTrustMark(ctx, m1), storage.ErrConflict)
		list, err := s.ListIssuedTrustMarks(ctx)
		must(t, "list", err)
		m1.IssuedAt, m2.IssuedAt, m1.ExpiresAt = stored(t0), stored(t0), storedPtr(&exp)
		checkEqual(t, "issued marks", list, []storage.IssuedTrustMark{m2, m1})
	})
	t.Run("HeldTrustMarks", func(t *testing.T) {
		h := storage.HeldTrustMark{Type: "https://ta.example/tm/gov", TrustMark: "eyJ.a.b", AddedAt: t0, AddedBy: "operator"}
		checkErr(t, "put", s.PutHeldTrustMark(ctx, h), nil)
		h.TrustMark, h.AddedAt = "eyJ.c.d", t0.Add(time.Minute)
		checkErr(t, "put replaces", s.PutHeldTrustMark(ctx, h), nil)
		list, err := s.ListHeldTrustMarks(ctx)
		must(t, "list", err)
		h.AddedAt = stored(h.AddedAt)
		checkEqual(t, "held marks", list, []storage.HeldTrustMark{h})
		checkErr(t, "delete", s.DeleteHeldTrustMark(ctx, h.Type), nil)
		checkErr(t, "delete again", s.DeleteHeldTrustMark(ctx, h.Type), storage.ErrNotFound)
	})
}
