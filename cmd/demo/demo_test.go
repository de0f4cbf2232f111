package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tongban/tongban/cmd/internal/app"
	"github.com/tongban/tongban/cmd/internal/clitest"
	"github.com/tongban/tongban/qr"
	"github.com/tongban/tongban/qr/qrimage"
	"github.com/tongban/tongban/wallet"
	"github.com/tongban/tongban/wallet/wallettest"
)

// demoRun is a running demo and what it printed.
type demoRun struct {
	cmd            *exec.Cmd
	banner         string
	issuer, wallet string
	done           chan error
}

var (
	issuerRE = regexp.MustCompile(`identity provider  (http://\S+)`)
	walletRE = regexp.MustCompile(`e-licence wallet   (http://\S+)`)
)

// startDemo runs the demo in dir on free ports (the database under dir/var, as from a fresh
// clone), with extra flags, and waits until both services are ready.
func startDemo(t *testing.T, dir string, extra ...string) *demoRun {
	t.Helper()
	examples, err := filepath.Abs("../../docs/examples/licences.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(demoBin, append([]string{"--addr", "127.0.0.1:0", "--wallet-addr", "127.0.0.1:0", "--licences", examples}, extra...)...)
	cmd.Dir = dir
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TONGBAN_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "TONGBAN_PASSWORD_ITERATIONS=1000")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	d := &demoRun{cmd: cmd, done: make(chan error, 1)}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		d.done <- cmd.Wait()
	}()
	var b strings.Builder
	timeout := time.After(60 * time.Second)
	for !strings.Contains(b.String(), "-d code=CODE") {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("demo exited early; printed:\n%s", b.String())
			}
			b.WriteString(l + "\n")
		case <-timeout:
			t.Fatalf("demo did not print its banner; printed:\n%s", b.String())
		}
	}
	go func() {
		for range lines {
		}
	}()
	d.banner = b.String()
	d.issuer = issuerRE.FindStringSubmatch(d.banner)[1]
	d.wallet = walletRE.FindStringSubmatch(d.banner)[1]
	for _, u := range []string{d.issuer + "/readyz", d.wallet + "/readyz"} {
		resp, err := http.Get(u)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: %v %v", u, err, resp)
		}
		resp.Body.Close()
	}
	return d
}

