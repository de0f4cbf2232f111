package web

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/tongban/tongban/qr"
)

func TestStatusListHandler(t *testing.T) {
	svc := newService(t)
	s := &Server{svc: svc, log: slog.New(slog.DiscardHandler)}
	rec := httptest.NewRecorder()
	s.handleStatusList(rec, httptest.NewRequest("GET", "/status-list", nil))
	body, _ := io.ReadAll(rec.Body)
	if rec.Code != 200 || rec.Header().Get("Content-Type") != qr.StatusListType {
		t.Fatalf("%d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	signed, _, err := svc.TrustList(t.Context())
	mustNoErr(t, err)
	anchors, err := svc.TrustAnchors(t.Context())
	mustNoErr(t, err)
	list, err := qr.ParseTrustList(signed, anchors)
	mustNoErr(t, err)
	if _, err := qr.ParseStatusList(body, list); err != nil {
		t.Fatal(err)
	}
}
