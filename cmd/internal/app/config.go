package app

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// EnvPrefix starts the name of every environment variable tongban reads.
const EnvPrefix = "TONGBAN_"

// ConfigFlag is the name of the flag that names the config file; its environment variable is
// TONGBAN_CONFIG. The config file itself cannot set it.
const ConfigFlag = "config"

// EnvKEK is the environment variable that holds the key-encryption key itself (the text
// smcrypto.ParseKEK accepts), for container secrets. It has no flag (a key on the command line
// would show in the process list) and no config-file key.
const EnvKEK = "TONGBAN_KEK"

// EnvPKCS11PIN is the environment variable that holds the user PIN of the token named by
// --kek-pkcs11, when its URI has neither pin-source nor pin-value. Like TONGBAN_KEK it has no
// flag and no config-file key.
const EnvPKCS11PIN = "TONGBAN_PKCS11_PIN"

// configurableAnnotation marks a flag that ApplyConfig fills from the environment and the
// config file.
const configurableAnnotation = "tongban/configurable"

// Source says where a setting's value came from.
type Source string

// Sources of a setting, from the strongest to the weakest.
const (
	SourceFlag    Source = "flag"    // given on the command line
	SourceEnv     Source = "env"     // TONGBAN_<NAME>
	SourceFile    Source = "file"    // a key of the config file
	SourceDefault Source = "default" // the flag's default
)

// Sources maps the names of the configurable flags of one command to where their values came
// from. It holds no values, so it may be logged.
type Sources map[string]Source

// Configurable marks the named flags of fs as settable from the environment and the config
// file as well as from the command line, and adds "(env TONGBAN_<NAME>)" to their usage text.
// It panics if fs has no such flag (a programming error).
func Configurable(fs *pflag.FlagSet, names ...string) {
	for _, name := range names {
		if err := fs.SetAnnotation(name, configurableAnnotation, []string{"true"}); err != nil {
			panic(fmt.Sprintf("app: Configurable(%q): %v", name, err))
		}
		f := fs.Lookup(name)
		f.Usage += " (env " + EnvName(name) + ")"
	}
}

// IsConfigurable reports whether f was marked with Configurable.
func IsConfigurable(f *pflag.Flag) bool {
	_, ok := f.Annotations[configurableAnnotation]
	return ok
}

// EnvName returns the environment variable of the flag called name: EnvPrefix followed by the
// name in upper case with '-' replaced by '_' (kek-file → TONGBAN_KEK_FILE).
func EnvName(name string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// ConfigKeys returns the names of the configurable flags of root and of all its subcommands:
// the keys a config file for this binary may hold. One file serves every subcommand, so a key
// that only another subcommand uses is not an error.
func ConfigKeys(root *cobra.Command) map[string]bool {
	keys := map[string]bool{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		visit := func(f *pflag.Flag) {
			if IsConfigurable(f) {
				keys[f.Name] = true
			}
		}
		c.PersistentFlags().VisitAll(visit)
		c.Flags().VisitAll(visit)
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	return keys
}

// ApplyConfig gives every configurable flag of fs that was not set on the command line the value
// of its environment variable (EnvName), else the value of its key in the config file, else
// leaves its default. It must run after fs was parsed. known lists the keys a config file may
// hold (ConfigKeys of the binary's root command); lookupEnv is os.LookupEnv outside tests.
//
// The config file is the one named by the --config flag (ConfigFlag) or else by TONGBAN_CONFIG;
// without either there is none. Its format is described at ParseConfigFile.
//
// Every problem — an unreadable or malformed file, an unknown key, a value the flag rejects —
// is collected; the error, if any, is a *UsageError holding a *ConfigError that lists them all.
// Error messages name the variable or file line, never the value, which may be a secret (a
// database URL with a password).
func ApplyConfig(fs *pflag.FlagSet, known map[string]bool, lookupEnv func(string) (string, bool)) (Sources, error) {
	if lookupEnv == nil {
		lookupEnv = os.LookupEnv
	}
	var problems Problems
	file := map[string]ConfigEntry{}
	path, pathSource := "", SourceDefault
	if f := fs.Lookup(ConfigFlag); f != nil && f.Changed {
		path, pathSource = f.Value.String(), SourceFlag
	} else if v, ok := lookupEnv(EnvName(ConfigFlag)); ok && v != "" {
		path, pathSource = v, SourceEnv
		if f != nil {
			_ = f.Value.Set(v)
		}
	}
	if path != "" {
		entries, err := ReadConfigFile(path)
		if err != nil {
			problems.Add(err)
		}
		for _, e := range entries {
			switch {
			case e.Key == ConfigFlag:
				problems.Addf("config file %s line %d: %q cannot be set in a config file", path, e.Line, e.Key)
			case e.Key == "pkcs11-pin":
				problems.Addf("config file %s line %d: the PKCS#11 PIN is not read from a config file; use pin-source in the kek-pkcs11 URI, or the %s environment variable", path, e.Line, EnvPKCS11PIN)
			case e.Key == "kek":
				problems.Addf("config file %s line %d: the key-encryption key is not read from a config file; use kek-file, or the %s environment variable", path, e.Line, EnvKEK)
			case !known[e.Key]:
				problems.Addf("config file %s line %d: unknown key %q (known: %s)", path, e.Line, e.Key, strings.Join(sortedKeys(known), ", "))
			default:
				file[e.Key] = e
			}
		}
	}

	sources := Sources{}
	if fs.Lookup(ConfigFlag) != nil {
		sources[ConfigFlag] = pathSource
	}
	fs.VisitAll(func(f *pflag.Flag) {
		if !IsConfigurable(f) {
			return
		}
		if f.Changed {
			sources[f.Name] = SourceFlag
			return
		}
		if v, ok := lookupEnv(EnvName(f.Name)); ok {
			if err := setKeeping(f, v); err != nil {
				problems.Addf("%s: invalid %s value (%s)", EnvName(f.Name), f.Value.Type(), setError(err))
				return
			}
			sources[f.Name] = SourceEnv
			return
		}
		if e, ok := file[f.Name]; ok {
			if err := setKeeping(f, e.Value); err != nil {
				problems.Addf("config file %s line %d: %s: invalid %s value (%s)", path, e.Line, f.Name, f.Value.Type(), setError(err))
				return
			}
			sources[f.Name] = SourceFile
			return
		}
		sources[f.Name] = SourceDefault
	})
	return sources, problems.Err()
}

// setError shortens a flag.Value.Set error to its cause without echoing the input: strconv
// errors carry the rejected text, which may be a secret.
func setError(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		msg = msg[i+2:]
	}
	return strings.TrimSpace(quoted.ReplaceAllString(msg, ""))
}

// quoted matches a quoted value inside an error message.
var quoted = regexp.MustCompile(`"[^"]*"`)

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// lookupEnvDefault is os.LookupEnv; a variable so that the default is explicit in one place.
var lookupEnvDefault = os.LookupEnv

// setKeeping sets f to v; when v does not parse, f keeps its previous value (pflag's setters
// store the zero value on failure, which validation would then report as a second, misleading
// problem).
func setKeeping(f *pflag.Flag, v string) error {
	old := f.Value.String()
	err := f.Value.Set(v)
	if err != nil {
		_ = f.Value.Set(old)
	}
	return err
}
