package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tongban/tongban/cmd/internal/clitest"
	"github.com/tongban/tongban/sm-crypto"
)

// idpBin is the idp binary built once by TestMain; the tests exec it, so exit statuses and
// signals are the real ones.
var idpBin string

func TestMain(m *testing.M) { clitest.Main(m, ".", &idpBin) }

// Test data: a valid resident ID number (GB 11643-1999 example, check character X) and the
// password of the test person. Password hashing is cut to 1,000 iterations through the
// environment, which also exercises TONGBAN_PASSWORD_ITERATIONS.
const (
	testIDNumber = "11010519491231002X"
	testPassword = "correct horse battery staple"
)

// result is what one run of the binary did.
type result = clitest.Result

// idp runs the binary in dir (its ./var/ holds the database and the KEK) with a clean
// TONGBAN_* environment plus extraEnv, stdin as standard input.
func idp(t *testing.T, dir, stdin string, extraEnv []string, args ...string) result {
	t.Helper()
	return clitest.Run(t, exec.Command(idpBin, args...), dir, stdin, append(testEnv(), extraEnv...))
}

// testEnv is what every run gets on top of a clean environment: password hashing cut to 1,000
// iterations.
func testEnv() []string { return []string{"TONGBAN_PASSWORD_ITERATIONS=1000"} }

func cleanEnv() []string { return append(clitest.CleanEnv(), testEnv()...) }

func mustOK(t *testing.T, r result, what string) {
	t.Helper()
	if r.Code != 0 {
		t.Fatalf("%s: exit %d\nstdout: %s\nstderr: %s", what, r.Code, r.Stdout, r.Stderr)
	}
}

func decode[T any](t *testing.T, r result) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(r.Stdout), &v); err != nil {
		t.Fatalf("decode %q: %v", r.Stdout, err)
	}
	return v
}

