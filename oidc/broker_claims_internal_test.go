package oidc

import (
	"slices"
	"testing"
)

// TestDecodeUpstreamClaims: one parse of the payload gives every claim the broker reads; names
// match exactly; a claim of the wrong JSON type is an error; stringClaim reads only strings.
func TestDecodeUpstreamClaims(t *testing.T) {
	for _, tc := range []struct {
		name, payload string
		wantErr       bool
		check         func(t *testing.T, c upstreamClaims)
	}{
		{"ok/all claims", `{"iss":"https://a","sub":"s1","aud":["b","c"],"azp":"b","nonce":"n","exp":200,"iat":100,
			"acr":"x","amr":["pwd"],"name":"张三","sid":"sid1","id_number":"11010519491231002X"}`, false,
			func(t *testing.T, c upstreamClaims) {
				if c.Issuer != "https://a" || c.Subject != "s1" || !slices.Equal(c.Audience, []string{"b", "c"}) ||
					c.AZP != "b" || c.Nonce != "n" || c.Expiry != 200 || c.IssuedAt != 100 || c.ACR != "x" ||
					!slices.Equal(c.AMR, []string{"pwd"}) || c.Name != "张三" || c.SID != "sid1" {
					t.Errorf("claims %+v", c)
				}
				if got := c.stringClaim("id_number"); got != "11010519491231002X" {
					t.Errorf("stringClaim = %q", got)
				}
			}},
		{"ok/aud as one string", `{"aud":"b"}`, false, func(t *testing.T, c upstreamClaims) {
			if !slices.Equal(c.Audience, []string{"b"}) {
				t.Errorf("aud %v", c.Audience)
			}
		}},
		{"ok/names match exactly", `{"ISS":"https://evil","Nonce":"n"}`, false, func(t *testing.T, c upstreamClaims) {
			if c.Issuer != "" || c.Nonce != "" {
				t.Errorf("case-folded claims read: %+v", c)
			}
		}},
		{"ok/non-string ID number is none", `{"id_number":11010519491231002}`, false, func(t *testing.T, c upstreamClaims) {
			if got := c.stringClaim("id_number"); got != "" {
				t.Errorf("stringClaim = %q, want none", got)
			}
		}},
		{"fail/not an object", `["iss"]`, true, nil},
		{"fail/exp a string", `{"exp":"200"}`, true, nil},
		{"fail/exp fractional", `{"exp":200.5}`, true, nil},
		{"fail/sub a number", `{"sub":1}`, true, nil},
		{"fail/aud numbers", `{"aud":[1]}`, true, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := decodeUpstreamClaims([]byte(tc.payload))
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if tc.check != nil {
				tc.check(t, c)
			}
		})
	}
}
