package app

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
)

// maxConfigFileSize bounds a config file (1 MiB); anything larger is a mistake.
const maxConfigFileSize = 1 << 20

// ConfigEntry is one "key = value" line of a config file.
type ConfigEntry struct {
	Key   string // a flag name, e.g. "kek-file"
	Value string // the value with surrounding blanks and one pair of matching quotes removed
	Line  int    // 1-based line number, for messages
}

// ReadConfigFile reads and parses the config file at path (see ParseConfigFile). Errors name
// the file and, for syntax errors, the line.
func ReadConfigFile(path string) ([]ConfigEntry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxConfigFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("config file %s: %w", path, err)
	}
	if len(data) > maxConfigFileSize {
		return nil, fmt.Errorf("config file %s: larger than %d bytes", path, maxConfigFileSize)
	}
	entries, err := ParseConfigFile(bytes.NewReader(data))
	if err != nil {
		return entries, fmt.Errorf("config file %s: %w", path, err)
	}
	return entries, nil
}

// ParseConfigFile parses tongban's config file format, a plain key = value file:
//
//	# tongban idp
//	addr     = 0.0.0.0:8080
//	issuer   = https://id.example.gov.cn
//	db       = "postgres://idp@db.internal/idp?sslmode=verify-full"
//	kek-file = /etc/tongban/kek
//
// Each line is blank, a comment (its first non-blank character is '#'), or a key, an '=' and a
// value. Blanks around keys and values are ignored; a value wrapped in one pair of matching
// double or single quotes loses them (there are no escapes, and a '#' after a value is part of
// it). A key is a flag name ("kek-file") or its environment variable name
// ("TONGBAN_KEK_FILE"), which ParseConfigFile turns into the flag name, so one file can also be
// a systemd EnvironmentFile. A key may appear once. The text must be UTF-8.
//
// ParseConfigFile checks only the syntax; ApplyConfig checks keys and values. On an error it
// returns the entries parsed so far and an error naming the line.
func ParseConfigFile(r io.Reader) ([]ConfigEntry, error) {
	var entries []ConfigEntry
	seen := map[string]int{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxConfigFileSize)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if n == 1 {
			line = strings.TrimPrefix(line, "\uFEFF")
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok {
			return entries, fmt.Errorf("line %d: want key = value", n)
		}
		key = strings.TrimSpace(key)
		value = strings.TrimSpace(value)
		if key == "" {
			return entries, fmt.Errorf("line %d: empty key", n)
		}
		if strings.HasPrefix(key, EnvPrefix) {
			key = strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(key, EnvPrefix), "_", "-"))
		}
		if strings.ContainsAny(key, " \t") {
			return entries, fmt.Errorf("line %d: key %q contains a blank", n, key)
		}
		if len(value) >= 2 && (value[0] == '"' || value[0] == '\'') {
			if value[len(value)-1] != value[0] {
				return entries, fmt.Errorf("line %d: unterminated quote", n)
			}
			value = value[1 : len(value)-1]
		}
		if prev, dup := seen[key]; dup {
			return entries, fmt.Errorf("line %d: key %q already set on line %d", n, key, prev)
		}
		seen[key] = n
		entries = append(entries, ConfigEntry{Key: key, Value: value, Line: n})
	}
	if err := sc.Err(); err != nil {
		return entries, fmt.Errorf("line %d: %w", n+1, err)
	}
	return entries, nil
}
