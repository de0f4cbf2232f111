package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tongban/tongban/kek/pkcs11/softhsmtest"
)

// TestKEKPKCS11 moves an idp's keys from a key-encryption key file to a key generated in a
// SoftHSM2 token, then serves with --kek-pkcs11 only (the file gone): discovery and the token
// endpoint answer. On the way: the start-up errors an operator meets.
func TestKEKPKCS11(t *testing.T) {
	softhsmtest.Require(t)
	conf, err := softhsmtest.Setup(t.TempDir(), "tongban")
	if err != nil {
		t.Fatal(err)
	}
	hsm := []string{"SOFTHSM2_CONF=" + conf, "TONGBAN_PKCS11_PIN=" + softhsmtest.PIN}
	uri := "pkcs11:token=tongban;object=tongban-kek?module-path=" + softhsmtest.ModulePath

	dir := t.TempDir()
	initVar(t, dir)
	r := idp(t, dir, "", nil, "clients", "add", "--id", "batch", "--grant-types", "client_credentials", "--scopes", "profile", "--json")
	mustOK(t, r, "clients add")
	secret := decode[clientJSON](t, r).ClientSecret

	idp(t, dir, "", hsm, "kek", "pkcs11-generate", "--kek-pkcs11", uri).Want(t, 0, "created key-encryption key ")
	idp(t, dir, "", hsm, "kek", "pkcs11-generate", "--kek-pkcs11", uri).Want(t, 1, "already exists")

	// Before the rewrap the token's key is not the database's.
	idp(t, dir, "", hsm, "serve", "--addr", "127.0.0.1:0", "--kek-pkcs11", uri).
		Want(t, 1, "wrong key-encryption key", "key-encryption key file or TONGBAN_KEK with ID")
	// Start-up errors.
	for _, tc := range []struct {
		name string
		env  []string
		uri  string
		code int
		want string
	}{
		{"wrong PIN", []string{"SOFTHSM2_CONF=" + conf, "TONGBAN_PKCS11_PIN=0000"}, uri, 1, "wrong PIN"},
		{"no PIN", []string{"SOFTHSM2_CONF=" + conf}, uri, 1, "no PIN"},
		{"missing token", hsm, strings.Replace(uri, "token=tongban", "token=nosuch", 1), 1, `tokens present: "tongban"`},
		{"missing key", hsm, strings.Replace(uri, "object=tongban-kek", "object=nosuch", 1), 1, "key not found"},
		{"bad module", hsm, strings.Replace(uri, softhsmtest.ModulePath, "/nonexistent/libx.so", 1), 1, "/nonexistent/libx.so"},
		{"malformed URI", hsm, uri + "&slot-id=0", 2, "unknown attribute"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := idp(t, dir, "", tc.env, "keys", "rewrap", "--to-kek-pkcs11", tc.uri)
			r.Want(t, tc.code, tc.want)
			if strings.Contains(r.Stderr, "0000") {
				t.Errorf("the error shows the PIN: %s", r.Stderr)
			}
		})
	}
	idp(t, dir, "", append(hsm, "TONGBAN_KEK=tongban-kek-v1:AAAAAAAAAAAAAAAAAAAAAA=="), "clients", "list", "--kek-pkcs11", uri).
		Want(t, 2, "TONGBAN_KEK and kek-pkcs11 are both set")

	r = idp(t, dir, "", hsm, "keys", "rewrap", "--to-kek-pkcs11", uri, "--json")
	mustOK(t, r, "keys rewrap")
	var res struct {
		Keys  int   `json:"keys"`
		Audit int64 `json:"audit_seq"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &res); err != nil || res.Keys < 7 || res.Audit == 0 {
		t.Fatalf("rewrap result %s: %v", r.Stdout, err)
	}
	// The old file key no longer opens the database, and is not needed any more.
	idp(t, dir, "", nil, "keys", "rotate").Want(t, 1, "wrong key-encryption key", "PKCS#11 key-encryption key (--kek-pkcs11) with ID")
	if err := os.Remove(filepath.Join(dir, "var", "kek")); err != nil {
		t.Fatal(err)
	}

	s := startServe(t, dir, append(hsm, "TONGBAN_KEK_PKCS11="+uri))
	if code, body := get(t, s.base+"/.well-known/openid-configuration"); code != 200 {
		t.Fatalf("discovery: %d %s", code, body)
	}
	req, _ := http.NewRequest("POST", s.base+"/token", strings.NewReader("grant_type=client_credentials&scope=profile"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("batch", secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("client credentials with the rewrapped keys: %d", resp.StatusCode)
	}
	if !strings.Contains(s.stderr.String(), `"kek_source":"pkcs11"`) {
		t.Errorf("serve does not log the PKCS#11 key source:\n%s", s.stderr)
	}
	if err := s.stop(t); err != nil {
		t.Errorf("idp serve after SIGTERM: %v\n%s", err, s.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "var", "kek")); err == nil {
		t.Error("serve with --kek-pkcs11 created a key-encryption key file")
	}
}
