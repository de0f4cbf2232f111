package storagetest

import (
	"testing"
	"time"

	"github.com/tongban/tongban/storage"
)

// testExchangePolicies checks storage.ExchangePolicies: put (insert and replace), get, list
// (one client, every client, ordered), delete, the errors, and that deleting a client deletes
// its policies.
func testExchangePolicies(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	for _, id := range []string{"svc-b", "svc-a", "svc-gone"} {
		must(t, "CreateClient", s.CreateClient(ctx, testClient(id)))
	}
	a1 := storage.ExchangePolicy{ClientID: "svc-a", Audience: "https://b.example.gov.cn/api", Scopes: []string{"openid", "profile"},
		MaxLifetime: 10 * time.Minute, CreatedAt: t0}
	a2 := storage.ExchangePolicy{ClientID: "svc-a", Audience: "https://a.example.gov.cn/api", CreatedAt: t0.Add(time.Second)}
	b1 := storage.ExchangePolicy{ClientID: "svc-b", Audience: "https://c.example.gov.cn/", Scopes: []string{"profile"}, CreatedAt: t0}
	gone := storage.ExchangePolicy{ClientID: "svc-gone", Audience: "https://b.example.gov.cn/api", CreatedAt: t0}
	want := func(p storage.ExchangePolicy) storage.ExchangePolicy {
		p.CreatedAt = stored(p.CreatedAt)
		if len(p.Scopes) == 0 {
			p.Scopes = nil
		}
		return p
	}

	for _, c := range []struct {
		name string
		p    storage.ExchangePolicy
		err  error
	}{
		{"fail/no client", storage.ExchangePolicy{Audience: "https://x"}, storage.ErrInvalidExchangePolicy},
		{"fail/no audience", storage.ExchangePolicy{ClientID: "svc-a"}, storage.ErrInvalidExchangePolicy},
		{"fail/negative lifetime", storage.ExchangePolicy{ClientID: "svc-a", Audience: "https://x", MaxLifetime: -1}, storage.ErrInvalidExchangePolicy},
		{"fail/unknown client", storage.ExchangePolicy{ClientID: "nobody", Audience: "https://x"}, storage.ErrNotFound},
	} {
		checkErr(t, "PutExchangePolicy "+c.name, s.PutExchangePolicy(ctx, c.p), c.err)
	}
	got, err := s.ListExchangePolicies(ctx, "")
	must(t, "ListExchangePolicies empty", err)
	checkEqual(t, "policies after refused puts", got, []storage.ExchangePolicy{})

	for _, p := range []storage.ExchangePolicy{b1, a1, a2, gone} {
		must(t, "PutExchangePolicy", s.PutExchangePolicy(ctx, p))
	}
	p, err := s.GetExchangePolicy(ctx, "svc-a", a1.Audience)
	must(t, "GetExchangePolicy", err)
	checkEqual(t, "policy a1", p, want(a1))
	_, err = s.GetExchangePolicy(ctx, "svc-b", a1.Audience)
	checkErr(t, "GetExchangePolicy other client's audience", err, storage.ErrNotFound)
	_, err = s.GetExchangePolicy(ctx, "svc-a", a1.Audience+"/")
	checkErr(t, "GetExchangePolicy audience not exact", err, storage.ErrNotFound)

	got, err = s.ListExchangePolicies(ctx, "svc-a")
	must(t, "ListExchangePolicies svc-a", err)
	checkEqual(t, "policies of svc-a", got, []storage.ExchangePolicy{want(a2), want(a1)})

	// Replace: scopes narrowed, lifetime changed.
	a1r := a1
	a1r.Scopes, a1r.MaxLifetime, a1r.CreatedAt = []string{"profile"}, time.Minute, t0.Add(time.Hour)
	must(t, "PutExchangePolicy replace", s.PutExchangePolicy(ctx, a1r))
	p, err = s.GetExchangePolicy(ctx, "svc-a", a1.Audience)
	must(t, "GetExchangePolicy replaced", err)
	checkEqual(t, "policy a1 replaced", p, want(a1r))

	// Deleting a client deletes its policies.
	must(t, "DeleteClient", s.DeleteClient(ctx, "svc-gone"))
	got, err = s.ListExchangePolicies(ctx, "")
	must(t, "ListExchangePolicies all", err)
	checkEqual(t, "every policy", got, []storage.ExchangePolicy{want(a2), want(a1r), want(b1)})

	must(t, "DeleteExchangePolicy", s.DeleteExchangePolicy(ctx, "svc-a", a2.Audience))
	checkErr(t, "DeleteExchangePolicy again", s.DeleteExchangePolicy(ctx, "svc-a", a2.Audience), storage.ErrNotFound)
	checkErr(t, "DeleteExchangePolicy unknown", s.DeleteExchangePolicy(ctx, "nobody", "https://x"), storage.ErrNotFound)
	got, err = s.ListExchangePolicies(ctx, "svc-a")
	must(t, "ListExchangePolicies after delete", err)
	checkEqual(t, "policies of svc-a after delete", got, []storage.ExchangePolicy{want(a1r)})
}
