package storagetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tongban/tongban/storage"
)

// testPeopleAdmin checks storage.PasswordResets and storage.Corrections (migration 00016).
func testPeopleAdmin(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	for _, id := range []string{"alice", "bob"} {
		must(t, "CreatePerson", s.CreatePerson(ctx, storage.Person{ID: id, Kind: storage.NaturalPerson, IDNumberIndex: index(id)}))
	}

	t.Run("PasswordResets", func(t *testing.T) {
		r1 := storage.PasswordReset{TokenHash: index("reset-1"), PersonID: "alice", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
		must(t, "PutPasswordReset", s.PutPasswordReset(ctx, r1))
		got, err := s.GetPasswordReset(ctx, r1.TokenHash, t0)
		must(t, "GetPasswordReset", err)
		checkEqual(t, "reset", got, storage.PasswordReset{TokenHash: r1.TokenHash, PersonID: "alice", CreatedAt: stored(t0), ExpiresAt: stored(t0.Add(time.Hour))})
		for _, tc := range []struct {
			name string
			hash []byte
			now  time.Time
			want error
		}{
			{"fail/unknown hash", index("nope"), t0, storage.ErrNotFound},
			{"fail/empty hash", nil, t0, storage.ErrNotFound},
			{"fail/at expiry", r1.TokenHash, t0.Add(time.Hour), storage.ErrExpired},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if _, err := s.GetPasswordReset(ctx, tc.hash, tc.now); !errors.Is(err, tc.want) {
					t.Errorf("GetPasswordReset: %v, want %v", err, tc.want)
				}
				if _, err := s.RedeemPasswordReset(ctx, tc.hash, tc.now); !errors.Is(err, tc.want) {
					t.Errorf("RedeemPasswordReset: %v, want %v", err, tc.want)
				}
			})
		}
		// A second link replaces the first.
		r2 := storage.PasswordReset{TokenHash: index("reset-2"), PersonID: "alice", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
		must(t, "PutPasswordReset", s.PutPasswordReset(ctx, r2))
		if _, err := s.GetPasswordReset(ctx, r1.TokenHash, t0); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("first link after a second: %v, want ErrNotFound", err)
		}
		if err := s.PutPasswordReset(ctx, storage.PasswordReset{TokenHash: index("reset-x"), PersonID: "nobody", CreatedAt: t0, ExpiresAt: t0}); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("PutPasswordReset for nobody: %v, want ErrNotFound", err)
		}
		// Exactly one of concurrent redeemers wins.
		const n = 8
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range errs {
			wg.Go(func() { _, errs[i] = s.RedeemPasswordReset(ctx, r2.TokenHash, t0) })
		}
		wg.Wait()
		wins := 0
		for _, err := range errs {
			switch {
			case err == nil:
				wins++
			case !errors.Is(err, storage.ErrNotFound) && !errors.Is(err, storage.ErrTxAborted):
				t.Errorf("RedeemPasswordReset (concurrent): %v", err)
			}
		}
		if wins != 1 {
			t.Errorf("concurrent redeemers: %d won, want 1", wins)
		}
		if _, err := s.RedeemPasswordReset(ctx, r2.TokenHash, t0); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("redeemed twice: %v, want ErrNotFound", err)
		}
		must(t, "PutPasswordReset", s.PutPasswordReset(ctx, storage.PasswordReset{TokenHash: index("bob-1"), PersonID: "bob", CreatedAt: t0, ExpiresAt: t0.Add(time.Minute)}))
		must(t, "PutPasswordReset", s.PutPasswordReset(ctx, storage.PasswordReset{TokenHash: index("alice-3"), PersonID: "alice", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}))
		if n, err := s.PurgePasswordResets(ctx, t0.Add(2*time.Minute)); err != nil || n != 1 {
			t.Errorf("PurgePasswordResets = %d, %v; want 1", n, err)
		}
		if n, err := s.DeletePasswordResets(ctx, "alice"); err != nil || n != 1 {
			t.Errorf("DeletePasswordResets = %d, %v; want 1", n, err)
		}
	})

	t.Run("Corrections", func(t *testing.T) {
		var all []storage.Correction
		for i := range 5 {
			person := "alice"
			if i == 4 {
				person = "bob"
			}
			c := storage.Correction{ID: fmt.Sprintf("c%d", i), PersonID: person, Target: "person", Field: "name",
				CurrentMasked: "*明", ProposedSealed: []byte(fmt.Sprintf("sealed %d", i)), Reason: "改名",
				Status: storage.CorrectionPending, FiledAt: t0.Add(time.Duration(i) * time.Minute)}
			must(t, "CreateCorrection", s.CreateCorrection(ctx, c))
			c.FiledAt = stored(c.FiledAt)
			all = append(all, c)
		}
		if err := s.CreateCorrection(ctx, all[0]); !errors.Is(err, storage.ErrConflict) {
			t.Errorf("CreateCorrection twice: %v, want ErrConflict", err)
		}
		if err := s.CreateCorrection(ctx, storage.Correction{ID: "cx", PersonID: "nobody", Status: storage.CorrectionPending, FiledAt: t0}); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("CreateCorrection for nobody: %v, want ErrNotFound", err)
		}
		got, err := s.GetCorrection(ctx, "c1")
		must(t, "GetCorrection", err)
		checkEqual(t, "correction", got, all[1])
		if _, err := s.GetCorrection(ctx, "nope"); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("GetCorrection(nope): %v, want ErrNotFound", err)
		}
		if n, err := s.CountPendingCorrections(ctx, "alice"); err != nil || n != 4 {
			t.Errorf("CountPendingCorrections = %d, %v; want 4", n, err)
		}

		at := t0.Add(time.Hour)
		must(t, "DecideCorrection", s.DecideCorrection(ctx, "c1", storage.CorrectionApplied, at, "operator", "checked papers"))
		must(t, "DecideCorrection", s.DecideCorrection(ctx, "c2", storage.CorrectionRejected, at, "op-2", "no proof"))
		for _, tc := range []struct {
			name string
			id   string
			want error
		}{
			{"fail/decided already", "c1", storage.ErrAlreadyUsed},
			{"fail/unknown", "nope", storage.ErrNotFound},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if err := s.DecideCorrection(ctx, tc.id, storage.CorrectionRejected, at, "x", "y"); !errors.Is(err, tc.want) {
					t.Errorf("DecideCorrection: %v, want %v", err, tc.want)
				}
			})
		}
		all[1].Status, all[1].DecidedAt, all[1].DecidedBy, all[1].DecisionNote = storage.CorrectionApplied, stored(at), "operator", "checked papers"
		all[2].Status, all[2].DecidedAt, all[2].DecidedBy, all[2].DecisionNote = storage.CorrectionRejected, stored(at), "op-2", "no proof"

		for _, tc := range []struct {
			name string
			q    storage.CorrectionQuery
			want []storage.Correction
		}{
			{"ok/all newest first", storage.CorrectionQuery{Limit: 10}, []storage.Correction{all[4], all[3], all[2], all[1], all[0]}},
			{"ok/pending", storage.CorrectionQuery{Status: storage.CorrectionPending, Limit: 10}, []storage.Correction{all[4], all[3], all[0]}},
			{"ok/pending oldest first", storage.CorrectionQuery{Status: storage.CorrectionPending, Limit: 10, OldestFirst: true}, []storage.Correction{all[0], all[3], all[4]}},
			{"ok/oldest first page 2", storage.CorrectionQuery{PersonID: "alice", Offset: 1, Limit: 2, OldestFirst: true}, []storage.Correction{all[1], all[2]}},
			{"ok/person", storage.CorrectionQuery{PersonID: "alice", Limit: 10}, []storage.Correction{all[3], all[2], all[1], all[0]}},
			{"ok/page 2", storage.CorrectionQuery{PersonID: "alice", Offset: 2, Limit: 1}, []storage.Correction{all[1]}},
			{"ok/person and status", storage.CorrectionQuery{PersonID: "alice", Status: storage.CorrectionApplied, Limit: 10}, []storage.Correction{all[1]}},
			{"ok/none is empty", storage.CorrectionQuery{PersonID: "carol", Limit: 10}, []storage.Correction{}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, err := s.ListCorrections(ctx, tc.q)
				must(t, "ListCorrections", err)
				checkEqual(t, "corrections", got, tc.want)
			})
		}
		if _, err := s.ListCorrections(ctx, storage.CorrectionQuery{}); err == nil {
			t.Error("ListCorrections without a limit: no error")
		}
		// Exactly one of concurrent deciders wins.
		const n = 8
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range errs {
			wg.Go(func() { errs[i] = s.DecideCorrection(ctx, "c3", storage.CorrectionApplied, at, "operator", "") })
		}
		wg.Wait()
		wins := 0
		for _, err := range errs {
			switch {
			case err == nil:
				wins++
			case !errors.Is(err, storage.ErrAlreadyUsed) && !errors.Is(err, storage.ErrTxAborted):
				t.Errorf("DecideCorrection (concurrent): %v", err)
			}
		}
		if wins != 1 {
			t.Errorf("concurrent deciders: %d won, want 1", wins)
		}
	})
}
