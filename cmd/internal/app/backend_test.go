package app

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tongban/tongban/sm-crypto"
)

func discard() *slog.Logger { return slog.New(slog.NewJSONHandler(io.Discard, nil)) }

func testCommon(t *testing.T) Common {
	dir := t.TempDir()
	return Common{DB: filepath.Join(dir, "var", "tongban.db"), KEKFile: filepath.Join(dir, "secret", "kek"), LogLevel: "info"}
}

func TestOpenBackendCreatesKEK(t *testing.T) {
	ctx := context.Background()
	c := testCommon(t)
	b, err := OpenBackend(ctx, c, discard())
	if err != nil {
		t.Fatal(err)
	}
	id := b.KEKID
	b.Close()

	st, err := os.Stat(c.KEKFile)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("kek file mode %#o, want 0600", st.Mode().Perm())
	}
	dst, _ := os.Stat(filepath.Dir(c.KEKFile))
	if dst.Mode().Perm() != 0o700 {
		t.Errorf("kek dir mode %#o, want 0700", dst.Mode().Perm())
	}
	if KEKFileWarning(c.KEKFile) != "" {
		t.Error("warning for a 0600 file")
	}

	// Second start: same key, read from the file.
	b, err = OpenBackend(ctx, c, discard())
	if err != nil {
		t.Fatal(err)
	}
	if b.KEKID != id {
		t.Errorf("KEK ID changed: %s then %s", id, b.KEKID)
	}
	b.Close()

	// The same key given through TONGBAN_KEK.
	text, _ := os.ReadFile(c.KEKFile)
	envC := c
	envC.KEKFile = ""
	envC.KEK = strings.TrimSpace(string(text))
	b, err = OpenBackend(ctx, envC, discard())
	if err != nil {
		t.Fatal(err)
	}
	b.Close()
}

func TestOpenBackendKEKFailures(t *testing.T) {
	ctx := context.Background()
	c := testCommon(t)
	b, err := OpenBackend(ctx, c, discard())
	if err != nil {
		t.Fatal(err)
	}
	b.Close()

	other, _ := smcrypto.GenerateKEK(nil)
	tests := []struct {
		name     string
		setup    func(t *testing.T) Common
		wantErr  error
		wantText string
	}{
		{"fail/wrong-kek-file", func(t *testing.T) Common {
			x := c
			x.KEKFile = filepath.Join(t.TempDir(), "kek")
			os.WriteFile(x.KEKFile, []byte(other.Encode()+"\n"), 0o600)
			return x
		}, smcrypto.ErrWrongKEK, "did not wrap the keys in database"},
		{"fail/wrong-kek-env", func(t *testing.T) Common {
			x := c
			x.KEK = other.Encode()
			return x
		}, ErrWrongKEK, "TONGBAN_KEK"},
		{"fail/corrupt-kek-file", func(t *testing.T) Common {
			x := c
			x.KEKFile = filepath.Join(t.TempDir(), "kek")
			os.WriteFile(x.KEKFile, []byte("tongban-kek-v1:????\n"), 0o600)
			return x
		}, smcrypto.ErrMalformedKEK, "key-encryption key file"},
		{"fail/lost-kek-file", func(t *testing.T) Common {
			x := c
			x.KEKFile = filepath.Join(t.TempDir(), "gone", "kek")
			return x
		}, ErrKEKMissing, "restore that file from its backup"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := tt.setup(t)
			_, err := OpenBackend(ctx, x, discard())
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("message lacks %q: %v", tt.wantText, err)
			}
			if ExitCode(err) != ExitFailure {
				t.Errorf("exit code %d, want %d", ExitCode(err), ExitFailure)
			}
			if tt.wantErr == ErrKEKMissing {
				if _, serr := os.Stat(x.KEKFile); serr == nil {
					t.Error("a new KEK file was created for a database that has keys")
				}
			}
		})
	}
}

func TestCommonValidate(t *testing.T) {
	c := Common{DB: "", KEKFile: "x", LogLevel: "loud", KEK: "nonsense", Sources: Sources{"kek-file": SourceFlag}}
	var p Problems
	c.Validate(&p)
	msg := p.Err().Error()
	for _, want := range []string{"db: empty", "log-level", "TONGBAN_KEK: malformed", "both set"} {
		if !strings.Contains(msg, want) {
			t.Errorf("problems lack %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "nonsense") {
		t.Errorf("problems show the KEK value:\n%s", msg)
	}
}

func TestCommonValidatePKCS11(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    Common
		want []string // problems; none means valid
	}{
		{"ok/URI alone", Common{DB: "x", LogLevel: "info", KEKPKCS11: "pkcs11:token=t;object=o?module-path=/m.so"}, nil},
		{"fail/malformed URI", Common{DB: "x", LogLevel: "info", KEKPKCS11: "pkcs11:token=t?pin-value=s3cret"}, []string{"kek-pkcs11: pkcs11kek: malformed PKCS#11 URI"}},
		{"fail/with TONGBAN_KEK", Common{DB: "x", LogLevel: "info", KEK: "k", KEKPKCS11: "pkcs11:token=t;object=o?module-path=/m.so"}, []string{"TONGBAN_KEK and kek-pkcs11 are both set"}},
		{"fail/with kek-file", Common{DB: "x", LogLevel: "info", KEKFile: "f", Sources: Sources{"kek-file": SourceEnv}, KEKPKCS11: "pkcs11:token=t;object=o?module-path=/m.so"}, []string{"kek-pkcs11 and kek-file (from env) are both set"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var p Problems
			tc.c.Validate(&p)
			err := p.Err()
			if (err == nil) != (tc.want == nil) {
				t.Fatalf("Validate: %v, want %q", err, tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("problems lack %q:\n%v", w, err)
				}
			}
			if err != nil && strings.Contains(err.Error(), "s3cret") {
				t.Errorf("problems show the PIN: %v", err)
			}
		})
	}
}

// TestSQLitePrefix: --db with the sqlite: prefix names the file after it, for serve (which
// creates it) and for the admin commands (which require it), as package storage/open reads
// the address.
func TestSQLitePrefix(t *testing.T) {
	c := testCommon(t)
	path := c.DB
	c.DB = "sqlite:" + path
	if err := CheckExisting(c); !errors.Is(err, ErrNotInitialised) || !strings.Contains(err.Error(), "database sqlite:"+path) {
		t.Fatalf("missing database: %v", err)
	}
	b, err := OpenBackend(context.Background(), c, discard())
	if err != nil {
		t.Fatal(err)
	}
	b.Close()
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("database file %s: %v", path, err)
	}
	if err := CheckExisting(c); err != nil {
		t.Errorf("existing database: %v", err)
	}
	s, err := OpenExistingStore(context.Background(), c.DB)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
}
