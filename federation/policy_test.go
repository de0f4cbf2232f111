package federation

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

func js(t *testing.T, s string) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	return v
}

func jsPolicy(t *testing.T, s string) Policy {
	t.Helper()
	var p Policy
	if err := json.Unmarshal([]byte(s), &p); err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	return p
}

// TestPolicySpecificationExample is the worked example of OpenID Federation 1.0 §6.1.6: a
// trust anchor's and an intermediate's RP policies merged, then applied to an RP's metadata.
func TestPolicySpecificationExample(t *testing.T) {
	ta := jsPolicy(t, `{"openid_relying_party":{
		"grant_types":{"default":["authorization_code"],"subset_of":["authorization_code","refresh_token"],"superset_of":["authorization_code"]},
		"token_endpoint_auth_method":{"one_of":["private_key_jwt","self_signed_tls_client_auth"],"essential":true},
		"token_endpoint_auth_signing_alg":{"one_of":["PS256","ES256"]},
		"subject_type":{"value":"pairwise"},
		"contacts":{"add":["helpdesk@federation.example.org"]}}}`)
	mid := jsPolicy(t, `{"openid_relying_party":{
		"grant_types":{"subset_of":["authorization_code"]},
		"token_endpoint_auth_method":{"one_of":["self_signed_tls_client_auth"]},
		"contacts":{"add":["helpdesk@org.example.org"]}}}`)
	merged, err := MergePolicies(ta, mid, nil)
	if err != nil {
		t.Fatal(err)
	}
	wantMerged := jsPolicy(t, `{"openid_relying_party":{
		"grant_types":{"default":["authorization_code"],"subset_of":["authorization_code"],"superset_of":["authorization_code"]},
		"token_endpoint_auth_method":{"one_of":["self_signed_tls_client_auth"],"essential":true},
		"token_endpoint_auth_signing_alg":{"one_of":["PS256","ES256"]},
		"subject_type":{"value":"pairwise"},
		"contacts":{"add":["helpdesk@federation.example.org","helpdesk@org.example.org"]}}}`)
	if !reflect.DeepEqual(merged, wantMerged) {
		t.Fatalf("merged\n got %v\nwant %v", merged, wantMerged)
	}
	rp := js(t, `{"application_type":"web","client_name":"University of Example",
		"redirect_uris":["https://rp.example.com/cb"],"grant_types":["authorization_code","refresh_token"],
		"token_endpoint_auth_method":"self_signed_tls_client_auth","contacts":["rp_admins@cs.example.com"]}`)
	got, err := ApplyPolicy(rp, merged[EntityTypeRP])
	if err != nil {
		t.Fatal(err)
	}
	want := js(t, `{"application_type":"web","client_name":"University of Example",
		"redirect_uris":["https://rp.example.com/cb"],"grant_types":["authorization_code"],
		"token_endpoint_auth_method":"self_signed_tls_client_auth","subject_type":"pairwise",
		"contacts":["rp_admins@cs.example.com","helpdesk@federation.example.org","helpdesk@org.example.org"]}`)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("applied\n got %v\nwant %v", got, want)
	}
	if rp["subject_type"] != nil {
		t.Fatal("ApplyPolicy changed its input")
	}
}

