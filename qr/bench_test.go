package qr

import (
	"testing"

	"github.com/tongban/tongban/credentials"
	"github.com/tongban/tongban/qr/qrimage"
)

// Budgets (one core, -cpu=1): Verify ≥ 8,000 codes/s (≤ 125 µs/op); Mint
// ≥ 5,000 codes/s (≤ 200 µs/op, no PNG); PNG decode + verify < 20 ms.
// Run: go test -run '^$' -bench . -cpu 1 ./qr/

func BenchmarkVerify(b *testing.B) {
	ls := demoLicences(b)
	c, err := testMinter(b, goldenNow).Mint(ProfileMaskedIdentity, ls[credentials.ResidentID])
	if err != nil {
		b.Fatal(err)
	}
	v := &Verifier{Trust: parsedGoldenList(b), Now: fixedClock(goldenNow)}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(c.Text); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyBundleWithReplay(b *testing.B) {
	ls := demoLicences(b)
	m := &Minter{Key: codeKey(b), Now: fixedClock(goldenNow)} // crypto/rand: distinct cti
	const n = 4096
	texts := make([]string, n)
	for i := range texts {
		c, err := m.Mint(ProfileBundle, ls[credentials.ResidentID], ls[credentials.DrivingLicence], ls[credentials.HealthCode])
		if err != nil {
			b.Fatal(err)
		}
		texts[i] = c.Text
	}
	v := &Verifier{Trust: parsedGoldenList(b), Now: fixedClock(goldenNow)}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if i%n == 0 {
			b.StopTimer()
			v.Replay = &MemoryReplayCache{Now: fixedClock(goldenNow)}
			b.StartTimer()
		}
		if _, err := v.Verify(texts[i%n]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkMint(b *testing.B) {
	ls := demoLicences(b)
	m := &Minter{Key: codeKey(b), Now: fixedClock(goldenNow)}
	l := ls[credentials.ResidentID]
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Mint(ProfileMaskedIdentity, l); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRenderPNG(b *testing.B) {
	ls := demoLicences(b)
	c, err := testMinter(b, goldenNow).Mint(ProfileMaskedIdentity, ls[credentials.ResidentID])
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := RenderPNG(c.Text, 256); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodePNGAndVerify(b *testing.B) {
	ls := demoLicences(b)
	c, err := testMinter(b, goldenNow).Mint(ProfileBundle, ls[credentials.ResidentID], ls[credentials.DrivingLicence], ls[credentials.HealthCode])
	if err != nil {
		b.Fatal(err)
	}
	png, err := RenderPNG(c.Text, 384)
	if err != nil {
		b.Fatal(err)
	}
	v := &Verifier{Trust: parsedGoldenList(b), Now: fixedClock(goldenNow)}
	for b.Loop() {
		text, err := qrimage.Decode(png)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := v.Verify(text); err != nil {
			b.Fatal(err)
		}
	}
}
