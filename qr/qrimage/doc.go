// Package qrimage reads a code's text out of a PNG or JPEG image, for verifier devices (the
// counter's `wallet verify --png`) and for tests that check what the wallet renders.
//
// It decodes with github.com/makiuchi-d/gozxing, a decoder independent of the go-qrcode
// encoder tongban renders with (qr.RenderPNG), so a round trip through both checks the
// rendering rather than one library against itself.
//
// Like package qr it is an offline library: it imports no network, storage or OIDC code.
package qrimage
