package fositeadapter

import (
	"errors"
	"reflect"
	"slices"
	"testing"

	"github.com/ory/fosite"

	"github.com/tongban/tongban/storage"
)

func TestSessionClone(t *testing.T) {
	s := &Session{Subject: "p", AMR: []string{"pwd"}}
	c := s.Clone().(*Session)
	c.AMR[0] = "otp"
	if s.AMR[0] != "pwd" {
		t.Error("Clone shares AMR")
	}
}

// TestStoredRequest: the JSON in storage.TokenRecord.Data is a storage format; a record
// written before a release must decode after it, so a fixed record is decoded here field by
// field, and a request survives encode → decode.
func TestStoredRequest(t *testing.T) {
	c := &Client{Registration: storage.Client{ID: "app"}}
	const stored = `{"id":"req-1","rat":1700000000000000000,"cid":"app","rs":["openid","profile"],` +
		`"gs":["openid"],"ra":["api"],"ga":["api"],"f":{"nonce":["n-123456"]},` +
		`"s":{"sub":"sub-1","pid":"person-1","at":1699999990000000000,"rat":1699999980000000000,` +
		`"acr":"urn:tongban:acr:mfa","amr":["pwd","otp"],"n":"n-123456","cc":"challenge",` +
		`"cl":{"userinfo":{"name":null}},"ce":1700000060000000000,"ae":1700000600000000000}}`
	req, sess, err := decodeRequest([]byte(stored), c)
	if err != nil {
		t.Fatal(err)
	}
	want := Session{Subject: "sub-1", PersonID: "person-1", AuthTime: 1699999990000000000,
		RequestedAt: 1699999980000000000, ACR: "urn:tongban:acr:mfa", AMR: []string{"pwd", "otp"},
		Nonce: "n-123456", CodeChallenge: "challenge", CodeExp: 1700000060000000000, AccessExp: 1700000600000000000}
	if sess.Claims == nil || len(sess.Claims.UserInfo) != 1 {
		t.Errorf("claims request %+v", sess.Claims)
	}
	got := *sess
	got.Claims = nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("session\n got %+v\nwant %+v", got, want)
	}
	if req.GetID() != "req-1" || req.GetClient() != c || !req.GetRequestedAt().Equal(FromNanos(1700000000000000000)) ||
		!slices.Equal(req.GetRequestedScopes(), []string{"openid", "profile"}) || !slices.Equal(req.GetGrantedScopes(), []string{"openid"}) ||
		!slices.Equal(req.GetRequestedAudience(), []string{"api"}) || !slices.Equal(req.GetGrantedAudience(), []string{"api"}) ||
		req.GetRequestForm().Get("nonce") != "n-123456" || req.GetSession() != sess {
		t.Errorf("request %+v", req)
	}
	data, _, err := encodeRequest(req)
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != stored {
		t.Errorf("re-encoded\n got %s\nwant %s", data, stored)
	}
	if _, _, err := encodeRequest(&fosite.Request{Session: &fosite.DefaultSession{}}); !errors.Is(err, ErrSessionType) {
		t.Errorf("foreign session: %v", err)
	}
}
