package pkcs11kek

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
)

// URI is the parsed form of the PKCS#11 URI (RFC 7512) that names the key-encryption key:
//
//	pkcs11:token=<token label>;object=<key label>[;id=%01%02][;serial=<token serial>][;type=secret-key]
//	  ?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/etc/tongban/hsm-pin
//	  [&x-mechanism=aes-key-wrap-pad]
//
// (one line, no blanks). Path attributes are separated by ';', query attributes by '&'; values
// are percent-decoded (RFC 3986 §2.1; "%3B" for a ';' in a label). Attributes:
//
//   - token (required): the token label (CK_TOKEN_INFO.label, trailing blanks ignored).
//   - serial: the token serial number, when two tokens share a label.
//   - object (required): the key's CKA_LABEL.
//   - id: the key's CKA_ID, raw bytes (percent-encode every byte: %a1%b2).
//   - type: only "secret-key" is accepted.
//   - module-path (required): the absolute path of the PKCS#11 module (.so).
//   - pin-source: where the user PIN is read: "file:/path" or "/path". The file holds the PIN;
//     one trailing newline is ignored.
//   - pin-value: the PIN itself. For tests only: a URI often ends up in process lists and
//     logs. At most one of pin-source and pin-value.
//   - x-mechanism: the wrapping mechanism (ParseMechanism); default aes-key-wrap-pad. The
//     "x-" prefix is RFC 7512's for attributes outside the standard.
//
// Every other attribute (slot-id, library-*, manufacturer, model, module-name, …) is refused
// with ErrMalformedURI rather than silently ignored: a key must not be picked by fewer
// constraints than the operator wrote.
type URI struct {
	Token      string
	Serial     string // "" means any
	Object     string
	ID         []byte // nil means any
	ModulePath string
	PINSource  string // a file path, "file:" removed; "" when not given
	PINValue   string // "" when not given
	Mechanism  Mechanism
}

// String returns the URI with pin-value replaced by "***", for messages and logs.
func (u URI) String() string {
	var b strings.Builder
	b.WriteString("pkcs11:token=" + pctEncode(u.Token))
	if u.Serial != "" {
		b.WriteString(";serial=" + pctEncode(u.Serial))
	}
	b.WriteString(";object=" + pctEncode(u.Object))
	if u.ID != nil {
		b.WriteString(";id=")
		for _, c := range u.ID {
			fmt.Fprintf(&b, "%%%02x", c)
		}
	}
	b.WriteString("?module-path=" + pctEncode(u.ModulePath))
	if u.PINSource != "" {
		b.WriteString("&pin-source=file:" + pctEncode(u.PINSource))
	}
	if u.PINValue != "" {
		b.WriteString("&pin-value=***")
	}
	b.WriteString("&x-mechanism=" + u.Mechanism.String())
	return b.String()
}

