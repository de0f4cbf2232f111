package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"

	"github.com/tongban/tongban/keyring"
	smcrypto "github.com/tongban/tongban/sm-crypto"
	"github.com/tongban/tongban/storage"
	"github.com/tongban/tongban/storage/open"
)

// ErrWrongKEK: the key-encryption key is not the one the database's keys were wrapped with.
// Errors carrying it also wrap smcrypto.ErrWrongKEK.
var ErrWrongKEK = errors.New("wrong key-encryption key")

// Backend is what a tongban service works on: its store and its keyring.
type Backend struct {
	Store   storage.Storage
	Keyring *keyring.Keyring
	// KEK is the key-encryption key in use: a *smcrypto.KEK, or a *pkcs11kek.KEK for
	// --kek-pkcs11.
	KEK keyring.KeyWrapper
	// KEKID is the ID of the key-encryption key in use (KEK.ID()), safe to log.
	KEKID string

	closeKEK func() error
}

// Close closes the store and releases the key-encryption key (a PKCS#11 session).
func (b *Backend) Close() error {
	err := b.Store.Close()
	if b.closeKEK != nil {
		err = errors.Join(err, b.closeKEK())
	}
	return err
}

// OpenBackend opens the store named by c.DB (open.Open), opens the key-encryption key
// (OpenKEK: the PKCS#11 key of --kek-pkcs11, or LoadKEK's, created on first start) and opens
// the keyring, creating the data keys on first start. It logs which store and which key (by
// ID, never the key) it uses.
//
// Errors: the store cannot be opened; ErrKEKMissing; smcrypto.ErrMalformedKEK; the start-up
// errors of pkcs11kek.Open; ErrWrongKEK (together with smcrypto.ErrWrongKEK) when the key is
// not the one that wrapped the database's keys — each with a message that says what the
// operator should do. On error nothing stays open.
func OpenBackend(ctx context.Context, c Common, log *slog.Logger) (*Backend, error) {
	store, err := open.Open(ctx, c.DB)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*Backend, error) {
		store.Close()
		return nil, err
	}
	kek, src, closeKEK, err := OpenKEK(ctx, c, store)
	if err != nil {
		return fail(err)
	}
	failKEK := func(err error) (*Backend, error) {
		closeKEK()
		return fail(err)
	}
	where := EnvKEK
	switch src {
	case KEKFromCreated:
		where = c.KEKFile
		log.Warn("created a new key-encryption key; back it up now, apart from the database: without it the stored keys and personal data cannot be decrypted",
			"kek_file", c.KEKFile, "kek_id", kek.ID())
	case KEKFromFile:
		where = c.KEKFile
		if w := KEKFileWarning(c.KEKFile); w != "" {
			log.Warn(w)
		}
	case KEKFromPKCS11:
		where = "the PKCS#11 token (--kek-pkcs11)"
	}
	kr, err := keyring.Open(ctx, store, kek)
	if err != nil {
		if errors.Is(err, smcrypto.ErrWrongKEK) || otherKEK(ctx, store, kek) {
			return failKEK(fmt.Errorf("%w: the key in %s (ID %s) did not wrap the keys in database %s; they were wrapped by %s: start with that key-encryption key (restore it from its backup): %w",
				ErrWrongKEK, where, kek.ID(), open.Redact(c.DB), storedWrapper(ctx, store), err))
		}
		return failKEK(fmt.Errorf("open keyring: %w", err))
	}
	log.Info("storage opened", "db", open.Redact(c.DB), "postgres", open.IsPostgres(c.DB), "kek_id", kek.ID(), "kek_source", string(src))
	return &Backend{Store: store, Keyring: kr, KEK: kek, KEKID: kek.ID(), closeKEK: closeKEK}, nil
}

// otherKEK reports whether the first stored data key records a KEK ID other than kek's (a
// blob of the other wrapper kind fails to unwrap with smcrypto.ErrDecrypt, not ErrWrongKEK).
func otherKEK(ctx context.Context, keys storage.Keys, kek keyring.KeyWrapper) bool {
	recs, err := keys.ListKeys(ctx, storage.PurposeData)
	return err == nil && len(recs) > 0 && wrappedID(recs[0].Sealed) != kek.ID()
}

// storedWrapper names the KEK that wrapped the first stored data key (WrappedBy).
func storedWrapper(ctx context.Context, keys storage.Keys) string {
	recs, err := keys.ListKeys(ctx, storage.PurposeData)
	if err != nil || len(recs) == 0 {
		return "an unknown key-encryption key"
	}
	return WrappedBy(recs[0].Sealed)
}

// ErrNotInitialised: an admin command was given a --db SQLite file or a --kek-file that does
// not exist. Only serve and demo create them on first start, so that a typo in a path does
// not silently create a new, empty database and a new key-encryption key.
var ErrNotInitialised = errors.New("not initialised")

// CheckExisting returns an error wrapping ErrNotInitialised, naming the path and its flag,
// when the SQLite file c.DB names (with or without "sqlite:") or (unless the key is given in
// TONGBAN_KEK or --kek-pkcs11) the file c.KEKFile does not exist. A PostgreSQL --db is not checked here.
func CheckExisting(c Common) error {
	if err := checkDB(c.DB); err != nil {
		return err
	}
	if c.KEK == "" && c.KEKPKCS11 == "" {
		if _, err := os.Stat(c.KEKFile); errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%w: key-encryption key file %s (--kek-file) does not exist; check the path or set %s (only serve and demo create a new key on first start)", ErrNotInitialised, c.KEKFile, EnvKEK)
		}
	}
	return nil
}

// OpenExisting is OpenBackend for admin commands: it first refuses (CheckExisting) a missing
// SQLite file or key-encryption key file instead of creating them.
func OpenExisting(ctx context.Context, c Common, log *slog.Logger) (*Backend, error) {
	if err := CheckExisting(c); err != nil {
		return nil, err
	}
	return OpenBackend(ctx, c, log)
}

// checkDB returns an error wrapping ErrNotInitialised when dsn is an SQLite address
// (open.Parse) whose file does not exist.
func checkDB(dsn string) error {
	if backend, path := open.Parse(dsn); backend == open.SQLite {
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%w: database %s (--db) does not exist; check the path (only serve and demo create a new database on first start)", ErrNotInitialised, dsn)
		}
	}
	return nil
}

// OpenExistingStore is open.Open for admin commands that read the store without the keyring
// (`idp clients list`, `idp keys list`): a missing SQLite file is an error wrapping
// ErrNotInitialised instead of a new, empty database. No key-encryption key is needed.
func OpenExistingStore(ctx context.Context, dsn string) (storage.Storage, error) {
	if err := checkDB(dsn); err != nil {
		return nil, err
	}
	return open.Open(ctx, dsn)
}
