package sm2verify

import (
	"math/big"
	"testing"
)

// FuzzVerify compares sm2verify with gmsm on signatures built to be valid
// from fuzzed key, s and t (see forged), then on the same with a fuzzed
// change to e, r or s. Run it longer with
//
//	go test ./sm-crypto/internal/sm2verify -run '^$' -fuzz FuzzVerify -fuzztime 5m
func FuzzVerify(f *testing.F) {
	f.Add([]byte{1}, []byte{5}, []byte{5, 0x41}, uint8(0), uint16(0))
	f.Add([]byte{1}, []byte{5}, []byte{5}, uint8(1), uint16(3))
	f.Add([]byte{0xff, 0xff}, []byte{0x80, 0, 0, 0}, []byte{0x01}, uint8(2), uint16(255))
	f.Fuzz(func(t *testing.T, db, sb, tb []byte, which uint8, bit uint16) {
		if len(db) > 32 || len(sb) > 32 || len(tb) > 32 {
			return
		}
		d := new(big.Int).Mod(new(big.Int).SetBytes(db), bigN)
		s := new(big.Int).Mod(new(big.Int).SetBytes(sb), bigN)
		tt := new(big.Int).Mod(new(big.Int).SetBytes(tb), bigN)
		if d.Sign() == 0 || s.Sign() == 0 || tt.Sign() == 0 {
			return
		}
		pub, k := key(t, d)
		e, r := forged(d, s, tt)
		if new(big.Int).Mod(new(big.Int).Add(s, new(big.Int).Mul(tt, d)), bigN).Sign() == 0 {
			return // R at infinity: covered by TestVerifyExceptional
		}
		if r.Sign() == 0 {
			return
		}
		check(t, pub, k, e, r, s, true)
		v := []*big.Int{e, r, s}[which%3]
		i := int(bit % 256)
		v.SetBit(v, i, v.Bit(i)^1)
		check(t, pub, k, e, r, s, false)
	})
}
