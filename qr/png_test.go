package qr

import (
	"bytes"
	"image"
	"testing"

	"github.com/tongban/tongban/credentials"
	"github.com/tongban/tongban/qr/qrimage"
)

// longName is a long realistic name (15 characters: a Uyghur name in
// three parts, transliterated with middle dots), so masked names come out
// at their longest realistic size.
const longName = "热依拉·买买提·阿卜杜热合曼江"

// longest returns the demo licences with the longest realistic data: the
// long name, and a new-energy (8-character) plate.
func longest(t testing.TB) map[credentials.Kind]credentials.Licence {
	ls := demoLicences(t)
	for k, l := range ls {
		l = l.Clone()
		if k.HolderType() == credentials.NaturalPerson {
			l.HolderName = longName
		}
		if k == credentials.VehicleLicence {
			l.Number = "京AD12345"
		}
		ls[k] = l
	}
	return ls
}

// pngVersion reads the QR version from a PNG rendered at one pixel per
// module: width = 17 + 4·version + 2·4 (quiet zone).
func pngVersion(t testing.TB, text string) int {
	t.Helper()
	png, err := RenderPNG(text, -1)
	if err != nil {
		t.Fatal(err)
	}
	img, _, err := image.Decode(bytes.NewReader(png))
	if err != nil {
		t.Fatal(err)
	}
	return (img.Bounds().Dx() - 17 - 8) / 4
}

// TestQRVersions asserts the size targets of DESIGN §5 at level M: a masked
// resident-ID code fits version 9, a three-licence 多码合一 code version 10,
// for every choice of three natural-person kinds, with the longest
// realistic data. The version is read both from go-qrcode and from the
// rendered image's module count.
func TestQRVersions(t *testing.T) {
	ls := longest(t)
	m := testMinter(t, goldenNow)
	v := &Verifier{Trust: parsedGoldenList(t), Now: fixedClock(goldenNow)}

	c, err := m.Mint(ProfileMaskedIdentity, ls[credentials.ResidentID])
	if err != nil {
		t.Fatal(err)
	}
	ver := Version(c.Text)
	t.Logf("masked resident-ID (15-character name): %d characters, version %d", len(c.Text), ver)
	if ver > 9 || pngVersion(t, c.Text) != ver {
		t.Errorf("masked resident-ID code: version %d (image %d), want ≤ 9", ver, pngVersion(t, c.Text))
	}
	if _, err := v.Verify(c.Text); err != nil {
		t.Fatal(err)
	}

	var natural []credentials.Licence
	for _, k := range credentials.Kinds {
		if k.HolderType() == credentials.NaturalPerson {
			natural = append(natural, ls[k])
		}
	}
	maxLen, maxVer, worst := 0, 0, ""
	for i := range natural {
		for j := i + 1; j < len(natural); j++ {
			for k := j + 1; k < len(natural); k++ {
				c, err := m.Mint(ProfileBundle, natural[i], natural[j], natural[k])
				if err != nil {
					t.Fatal(err)
				}
				ver := Version(c.Text)
				if len(c.Text) > maxLen {
					maxLen, maxVer = len(c.Text), ver
					worst = string(natural[i].Kind) + " + " + string(natural[j].Kind) + " + " + string(natural[k].Kind)
				}
				if ver > 10 {
					t.Errorf("bundle %s + %s + %s: %d characters, version %d, want ≤ 10",
						natural[i].Kind, natural[j].Kind, natural[k].Kind, len(c.Text), ver)
				}
			}
		}
	}
	t.Logf("three-licence bundle, largest of 35 kind choices (%s): %d characters, version %d", worst, maxLen, maxVer)
}

// TestPNGRoundTrip renders each golden code, reads it back with gozxing —
// a decoder independent of the go-qrcode encoder — and verifies what it
// read.
func TestPNGRoundTrip(t *testing.T) {
	v := &Verifier{Trust: parsedGoldenList(t), Now: fixedClock(goldenNow)}
	for _, gv := range goldenVectors {
		t.Run(gv.name, func(t *testing.T) {
			text := readGolden(t, gv.name+".txt")
			png, err := RenderPNG(text, 512)
			if err != nil {
				t.Fatal(err)
			}
			got, err := qrimage.Decode(png)
			if err != nil {
				t.Fatalf("gozxing: %v", err)
			}
			if got != text {
				t.Fatalf("gozxing read %q, want %q", got, text)
			}
			r, err := v.Verify(got)
			if err != nil {
				t.Fatal(err)
			}
			if r.Profile != gv.profile {
				t.Errorf("profile %v", r.Profile)
			}
		})
	}
}

// TestPNGTampered: a code whose text was changed after rendering fails.
func TestPNGTampered(t *testing.T) {
	text := readGolden(t, "identity.txt")
	b := []byte(text)
	b[len(b)-1] = map[bool]byte{true: '1', false: '0'}[b[len(b)-1] == '0']
	png, err := RenderPNG(string(b), 512)
	if err != nil {
		t.Fatal(err)
	}
	got, err := qrimage.Decode(png)
	if err != nil {
		t.Fatal(err)
	}
	v := &Verifier{Trust: parsedGoldenList(t), Now: fixedClock(goldenNow)}
	if _, err := v.Verify(got); err == nil {
		t.Error("tampered code verified")
	}
}
