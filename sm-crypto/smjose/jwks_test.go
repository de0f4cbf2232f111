package smjose

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"
	smcrypto "github.com/tongban/tongban/sm-crypto"
)

// mixedJWKS is a JWKS with one ES256, one RS256 and one SM2 key, the
// standard members marshalled by go-jose.
type mixedJWKS struct {
	es   *ecdsa.PrivateKey
	sm2  JWK
	doc  []byte
	kids []string
}

func newMixedJWKS(t *testing.T) mixedJWKS {
	t.Helper()
	es, rs, sm := newES256(t), newRSA(t), newSM2(t)
	std := []jose.JSONWebKey{
		{Key: &es.PublicKey, KeyID: "es-1", Algorithm: string(jose.ES256), Use: "sig"},
		{Key: &rs.PublicKey, KeyID: "rs-1", Algorithm: string(jose.RS256), Use: "sig"},
	}
	smKey := JWK{Key: &sm.PublicKey, KeyID: smcrypto.KeyIDString(&sm.PublicKey), Algorithm: string(AlgSM2), Use: "sig"}
	doc, err := MarshalJWKS(std, []JWK{smKey})
	if err != nil {
		t.Fatal(err)
	}
	return mixedJWKS{es: es, sm2: smKey, doc: doc, kids: []string{"es-1", "rs-1", smKey.KeyID}}
}

func TestParseJWKSMixed(t *testing.T) {
	m := newMixedJWKS(t)
	set, err := ParseJWKS(m.doc)
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Standard.Keys) != 2 || len(set.SM2) != 1 || len(set.Skipped) != 0 {
		t.Fatalf("got %d standard, %d SM2, %d skipped", len(set.Standard.Keys), len(set.SM2), len(set.Skipped))
	}
	if set.Standard.Keys[0].KeyID != "es-1" || set.Standard.Keys[1].KeyID != "rs-1" || set.SM2[0].KeyID != m.sm2.KeyID {
		t.Fatal("keys out of order or mislabelled")
	}
	if !set.SM2[0].Key.Equal(m.sm2.Key) {
		t.Fatal("SM2 key changed")
	}
	// Round trip through MarshalJSON.
	again, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	if string(again) != string(m.doc) {
		t.Fatalf("re-marshal differs:\n%s\n%s", again, m.doc)
	}
}

// DESIGN §8: encoding/json into jose.JSONWebKeySet fails on the whole set
// when one member is SM2; the standard members still parse one by one with
// plain go-jose.
func TestPlainGoJoseOnMixedJWKS(t *testing.T) {
	m := newMixedJWKS(t)
	var whole jose.JSONWebKeySet
	if err := json.Unmarshal(m.doc, &whole); err == nil {
		t.Fatal("go-jose parsed a set with an SM2 key; DESIGN §8 assumption changed")
	}
	var raw struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(m.doc, &raw); err != nil {
		t.Fatal(err)
	}
	var ok []string
	for _, member := range raw.Keys {
		var k jose.JSONWebKey
		if err := k.UnmarshalJSON(member); err != nil {
			continue
		}
		ok = append(ok, k.KeyID)
	}
	if strings.Join(ok, ",") != "es-1,rs-1" {
		t.Fatalf("go-jose member by member parsed %v", ok)
	}
	// A standard client verifying an ES256 token with that set works.
	tok := signStd(t, jose.ES256, m.es, "es-1", []byte(`{"sub":"u1"}`))
	jws, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	set, _ := ParseJWKS(m.doc)
	if _, err := jws.Verify(&set.Standard); err != nil {
		t.Fatalf("Verify with KeySet.Standard = %v", err)
	}
}

// go-oidc, the common Go relying-party library, must keep working when the
// JWKS holds an SM2 key. go-oidc v3.21.0 skips members whose alg it does
// not know (hence "alg":"SGD_SM3_SM2" on every SM2 JWK, DESIGN §8) and, with
// go-jose v4.1.9, also members go-jose reports as ErrUnsupportedKeyType (an
// unknown crv). Both paths are exercised so that a dependency upgrade that
// changes either shows up here.
func TestGoOIDCWithSM2InJWKS(t *testing.T) {
	m := newMixedJWKS(t)
	noAlg := strings.Replace(string(m.doc), `,"alg":"SGD_SM3_SM2"`, ``, 1)
	if noAlg == string(m.doc) {
		t.Fatal("test setup: alg not found")
	}
	tok := signStd(t, jose.ES256, m.es, "es-1", []byte(`{"sub":"u1"}`))
	for name, doc := range map[string]string{"ok/SM2 key with alg": string(m.doc), "ok/SM2 key without alg": noAlg} {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.Write([]byte(doc))
			}))
			defer srv.Close()
			ks := oidc.NewRemoteKeySet(context.Background(), srv.URL)
			payload, err := ks.VerifySignature(context.Background(), tok)
			if err != nil {
				t.Fatalf("go-oidc VerifySignature = %v", err)
			}
			if string(payload) != `{"sub":"u1"}` {
				t.Fatalf("payload = %s", payload)
			}
		})
	}
}

