package wallet

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tongban/tongban/credentials"
	"github.com/tongban/tongban/keyring"
	"github.com/tongban/tongban/qr"
	"github.com/tongban/tongban/sm-crypto"
	"github.com/tongban/tongban/storage"
	"github.com/tongban/tongban/storage/storagetest"
)

// Demo holders of docs/examples/licences.jsonl.
const (
	citizen    = "11010119900307002X"
	creditCode = "91110101MA01TB8K0H"
	examples   = "../docs/examples/licences.jsonl"
)

// clock is an adjustable test clock.
type clock struct{ t time.Time }

func (c *clock) Now() time.Time      { return c.t }
func (c *clock) Add(d time.Duration) { c.t = c.t.Add(d) }

// newClock starts a minute ahead of the wall clock, on a whole second. The keyring stamps keys
// with the wall clock (microseconds) and the trust list carries their usage windows in whole
// seconds: a clock at the wall clock's second, truncated, was before the NotBefore of a key
// created in the next second — rare, and then every code and status list it signed was
// "outside the usage window of key …" (a test that failed by chance).
func newClock() *clock { return &clock{time.Now().Truncate(time.Second).Add(time.Minute)} }
func mustNoErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
func ctxT(t *testing.T) context.Context { return t.Context() }

type fixture struct {
	store storage.Storage
	kr    *keyring.Keyring
	svc   *Service
	clk   *clock
}

func newFixture(t *testing.T, cfg ServiceConfig) *fixture {
	t.Helper()
	store := storagetest.SQLite(t)
	kek, err := smcrypto.GenerateKEK(nil)
	mustNoErr(t, err)
	kr, err := keyring.Open(ctxT(t), store, kek)
	mustNoErr(t, err)
	clk := newClock()
	cfg.Store, cfg.Keyring, cfg.Now = store, kr, clk.Now
	svc, err := NewService(ctxT(t), cfg)
	mustNoErr(t, err)
	return &fixture{store: store, kr: kr, svc: svc, clk: clk}
}

func (f *fixture) importExamples(t *testing.T) *ImportReport {
	t.Helper()
	data, err := os.ReadFile(examples)
	mustNoErr(t, err)
	rep, err := f.svc.Import(ctxT(t), bytes.NewReader(data), Operator)
	mustNoErr(t, err)
	return rep
}

// verifier returns a verifier for the service's current trust list, at the fixture clock.
func (f *fixture) verifier(t *testing.T) *qr.Verifier {
	t.Helper()
	signed, _, err := f.svc.TrustList(ctxT(t))
	mustNoErr(t, err)
	anchors, err := f.svc.TrustAnchors(ctxT(t))
	mustNoErr(t, err)
	list, err := qr.ParseTrustList(signed, anchors)
	mustNoErr(t, err)
	return &qr.Verifier{Trust: list, Now: f.clk.Now, Replay: &qr.MemoryReplayCache{Now: f.clk.Now}}
}

func TestImportListAndReimport(t *testing.T) {
	f := newFixture(t, ServiceConfig{})
	rep := f.importExamples(t)
	if rep.Created != 8 || rep.Updated != 0 || len(rep.Rejected) != 0 {
		t.Fatalf("first import: %+v", rep)
	}
	rs, err := f.svc.Licences(ctxT(t), citizen)
	mustNoErr(t, err)
	if len(rs) != 8 {
		t.Fatalf("citizen sees %d licences, want 7 own + 1 as agent", len(rs))
	}
	agents := 0
	for _, r := range rs {
		if r.AsAgent {
			agents++
			if r.Licence.Kind != credentials.BusinessLicence {
				t.Errorf("agent licence of kind %s", r.Licence.Kind)
			}
		}
	}
	if agents != 1 {
		t.Errorf("%d agent licences, want 1", agents)
	}
	biz, err := f.svc.Licences(ctxT(t), creditCode)
	mustNoErr(t, err)
	if len(biz) != 1 || biz[0].AsAgent {
		t.Fatalf("credit code sees %+v", biz)
	}
	// Lower-case x and spaces find the same holder.
	low, err := f.svc.Licences(ctxT(t), " 11010119900307002x")
	mustNoErr(t, err)
	if len(low) != 8 {
		t.Errorf("normalised lookup: %d licences", len(low))
	}

	// Re-import updates: same IDs, nothing created.
	rep2 := f.importExamples(t)
	if rep2.Created != 0 || rep2.Updated != 8 {
		t.Fatalf("re-import: %+v", rep2)
	}
	for i := range rep.Stored {
		if rep.Stored[i].ID != rep2.Stored[i].ID {
			t.Errorf("line %d: ID changed on re-import", i+1)
		}
	}
	// Personal data is sealed: the raw rows do not contain the name or the number.
	row, err := f.store.GetLicence(ctxT(t), rs[0].ID)
	mustNoErr(t, err)
	for _, secret := range []string{"林晓彤", citizen, "示例胡同"} {
		if bytes.Contains(row.FieldsSealed, []byte(secret)) || bytes.Contains(row.HolderSealed, []byte(secret)) {
			t.Errorf("stored row contains %q in clear", secret)
		}
	}
	// Audit entries carry no personal data.
	events, err := f.store.ListAudit(ctxT(t), 0, 1000)
	mustNoErr(t, err)
	if len(events) < 16 {
		t.Errorf("%d audit events, want one per stored licence", len(events))
	}
	for _, e := range events {
		all := e.Actor + e.Action + e.Subject + e.Detail
		if strings.Contains(all, citizen) || strings.Contains(all, "林") {
			t.Errorf("audit event with personal data: %+v", e)
		}
	}
}

