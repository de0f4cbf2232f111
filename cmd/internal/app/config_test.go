package app

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

// testFlags is a flag set like a service's: four configurable settings and one that is not.
type testFlags struct {
	addr, db, issuer, level string
	timeout                 time.Duration
	jsonOut                 bool
	fs                      *pflag.FlagSet
}

func newTestFlags(t *testing.T, args ...string) *testFlags {
	t.Helper()
	f := &testFlags{fs: pflag.NewFlagSet("test", pflag.ContinueOnError)}
	f.fs.String(ConfigFlag, "", "")
	f.fs.StringVar(&f.addr, "addr", "127.0.0.1:8080", "")
	f.fs.StringVar(&f.db, "db", "./var/tongban.db", "")
	f.fs.StringVar(&f.issuer, "issuer", "http://127.0.0.1:8080", "")
	f.fs.StringVar(&f.level, "log-level", "info", "")
	f.fs.DurationVar(&f.timeout, "read-timeout", 30*time.Second, "")
	f.fs.BoolVar(&f.jsonOut, "json", false, "")
	Configurable(f.fs, "addr", "db", "issuer", "log-level", "read-timeout")
	if err := f.fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return f
}

var testKnown = map[string]bool{"addr": true, "db": true, "issuer": true, "log-level": true, "read-timeout": true, "kek-file": true}

func env(kv map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := kv[k]; return v, ok }
}

func writeFile(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "tongban.conf")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestApplyConfigPrecedence checks flag > environment > config file > default, one setting
// per layer, all in one run.
func TestApplyConfigPrecedence(t *testing.T) {
	conf := writeFile(t, `
# every setting in the file; only log-level and read-timeout should survive
addr = 10.0.0.1:1
db = /from/file.db
issuer = "https://file.example"
log-level = debug
`)
	f := newTestFlags(t, "--config", conf, "--addr", "127.0.0.1:9999")
	src, err := ApplyConfig(f.fs, testKnown, env(map[string]string{
		"TONGBAN_ADDR":   "10.0.0.2:2", // loses to the flag
		"TONGBAN_DB":     "/from/env.db",
		"TONGBAN_ISSUER": "https://env.example",
	}))
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name, got, want string
		src             Source
	}{
		{"addr", f.addr, "127.0.0.1:9999", SourceFlag},
		{"db", f.db, "/from/env.db", SourceEnv},
		{"issuer", f.issuer, "https://env.example", SourceEnv},
		{"log-level", f.level, "debug", SourceFile},
		{"read-timeout", f.timeout.String(), "30s", SourceDefault},
	}
	for _, c := range checks {
		if c.got != c.want || src[c.name] != c.src {
			t.Errorf("%s = %q from %s, want %q from %s", c.name, c.got, src[c.name], c.want, c.src)
		}
	}
	if src[ConfigFlag] != SourceFlag {
		t.Errorf("config source %s, want flag", src[ConfigFlag])
	}
	if _, ok := src["json"]; ok {
		t.Error("non-configurable flag json has a source")
	}
}

func TestApplyConfigFileFromEnv(t *testing.T) {
	conf := writeFile(t, "TONGBAN_READ_TIMEOUT = 5s\n")
	f := newTestFlags(t)
	src, err := ApplyConfig(f.fs, testKnown, env(map[string]string{"TONGBAN_CONFIG": conf}))
	if err != nil {
		t.Fatal(err)
	}
	if f.timeout != 5*time.Second || src["read-timeout"] != SourceFile || src[ConfigFlag] != SourceEnv {
		t.Errorf("read-timeout %s from %s (config from %s)", f.timeout, src["read-timeout"], src[ConfigFlag])
	}
}

