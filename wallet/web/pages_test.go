package web

import (
	"bytes"
	"context"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/tongban/tongban/credentials"
	"github.com/tongban/tongban/qr"
	"github.com/tongban/tongban/wallet"
)

// TestFieldLabels: every field of every kind has a Chinese and an English label, so no page
// shows a raw key such as birth_date.
func TestFieldLabels(t *testing.T) {
	for _, k := range credentials.Kinds {
		for _, spec := range credentials.FieldSpecs(k) {
			if got := FieldLabel(k, spec.Name, langZH); got != spec.Label {
				t.Errorf("zh label of %s.%s = %q, want %q", k, spec.Name, got, spec.Label)
			}
			en := FieldLabel(k, spec.Name, langEN)
			if en == spec.Name || en == "" || strings.Contains(en, "_") {
				t.Errorf("en label of %s.%s = %q", k, spec.Name, en)
			}
		}
		if len(fieldLabelsEN[k]) != len(credentials.FieldSpecs(k)) {
			t.Errorf("%s: %d English labels for %d fields", k, len(fieldLabelsEN[k]), len(credentials.FieldSpecs(k)))
		}
	}
	if got := fieldValue(credentials.HealthCode, "colour", "yellow", langZH); got != "黄码" {
		t.Errorf("colour in words: %q", got)
	}
	if got := fieldValue(credentials.ResidentID, "sex", "女", langEN); got != "女" {
		t.Errorf("a stored value changed: %q", got)
	}
}

// asciiNextToHan finds ASCII punctuation next to a Chinese character.
var asciiNextToHan = regexp.MustCompile(`\p{Han}[,:;()!?]|[,:;()!?]\p{Han}`)

// TestTexts: the two languages have the same texts, and the Chinese ones use full-width
// punctuation (，：；（）).
func TestTexts(t *testing.T) {
	for k := range texts[langZH] {
		if _, ok := texts[langEN][k]; !ok {
			t.Errorf("text %q has no English", k)
		}
	}
	for k := range texts[langEN] {
		if _, ok := texts[langZH][k]; !ok {
			t.Errorf("text %q has no Chinese", k)
		}
	}
	for k, v := range texts[langZH] {
		if m := asciiNextToHan.FindString(v); m != "" {
			t.Errorf("zh text %q: ASCII punctuation %q in %q", k, m, v)
		}
	}
	// The templates' own punctuation between Chinese words comes from texts too.
	ents, err := webFS.ReadDir("templates")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, _ := webFS.ReadFile("templates/" + e.Name())
		if m := asciiNextToHan.FindString(string(b)); m != "" {
			t.Errorf("%s: ASCII punctuation next to Chinese: %q", e.Name(), m)
		}
	}
}

func TestBundleCountKey(t *testing.T) {
	ids := func(n int) []string { return strings.Split(strings.Repeat("x,", n), ",")[:n] }
	for _, tc := range []struct {
		name    string
		profile string
		n       int
		want    string
	}{
		{"ok/bundle-of-2", "bundle", 2, ""},
		{"ok/bundle-of-8", "bundle", 8, ""},
		{"ok/masked-of-1", "masked", 1, ""},
		{"ok/full-of-1", "full", 1, ""},
		{"fail/none", "bundle", 0, "bundleNone"},
		{"fail/none-masked", "masked", 0, "bundleNone"},
		{"fail/bundle-of-1", "bundle", 1, "bundleOne"},
		{"fail/bundle-of-9", "bundle", 9, "bundleTooMany"},
		{"fail/masked-of-2", "masked", 2, "bundleMany"},
		{"fail/full-of-3", "full", 3, "bundleMany"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := url.Values{"profile": {tc.profile}, "l": ids(tc.n)}
			if got := bundleCountKey(q); got != tc.want {
				t.Errorf("bundleCountKey(%v) = %q, want %q", q, got, tc.want)
			}
			if tc.want != "" && (texts[langZH][tc.want] == "" || texts[langEN][tc.want] == "") {
				t.Errorf("no text for %q", tc.want)
			}
		})
	}
}