func TestImportBadLines(t *testing.T) {
	f := newFixture(t, ServiceConfig{})
	data, err := os.ReadFile(examples)
	mustNoErr(t, err)
	bad := `{"kind":"resident-id","number":"110101199003070021","issuer":"x","holder":"110101199003070021","holder_name":"某","valid_from":"2020-01-01","valid_until":"2040-01-01","status":"valid"}`
	in := string(data) + bad + "\nnot json\n"
	rep, err := f.svc.Import(ctxT(t), strings.NewReader(in), Operator)
	mustNoErr(t, err)
	if rep.Created != 8 || len(rep.Rejected) != 2 {
		t.Fatalf("report %+v", rep)
	}
	if rep.Rejected[0].Line != 9 || !errors.Is(rep.Rejected[0].Err, credentials.ErrInvalidHolder) {
		t.Errorf("rejected[0] = %v", rep.Rejected[0])
	}
	if rep.Rejected[1].Line != 10 || !errors.Is(rep.Rejected[1].Err, credentials.ErrMalformedLine) {
		t.Errorf("rejected[1] = %v", rep.Rejected[1])
	}
}

func TestMintVerify(t *testing.T) {
	f := newFixture(t, ServiceConfig{})
	f.importExamples(t)
	idx := f.svc.HolderIndex(citizen)
	ctx := ctxT(t)

	for _, tc := range []struct {
		name    string
		req     CodeRequest
		want    qr.DisplayProfile
		wantErr error
	}{
		{"ok/masked", CodeRequest{Kinds: []credentials.Kind{credentials.ResidentID}}, qr.ProfileMaskedIdentity, nil},
		{"ok/full-fields", CodeRequest{Kinds: []credentials.Kind{credentials.DrivingLicence}, Profile: qr.ProfileFullRegistration, Fields: []string{"class"}}, qr.ProfileFullRegistration, nil},
		{"ok/bundle", CodeRequest{Kinds: []credentials.Kind{credentials.ResidentID, credentials.SocialSecurity, credentials.HealthCode}}, qr.ProfileBundle, nil},
		{"ok/agent", CodeRequest{Kinds: []credentials.Kind{credentials.BusinessLicence}}, qr.ProfileMaskedIdentity, nil},
		{"fail/none", CodeRequest{}, 0, ErrBadRequest},
		{"fail/unknown-id", CodeRequest{IDs: []string{"nope"}}, 0, ErrNotFound},
		{"fail/unknown-kind", CodeRequest{Kinds: []credentials.Kind{"passport"}}, 0, ErrBadRequest},
		{"fail/fields-masked", CodeRequest{Kinds: []credentials.Kind{credentials.ResidentID}, Fields: []string{"sex"}}, 0, ErrBadRequest},
		{"fail/unknown-field", CodeRequest{Kinds: []credentials.Kind{credentials.ResidentID}, Profile: qr.ProfileFullRegistration, Fields: []string{"eyes"}}, 0, ErrBadRequest},
		{"fail/mixed-holders", CodeRequest{Kinds: []credentials.Kind{credentials.ResidentID, credentials.BusinessLicence}}, 0, qr.ErrMixedHolders},
		{"fail/bundle-of-one", CodeRequest{Kinds: []credentials.Kind{credentials.ResidentID}, Profile: qr.ProfileBundle}, 0, qr.ErrLicenceCount},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := f.svc.Mint(ctx, idx, tc.req, Actor{Subject: "sub-1", ClientID: "wallet"})
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			mustNoErr(t, err)
			res, err := f.verifier(t).Verify(m.Text)
			mustNoErr(t, err)
			if res.Profile != tc.want {
				t.Errorf("profile %d, want %d", res.Profile, tc.want)
			}
			if got := m.ExpiresAt.Sub(m.IssuedAt); got != 60*time.Second {
				t.Errorf("validity %s", got)
			}
		})
	}

	// Somebody else cannot mint the citizen's licences.
	other := f.svc.HolderIndex("11010519491231002X")
	if _, err := f.svc.Mint(ctx, other, CodeRequest{Kinds: []credentials.Kind{credentials.ResidentID}}, Operator); !errors.Is(err, ErrNotFound) {
		t.Errorf("other holder: %v", err)
	}
}

