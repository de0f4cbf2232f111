// Package walletserver assembles the wallet service that `wallet serve` runs — the licence
// core (wallet.Service) on a backend, its web side (web.Server), the operations endpoints and
// the session purge — from a Config, so that `wallet serve` and the one-command demo
// (cmd/demo) build it the same way.
//
//	cfg := walletserver.DefaultConfig()
//	cfg.ClientSecret = secret
//	b, err := app.OpenBackend(ctx, common, logger)
//	...
//	defer b.Close()
//	err = walletserver.Run(ctx, cfg, b, logger, nil)
package walletserver

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/tongban/tongban/cmd/internal/app"
	"github.com/tongban/tongban/qr"
	"github.com/tongban/tongban/storage/health"
	"github.com/tongban/tongban/wallet"
	"github.com/tongban/tongban/wallet/web"
)

// Service is a built wallet: the core, its web side and the handler to serve.
type Service struct {
	// Wallet is the licence core, also what the demo imports its licences with.
	Wallet *wallet.Service
	// Web is the web side: pages, JSON API, trust list and status list.
	Web *web.Server
	// Metrics is the service's Prometheus registry, exposed at /metrics.
	Metrics *app.Metrics
	// Health tells whether the database accepts writes: /readyz answers it together with
	// web.Server.Ready. Run starts its checks (app.StartHealth).
	Health *health.Monitor
	// Handler serves Web and /healthz, /readyz, /metrics (app.OpsHandler).
	Handler http.Handler
}

// NewService builds the wallet on an open backend: wallet.NewService (which creates the
// code-signing and trust-list keys on first start) with cfg.ServiceConfig, web.NewServer with
// cfg's client and API settings (cfg.ClientSecret must be loaded: LoadSecret), and the
// handler. Configuration errors (wallet.NewService's, web.NewServer's) are usage errors. It
// does not contact the identity provider.
func NewService(ctx context.Context, cfg Config, b *app.Backend, log *slog.Logger) (*Service, error) {
	sc := cfg.ServiceConfig()
	sc.Store, sc.Keyring, sc.Logger = b.Store, b.Keyring, log
	svc, err := wallet.NewService(ctx, sc)
	if err != nil {
		return nil, err
	}
	srv, err := web.NewServer(ctx, web.Config{
		Service: svc, Issuer: cfg.Issuer, ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret,
		PublicURL: cfg.PublicURL, Logger: log, APIClients: cfg.APIClients, APIAudience: cfg.APIAudience,
		IDTokenAlg: cfg.IDTokenAlg, SessionLifetime: cfg.SessionLifetime,
	})
	if err != nil {
		return nil, app.Usage(err)
	}
	m := app.NewMetrics()
	h := app.NewHealth(b.Store, "wallet", log)
	ready := func(ctx context.Context) error {
		if err := h.Ready(ctx); err != nil {
			return err
		}
		return srv.Ready(ctx)
	}
	return &Service{Wallet: svc, Web: srv, Metrics: m, Health: h, Handler: app.OpsHandler(srv.Handler(), ready, m, log)}, nil
}

// Purge deletes the wallet's expired sessions (web.Server.Purge) and the code records of the
// holders' records past their retention (wallet.Service.PurgeRecords) once, in the form
// app.StartPurge wants. In a database shared with the provider both purge sessions, which is
// harmless (deletion by expiry only).
func (s *Service) Purge(ctx context.Context) (map[string]int64, error) {
	n, err := s.Web.Purge(ctx)
	if err != nil {
		return map[string]int64{"login_sessions": n}, err
	}
	m, err := s.Wallet.PurgeRecords(ctx)
	return map[string]int64{"login_sessions": n, "code_records": m}, err
}

// StartPurge runs Purge every interval in the background until ctx ends (app.StartPurge);
// call stop before closing the backend. interval 0 runs nothing.
func (s *Service) StartPurge(ctx context.Context, interval time.Duration, log *slog.Logger) (stop func()) {
	return app.StartPurge(ctx, interval, s.Purge, log)
}

// Run is `wallet serve` on an open backend: it builds the service, listens on cfg.HTTP.Addr
// and serves until ctx ends (SIGINT or SIGTERM through app.SignalContext), then shuts down
// gracefully. Meanwhile it purges expired sessions every cfg.PurgeInterval. It warns when the
// JSON API accepts no tokens. ready, when not nil, is called with the listening address once
// requests are accepted. cfg must have passed Validate and LoadSecret; Run does not close b.
func Run(ctx context.Context, cfg Config, b *app.Backend, log *slog.Logger, ready func(net.Addr)) error {
	svc, err := NewService(ctx, cfg, b, log)
	if err != nil {
		return err
	}
	anchors, err := svc.Wallet.TrustAnchors(ctx)
	if err != nil {
		return err
	}
	ln, err := cfg.HTTP.Listen(ctx, log)
	if err != nil {
		return err
	}
	if len(cfg.APIClients) == 0 && cfg.APIAudience == "" {
		log.Warn("the JSON API accepts no tokens: give --api-client (the mobile app's client ID) or --api-audience to enable it")
	}
	stopPurge := svc.StartPurge(ctx, cfg.PurgeInterval, log)
	defer stopPurge() // before the caller closes the backend
	stopAudit, err := app.StartAudit(ctx, cfg.Audit, b, log)
	if err != nil {
		return err
	}
	defer stopAudit() // after the server drained its requests, before the backend closes
	stopHealth := app.StartHealth(ctx, svc.Health)
	defer stopHealth()
	log.Info("wallet starting", "public_url", cfg.PublicURL, "issuer", cfg.Issuer,
		"trust_anchor", qr.AnchorFingerprint(anchors[0]))
	if ready != nil {
		ready(ln.Addr())
	}
	if err := app.Serve(ctx, ln, svc.Handler, cfg.HTTP, log); err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}
