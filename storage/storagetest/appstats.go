package storagetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tongban/tongban/storage"
)

// hourOf is the stored hour of t: its UTC hour's start.
func hourOf(t time.Time) time.Time { return t.Truncate(time.Hour).UTC() }

// counts is shorthand for the AppCounts of the cases.
func counts(logins, failures, tokens, errs int64, latencyMS float64, latencyN int64) storage.AppCounts {
	return storage.AppCounts{Logins: logins, LoginFailures: failures, Tokens: tokens, Errors: errs,
		LatencySumMillis: latencyMS, LatencyCount: latencyN}
}

// testAppStats checks storage.AppStats: upsert-adds that sum, hours truncated in UTC, reads
// since an hour, invalid deltas refused whole, concurrent adds exact, purge by hour.
func testAppStats(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	h0 := hourOf(t0) // t0 is 09:30:15 CST = 01:30:15 UTC: its hour starts at 01:00 UTC
	h1, h2 := h0.Add(time.Hour), h0.Add(2*time.Hour)

	t.Run("AddAppStats/ok/adds sum per client and hour", func(t *testing.T) {
		must(t, "AddAppStats", s.AddAppStats(ctx, []storage.AppStatDelta{
			{ClientID: "app-a", Hour: t0, AppCounts: counts(1, 2, 3, 4, 1.25, 5)},
			{ClientID: "app-a", Hour: t0.Add(20 * time.Minute), AppCounts: counts(10, 0, 1, 0, 0.5, 1)}, // same hour
			{ClientID: "app-a", Hour: h2, AppCounts: counts(0, 0, 7, 0, 0, 0)},
			{ClientID: "app-b", Hour: h0, AppCounts: counts(100, 0, 0, 0, 0, 0)},
		}))
		must(t, "AddAppStats", s.AddAppStats(ctx, []storage.AppStatDelta{
			{ClientID: "app-a", Hour: h0.In(time.FixedZone("X", -5*3600)), AppCounts: counts(1, 1, 1, 1, 0.25, 1)},
		}))
		got, err := s.AppStatsSince(ctx, "app-a", t0.Add(-time.Hour))
		must(t, "AppStatsSince", err)
		checkEqual(t, "rows of app-a", got, []storage.AppStatRow{
			{ClientID: "app-a", Hour: h0, AppCounts: counts(12, 3, 5, 5, 2, 7)},
			{ClientID: "app-a", Hour: h2, AppCounts: counts(0, 0, 7, 0, 0, 0)},
		})
		got, err = s.AppStatsSince(ctx, "app-b", h0)
		must(t, "AppStatsSince", err)
		checkEqual(t, "rows of app-b", got, []storage.AppStatRow{{ClientID: "app-b", Hour: h0, AppCounts: counts(100, 0, 0, 0, 0, 0)}})
	})
	t.Run("AppStatsSince/ok/since inside an hour includes that hour", func(t *testing.T) {
		got, err := s.AppStatsSince(ctx, "app-a", h2.Add(59*time.Minute))
		must(t, "AppStatsSince", err)
		if len(got) != 1 || !got[0].Hour.Equal(h2) {
			t.Errorf("since h2+59m: %+v, want the h2 row only", got)
		}
		got, err = s.AppStatsSince(ctx, "app-a", h1)
		must(t, "AppStatsSince", err)
		if len(got) != 1 || !got[0].Hour.Equal(h2) {
			t.Errorf("since h1: %+v, want the h2 row only", got)
		}
	})
	t.Run("AppStatsSince/ok/unknown client has no rows", func(t *testing.T) {
		got, err := s.AppStatsSince(ctx, "nobody", h0)
		must(t, "AppStatsSince", err)
		if len(got) != 0 {
			t.Errorf("rows of an unknown client: %+v", got)
		}
	})
	t.Run("AddAppStats/ok/nothing to add", func(t *testing.T) {
		must(t, "AddAppStats", s.AddAppStats(ctx, nil))
	})
	for _, tc := range []struct {
		name string
		bad  storage.AppStatDelta
	}{
		{"fail/empty client ID", storage.AppStatDelta{Hour: h0, AppCounts: counts(1, 0, 0, 0, 0, 0)}},
		{"fail/negative logins", storage.AppStatDelta{ClientID: "app-a", Hour: h0, AppCounts: counts(-1, 0, 0, 0, 0, 0)}},
		{"fail/negative latency", storage.AppStatDelta{ClientID: "app-a", Hour: h0, AppCounts: counts(0, 0, 0, 0, -1, 1)}},
	} {
		t.Run("AddAppStats/"+tc.name+" adds nothing", func(t *testing.T) {
			err := s.AddAppStats(ctx, []storage.AppStatDelta{
				{ClientID: "app-c", Hour: h0, AppCounts: counts(1, 0, 0, 0, 0, 0)}, tc.bad,
			})
			checkErr(t, "AddAppStats", err, storage.ErrInvalidAppStat)
			got, err := s.AppStatsSince(ctx, "app-c", h0)
			must(t, "AppStatsSince", err)
			if len(got) != 0 {
				t.Errorf("a refused batch added %+v", got)
			}
		})
	}
	t.Run("AddAppStats/ok/concurrent adds are exact", func(t *testing.T) {
		const n = 16
		errs := race(n, func(i int) error {
			return s.AddAppStats(ctx, []storage.AppStatDelta{
				{ClientID: "app-d", Hour: h0, AppCounts: counts(1, 0, int64(i), 0, 0.5, 1)},
				{ClientID: "app-e", Hour: h1, AppCounts: counts(0, 1, 0, 0, 0, 0)},
			})
		})
		for _, err := range errs {
			must(t, "AddAppStats", err)
		}
		checkAppHour(t, s, "app-d", h0, counts(n, 0, n*(n-1)/2, 0, n*0.5, n))
		checkAppHour(t, s, "app-e", h1, counts(0, n, 0, 0, 0, 0))
	})
	t.Run("PurgeAppStats/ok/rows of hours before go", func(t *testing.T) {
		n, err := s.PurgeAppStats(ctx, h1)
		must(t, "PurgeAppStats", err)
		if n != 3 { // app-a h0, app-b h0, app-d h0
			t.Errorf("purged %d rows, want 3", n)
		}
		got, err := s.AppStatsSince(ctx, "app-a", h0)
		must(t, "AppStatsSince", err)
		if len(got) != 1 || !got[0].Hour.Equal(h2) {
			t.Errorf("after purge: %+v, want the h2 row only", got)
		}
		n, err = s.PurgeAppStats(ctx, h1)
		must(t, "PurgeAppStats", err)
		if n != 0 {
			t.Errorf("purge again: %d rows, want 0", n)
		}
	})
}