func TestRevokeSuspend(t *testing.T) {
	f := newFixture(t, ServiceConfig{})
	f.importExamples(t)
	ctx := ctxT(t)
	idx := f.svc.HolderIndex(citizen)
	rs, err := f.svc.Find(ctx, credentials.SocialSecurity, "B10374261")
	mustNoErr(t, err)
	if len(rs) != 1 {
		t.Fatalf("find: %d", len(rs))
	}
	id := rs[0].ID
	req := CodeRequest{IDs: []string{id}}

	_, err = f.svc.SetStatus(ctx, id, credentials.StatusSuspended, Operator)
	mustNoErr(t, err)
	if _, err := f.svc.Mint(ctx, idx, req, Operator); !errors.Is(err, credentials.ErrLicenceSuspended) {
		t.Fatalf("suspended: %v", err)
	}
	_, err = f.svc.SetStatus(ctx, id, credentials.StatusValid, Operator)
	mustNoErr(t, err)
	if _, err := f.svc.Mint(ctx, idx, req, Operator); err != nil {
		t.Fatalf("restored: %v", err)
	}
	_, err = f.svc.SetStatus(ctx, id, credentials.StatusRevoked, Operator)
	mustNoErr(t, err)
	if _, err := f.svc.Mint(ctx, idx, req, Operator); !errors.Is(err, credentials.ErrLicenceRevoked) {
		t.Fatalf("revoked: %v", err)
	}
	if _, err := f.svc.SetStatus(ctx, id, credentials.StatusValid, Operator); !errors.Is(err, ErrFinal) {
		t.Fatalf("un-revoke: %v", err)
	}
	// Re-importing the old "valid" line keeps it revoked.
	rep := f.importExamples(t)
	if rep.KeptRevoked != 1 {
		t.Fatalf("re-import: %+v", rep)
	}
	if _, err := f.svc.Mint(ctx, idx, req, Operator); !errors.Is(err, credentials.ErrLicenceRevoked) {
		t.Fatalf("revoked after re-import: %v", err)
	}
}

func TestAgentWithdrawn(t *testing.T) {
	f := newFixture(t, ServiceConfig{})
	f.importExamples(t)
	ctx := ctxT(t)
	rs, err := f.svc.Find(ctx, credentials.BusinessLicence, creditCode)
	mustNoErr(t, err)
	l := rs[0].Licence
	l.Agents = nil
	_, err = f.svc.Put(ctx, l, Operator)
	mustNoErr(t, err)
	own, err := f.svc.Licences(ctx, citizen)
	mustNoErr(t, err)
	for _, r := range own {
		if r.AsAgent {
			t.Fatal("withdrawn agent still sees the business licence")
		}
	}
	if _, err := f.svc.Licence(ctx, f.svc.HolderIndex(citizen), rs[0].ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get as withdrawn agent: %v", err)
	}
}

func TestScope(t *testing.T) {
	f := newFixture(t, ServiceConfig{Kinds: []credentials.Kind{credentials.ResidentID}, Profiles: []qr.DisplayProfile{qr.ProfileMaskedIdentity}})
	f.importExamples(t)
	idx := f.svc.HolderIndex(citizen)
	if _, err := f.svc.Mint(ctxT(t), idx, CodeRequest{Kinds: []credentials.Kind{credentials.DrivingLicence}}, Operator); !errors.Is(err, ErrOutOfScope) {
		t.Fatalf("kind out of scope: %v", err)
	}
	if _, err := f.svc.Mint(ctxT(t), idx, CodeRequest{Kinds: []credentials.Kind{credentials.ResidentID}, Profile: qr.ProfileFullRegistration}, Operator); !errors.Is(err, ErrOutOfScope) {
		t.Fatalf("profile out of scope: %v", err)
	}
	_, list, err := f.svc.TrustList(ctxT(t))
	mustNoErr(t, err)
	k := list.Keys[0]
	if len(k.Kinds) != 1 || len(k.Profiles) != 1 {
		t.Errorf("published scope %v %v", k.Kinds, k.Profiles)
	}
}

