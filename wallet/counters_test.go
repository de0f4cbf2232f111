package wallet

import (
	"bytes"
	"encoding/base64"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/tongban/tongban/audit"
	"github.com/tongban/tongban/credentials"
	"github.com/tongban/tongban/storage"
	"github.com/tongban/tongban/wallet/wallettest"
)

// seeded is a deterministic byte source for keys and codes in tests.
type seeded struct{ r *rand.ChaCha8 }

func newSeeded(seed byte) *seeded { return &seeded{rand.NewChaCha8([32]byte{seed})} }

func (s *seeded) Read(p []byte) (int, error) { return s.r.Read(p) }

// enrolled adds and enrols a counter for the tests: its key from seed.
func enrolled(t *testing.T, f *fixture, name string, seed byte) *wallettest.Counter {
	t.Helper()
	c, code, err := f.svc.AddCounter(ctxT(t), NewCounter{Name: name, Office: "朝阳区政务服务中心"}, audit.Shell)
	mustNoErr(t, err)
	k, err := wallettest.NewCounter(newSeeded(seed))
	mustNoErr(t, err)
	got, err := f.svc.EnrolCounter(ctxT(t), strings.ToLower(code), k.JWK(), audit.Actor{Address: "192.0.2.7"})
	mustNoErr(t, err)
	if got.ID != c.ID || got.KeyID == "" {
		t.Fatalf("EnrolCounter = %+v, want counter %s with a kid", got, c.ID)
	}
	k.KeyID, k.CounterID = got.KeyID, got.ID
	return k
}

// TestEnrolment: an enrolment code works once, within its validity, for a counter that is
// not disabled, with a P-256 public JWK; each refusal has its own error; adding, enrolling
// and disabling are audited.
func TestEnrolment(t *testing.T) {
	f := newFixture(t, ServiceConfig{})
	ctx := ctxT(t)
	k, err := wallettest.NewCounter(newSeeded(1))
	mustNoErr(t, err)
	c, code, err := f.svc.AddCounter(ctx, NewCounter{Name: " 3号窗口 ", Office: "朝阳区政务服务中心"}, audit.Shell)
	mustNoErr(t, err)
	if c.Name != "3号窗口" || len(code) != 19 || strings.Count(code, "-") != 3 {
		t.Fatalf("AddCounter = %+v, code %q", c, code)
	}
	_, expCode, err := f.svc.AddCounter(ctx, NewCounter{Name: "4号窗口", Valid: time.Hour}, audit.Shell)
	mustNoErr(t, err)
	dc, disCode, err := f.svc.AddCounter(ctx, NewCounter{Name: "5号窗口"}, audit.Shell)
	mustNoErr(t, err)
	mustNoErr(t, f.svc.DisableCounter(ctx, dc.ID, audit.Shell))

	for _, tc := range []struct {
		name, code string
		jwk        []byte
		wantErr    error
	}{
		{"fail/not-json", code, []byte("nope"), ErrCounterKey},
		{"fail/rsa", code, []byte(`{"kty":"RSA","n":"AQAB","e":"AQAB"}`), ErrCounterKey},
		{"fail/private", code, bytes.Replace(k.JWK(), []byte(`{`), []byte(`{"d":"AAAA",`), 1), ErrCounterKey},
		{"fail/off-curve", code, []byte(`{"kty":"EC","crv":"P-256","x":"` + strings.Repeat("A", 43) + `","y":"` + strings.Repeat("A", 43) + `"}`), ErrCounterKey},
		{"fail/unknown-code", "AAAA-BBBB-CCCC-DDDD", k.JWK(), ErrEnrolmentUnknown},
		{"fail/disabled", disCode, k.JWK(), ErrEnrolmentUnknown},
		{"ok/lower-case-spaces", " " + strings.ToLower(strings.ReplaceAll(code, "-", " ")), k.JWK(), nil},
		{"fail/replayed", code, k.JWK(), ErrEnrolmentUsed},
	} {
		_, err := f.svc.EnrolCounter(ctx, tc.code, tc.jwk, audit.Actor{})
		if (tc.wantErr == nil) != (err == nil) || (tc.wantErr != nil && !errors.Is(err, tc.wantErr)) {
			t.Errorf("%s: EnrolCounter error %v, want %v", tc.name, err, tc.wantErr)
		}
	}
	f.clk.Add(time.Hour)
	k2, err := wallettest.NewCounter(newSeeded(2))
	mustNoErr(t, err)
	if _, err := f.svc.EnrolCounter(ctx, expCode, k2.JWK(), audit.Actor{}); !errors.Is(err, ErrEnrolmentExpired) {
		t.Errorf("expired code: %v, want ErrEnrolmentExpired", err)
	}
	if err := f.svc.DisableCounter(ctx, "ctr-nope", audit.Shell); !errors.Is(err, ErrCounterNotFound) {
		t.Errorf("DisableCounter unknown: %v", err)
	}
	// Disabling it again is refused, changes nothing and writes no second audit entry (the
	// audit list below has one counter.disable).
	if err := f.svc.DisableCounter(ctx, dc.ID, audit.Shell); !errors.Is(err, ErrCounterAlreadyDisabled) || !strings.Contains(err.Error(), "already disabled") {
		t.Errorf("DisableCounter twice: %v, want ErrCounterAlreadyDisabled", err)
	}
	for _, tc := range []struct {
		name string
		nc   NewCounter
	}{{"blank", NewCounter{Name: "  "}}, {"invisible", NewCounter{Name: "窗口\u202e"}}, {"long", NewCounter{Name: strings.Repeat("窗", 65)}},
		{"validity", NewCounter{Name: "x", Valid: 8 * 24 * time.Hour}}} {
		_, _, err := f.svc.AddCounter(ctx, tc.nc, audit.Shell)
		if !errors.Is(err, ErrInvalidCounter) || !errors.Is(err, ErrBadRequest) ||
			!strings.HasPrefix(err.Error(), "wallet: invalid counter: ") || strings.Contains(err.Error(), "code request") {
			t.Errorf("AddCounter %s: %v, want ErrInvalidCounter (an ErrBadRequest) in its own words", tc.name, err)
		}
	}
	es, err := f.store.QueryAudit(ctx, storage.AuditQuery{Action: "counter.", Limit: 20})
	mustNoErr(t, err)
	var got []string
	for _, e := range es {
		got = append(got, e.Action+" "+e.Actor)
		if strings.Contains(e.Detail, code) {
			t.Errorf("audit detail holds the enrolment code: %q", e.Detail)
		}
	}
	want := []string{"counter.add operator", "counter.add operator", "counter.add operator", "counter.disable operator", "counter.enrol " + c.ID}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("audit = %q, want %q", got, want)
	}
}

