package web_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tongban/tongban/credentials"
	"github.com/tongban/tongban/qr"
	"github.com/tongban/tongban/wallet"
	"github.com/tongban/tongban/wallet/wallettest"
)

// fetchStatusList GETs /status-list, checks its headers and parses it against trust.
func (w *world) fetchStatusList(t *testing.T, trust *qr.TrustList) *qr.StatusList {
	t.Helper()
	resp, err := http.Get(w.wal.URL + "/status-list")
	must(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	must(t, err)
	if resp.StatusCode != 200 {
		t.Fatalf("GET /status-list: %d %s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != qr.StatusListType {
		t.Errorf("Content-Type %q, want %q", ct, qr.StatusListType)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "public, max-age=300" {
		t.Errorf("Cache-Control %q", cc)
	}
	sl, err := qr.ParseStatusList(body, trust)
	if err != nil {
		t.Fatalf("ParseStatusList: %v", err)
	}
	if d := sl.ExpiresAt.Sub(sl.IssuedAt); d != qr.DefaultStatusListValidity || sl.TTL != wallet.StatusListTTL || sl.Bits != qr.StatusBits {
		t.Errorf("status list lifetime %s ttl %s bits %d", d, sl.TTL, sl.Bits)
	}
	// The list is not a trust list, and the trust list is not a status list.
	if _, err := qr.ParseTrustList(body, nil); err == nil {
		t.Error("the status list parses as a trust list")
	}
	return sl
}

// TestAPIPrefetch: POST /api/v1/codes with prefetch_seconds mints a long-lived masked code of
// one licence that verifies only with the status list of GET /status-list, and is refused
// once the list says the licence is revoked; prefetch with another profile, several licences
// or out of range is a 400 invalid_request that says why.
func TestAPIPrefetch(t *testing.T) {
	w := newWorld(t)
	tok := w.token(t, wallettest.NewBrowser(t), mobileApp)
	codes := w.wal.URL + "/api/v1/codes"
	v := w.verifier(t)
	trust := v.Trust.CurrentTrustList()

	// Before any pre-fetched code the list is empty but well-formed.
	if sl := w.fetchStatusList(t, trust); len(sl.Statuses) != 0 {
		t.Errorf("fresh wallet: %d status entries", len(sl.Statuses))
	}

	before := time.Now().Add(-time.Second)
	r := api(t, "POST", codes, tok, "application/json", `{"kinds":["social-security"],"prefetch_seconds":43200}`)
	if r.status != 200 {
		t.Fatalf("prefetch: %d %s", r.status, r.raw)
	}
	text := r.body["text"].(string)
	if r.body["profile"] != "masked-identity" {
		t.Errorf("profile %v", r.body["profile"])
	}
	exp, err := time.Parse(time.RFC3339, r.body["expires_at"].(string))
	must(t, err)
	if d := exp.Sub(before); d < 12*time.Hour || d > 12*time.Hour+time.Minute {
		t.Errorf("expires_at %s: %s from now, want 12 h", exp, d)
	}

	// Without a status list the code is refused; with the served one it verifies.
	if _, err := v.Verify(text); !errors.Is(err, qr.ErrStatusListMissing) {
		t.Fatalf("pre-fetched code without a status list: %v", err)
	}
	sl := w.fetchStatusList(t, trust)
	v.Status = sl
	res, err := v.Verify(text)
	must(t, err)
	if res.StatusIndex == nil || *res.StatusIndex != 0 || res.ExpiresAt.Sub(res.IssuedAt) != 12*time.Hour {
		t.Fatalf("result %+v", res)
	}
	if st, ok := sl.Status(*res.StatusIndex); !ok || st != qr.StatusValid {
		t.Errorf("status %d %v", st, ok)
	}

	// The longest allowed pre-fetch, and the same licence again: same index.
	r = api(t, "POST", codes, tok, "application/json", `{"kinds":["social-security"],"profile":"masked","prefetch_seconds":86400}`)
	if r.status != 200 {
		t.Fatalf("prefetch 86400: %d %s", r.status, r.raw)
	}
	res2, err := v.Verify(r.body["text"].(string))
	must(t, err)
	if *res2.StatusIndex != 0 {
		t.Errorf("second pre-fetched code of the licence: index %d", *res2.StatusIndex)
	}

	// Revocation reaches a verifier through the next status list.
	recs, err := w.svc.Licences(context.Background(), citizen)
	must(t, err)
	var ss string
	for _, rec := range recs {
		if rec.Licence.Kind == credentials.SocialSecurity {
			ss = rec.ID
		}
	}
	_, err = w.svc.SetStatus(context.Background(), ss, credentials.StatusRevoked, wallet.Operator)
	must(t, err)
	v.Status = w.fetchStatusList(t, trust)
	if _, err := v.Verify(r.body["text"].(string)); !errors.Is(err, qr.ErrStatusRevoked) {
		t.Fatalf("pre-fetched code of a revoked licence: %v", err)
	}

	for _, tc := range []struct{ name, body, desc string }{
		{"bundle", `{"kinds":["resident-id","driving-licence"],"profile":"bundle","prefetch_seconds":3600}`, "only a masked code of one licence"},
		{"default-profile-two-licences", `{"kinds":["resident-id","driving-licence"],"prefetch_seconds":3600}`, "only a masked code of one licence"},
		{"full", `{"kinds":["resident-id"],"profile":"full","prefetch_seconds":3600}`, "only a masked code of one licence"},
		{"over-24h", `{"kinds":["resident-id"],"prefetch_seconds":86401}`, "prefetch_seconds must be 0"},
		{"negative", `{"kinds":["resident-id"],"prefetch_seconds":-1}`, "prefetch_seconds must be 0"},
		{"fraction", `{"kinds":["resident-id"],"prefetch_seconds":1.5}`, "wrong type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := api(t, "POST", codes, tok, "application/json", tc.body)
			if r.status != 400 || r.body["error"] != "invalid_request" {
				t.Fatalf("got %d %s, want 400 invalid_request", r.status, r.raw)
			}
			if d, _ := r.body["error_description"].(string); !strings.Contains(d, tc.desc) {
				t.Errorf("error_description %q, want it to say %q", d, tc.desc)
			}
		})
	}
	w.checkLogs(t, tok)
}
