package oidc

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tongban/tongban/storage"
)

// Per-app monitoring (issue 9, docs/design/app-management.md part D).
//
// Two views of the same events, counted at the same places:
//
//   - Prometheus series labelled by client (metrics.go): cheap, per process, bounded to
//     Config.MetricClients label values (later apps are summed under "_other");
//   - hourly counts per app in storage (storage.AppStats), exact for every app and summed
//     across replicas: each process accumulates them in memory (appStatsAccumulator) and
//     adds them to the database every Config.AppStatsFlushInterval with one upsert-add per
//     (app, hour). The console's "last 24 hours" page reads them with Server.AppStats.
//
// Only registered clients are counted under their ID: a client ID is taken from fosite's
// client (looked up in storage, and authenticated at the token endpoint) or from the pending
// authorization request (MACed by the provider, made after the client was looked up) and,
// on the login paths, checked against the client cache once more. Anything else — an
// unknown or unauthenticated client_id sent from the network — counts under no client.

// Defaults of the per-app monitoring settings of Config.
const (
	DefaultMetricClients         = 200
	DefaultAppStatsFlushInterval = 10 * time.Second
	DefaultAppStatsRetention     = 31 * 24 * time.Hour
	// MaxAppStatsHours bounds the hours one Server.AppStats call returns (31 days).
	MaxAppStatsHours = 31 * 24
)

// maxPendingAppStats bounds the (app, hour) entries an accumulator holds while the database
// refuses its flushes (10,000 apps for 12 hours); counts of entries beyond it are dropped, and
// the drop logged.
const maxPendingAppStats = 120_000

// appStatsDefaults fills the per-app monitoring fields of c (called by Config.withDefaults).
func appStatsDefaults(c *Config, problems *[]string) {
	if c.MetricClients == 0 {
		c.MetricClients = DefaultMetricClients
	}
	if c.AppStatsFlushInterval == 0 {
		c.AppStatsFlushInterval = DefaultAppStatsFlushInterval
	}
	if c.AppStatsRetention == 0 {
		c.AppStatsRetention = DefaultAppStatsRetention
	}
	if c.MetricClients < 0 || c.AppStatsFlushInterval < 0 || c.AppStatsRetention < 0 {
		*problems = append(*problems, "MetricClients, AppStatsFlushInterval and AppStatsRetention must not be negative")
	}
}

// appStatKey names one accumulated row: an app and the Unix hour (seconds / 3600) its counts
// belong to.
type appStatKey struct {
	client string
	hour   int64
}

// appStatsAccumulator sums per-app hourly counts in memory until they are flushed.
type appStatsAccumulator struct {
	mu      sync.Mutex
	m       map[appStatKey]*storage.AppCounts
	dropped int64 // counts of entries refused for maxPendingAppStats since the last flush
}

// add adds c to client's counts of the hour at falls in.
func (a *appStatsAccumulator) add(client string, at time.Time, c storage.AppCounts) {
	k := appStatKey{client: client, hour: at.Truncate(time.Hour).Unix() / 3600}
	a.mu.Lock()
	defer a.mu.Unlock()
	if p, ok := a.m[k]; ok {
		*p = p.Add(c)
		return
	}
	if a.m == nil {
		a.m = map[appStatKey]*storage.AppCounts{}
	}
	if len(a.m) >= maxPendingAppStats {
		a.dropped++
		return
	}
	v := c
	a.m[k] = &v
}

// take empties the accumulator and returns what it held, in (client, hour) order, and how
// many additions were dropped since the last take.
func (a *appStatsAccumulator) take() ([]storage.AppStatDelta, int64) {
	a.mu.Lock()
	m, dropped := a.m, a.dropped
	a.m, a.dropped = nil, 0
	a.mu.Unlock()
	out := make([]storage.AppStatDelta, 0, len(m))
	for k, c := range m {
		out = append(out, storage.AppStatDelta{ClientID: k.client, Hour: time.Unix(k.hour*3600, 0).UTC(), AppCounts: *c})
	}
	slices.SortFunc(out, func(x, y storage.AppStatDelta) int {
		return cmp.Or(strings.Compare(x.ClientID, y.ClientID), x.Hour.Compare(y.Hour))
	})
	return out, dropped
}

