package app

import (
	"errors"
	"io"
	"log/slog"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	pkcs11kek "github.com/tongban/tongban/kek/pkcs11"
	"github.com/tongban/tongban/sm-crypto"
)

// Defaults of the common settings. Relative paths are relative to the working directory, so
// that a fresh clone runs with no configuration; the idp and the wallet share both files.
const (
	DefaultDB       = "./var/tongban.db" // SQLite file
	DefaultKEKFile  = "./var/kek"        // key-encryption key, created on first start
	DefaultLogLevel = "info"
)

// Common holds the settings every tongban binary has. Register them with AddFlags on the root
// command's persistent flags, fill them with Load, and check them with Validate.
type Common struct {
	// Config is the config file (--config, TONGBAN_CONFIG); "" means none.
	Config string
	// DB names the store (--db, TONGBAN_DB), as package storage/open reads it: a postgres://
	// or postgresql:// URL (any case) opens PostgreSQL; anything else is an SQLite file path,
	// with or without a "sqlite:" prefix, whose directory is created (mode 0700) when missing.
	// Default DefaultDB.
	DB string
	// KEKFile is the key-encryption key file (--kek-file, TONGBAN_KEK_FILE), created with mode
	// 0600 (its directory 0700) on first start when missing. Ignored when KEK is set.
	// Default DefaultKEKFile.
	KEKFile string
	// KEK is the key-encryption key itself, from the environment variable TONGBAN_KEK only (no
	// flag, no config-file key), in the text form of smcrypto.ParseKEK. "" means use KEKFile.
	KEK string
	// KEKPKCS11 is the PKCS#11 URI (RFC 7512, see pkcs11kek.URI) of a key-encryption key held
	// in a cryptographic module (--kek-pkcs11, TONGBAN_KEK_PKCS11, config key kek-pkcs11).
	// When set it replaces KEKFile and KEK. "" means none.
	KEKPKCS11 string
	// PKCS11PIN is the user PIN of that module's token, from the environment variable
	// TONGBAN_PKCS11_PIN only, used when the URI has neither pin-source nor pin-value.
	PKCS11PIN string
	// LogLevel is the lowest level logged (--log-level, TONGBAN_LOG_LEVEL): debug, info, warn
	// or error. Default DefaultLogLevel.
	LogLevel string

	// Sources says where each setting came from, after Load.
	Sources Sources
}

// AddFlags registers --config, --db, --kek-file, --kek-pkcs11 and --log-level on fs (normally the root
// command's persistent flags) and marks all but --config configurable.
func (c *Common) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&c.Config, ConfigFlag, "", "config file of key = value lines (env TONGBAN_CONFIG)")
	fs.StringVar(&c.DB, "db", DefaultDB, "storage: an SQLite file path, or a postgres:// URL")
	fs.StringVar(&c.KEKFile, "kek-file", DefaultKEKFile, "key-encryption key file (serve and demo create it, mode 0600, on first start); or give the key itself in TONGBAN_KEK")
	fs.StringVar(&c.KEKPKCS11, "kek-pkcs11", "", "PKCS#11 URI of a key-encryption key in a cryptographic module (replaces --kek-file); PIN from pin-source in the URI or TONGBAN_PKCS11_PIN")
	fs.StringVar(&c.LogLevel, "log-level", DefaultLogLevel, "lowest log level: debug, info, warn or error")
	Configurable(fs, "db", "kek-file", "kek-pkcs11", "log-level")
}

// Load layers the environment and the config file under the command line for every
// configurable flag of cmd (see ApplyConfig), reads TONGBAN_KEK, and records the sources.
// Call it first thing in the command's run function (or PersistentPreRunE), before Validate.
// The error lists every problem found (a *UsageError).
func (c *Common) Load(cmd *cobra.Command, lookupEnv func(string) (string, bool)) error {
	if lookupEnv == nil {
		lookupEnv = lookupEnvDefault
	}
	sources, err := ApplyConfig(cmd.Flags(), ConfigKeys(cmd.Root()), lookupEnv)
	c.Sources = sources
	c.KEK, _ = lookupEnv(EnvKEK)
	c.KEK = strings.TrimSpace(c.KEK)
	c.PKCS11PIN, _ = lookupEnv(EnvPKCS11PIN)
	return err
}

// Validate records every problem of c in p: an empty --db, an unknown log level, a malformed
// TONGBAN_KEK, TONGBAN_KEK together with an explicitly set kek-file, a malformed kek-pkcs11
// URI, or kek-pkcs11 together with TONGBAN_KEK or an explicitly set kek-file.
func (c *Common) Validate(p *Problems) {
	if strings.TrimSpace(c.DB) == "" {
		p.Addf("db: empty; give an SQLite file path or a postgres:// URL")
	}
	if _, err := ParseLevel(c.LogLevel); err != nil {
		p.Add(err)
	}
	if c.KEKPKCS11 != "" {
		if _, err := pkcs11kek.ParseURI(c.KEKPKCS11); err != nil {
			p.Addf("kek-pkcs11: %v", err)
		}
		if c.KEK != "" {
			p.Addf("%s and kek-pkcs11 are both set: give only one key-encryption key", EnvKEK)
		}
		if s := c.Sources["kek-file"]; s != "" && s != SourceDefault {
			p.Addf("kek-pkcs11 and kek-file (from %s) are both set: give only one key-encryption key", s)
		}
		return
	}
	if c.KEK != "" {
		if _, err := smcrypto.ParseKEK(c.KEK); err != nil {
			if errors.Is(err, smcrypto.ErrMalformedKEK) {
				p.Addf("%s: malformed key-encryption key (want the tongban-kek-v1: text of a KEK file)", EnvKEK)
			} else {
				p.Addf("%s: %v", EnvKEK, err)
			}
		}
		if s := c.Sources["kek-file"]; s != "" && s != SourceDefault {
			p.Addf("%s and kek-file (from %s) are both set: give only one", EnvKEK, s)
		}
	} else if strings.TrimSpace(c.KEKFile) == "" {
		p.Addf("kek-file: empty; give a path (or the key itself in %s)", EnvKEK)
	}
}

// ParseLevel parses a log level name: debug, info, warn (or warning) or error, in any case.
func ParseLevel(s string) (slog.Level, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "debug":
		return slog.LevelDebug, nil
	case "info", "":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, errors.New("log-level: want debug, info, warn or error")
}

// Setup prepares a command's run: it layers the environment and the config file under the
// flags (Load), runs validate (which must include c.Validate; nil means c.Validate alone),
// reports every problem at once as a usage error, and returns a JSON logger writing to errOut.
// Admin commands (admin true) log warnings and errors only, unless --log-level asks for less.
func (c *Common) Setup(cmd *cobra.Command, lookupEnv func(string) (string, bool), errOut io.Writer, admin bool, validate func(p *Problems)) (*slog.Logger, error) {
	var p Problems
	p.Merge(c.Load(cmd, lookupEnv))
	if validate == nil {
		validate = c.Validate
	}
	validate(&p)
	if err := p.Err(); err != nil {
		return nil, err
	}
	level := c.LogLevel
	if admin {
		if l, _ := ParseLevel(level); l < slog.LevelWarn {
			level = "warn"
		}
	}
	return NewLogger(errOut, level)
}
