package qr

import (
	"bytes"
	"crypto/ecdsa"
	"os"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm2"

	"github.com/tongban/tongban/credentials"
	smcrypto "github.com/tongban/tongban/sm-crypto"
)

// Fixed test material: the golden vectors in testdata/ and
// docs/formats/qr-payload.md are made from exactly these.
var (
	// goldenNow is iat of the golden codes: 2026-12-01T10:00:00+08:00.
	goldenNow = time.Date(2026, 12, 1, 10, 0, 0, 0, credentials.ChinaStandardTime)
	// codeKeyBytes and listKeyBytes are the private scalars of the
	// code-signing and trust-list keys (32 bytes each).
	codeKeyBytes = bytes.Repeat([]byte{0x11}, 32)
	listKeyBytes = bytes.Repeat([]byte{0x22}, 32)
)

// countingReader yields 0x00, 0x01, 0x02, … (mod 256): a fixed stream for
// cti and the SM2 signing randomness.
type countingReader struct{ n byte }

func (r *countingReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = r.n
		r.n++
	}
	return len(p), nil
}

func mustKey(t testing.TB, b []byte) *sm2.PrivateKey {
	t.Helper()
	k, err := sm2.NewPrivateKey(b)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func codeKey(t testing.TB) *sm2.PrivateKey { return mustKey(t, codeKeyBytes) }
func listKey(t testing.TB) *sm2.PrivateKey { return mustKey(t, listKeyBytes) }

func fixedClock(t time.Time) func() time.Time { return func() time.Time { return t } }

// demoLicences loads docs/examples/licences.jsonl keyed by kind.
func demoLicences(t testing.TB) map[credentials.Kind]credentials.Licence {
	t.Helper()
	f, err := os.Open("../docs/examples/licences.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	good, bad, err := credentials.ParseImport(f)
	if err != nil || len(bad) != 0 {
		t.Fatalf("example licences: %v %v", err, bad)
	}
	m := make(map[credentials.Kind]credentials.Licence)
	for _, l := range good {
		m[l.Kind] = l
	}
	return m
}

// allKindsKey is a trust-list entry for key allowing every kind and profile
// from 2026-01-01 to 2028-01-01.
func allKindsKey(pub *ecdsa.PublicKey) TrustedKey {
	return TrustedKey{
		PublicKey: pub,
		KID:       smcrypto.KeyID(pub),
		Issuer:    "北京市政务服务和数据管理局 亮证签名密钥 1",
		Kinds:     append([]credentials.Kind(nil), credentials.Kinds...),
		Profiles:  append([]DisplayProfile(nil), Profiles...),
		NotBefore: time.Date(2026, 1, 1, 0, 0, 0, 0, credentials.ChinaStandardTime),
		NotAfter:  time.Date(2028, 1, 1, 0, 0, 0, 0, credentials.ChinaStandardTime),
	}
}

// goldenList is the trust list of the golden vectors: sequence 7, issued
// at goldenNow − 1 h, valid 7 days, with the code key for every kind and
// profile.
func goldenList(t testing.TB) *TrustList {
	return &TrustList{
		Sequence:  7,
		IssuedAt:  goldenNow.Add(-time.Hour),
		ExpiresAt: goldenNow.Add(7 * 24 * time.Hour),
		Keys:      []TrustedKey{allKindsKey(&codeKey(t).PublicKey)},
	}
}

// testMinter mints at now with a counting reader.
func testMinter(t testing.TB, now time.Time) *Minter {
	return &Minter{Key: codeKey(t), Now: fixedClock(now), Rand: &countingReader{}}
}

// testVerifier verifies against goldenList at now with a fresh replay cache.
func testVerifier(t testing.TB, now time.Time) *Verifier {
	return &Verifier{Trust: goldenList(t), Now: fixedClock(now), Replay: &MemoryReplayCache{Now: fixedClock(now)}}
}

// parsedGoldenList is goldenList signed and parsed back, as a verifier
// holds it (verifiers precomputed).
func parsedGoldenList(t testing.TB) *TrustList {
	t.Helper()
	data, err := SignTrustList(goldenList(t), listKey(t), &countingReader{})
	if err != nil {
		t.Fatal(err)
	}
	l, err := ParseTrustList(data, []*ecdsa.PublicKey{&listKey(t).PublicKey})
	if err != nil {
		t.Fatal(err)
	}
	return l
}