// TestAdminCommands walks the admin commands on one fresh directory: people add → clients add
// (confidential, public, client credentials) → clients list → keys list → keys rotate → keys
// list with the retired keys.
func TestAdminCommands(t *testing.T) {
	dir := t.TempDir()
	initVar(t, dir)

	r := idp(t, dir, testPassword+"\n", nil, "people", "add", "--id-number", testIDNumber, "--name", "张三", "--phone", "13800138000", "--json")
	mustOK(t, r, "people add")
	person := decode[personJSON](t, r)
	if person.ID == "" || person.Kind != "natural" || !person.HasPhone || strings.Contains(r.Stdout, testIDNumber) {
		t.Errorf("people add output %s", r.Stdout)
	}
	if !strings.HasPrefix(person.IDNumberMasked, "110105") || !strings.HasSuffix(person.IDNumberMasked, "002X") {
		t.Errorf("masked number %q", person.IDNumberMasked)
	}
	st, err := os.Stat(filepath.Join(dir, "var", "kek"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("var/kek: %v, mode %v", err, st)
	}
	// The same number again: a conflict with stored data, not a usage error: exit 1, no hint.
	r = idp(t, dir, testPassword+"\n", nil, "people", "add", "--id-number", testIDNumber, "--name", "张三")
	if r.Code != 1 || !strings.Contains(r.Stderr, "already registered") || strings.Contains(r.Stderr, "idp help") || strings.Contains(r.Stderr, "oidc:") {
		t.Errorf("duplicate person: exit %d, stderr %s", r.Code, r.Stderr)
	}

	r = idp(t, dir, "", nil, "clients", "add", "--id", "portal", "--name", "门户",
		"--redirect-uri", "https://portal.example.gov.cn/callback", "--redirect-uri", "http://127.0.0.1/callback",
		"--post-logout-redirect-uri", "https://portal.example.gov.cn/", "--id-token-alg", "SGD_SM3_SM2",
		"--access-token-format", "jwt", "--backchannel-logout-uri", "https://portal.example.gov.cn/backchannel-logout",
		"--backchannel-logout-session-required", "--json")
	mustOK(t, r, "clients add portal")
	portal := decode[clientJSON](t, r)
	if len(portal.ClientSecret) < 32 || portal.Public || portal.IDTokenSignedResponseAlg != "SGD_SM3_SM2" || len(portal.RedirectURIs) != 2 ||
		portal.AccessTokenFormat != "jwt" || portal.BackchannelLogoutURI != "https://portal.example.gov.cn/backchannel-logout" ||
		!portal.BackchannelLogoutSessionRequired {
		t.Errorf("clients add portal: %s", r.Stdout)
	}
	// A back-channel logout URI in the clear to another host is refused.
	r = idp(t, dir, "", nil, "clients", "add", "--id", "clear", "--redirect-uri", "https://clear.example.gov.cn/cb",
		"--backchannel-logout-uri", "http://clear.example.gov.cn/bcl")
	if r.Code == 0 || !strings.Contains(r.Stderr, "backchannel_logout_uri") {
		t.Errorf("http back-channel logout URI: exit %d, stderr %s", r.Code, r.Stderr)
	}

	r = idp(t, dir, "", nil, "clients", "add", "--id", "mobile", "--public", "--redirect-uri", "cn.gov.example.app:/callback", "--json")
	mustOK(t, r, "clients add mobile")
	mobile := decode[clientJSON](t, r)
	if mobile.ClientSecret != "" || !mobile.Public || mobile.IDTokenSignedResponseAlg != "RS256" || mobile.AccessTokenFormat != "opaque" {
		t.Errorf("public client: %s", r.Stdout)
	}
	if strings.Join(mobile.Scopes, " ") != "openid profile offline_access" || strings.Join(mobile.GrantTypes, ",") != "authorization_code,refresh_token" {
		t.Errorf("defaults: scopes %v grants %v", mobile.Scopes, mobile.GrantTypes)
	}

	r = idp(t, dir, "", nil, "clients", "add", "--id", "batch", "--grant-types", "client_credentials", "--scopes", "profile")
	mustOK(t, r, "clients add batch")
	if !strings.Contains(r.Stdout, "client_secret: ") {
		t.Errorf("text output without the secret: %s", r.Stdout)
	}

	r = idp(t, dir, "", nil, "clients", "list", "--json")
	mustOK(t, r, "clients list")
	list := decode[[]clientJSON](t, r)
	if len(list) != 3 || strings.Contains(r.Stdout, portal.ClientSecret) {
		t.Errorf("clients list: %s", r.Stdout)
	}
	r = idp(t, dir, "", nil, "clients", "list")
	mustOK(t, r, "clients list (table)")
	if !strings.Contains(r.Stdout, "portal") || !strings.Contains(r.Stdout, "REDIRECT URIS") {
		t.Errorf("clients list table: %s", r.Stdout)
	}

	r = idp(t, dir, "", nil, "keys", "list", "--json")
	mustOK(t, r, "keys list")
	keys := decode[[]keyJSON](t, r)
	if len(keys) != 3 {
		t.Fatalf("keys list: want 3 keys, got %s", r.Stdout)
	}
	algs := map[string]bool{}
	for _, k := range keys {
		algs[k.Algorithm] = true
		if k.Status != "active" {
			t.Errorf("key %s status %s before rotation", k.KID, k.Status)
		}
	}
	if !algs["SGD_SM3_SM2"] || !algs["ES256"] || !algs["RS256"] {
		t.Errorf("algorithms %v", algs)
	}

	r = idp(t, dir, "", nil, "keys", "rotate", "--alg", "SGD_SM3_SM2", "--keep-for", "1h", "--json")
	mustOK(t, r, "keys rotate")
	rot := decode[[]rotationJSON](t, r)
	if len(rot) != 1 || rot[0].Algorithm != "SGD_SM3_SM2" || len(rot[0].Retired) != 1 {
		t.Fatalf("keys rotate: %s", r.Stdout)
	}

	r = idp(t, dir, "", nil, "keys", "list", "--json")
	mustOK(t, r, "keys list after rotate")
	keys = decode[[]keyJSON](t, r)
	status := map[string]keyJSON{}
	for _, k := range keys {
		status[k.KID] = k
	}
	if len(keys) != 4 {
		t.Errorf("want 4 keys after rotating one, got %d", len(keys))
	}
	old := status[rot[0].Retired[0]]
	if old.Status != "retired" || old.ExpiresAt == nil || old.ExpiresAt.Sub(*old.RetiredAt) != time.Hour {
		t.Errorf("retired key %+v", old)
	}
	if status[rot[0].NewKID].Status != "active" {
		t.Errorf("new key %+v", status[rot[0].NewKID])
	}
	r = idp(t, dir, "", nil, "keys", "list")
	mustOK(t, r, "keys list (table)")
	if !strings.Contains(r.Stdout, "retired") {
		t.Errorf("keys list table lacks the retired key: %s", r.Stdout)
	}
}

// TestUsageErrors checks that wrong arguments exit with status 2 and say what is wrong.
func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	initVar(t, dir)
	tests := []struct {
		name  string
		stdin string
		env   []string
		args  []string
		want  string
	}{
		{"fail/unknown-flag", "", nil, []string{"clients", "list", "--bogus"}, "unknown flag: --bogus"},
		{"fail/unknown-command", "", nil, []string{"frobnicate"}, `unknown command "frobnicate"`},
		{"fail/extra-argument", "", nil, []string{"keys", "list", "extra"}, `unknown command "extra"`},
		{"fail/missing-required", "", nil, []string{"clients", "add"}, `required flag(s) "id" not set`},
		{"fail/invalid-id-number", testPassword + "\n", nil, []string{"people", "add", "--id-number", "110105194912310021", "--name", "张三"}, "invalid identity number"},
		{"fail/empty-password", "\n", nil, []string{"people", "add", "--id-number", testIDNumber, "--name", "张三"}, "empty password"},
		{"fail/bad-kind", testPassword + "\n", nil, []string{"people", "add", "--id-number", testIDNumber, "--name", "张三", "--kind", "robot"}, "--kind: want natural or legal"},
		{"fail/bad-id-token-alg", "", nil, []string{"clients", "add", "--id", "x", "--redirect-uri", "https://x.example/cb", "--id-token-alg", "HS256"}, "invalid ID token signing algorithm"},
		{"fail/bad-access-token-format", "", nil, []string{"clients", "add", "--id", "x", "--redirect-uri", "https://x.example/cb", "--access-token-format", "paseto"}, "invalid access token format"},
		{"fail/bad-redirect-uri", "", nil, []string{"clients", "add", "--id", "x", "--redirect-uri", "https://x.example/cb#frag"}, "invalid redirect URI"},
		{"fail/bad-grant-type", "", nil, []string{"clients", "add", "--id", "x", "--grant-types", "password"}, "invalid grant type"},
		{"fail/bad-rotate-alg", "", nil, []string{"keys", "rotate", "--alg", "HS256"}, `--alg: "HS256" is not one of`},
		{"fail/bad-duration-flag", "", nil, []string{"keys", "rotate", "--keep-for", "forever"}, `invalid argument "forever" for "--keep-for"`},
		{"fail/bad-env", "", []string{"TONGBAN_READ_TIMEOUT=soon", "TONGBAN_LOG_LEVEL=loud"}, []string{"serve"}, "TONGBAN_READ_TIMEOUT: invalid duration"},
		{"fail/http-issuer", "", nil, []string{"serve", "--issuer", "http://id.example.gov.cn"}, "http is allowed only on a loopback host"},
		{"fail/bad-kek-env", "", []string{"TONGBAN_KEK=tongban-kek-v1:short"}, []string{"clients", "list"}, "TONGBAN_KEK: malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := idp(t, dir, tt.stdin, tt.env, tt.args...)
			if r.Code != 2 {
				t.Errorf("exit %d, want 2\nstderr: %s", r.Code, r.Stderr)
			}
			if !strings.Contains(r.Stderr, tt.want) {
				t.Errorf("stderr lacks %q:\n%s", tt.want, r.Stderr)
			}
			if r.Stdout != "" {
				t.Errorf("stdout not empty: %s", r.Stdout)
			}
		})
	}
}

