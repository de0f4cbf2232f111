package qr

import (
	"fmt"

	qrcode "github.com/skip2/go-qrcode"
)

// RenderPNG renders text as a QR code PNG of size × size pixels at error
// correction level M (ISO/IEC 18004, 15 % recovery), the level for codes on
// screens (DESIGN §5). go-qrcode picks the smallest version that holds the
// text and uses alphanumeric mode when every character is in that set, as a
// code's text is. size is the width and height in pixels; a size too small
// for the modules yields a larger image, and a negative size means -size
// pixels per module (go-qrcode's QRCode.PNG). The image includes the
// 4-module quiet zone. A PNG costs a few milliseconds: render per request
// only what changes.
func RenderPNG(text string, size int) ([]byte, error) {
	q, err := qrcode.New(text, qrcode.Medium)
	if err != nil {
		return nil, fmt.Errorf("qr: render: %w", err)
	}
	png, err := q.PNG(size)
	if err != nil {
		return nil, fmt.Errorf("qr: render: %w", err)
	}
	return png, nil
}

// Version returns the QR version (1–40) that RenderPNG uses for text at
// level M, or 0 if text does not fit any version.
func Version(text string) int {
	q, err := qrcode.New(text, qrcode.Medium)
	if err != nil {
		return 0
	}
	return q.VersionNumber
}