// putBack adds deltas that could not be stored back into the accumulator, so the next flush
// stores them with whatever was counted meanwhile: a failed flush loses nothing.
func (a *appStatsAccumulator) putBack(deltas []storage.AppStatDelta) {
	for _, d := range deltas {
		a.add(d.ClientID, d.Hour, d.AppCounts)
	}
}

// FlushAppStats adds the per-app counts accumulated since the last flush to storage
// (storage.AppStats.AddAppStats: one upsert-add per app and hour, in one transaction). When
// the database refuses them they are kept for the next flush and the error is returned
// (wrapping the storage error, e.g. storage.ErrUnavailable). StartAppStats calls it
// periodically and once more when stopped; tests call it to see their counts in storage.
func (s *Server) FlushAppStats(ctx context.Context) error {
	deltas, dropped := s.stats.take()
	if dropped > 0 {
		s.log.WarnContext(ctx, "app statistics dropped: too many unflushed (app, hour) entries",
			"dropped", dropped, "limit", maxPendingAppStats)
	}
	if len(deltas) == 0 {
		return nil
	}
	if err := s.store.AddAppStats(ctx, deltas); err != nil {
		s.stats.putBack(deltas)
		return fmt.Errorf("oidc: flush app stats: %w", err)
	}
	return nil
}

// StartAppStats runs FlushAppStats every Config.AppStatsFlushInterval in the background
// until ctx ends or stop is called; stop waits for the loop to end and flushes once more
// (with up to 10 seconds, even when ctx has ended), so a graceful shutdown loses no counts.
// Call stop after the HTTP server has drained its requests and before storage is closed.
// Failed flushes are logged (at warn; the counts wait for the next one).
func (s *Server) StartAppStats(ctx context.Context) (stop func()) {
	loop, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(s.cfg.AppStatsFlushInterval)
		defer t.Stop()
		for {
			select {
			case <-loop.Done():
				return
			case <-t.C:
			}
			if err := s.FlushAppStats(loop); err != nil && loop.Err() == nil {
				s.log.WarnContext(loop, "app statistics not stored yet", "err", err.Error())
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			cancel()
			<-done
			fctx, fcancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer fcancel()
			if err := s.FlushAppStats(fctx); err != nil {
				s.log.ErrorContext(fctx, "app statistics lost at shutdown", "err", err.Error())
			}
		})
	}
}

// AppHour is one app's figures for one UTC hour (the console's "last 24 hours" page).
type AppHour struct {
	Hour time.Time // start of the hour, UTC
	// Logins, LoginFailures, Tokens and Errors count the hour's events for the app, summed
	// over every replica; LatencySumMillis / LatencyCount is the mean token-endpoint time.
	storage.AppCounts
}

// MeanTokenLatency is the hour's mean server time of the app's token requests (0 without any).
func (h AppHour) MeanTokenLatency() time.Duration {
	if h.LatencyCount == 0 {
		return 0
	}
	return time.Duration(h.LatencySumMillis / float64(h.LatencyCount) * float64(time.Millisecond))
}

// AppStats returns clientID's figures for every UTC hour from the one since falls in to the
// current one (Config.Now), oldest first, one entry per hour with zeros where nothing was
// stored: for the last 24 hours pass now − 23 h (24 entries). At most MaxAppStatsHours
// entries are returned (since is moved forward to fit); since after now gives none. The figures
// are those flushed to storage (FlushAppStats), by every replica: the last
// Config.AppStatsFlushInterval may be missing. Errors: one wrapping storage.ErrNotFound when
// no client has that ID (retired apps keep theirs); storage errors.
func (s *Server) AppStats(ctx context.Context, clientID string, since time.Time) ([]AppHour, error) {
	if _, err := s.store.GetClient(ctx, clientID); err != nil {
		return nil, fmt.Errorf("oidc: app stats of %q: %w", clientID, err)
	}
	last := s.now().UTC().Truncate(time.Hour)
	first := since.UTC().Truncate(time.Hour)
	if earliest := last.Add(-(MaxAppStatsHours - 1) * time.Hour); first.Before(earliest) {
		first = earliest
	}
	if first.After(last) {
		return nil, nil
	}
	rows, err := s.store.AppStatsSince(ctx, clientID, first)
	if err != nil {
		return nil, fmt.Errorf("oidc: app stats of %q: %w", clientID, err)
	}
	out := make([]AppHour, 0, int(last.Sub(first)/time.Hour)+1)
	for h := first; !h.After(last); h = h.Add(time.Hour) {
		out = append(out, AppHour{Hour: h})
	}
	for _, r := range rows {
		if i := int(r.Hour.Sub(first) / time.Hour); i >= 0 && i < len(out) && r.Hour.Equal(out[i].Hour) {
			out[i].AppCounts = r.AppCounts
		}
	}
	return out, nil
}

