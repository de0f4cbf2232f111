package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tongban/tongban/cmd/internal/clitest"
	"github.com/tongban/tongban/qr"
	"github.com/tongban/tongban/qr/verdict"
	smcrypto "github.com/tongban/tongban/sm-crypto"
)

// walletBin is the wallet binary built once by TestMain; the tests exec it, so exit statuses,
// files and signals are the real ones.
var walletBin string

func TestMain(m *testing.M) { clitest.Main(m, ".", &walletBin) }

const (
	holder   = "11010119900307002X"
	examples = "../../docs/examples/licences.jsonl"
)

type result = clitest.Result

// run runs the binary in dir with a clean TONGBAN_* environment plus env, stdin as input.
func run(t *testing.T, dir, stdin string, env []string, args ...string) result {
	t.Helper()
	return clitest.Run(t, exec.Command(walletBin, args...), dir, stdin, env)
}

// setup imports the example licences (plus one broken line) in a fresh directory and exports
// the trust list; it returns the directory.
func setup(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	initVar(t, dir)
	data, err := os.ReadFile(examples)
	if err != nil {
		t.Fatal(err)
	}
	broken := append(bytes.Clone(data), []byte(`{"kind":"resident-id","number":"110101199003070021","issuer":"某公安局","holder":"110101199003070021","holder_name":"某","valid_from":"2020-01-01","valid_until":"2040-01-01","status":"valid","fields":{"sex":"女","ethnicity":"汉","birth_date":"1990-03-07","address":"某地"}}`+"\n")...)
	if err := os.WriteFile(filepath.Join(dir, "licences.jsonl"), broken, 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, dir, "", nil, "licences", "import", "licences.jsonl").
		Want(t, 1, "line 9:", "holder", "8 stored (8 created, 0 updated), 1 line(s) rejected", "the other lines were stored")
	run(t, dir, "", nil, "trust-list", "export", "var/trust-list.cose").
		Want(t, 0, "wrote trust list var/trust-list.cose", "wrote trust anchor var/trust-anchor.pem: fingerprint")
	return dir
}

