package app

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// PprofHandler serves the net/http/pprof profiles under /debug/pprof/ (CPU profile, heap,
// goroutines, …). Serve it only on a loopback or otherwise private address: profiles reveal
// memory contents and cost CPU.
func PprofHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// ValidateLoopbackAddr records a problem in p unless addr is "" or host:port on a loopback
// host (127.0.0.0/8, ::1, localhost). name is the setting, for the message.
func ValidateLoopbackAddr(p *Problems, name, addr string) {
	if addr == "" {
		return
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		p.Addf("%s %q: want host:port (%v)", name, addr, err)
		return
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		p.Addf("%s %q: must be a loopback address such as 127.0.0.1:6060", name, addr)
	}
}

// ServePprof serves PprofHandler on addr until ctx ends. Its write timeout allows CPU profiles
// and traces of up to a minute.
func ServePprof(ctx context.Context, addr string, log *slog.Logger) error {
	h := HTTPConfig{Addr: addr, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 70 * time.Second, IdleTimeout: 60 * time.Second, ShutdownTimeout: time.Second,
		MaxHeaderBytes: DefaultMaxHeaderBytes}
	ln, err := h.Listen(ctx, log)
	if err != nil {
		return fmt.Errorf("pprof: %w", err)
	}
	return Serve(ctx, ln, PprofHandler(), h, log.With("listener", "pprof"))
}