// TestApplyConfigReportsAll checks that every problem is reported in one error, without the
// rejected values.
func TestApplyConfigReportsAll(t *testing.T) {
	conf := writeFile(t, "read-timeout = soon\nbogus = 1\nkek = tongban-kek-v1:secret\nkek-file = /k\n")
	f := newTestFlags(t, "--config", conf)
	_, err := ApplyConfig(f.fs, testKnown, env(map[string]string{"TONGBAN_READ_TIMEOUT": "s3cr3t"}))
	if err == nil {
		t.Fatal("no error")
	}
	if !IsUsage(err) || ExitCode(err) != ExitUsage {
		t.Errorf("error %v is not a usage error", err)
	}
	var ce *ConfigError
	if !errors.As(err, &ce) || len(ce.Problems) != 3 {
		t.Fatalf("want 3 problems (unknown key, kek in file, bad env duration), got %v", err)
	}
	msg := err.Error()
	for _, want := range []string{`unknown key "bogus"`, "TONGBAN_READ_TIMEOUT: invalid duration", "not read from a config file"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	for _, secret := range []string{"s3cr3t", "tongban-kek-v1:secret"} {
		if strings.Contains(msg, secret) {
			t.Errorf("message shows the value %q:\n%s", secret, msg)
		}
	}
	// A value that does not parse leaves the setting as it was, so validation does not add a
	// second, misleading "must be positive, got 0s".
	if f.timeout != 30*time.Second {
		t.Errorf("read-timeout after a bad value = %s, want the default 30s", f.timeout)
	}
}

func TestApplyConfigMissingFile(t *testing.T) {
	f := newTestFlags(t, "--config", filepath.Join(t.TempDir(), "none.conf"))
	_, err := ApplyConfig(f.fs, testKnown, env(nil))
	if err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("err = %v, want a missing-file problem", err)
	}
}

func TestParseConfigFile(t *testing.T) {
	tests := []struct {
		name, text string
		want       []ConfigEntry
		wantErr    string
	}{
		{name: "ok/forms", text: "\uFEFF# c\n\n a=1 \nb = 'x y'\nc=\"q\"\nTONGBAN_KEK_FILE=/k\nd = v # not a comment\ne =\n",
			want: []ConfigEntry{{"a", "1", 3}, {"b", "x y", 4}, {"c", "q", 5}, {"kek-file", "/k", 6}, {"d", "v # not a comment", 7}, {"e", "", 8}}},
		{name: "fail/no-equals", text: "addr 1\n", wantErr: "line 1: want key = value"},
		{name: "fail/empty-key", text: " = 1\n", wantErr: "line 1: empty key"},
		{name: "fail/duplicate", text: "a=1\nTONGBAN_A=2\n", wantErr: `line 2: key "a" already set on line 1`},
		{name: "fail/unterminated", text: "a=\"x\n", wantErr: "line 1: unterminated quote"},
		{name: "fail/blank-in-key", text: "a b = 1\n", wantErr: "contains a blank"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseConfigFile(strings.NewReader(tt.text))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("entry %d = %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestEnvName(t *testing.T) {
	for in, want := range map[string]string{"db": "TONGBAN_DB", "kek-file": "TONGBAN_KEK_FILE", "read-header-timeout": "TONGBAN_READ_HEADER_TIMEOUT"} {
		if got := EnvName(in); got != want {
			t.Errorf("EnvName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestExitCode(t *testing.T) {
	var p Problems
	if p.Err() != nil {
		t.Error("empty Problems has an error")
	}
	p.Addf("a")
	p.Merge(errors.New("b"))
	tests := []struct {
		err  error
		want int
	}{
		{nil, ExitOK},
		{errors.New("disk full"), ExitFailure},
		{Usagef("bad flag"), ExitUsage},
		{p.Err(), ExitUsage},
	}
	for _, tt := range tests {
		if got := ExitCode(tt.err); got != tt.want {
			t.Errorf("ExitCode(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}

func TestHTTPConfigValidate(t *testing.T) {
	h := HTTPConfig{Addr: "nonsense", MaxHeaderBytes: 1}
	var p Problems
	h.Validate(&p)
	// addr, five timeouts, max-header-bytes
	if p.Len() != 7 {
		t.Errorf("%d problems, want 7: %v", p.Len(), p.Err())
	}
}
