package app

import (
	"context"
	"log/slog"
	"os"
	"sync"

	"github.com/tongban/tongban/storage"
	"github.com/tongban/tongban/storage/health"
)

// NewHealth returns the readiness monitor of a service on store (storage/health): its Ready is
// what /readyz answers (OpsHandler), and StartHealth runs its checks. service names the
// service in the heartbeats table, with the host name: "idp@host", "wallet@host".
func NewHealth(store storage.Storage, service string, log *slog.Logger) *health.Monitor {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown"
	}
	return health.New(store, health.Config{Instance: service + "@" + host, Logger: log})
}

// StartHealth runs m's checks in the background (every second) until ctx ends or stop is
// called; stop waits for the running check to end. Call stop before closing the store.
func StartHealth(ctx context.Context, m *health.Monitor) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		m.Run(ctx)
	}()
	return func() {
		cancel()
		wg.Wait()
	}
}
