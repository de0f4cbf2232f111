package storagetest

import (
	"testing"
	"time"

	"github.com/tongban/tongban/storage"
)

// testFailureStats checks Throttle.FailureStats: the count, oldest and newest failure of a key
// in (now-window, now], without recording, for the progressive delays of package accounts.
func testFailureStats(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	const w = 10 * time.Minute
	for _, at := range []time.Time{t0, t0.Add(time.Minute), t0.Add(3 * time.Minute)} {
		_, err := s.AddFailure(ctx, "stats", at, time.Hour)
		must(t, "AddFailure", err)
	}
	_, err := s.AddFailure(ctx, "other", t0.Add(2*time.Minute), time.Hour)
	must(t, "AddFailure", err)
	for _, tc := range []struct {
		name        string
		key         string
		now         time.Time
		window      time.Duration
		want        int
		first, last time.Time
	}{
		{"ok/all three", "stats", t0.Add(5 * time.Minute), w, 3, t0, t0.Add(3 * time.Minute)},
		{"ok/window excludes its start", "stats", t0.Add(w), w, 2, t0.Add(time.Minute), t0.Add(3 * time.Minute)},
		{"ok/later ones not seen yet", "stats", t0.Add(2 * time.Minute), w, 2, t0, t0.Add(time.Minute)},
		{"ok/short window", "stats", t0.Add(3 * time.Minute), time.Minute, 1, t0.Add(3 * time.Minute), t0.Add(3 * time.Minute)},
		{"ok/keys are separate", "other", t0.Add(5 * time.Minute), w, 1, t0.Add(2 * time.Minute), t0.Add(2 * time.Minute)},
		{"ok/none in window", "stats", t0.Add(time.Hour), w, 0, time.Time{}, time.Time{}},
		{"ok/unknown key", "nobody", t0, w, 0, time.Time{}, time.Time{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, err := s.FailureStats(ctx, tc.key, tc.now, tc.window)
			must(t, "FailureStats", err)
			want := storage.FailureStats{Count: tc.want}
			if tc.want > 0 {
				want.First, want.Last = stored(tc.first), stored(tc.last)
			}
			if st.Count != want.Count || !st.First.Equal(want.First) || !st.Last.Equal(want.Last) ||
				st.First.Location() != time.UTC || st.Last.Location() != time.UTC {
				t.Errorf("FailureStats = %+v, want %+v", st, want)
			}
		})
	}
	t.Run("ok/records nothing", func(t *testing.T) {
		n, err := s.CountFailures(ctx, "stats", t0.Add(5*time.Minute), w)
		must(t, "CountFailures", err)
		if n != 3 {
			t.Errorf("CountFailures after FailureStats = %d, want 3", n)
		}
	})
	t.Run("ok/cleared", func(t *testing.T) {
		must(t, "ClearFailures", s.ClearFailures(ctx, "stats"))
		st, err := s.FailureStats(ctx, "stats", t0.Add(5*time.Minute), w)
		must(t, "FailureStats", err)
		if st != (storage.FailureStats{}) {
			t.Errorf("FailureStats after ClearFailures = %+v, want zero", st)
		}
	})
}
