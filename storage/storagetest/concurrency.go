package storagetest

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tongban/tongban/storage"
)

// Redeemers is how many goroutines race to redeem one single-use value.
const Redeemers = 32

// race runs fn(i) for i in [0, n) in n goroutines released together, and returns the
// results by i.
func race[T any](n int, fn func(i int) T) []T {
	out := make([]T, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out[i] = fn(i)
		}()
	}
	close(start)
	wg.Wait()
	return out
}

// checkOneWinner wants exactly one nil error and ErrAlreadyUsed for all the others.
func checkOneWinner(t *testing.T, op string, errs []error) {
	t.Helper()
	winners := 0
	for _, err := range errs {
		switch {
		case err == nil:
			winners++
		case !errors.Is(err, storage.ErrAlreadyUsed):
			t.Errorf("%s: %v, want nil or ErrAlreadyUsed", op, err)
		}
	}
	if winners != 1 {
		t.Errorf("%s: %d of %d callers succeeded, want exactly 1", op, winners, len(errs))
	}
}

func testConcurrency(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	must(t, "CreateClient", s.CreateClient(ctx, testClient("client")))

	t.Run("InvalidateToken/ok/one of 32 redeemers wins", func(t *testing.T) {
		for round := range 3 {
			sig := "code-" + string(rune('a'+round))
			must(t, "CreateToken", s.CreateToken(ctx, token(storage.KindAuthorizeCode, sig, "req", true, t0.Add(time.Minute))))
			checkOneWinner(t, "InvalidateToken", race(Redeemers, func(int) error {
				return s.InvalidateToken(ctx, storage.KindAuthorizeCode, sig)
			}))
		}
	})

	t.Run("UseNonce/ok/one of 32 users wins", func(t *testing.T) {
		for round := range 3 {
			value := "cti-" + string(rune('a'+round))
			checkOneWinner(t, "UseNonce", race(Redeemers, func(int) error {
				return s.UseNonce(ctx, "qr-cti", value, t0.Add(time.Minute))
			}))
		}
	})

	t.Run("UpdatePerson/ok/no update lost", func(t *testing.T) {
		must(t, "CreatePerson", s.CreatePerson(ctx, storage.Person{ID: "counter", Kind: storage.NaturalPerson, IDNumberIndex: index("counter")}))
		const n = 16
		errs := race(n, func(i int) error {
			return s.UpdatePerson(ctx, "counter", func(p *storage.Person) error {
				p.Name += string(rune('A' + i)) // each updater appends its own letter
				return nil
			})
		})
		for _, err := range errs {
			must(t, "UpdatePerson", err)
		}
		p, err := s.GetPerson(ctx, "counter")
		must(t, "GetPerson", err)
		letters := strings.Split(p.Name, "")
		slices.Sort(letters)
		if got, want := strings.Join(letters, ""), "ABCDEFGHIJKLMNOP"; got != want {
			t.Errorf("after %d concurrent appends Name has letters %q, want %q", n, got, want)
		}
	})

	t.Run("UpdateClient/ok/no update lost", func(t *testing.T) {
		const n = 16
		errs := race(n, func(i int) error {
			return s.UpdateClient(ctx, "client", func(c *storage.Client) error {
				c.Scopes = append(c.Scopes, "scope-"+string(rune('A'+i)))
				return nil
			})
		})
		for _, err := range errs {
			must(t, "UpdateClient", err)
		}
		c, err := s.GetClient(ctx, "client")
		must(t, "GetClient", err)
		if got, want := len(c.Scopes), len(testClient("client").Scopes)+n; got != want {
			t.Errorf("after %d concurrent appends there are %d scopes, want %d", n, got, want)
		}
	})

	t.Run("UpsertLicence/ok/one of 8 creates", func(t *testing.T) {
		type result struct {
			id      string
			created bool
			err     error
		}
		results := race(8, func(i int) result {
			l := licence("", "driving-licence", "640102199003071237", "issuer", index("holder"))
			id, created, err := s.UpsertLicence(ctx, l)
			return result{id, created, err}
		})
		created := 0
		for _, r := range results {
			must(t, "UpsertLicence", r.err)
			if r.created {
				created++
			}
			if r.id != results[0].id {
				t.Errorf("UpsertLicence returned IDs %q and %q for one licence", results[0].id, r.id)
			}
		}
		if created != 1 {
			t.Errorf("%d of 8 concurrent upserts created the licence, want 1", created)
		}
	})

	t.Run("AddFailure/ok/no failure lost", func(t *testing.T) {
		const n = 16
		counts := race(n, func(int) int {
			c, err := s.AddFailure(ctx, "hammered", t0, time.Hour)
			if err != nil {
				t.Errorf("AddFailure: %v", err)
			}
			return c
		})
		if m := slices.Max(counts); m != n {
			t.Errorf("highest count of %d concurrent failures is %d (counts %v)", n, m, counts)
		}
	})

	t.Run("AppendAudit/ok/distinct rising sequence numbers", func(t *testing.T) {
		const n = 16
		type result struct {
			seq int64
			err error
		}
		results := race(n, func(i int) result {
			seq, err := s.AppendAudit(ctx, storage.AuditEvent{Time: t0, Actor: "operator", Action: "test", Subject: string(rune('A' + i))})
			return result{seq, err}
		})
		seqs := map[int64]bool{}
		for _, r := range results {
			must(t, "AppendAudit", r.err)
			seqs[r.seq] = true
		}
		if len(seqs) != n {
			t.Errorf("%d concurrent appends got %d distinct sequence numbers", n, len(seqs))
		}
		events, err := s.ListAudit(ctx, 0, 100)
		must(t, "ListAudit", err)
		if len(events) != n {
			t.Fatalf("ListAudit: %d events, want %d", len(events), n)
		}
		for i, e := range events {
			if !seqs[e.Seq] || i > 0 && e.Seq <= events[i-1].Seq {
				t.Errorf("ListAudit: event %d has Seq %d", i, e.Seq)
			}
		}
		checkChain(t, s, n)
	})
}