// TestAcceptReceipt: a receipt is stored against the code's record once (a duplicate is
// accepted and ignored); an unknown cti or a time outside the code's validity is accepted and
// dropped; each bad input is refused with its own error and stores nothing.
func TestAcceptReceipt(t *testing.T) {
	f := newFixture(t, ServiceConfig{})
	f.importExamples(t)
	ctx := ctxT(t)
	idx := f.svc.HolderIndex(citizen)
	m, err := f.svc.Mint(ctx, idx, CodeRequest{Kinds: []credentials.Kind{credentials.ResidentID}}, Operator)
	mustNoErr(t, err)
	k := enrolled(t, f, "3号窗口", 1)
	other := enrolled(t, f, "4号窗口", 2)
	disabled := enrolled(t, f, "5号窗口", 3)
	mustNoErr(t, f.svc.DisableCounter(ctx, disabled.CounterID, audit.Shell))
	now := f.clk.Now().Unix()
	cti := m.CTI[:]
	good := k.Receipt(cti, now, nil)

	wrongKey := *k
	wrongKey.Key = other.Key // signed with another counter's key under k's kid
	claims := func(s string) []byte { return []byte(s) }
	b64 := base64.RawURLEncoding.EncodeToString
	ctiB := b64(cti)
	for _, tc := range []struct {
		name    string
		jws     string
		wantErr error
	}{
		{"fail/garbage", "not a jws", ErrReceiptMalformed},
		{"fail/empty", "", ErrReceiptMalformed},
		{"fail/too-long", strings.Repeat("a", MaxReceiptSize+1), ErrReceiptMalformed},
		{"fail/bad-base64", "a+b.c.d", ErrReceiptMalformed},
		{"fail/header-not-json", b64([]byte("x")) + ".e30.AA", ErrReceiptMalformed},
		{"fail/alg-none", k.Receipt(cti, now, map[string]any{"alg": "none", "typ": ReceiptType, "kid": k.KeyID}), ErrReceiptAlg},
		{"fail/alg-hs256", k.Receipt(cti, now, map[string]any{"alg": "HS256", "typ": ReceiptType, "kid": k.KeyID}), ErrReceiptAlg},
		{"fail/typ-jwt", k.Receipt(cti, now, map[string]any{"alg": "ES256", "typ": "JWT", "kid": k.KeyID}), ErrReceiptType},
		{"fail/no-typ", k.Receipt(cti, now, map[string]any{"alg": "ES256", "kid": k.KeyID}), ErrReceiptType},
		{"fail/unknown-kid", k.Receipt(cti, now, map[string]any{"alg": "ES256", "typ": ReceiptType, "kid": "nope"}), ErrReceiptKey},
		{"fail/wrong-key", wrongKey.Receipt(cti, now, nil), ErrReceiptSignature},
		{"fail/tampered", good[:len(good)-2] + flip(good[len(good)-2]) + good[len(good)-1:], ErrReceiptSignature},
		{"fail/disabled", disabled.Receipt(cti, now, nil), ErrCounterDisabled},
		{"fail/other-ctr", k.Sign(nil, claims(`{"cti":"`+ctiB+`","ctr":"`+other.CounterID+`","iat":1}`)), ErrReceiptClaims},
		{"fail/short-cti", k.Sign(nil, claims(`{"cti":"AAAA","ctr":"`+k.CounterID+`","iat":1}`)), ErrReceiptClaims},
		{"fail/no-iat", k.Sign(nil, claims(`{"cti":"`+ctiB+`","ctr":"`+k.CounterID+`"}`)), ErrReceiptClaims},
		{"fail/extra-claim", k.Sign(nil, claims(`{"cti":"`+ctiB+`","ctr":"`+k.CounterID+`","iat":1,"name":"x"}`)), ErrReceiptClaims},
		{"fail/iat-future", k.Receipt(cti, now+int64(ReceiptFutureSkew/time.Second)+1, nil), ErrReceiptTime},
		{"fail/iat-old", k.Receipt(cti, now-int64(ReceiptMaxAge/time.Second)-1, nil), ErrReceiptTime},
		{"fail/iat-string", k.Sign(nil, claims(`{"cti":"`+ctiB+`","ctr":"`+k.CounterID+`","iat":"1"}`)), ErrReceiptClaims},
		{"fail/iat-fraction", k.Sign(nil, claims(`{"cti":"`+ctiB+`","ctr":"`+k.CounterID+`","iat":1.5}`)), ErrReceiptClaims},
		{"fail/ctr-number", k.Sign(nil, claims(`{"cti":"`+ctiB+`","ctr":7,"iat":1}`)), ErrReceiptClaims},
	} {
		_, err := f.svc.AcceptReceipt(ctx, []byte(tc.jws), nil)
		if !errors.Is(err, tc.wantErr) {
			t.Errorf("%s: AcceptReceipt error %v, want %v", tc.name, err, tc.wantErr)
		}
		// The error is the receipt format's, never Go's ("Go struct field receiptClaims.iat").
		if err != nil && (strings.Contains(err.Error(), "Go ") || strings.Contains(err.Error(), "receiptClaims")) {
			t.Errorf("%s: Go internals in the error: %v", tc.name, err)
		}
	}
	for name, want := range map[string]string{
		`"iat":"1"`: "iat must be a NumericDate (integer seconds)", `"iat":1.5`: "iat must be a NumericDate (integer seconds)",
	} {
		_, err := f.svc.AcceptReceipt(ctx, []byte(k.Sign(nil, claims(`{"cti":"`+ctiB+`","ctr":"`+k.CounterID+`",`+name+`}`))), nil)
		if err == nil || !strings.HasSuffix(err.Error(), ": "+want) {
			t.Errorf("%s: %v, want %q", name, err, want)
		}
	}
	limited := 0
	if _, err := f.svc.AcceptReceipt(ctx, []byte(good), func(id string) bool { limited++; return id != k.CounterID }); !errors.Is(err, ErrReceiptRate) || limited != 1 {
		t.Errorf("rate-limited receipt: %v (limiter asked %d times), want ErrReceiptRate", err, limited)
	}
	if rcs, _ := f.store.ListCodeReceipts(ctx, [][]byte{cti}); len(rcs) != 0 {
		t.Fatalf("refused receipts stored: %+v", rcs)
	}
	// Unknown cti, and a time the code was not valid at (the skew is 5 minutes): accepted, dropped.
	for name, jws := range map[string]string{
		"unknown cti":  k.Receipt([]byte("12345678"), now, nil),
		"before issue": k.Receipt(cti, m.IssuedAt.Add(-ReceiptFutureSkew-time.Second).Unix(), nil),
	} {
		r, err := f.svc.AcceptReceipt(ctx, []byte(jws), nil)
		if err != nil || r.Stored {
			t.Errorf("%s: AcceptReceipt = %+v, %v; want accepted and dropped", name, r, err)
		}
	}
	for i, jws := range []string{good, good, k.Receipt(cti, now+1, nil)} { // the same, then a later one: the first is kept
		r, err := f.svc.AcceptReceipt(ctx, []byte(jws), nil)
		if err != nil || !r.Stored || r.CounterID != k.CounterID {
			t.Errorf("receipt %d: AcceptReceipt = %+v, %v", i, r, err)
		}
	}
	rcs, err := f.store.ListCodeReceipts(ctx, [][]byte{cti})
	mustNoErr(t, err)
	if len(rcs) != 1 || rcs[0].CounterID != k.CounterID || rcs[0].VerifiedAt.Unix() != now {
		t.Errorf("stored receipts %+v, want one of %s at %d", rcs, k.CounterID, now)
	}
}

