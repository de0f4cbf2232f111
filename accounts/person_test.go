package accounts_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/tongban/tongban/accounts"
	"github.com/tongban/tongban/accounts/accountstest"
	"github.com/tongban/tongban/sm-crypto"
	"github.com/tongban/tongban/storage"
)

func TestCreatePerson(t *testing.T) {
	svc, store, _ := newService(t, accounts.Config{})
	ctx := context.Background()
	num := accountstest.ResidentID(t)
	pw := []byte("password-1")
	for _, tc := range []struct {
		name    string
		p       accounts.NewPerson
		wantErr []error
	}{
		{"ok/natural", accounts.NewPerson{IDNumber: num, Name: "张三", Phone: "+86 138 0013 8000", Password: pw}, nil},
		{"ok/lowercase-x-and-spaces", accounts.NewPerson{IDNumber: lowerX(t), Name: "李四", Password: pw}, nil},
		{"ok/legal", accounts.NewPerson{Kind: storage.LegalPerson, IDNumber: "91110108551385082Q", Name: "某某科技有限公司", Password: pw}, nil},
		{"fail/duplicate-number", accounts.NewPerson{IDNumber: num, Name: "王五", Password: pw}, []error{accounts.ErrPersonExists}},
		{"fail/duplicate-phone", accounts.NewPerson{IDNumber: accountstest.ResidentID(t), Name: "王五", Phone: "13800138000", Password: pw}, []error{accounts.ErrPersonExists}},
		{"fail/check-digit", accounts.NewPerson{IDNumber: num[:17] + otherCheck(num[17]), Name: "赵六", Password: pw}, []error{accounts.ErrInvalidIDNumber}},
		{"fail/credit-code-as-natural", accounts.NewPerson{Kind: storage.NaturalPerson, IDNumber: "91110108551385082Q", Name: "赵六", Password: pw}, []error{accounts.ErrInvalidIDNumber}},
		{"fail/kind-detected-duplicate", accounts.NewPerson{IDNumber: "91110108551385082Q", Name: "某某", Password: pw}, []error{accounts.ErrPersonExists}},
		{"fail/kind", accounts.NewPerson{Kind: "robot", IDNumber: num, Name: "赵六", Password: pw}, []error{accounts.ErrInvalidPersonKind}},
		{"fail/name-with-text-direction-override", accounts.NewPerson{Kind: storage.LegalPerson, IDNumber: "91110000600037341L", Name: "某\u202e公司", Password: pw}, []error{accounts.ErrInvalidName}},
		{"fail/name-with-zero-width-space", accounts.NewPerson{IDNumber: accountstest.ResidentID(t), Name: "张\u200b三", Password: pw}, []error{accounts.ErrInvalidName}},
		{"fail/name-with-hangul-filler", accounts.NewPerson{IDNumber: accountstest.ResidentID(t), Name: "张\u3164三", Password: pw}, []error{accounts.ErrInvalidName}},
		{"fail/everything", accounts.NewPerson{IDNumber: "123", Name: " ", Phone: "12345", Password: []byte("short")},
			[]error{accounts.ErrInvalidIDNumber, accounts.ErrInvalidName, accounts.ErrInvalidPhone, accounts.ErrInvalidPassword}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := svc.CreatePerson(ctx, tc.p)
			if len(tc.wantErr) > 0 {
				for _, want := range tc.wantErr {
					if !errors.Is(err, want) {
						t.Errorf("err = %v, want %v", err, want)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.ID == "" || p.Kind == "" || len(p.IDNumberIndex) != 32 || p.IDNumberSealed == nil || p.PasswordHash == "" {
				t.Fatalf("person %+v", p)
			}
			if !strings.Contains(p.IDNumberMasked, "********") || strings.Contains(string(p.IDNumberSealed), tc.p.IDNumber) {
				t.Errorf("masked %q", p.IDNumberMasked)
			}
			if smcrypto.CheckPassword(p.PasswordHash, pw) != nil {
				t.Error("password hash does not verify")
			}
			got, err := store.GetPersonByIDNumberIndex(ctx, p.IDNumberIndex)
			if err != nil || got.ID != p.ID {
				t.Errorf("lookup by index: %v", err)
			}
			norm, _ := accounts.NormalizeIdentifier(tc.p.IDNumber)
			if n, err := svc.IDNumber(got); err != nil || n != norm {
				t.Errorf("IDNumber = %q, %v; want %q", n, err, norm)
			}
			wantPhone, _ := accounts.NormalizeIdentifier(tc.p.Phone)
			if tc.p.Phone == "" {
				wantPhone = ""
			}
			if ph, err := svc.PhoneNumber(got); err != nil || ph != wantPhone {
				t.Errorf("PhoneNumber = %q, %v; want %q", ph, err, wantPhone)
			}
		})
	}
}

func lowerX(t *testing.T) string {
	for {
		n := accountstest.ResidentID(t)
		if n[17] == 'X' {
			return strings.ToLower(n[:6] + " " + n[6:])
		}
	}
}

func otherCheck(c byte) string {
	if c == '0' {
		return "1"
	}
	return "0"
}
