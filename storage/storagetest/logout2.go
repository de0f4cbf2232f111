package storagetest

import (
	"testing"
	"time"

	"github.com/tongban/tongban/storage"
)

// testUpstreamLogout checks storage.UpstreamLogout (migration 00024): the upstream sid
// round-trips, and FindUpstreamSessions selects by upstream and subject, sid or both.
func testUpstreamLogout(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	must(t, "CreatePerson", s.CreatePerson(ctx, storage.Person{ID: "ul-alice", Kind: storage.NaturalPerson,
		IDNumberIndex: index("ul-alice"), CreatedAt: t0, UpdatedAt: t0}))
	for _, id := range []string{"ul-a", "ul-n"} {
		must(t, "CreateUpstream", s.CreateUpstream(ctx, storage.Upstream{ID: id, Issuer: "https://" + id + ".example",
			ClientID: "b", ClientSecretSealed: []byte("s"), Scopes: []string{"openid"}, CreatedAt: t0, UpdatedAt: t0}))
	}
	for _, us := range []storage.UpstreamSession{
		{SessionID: "ul-s1", UpstreamID: "ul-a", Subject: "sub-1", UpstreamSID: "sid-1"},
		{SessionID: "ul-s2", UpstreamID: "ul-a", Subject: "sub-1", UpstreamSID: "sid-2"},
		{SessionID: "ul-s3", UpstreamID: "ul-a", Subject: "sub-2", UpstreamSID: "sid-1"}, // a sid is only the upstream's
		{SessionID: "ul-s4", UpstreamID: "ul-n", Subject: "sub-1", UpstreamSID: "sid-1"}, // another upstream
		{SessionID: "ul-s5", UpstreamID: "ul-a", Subject: "sub-1"},                       // no sid in the ID token
	} {
		must(t, "CreateLoginSession", s.CreateLoginSession(ctx, storage.LoginSession{ID: us.SessionID, PersonID: "ul-alice",
			AuthTime: t0, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}))
		us.CreatedAt = t0
		must(t, "CreateUpstreamSession", s.CreateUpstreamSession(ctx, us))
	}
	got, err := s.GetUpstreamSession(ctx, "ul-s2")
	must(t, "GetUpstreamSession", err)
	checkEqual(t, "upstream sid", got.UpstreamSID, "sid-2")
	for _, c := range []struct {
		name, upstream, sub, sid string
		want                     []string
	}{
		{"sub", "ul-a", "sub-1", "", []string{"ul-s1", "ul-s2", "ul-s5"}},
		{"sid", "ul-a", "", "sid-1", []string{"ul-s1", "ul-s3"}},
		{"both", "ul-a", "sub-1", "sid-1", []string{"ul-s1"}},
		{"other upstream", "ul-n", "sub-1", "", []string{"ul-s4"}},
		{"none", "ul-a", "sub-9", "", []string{}},
		{"neither", "ul-a", "", "", []string{}},
	} {
		got, err := s.FindUpstreamSessions(ctx, c.upstream, c.sub, c.sid)
		must(t, "FindUpstreamSessions "+c.name, err)
		checkEqual(t, "FindUpstreamSessions "+c.name, got, c.want)
	}
	// A deleted login session is gone from the lookup (cascade).
	must(t, "DeleteLoginSession", s.DeleteLoginSession(ctx, "ul-s1"))
	got2, err := s.FindUpstreamSessions(ctx, "ul-a", "", "sid-1")
	must(t, "FindUpstreamSessions after delete", err)
	checkEqual(t, "FindUpstreamSessions after delete", got2, []string{"ul-s3"})
}
