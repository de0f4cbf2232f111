package smcrypto

import (
	"math/big"
	"math/rand"
	"testing"
)

// TestVerifyingKeyErrorParity: r and s at and around the range edges, every
// signature length near 64, valid and invalid signatures — VerifyingKey.Verify
// returns exactly Verify's error (same text, so same sentinel and detail).
func TestVerifyingKeyErrorParity(t *testing.T) {
	rnd := rand.New(rand.NewSource(21))
	priv := newKey(t)
	vk, err := NewVerifyingKey(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("parity")
	sig, err := Sign(rnd, priv, msg)
	if err != nil {
		t.Fatal(err)
	}
	r := new(big.Int).SetBytes(sig[:32])
	s := new(big.Int).SetBytes(sig[32:])
	one := big.NewInt(1)
	max := new(big.Int).Sub(new(big.Int).Lsh(one, 256), one)
	edges := []*big.Int{big.NewInt(0), one, new(big.Int).Sub(curveN, one), curveN,
		new(big.Int).Add(curveN, one), max, r, s, new(big.Int).Sub(curveN, r), new(big.Int).Sub(curveN, s)}
	same := func(m, sg []byte) {
		t.Helper()
		want := Verify(&priv.PublicKey, m, sg)
		got := vk.Verify(m, sg)
		if (want == nil) != (got == nil) || (want != nil && want.Error() != got.Error()) {
			t.Fatalf("sig %x: VerifyingKey %v, Verify %v", sg, got, want)
		}
	}
	for _, rr := range edges {
		for _, ss := range edges {
			same(msg, rawFromInts(rr, ss))
		}
	}
	for n := 0; n <= 70; n++ {
		b := make([]byte, n)
		copy(b, sig)
		same(msg, b)
	}
	same(msg, sig)
	same(nil, sig)
	for range 200 {
		b := make([]byte, 64)
		rnd.Read(b)
		same(msg, b)
	}
}