// stop sends SIGINT and waits for a clean exit.
func (d *demoRun) stop(t *testing.T) {
	t.Helper()
	if err := d.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-d.done:
		if err != nil {
			t.Fatalf("demo after SIGINT: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("demo did not stop after SIGINT")
	}
}

// printedCommands returns the `go run ./cmd/wallet …` commands of the banner, as argument
// lists for the wallet binary.
func printedCommands(banner string) [][]string {
	var out [][]string
	for _, l := range strings.Split(banner, "\n") {
		l = strings.TrimSpace(l)
		if rest, ok := strings.CutPrefix(l, "go run ./cmd/wallet "); ok {
			out = append(out, strings.Fields(rest))
		}
	}
	return out
}

func TestDemo(t *testing.T) {
	dir := t.TempDir()
	walletBin := clitest.Build(t, "../wallet")

	d := startDemo(t, dir)
	for _, want := range []string{"11010119900307002X", "demo-password-2026", "licences   8, one of every kind",
		"go run ./cmd/wallet verify --trust-list var/trust-list.cose --png code.png",
		"go run ./cmd/wallet code --holder 11010119900307002X --kind resident-id --png code.png"} {
		if !strings.Contains(d.banner, want) {
			t.Errorf("banner lacks %q:\n%s", want, d.banner)
		}
	}

	// A citizen logs in to the wallet through the idp and sees every kind of licence; the
	// pages carry the labels docs/demo.md names.
	b := wallettest.NewBrowser(t)
	landing := b.Get(d.wallet + "/")
	login := b.Get(d.wallet + "/login")
	pageHas(t, "landing", landing.Body, "统一身份认证登录")
	pageHas(t, "idp login", login.Body, "登录", "密码")
	action, vals, ok := login.Form("password")
	if !ok {
		t.Fatal("no login form")
	}
	vals.Set("identifier", demoIDNumber)
	vals.Set("password", demoPassword)
	consent := b.PostForm(action, vals)
	pageHas(t, "idp consent", consent.Body, "授权确认", "同意")
	home := b.LoginAndConsent(consent, demoIDNumber, demoPassword)
	if !strings.HasPrefix(home.URL.String(), d.wallet) {
		t.Fatalf("login ended at %s", home.URL)
	}
	pageHas(t, "home", home.Body, "亮证", "多码合一", "退出登录", "English", "110101********002X", "林*彤")
	pageHas(t, "bundle", b.Get(d.wallet+"/bundle").Body, "生成二维码")
	ids := regexp.MustCompile(`href="/show\?l=([A-Za-z0-9_-]+)"`).FindAllStringSubmatch(home.Body, -1)
	if len(ids) != 8 {
		t.Fatalf("%d licences shown, want 8:\n%s", len(ids), home.Body)
	}

	// Saves a code as code.png (the page's download link) and verifies it offline with the
	// trust files the demo wrote, both in process and with the printed command.
	pageHas(t, "code page", b.Get(d.wallet+"/show?l="+ids[0][1]).Body, "完整信息", "保存二维码图片", `id="countdown"`)
	p := b.Get(d.wallet + "/code.png?l=" + ids[0][1])
	if p.Status != 200 || p.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("code.png: %d %s", p.Status, p.Header.Get("Content-Type"))
	}
	if err := os.WriteFile(filepath.Join(dir, "code.png"), []byte(p.Body), 0o644); err != nil {
		t.Fatal(err)
	}
	text, err := qrimage.Decode([]byte(p.Body))
	if err != nil {
		t.Fatal(err)
	}
	list, _ := os.ReadFile(filepath.Join(dir, "var", "trust-list.cose"))
	anchorPEM, _ := os.ReadFile(filepath.Join(dir, "var", "trust-anchor.pem"))
	anchors, err := wallet.ParseTrustAnchors(anchorPEM)
	if err != nil {
		t.Fatal(err)
	}
	ts := qr.NewTrustStore(anchors, nil)
	if _, err := ts.Update(list); err != nil {
		t.Fatal(err)
	}
	if _, err := (&qr.Verifier{Trust: ts}).Verify(text); err != nil {
		t.Fatalf("code from the demo wallet: %v", err)
	}
	cmds := printedCommands(d.banner)
	if len(cmds) != 3 {
		t.Fatalf("printed commands: %v", cmds)
	}
	// verify the browser's code.png; then mint one with `wallet code` (on the running
	// demo's database) and verify that.
	for i, args := range cmds {
		c := exec.Command(walletBin, args...)
		c.Dir = dir
		out, err := c.CombinedOutput()
		if err != nil {
			t.Fatalf("printed command %d %v: %v\n%s", i+1, args, err, out)
		}
		if args[0] == "verify" && !strings.Contains(string(out), "VALID") {
			t.Fatalf("printed verify: %s", out)
		}
	}

	// The demo relying app: the printed authorize URL (SSO: no password), then the token
	// request of the printed curl command.
	authz := regexp.MustCompile(`open   (http://\S+)`).FindStringSubmatch(d.banner)[1]
	b.Stop = []string{"http://127.0.0.1:" + demoAppPort + "/callback"}
	p = b.Get(authz)
	if _, _, ok := p.Form("password"); ok {
		t.Error("single sign-on: the demo app's login asked for the password again")
	}
	p = b.LoginAndConsent(p, demoIDNumber, demoPassword)
	loc := p.Location()
	if loc == nil || loc.Query().Get("code") == "" {
		t.Fatalf("demo app: no code: %d %v\n%s", p.Status, p.Header, p.Body)
	}
	form := url.Values{}
	for _, m := range regexp.MustCompile(`-d (\w+)=(\S+)`).FindAllStringSubmatch(d.banner, -1) {
		form.Set(m[1], m[2])
	}
	form.Set("code", loc.Query().Get("code"))
	resp, err := http.PostForm(d.issuer+"/token", form)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var tok map[string]any
	if resp.StatusCode != 200 || json.Unmarshal(body, &tok) != nil || tok["id_token"] == nil {
		t.Fatalf("demo app token: %d %s", resp.StatusCode, body)
	}

	// docs/demo.md §8: demo-lookup's authorize URL, the code exchanged as for demo-app, and
	// the licence read at the wallet with the access token (the curl line).
	doc, err := os.ReadFile("../../docs/demo.md")
	if err != nil {
		t.Fatal(err)
	}
	lookupURL := regexp.MustCompile("`(http://127.0.0.1:8080/authorize\\?client_id=demo-lookup[^`]+)`").FindSubmatch(doc)
	lookupCurl := regexp.MustCompile("`curl -s -H \"Authorization: Bearer TOKEN\" \"http://127.0.0.1:8081(/api/v1/lookup/licences\\?[^\"]+)\"`").FindSubmatch(doc)
	if lookupURL == nil || lookupCurl == nil {
		t.Fatal("docs/demo.md §8 lacks demo-lookup's authorize URL or its curl line")
	}
	p = b.Get(strings.Replace(string(lookupURL[1]), "http://127.0.0.1:8080", d.issuer, 1))
	if !strings.Contains(p.Body, "办理社会保障卡补换") {
		t.Errorf("demo-lookup's consent page lacks its purpose:\n%s", p.Body)
	}
	p = b.LoginAndConsent(p, demoIDNumber, demoPassword)
	loc = p.Location()
	if loc == nil || loc.Query().Get("code") == "" {
		t.Fatalf("demo-lookup: no code: %d %v\n%s", p.Status, p.Header, p.Body)
	}
	form.Set("client_id", demoLookupAppID)
	form.Set("code", loc.Query().Get("code"))
	resp, err = http.PostForm(d.issuer+"/token", form)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	tok = map[string]any{}
	if resp.StatusCode != 200 || json.Unmarshal(body, &tok) != nil || tok["access_token"] == nil {
		t.Fatalf("demo-lookup token: %d %s", resp.StatusCode, body)
	}
	req, _ := http.NewRequest(http.MethodGet, d.wallet+string(lookupCurl[1]), nil)
	req.Header.Set("Authorization", "Bearer "+tok["access_token"].(string))
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"kind":"resident-id"`) || !strings.Contains(string(body), demoIDNumber) {
		t.Errorf("demo-lookup's read at the wallet: %d %s", resp.StatusCode, body)
	}

	// Without --api-client the wallet's JSON API refuses every token, naming the fix.
	if status, body := apiGet(t, d.wallet, "some-token"); status != http.StatusForbidden || !strings.Contains(body, "--api-client CLIENT_ID") {
		t.Errorf("API of the demo without --api-client: %d %s", status, body)
	}
	d.stop(t)

	// Twice: the seed is idempotent and the new wallet secret works. With --api-client the
	// wallet's API checks tokens at the provider: a made-up one is invalid, not refused unasked.
	d = startDemo(t, dir, "--api-client", "mobile-app")
	if !strings.Contains(d.banner, "licences   8, one of every kind") {
		t.Errorf("second start:\n%s", d.banner)
	}
	if status, body := apiGet(t, d.wallet, "some-token"); status != http.StatusUnauthorized || !strings.Contains(body, "invalid_token") {
		t.Errorf("API of the demo with --api-client: %d %s", status, body)
	}
	b = wallettest.NewBrowser(t)
	b.LoginWallet(d.wallet, demoIDNumber, demoPassword)
	d.stop(t)

	// Each stop signed a checkpoint of the one audit chain the demo's services share.
	r := clitest.Run(t, exec.Command(clitest.Build(t, "../idp"), "audit", "verify", "--json"), dir, "", nil)
	var rep struct {
		Entries     int64 `json:"entries"`
		Head        int64 `json:"head"`
		Checkpoints int   `json:"checkpoints"`
		Signed      int64 `json:"signed_through"`
	}
	if r.Code != 0 || json.Unmarshal([]byte(r.Stdout), &rep) != nil || rep.Checkpoints < 2 || rep.Signed != rep.Head || rep.Entries == 0 {
		t.Errorf("idp audit verify after two demo runs: exit %d, %+v, want 0, two checkpoints, all signed\n%s%s", r.Code, rep, r.Stdout, r.Stderr)
	}
}

// apiGet calls GET /api/v1/licences of the wallet with a bearer token.
func apiGet(t *testing.T, walletURL, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", walletURL+"/api/v1/licences", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func pageHas(t *testing.T, what, body string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("%s page lacks %q", what, w)
		}
	}
}

// TestDemoDoc checks docs/demo.md against the demo: its text block is exactly the banner for
// the default addresses (with the fingerprint as xxxx), and each of its commands is the demo
// command or one the banner prints (which TestDemo runs).
func TestDemoDoc(t *testing.T) {
	doc, err := os.ReadFile("../../docs/demo.md")
	if err != nil {
		t.Fatal(err)
	}
	var buf strings.Builder
	printDemo(&buf, demoBanner{
		issuer: "http://127.0.0.1:8080", wallet: "http://127.0.0.1:8081", list: "var/trust-list.cose",
		anchor: "var/trust-anchor.pem", fingerprint: "xxxx xxxx xxxx xxxx", licences: 8,
		db: app.DefaultDB, kek: app.DefaultKEKFile, notifier: "console",
	})
	block := regexp.MustCompile("(?s)```text\n(.*?)```").FindStringSubmatch(string(doc))
	if block == nil {
		t.Fatal("docs/demo.md has no text block")
	}
	if strings.TrimSpace(block[1]) != strings.TrimSpace(buf.String()) {
		t.Errorf("docs/demo.md's banner differs from the demo's:\n--- doc\n%s\n--- demo\n%s", block[1], buf.String())
	}
	for _, sh := range regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(string(doc), -1) {
		for _, l := range strings.Split(strings.TrimSpace(sh[1]), "\n") {
			if l != "go run ./cmd/demo" && !strings.Contains(buf.String(), "       "+l+"\n") {
				t.Errorf("docs/demo.md command %q is not one the demo prints", l)
			}
		}
	}
}

// TestBannerNotifier: the banner says "forgot password" codes print in the demo's output only
// when they do (--notifier console); with --notifier none it says recovery by code is off.
func TestBannerNotifier(t *testing.T) {
	for _, tc := range []struct{ notifier, want, not string }{
		{"console", `phone      13800138000 ("forgot password" codes print here)`, "recovery by code is off"},
		{"none", "phone      13800138000 (recovery by code is off: --notifier none)", "codes print here"},
	} {
		var buf strings.Builder
		printDemo(&buf, demoBanner{
			issuer: "http://127.0.0.1:8080", wallet: "http://127.0.0.1:8081", list: "var/trust-list.cose",
			anchor: "var/trust-anchor.pem", fingerprint: "xxxx", licences: 8,
			db: app.DefaultDB, kek: app.DefaultKEKFile, notifier: tc.notifier,
		})
		if !strings.Contains(buf.String(), tc.want+"\n") || strings.Contains(buf.String(), tc.not) {
			t.Errorf("--notifier %s: banner lacks %q or has %q:\n%s", tc.notifier, tc.want, tc.not, buf.String())
		}
	}
}
