package storagetest

import (
	"testing"
	"time"

	"github.com/tongban/tongban/storage"
)

func wantUpstream(u storage.Upstream) storage.Upstream {
	u.CreatedAt, u.UpdatedAt = stored(u.CreatedAt), stored(u.UpdatedAt)
	u.ClientSecretSealed = storedBytes(u.ClientSecretSealed)
	if len(u.ACRMap) == 0 {
		u.ACRMap = nil
	}
	return u
}

func wantLink(l storage.UpstreamLink) storage.UpstreamLink {
	l.CreatedAt, l.LastUsedAt = stored(l.CreatedAt), stored(l.LastUsedAt)
	return l
}

// testUpstreams is the conformance suite of storage.Upstreams: upstream providers and links.
func testUpstreams(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	for _, id := range []string{"up-alice", "up-bob"} {
		must(t, "CreatePerson", s.CreatePerson(ctx, storage.Person{ID: id, Kind: storage.NaturalPerson, IDNumberIndex: index(id),
			CreatedAt: t0, UpdatedAt: t0}))
	}
	a := storage.Upstream{ID: "province-a", Issuer: "https://a.example", ClientID: "b-at-a",
		ClientSecretSealed: []byte("sealed"), Scopes: []string{"openid", "profile", "idnumber"},
		IDNumberClaim: "id_number", TrustedIDNumbers: true, AllowJIT: true, SilentSSO: true,
		ACRMap: map[string]string{"urn:a:mfa": "urn:tongban:acr:mfa"}, LabelZH: "甲省", LabelEN: "Province A",
		CreatedAt: t0, UpdatedAt: t0.Add(time.Second)}
	national := storage.Upstream{ID: "national", Issuer: "https://n.example", ClientID: "b", ClientSecretSealed: []byte("s2"),
		Scopes: []string{"openid"}, LabelZH: "国家平台", LabelEN: "National", CreatedAt: pre1970, UpdatedAt: pre1970}

	t.Run("CreateUpstream", func(t *testing.T) {
		checkErr(t, "CreateUpstream", s.CreateUpstream(ctx, a), nil)
		checkErr(t, "CreateUpstream", s.CreateUpstream(ctx, national), nil)
		checkErr(t, "CreateUpstream duplicate", s.CreateUpstream(ctx, storage.Upstream{ID: a.ID, ClientSecretSealed: []byte("x"), Scopes: []string{"openid"}, CreatedAt: t0, UpdatedAt: t0}), storage.ErrConflict)
	})
	t.Run("GetUpstream", func(t *testing.T) {
		got, err := s.GetUpstream(ctx, a.ID)
		must(t, "GetUpstream", err)
		checkEqual(t, "upstream", got, wantUpstream(a))
		got, err = s.GetUpstream(ctx, national.ID)
		must(t, "GetUpstream", err)
		checkEqual(t, "upstream without acr map", got, wantUpstream(national))
		_, err = s.GetUpstream(ctx, "nowhere")
		checkErr(t, "GetUpstream unknown", err, storage.ErrNotFound)
	})
	t.Run("ListUpstreams", func(t *testing.T) {
		got, err := s.ListUpstreams(ctx)
		must(t, "ListUpstreams", err)
		checkEqual(t, "upstreams", got, []storage.Upstream{wantUpstream(national), wantUpstream(a)})
	})
	l1 := storage.UpstreamLink{UpstreamID: a.ID, Subject: "sub-1", PersonID: "up-alice", CreatedAt: t0, LastUsedAt: t0}
	l2 := storage.UpstreamLink{UpstreamID: national.ID, Subject: "sub-1", PersonID: "up-alice", CreatedAt: pre1970, LastUsedAt: pre1970}
	t.Run("CreateUpstreamLink", func(t *testing.T) {
		for _, tc := range []struct {
			name    string
			l       storage.UpstreamLink
			wantErr error
		}{
			{"ok/a", l1, nil},
			{"ok/same subject at another upstream", l2, nil},
			{"fail/subject linked already", storage.UpstreamLink{UpstreamID: a.ID, Subject: "sub-1", PersonID: "up-bob", CreatedAt: t0}, storage.ErrConflict},
			{"fail/unknown upstream", storage.UpstreamLink{UpstreamID: "nowhere", Subject: "x", PersonID: "up-bob", CreatedAt: t0}, storage.ErrNotFound},
			{"fail/unknown person", storage.UpstreamLink{UpstreamID: a.ID, Subject: "x", PersonID: "nobody", CreatedAt: t0}, storage.ErrNotFound},
		} {
			t.Run(tc.name, func(t *testing.T) {
				checkErr(t, "CreateUpstreamLink", s.CreateUpstreamLink(ctx, tc.l), tc.wantErr)
			})
		}
	})
	t.Run("GetListTouch", func(t *testing.T) {
		got, err := s.GetUpstreamLink(ctx, a.ID, "sub-1")
		must(t, "GetUpstreamLink", err)
		checkEqual(t, "link", got, wantLink(l1))
		_, err = s.GetUpstreamLink(ctx, a.ID, "SUB-1")
		checkErr(t, "GetUpstreamLink case differs", err, storage.ErrNotFound)
		must(t, "TouchUpstreamLink", s.TouchUpstreamLink(ctx, a.ID, "sub-1", t0.Add(time.Hour)))
		checkErr(t, "TouchUpstreamLink unknown", s.TouchUpstreamLink(ctx, a.ID, "nobody", t0), storage.ErrNotFound)
		list, err := s.ListUpstreamLinks(ctx, "up-alice")
		must(t, "ListUpstreamLinks", err)
		touched := l1
		touched.LastUsedAt = t0.Add(time.Hour)
		checkEqual(t, "links", list, []storage.UpstreamLink{wantLink(l2), wantLink(touched)})
		list, err = s.ListUpstreamLinks(ctx, "up-bob")
		must(t, "ListUpstreamLinks", err)
		checkEqual(t, "no links", len(list), 0)
	})
	t.Run("UpstreamSessions", func(t *testing.T) {
		must(t, "CreateLoginSession", s.CreateLoginSession(ctx, storage.LoginSession{ID: "up-sess", PersonID: "up-alice",
			AuthTime: t0, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}))
		us := storage.UpstreamSession{SessionID: "up-sess", UpstreamID: a.ID, Subject: "sub-1", UpstreamSID: "a-sid-1", CreatedAt: t0}
		must(t, "CreateUpstreamSession", s.CreateUpstreamSession(ctx, us))
		checkErr(t, "CreateUpstreamSession twice", s.CreateUpstreamSession(ctx, us), storage.ErrConflict)
		checkErr(t, "CreateUpstreamSession unknown session", s.CreateUpstreamSession(ctx,
			storage.UpstreamSession{SessionID: "nosuch", UpstreamID: a.ID, Subject: "x", CreatedAt: t0}), storage.ErrNotFound)
		got, err := s.GetUpstreamSession(ctx, "up-sess")
		must(t, "GetUpstreamSession", err)
		us.CreatedAt = stored(us.CreatedAt)
		checkEqual(t, "upstream session", got, us)
		_, err = s.GetUpstreamSession(ctx, "nosuch")
		checkErr(t, "GetUpstreamSession unknown", err, storage.ErrNotFound)
	})
	t.Run("Delete", func(t *testing.T) {
		must(t, "DeleteUpstreamLink", s.DeleteUpstreamLink(ctx, national.ID, "sub-1"))
		checkErr(t, "DeleteUpstreamLink twice", s.DeleteUpstreamLink(ctx, national.ID, "sub-1"), storage.ErrNotFound)
		must(t, "DeleteUpstream", s.DeleteUpstream(ctx, a.ID))
		checkErr(t, "DeleteUpstream twice", s.DeleteUpstream(ctx, a.ID), storage.ErrNotFound)
		_, err := s.GetUpstreamLink(ctx, a.ID, "sub-1")
		checkErr(t, "link of a deleted upstream", err, storage.ErrNotFound)
		_, err = s.GetUpstreamSession(ctx, "up-sess")
		checkErr(t, "session record of a deleted upstream", err, storage.ErrNotFound)
	})
}