// TestConfigFileAllProblems checks that serve reports every invalid setting of its config
// file and environment at once.
func TestConfigFileAllProblems(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "idp.conf")
	os.WriteFile(conf, []byte("addr = nowhere\nissuer = ftp://x\ncode-lifetime = 1h\nunknown-key = 1\n"), 0o600)
	r := idp(t, dir, "", []string{"TONGBAN_CONFIG=" + conf, "TONGBAN_LOG_LEVEL=loud"}, "serve")
	if r.Code != 2 {
		t.Fatalf("exit %d, want 2: %s", r.Code, r.Stderr)
	}
	for _, want := range []string{`unknown key "unknown-key"`, "log-level", `addr "nowhere"`, "issuer", "code-lifetime: at most 10m"} {
		if !strings.Contains(r.Stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.Stderr)
		}
	}
}

// server is a running `idp serve`.
type server struct {
	cmd    *exec.Cmd
	base   string // http://host:port, or https:// when it serves TLS
	stderr *bytes.Buffer
	done   chan error

	mu    sync.Mutex
	lines []string // log lines so far, for waitLog
}

// waitLog waits up to timeout for a log line containing every one of want, and returns it.
func (s *server) waitLog(t *testing.T, timeout time.Duration, want ...string) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		s.mu.Lock()
		for _, l := range s.lines {
			ok := true
			for _, w := range want {
				ok = ok && strings.Contains(l, w)
			}
			if ok {
				s.mu.Unlock()
				return l
			}
		}
		all := strings.Join(s.lines, "\n")
		s.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatalf("no log line with %q within %s:\n%s", want, timeout, all)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// startServe starts `idp serve` on a free port in dir and waits for its "listening" log line.
