package qr

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/emmansun/gmsm/smx509"

	"github.com/tongban/tongban/credentials"
	smcrypto "github.com/tongban/tongban/sm-crypto"
)

func pinned(t testing.TB) []*ecdsa.PublicKey { return []*ecdsa.PublicKey{&listKey(t).PublicKey} }

func signList(t testing.TB, l *TrustList) []byte {
	t.Helper()
	data, err := SignTrustList(l, listKey(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestTrustListRoundTrip(t *testing.T) {
	in := goldenList(t)
	data := signList(t, in)
	out, err := ParseTrustList(data, pinned(t))
	if err != nil {
		t.Fatal(err)
	}
	if out.Sequence != in.Sequence || !out.IssuedAt.Equal(in.IssuedAt) || !out.ExpiresAt.Equal(in.ExpiresAt) || len(out.Keys) != 1 {
		t.Fatalf("got %+v", out)
	}
	k := out.Keys[0]
	if k.KID != in.Keys[0].KID || !k.PublicKey.Equal(in.Keys[0].PublicKey) || k.Issuer != in.Keys[0].Issuer ||
		len(k.Kinds) != 8 || len(k.Profiles) != 3 || !k.NotBefore.Equal(in.Keys[0].NotBefore) || !k.NotAfter.Equal(in.Keys[0].NotAfter) {
		t.Errorf("key %+v", k)
	}
	// Deterministic CBOR: signing the parsed list again gives the same payload.
	again := signList(t, out)
	e1, _ := parseEnvelope(data, trustEnvelopeMode, trustListMode, true)
	e2, _ := parseEnvelope(again, trustEnvelopeMode, trustListMode, true)
	if !bytes.Equal(e1.msg.Payload, e2.msg.Payload) {
		t.Error("payload not deterministic")
	}
}

func TestParseTrustListFailures(t *testing.T) {
	good := signList(t, goldenList(t))
	other := mustKey(t, []byte("not the pinned trust-list key!!!"))
	ls := demoLicences(t)
	code, err := testMinter(t, goldenNow).Mint(ProfileMaskedIdentity, ls[credentials.ResidentID])
	if err != nil {
		t.Fatal(err)
	}
	codeCOSE, _ := decodeBase45Body(code.Text)
	tests := []struct {
		name string
		data func() []byte
		pin  []*ecdsa.PublicKey
		want error
	}{
		{"ok", func() []byte { return good }, nil, nil},
		{"fail/unpinned-signer", func() []byte {
			d, err := SignTrustList(goldenList(t), other, nil)
			if err != nil {
				t.Fatal(err)
			}
			return d
		}, nil, ErrUntrustedTrustList},
		{"fail/no-pins", func() []byte { return good }, []*ecdsa.PublicKey{}, ErrUntrustedTrustList},
		{"fail/signature", func() []byte {
			d := bytes.Clone(good)
			d[len(d)-1] ^= 1
			return d
		}, nil, ErrTrustListSignature},
		{"fail/payload-byte", func() []byte {
			d := bytes.Clone(good)
			i := bytes.Index(d, []byte("亮证签名密钥"))
			d[i+len("亮证签名密钥")] ^= 1 // the digit after it
			return d
		}, nil, ErrTrustListSignature},
		{"fail/a-code-is-not-a-list", func() []byte { return codeCOSE }, nil, ErrBadTrustList},
		{"fail/empty", func() []byte { return nil }, nil, ErrBadTrustList},
		{"fail/too-big", func() []byte { return make([]byte, MaxTrustListSize+1) }, nil, ErrBadTrustList},
		{"fail/trailing", func() []byte { return append(bytes.Clone(good), 0) }, nil, ErrBadTrustList},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pin := tt.pin
			if pin == nil {
				pin = pinned(t)
			}
			_, err := ParseTrustList(tt.data(), pin)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("ParseTrustList = %v, want %v", err, tt.want)
			}
		})
	}
}

// A trust list is not a code either: its typ header is refused.
func TestTrustListIsNotACode(t *testing.T) {
	good := signList(t, goldenList(t))
	v := &Verifier{Trust: goldenList(t), Now: fixedClock(goldenNow)}
	if _, err := v.Verify(codeText(good)); !errors.Is(err, ErrBadCBOR) {
		t.Errorf("Verify(trust list) = %v, want ErrBadCBOR", err)
	}
}

func TestSignTrustListRejectsBadEntries(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(l *TrustList)
	}{
		{"sequence-zero", func(l *TrustList) { l.Sequence = 0 }},
		{"expires-before-issued", func(l *TrustList) { l.ExpiresAt = l.IssuedAt }},
		{"kid-mismatch", func(l *TrustList) { l.Keys[0].KID[0] ^= 1 }},
		{"duplicate-kid", func(l *TrustList) { l.Keys = append(l.Keys, l.Keys[0]) }},
		{"no-kinds", func(l *TrustList) { l.Keys[0].Kinds = nil }},
		{"unknown-kind", func(l *TrustList) { l.Keys[0].Kinds = []credentials.Kind{"passport"} }},
		{"no-profiles", func(l *TrustList) { l.Keys[0].Profiles = nil }},
		{"unknown-profile", func(l *TrustList) { l.Keys[0].Profiles = []DisplayProfile{4} }},
		{"empty-window", func(l *TrustList) { l.Keys[0].NotAfter = l.Keys[0].NotBefore }},
		{"no-issuer", func(l *TrustList) { l.Keys[0].Issuer = "" }},
		{"nil-key", func(l *TrustList) { l.Keys[0].PublicKey = nil }},
	}
	for _, tt := range tests {
		t.Run("fail/"+tt.name, func(t *testing.T) {
			l := goldenList(t)
			tt.mutate(l)
			if _, err := SignTrustList(l, listKey(t), nil); !errors.Is(err, ErrBadTrustList) {
				t.Errorf("SignTrustList = %v, want ErrBadTrustList", err)
			}
		})
	}
}

