package qrimage

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // JPEG decoder for photos of a code
	_ "image/png"  // PNG decoder for rendered codes and screenshots

	"github.com/makiuchi-d/gozxing"
	gzqr "github.com/makiuchi-d/gozxing/qrcode"
)

// MaxPixels caps the images Decode reads (4096×4096): a code saved from a screen or
// photographed is far smaller, and the cap is checked on the image header before any pixel is
// decoded, so a small file declaring a huge image (a decompression bomb) is refused cheaply.
const MaxPixels = 4096 * 4096

// Errors of Decode, to be tested with errors.Is; the returned error adds the detail.
var (
	// ErrBadImage: the data is not a PNG or JPEG image, or the image is corrupt.
	ErrBadImage = errors.New("qrimage: not a readable PNG or JPEG image")
	// ErrImageTooLarge: the image declares more than MaxPixels pixels.
	ErrImageTooLarge = errors.New("qrimage: image too large")
	// ErrNoCode: the image holds no QR code that could be read.
	ErrNoCode = errors.New("qrimage: no QR code found in the image")
)

// Decode returns the text of the QR code in a PNG or JPEG image. It reads the image as a
// "pure" barcode first (upright, with its quiet zone and nothing else, as qr.RenderPNG draws
// it): gozxing's general finder-pattern detector misjudges the module size of about 1 in 100
// clean renders ("NotFoundException: dimension = …"). The general detector, trying harder, is
// the fallback for screenshots and photos.
func Decode(data []byte) (string, error) {
	// Read the header first: a small file can declare a huge image (a decompression bomb).
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrBadImage, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > MaxPixels {
		return "", fmt.Errorf("%w: %d×%d pixels; at most %d pixels (4096×4096)", ErrImageTooLarge, cfg.Width, cfg.Height, MaxPixels)
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrBadImage, err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrNoCode, err)
	}
	res, err := gzqr.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_PURE_BARCODE: true})
	if err != nil {
		res, err = gzqr.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true})
	}
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrNoCode, err)
	}
	return res.GetText(), nil
}
