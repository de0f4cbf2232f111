package pkcs11kek_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	pkcs11kek "github.com/tongban/tongban/kek/pkcs11"
)

func TestParseURI(t *testing.T) {
	const mod = "?module-path=/usr/lib/softhsm/libsofthsm2.so"
	for _, tc := range []struct {
		name    string
		uri     string
		want    pkcs11kek.URI
		wantErr error
	}{
		{"ok/minimal", "pkcs11:token=tongban;object=kek" + mod,
			pkcs11kek.URI{Token: "tongban", Object: "kek", ModulePath: "/usr/lib/softhsm/libsofthsm2.so", Mechanism: pkcs11kek.DefaultMechanism}, nil},
		{"ok/everything, percent-decoded", "pkcs11:token=my%20token;serial=abc;object=k%3Bek;id=%01%ff;type=secret-key" + mod + "&pin-source=file:/run/pin&x-mechanism=aes-key-wrap",
			pkcs11kek.URI{Token: "my token", Serial: "abc", Object: "k;ek", ID: []byte{1, 0xff}, ModulePath: "/usr/lib/softhsm/libsofthsm2.so",
				PINSource: "/run/pin", Mechanism: pkcs11kek.Mechanism{Type: 0x2109, Name: "aes-key-wrap"}}, nil},
		{"ok/pin-value, vendor mechanism", "pkcs11:token=t;object=o" + mod + "&pin-value=1234&x-mechanism=0x8000A100",
			pkcs11kek.URI{Token: "t", Object: "o", ModulePath: "/usr/lib/softhsm/libsofthsm2.so", PINValue: "1234", Mechanism: pkcs11kek.Mechanism{Type: 0x8000a100}}, nil},
		{"ok/pin-source without file:", "pkcs11:token=t;object=o" + mod + "&pin-source=/run/pin",
			pkcs11kek.URI{Token: "t", Object: "o", ModulePath: "/usr/lib/softhsm/libsofthsm2.so", PINSource: "/run/pin", Mechanism: pkcs11kek.DefaultMechanism}, nil},
		{"fail/not pkcs11", "file:/x", pkcs11kek.URI{}, pkcs11kek.ErrMalformedURI},
		{"fail/unknown path attribute", "pkcs11:token=t;object=o;slot-id=1" + mod, pkcs11kek.URI{}, pkcs11kek.ErrMalformedURI},
		{"fail/unknown query attribute", "pkcs11:token=t;object=o" + mod + "&module-name=softhsm2", pkcs11kek.URI{}, pkcs11kek.ErrMalformedURI},
		{"fail/repeated attribute", "pkcs11:token=t;token=u;object=o" + mod, pkcs11kek.URI{}, pkcs11kek.ErrMalformedURI},
		{"fail/no token", "pkcs11:object=o" + mod, pkcs11kek.URI{}, pkcs11kek.ErrMalformedURI},
		{"fail/no object", "pkcs11:token=t" + mod, pkcs11kek.URI{}, pkcs11kek.ErrMalformedURI},
		{"fail/no module-path", "pkcs11:token=t;object=o", pkcs11kek.URI{}, pkcs11kek.ErrMalformedURI},
		{"fail/relative module-path", "pkcs11:token=t;object=o?module-path=libsofthsm2.so", pkcs11kek.URI{}, pkcs11kek.ErrMalformedURI},
		{"fail/bad percent", "pkcs11:token=t%2;object=o" + mod, pkcs11kek.URI{}, pkcs11kek.ErrMalformedURI},
		{"fail/bad percent hex", "pkcs11:token=t%zz;object=o" + mod, pkcs11kek.URI{}, pkcs11kek.ErrMalformedURI},
		{"fail/blank", "pkcs11:token=a b;object=o" + mod, pkcs11kek.URI{}, pkcs11kek.ErrMalformedURI},
		{"fail/not name=value", "pkcs11:token;object=o" + mod, pkcs11kek.URI{}, pkcs11kek.ErrMalformedURI},
		{"fail/type not secret-key", "pkcs11:token=t;object=o;type=private" + mod, pkcs11kek.URI{}, pkcs11kek.ErrMalformedURI},
		{"fail/both PINs", "pkcs11:token=t;object=o" + mod + "&pin-value=1&pin-source=/p", pkcs11kek.URI{}, pkcs11kek.ErrMalformedURI},
		{"fail/relative pin-source", "pkcs11:token=t;object=o" + mod + "&pin-source=file:pin", pkcs11kek.URI{}, pkcs11kek.ErrMalformedURI},
		{"fail/empty id", "pkcs11:token=t;object=o;id=" + mod, pkcs11kek.URI{}, pkcs11kek.ErrMalformedURI},
		{"fail/standard mechanism by number", "pkcs11:token=t;object=o" + mod + "&x-mechanism=0x210a", pkcs11kek.URI{}, pkcs11kek.ErrMalformedURI},
		{"fail/unknown mechanism", "pkcs11:token=t;object=o" + mod + "&x-mechanism=sm4", pkcs11kek.URI{}, pkcs11kek.ErrMalformedURI},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := pkcs11kek.ParseURI(tc.uri)
			if !errors.Is(err, tc.wantErr) || (err == nil) != (tc.wantErr == nil) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if got.Token != tc.want.Token || got.Serial != tc.want.Serial || got.Object != tc.want.Object || !bytes.Equal(got.ID, tc.want.ID) ||
				got.ModulePath != tc.want.ModulePath || got.PINSource != tc.want.PINSource || got.PINValue != tc.want.PINValue || got.Mechanism != tc.want.Mechanism {
				t.Fatalf("got %#v\nwant %#v", got, tc.want)
			}
			// String round-trips and hides the PIN.
			if strings.Contains(got.String(), "pin-value=1234") {
				t.Fatalf("String shows the PIN: %s", got)
			}
			if got.PINValue == "" {
				again, err := pkcs11kek.ParseURI(got.String())
				if err != nil || again.String() != got.String() {
					t.Fatalf("String %q does not round-trip: %v", got, err)
				}
			}
		})
	}
}

func TestParseURIErrorHidesPIN(t *testing.T) {
	_, err := pkcs11kek.ParseURI("pkcs11:token=t;object=o;pin-value=s3cret?module-path=/m")
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("err = %v: want an error without the PIN", err)
	}
}

func FuzzParseURI(f *testing.F) {
	f.Add("pkcs11:token=tongban;object=kek;id=%01?module-path=/m.so&pin-source=file:/p&x-mechanism=aes-key-wrap")
	f.Fuzz(func(t *testing.T, s string) {
		u, err := pkcs11kek.ParseURI(s)
		if err != nil || u.PINValue != "" {
			return
		}
		again, err := pkcs11kek.ParseURI(u.String())
		if err != nil || again.String() != u.String() {
			t.Fatalf("%q → %q does not round-trip: %v", s, u.String(), err)
		}
	})
}
