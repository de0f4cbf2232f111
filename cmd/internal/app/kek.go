package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	pkcs11kek "github.com/tongban/tongban/kek/pkcs11"
	"github.com/tongban/tongban/keyring"
	"github.com/tongban/tongban/sm-crypto"
	"github.com/tongban/tongban/storage"
)

// ErrKEKMissing: the key-encryption key file does not exist although the database already
// holds keys wrapped by a key-encryption key, so a new one would be useless.
var ErrKEKMissing = errors.New("key-encryption key file missing")

// maxKEKFileSize bounds a KEK file; the text form is 39 characters.
const maxKEKFileSize = 4096

// KEKSource says where LoadKEK found the key.
type KEKSource string

const (
	KEKFromEnv     KEKSource = "env"     // TONGBAN_KEK
	KEKFromFile    KEKSource = "file"    // an existing kek-file
	KEKFromCreated KEKSource = "created" // a new kek-file written by LoadKEK
)

// LoadKEK returns the key-encryption key of c: the one in c.KEK (TONGBAN_KEK) when set, else
// the one in the file c.KEKFile. When that file does not exist and keys (storage.Keys, the
// data keys of the keyring) holds no key yet — a first start — it generates a key and writes
// it there with mode 0600, creating missing directories with mode 0700, and never replaces a
// file that appears meanwhile. When the file is missing but the store already holds keys it
// returns an error wrapping ErrKEKMissing instead: the stored keys can only be unwrapped by the
// key that was lost, and the operator must restore it from its backup.
//
// A file that is readable by group or others is still used; LoadKEK's caller should warn (see
// KEKFileWarning). Errors wrap smcrypto.ErrMalformedKEK for a file or variable that does not
// hold a KEK, ErrKEKMissing, or the file system error. Whether the key is the right one for the
// database is only known when the keyring opens (keyring.Open, smcrypto.ErrWrongKEK).
func LoadKEK(ctx context.Context, c Common, keys storage.Keys) (*smcrypto.KEK, KEKSource, error) {
	if c.KEK != "" {
		k, err := smcrypto.ParseKEK(c.KEK)
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", EnvKEK, err)
		}
		return k, KEKFromEnv, nil
	}
	path := c.KEKFile
	k, err := readKEKFile(path)
	if err == nil {
		return k, KEKFromFile, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, "", err
	}

	// First start, or a lost file? Keys in the database say which.
	existing, lerr := keys.ListKeys(ctx, storage.PurposeData)
	if lerr != nil {
		return nil, "", fmt.Errorf("key-encryption key: look for existing keys: %w", lerr)
	}
	if len(existing) > 0 {
		return nil, "", fmt.Errorf("%w: %s does not exist, but the database already holds keys wrapped by %s; restore that file from its backup (or set %s, or give --kek-pkcs11 when it was a PKCS#11 key): a new key cannot decrypt them",
			ErrKEKMissing, path, WrappedBy(existing[0].Sealed), EnvKEK)
	}
	k, err = smcrypto.GenerateKEK(nil)
	if err != nil {
		return nil, "", err
	}
	if err := writeKEKFile(path, k); err != nil {
		if errors.Is(err, fs.ErrExist) { // another process created it first: use theirs
			k, err := readKEKFile(path)
			return k, KEKFromFile, err
		}
		return nil, "", err
	}
	return k, KEKFromCreated, nil
}

func readKEKFile(path string) (*smcrypto.KEK, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("key-encryption key file: %w", err)
	}
	defer f.Close()
	buf, err := io.ReadAll(io.LimitReader(f, maxKEKFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("key-encryption key file %s: %w", path, err)
	}
	if len(buf) > maxKEKFileSize {
		return nil, fmt.Errorf("key-encryption key file %s: %w: larger than %d bytes", path, smcrypto.ErrMalformedKEK, maxKEKFileSize)
	}
	k, err := smcrypto.ParseKEK(string(buf))
	if err != nil {
		return nil, fmt.Errorf("key-encryption key file %s: %w", path, err)
	}
	return k, nil
}

func writeKEKFile(path string, k *smcrypto.KEK) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("key-encryption key file: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("key-encryption key file: %w", err)
	}
	_, werr := f.WriteString(k.Encode() + "\n")
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		_ = os.Remove(path)
		return fmt.Errorf("key-encryption key file %s: %w", path, err)
	}
	return nil
}

// KEKFileWarning returns a warning when the KEK file at path may be read by users other than
// its owner (any of the mode bits 0077 set), else "". It does not fail: the operator decides.
func KEKFileWarning(path string) string {
	st, err := os.Stat(path)
	if err != nil {
		return ""
	}
	if st.Mode().Perm()&0o077 != 0 {
		return fmt.Sprintf("key-encryption key file %s has mode %#o; it should be readable by the service user only (chmod 600)", path, st.Mode().Perm())
	}
	return ""
}

// KEKFromPKCS11 is the source of a key-encryption key held in a cryptographic module
// (--kek-pkcs11).
const KEKFromPKCS11 KEKSource = "pkcs11"

// OpenKEK returns the key-encryption key of c and a function that releases it: the key in
// the PKCS#11 token named by c.KEKPKCS11 when set (pkcs11kek.Open, with c.PKCS11PIN as the PIN
// when the URI names none), else LoadKEK's. Errors: those of LoadKEK, or the start-up errors
// of pkcs11kek.Open (pkcs11kek.ErrModule, ErrTokenNotFound, ErrWrongPIN, ErrKeyNotFound, …)
// prefixed with "kek-pkcs11".
func OpenKEK(ctx context.Context, c Common, keys storage.Keys) (keyring.KeyWrapper, KEKSource, func() error, error) {
	if c.KEKPKCS11 != "" {
		k, err := pkcs11kek.Open(pkcs11kek.Config{URI: c.KEKPKCS11, PIN: c.PKCS11PIN})
		if err != nil {
			return nil, "", nil, fmt.Errorf("kek-pkcs11: %w", err)
		}
		return k, KEKFromPKCS11, k.Close, nil
	}
	k, src, err := LoadKEK(ctx, c, keys)
	if err != nil {
		return nil, "", nil, err
	}
	return k, src, func() error { return nil }, nil
}

// WrappedBy names the key-encryption key that wrapped a stored key, for messages: "the
// key-encryption key file or TONGBAN_KEK with ID …", "the PKCS#11 key-encryption key with ID
// …", or "an unknown key-encryption key".
func WrappedBy(sealed []byte) string {
	if id, err := smcrypto.WrappedKEKID(sealed); err == nil {
		return fmt.Sprintf("the key-encryption key file or %s with ID %s", EnvKEK, id)
	}
	if id, err := pkcs11kek.WrappedID(sealed); err == nil {
		return fmt.Sprintf("the PKCS#11 key-encryption key (--kek-pkcs11) with ID %s", id)
	}
	return "an unknown key-encryption key"
}

// wrappedID returns the KEK ID recorded in sealed by either wrapper, or "".
func wrappedID(sealed []byte) string {
	if id, err := smcrypto.WrappedKEKID(sealed); err == nil {
		return id
	}
	id, _ := pkcs11kek.WrappedID(sealed)
	return id
}