func TestMergePolicies(t *testing.T) {
	cases := []struct {
		name      string
		sup, sub  string // operators of parameter "p"
		want      string
		wantErr   error
		crit      []string
		unknownOp bool
	}{
		{"ok/value equal", `{"value":"a"}`, `{"value":"a"}`, `{"value":"a"}`, nil, nil, false},
		{"fail/value differs", `{"value":"a"}`, `{"value":"b"}`, ``, ErrPolicyConflict, nil, false},
		{"ok/add union", `{"add":["a","b"]}`, `{"add":["b","c"]}`, `{"add":["a","b","c"]}`, nil, nil, false},
		{"ok/default equal", `{"default":["x"]}`, `{"default":["x"]}`, `{"default":["x"]}`, nil, nil, false},
		{"fail/default differs", `{"default":"x"}`, `{"default":"y"}`, ``, ErrPolicyConflict, nil, false},
		{"ok/one_of intersect", `{"one_of":["a","b","c"]}`, `{"one_of":["c","b"]}`, `{"one_of":["b","c"]}`, nil, nil, false},
		{"fail/one_of disjoint", `{"one_of":["a"]}`, `{"one_of":["b"]}`, ``, ErrPolicyConflict, nil, false},
		{"ok/subset_of intersect", `{"subset_of":["a","b"]}`, `{"subset_of":["b","c"]}`, `{"subset_of":["b"]}`, nil, nil, false},
		{"ok/subset_of disjoint is empty", `{"subset_of":["a"]}`, `{"subset_of":["b"]}`, `{"subset_of":[]}`, nil, nil, false},
		{"ok/superset_of union", `{"superset_of":["a"]}`, `{"superset_of":["b"]}`, `{"superset_of":["a","b"]}`, nil, nil, false},
		{"ok/essential or", `{"essential":true}`, `{"essential":false}`, `{"essential":true}`, nil, nil, false},
		{"ok/essential false both", `{"essential":false}`, `{"essential":false}`, `{"essential":false}`, nil, nil, false},
		{"ok/one side only", `{"value":"a"}`, `{"essential":true}`, `{"value":"a","essential":true}`, nil, nil, false},
		{"ok/value in one_of", `{"one_of":["a","b"]}`, `{"value":"a"}`, `{"one_of":["a","b"],"value":"a"}`, nil, nil, false},
		{"fail/value not in one_of", `{"one_of":["a","b"]}`, `{"value":"c"}`, ``, ErrPolicyConflict, nil, false},
		{"fail/value not holding add", `{"add":["a"]}`, `{"value":["b"]}`, ``, ErrPolicyConflict, nil, false},
		{"ok/value holding add", `{"add":["a"]}`, `{"value":["a","b"]}`, `{"add":["a"],"value":["a","b"]}`, nil, nil, false},
		{"fail/value null with default", `{"default":"a"}`, `{"value":null}`, ``, ErrPolicyConflict, nil, false},
		{"fail/value null with essential", `{"essential":true}`, `{"value":null}`, ``, ErrPolicyConflict, nil, false},
		{"fail/value outside subset_of", `{"subset_of":["a"]}`, `{"value":["a","b"]}`, ``, ErrPolicyConflict, nil, false},
		{"fail/value below superset_of", `{"superset_of":["a","b"]}`, `{"value":["a"]}`, ``, ErrPolicyConflict, nil, false},
		{"fail/one_of with subset_of", `{"one_of":["a"]}`, `{"subset_of":["a"]}`, ``, ErrPolicyConflict, nil, false},
		{"fail/one_of with add", `{"one_of":["a"]}`, `{"add":["a"]}`, ``, ErrPolicyConflict, nil, false},
		{"fail/add outside subset_of", `{"subset_of":["a"]}`, `{"add":["b"]}`, ``, ErrPolicyConflict, nil, false},
		{"fail/superset_of outside subset_of", `{"subset_of":["a"]}`, `{"superset_of":["b"]}`, ``, ErrPolicyConflict, nil, false},
		{"ok/unknown operator ignored", `{"regexp":"^a"}`, `{"value":"a"}`, `{"value":"a"}`, nil, nil, true},
		{"fail/critical unknown operator", `{"regexp":"^a"}`, `{"value":"a"}`, ``, ErrMalformed, []string{"regexp"}, true},
		{"fail/add not an array", `{"add":"a"}`, `{}`, ``, ErrMalformed, nil, false},
		{"fail/essential not a boolean", `{"essential":"yes"}`, `{}`, ``, ErrMalformed, nil, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sup := Policy{"t": {"p": js(t, c.sup)}}
			sub := Policy{"t": {"p": js(t, c.sub)}}
			got, err := MergePolicies(sup, sub, c.crit)
			if !errors.Is(err, c.wantErr) {
				t.Fatalf("err %v, want %v", err, c.wantErr)
			}
			if c.wantErr != nil {
				return
			}
			if want := js(t, c.want); !reflect.DeepEqual(got["t"]["p"], want) {
				t.Fatalf("got %v, want %v", got["t"]["p"], want)
			}
			// Merging in the other order gives the same set semantics for symmetric cases.
			if _, err := MergePolicies(sub, sup, c.crit); err != nil {
				t.Fatalf("reverse merge: %v", err)
			}
		})
	}
}

