package smcrypto

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/hex"
	"io"
	"testing"

	"github.com/emmansun/gmsm/sm2"
)

// The example of GM/T 0003.5-2012 Annex A.2 (the same example is in
// GB/T 32918.5-2017): SM2 signature on the recommended curve with the
// default user ID and the message "message digest".
const (
	katD   = "3945208f7b2144b13f36e38ac6d39f95889393692860b51a42fb81ef4df7c5b8"
	katPub = "04" +
		"09f9df311e5421a150dd7d161e4bc5c672179fad1833fc076bb08ff356f35020" +
		"ccea490ce26775a52dc6ea718cc1aa600aed05fbf35e084a6632f6072da9ad13"
	katMsg = "message digest"
	katZA  = "b2e14c5c79c6df5b85f4fe7ed8db7a262b9da7e07ccb0ea9f4747b8ccda8a4f3"
	katE   = "f0b43e94ba45accaace692ed534382eb17e6ab5a19ce7b31f4486fdfc0d28640"
	katK   = "59276e27d506861a16680f3ad9c02dccef3cc1fa3cdbe4ce6d54b80deac1bc21"
	katR   = "f5a03b0648d2c4630eeac513e1bb81a15944da3827d5b74143ac7eaceee720b3"
	katS   = "b1b6aa29df212fd8763182bc0d421ca1bb9038fd1f7f42d4840b69c485bbc1aa"
)

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// katKey returns the private key of the standard's example.
func katKey(t testing.TB) *sm2.PrivateKey {
	t.Helper()
	priv, err := sm2.NewPrivateKey(mustHex(t, katD))
	if err != nil {
		t.Fatal(err)
	}
	return priv
}

// katSig returns the standard's r ‖ s.
func katSig(t testing.TB) []byte {
	t.Helper()
	return append(mustHex(t, katR), mustHex(t, katS)...)
}

func newKey(t testing.TB) *sm2.PrivateKey {
	t.Helper()
	priv, err := GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	return priv
}

func newP256(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// flip returns a copy of b with byte i xored with 0x01.
func flip(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 0x01
	return c
}

// fixedReader returns the same byte pattern forever: deterministic nonces
// for tests.
type fixedReader byte

func (r fixedReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r)
	}
	return len(p), nil
}

// errReader fails every read.
type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }
