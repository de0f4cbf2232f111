package sm2verify

import (
	"math/big"
	"testing"
)

// FuzzField: feMul, feAdd, feSub on arbitrary limbs below p against math/big.
func FuzzField(f *testing.F) {
	f.Add(uint64(1<<64-1), uint64(0xFFFFFFFF00000000), uint64(1<<64-1), uint64(0xFFFFFFFEFFFFFFFE),
		uint64(1<<64-1), uint64(1<<64-1), uint64(1<<64-1), uint64(0xFFFFFFFEFFFFFFFE))
	f.Fuzz(func(t *testing.T, a0, a1, a2, a3, b0, b1, b2, b3 uint64) {
		x, y := fe{a0, a1, a2, a3}, fe{b0, b1, b2, b3}
		if !lessThan((*[4]uint64)(&x), &pLimbs) || !lessThan((*[4]uint64)(&y), &pLimbs) {
			return
		}
		checkFieldOps(t, x, y)
	})
}

// FuzzVerifyCollide: fuzzed key d and t; s is chosen so that the
// accumulator before window i of t equals ± the addend (doubling or
// infinity midway). gmsm and sm2verify must agree.
func FuzzVerifyCollide(f *testing.F) {
	f.Add([]byte{1}, []byte{5, 0x41}, uint8(0), false)
	f.Add([]byte{0xff, 0xff}, []byte{0x80, 0, 0, 0}, uint8(3), true)
	f.Fuzz(func(t *testing.T, db, tb []byte, win uint8, neg bool) {
		if len(db) > 32 || len(tb) > 32 {
			return
		}
		d := new(big.Int).Mod(new(big.Int).SetBytes(db), bigN)
		tt := new(big.Int).Mod(new(big.Int).SetBytes(tb), bigN)
		if d.Sign() == 0 || tt.Sign() == 0 {
			return
		}
		dig := digitsOf(tt)
		i := int(win) % windows
		if dig[i] == 0 {
			return
		}
		add := new(big.Int).Lsh(big.NewInt(int64(dig[i])), uint(6*i))
		if neg {
			add.Neg(add)
		}
		s := add.Sub(add, partial(dig, i))
		s.Mul(s, d).Mod(s, bigN)
		if s.Sign() == 0 {
			return
		}
		pub, k := key(t, d)
		checkForged(t, pub, k, d, s, tt)
	})
}
