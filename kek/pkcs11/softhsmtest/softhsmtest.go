// Package softhsmtest prepares SoftHSM2 tokens for tests of the PKCS#11 key-encryption key.
// It runs softhsm2-util and writes files; it is for tests only.
package softhsmtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Defaults of the tokens Setup creates.
const (
	// ModulePath is where Debian's softhsm2 package installs the module.
	ModulePath = "/usr/lib/softhsm/libsofthsm2.so"
	// PIN and SOPIN are the user and security-officer PINs of every token Setup creates.
	PIN   = "5678"
	SOPIN = "1234"
	// RequireEnv set to 1 makes Available's absence a test failure instead of a skip (CI).
	RequireEnv = "TONGBAN_REQUIRE_SOFTHSM"
)

// Available returns "" when ModulePath and softhsm2-util are installed, else why not.
func Available() string {
	if _, err := os.Stat(ModulePath); err != nil {
		return fmt.Sprintf("SoftHSM2 module %s missing (apt-get install softhsm2)", ModulePath)
	}
	if _, err := exec.LookPath("softhsm2-util"); err != nil {
		return "softhsm2-util not on PATH (apt-get install softhsm2)"
	}
	return ""
}

// Require skips t when SoftHSM2 is missing, or fails it when TONGBAN_REQUIRE_SOFTHSM=1.
func Require(t testing.TB) {
	t.Helper()
	if why := Available(); why != "" {
		if os.Getenv(RequireEnv) == "1" {
			t.Fatalf("%s, and %s=1", why, RequireEnv)
		}
		t.Skipf("skipped: %s", why)
	}
}

// Setup writes a SoftHSM2 configuration in dir whose tokens live in dir/tokens, creates one
// token per label with PIN and SOPIN, and returns the configuration's path: the value for
// SOFTHSM2_CONF. SoftHSM2 reads SOFTHSM2_CONF when the module is initialised, so a process
// must set it before its first use of the module.
func Setup(dir string, labels ...string) (string, error) {
	tokens := filepath.Join(dir, "tokens")
	if err := os.MkdirAll(tokens, 0o700); err != nil {
		return "", err
	}
	conf := filepath.Join(dir, "softhsm2.conf")
	text := fmt.Sprintf("directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n", tokens)
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		return "", err
	}
	for _, label := range labels {
		cmd := exec.Command("softhsm2-util", "--init-token", "--free", "--label", label, "--so-pin", SOPIN, "--pin", PIN)
		cmd.Env = append(os.Environ(), "SOFTHSM2_CONF="+conf)
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("softhsm2-util --init-token %s: %v\n%s", label, err, out)
		}
	}
	return conf, nil
}

// URI returns the pkcs11: URI of key object in token, with the PIN as pin-value (tests only)
// and the default mechanism.
func URI(token, object string) string {
	return fmt.Sprintf("pkcs11:token=%s;object=%s?module-path=%s&pin-value=%s", token, object, ModulePath, PIN)
}