func TestParseJWKSBadMembers(t *testing.T) {
	m := newMixedJWKS(t)
	var raw struct {
		Keys []json.RawMessage `json:"keys"`
	}
	json.Unmarshal(m.doc, &raw)
	sym, _ := json.Marshal(jose.JSONWebKey{Key: []byte("0123456789abcdef0123456789abcdef"), KeyID: "oct-1"})
	priv, _ := json.Marshal(jose.JSONWebKey{Key: newES256(t), KeyID: "es-priv"})
	brokenSM2 := strings.Replace(string(raw.Keys[2]), `"y":"`, `"y":"A`, 1)
	members := []string{
		string(raw.Keys[0]),
		`"not an object"`,
		`{"kty":"OKP","crv":"X448","x":"abc","kid":"x448"}`,
		brokenSM2,
		string(sym),
		string(priv),
		`{"kty":"EC","crv":"P-256","alg":"SGD_SM3_SM2","kid":"liar","x":"AA","y":"AA"}`,
		string(raw.Keys[2]),
		`{"kty":"RSA","kid":"rsa-bad","n":"AQAB"}`,
	}
	set, err := ParseJWKS([]byte(`{"keys":[` + strings.Join(members, ",") + `]}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Standard.Keys) != 1 || len(set.SM2) != 1 {
		t.Fatalf("kept %d standard and %d SM2 keys, want 1 and 1", len(set.Standard.Keys), len(set.SM2))
	}
	want := map[int]error{1: ErrMalformedJWK, 2: ErrMalformedJWK, 3: ErrMalformedJWK, 4: ErrMalformedJWK, 5: ErrMalformedJWK, 6: ErrNotSM2JWK, 8: ErrMalformedJWK}
	if len(set.Skipped) != len(want) {
		t.Fatalf("skipped %d, want %d: %+v", len(set.Skipped), len(want), set.Skipped)
	}
	for _, s := range set.Skipped {
		if w, ok := want[s.Index]; !ok || !errors.Is(s.Err, w) {
			t.Errorf("skipped[%d] = %v, want %v", s.Index, s.Err, w)
		}
	}
}

func TestParseJWKSDocument(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr error
	}{
		{name: "ok/empty set", in: `{"keys":[]}`},
		{name: "fail/not JSON", in: `{"keys":`, wantErr: ErrMalformedJWKS},
		{name: "fail/no keys", in: `{}`, wantErr: ErrMalformedJWKS},
		{name: "fail/keys null", in: `{"keys":null}`, wantErr: ErrMalformedJWKS},
		{name: "fail/keys object", in: `{"keys":{}}`, wantErr: ErrMalformedJWKS},
		{name: "fail/array", in: `[]`, wantErr: ErrMalformedJWKS},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseJWKS([]byte(tt.in))
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("ParseJWKS = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestKeySetVerifySM2(t *testing.T) {
	a, b := newSM2(t), newSM2(t)
	kidA, kidB := smcrypto.KeyIDString(&a.PublicKey), smcrypto.KeyIDString(&b.PublicKey)
	doc, err := MarshalJWKS(nil, []JWK{
		{Key: &a.PublicKey, KeyID: kidA, Use: "sig"},
		{Key: &b.PublicKey, KeyID: kidB, Use: "sig"},
	})
	if err != nil {
		t.Fatal(err)
	}
	set, err := ParseJWKS(doc)
	if err != nil {
		t.Fatal(err)
	}
	encSet := &KeySet{SM2: []JWK{{Key: &a.PublicKey, KeyID: kidA, Use: "enc"}}}
	esTok := signStd(t, jose.ES256, newES256(t), kidA, []byte(`{}`))
	tests := []struct {
		name    string
		set     *KeySet
		token   string
		wantErr error
	}{
		{name: "ok/kid of first key", set: set, token: signSM2(t, a, kidA, []byte(`{"n":1}`))},
		{name: "ok/kid of second key", set: set, token: signSM2(t, b, kidB, []byte(`{"n":2}`))},
		{name: "ok/no kid tries all", set: set, token: signSM2(t, b, "", []byte(`{"n":3}`))},
		{name: "fail/unknown kid", set: set, token: signSM2(t, a, "nope", []byte(`{}`)), wantErr: ErrUnknownKey},
		{name: "fail/kid of other key", set: set, token: signSM2(t, a, kidB, []byte(`{}`)), wantErr: ErrInvalidSignature},
		{name: "fail/unlisted signer", set: set, token: signSM2(t, newSM2(t), "", []byte(`{}`)), wantErr: ErrInvalidSignature},
		{name: "fail/encryption key", set: encSet, token: signSM2(t, a, kidA, []byte(`{}`)), wantErr: ErrUnknownKey},
		{name: "fail/empty set", set: &KeySet{}, token: signSM2(t, a, kidA, []byte(`{}`)), wantErr: ErrUnknownKey},
		{name: "fail/ES256 token", set: set, token: esTok, wantErr: ErrAlgorithm},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.set.VerifySM2(tt.token)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("VerifySM2 = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestMarshalJWKSErrors(t *testing.T) {
	if _, err := MarshalJWKS([]jose.JSONWebKey{{Key: newES256(t), KeyID: "p"}}, nil); !errors.Is(err, ErrMalformedJWK) {
		t.Fatalf("MarshalJWKS(private) = %v", err)
	}
	if _, err := MarshalJWKS(nil, []JWK{{}}); !errors.Is(err, smcrypto.ErrMalformedKey) {
		t.Fatalf("MarshalJWKS(empty SM2) = %v", err)
	}
	b, err := MarshalJWKS(nil, nil)
	if err != nil || string(b) != `{"keys":[]}` {
		t.Fatalf("MarshalJWKS() = %s, %v", b, err)
	}
}