func TestMaskField(t *testing.T) {
	for _, tc := range []struct{ name, v, want string }{
		{"birth_date", "1990-03-07", "1990-**-**"},
		{"birth_date", "bad", "****"},
		{"address", "北京市东城区示例胡同12号", "北京市东城区****"},
		{"address", "短地址", "****"},
		{"legal_representative", "周明远", "周*远"},
	} {
		if got := maskField(tc.name, tc.v); got != tc.want {
			t.Errorf("maskField(%s, %q) = %q, want %q", tc.name, tc.v, got, tc.want)
		}
	}
}

// TestDisclosure: what the code page says a code discloses is exactly what a verifier
// decodes from the code, for every kind of the demo licences and every profile: each element
// of the display claim is listed once, with the value the code holds or — where the page
// masks it — marked as held in full; a full-registration code's warning names the full ID
// number (or credit code), and the address and birth date when chosen.
func TestDisclosure(t *testing.T) {
	ctx := context.Background()
	svc := newService(t)
	data, err := os.ReadFile("../../docs/examples/licences.jsonl")
	mustNoErr(t, err)
	if _, err := svc.Import(ctx, bytes.NewReader(data), wallet.Operator); err != nil {
		t.Fatal(err)
	}
	const holder = "11010119900307002X"
	recs, err := svc.Licences(ctx, holder)
	mustNoErr(t, err)
	anchors, err := svc.TrustAnchors(ctx)
	mustNoErr(t, err)
	list, _, err := svc.TrustList(ctx)
	mustNoErr(t, err)
	store := qr.NewTrustStore(anchors, nil)
	_, err = store.Update(list)
	mustNoErr(t, err)
	v := &qr.Verifier{Trust: store, Now: svc.Now}
	index := svc.HolderIndex(holder)
	mint := func(req wallet.CodeRequest) *qr.Result {
		t.Helper()
		m, err := svc.Mint(ctx, index, req, wallet.Operator)
		mustNoErr(t, err)
		res, err := v.Verify(m.Text)
		mustNoErr(t, err)
		return res
	}
	items := func(t *testing.T, its []disclosedItem) map[string]disclosedItem {
		m := map[string]disclosedItem{}
		for _, it := range its {
			if _, dup := m[it.Key]; dup {
				t.Errorf("item %s listed twice", it.Key)
			}
			if it.Label == "" || strings.Contains(it.Label, "_") {
				t.Errorf("item %s: label %q", it.Key, it.Label)
			}
			m[it.Key] = it
		}
		return m
	}
	date := func(d *credentials.Date, lang string) string {
		if d == nil {
			return texts[lang]["longTerm"]
		}
		return d.String()
	}
	for _, rec := range recs {
		l := rec.Licence
		if svc.Showable(rec) != nil || rec.AsAgent {
			continue
		}
		for _, lang := range []string{langZH, langEN} {
			t.Run(string(l.Kind)+"/"+lang+"/masked", func(t *testing.T) {
				res := mint(wallet.CodeRequest{IDs: []string{rec.ID}, Profile: qr.ProfileMaskedIdentity})
				d := disclose(qr.ProfileMaskedIdentity, []credentials.Licence{l}, lang)
				got := items(t, d.Head)
				want := map[string]string{
					"kind": KindName(res.Identity.Kind, lang), "holder_name": res.Identity.MaskedName,
					"number": res.Identity.MaskedNumber, "valid_until": date(res.Identity.ValidUntil, lang),
				}
				if res.Identity.Colour != "" {
					want["colour"] = fieldValue(credentials.HealthCode, "colour", res.Identity.Colour, lang)
				}
				same(t, got, want, nil)
				if d.Full || strings.Contains(d.Intro, texts[lang]["fullIDNumber"]) {
					t.Errorf("a masked code is described as full: %q", d.Intro)
				}
			})
			for _, fields := range [][]string{nil, {}, firstField(l)} {
				t.Run(string(l.Kind)+"/"+lang+"/full", func(t *testing.T) {
					res := mint(wallet.CodeRequest{IDs: []string{rec.ID}, Profile: qr.ProfileFullRegistration, Fields: fields})
					shown := l
					if fields != nil {
						shown = l.WithFields(fields...)
					}
					d := disclose(qr.ProfileFullRegistration, []credentials.Licence{shown}, lang)
					got := items(t, d.Head)
					r := res.Registration
					want := map[string]string{
						"kind": KindName(r.Kind, lang), "number": r.Number, "holder": r.Holder, "holder_name": r.HolderName,
						"issuer": r.Issuer, "valid_from": r.ValidFrom.String(), "valid_until": date(r.ValidUntil, lang),
						"status": statusName(r.Status, lang),
					}
					for name, val := range r.Fields {
						want["field:"+name] = fieldValue(r.Kind, name, val, lang)
					}
					same(t, got, want, &l)
					if !d.Full {
						t.Error("a full code is not marked full")
					}
					wantNamed := []string{texts[lang]["fullIDNumber"]}
					if l.Kind == credentials.BusinessLicence {
						wantNamed = []string{texts[lang]["fullCreditCode"]}
					}
					for name := range r.Fields {
						if sensitiveFields[name] {
							wantNamed = append(wantNamed, FieldLabel(r.Kind, name, lang))
						}
					}
					for _, w := range wantNamed {
						if !strings.Contains(d.Intro, w) {
							t.Errorf("the warning %q does not name %q", d.Intro, w)
						}
					}
				})
			}
		}
	}
	// 多码合一 of four personal licences.
	var ids []string
	var ls []credentials.Licence
	for _, rec := range recs {
		switch rec.Licence.Kind {
		case credentials.ResidentID, credentials.MedicalInsurance, credentials.HealthCode, credentials.VehicleLicence:
			ids, ls = append(ids, rec.ID), append(ls, rec.Licence)
		}
	}
	res := mint(wallet.CodeRequest{IDs: ids, Profile: qr.ProfileBundle})
	d := disclose(qr.ProfileBundle, ls, langZH)
	same(t, items(t, d.Head), map[string]string{"holder_name": res.Bundle.MaskedName, "holder": res.Bundle.MaskedHolder}, nil)
	if len(d.Entries) != len(res.Bundle.Entries) {
		t.Fatalf("%d entries listed, the code has %d", len(d.Entries), len(res.Bundle.Entries))
	}
	for i, e := range res.Bundle.Entries {
		want := map[string]string{"status": statusName(e.Status, langZH), "valid_until": date(e.ValidUntil, langZH)}
		if e.Colour != "" {
			want["colour"] = fieldValue(credentials.HealthCode, "colour", e.Colour, langZH)
		}
		if e.MaskedNumber != "" {
			want["plate"] = e.MaskedNumber
		}
		if d.Entries[i].Kind != KindName(e.Kind, langZH) {
			t.Errorf("entry %d: %q, the code shows %s", i, d.Entries[i].Kind, e.Kind)
		}
		same(t, items(t, d.Entries[i].Items), want, nil)
	}
}

