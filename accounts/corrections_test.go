package accounts_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/tongban/tongban/accounts"
	"github.com/tongban/tongban/accounts/accountstest"
	"github.com/tongban/tongban/audit"
	"github.com/tongban/tongban/storage"
)

func TestFileCorrectionValidation(t *testing.T) {
	e := newAdminEnv(t)
	person := func(field, value string) accounts.CorrectionRequest {
		return accounts.CorrectionRequest{Target: accounts.CorrectionTargetPerson, Field: field, Value: value, Reason: "户籍已更正"}
	}
	for _, tc := range []struct {
		name    string
		req     accounts.CorrectionRequest
		wantErr error
	}{
		{"ok/name", person("name", "孔二"), nil},
		{"ok/phone with +86 and full-width digits", person("phone", "+86 １３８００１３８０００"), nil},
		{"fail/same name", person("name", " 孔一 "), accounts.ErrCorrectionValue},
		{"fail/same phone", person("phone", "139-0013-9000"), accounts.ErrCorrectionValue},
		{"fail/empty name", person("name", "  "), accounts.ErrInvalidName},
		{"fail/name too long", person("name", strings.Repeat("孔", 65)), accounts.ErrInvalidName},
		{"fail/name with a bidi override", person("name", "孔\u202e二"), accounts.ErrInvalidName},
		{"fail/landline", person("phone", "010-12345678"), accounts.ErrInvalidPhone},
		{"fail/ID number is not correctable", person("id_number", "x"), accounts.ErrCorrectionField},
		{"fail/unknown target", accounts.CorrectionRequest{Target: "company", Field: "name", Value: "x", Reason: "r"}, accounts.ErrCorrectionTarget},
		{"fail/licence without Licences", accounts.CorrectionRequest{Target: "licence:abc", Field: "address", Value: "x", Reason: "r"}, accounts.ErrCorrectionTarget},
		{"fail/no reason", accounts.CorrectionRequest{Target: "person", Field: "name", Value: "孔三"}, accounts.ErrReasonRequired},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := e.svc.FileCorrection(t.Context(), e.p.ID, tc.req)
			if tc.wantErr == nil {
				if err != nil {
					t.Fatalf("FileCorrection: %v", err)
				}
				if c.Status != storage.CorrectionPending || c.CurrentMasked == "" {
					t.Errorf("correction %+v", c)
				}
				if strings.Contains(string(c.ProposedSealed), "138") || strings.Contains(string(c.ProposedSealed), "孔二") {
					t.Error("proposed value stored in clear")
				}
				return
			}
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("FileCorrection: %v, want %v", err, tc.wantErr)
			}
		})
	}
}