// checkAppHour wants clientID's row of hour to hold want.
func checkAppHour(t *testing.T, s storage.Storage, clientID string, hour time.Time, want storage.AppCounts) {
	t.Helper()
	got, err := s.AppStatsSince(t.Context(), clientID, hour)
	must(t, "AppStatsSince", err)
	if len(got) == 0 || !got[0].Hour.Equal(hour) {
		t.Fatalf("%s: no row for %v: %+v", clientID, hour, got)
	}
	checkEqual(t, clientID+" at "+hour.String(), got[0].AppCounts, want)
}

// RunAppStatsReplicas checks that AppStats sums exactly when several stores on one database
// (replicas) add to the same rows at once: open must return two stores on one new, empty
// database, closed when the test ends.
func RunAppStatsReplicas(t *testing.T, open func(t *testing.T) (storage.Storage, storage.Storage)) {
	a, b := open(t)
	ctx := context.Background()
	h := hourOf(t0)
	const rounds, clients = 20, 5
	// Every round of each replica adds one login to every client in two hours, in an order
	// that differs between the replicas (b goes backwards): the store must order its upserts
	// itself, or two transactions taking the same rows in opposite orders could deadlock.
	batch := func(reverse bool, round int) []storage.AppStatDelta {
		var ds []storage.AppStatDelta
		for i := range clients {
			c := i
			if reverse {
				c = clients - 1 - i
			}
			for _, hour := range []time.Time{h, h.Add(time.Hour)} {
				ds = append(ds, storage.AppStatDelta{ClientID: fmt.Sprintf("app-%d", c), Hour: hour,
					AppCounts: counts(1, 0, int64(round), 0, 1, 1)})
			}
		}
		return ds
	}
	errs := race(2*rounds, func(i int) error {
		s, reverse := a, false
		if i%2 == 1 {
			s, reverse = b, true
		}
		return s.AddAppStats(ctx, batch(reverse, i/2)) // no deadlock: the store orders its upserts
	})
	for _, err := range errs {
		must(t, "AddAppStats", err)
	}
	for c := range clients {
		for _, hour := range []time.Time{h, h.Add(time.Hour)} {
			checkAppHour(t, a, fmt.Sprintf("app-%d", c), hour, counts(2*rounds, 0, 2*rounds*(rounds-1)/2, 0, 2*rounds, 2*rounds))
		}
	}
}
