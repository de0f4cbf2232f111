//go:build !cgo

package pkcs11kek

// KEK is a key-encryption key in a PKCS#11 token. In a build without cgo Open always fails
// with ErrUnavailable, so no KEK exists; the methods are here so that callers compile.
type KEK struct{}

// Open returns ErrUnavailable: the program was built without cgo (CGO_ENABLED=0).
func Open(cfg Config) (*KEK, error) { return nil, ErrUnavailable }

// Generate returns ErrUnavailable: the program was built without cgo (CGO_ENABLED=0).
func Generate(cfg Config, opts GenerateOptions) (string, error) { return "", ErrUnavailable }

// ID returns "".
func (k *KEK) ID() string { return "" }

// String returns "PKCS#11 KEK (unavailable)".
func (k *KEK) String() string { return "PKCS#11 KEK (unavailable)" }

// Mechanism returns DefaultMechanism.
func (k *KEK) Mechanism() Mechanism { return DefaultMechanism }

// Wrap returns ErrUnavailable.
func (k *KEK) Wrap(key, aad []byte) ([]byte, error) { return nil, ErrUnavailable }

// Unwrap returns ErrUnavailable.
func (k *KEK) Unwrap(wrapped, aad []byte) ([]byte, error) { return nil, ErrUnavailable }

// Close does nothing.
func (k *KEK) Close() error { return nil }