// registeredApp returns id when it names a registered client (by the client cache), else "".
// The login paths use it for the client ID of the pending request.
func (s *Server) registeredApp(ctx context.Context, id string) string {
	if id == "" {
		return ""
	}
	if _, err := s.clients.Get(ctx, id); err != nil {
		return ""
	}
	return id
}

// countLogin counts a login for the app of the pending request (clientID as the request
// carries it: checked here) with result success, failure, throttled, locked or csrf.
func (s *Server) countLogin(ctx context.Context, result, clientID string) {
	app := s.registeredApp(ctx, clientID)
	s.metrics.logins.WithLabelValues(result, s.metrics.clients.label(app)).Inc()
	if app == "" {
		return
	}
	if result != "success" { // successes count as sign-ins when the app gets its code (countSignIn)
		s.stats.add(app, s.now(), storage.AppCounts{LoginFailures: 1})
	}
}

// countSignIn counts a sign-in to clientID in its hourly figures: an authorization response
// with a code, whether the person typed credentials just now or the SSO session answered.
func (s *Server) countSignIn(clientID string) {
	s.stats.add(clientID, s.now(), storage.AppCounts{Logins: 1})
}

// countToken counts a token response for grant to clientID, an authenticated client.
func (s *Server) countToken(ctx context.Context, grant, clientID string) {
	attribute(ctx, clientID)
	s.metrics.tokens.WithLabelValues(grant, s.metrics.clients.label(clientID)).Inc()
	if clientID != "" {
		s.stats.add(clientID, s.now(), storage.AppCounts{Tokens: 1})
	}
}

// countError counts an OAuth error response of endpoint with code, for clientID: a client
// fosite looked up (authenticated at the token endpoint), or "" when there is none.
func (s *Server) countError(ctx context.Context, endpoint, code, clientID string) {
	attribute(ctx, clientID)
	s.metrics.errors.WithLabelValues(endpoint, code, s.metrics.clients.label(clientID)).Inc()
	if clientID != "" {
		s.stats.add(clientID, s.now(), storage.AppCounts{Errors: 1})
	}
}

// appAttribution is the registered client a timed request turned out to be for.
type appAttribution struct{ client string }

type attributionKey struct{}

// attribute records, for the timed request ctx belongs to, that it was for clientID (a
// registered client); the first attribution wins.
func attribute(ctx context.Context, clientID string) {
	if at, ok := ctx.Value(attributionKey{}).(*appAttribution); ok && at.client == "" {
		at.client = clientID
	}
}

// timed measures h's server time (the wall clock's monotonic reading, not Config.Now) into
// tongban_idp_request_duration_seconds{endpoint, client}, where client is the registered
// client the handler attributed the request to (attribute, countToken, countError). Token
// requests also add to the app's hourly latency figures.
func (s *Server) timed(endpoint string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		at := &appAttribution{}
		h(w, r.WithContext(context.WithValue(r.Context(), attributionKey{}, at)))
		d := time.Since(start)
		s.metrics.latency.WithLabelValues(endpoint, s.metrics.clients.label(at.client)).Observe(d.Seconds())
		if endpoint == endpointToken && at.client != "" {
			s.stats.add(at.client, s.now(), storage.AppCounts{
				LatencySumMillis: float64(d) / float64(time.Millisecond), LatencyCount: 1,
			})
		}
	}
}

// Endpoint label values of tongban_idp_request_duration_seconds.
const (
	endpointAuthorize = "authorize"
	endpointToken     = "token"
)