func TestTrustListSequence(t *testing.T) {
	f := newFixture(t, ServiceConfig{})
	ctx := ctxT(t)
	a, l1, err := f.svc.TrustList(ctx)
	mustNoErr(t, err)
	b, _, err := f.svc.TrustList(ctx)
	mustNoErr(t, err)
	if !bytes.Equal(a, b) {
		t.Fatal("two lists of one period differ")
	}
	anchors, err := f.svc.TrustAnchors(ctx)
	mustNoErr(t, err)
	store := qr.NewTrustStore(anchors, f.clk.Now)
	if _, err := store.Update(a); err != nil {
		t.Fatal(err)
	}

	// A rotation raises the sequence; the old key stays listed until it expires.
	_, err = f.kr.Rotate(ctx, storage.PurposeQR, keyring.AlgSM2, time.Hour)
	mustNoErr(t, err)
	f.clk.Add(2 * time.Second) // the keyring stamps the rotation with the wall clock
	c, l2, err := f.svc.TrustList(ctx)
	mustNoErr(t, err)
	if l2.Sequence <= l1.Sequence || len(l2.Keys) != 2 {
		t.Fatalf("after rotation: sequence %d (was %d), %d keys", l2.Sequence, l1.Sequence, len(l2.Keys))
	}
	if _, err := store.Update(c); err != nil {
		t.Fatalf("newer list refused: %v", err)
	}
	if _, err := store.Update(a); !errors.Is(err, qr.ErrTrustListRollback) {
		t.Fatalf("older list: %v", err)
	}

	// The next period raises it again.
	f.clk.Add(DefaultTrustListPeriod)
	_, l3, err := f.svc.TrustList(ctx)
	mustNoErr(t, err)
	if l3.Sequence <= l2.Sequence {
		t.Fatalf("next period: %d after %d", l3.Sequence, l2.Sequence)
	}

	// Anchors round-trip through PEM.
	pemBytes, err := MarshalTrustAnchors(anchors)
	mustNoErr(t, err)
	back, err := ParseTrustAnchors(pemBytes)
	mustNoErr(t, err)
	if len(back) != 1 || qr.AnchorFingerprint(back[0]) != qr.AnchorFingerprint(anchors[0]) {
		t.Fatal("anchor round trip")
	}
	if _, err := ParseTrustAnchors([]byte("hello")); !errors.Is(err, ErrBadAnchor) {
		t.Fatalf("garbage anchor: %v", err)
	}
}

func TestImportRefusesHolderChange(t *testing.T) {
	f := newFixture(t, ServiceConfig{})
	f.importExamples(t)
	lines := strings.Split(strings.TrimRight(string(must(os.ReadFile(examples))), "\n"), "\n")
	moved := strings.Replace(lines[4], `"holder":"`+citizen+`"`, `"holder":"11010519491231002X"`, 1)
	if moved == lines[4] {
		t.Fatal("example line 5 changed")
	}
	rep, err := f.svc.Import(ctxT(t), strings.NewReader(moved+"\n"), Operator)
	mustNoErr(t, err)
	if len(rep.Stored) != 0 || len(rep.Rejected) != 1 || rep.Rejected[0].Line != 1 || !errors.Is(rep.Rejected[0], ErrHolderChanged) {
		t.Fatalf("report %+v", rep)
	}
	if !strings.Contains(rep.Rejected[0].Error(), "revoke it and issue a new one") {
		t.Errorf("message %q", rep.Rejected[0].Error())
	}
	if got, _ := f.svc.Licences(ctxT(t), "11010519491231002X"); len(got) != 0 {
		t.Errorf("the licence moved to the new holder: %d licences", len(got))
	}
	if got, _ := f.svc.Find(ctxT(t), credentials.VehicleLicence, "京A7TB26"); len(got) != 1 || got[0].Licence.Holder != citizen {
		t.Errorf("stored licence: %+v", got)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