func startServe(t *testing.T, dir string, extraEnv []string, args ...string) *server {
	t.Helper()
	cmd := exec.Command(idpBin, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(cleanEnv(), extraEnv...)
	pr, pw := io.Pipe()
	s := &server{cmd: cmd, stderr: &bytes.Buffer{}, done: make(chan error, 1)}
	cmd.Stderr = io.MultiWriter(pw, s.stderr)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- cmd.Wait(); pw.Close() }()
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			s.mu.Lock()
			s.lines = append(s.lines, sc.Text())
			s.mu.Unlock()
			var line struct {
				Msg, Addr string
				TLS       bool
			}
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "listening" {
				scheme := "http://"
				if line.TLS {
					scheme = "https://"
				}
				addr <- scheme + line.Addr
			}
		}
		io.Copy(io.Discard, pr)
	}()
	select {
	case a := <-addr:
		s.base = a
	case err := <-s.done:
		t.Fatalf("idp serve exited early (%v):\n%s", err, s.stderr)
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("idp serve did not start:\n%s", s.stderr)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-s.done
		}
	})
	return s
}

// stop sends the server SIGTERM and returns how it exited (nil: status 0); a server still
// running 30 s later fails the test.
func (s *server) stop(t *testing.T) error {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-s.done:
		return err
	case <-time.After(30 * time.Second):
		t.Fatal("idp serve did not stop after SIGTERM")
		return nil
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestServe starts the provider with no configuration on a temp directory, checks the
// operations endpoints and discovery, and stops it with SIGTERM.
func TestServe(t *testing.T) {
	dir := t.TempDir()
	initVar(t, dir)
	r := idp(t, dir, "", nil, "clients", "add", "--id", "batch", "--grant-types", "client_credentials", "--scopes", "profile", "--json")
	mustOK(t, r, "clients add")
	secret := decode[clientJSON](t, r).ClientSecret
	s := startServe(t, dir, nil)

	for _, path := range []string{"/healthz", "/readyz"} {
		if code, body := get(t, s.base+path); code != 200 {
			t.Errorf("%s: %d %s", path, code, body)
		}
	}
	code, body := get(t, s.base+"/.well-known/openid-configuration")
	if code != 200 {
		t.Fatalf("discovery: %d %s", code, body)
	}
	var disc struct {
		Issuer  string   `json:"issuer"`
		JWKSURI string   `json:"jwks_uri"`
		Algs    []string `json:"id_token_signing_alg_values_supported"`
	}
	if err := json.Unmarshal([]byte(body), &disc); err != nil || disc.Issuer != "http://127.0.0.1:8080" {
		t.Errorf("discovery document: %v %s", err, body)
	}
	// The secret printed by `clients add` works at the running server's token endpoint.
	req, _ := http.NewRequest("POST", s.base+"/token", strings.NewReader("grant_type=client_credentials&scope=profile"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("batch", secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
	}
	json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if resp.StatusCode != 200 || tok.AccessToken == "" {
		t.Errorf("client credentials: %d %+v", resp.StatusCode, tok)
	}

	code, body = get(t, s.base+"/metrics")
	if code != 200 || !strings.Contains(body, `tongban_http_request_duration_seconds_count{code="200",method="POST",route="/token"} 1`) ||
		!strings.Contains(body, "process_resident_memory_bytes") || strings.Contains(body, tok.AccessToken) {
		t.Errorf("/metrics: %d\n%.2000s", code, body)
	}
	if _, err := os.Stat(filepath.Join(dir, "var", "kek")); err != nil {
		t.Errorf("serve did not create var/kek: %v", err)
	}
	for _, secretText := range []string{"tongban-kek-v1:", secret, tok.AccessToken} {
		if strings.Contains(s.stderr.String(), secretText) {
			t.Errorf("the log contains a secret (%.16s…)", secretText)
		}
	}

	if err := s.stop(t); err != nil {
		t.Errorf("idp serve after SIGTERM: %v\n%s", err, s.stderr)
	}
	if !strings.Contains(s.stderr.String(), `"msg":"stopped"`) {
		t.Errorf("no graceful stop in the log:\n%s", s.stderr)
	}
	for _, line := range strings.Split(strings.TrimSpace(s.stderr.String()), "\n") {
		if !json.Valid([]byte(line)) {
			t.Errorf("log line is not JSON: %s", line)
		}
	}
}

// TestServeWrongKEK checks that serve refuses to start, with a clear message and exit status
// 1, when the key-encryption key does not belong to the database or is corrupt.
func TestServeWrongKEK(t *testing.T) {
	dir := t.TempDir()
	initVar(t, dir)
	mustOK(t, idp(t, dir, "", nil, "clients", "add", "--id", "a", "--redirect-uri", "https://a.example/cb"), "first run")
	kekPath := filepath.Join(dir, "var", "kek")

	other, err := smcrypto.GenerateKEK(nil)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(kekPath, []byte(other.Encode()+"\n"), 0o600)
	r := idp(t, dir, "", nil, "serve", "--addr", "127.0.0.1:0")
	if r.Code != 1 || !strings.Contains(r.Stderr, "wrong key-encryption key") || !strings.Contains(r.Stderr, "restore it from its backup") {
		t.Errorf("wrong KEK: exit %d\n%s", r.Code, r.Stderr)
	}

	os.WriteFile(kekPath, []byte("not a key\n"), 0o600)
	r = idp(t, dir, "", nil, "serve", "--addr", "127.0.0.1:0")
	if r.Code != 1 || !strings.Contains(r.Stderr, "malformed key-encryption key") {
		t.Errorf("corrupt KEK: exit %d\n%s", r.Code, r.Stderr)
	}

	os.Remove(kekPath)
	r = idp(t, dir, "", nil, "serve", "--addr", "127.0.0.1:0")
	if r.Code != 1 || !strings.Contains(r.Stderr, "already holds keys") {
		t.Errorf("lost KEK: exit %d\n%s", r.Code, r.Stderr)
	}
	if _, err := os.Stat(kekPath); err == nil {
		t.Error("serve made a new KEK for a database with keys")
	}
}

// initVar creates what serve creates on first start — var/kek and an empty SQLite file
// var/tongban.db — so that admin commands, which refuse to create them, can run.
func initVar(t *testing.T, dir string) {
	t.Helper()
	k, err := smcrypto.GenerateKEK(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "var"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "var", "kek"), []byte(k.Encode()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "var", "tongban.db"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestAdminRefusesMissingDatabase checks that no admin command creates a database or a KEK:
// a wrong --db path must not silently start an empty database.
func TestAdminRefusesMissingDatabase(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"clients", "list"},
		{"keys", "list"},
		{"keys", "rotate"},
		{"clients", "add", "--id", "a", "--redirect-uri", "https://a.example/cb"},
		{"people", "add", "--id-number", testIDNumber, "--name", "张三"},
	} {
		r := idp(t, dir, testPassword+"\n", nil, args...)
		if r.Code != 1 || !strings.Contains(r.Stderr, "does not exist") {
			t.Errorf("%v: exit %d, stderr %s", args, r.Code, r.Stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "var")); err == nil {
		t.Error("an admin command created ./var")
	}
}