func TestImport(t *testing.T) {
	dir := setup(t)
	// Re-import updates, nothing new; every line is good now: exit 0.
	abs, _ := filepath.Abs(examples)
	run(t, dir, "", nil, "licences", "import", abs).Want(t, 0, "8 stored (0 created, 8 updated), 0 line(s) rejected")
	// JSON report.
	r := run(t, dir, "", nil, "licences", "import", "--json", "licences.jsonl")
	r.Want(t, 1)
	var rep importJSON
	if err := json.Unmarshal([]byte(r.Stdout), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Updated != 8 || len(rep.Rejected) != 1 || rep.Rejected[0].Line != 9 {
		t.Fatalf("report %+v", rep)
	}
	// Standard input.
	data, _ := os.ReadFile(examples)
	run(t, dir, string(data), nil, "licences", "import", "-").Want(t, 0, "standard input: 8 stored")
	// The list is masked.
	r = run(t, dir, "", nil, "licences", "list", "--holder", holder)
	r.Want(t, 0, "110101********002X", "business-licence")
	if strings.Contains(r.Stdout, holder) {
		t.Error("licences list shows the full holder number")
	}
	run(t, dir, "", nil, "licences", "import", "missing.jsonl").Want(t, 2, "missing.jsonl")
	run(t, dir, "", nil, "licences", "import").Want(t, 2)
}

func TestCodeVerify(t *testing.T) {
	dir := setup(t)
	list := "var/trust-list.cose"

	// The demo's commands: a PNG, then verify it.
	run(t, dir, "", nil, "code", "--holder", holder, "--kind", "resident-id", "--png", "code.png").Want(t, 0, "QR version 9", "wrote code.png")
	r := run(t, dir, "", nil, "verify", "--trust-list", list, "--png", "code.png")
	r.Want(t, 0, "VALID", "居民身份证", "林*彤", "110101********002X")
	if strings.Contains(r.Stdout, holder) {
		t.Error("a masked code printed the full number")
	}

	// A "screenshot": the code on a larger canvas under a dark status bar. gozxing's general
	// detector (the fallback for screenshots) misses roughly 1 code in 50 of this shape, so a
	// miss gets up to two fresh codes before the test fails: what is tested is that a
	// screenshot verifies, not that every module pattern is found (a known decoder limit).
	for attempt := 1; ; attempt++ {
		screenshot(t, filepath.Join(dir, "code.png"), filepath.Join(dir, "shot.png"))
		r := run(t, dir, "", nil, "verify", "--trust-list", list, "--png", "shot.png")
		if r.Code == 0 || attempt == 3 || !strings.Contains(r.Stdout, "unreadable_image") {
			r.Want(t, 0, "VALID")
			break
		}
		run(t, dir, "", nil, "code", "--holder", holder, "--kind", "resident-id", "--png", "code.png").Want(t, 0)
	}

	// Text through a file and standard input; --json.
	run(t, dir, "", nil, "code", "--holder", holder, "--kind", "driving-licence", "--out", "code.txt").Want(t, 0, "wrote code.txt")
	text, _ := os.ReadFile(filepath.Join(dir, "code.txt"))
	r = run(t, dir, string(text), nil, "verify", "--trust-list", list, "--json", "-")
	r.Want(t, 0)
	var v verifyJSON
	if err := json.Unmarshal([]byte(r.Stdout), &v); err != nil || !v.Valid || v.Licences[0].Kind != "driving-licence" {
		t.Fatalf("json %s (%v)", r.Stdout, err)
	}

	// 多码合一 and the full profile.
	code := strings.TrimSpace(run(t, dir, "", nil, "code", "--holder", holder, "--kind", "resident-id,medical-insurance,health-code").Stdout)
	run(t, dir, "", nil, "verify", "--trust-list", list, code).Want(t, 0, "3 bundle", "医保电子凭证", "健康码", "green")
	code = strings.TrimSpace(run(t, dir, "", nil, "code", "--holder", holder, "--kind", "driving-licence", "--profile", "full", "--fields", "class").Stdout)
	r = run(t, dir, "", nil, "verify", "--trust-list", list, code)
	r.Want(t, 0, "2 full-registration", holder, "林晓彤", "C1", "北京市公安局公安交通管理局")

	// Rejections: exit 1 with the reason.
	code = strings.TrimSpace(string(text))
	tampered := []byte(code)
	i := len(tampered) / 2
	if tampered[i] == 'A' {
		tampered[i] = 'B'
	} else {
		tampered[i] = 'A'
	}
	run(t, dir, "", nil, "verify", "--trust-list", list, string(tampered)).Want(t, 1, "REJECTED")
	later := time.Now().Add(5 * time.Minute).Format(time.RFC3339)
	run(t, dir, "", nil, "verify", "--trust-list", list, "--at", later, code).Want(t, 1, "REJECTED", "expired", "已过期")
	earlier := time.Now().Add(-5 * time.Minute).Format(time.RFC3339)
	run(t, dir, "", nil, "verify", "--trust-list", list, "--at", earlier, code).Want(t, 1, "not_yet_valid")
	run(t, dir, "", nil, "verify", "--trust-list", list, "HC1:NOTOURS").Want(t, 1, "bad_prefix")
	r = run(t, dir, "", nil, "verify", "--trust-list", list, "--json", "--at", later, code)
	r.Want(t, 1)
	if err := json.Unmarshal([]byte(r.Stdout), &v); err != nil || v.Valid || v.Reason != "expired" {
		t.Fatalf("json rejection %s", r.Stdout)
	}
	os.WriteFile(filepath.Join(dir, "not-a-code.png"), []byte("\x89PNG\r\n\x1a\n"), 0o644)
	run(t, dir, "", nil, "verify", "--trust-list", list, "--png", "not-a-code.png").Want(t, 1, "unreadable_image")

	// Usage errors: exit 2.
	run(t, dir, "", nil, "verify").Want(t, 2, "--trust-list: required")
	run(t, dir, "", nil, "verify", "--trust-list", list).Want(t, 2, "give the code")
	run(t, dir, "", nil, "verify", "--trust-list", list, "--png", "code.png", code).Want(t, 2, "not several")
	run(t, dir, "", nil, "verify", "--trust-list", list, "--at", "yesterday", code).Want(t, 2, "--at")
	run(t, dir, "", nil, "verify", "--trust-list", "missing.cose", code).Want(t, 2, "missing.cose")
	run(t, dir, "", nil, "verify", "--trust-list", list, "--bogus", code).Want(t, 2)
	run(t, dir, "", nil, "code", "--holder", "123", "--kind", "resident-id").Want(t, 2, "--holder")
	run(t, dir, "", nil, "code", "--holder", holder, "--kind", "passport").Want(t, 2, "unknown licence kind")
	run(t, dir, "", nil, "code", "--holder", holder, "--kind", "resident-id", "--profile", "everything").Want(t, 2, "--profile")
}

func TestRevokeSuspend(t *testing.T) {
	dir := setup(t)
	run(t, dir, "", nil, "licences", "suspend", "--kind", "social-security", "--number", "B10374261").Want(t, 0, "suspended social-security ****4261", "status now suspended")
	run(t, dir, "", nil, "code", "--holder", holder, "--kind", "social-security").Want(t, 1, "suspended")
	run(t, dir, "", nil, "licences", "restore", "--kind", "social-security", "--number", "B10374261").Want(t, 0, "status now valid")
	run(t, dir, "", nil, "code", "--holder", holder, "--kind", "social-security").Want(t, 0)
	r := run(t, dir, "", nil, "licences", "revoke", "--kind", "social-security", "--number", "B10374261", "--json")
	r.Want(t, 0)
	var l licenceJSON
	if err := json.Unmarshal([]byte(r.Stdout), &l); err != nil || l.Status != "revoked" {
		t.Fatalf("revoke json %s", r.Stdout)
	}
	run(t, dir, "", nil, "code", "--holder", holder, "--kind", "social-security").Want(t, 1, "licence revoked")
	run(t, dir, "", nil, "licences", "restore", "--id", l.ID).Want(t, 1, "final")
	run(t, dir, "", nil, "licences", "revoke", "--id", "no-such-id").Want(t, 1, "no licence")
	run(t, dir, "", nil, "licences", "revoke", "--kind", "social-security").Want(t, 2)
	run(t, dir, "", nil, "licences", "revoke", "--id", l.ID, "--kind", "social-security", "--number", "x").Want(t, 2, "not both")
}

func TestVerifyState(t *testing.T) {
	dir := setup(t)
	list := "var/trust-list.cose"
	code := strings.TrimSpace(run(t, dir, "", nil, "code", "--holder", holder, "--kind", "transit-code").Stdout)
	// Replay: the second scan of one code is refused.
	run(t, dir, "", nil, "verify", "--trust-list", list, "--state", "state.json", code).Want(t, 0, "VALID")
	run(t, dir, "", nil, "verify", "--trust-list", list, "--state", "state.json", code).Want(t, 1, "replayed")
	// Rollback: a state that has seen a newer list refuses this one.
	b, _ := os.ReadFile(filepath.Join(dir, "state.json"))
	var st qr.VerifierSnapshot
	if err := json.Unmarshal(b, &st); err != nil || st.TrustListSequence == 0 {
		t.Fatalf("state %s", b)
	}
	st.TrustListSequence++
	b, _ = json.Marshal(st)
	os.WriteFile(filepath.Join(dir, "newer.json"), b, 0o600)
	run(t, dir, "", nil, "verify", "--trust-list", list, "--state", "newer.json", code).Want(t, 1, "trust_list_rolled_back")
	// Another wallet's trust list is not trusted under this anchor.
	other := setup(t)
	run(t, dir, "", nil, "verify", "--trust-list", filepath.Join(other, list), "--trust-anchor", "var/trust-anchor.pem", code).
		Want(t, 1, "untrusted_trust_list")
	// A trust list with one changed byte is refused.
	raw, _ := os.ReadFile(filepath.Join(dir, list))
	raw[len(raw)/2] ^= 1
	os.WriteFile(filepath.Join(dir, "bad.cose"), raw, 0o644)
	run(t, dir, "", nil, "verify", "--trust-list", "bad.cose", "--trust-anchor", "var/trust-anchor.pem", code).Want(t, 1, "REJECTED")
	run(t, dir, "", nil, "verify", "--trust-list", "bad.cose", code).Want(t, 2, "trust-anchor")
}

// TestVerifyOffline runs verify where the network is unusable and no database or KEK can be
// opened: in a network namespace of its own when unshare is available, and in any case with
// HTTP(S)_PROXY pointing at a closed port and TONGBAN_DB/KEK_FILE at paths that cannot exist.
func TestVerifyOffline(t *testing.T) {
	dir := setup(t)
	run(t, dir, "", nil, "code", "--holder", holder, "--kind", "resident-id", "--png", "code.png").Want(t, 0)
	counter := t.TempDir() // the counter's machine: only the two trust files and the image
	for _, f := range []string{"var/trust-list.cose", "var/trust-anchor.pem", "code.png"} {
		b, _ := os.ReadFile(filepath.Join(dir, f))
		os.WriteFile(filepath.Join(counter, filepath.Base(f)), b, 0o644)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	env := []string{"HTTP_PROXY=" + closed, "HTTPS_PROXY=" + closed, "http_proxy=" + closed, "https_proxy=" + closed,
		"TONGBAN_DB=/nonexistent/tongban.db", "TONGBAN_KEK_FILE=/nonexistent/kek"}
	args := []string{"verify", "--trust-list", "trust-list.cose", "--png", "code.png"}
	run(t, counter, "", env, args...).Want(t, 0, "VALID")
	if _, err := exec.LookPath("unshare"); err == nil && exec.Command("unshare", "-rn", "true").Run() == nil {
		r := clitest.Run(t, exec.Command("unshare", append([]string{"-rn", walletBin}, args...)...), counter, "", env)
		r.Want(t, 0, "VALID")
	} else {
		t.Log("unshare -rn unavailable: checked with a closed proxy only")
	}
	if _, err := os.Stat(filepath.Join(counter, "var")); err == nil {
		t.Error("verify created ./var: it must not open storage")
	}
}

// TestServe runs `wallet serve` and checks the operations endpoints, the trust list (the same
// bytes as `trust-list export`), a login while the provider is down, and graceful shutdown.
func TestServe(t *testing.T) {
	dir := setup(t)
	cmd := exec.Command(walletBin, "serve", "--addr", "127.0.0.1:0", "--issuer", "http://127.0.0.1:1", "--log-level", "info")
	cmd.Dir = dir
	cmd.Env = append(clitest.CleanEnv(), "TONGBAN_CLIENT_SECRET=test-secret")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	addr := ""
	sc := bufio.NewScanner(stderr)
	var logs strings.Builder
	for sc.Scan() {
		logs.WriteString(sc.Text() + "\n")
		var rec map[string]any
		if json.Unmarshal(sc.Bytes(), &rec) == nil && rec["msg"] == "listening" {
			addr, _ = rec["addr"].(string)
			break
		}
	}
	if addr == "" {
		t.Fatalf("no listening line:\n%s", logs.String())
	}
	go func() {
		for sc.Scan() {
		}
	}()
	base := "http://" + addr
	for _, p := range []string{"/healthz", "/readyz", "/metrics"} {
		resp, err := http.Get(base + p)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: %v %v", p, err, resp)
		}
		resp.Body.Close()
	}
	resp, err := http.Get(base + "/trust-list")
	if err != nil {
		t.Fatal(err)
	}
	served := new(bytes.Buffer)
	served.ReadFrom(resp.Body)
	resp.Body.Close()
	run(t, dir, "", nil, "trust-list", "export", "again.cose").Want(t, 0)
	exported, _ := os.ReadFile(filepath.Join(dir, "again.cose"))
	if !bytes.Equal(served.Bytes(), exported) {
		t.Error("GET /trust-list and trust-list export differ")
	}
	resp, err = http.Get(base + "/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("login with the provider down: %d", resp.StatusCode)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("serve after SIGINT: %v", err)
	}
	if strings.Contains(logs.String(), holder) {
		t.Error("logs contain the holder number")
	}
	// Without a client secret: a configuration error, exit 2.
	run(t, dir, "", nil, "serve", "--addr", "127.0.0.1:0").Want(t, 2, "client-secret")
}

// TestCounterGuide runs every `wallet …` and `mv …` command of the sh blocks of
// docs/verifiers/counter-guide.md, in order, in a counter directory holding the trust anchor,
// the trust list and a fresh code (code.png, code.txt). A trailing "# exit N" gives the
// expected exit status (default 0); "< FILE" is standard input.
func TestCounterGuide(t *testing.T) {
	dir := setup(t)
	run(t, dir, "", nil, "code", "--holder", holder, "--kind", "resident-id", "--png", "code.png", "--out", "code.txt").Want(t, 0)
	counter := t.TempDir()
	for src, dst := range map[string]string{
		"var/trust-anchor.pem": "trust-anchor.pem", "var/trust-list.cose": "trust-list.cose",
		"code.png": "code.png", "code.txt": "code.txt",
	} {
		b, err := os.ReadFile(filepath.Join(dir, src))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(counter, dst), b, 0o644)
		if dst == "trust-list.cose" {
			os.WriteFile(filepath.Join(counter, "trust-list.cose.new"), b, 0o644)
		}
	}
	doc, err := os.ReadFile("../../docs/verifiers/counter-guide.md")
	if err != nil {
		t.Fatal(err)
	}
	// The sample output has the shape of the real one: the same lines, with the same number
	// of digits in each number (the sequence is in microseconds), whatever the key and times.
	sample := regexp.MustCompile("(?s)```\n(VALID 有效\n.*?)```").FindStringSubmatch(string(doc))
	if sample == nil {
		t.Fatal("counter-guide.md has no sample output")
	}
	shape := func(s string) string {
		s = regexp.MustCompile(`key [0-9a-f]{16}`).ReplaceAllString(s, "key K")
		return regexp.MustCompile(`[0-9]`).ReplaceAllString(s, "9")
	}
	r := run(t, counter, "", nil, "verify", "--trust-list", "trust-list.cose", "--png", "code.png")
	r.Want(t, 0, "VALID")
	if got, want := shape(r.Stdout), shape(sample[1]); got != want {
		t.Errorf("counter-guide.md's sample output does not have the shape of verify's:\n--- doc\n%s--- verify\n%s", want, got)
	}
	ran := 0
	inSh := false
	for _, line := range strings.Split(string(doc), "\n") {
		switch {
		case strings.HasPrefix(line, "```sh"):
			inSh = true
			continue
		case strings.HasPrefix(line, "```"):
			inSh = false
			continue
		case !inSh || strings.TrimSpace(line) == "":
			continue
		}
		cmdline, wantCode := line, 0
		if i := strings.Index(line, "# exit "); i >= 0 {
			fmt.Sscanf(line[i:], "# exit %d", &wantCode)
			cmdline = line[:i]
		}
		stdin := ""
		if i := strings.Index(cmdline, " < "); i >= 0 {
			b, err := os.ReadFile(filepath.Join(counter, strings.TrimSpace(cmdline[i+3:])))
			if err != nil {
				t.Fatal(err)
			}
			stdin, cmdline = string(b), cmdline[:i]
		}
		args := strings.Fields(cmdline)
		switch args[0] {
		case "wallet":
			r := run(t, counter, stdin, nil, args[1:]...)
			if r.Code != wantCode {
				t.Fatalf("%s: exit %d, want %d\n%s%s", line, r.Code, wantCode, r.Stdout, r.Stderr)
			}
		case "mv":
			if err := os.Rename(filepath.Join(counter, args[1]), filepath.Join(counter, args[2])); err != nil {
				t.Fatalf("%s: %v", line, err)
			}
		default:
			t.Fatalf("unexpected command in the guide: %s", line)
		}
		ran++
	}
	if ran < 8 {
		t.Fatalf("ran only %d commands from the guide", ran)
	}
}

