package sm2verify

import (
	"math/big"
	"testing"
)

// BenchmarkVerify: one verification under a key whose table is built.
// BenchmarkNewTable: building a key's table (paid once per key).
func BenchmarkVerify(b *testing.B) {
	d := big.NewInt(0x1234567)
	x, y := curve.ScalarBaseMult(d.Bytes())
	k, err := NewPublicKey(bytes32(x), bytes32(y))
	if err != nil {
		b.Fatal(err)
	}
	e, r := forged(d, big.NewInt(987654321), new(big.Int).Sub(bigN, big.NewInt(123456789)))
	s := big.NewInt(987654321)
	eb, rb, sb := bytes32(e), bytes32(r), bytes32(s)
	if !k.Verify(eb, rb, sb) {
		b.Fatal("refused")
	}
	b.ReportAllocs()
	for b.Loop() {
		k.Verify(eb, rb, sb)
	}
}

func BenchmarkNewTable(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		newTable(&gen)
	}
}