func TestTrustListCertificateEntry(t *testing.T) {
	key := mustKey(t, bytes.Repeat([]byte{0x33}, 32))
	der, err := smcrypto.CreateSelfSignedCertificate(nil, &smx509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "tongban code signing"},
		NotBefore:    time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:     time.Date(2028, 1, 1, 0, 0, 0, 0, time.UTC),
	}, key)
	if err != nil {
		t.Fatal(err)
	}
	entry := allKindsKey(nil)
	entry.KID = [8]byte{}
	entry.Certificate = der
	l := goldenList(t)
	l.Keys = append(l.Keys, entry)
	parsed, err := ParseTrustList(signList(t, l), pinned(t))
	if err != nil {
		t.Fatal(err)
	}
	k := parsed.Keys[1]
	if k.KID != CertificateKeyID(der) || !k.PublicKey.Equal(&key.PublicKey) || !bytes.Equal(k.Certificate, der) {
		t.Fatalf("certificate entry %+v", k)
	}
	m := &Minter{Key: key, KeyID: CertificateKeyID(der), Now: fixedClock(goldenNow)}
	c, err := m.Mint(ProfileMaskedIdentity, demoLicences(t)[credentials.ResidentID])
	if err != nil {
		t.Fatal(err)
	}
	v := &Verifier{Trust: parsed, Now: fixedClock(goldenNow)}
	if _, err := v.Verify(c.Text); err != nil {
		t.Errorf("code signed by the certificate key: %v", err)
	}
}

func TestTrustStore(t *testing.T) {
	list := func(seq uint64, issuer string) []byte {
		l := goldenList(t)
		l.Sequence = seq
		l.Keys[0].Issuer = issuer
		return signList(t, l)
	}
	v7 := list(7, "a")
	s := NewTrustStore(pinned(t), fixedClock(goldenNow))
	if s.CurrentTrustList() != nil || s.Sequence() != 0 {
		t.Fatal("new store holds a list")
	}
	steps := []struct {
		name string
		data []byte
		want error
		seq  uint64 // held afterwards
	}{
		{"ok/first", v7, nil, 7},
		{"ok/same-bytes-again", v7, nil, 7},
		{"fail/same-sequence-other-content", list(7, "b"), ErrTrustListRollback, 7},
		{"fail/rolled-back", list(6, "a"), ErrTrustListRollback, 7},
		{"ok/newer", list(8, "a"), nil, 8},
		{"fail/older-than-newest", v7, ErrTrustListRollback, 8},
		{"fail/bad-signature", append(list(9, "a")[:0:0], func() []byte { d := list(9, "a"); d[len(d)-1] ^= 1; return d }()...), ErrTrustListSignature, 8},
		{"fail/stale", func() []byte {
			l := goldenList(t)
			l.Sequence = 10
			l.ExpiresAt = goldenNow.Add(-time.Second)
			l.IssuedAt = goldenNow.Add(-time.Hour)
			return signList(t, l)
		}(), ErrStaleTrustList, 8},
	}
	for _, st := range steps {
		_, err := s.Update(st.data)
		if st.want == nil && err != nil || st.want != nil && !errors.Is(err, st.want) {
			t.Errorf("%s: Update = %v, want %v", st.name, err, st.want)
		}
		if s.Sequence() != st.seq {
			t.Errorf("%s: holds sequence %d, want %d", st.name, s.Sequence(), st.seq)
		}
	}

	// After a restart, the persisted sequence still refuses a rollback.
	restarted := NewTrustStore(pinned(t), fixedClock(goldenNow))
	restarted.SetMinSequence(8)
	if _, err := restarted.Update(v7); !errors.Is(err, ErrTrustListRollback) {
		t.Errorf("restarted store accepted sequence 7: %v", err)
	}
}

// A verifier holding a rolled-back list would accept a revoked key; the
// store refuses the rollback so the code signed by the removed key stays
// unknown.
func TestRolledBackTrustListKeepsRevokedKeyOut(t *testing.T) {
	old := goldenList(t) // sequence 7 lists the code key
	newer := goldenList(t)
	newer.Sequence = 8
	newer.Keys = []TrustedKey{allKindsKey(&mustKey(t, bytes.Repeat([]byte{0x44}, 32)).PublicKey)}
	s := NewTrustStore(pinned(t), fixedClock(goldenNow))
	if _, err := s.Update(signList(t, newer)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Update(signList(t, old)); !errors.Is(err, ErrTrustListRollback) {
		t.Fatalf("rollback: %v", err)
	}
	c, err := testMinter(t, goldenNow).Mint(ProfileMaskedIdentity, demoLicences(t)[credentials.ResidentID])
	if err != nil {
		t.Fatal(err)
	}
	v := &Verifier{Trust: s, Now: fixedClock(goldenNow)}
	if _, err := v.Verify(c.Text); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("code by the removed key: %v, want ErrUnknownKey", err)
	}
}