// ParseURI parses a pkcs11: URI as described at URI. Errors wrap ErrMalformedURI and name the
// attribute at fault, never a PIN.
func ParseURI(s string) (URI, error) {
	bad := func(format string, args ...any) (URI, error) {
		return URI{}, fmt.Errorf("%w: %s", ErrMalformedURI, fmt.Sprintf(format, args...))
	}
	rest, ok := strings.CutPrefix(strings.TrimSpace(s), "pkcs11:")
	if !ok {
		return bad("does not start with \"pkcs11:\"")
	}
	path, query, _ := strings.Cut(rest, "?")
	u := URI{Mechanism: DefaultMechanism}
	seen := map[string]bool{}
	set := func(part, sep string, allowed []string, assign func(name, value string) error) error {
		if part == "" {
			return nil
		}
		for _, attr := range strings.Split(part, sep) {
			name, raw, ok := strings.Cut(attr, "=")
			if !ok || name == "" {
				return fmt.Errorf("attribute %q is not name=value", safeName(attr))
			}
			if !slices.Contains(allowed, name) {
				return fmt.Errorf("unknown attribute %q (known: %s)", name, strings.Join(allowed, ", "))
			}
			if seen[name] {
				return fmt.Errorf("attribute %q given twice", name)
			}
			seen[name] = true
			value, err := pctDecode(raw)
			if err != nil {
				return fmt.Errorf("attribute %q: %v", name, err)
			}
			if err := assign(name, value); err != nil {
				return fmt.Errorf("attribute %q: %v", name, err)
			}
		}
		return nil
	}
	err := set(path, ";", []string{"token", "serial", "object", "id", "type"}, func(name, value string) error {
		switch name {
		case "token":
			u.Token = value
		case "serial":
			u.Serial = value
		case "object":
			u.Object = value
		case "id":
			u.ID = []byte(value)
		case "type":
			if value != "secret-key" {
				return fmt.Errorf("want secret-key")
			}
		}
		return nil
	})
	if err != nil {
		return bad("%v", err)
	}
	err = set(query, "&", []string{"module-path", "pin-source", "pin-value", "x-mechanism"}, func(name, value string) error {
		switch name {
		case "module-path":
			u.ModulePath = value
		case "pin-source":
			p := strings.TrimPrefix(value, "file:")
			if !strings.HasPrefix(p, "/") {
				return fmt.Errorf("want file:/absolute/path")
			}
			u.PINSource = p
		case "pin-value":
			u.PINValue = value
		case "x-mechanism":
			m, err := ParseMechanism(value)
			if err != nil {
				return err
			}
			u.Mechanism = m
		}
		return nil
	})
	if err != nil {
		return bad("%v", err)
	}
	switch {
	case u.Token == "":
		return bad("token is required")
	case u.Object == "":
		return bad("object is required")
	case u.ModulePath == "":
		return bad("module-path is required")
	case !strings.HasPrefix(u.ModulePath, "/"):
		return bad("module-path must be an absolute path")
	case u.PINSource != "" && u.PINValue != "":
		return bad("give pin-source or pin-value, not both")
	case seen["id"] && len(u.ID) == 0:
		return bad("id is empty")
	}
	return u, nil
}

// safeName returns the part of attr before any '=' (the value may be a PIN).
func safeName(attr string) string {
	name, _, _ := strings.Cut(attr, "=")
	return name
}

// pctDecode decodes RFC 3986 percent-encoding. A '%' not followed by two hex digits is an
// error, and so is a character a URI may not hold unencoded: blanks, controls, non-ASCII,
// '#', '"', '<', '>', backslash.
func pctDecode(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%':
			if i+2 >= len(s) {
				return "", fmt.Errorf("truncated percent-encoding")
			}
			v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
			if err != nil {
				return "", fmt.Errorf("bad percent-encoding")
			}
			b.WriteByte(byte(v))
			i += 2
		case c <= ' ' || c >= 0x7f || c == '#' || c == '"' || c == '<' || c == '>' || c == '\\':
			return "", fmt.Errorf("character %q must be percent-encoded", c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

// pctEncode percent-encodes every byte that is not unreserved (RFC 3986 §2.3) or '/' or ':'.
func pctEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-._~/:", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// readPIN returns the PIN of u: pin-value, else the contents of the pin-source file (one
// trailing "\n" or "\r\n" removed), else fallback. Errors: ErrNoPIN, or the file error
// (which names the file, never its contents).
func (u URI) readPIN(fallback string) (string, error) {
	switch {
	case u.PINValue != "":
		return u.PINValue, nil
	case u.PINSource != "":
		data, err := os.ReadFile(u.PINSource)
		if err != nil {
			return "", fmt.Errorf("pkcs11kek: pin-source: %w", err)
		}
		pin := strings.TrimSuffix(strings.TrimSuffix(string(data), "\n"), "\r")
		if pin == "" {
			return "", fmt.Errorf("%w: pin-source file %s is empty", ErrNoPIN, u.PINSource)
		}
		return pin, nil
	case fallback != "":
		return fallback, nil
	}
	return "", fmt.Errorf("%w: give pin-source in the URI (or the PIN in the environment)", ErrNoPIN)
}