func TestKeysRotate(t *testing.T) {
	dir := setup(t)
	list := "var/trust-list.cose"
	before := strings.TrimSpace(run(t, dir, "", nil, "code", "--holder", holder, "--kind", "resident-id").Stdout)
	run(t, dir, "", nil, "verify", "--trust-list", list, "--state", "state.json", before).Want(t, 0)
	seq := func() uint64 {
		var s showJSON
		r := run(t, dir, "", nil, "trust-list", "show", "--json", list)
		if err := json.Unmarshal([]byte(r.Stdout), &s); err != nil {
			t.Fatal(err)
		}
		return s.Sequence
	}
	old := seq()
	os.Rename(filepath.Join(dir, list), filepath.Join(dir, "old.cose"))
	run(t, dir, "", nil, "keys", "rotate").Want(t, 0, "new code-signing key")
	run(t, dir, "", nil, "keys", "rotate", "--keep", "1s").Want(t, 2, "--keep")
	run(t, dir, "", nil, "trust-list", "export", list).Want(t, 0, "2 code-signing key(s)")
	if seq() <= old {
		t.Fatalf("sequence did not rise: %d after %d", seq(), old)
	}
	after := strings.TrimSpace(run(t, dir, "", nil, "code", "--holder", holder, "--kind", "resident-id").Stdout)
	// A code of the retired key (not yet accepted here) and one of the new key both verify.
	before2 := before
	run(t, dir, "", nil, "verify", "--trust-list", list, "--state", "state2.json", before2).Want(t, 0)
	run(t, dir, "", nil, "verify", "--trust-list", list, "--state", "state.json", after).Want(t, 0)
	// The old list no longer verifies the new key's code, and a state that saw the new list
	// refuses the old one.
	run(t, dir, "", nil, "verify", "--trust-list", "old.cose", "--trust-anchor", "var/trust-anchor.pem", after).Want(t, 1, "unknown_key")
	run(t, dir, "", nil, "verify", "--trust-list", "old.cose", "--trust-anchor", "var/trust-anchor.pem", "--state", "state.json", after).
		Want(t, 1, "trust_list_rolled_back")
	r := run(t, dir, "", nil, "keys", "list", "--json")
	r.Want(t, 0)
	var keys []keyRecordJSON
	if err := json.Unmarshal([]byte(r.Stdout), &keys); err != nil || len(keys) != 3 {
		t.Fatalf("keys list: %s", r.Stdout)
	}
}

