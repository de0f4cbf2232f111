package federation

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// validClaims returns the claims of a valid entity configuration as a map to tamper with.
func validClaims(t testing.TB) map[string]any {
	t.Helper()
	s := newKey(t, true)
	ec := &EntityStatement{Issuer: "https://a.example", Subject: "https://a.example", IssuedAt: t0, Expires: t0.Add(time.Hour),
		JWKS: KeySet(s), AuthorityHints: []string{"https://ta.example"}}
	b, err := ec.MarshalClaims()
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestParseClaims(t *testing.T) {
	cases := []struct {
		name    string
		tamper  func(m map[string]any)
		wantErr error
	}{
		{"ok/configuration", func(m map[string]any) {}, nil},
		{"ok/subordinate with policy", func(m map[string]any) {
			m["sub"] = "https://leaf.example"
			delete(m, "authority_hints")
			m["metadata_policy"] = map[string]any{"openid_relying_party": map[string]any{"x": map[string]any{"value": 1}}}
			m["constraints"] = map[string]any{"max_path_length": 1, "allowed_entity_types": []any{"openid_relying_party"}}
		}, nil},
		{"ok/unknown claim ignored", func(m map[string]any) { m["province"] = "甲" }, nil},
		{"fail/missing iss", func(m map[string]any) { delete(m, "iss") }, ErrMalformed},
		{"fail/missing sub", func(m map[string]any) { delete(m, "sub") }, ErrMalformed},
		{"fail/missing iat", func(m map[string]any) { delete(m, "iat") }, ErrMalformed},
		{"fail/missing exp", func(m map[string]any) { delete(m, "exp") }, ErrMalformed},
		{"fail/missing jwks", func(m map[string]any) { delete(m, "jwks") }, ErrMalformed},
		{"fail/null jwks", func(m map[string]any) { m["jwks"] = nil }, ErrMalformed},
		{"fail/empty jwks", func(m map[string]any) { m["jwks"] = map[string]any{"keys": []any{}} }, ErrMalformed},
		{"fail/iat a string", func(m map[string]any) { m["iat"] = "now" }, ErrMalformed},
		{"fail/exp before iat", func(m map[string]any) { m["exp"] = m["iat"] }, ErrMalformed},
		{"fail/iss not a URL", func(m map[string]any) { m["iss"] = "a.example" }, ErrMalformed},
		{"fail/sub with query", func(m map[string]any) { m["sub"] = "https://a.example/?x=1" }, ErrMalformed},
		{"fail/sub with fragment", func(m map[string]any) { m["sub"] = "https://a.example/#x" }, ErrMalformed},
		{"fail/iss ftp", func(m map[string]any) { m["iss"] = "ftp://a.example" }, ErrMalformed},
		{"fail/crit unknown", func(m map[string]any) { m["crit"] = []any{"province"}; m["province"] = 1 }, ErrMalformed},
		{"fail/crit standard", func(m map[string]any) { m["crit"] = []any{"iss"} }, ErrMalformed},
		{"fail/crit empty", func(m map[string]any) { m["crit"] = []any{} }, ErrMalformed},
		{"fail/authority_hints in subordinate statement", func(m map[string]any) { m["sub"] = "https://leaf.example" }, ErrMalformed},
		{"fail/authority_hints empty", func(m map[string]any) { m["authority_hints"] = []any{} }, ErrMalformed},
		{"fail/authority hint not a URL", func(m map[string]any) { m["authority_hints"] = []any{"ta"} }, ErrMalformed},
		{"fail/metadata_policy in configuration", func(m map[string]any) {
			m["metadata_policy"] = map[string]any{}
		}, ErrMalformed},
		{"fail/constraints in configuration", func(m map[string]any) { m["constraints"] = map[string]any{} }, ErrMalformed},
		{"fail/negative max_path_length", func(m map[string]any) {
			m["sub"] = "https://leaf.example"
			delete(m, "authority_hints")
			m["constraints"] = map[string]any{"max_path_length": -1}
		}, ErrMalformed},
		{"fail/policy add not an array", func(m map[string]any) {
			m["sub"] = "https://leaf.example"
			delete(m, "authority_hints")
			m["metadata_policy"] = map[string]any{"t": map[string]any{"p": map[string]any{"add": "x"}}}
		}, ErrMalformed},
		{"fail/trust mark without type", func(m map[string]any) { m["trust_marks"] = []any{map[string]any{"trust_mark": "x"}} }, ErrMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := validClaims(t)
			c.tamper(m)
			b, _ := json.Marshal(m)
			s, err := ParseClaims(b)
			if !errors.Is(err, c.wantErr) {
				t.Fatalf("err %v, want %v", err, c.wantErr)
			}
			if err == nil && (s.Issuer != m["iss"] || s.JWKS == nil) {
				t.Fatal("parsed statement incomplete")
			}
		})
	}
}