// firstField returns the name of l's first field, as a one-field choice.
func firstField(l credentials.Licence) []string {
	for _, spec := range credentials.FieldSpecs(l.Kind) {
		if _, ok := l.Fields[spec.Name]; ok {
			return []string{spec.Name}
		}
	}
	return []string{}
}

// same checks that the listed items are exactly the code's elements want (key → the value the
// code holds). An item marked Full must show a value other than the code's (masked) and, for
// the licence l's numbers and name, the masking the wallet uses.
func same(t *testing.T, got map[string]disclosedItem, want map[string]string, l *credentials.Licence) {
	t.Helper()
	for k, w := range want {
		it, ok := got[k]
		switch {
		case !ok:
			t.Errorf("the page does not list %s (%q), which the code holds", k, w)
		case it.Full:
			if it.Value == w {
				t.Errorf("%s: marked masked, shows the full value %q", k, w)
			}
			if l != nil {
				masked := map[string]string{"number": l.MaskedNumber(), "holder": l.MaskedHolder(), "holder_name": l.MaskedHolderName()}
				if m, ok := masked[k]; ok && it.Value != m {
					t.Errorf("%s: shows %q, want the masked %q", k, it.Value, m)
				}
			}
		case it.Value != w:
			t.Errorf("%s: the page shows %q, the code holds %q", k, it.Value, w)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("the page lists %s, which the code does not hold", k)
		}
	}
}