// screenshot draws the PNG src at an offset on a white canvas with a dark bar on top.
func screenshot(t *testing.T, src, dst string) {
	t.Helper()
	f, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	b := img.Bounds()
	canvas := image.NewRGBA(image.Rect(0, 0, b.Dx()+120, b.Dy()+260))
	draw.Draw(canvas, canvas.Bounds(), image.White, image.Point{}, draw.Src)
	draw.Draw(canvas, image.Rect(0, 0, canvas.Bounds().Dx(), 60), &image.Uniform{color.RGBA{40, 40, 40, 255}}, image.Point{}, draw.Src)
	draw.Draw(canvas, b.Add(image.Pt(60, 140)), img, b.Min, draw.Src)
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	if err := png.Encode(out, canvas); err != nil {
		t.Fatal(err)
	}
}

// TestDecodeQRUnreadable: every decoder failure is the unreadable_image reason (the decoder
// itself, the pixel cap included, is tested in qr/qrimage).
func TestDecodeQRUnreadable(t *testing.T) {
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, 1, 1))); err != nil {
		t.Fatal(err)
	}
	for _, b := range [][]byte{[]byte("not an image"), buf.Bytes()} {
		if _, err := decodeQR(b); !errors.Is(err, verdict.ErrUnreadableImage) || verdict.ReasonOf(err).Code != "unreadable_image" {
			t.Errorf("decodeQR: %v", err)
		}
	}
}

