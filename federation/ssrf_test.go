package federation

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// countingListener accepts TCP connections on loopback and counts them, closing each.
func countingListener(t *testing.T) (addr string, accepted *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	accepted = &atomic.Int64{}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			c.Close()
		}
	}()
	return ln.Addr().String(), accepted
}

// TestResolverRefusesInternalAddresses: without AllowHTTP the default client never connects
// to loopback (by literal or by a name resolving to it), private, link-local or unspecified
// addresses; the caller's error says only "could not be fetched", the detail is logged.
func TestResolverRefusesInternalAddresses(t *testing.T) {
	addr, accepted := countingListener(t)
	_, port, _ := net.SplitHostPort(addr)
	for _, subject := range []string{
		"https://" + addr,
		"https://localhost:" + port, // a name that resolves to loopback: checked after resolution
		"https://169.254.169.254",
		"https://10.0.0.1",
		"https://[::1]:" + port,
		"https://0.0.0.0:" + port,
	} {
		t.Run(subject, func(t *testing.T) {
			var logged bytes.Buffer
			r := &Resolver{Anchors: []TrustAnchor{{EntityID: "https://ta.example"}}, FetchTimeout: 2 * time.Second,
				Logger: slog.New(slog.NewTextHandler(&logged, nil))}
			_, err := r.Resolve(context.Background(), subject, "")
			if !errors.Is(err, ErrFetch) {
				t.Fatalf("err %v, want ErrFetch", err)
			}
			for _, leak := range []string{"dial", "connect", "refused", "deadline", "lookup"} {
				if strings.Contains(err.Error(), leak) {
					t.Errorf("the caller's error %q shows %q", err, leak)
				}
			}
			if !strings.Contains(err.Error(), "could not be fetched") {
				t.Errorf("err %q lacks the generic reason", err)
			}
			if !strings.Contains(logged.String(), "non-public address") {
				t.Errorf("the log lacks the refusal: %s", logged.String())
			}
		})
	}
	if n := accepted.Load(); n != 0 {
		t.Fatalf("the resolver connected %d times to a loopback listener", n)
	}
}

// TestResolverAllowHTTPLoopbackOnly: the test mode (AllowHTTP) reaches loopback but still no
// private or link-local address.
func TestResolverAllowHTTPLoopbackOnly(t *testing.T) {
	addr, accepted := countingListener(t)
	r := &Resolver{Anchors: []TrustAnchor{{EntityID: "https://ta.example"}}, AllowHTTP: true,
		FetchTimeout: 2 * time.Second, Logger: slog.New(slog.DiscardHandler)}
	if _, err := r.Resolve(context.Background(), "http://"+addr, ""); !errors.Is(err, ErrFetch) {
		t.Fatalf("loopback: %v", err)
	}
	if accepted.Load() != 1 {
		t.Fatalf("AllowHTTP: %d connections to loopback, want 1", accepted.Load())
	}
	var logged bytes.Buffer
	r.Logger = slog.New(slog.NewTextHandler(&logged, nil))
	if _, err := r.Resolve(context.Background(), "https://169.254.169.254", ""); !errors.Is(err, ErrFetch) {
		t.Fatalf("link-local: %v", err)
	}
	if !strings.Contains(logged.String(), "non-public address") {
		t.Fatalf("link-local not refused by the dialer: %s", logged.String())
	}
}

func TestPublicAddress(t *testing.T) {
	for addr, want := range map[string]bool{
		"8.8.8.8": true, "2001:4860:4860::8888": true, "203.0.113.9": true,
		"127.0.0.1": false, "127.8.0.1": false, "::1": false, "10.1.2.3": false, "172.16.0.1": false,
		"192.168.1.1": false, "169.254.169.254": false, "fe80::1": false, "0.0.0.0": false, "::": false,
		"224.0.0.1": false, "ff02::1": false, "fd00::1": false, "100.64.0.1": false, "::ffff:127.0.0.1": false,
		"::ffff:10.0.0.1": false, "255.255.255.255": false,
	} {
		if got := PublicAddress(netip.MustParseAddr(addr)); got != want {
			t.Errorf("PublicAddress(%s) = %t, want %t", addr, got, want)
		}
	}
}

func TestCheckEntityID(t *testing.T) {
	long := "https://" + strings.Repeat("a", 3000) + ".example"
	for _, c := range []struct {
		id        string
		allowHTTP bool
		ok        bool
		why       string
	}{
		{"https://idp.a.gov.cn", false, true, ""},
		{"https://idp.a.gov.cn:8443/fed/", false, true, ""},
		{"http://127.0.0.1:8080", true, true, ""},
		{"http://localhost:8080", true, true, ""},
		{"http://127.0.0.1:8080", false, false, "not https"},
		{"http://idp.a.gov.cn", true, false, "not loopback"},
		{"https://user:pw@idp.a.gov.cn", false, false, "user name"},
		{"https://idp.a.gov.cn ", false, false, "white space"},
		{" https://idp.a.gov.cn", false, false, "white space"},
		{"https://idp.a.gov.cn/a b", false, false, "white space"},
		{"https://idp.a.gov.cn:99999", false, false, "port"},
		{"https://idp.a.gov.cn:0", false, false, "port"},
		{"https://idp.a.gov.cn:", false, false, "empty port"},
		{"https://" + strings.Repeat("a", 254), false, false, "host longer"},
		{long, false, false, "longer than 2048"},
		{"https://idp.a.gov.cn?x=1", false, false, "query"},
		{"https://idp.a.gov.cn#f", false, false, "fragment"},
		{"https://idp.a.gov.cn?", false, false, "query"},
		{"ftp://idp.a.gov.cn", false, false, "not https"},
		{"idp.a.gov.cn", false, false, "absolute"},
		{"", false, false, "empty"},
	} {
		err := CheckEntityID(c.id, c.allowHTTP)
		switch {
		case c.ok && err != nil:
			t.Errorf("%.40q: %v", c.id, err)
		case !c.ok && (!errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), c.why)):
			t.Errorf("%.40q: err %v, want ErrMalformed saying %q", c.id, err, c.why)
		}
	}
}
