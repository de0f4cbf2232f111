package accounts_test

import (
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/tongban/tongban/accounts"
	"github.com/tongban/tongban/accounts/accountstest"
	"github.com/tongban/tongban/audit"
	"github.com/tongban/tongban/credentials"
	"github.com/tongban/tongban/storage"
	"github.com/tongban/tongban/wallet"
)

// TestCorrectionsLicence: a correction of a licence field goes through a real wallet.Service on
// the same database (accounts.LicenceFields): the rules of licence import apply, only the
// holder's own licence can be named, and applying it changes the sealed licence.
func TestCorrectionsLicence(t *testing.T) {
	now := time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC)
	_, store, kr := newService(t, accounts.Config{})
	w, err := wallet.NewService(t.Context(), wallet.ServiceConfig{Store: store, Keyring: kr, Now: func() time.Time { return now },
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := accounts.New(accounts.Config{Store: store, Keyring: kr, PasswordParams: testPasswordParams, Now: func() time.Time { return now },
		Logger: slog.New(slog.DiscardHandler), Licences: w})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	num, other := accountstest.ResidentID(t), accountstest.ResidentID(t)
	p, err := svc.CreatePerson(ctx, accounts.NewPerson{IDNumber: num, Name: "孔证", Password: []byte(adminPassword)})
	if err != nil {
		t.Fatal(err)
	}
	put := func(holder string) string {
		t.Helper()
		sex := "女"
		if (holder[16]-'0')%2 == 1 {
			sex = "男"
		}
		until := credentials.NewDate(2040, 1, 1)
		res, err := w.Put(ctx, credentials.Licence{Kind: credentials.ResidentID, Number: holder, Issuer: "北京市公安局东城分局",
			Holder: holder, HolderName: "孔证", ValidFrom: credentials.NewDate(2020, 1, 1), ValidUntil: &until, Status: credentials.StatusValid,
			Fields: map[string]string{"sex": sex, "ethnicity": "汉", "birth_date": holder[6:10] + "-" + holder[10:12] + "-" + holder[12:14],
				"address": "北京市东城区某街1号"}}, wallet.Operator)
		if err != nil {
			t.Fatal(err)
		}
		return res.ID
	}
	mine, theirs := put(num), put(other)
	req := func(id, field, value string) accounts.CorrectionRequest {
		return accounts.CorrectionRequest{Target: accounts.CorrectionTargetLicence + id, Field: field, Value: value, Reason: "已搬家"}
	}
	for _, tc := range []struct {
		name    string
		req     accounts.CorrectionRequest
		wantErr error
	}{
		{"fail/someone else's licence", req(theirs, "address", "北京市西城区某街2号"), accounts.ErrCorrectionTarget},
		{"fail/no such licence", req("nope", "address", "x"), accounts.ErrCorrectionTarget},
		{"fail/field of another kind", req(mine, "region", "北京市"), accounts.ErrCorrectionField},
		{"fail/sex against the ID number", req(mine, "sex", map[bool]string{true: "女", false: "男"}[(num[16]-'0')%2 == 1]), accounts.ErrCorrectionValue},
		{"fail/same address", req(mine, "address", "北京市东城区某街1号"), accounts.ErrCorrectionValue},
		{"fail/control character", req(mine, "address", "北京\x00"), accounts.ErrCorrectionValue},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := svc.FileCorrection(ctx, p.ID, tc.req); !errors.Is(err, tc.wantErr) {
				t.Fatalf("FileCorrection: %v, want %v", err, tc.wantErr)
			}
		})
	}
	c, err := svc.FileCorrection(ctx, p.ID, req(mine, "address", "北京市西城区某街2号"))
	if err != nil {
		t.Fatal(err)
	}
	if c.CurrentMasked != "北********号" {
		t.Errorf("masked current %q", c.CurrentMasked)
	}
	if err := svc.ApplyCorrection(ctx, audit.Shell, c.ID, ""); err != nil {
		t.Fatal(err)
	}
	got, err := w.LicenceByID(ctx, mine)
	if err != nil || got.Licence.Fields["address"] != "北京市西城区某街2号" {
		t.Fatalf("licence after apply: %v %v", got.Licence.Fields, err)
	}
	if d, _ := svc.GetCorrection(ctx, c.ID); d.Status != storage.CorrectionApplied {
		t.Errorf("status %s", d.Status)
	}
}