func TestClearMessages(t *testing.T) {
	dir := setup(t)
	r := run(t, dir, "", nil, "code", "--holder", holder, "--kind", "resident-id,resident-id")
	r.Want(t, 2, "resident-id named twice")
	if strings.Contains(r.Stderr, "not found") {
		t.Errorf("duplicate kind reported as not found: %s", r.Stderr)
	}
	r = run(t, dir, "", nil, "code", "--holder", holder, "--kind", "passport")
	r.Want(t, 2, "unknown licence kind")
	if strings.Contains(r.Stderr, "at least one licence") {
		t.Errorf("irrelevant second error: %s", r.Stderr)
	}
	if err := os.WriteFile(filepath.Join(dir, "null.jsonl"), []byte("null\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r = run(t, dir, "", nil, "licences", "import", "null.jsonl")
	r.Want(t, 1, "line is not a JSON object", "nothing was stored")
	if strings.Contains(r.Stderr, "the other lines were stored") || strings.Contains(r.Stderr, `kind: ""`) {
		t.Errorf("import stderr: %s", r.Stderr)
	}
	// A holder with no licences of that kind: one clean message, no doubled prefixes.
	r = run(t, dir, "", nil, "code", "--holder", holder, "--kind", "resident-id,health-code,driving-licence,vehicle-licence,business-licence,social-security,transit-code", "--profile", "masked")
	if strings.Contains(r.Stderr, "wallet: wallet:") || strings.Contains(r.Stderr, "qr: ") {
		t.Errorf("doubled prefixes: %s", r.Stderr)
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

func TestAdminRefusesMissingFiles(t *testing.T) {
	dir := setup(t)
	r := run(t, dir, "", nil, "trust-list", "export", "--db", "var/tongbn.db", "out.cose")
	r.Want(t, 1, "var/tongbn.db", "--db", "does not exist")
	r = run(t, dir, "", nil, "keys", "list", "--kek-file", "var/kex")
	r.Want(t, 1, "var/kex", "--kek-file", "does not exist")
	for _, p := range []string{"var/tongbn.db", "var/kex", "out.cose"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err == nil {
			t.Errorf("%s was created", p)
		}
	}
}