// flip returns a base64url character other than c.
func flip(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}

// TestHolderRecord: the record merges codes (with the counters that verified them) and app
// reads newest first, pages without skipping or repeating entries at one instant, and the
// purge deletes records past the retention.
func TestHolderRecord(t *testing.T) {
	f := newFixture(t, ServiceConfig{})
	f.importExamples(t)
	ctx := ctxT(t)
	idx := f.svc.HolderIndex(citizen)
	k := enrolled(t, f, "3号窗口", 1)
	var ctis [][]byte
	for i := range 5 {
		kind := credentials.ResidentID
		if i%2 == 1 {
			kind = credentials.DrivingLicence
		}
		m, err := f.svc.Mint(ctx, idx, CodeRequest{Kinds: []credentials.Kind{kind}}, Operator)
		mustNoErr(t, err)
		ctis = append(ctis, m.CTI[:])
		if i == 2 { // three reads at one instant, between the codes
			f.clk.Add(time.Second)
			_, err := f.svc.Lookup(ctx, idx, []credentials.Kind{credentials.ResidentID, credentials.DrivingLicence, credentials.SocialSecurity}, "dept-app")
			mustNoErr(t, err)
		}
		f.clk.Add(time.Second)
	}
	r, err := f.svc.AcceptReceipt(ctx, []byte(k.Receipt(ctis[1], f.clk.Now().Unix(), nil)), nil)
	if err != nil || !r.Stored {
		t.Fatalf("AcceptReceipt = %+v, %v", r, err)
	}
	first, err := f.svc.HolderRecord(ctx, idx, time.Time{}, 100)
	mustNoErr(t, err)
	describe := func(es []RecordEntry) string {
		var parts []string
		for _, e := range es {
			if e.Code != nil {
				s := "code:" + string(e.Code.Kinds[0])
				for _, v := range e.Code.Verifications {
					s += "@" + v.Counter.Name
				}
				parts = append(parts, s)
			} else {
				parts = append(parts, "read:"+string(e.Lookup.Kind))
			}
		}
		return strings.Join(parts, " ")
	}
	want := "code:resident-id code:driving-licence read:resident-id read:social-security read:driving-licence " +
		"code:resident-id code:driving-licence@3号窗口 code:resident-id"
	if got := describe(first.Entries); got != want || !first.Next.IsZero() {
		t.Fatalf("record = %s (next %v)\nwant     %s", got, first.Next, want)
	}
	// Pages of 3: the three reads at one instant stay together; nothing skipped or repeated.
	var all []RecordEntry
	until := time.Time{}
	pages := 0
	for {
		p, err := f.svc.HolderRecord(ctx, idx, until, 3)
		mustNoErr(t, err)
		all = append(all, p.Entries...)
		pages++
		if p.Next.IsZero() || pages > 10 {
			break
		}
		until = p.Next
	}
	if got := describe(all); got != want || pages != 2 { // 2 codes + 3 reads, then 3 codes
		t.Errorf("paged record (%d pages) = %s\nwant %s", pages, got, want)
	}
	if _, err := f.svc.HolderRecord(ctx, idx, time.Time{}, 0); !errors.Is(err, ErrBadRequest) {
		t.Errorf("page size 0: %v", err)
	}
	// The purge keeps records within the retention and deletes older ones with their receipts.
	if n, err := f.svc.PurgeRecords(ctx); err != nil || n != 0 {
		t.Errorf("PurgeRecords = %d, %v; want 0", n, err)
	}
	f.clk.Add(DefaultRecordRetention)
	if n, err := f.svc.PurgeRecords(ctx); err != nil || n != 5 {
		t.Errorf("PurgeRecords after the retention = %d, %v; want 5", n, err)
	}
	if rcs, _ := f.store.ListCodeReceipts(ctx, ctis); len(rcs) != 0 {
		t.Errorf("receipts left after the purge: %+v", rcs)
	}
}
