package verdict_test

import (
	"bytes"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm2"

	"github.com/tongban/tongban/credentials"
	"github.com/tongban/tongban/qr"
	"github.com/tongban/tongban/qr/qrtest"
	"github.com/tongban/tongban/qr/verdict"
)

const residentIDCard = `{"kind":"resident-id","number":"11010119900307002X","issuer":"北京市公安局东城分局","holder":"11010119900307002X","holder_name":"林晓彤","valid_from":"2016-08-01","valid_until":"2036-08-01","status":"valid","fields":{"sex":"女","ethnicity":"汉","birth_date":"1990-03-07","address":"北京市东城区示例胡同12号院3号楼2单元401室"}}`

// fixture is a trust list signed by a fixed anchor and a minter with a fixed key and clock.
type fixture struct {
	now     time.Time
	anchor  *ecdsa.PublicKey
	list    []byte
	minter  qr.Minter
	licence credentials.Licence
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	codeKey, _ := sm2.NewPrivateKey(bytes.Repeat([]byte{0x11}, 32))
	listKey, _ := sm2.NewPrivateKey(bytes.Repeat([]byte{0x22}, 32))
	f := &fixture{now: time.Date(2026, 12, 1, 10, 0, 0, 0, credentials.ChinaStandardTime), anchor: &listKey.PublicKey}
	var err error
	f.list, err = qr.SignTrustList(&qr.TrustList{
		Sequence: 7, IssuedAt: f.now.Add(-time.Hour), ExpiresAt: f.now.Add(7 * 24 * time.Hour),
		Keys: []qr.TrustedKey{{
			PublicKey: &codeKey.PublicKey, Issuer: "示例政务服务平台",
			Kinds:     []credentials.Kind{credentials.ResidentID},
			Profiles:  []qr.DisplayProfile{qr.ProfileMaskedIdentity, qr.ProfileFullRegistration},
			NotBefore: f.now.Add(-24 * time.Hour), NotAfter: f.now.Add(365 * 24 * time.Hour),
		}},
	}, listKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	ls, _, err := credentials.ParseImport(strings.NewReader(residentIDCard))
	if err != nil {
		t.Fatal(err)
	}
	f.licence = ls[0]
	f.minter = qr.Minter{Key: codeKey, Now: func() time.Time { return f.now }}
	return f
}

func (f *fixture) mint(t *testing.T, p qr.DisplayProfile, at time.Time) string {
	t.Helper()
	m := f.minter
	m.Now = func() time.Time { return at }
	c, err := m.Mint(p, f.licence)
	if err != nil {
		t.Fatal(err)
	}
	return c.Text
}

func (f *fixture) station(t *testing.T, snap *qr.VerifierSnapshot) *verdict.Station {
	t.Helper()
	st, err := verdict.NewStation([]*ecdsa.PublicKey{f.anchor}, snap, func() time.Time { return f.now })
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestStation(t *testing.T) {
	f := newFixture(t)
	st := f.station(t, nil)
	code := f.mint(t, qr.ProfileMaskedIdentity, f.now)
	if v := st.Verify(code); v.Valid || v.Reason != "stale_trust_list" {
		t.Fatalf("before a trust list: %+v", v)
	}
	if _, err := st.LoadTrustList(f.list); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, text, reason string
	}{
		{"fail/not-a-code", "hello", "bad_prefix"},
		{"fail/tampered-s", qrtest.FlipSignatureBit(code, 0), "bad_signature"},
		{"fail/tampered-r", qrtest.FlipSignatureBit(code, 63), "bad_signature"},
		{"fail/expired", f.mint(t, qr.ProfileMaskedIdentity, f.now.Add(-91*time.Second)), "expired"},
		{"fail/future", f.mint(t, qr.ProfileMaskedIdentity, f.now.Add(31*time.Second)), "not_yet_valid"},
		{"ok/first", code, ""},
		{"fail/replayed", code, "replayed"},
	} {
		v := st.Verify(tc.text)
		if v.Valid != (tc.reason == "") || v.Reason != tc.reason {
			t.Errorf("%s: valid %v reason %q (%s), want %q", tc.name, v.Valid, v.Reason, v.Detail, tc.reason)
		}
		if !v.Valid && (v.MessageZH == "" || v.Message == "") {
			t.Errorf("%s: no message: %+v", tc.name, v)
		}
		if v.TrustListSequence != 7 {
			t.Errorf("%s: sequence %d", tc.name, v.TrustListSequence)
		}
	}

	// The replay cache survives a restart through the snapshot, as the browser keeps it.
	again := f.station(t, st.State().Snapshot())
	if _, err := again.LoadTrustList(f.list); err != nil {
		t.Fatal(err)
	}
	if v := again.Verify(code); v.Reason != "replayed" {
		t.Errorf("after a restart: %+v", v)
	}
	// A station without the right anchor refuses the list, and every code.
	other, _ := sm2.NewPrivateKey(bytes.Repeat([]byte{0x33}, 32))
	wrong, err := verdict.NewStation([]*ecdsa.PublicKey{&other.PublicKey}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wrong.LoadTrustList(f.list); verdict.ReasonOf(err).Code != "untrusted_trust_list" {
		t.Errorf("wrong anchor: %v", err)
	}
	if _, err := wrong.LoadStatusList([]byte("x")); !errors.Is(err, qr.ErrStaleTrustList) {
		t.Errorf("status list without a trust list: %v", err)
	}
}

func TestRows(t *testing.T) {
	f := newFixture(t)
	st := f.station(t, nil)
	if _, err := st.LoadTrustList(f.list); err != nil {
		t.Fatal(err)
	}
	v := st.Verify(f.mint(t, qr.ProfileFullRegistration, f.now))
	if !v.Valid {
		t.Fatalf("%+v", v)
	}
	var got []string
	for _, r := range v.Rows() {
		got = append(got, fmt.Sprintf("%d %s|%s|%s", r.Level, r.EN, r.ZH, r.Value))
	}
	want := []string{
		"0 profile|显示内容|2 full-registration",
		"0 licence|证照|居民身份证 (resident-id)",
		"1 name|姓名/名称|林晓彤",
		"1 number|证号|11010119900307002X",
		"1 issuer|发证机关|北京市公安局东城分局",
		"1 valid from|起始日期|2016-08-01",
		"1 valid until|有效期至|2036-08-01",
		"1 status|状态|valid",
		"0 code issued|签发时间|2026-12-01 10:00:00 +08:00",
		"0 code expires|过期时间|2026-12-01 10:01:00 +08:00",
	}
	if len(got) < len(want)+2 {
		t.Fatalf("rows:\n%s", strings.Join(got, "\n"))
	}
	for i, w := range want[:8] {
		if got[i] != w {
			t.Errorf("row %d: %q, want %q", i, got[i], w)
		}
	}
	if g := strings.Join(got, "\n"); !strings.Contains(g, want[8]) || !strings.Contains(g, want[9]) {
		t.Errorf("rows lack the code's times:\n%s", g)
	}
	if r := (&verdict.Verdict{Reason: "expired"}).Rows(); r != nil {
		t.Errorf("a rejection has rows: %v", r)
	}
}

// TestReasons: every error the verifier, the trust list and the status list return has its own
// reason code with words in both languages; codes are unique except where two errors mean the
// same to a counter.
func TestReasons(t *testing.T) {
	errs := []error{
		qr.ErrTooLong, qr.ErrBadPrefix, qr.ErrBadBase45, qr.ErrBadCBOR, qr.ErrWrongAlgorithm, qr.ErrStaleTrustList,
		qr.ErrUnknownKey, qr.ErrBadSignature, qr.ErrBadClaims, qr.ErrKeyNotAllowed, qr.ErrNotYetValid, qr.ErrExpired,
		qr.ErrValidityTooLong, qr.ErrReplayed, qr.ErrBadTrustList, qr.ErrUntrustedTrustList, qr.ErrTrustListSignature,
		qr.ErrTrustListRollback, qr.ErrRetiredAnchor, qr.ErrBadStatusList, qr.ErrUntrustedStatusList,
		qr.ErrStatusListSignature, qr.ErrStatusListMissing, qr.ErrStatusListStale, qr.ErrStatusRevoked,
		qr.ErrStatusSuspended, verdict.ErrUnreadableImage,
	}
	seen := map[string]bool{}
	for _, e := range errs {
		r := verdict.ReasonOf(fmt.Errorf("wrapped: %w", e))
		if r.Code == "error" || r.ZH == "" || r.EN == "" {
			t.Errorf("%v: %+v", e, r)
		}
		if seen[r.Code] && r.Code != "untrusted_trust_list" {
			t.Errorf("%v: reason %s used twice", e, r.Code)
		}
		seen[r.Code] = true
	}
	if r := verdict.ReasonOf(errors.New("disk on fire")); r.Code != "error" {
		t.Errorf("unknown error: %+v", r)
	}
}

func TestDisplay(t *testing.T) {
	f := newFixture(t)
	st := f.station(t, nil)
	if _, err := st.LoadTrustList(f.list); err != nil {
		t.Fatal(err)
	}
	v := st.Verify(f.mint(t, qr.ProfileMaskedIdentity, f.now))
	d := v.Display()
	if !d.Valid || len(d.CTI) != 11 || d.IssuedAt != "2026-12-01T02:00:00Z" || len(d.Rows) == 0 {
		t.Fatalf("%+v", d)
	}
	if d.Rows[0].ValueZH != "身份核验" || d.Rows[1].ValueEN != "Resident identity card" && d.Rows[1].ValueEN == "" {
		t.Errorf("rows %+v", d.Rows[:2])
	}
	r := st.Verify("LZ1:").Display()
	if r.Valid || r.Reason == "" || r.MessageEN == "" || r.MessageZH == "" || r.CTI != "" || r.Rows != nil {
		t.Errorf("rejected: %+v", r)
	}
}
