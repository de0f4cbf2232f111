package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/spf13/pflag"
)

// Defaults of HTTPConfig.
const (
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultReadTimeout       = 30 * time.Second
	DefaultWriteTimeout      = 30 * time.Second
	DefaultIdleTimeout       = 120 * time.Second
	DefaultShutdownTimeout   = 20 * time.Second
	DefaultMaxHeaderBytes    = 64 << 10 // 64 KiB: request line and headers
)

// HTTPConfig configures an HTTP server run by Serve. Register it with AddFlags.
type HTTPConfig struct {
	// Addr is the TCP address to listen on, host:port (--addr, TONGBAN_ADDR). Port 0 picks a
	// free port.
	Addr string
	// ReadHeaderTimeout bounds reading the request line and headers (--read-header-timeout).
	// Default DefaultReadHeaderTimeout.
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds reading a whole request, body included (--read-timeout). Default
	// DefaultReadTimeout.
	ReadTimeout time.Duration
	// WriteTimeout bounds writing a response, from the end of the request headers
	// (--write-timeout). Default DefaultWriteTimeout.
	WriteTimeout time.Duration
	// IdleTimeout bounds how long a keep-alive connection waits for the next request
	// (--idle-timeout). Default DefaultIdleTimeout.
	IdleTimeout time.Duration
	// ShutdownTimeout bounds the graceful shutdown: requests in flight get this long to finish
	// after SIGINT or SIGTERM before connections are closed (--shutdown-timeout). Default
	// DefaultShutdownTimeout.
	ShutdownTimeout time.Duration
	// MaxHeaderBytes bounds the request line plus headers, in bytes (--max-header-bytes).
	// Default DefaultMaxHeaderBytes.
	MaxHeaderBytes int
	// TLSCert and TLSKey name the PEM files of the TLS certificate chain (leaf first) and its
	// private key (--tls-cert, --tls-key; TONGBAN_TLS_CERT, TONGBAN_TLS_KEY). Both set: the
	// server speaks only HTTPS, TLS 1.3 minimum, and re-reads the files when they change
	// (CertReloader). Both "" (the default): plain HTTP. One alone is a problem for Validate.
	TLSCert string
	TLSKey  string
}

// AddFlags registers the HTTP settings on fs, all configurable, with defaultAddr as the
// default of --addr.
func (h *HTTPConfig) AddFlags(fs *pflag.FlagSet, defaultAddr string) {
	fs.StringVar(&h.Addr, "addr", defaultAddr, "listen address host:port")
	fs.DurationVar(&h.ReadHeaderTimeout, "read-header-timeout", DefaultReadHeaderTimeout, "time limit for reading request headers")
	fs.DurationVar(&h.ReadTimeout, "read-timeout", DefaultReadTimeout, "time limit for reading a whole request")
	fs.DurationVar(&h.WriteTimeout, "write-timeout", DefaultWriteTimeout, "time limit for writing a response")
	fs.DurationVar(&h.IdleTimeout, "idle-timeout", DefaultIdleTimeout, "time a keep-alive connection may stay idle")
	fs.DurationVar(&h.ShutdownTimeout, "shutdown-timeout", DefaultShutdownTimeout, "time requests in flight get to finish on SIGINT/SIGTERM")
	fs.IntVar(&h.MaxHeaderBytes, "max-header-bytes", DefaultMaxHeaderBytes, "limit on request line plus headers, in bytes")
	Configurable(fs, "addr", "read-header-timeout", "read-timeout", "write-timeout", "idle-timeout", "shutdown-timeout", "max-header-bytes")
	h.addTLSFlags(fs)
}

// Validate records every problem of h in p: an address that is not host:port with a port in
// 0–65535, a timeout that is not positive, a header limit outside 4 KiB–16 MiB, only one of
// tls-cert and tls-key, or a certificate and key that do not load (LoadKeyPair).
func (h *HTTPConfig) Validate(p *Problems) {
	if _, port, err := net.SplitHostPort(h.Addr); err != nil {
		p.Addf("addr %q: want host:port (%v)", h.Addr, err)
	} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		p.Addf("addr %q: port must be a number from 0 to 65535", h.Addr)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"read-header-timeout", h.ReadHeaderTimeout}, {"read-timeout", h.ReadTimeout},
		{"write-timeout", h.WriteTimeout}, {"idle-timeout", h.IdleTimeout},
		{"shutdown-timeout", h.ShutdownTimeout},
	} {
		if d.v <= 0 {
			p.Addf("%s: must be positive, got %s", d.name, d.v)
		}
	}
	if h.MaxHeaderBytes < 4<<10 || h.MaxHeaderBytes > 16<<20 {
		p.Addf("max-header-bytes: must be from 4096 to 16777216, got %d", h.MaxHeaderBytes)
	}
	h.validateTLS(p)
}

// Listen opens the TCP listener for h.Addr. Listening before serving lets a caller learn the
// port when Addr ends in ":0" and report a busy port as a start-up error. When h.TLSEnabled,
// the listener speaks TLS (CertReloader.TLSConfig): it loads the certificate and key first, and
// a pair that does not load is a *UsageError wrapping ErrTLSKeyPair and naming the file. log
// receives the certificate's load and reload lines; nil discards them.
func (h *HTTPConfig) Listen(ctx context.Context, log *slog.Logger) (net.Listener, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", h.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", h.Addr, err)
	}
	if !h.TLSEnabled() {
		return ln, nil
	}
	tln, err := h.listenTLS(ln, log)
	if err != nil {
		ln.Close()
		return nil, err
	}
	return tln, nil
}

// Serve serves handler on ln with the limits of h until ctx ends (normally on SIGINT or
// SIGTERM, see SignalContext), then shuts down gracefully: the listener closes at once,
// requests in flight get h.ShutdownTimeout to finish, idle connections are closed. It returns
// nil after a clean shutdown, an error wrapping context.DeadlineExceeded when requests were
// still running at the deadline, or the error that stopped the server. It closes ln, which
// comes from h.Listen: when h.TLSEnabled it already speaks TLS, and HTTP/2 or HTTP/1.1 is
// chosen by ALPN; a plain-HTTP request reaching it gets "400 Bad Request" ("Client sent an
// HTTP request to an HTTPS server", from net/http).
func Serve(ctx context.Context, ln net.Listener, handler http.Handler, h HTTPConfig, log *slog.Logger) error {
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: h.ReadHeaderTimeout,
		ReadTimeout:       h.ReadTimeout,
		WriteTimeout:      h.WriteTimeout,
		IdleTimeout:       h.IdleTimeout,
		MaxHeaderBytes:    h.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("listening", "addr", ln.Addr().String(), "tls", h.TLSEnabled())

	select {
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down", "timeout", h.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), h.ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	if err != nil {
		_ = srv.Close()
		return fmt.Errorf("graceful shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}