func TestApplyPolicy(t *testing.T) {
	cases := []struct {
		name     string
		metadata string
		ops      string // operators of parameter "p"
		want     string
		wantErr  error
	}{
		{"ok/value sets", `{"p":"x"}`, `{"value":"y"}`, `{"p":"y"}`, nil},
		{"ok/value null removes", `{"p":"x","q":1}`, `{"value":null}`, `{"q":1}`, nil},
		{"ok/add to absent", `{}`, `{"add":["a"]}`, `{"p":["a"]}`, nil},
		{"ok/add to present", `{"p":["a","b"]}`, `{"add":["b","c"]}`, `{"p":["a","b","c"]}`, nil},
		{"fail/add to a string", `{"p":"a"}`, `{"add":["b"]}`, ``, ErrPolicyViolation},
		{"ok/default when absent", `{}`, `{"default":"d"}`, `{"p":"d"}`, nil},
		{"ok/default when present", `{"p":"x"}`, `{"default":"d"}`, `{"p":"x"}`, nil},
		{"ok/one_of member", `{"p":"a"}`, `{"one_of":["a","b"]}`, `{"p":"a"}`, nil},
		{"fail/one_of not a member", `{"p":"c"}`, `{"one_of":["a","b"]}`, ``, ErrPolicyViolation},
		{"ok/one_of absent", `{}`, `{"one_of":["a","b"]}`, `{}`, nil},
		{"ok/subset_of narrows", `{"p":["a","b","c"]}`, `{"subset_of":["c","a"]}`, `{"p":["a","c"]}`, nil},
		{"ok/subset_of empties", `{"p":["x"]}`, `{"subset_of":["a"]}`, `{"p":[]}`, nil},
		{"fail/subset_of on a string", `{"p":"a"}`, `{"subset_of":["a"]}`, ``, ErrPolicyViolation},
		{"ok/superset_of holds", `{"p":["a","b"]}`, `{"superset_of":["a"]}`, `{"p":["a","b"]}`, nil},
		{"fail/superset_of missing", `{"p":["b"]}`, `{"superset_of":["a"]}`, ``, ErrPolicyViolation},
		{"ok/essential present", `{"p":1}`, `{"essential":true}`, `{"p":1}`, nil},
		{"fail/essential missing", `{}`, `{"essential":true}`, ``, ErrPolicyViolation},
		{"ok/essential false missing", `{}`, `{"essential":false}`, `{}`, nil},
		{"ok/default then essential", `{}`, `{"default":"d","essential":true}`, `{"p":"d"}`, nil},
		{"ok/add then subset_of", `{"p":["x"]}`, `{"add":["a"],"subset_of":["a","b"]}`, `{"p":["a"]}`, nil},
		{"fail/forbidden combination", `{"p":"a"}`, `{"one_of":["a"],"superset_of":["a"]}`, ``, ErrPolicyConflict},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ApplyPolicy(js(t, c.metadata), map[string]map[string]any{"p": js(t, c.ops)})
			if !errors.Is(err, c.wantErr) {
				t.Fatalf("err %v, want %v", err, c.wantErr)
			}
			if c.wantErr == nil && !reflect.DeepEqual(got, js(t, c.want)) {
				t.Fatalf("got %v, want %s", got, c.want)
			}
		})
	}
}
