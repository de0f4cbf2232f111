package qrimage_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"
	"strings"
	"testing"

	"github.com/tongban/tongban/qr"
	"github.com/tongban/tongban/qr/qrimage"
)

// text is shaped like a code: the prefix and uppercase Base45, so the QR is alphanumeric.
const text = "LZ1:6BFOXN*TS0BI$ZD4N9:9S6RCVN5+O30K3/XIV0W23NTDEMWK4MI1ELKS.%BDQT"

func render(t testing.TB) []byte {
	t.Helper()
	b, err := qr.RenderPNG(text, 384)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func decodeImage(t testing.TB, b []byte) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func encodePNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// screenshot puts the code on a larger canvas under a dark status bar: not a pure barcode, so
// only the general detector finds it.
func screenshot(t testing.TB, code []byte) []byte {
	t.Helper()
	img := decodeImage(t, code)
	b := img.Bounds()
	canvas := image.NewRGBA(image.Rect(0, 0, b.Dx()+120, b.Dy()+260))
	draw.Draw(canvas, canvas.Bounds(), image.White, image.Point{}, draw.Src)
	draw.Draw(canvas, image.Rect(0, 0, canvas.Bounds().Dx(), 60), &image.Uniform{color.RGBA{40, 40, 40, 255}}, image.Point{}, draw.Src)
	draw.Draw(canvas, b.Add(image.Pt(60, 140)), img, b.Min, draw.Src)
	return encodePNG(t, canvas)
}

// hugePNG is a valid 1×1 PNG whose header claims w×h pixels (the IHDR CRC fixed up).
func hugePNG(t testing.TB, w, h uint32) []byte {
	t.Helper()
	b := encodePNG(t, image.NewGray(image.Rect(0, 0, 1, 1)))
	// IHDR data starts at byte 16 (8 signature + 4 length + 4 type); CRC over type+data.
	binary.BigEndian.PutUint32(b[16:], w)
	binary.BigEndian.PutUint32(b[20:], h)
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	return b
}

func TestDecode(t *testing.T) {
	code := render(t)
	var jpg bytes.Buffer
	if err := jpeg.Encode(&jpg, decodeImage(t, code), &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{
		"png":        code,
		"jpeg":       jpg.Bytes(),
		"screenshot": screenshot(t, code),
	} {
		t.Run(name, func(t *testing.T) {
			got, err := qrimage.Decode(data)
			if err != nil {
				t.Fatal(err)
			}
			if got != text {
				t.Fatalf("read %q, want %q", got, text)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	blank := image.NewGray(image.Rect(0, 0, 200, 200))
	draw.Draw(blank, blank.Bounds(), image.White, image.Point{}, draw.Src)
	for _, tc := range []struct {
		name     string
		data     []byte
		want     error
		contains string
	}{
		{"empty", nil, qrimage.ErrBadImage, ""},
		{"not an image", []byte("LZ1:ABC"), qrimage.ErrBadImage, ""},
		{"truncated", render(t)[:100], qrimage.ErrBadImage, ""},
		{"blank", encodePNG(t, blank), qrimage.ErrNoCode, ""},
		// A decompression bomb: a small file declaring 20000×20000 pixels is refused from its
		// header, before any pixel is decoded.
		{"huge", hugePNG(t, 20000, 20000), qrimage.ErrImageTooLarge, "20000×20000"},
		{"just over", hugePNG(t, 4097, 4096), qrimage.ErrImageTooLarge, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := qrimage.Decode(tc.data)
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.contains) {
				t.Fatalf("Decode = %q, %v; want %v", got, err, tc.want)
			}
		})
	}
}

// FuzzDecode: no input panics, and every failure is one of the three sentinel errors.
func FuzzDecode(f *testing.F) {
	code := render(f)
	f.Add(code)
	f.Add(screenshot(f, code))
	f.Add(code[:len(code)/2])
	f.Add(hugePNG(f, 20000, 20000))
	f.Add(hugePNG(f, 0, 1))
	f.Add(encodePNG(f, image.NewGray(image.Rect(0, 0, 1, 1))))
	f.Add([]byte("\xff\xd8\xff"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := qrimage.Decode(data)
		if err != nil && !errors.Is(err, qrimage.ErrBadImage) && !errors.Is(err, qrimage.ErrImageTooLarge) && !errors.Is(err, qrimage.ErrNoCode) {
			t.Fatalf("error outside the sentinels: %v", err)
		}
	})
}