func TestSignParseVerify(t *testing.T) {
	for _, sm2 := range []bool{true, false} {
		s := newKey(t, sm2)
		ec := &EntityStatement{Issuer: "https://a.example", Subject: "https://a.example", IssuedAt: t0, Expires: t0.Add(time.Hour),
			JWKS: KeySet(s), Metadata: map[string]map[string]any{EntityTypeFederation: {"organization_name": "甲省"}}}
		raw, err := SignEntityStatement(ec, s)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseStatement(raw)
		if err != nil {
			t.Fatal(err)
		}
		if got.Alg != s.Algorithm() || got.KeyID != s.KeyID() || got.Metadata[EntityTypeFederation]["organization_name"] != "甲省" {
			t.Fatalf("parsed %+v", got)
		}
		if err := VerifyStatement(got, nil); err != nil {
			t.Fatal(err)
		}
		if err := VerifyStatement(got, KeySet(newKey(t, sm2))); !errors.Is(err, ErrSignature) {
			t.Fatalf("other key: %v", err)
		}
		// Flip one byte of the signature.
		parts := strings.Split(raw, ".")
		sig := []byte(parts[2])
		sig[5] ^= 0x01
		if sig[5] == '-' || sig[5] == '_' || !isB64(sig[5]) {
			sig[5] = 'A'
		}
		bad, err := ParseStatement(parts[0] + "." + parts[1] + "." + string(sig))
		if err == nil {
			err = VerifyStatement(bad, nil)
		}
		if !errors.Is(err, ErrSignature) && !errors.Is(err, ErrMalformed) {
			t.Fatalf("tampered signature: %v", err)
		}
	}
}

func isB64(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
}

func TestNewSignerRejectsOtherKeys(t *testing.T) {
	if _, err := NewSigner(nil, ""); !errors.Is(err, ErrUnsupportedAlg) {
		t.Fatalf("nil key: %v", err)
	}
}

// FuzzParseClaims: ParseClaims never panics, and what it accepts re-encodes to claims that
// parse to the same encoding (decode → encode is a fixed point).
func FuzzParseClaims(f *testing.F) {
	m := validClaims(f)
	b, _ := json.Marshal(m)
	f.Add(b)
	m["sub"] = "https://leaf.example"
	delete(m, "authority_hints")
	m["metadata_policy"] = map[string]any{"t": map[string]any{"p": map[string]any{"one_of": []any{"a"}, "essential": true}}}
	m["constraints"] = map[string]any{"max_path_length": 2, "naming_constraints": map[string]any{"permitted": []any{".example"}}}
	b, _ = json.Marshal(m)
	f.Add(b)
	f.Add([]byte(`{"iss":"https://a","sub":"https://a","iat":1,"exp":2,"jwks":{"keys":[]}}`))
	f.Add([]byte(`{"crit":["iss"]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseClaims(data)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error not ErrMalformed: %v", err)
			}
			return
		}
		enc, err := s.MarshalClaims()
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		s2, err := ParseClaims(enc)
		if err != nil {
			t.Fatalf("re-parse: %v\n%s", err, enc)
		}
		enc2, err := s2.MarshalClaims()
		if err != nil || !bytes.Equal(enc, enc2) {
			t.Fatalf("not a fixed point:\n%s\n%s", enc, enc2)
		}
	})
}
