package app

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"
)

// TestServeGraceful checks that a request in flight when the context ends still completes, that
// Serve then returns nil, and that the listener is closed.
func TestServeGraceful(t *testing.T) {
	h := HTTPConfig{Addr: "127.0.0.1:0", ReadHeaderTimeout: time.Second, ReadTimeout: 5 * time.Second,
		WriteTimeout: 5 * time.Second, IdleTimeout: time.Second, ShutdownTimeout: 5 * time.Second, MaxHeaderBytes: 8192}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ln, err := h.Listen(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		time.Sleep(300 * time.Millisecond)
		io.WriteString(w, "done")
	})
	served := make(chan error, 1)
	go func() { served <- Serve(ctx, ln, handler, h, discard()) }()

	url := "http://" + ln.Addr().String() + "/"
	got := make(chan string, 1)
	go func() {
		resp, err := http.Get(url)
		if err != nil {
			got <- "error: " + err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		got <- string(b)
	}()
	<-started
	cancel()
	if body := <-got; body != "done" {
		t.Errorf("request in flight got %q", body)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve = %v, want nil", err)
	}
	if _, err := http.Get(url); err == nil {
		t.Error("server still accepts connections after shutdown")
	}
}