func TestCorrectionsApplyReject(t *testing.T) {
	e := newAdminEnv(t)
	ctx := t.Context()
	file := func(field, value string) storage.Correction {
		t.Helper()
		c, err := e.svc.FileCorrection(ctx, e.p.ID, accounts.CorrectionRequest{Target: "person", Field: field, Value: value, Reason: "证件已更新"})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	name := file("name", "孔二")
	phone := file("phone", "13800138000")
	if got, err := e.svc.GetCorrection(ctx, name.ID); err != nil || got.CurrentMasked != "*一" {
		t.Fatalf("GetCorrection = %+v, %v", got, err)
	}
	if v, err := e.svc.ProposedValue(name); err != nil || v != "孔二" {
		t.Fatalf("ProposedValue = %q, %v", v, err)
	}
	if err := e.svc.ApplyCorrection(ctx, console, name.ID, "户口簿已核"); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.ApplyCorrection(ctx, console, phone.ID, ""); err != nil {
		t.Fatal(err)
	}
	p, err := e.store.GetPerson(ctx, e.p.ID)
	if err != nil || p.Name != "孔二" {
		t.Fatalf("name after apply %q, %v", p.Name, err)
	}
	if got, err := e.svc.FindPerson(ctx, "13800138000"); err != nil || got.ID != e.p.ID {
		t.Errorf("find by the new phone: %v", err)
	}
	if _, err := e.svc.FindPerson(ctx, "13900139000"); !errors.Is(err, accounts.ErrPersonNotFound) {
		t.Errorf("find by the old phone: %v, want ErrPersonNotFound", err)
	}
	if err := e.svc.ApplyCorrection(ctx, console, name.ID, ""); !errors.Is(err, accounts.ErrCorrectionDecided) {
		t.Errorf("apply twice: %v", err)
	}
	if err := e.svc.RejectCorrection(ctx, console, name.ID, "late"); !errors.Is(err, accounts.ErrCorrectionDecided) {
		t.Errorf("reject after apply: %v", err)
	}
	if err := e.svc.ApplyCorrection(ctx, console, "nope", ""); !errors.Is(err, accounts.ErrCorrectionNotFound) {
		t.Errorf("apply unknown: %v", err)
	}
	ev := e.lastAudit(t, "correction.apply")
	if ev.Actor != console.ID || ev.Subject != e.p.ID || !strings.Contains(ev.Detail, "correction="+phone.ID+" target=person field=phone") ||
		strings.Contains(ev.Detail, "138") {
		t.Errorf("audit entry %+v", ev)
	}

	rej := file("name", "孔三")
	if err := e.svc.RejectCorrection(ctx, audit.Shell, rej.ID, " "); !errors.Is(err, accounts.ErrReasonRequired) {
		t.Errorf("reject without reason: %v", err)
	}
	if err := e.svc.RejectCorrection(ctx, audit.Shell, rej.ID, "户口簿姓名不符"); err != nil {
		t.Fatal(err)
	}
	got, _ := e.svc.GetCorrection(ctx, rej.ID)
	if got.Status != storage.CorrectionRejected || got.DecisionNote != "户口簿姓名不符" || got.DecidedBy != audit.ShellOperator || !got.DecidedAt.Equal(e.now) {
		t.Errorf("rejected correction %+v", got)
	}
	if p, _ := e.store.GetPerson(ctx, e.p.ID); p.Name != "孔二" {
		t.Errorf("rejection changed the name to %q", p.Name)
	}
	list, err := e.svc.ListCorrections(ctx, storage.CorrectionQuery{PersonID: e.p.ID})
	if err != nil || len(list) != 3 {
		t.Errorf("ListCorrections: %d, %v", len(list), err)
	}

	// A phone number of another person cannot be taken by a correction.
	other, err := e.svc.CreatePerson(ctx, accounts.NewPerson{IDNumber: accountstest.ResidentID(t), Name: "李四", Phone: "13700137000", Password: []byte(adminPassword)})
	if err != nil {
		t.Fatal(err)
	}
	steal := file("phone", "13700137000")
	if err := e.svc.ApplyCorrection(ctx, console, steal.ID, ""); !errors.Is(err, accounts.ErrPersonExists) {
		t.Errorf("apply a phone of another person: %v, want ErrPersonExists", err)
	}
	if got, _ := e.svc.GetCorrection(ctx, steal.ID); got.Status != storage.CorrectionPending {
		t.Errorf("refused apply left status %s", got.Status)
	}
	if got, err := e.svc.FindPerson(ctx, "13700137000"); err != nil || got.ID != other.ID {
		t.Errorf("other person's phone: %v", err)
	}
}

func TestCorrectionsPendingLimit(t *testing.T) {
	e := newAdminEnv(t)
	ctx := t.Context()
	// One pending correction per field: a second of the name waits for the first.
	if _, err := e.svc.FileCorrection(ctx, e.p.ID, accounts.CorrectionRequest{Target: "person", Field: "name", Value: "孔二", Reason: "r"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.FileCorrection(ctx, e.p.ID, accounts.CorrectionRequest{Target: "person", Field: "name", Value: "孔三", Reason: "r"}); !errors.Is(err, accounts.ErrCorrectionPending) {
		t.Fatalf("a second correction of the name: %v, want ErrCorrectionPending", err)
	}
	if _, err := e.svc.FileCorrection(ctx, e.p.ID, accounts.CorrectionRequest{Target: "person", Field: "phone", Value: "13900139001", Reason: "r"}); err != nil {
		t.Fatalf("a correction of another field: %v", err)
	}
	// At most MaxPendingCorrections in all (the others as if filed about licence fields).
	for i := range accounts.MaxPendingCorrections - 2 {
		if err := e.store.CreateCorrection(ctx, storage.Correction{ID: fmt.Sprintf("c%d", i), PersonID: e.p.ID, Target: fmt.Sprintf("licence:l%d", i),
			Field: "address", Reason: "r", Status: storage.CorrectionPending, FiledAt: e.now}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.svc.FileCorrection(ctx, e.p.ID, accounts.CorrectionRequest{Target: "person", Field: "name", Value: "孔四", Reason: "r"}); !errors.Is(err, accounts.ErrTooManyCorrections) {
		t.Fatalf("correction %d: %v, want ErrTooManyCorrections", accounts.MaxPendingCorrections+1, err)
	}
}
