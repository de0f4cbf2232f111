package app

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// SignalContext returns a context that ends on the first SIGINT or SIGTERM, for Serve's
// graceful shutdown. After that first signal the default handling returns, so a second
// SIGINT or SIGTERM ends the process at once. Call stop to release the signal handler early.
func SignalContext(parent context.Context) (ctx context.Context, stop context.CancelFunc) {
	ctx, stop = signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop()
	}()
	return ctx, stop
}
