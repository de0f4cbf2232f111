package sm2verify

import (
	"math/big"
	"math/bits"
)

// fe is an element of GF(p), p the SM2 prime, in Montgomery form (x·2^256
// mod p) as four little-endian 64-bit limbs. Every operation takes and
// returns fully reduced values (< p), so equality is limb equality.
type fe [4]uint64

// p = 2^256 − 2^224 − 2^96 + 2^64 − 1 (GB/T 32918.5-2017 §3), little-endian
// limbs. p ≡ −1 (mod 2^64), so −p⁻¹ mod 2^64 is 1 and a Montgomery step's
// multiplier is the low limb itself.
const (
	p0 = 0xFFFFFFFFFFFFFFFF
	p1 = 0xFFFFFFFF00000000
	p2 = 0xFFFFFFFFFFFFFFFF
	p3 = 0xFFFFFFFEFFFFFFFF
)

// feOne is 1 in Montgomery form (2^256 mod p), feR2 is 2^512 mod p, to enter
// Montgomery form. Variable initialisers, not init, so that every other
// package-level value computed from them (sm2verify.go) comes after them.
var feOne, feR2 = montgomeryConstants()

func montgomeryConstants() (one, r2 fe) {
	p := new(big.Int).SetBytes(limbsToBytesArr(pLimbs))
	r := new(big.Int).Lsh(big.NewInt(1), 256)
	var l [4]uint64
	setLimbs(&l, new(big.Int).Mod(r, p))
	one = fe(l)
	setLimbs(&l, new(big.Int).Mod(new(big.Int).Mul(r, r), p))
	return one, fe(l)
}

// setLimbs sets z (plain, not Montgomery) from v, which must be < 2^256.
func setLimbs(z *[4]uint64, v *big.Int) {
	var buf [32]byte
	v.FillBytes(buf[:])
	*z = limbsFromBytes(&buf)
}

// limbsFromBytes reads 32 big-endian bytes as four little-endian limbs.
func limbsFromBytes(b *[32]byte) [4]uint64 {
	var z [4]uint64
	for i := 0; i < 4; i++ {
		o := 24 - 8*i
		z[i] = uint64(b[o])<<56 | uint64(b[o+1])<<48 | uint64(b[o+2])<<40 | uint64(b[o+3])<<32 |
			uint64(b[o+4])<<24 | uint64(b[o+5])<<16 | uint64(b[o+6])<<8 | uint64(b[o+7])
	}
	return z
}

// limbsToBytes writes four little-endian limbs as 32 big-endian bytes.
func limbsToBytes(z *[4]uint64) [32]byte {
	var b [32]byte
	for i := 0; i < 4; i++ {
		o := 24 - 8*i
		v := z[i]
		b[o], b[o+1], b[o+2], b[o+3] = byte(v>>56), byte(v>>48), byte(v>>40), byte(v>>32)
		b[o+4], b[o+5], b[o+6], b[o+7] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
	}
	return b
}

// lessThan reports whether a < b as 256-bit integers.
func lessThan(a, b *[4]uint64) bool {
	_, borrow := bits.Sub64(a[0], b[0], 0)
	_, borrow = bits.Sub64(a[1], b[1], borrow)
	_, borrow = bits.Sub64(a[2], b[2], borrow)
	_, borrow = bits.Sub64(a[3], b[3], borrow)
	return borrow == 1
}

var pLimbs = [4]uint64{p0, p1, p2, p3}

// feSetBytes sets z to the big-endian 32-byte value b in Montgomery form. It
// reports false, leaving z unchanged, when b ≥ p.
func feSetBytes(z *fe, b *[32]byte) bool {
	v := limbsFromBytes(b)
	if !lessThan(&v, &pLimbs) {
		return false
	}
	x := fe(v)
	feMul(z, &x, &feR2)
	return true
}

// feBytes returns x, out of Montgomery form, as 32 big-endian bytes.
func feBytes(x *fe) [32]byte {
	var v fe
	feMul(&v, x, &fe{1})
	l := [4]uint64(v)
	return limbsToBytes(&l)
}

// feMul sets z = x·y·2^−256 mod p (Montgomery multiplication, coarsely
// integrated operand scanning over 64-bit limbs). x, y < p; z may alias
// either.
func feMul(z, x, y *fe) {
	x0, x1, x2, x3 := x[0], x[1], x[2], x[3]
	var t0, t1, t2, t3, t4 uint64
	for i := 0; i < 4; i++ {
		yi := y[i]
		var hi, lo, c, carry uint64

		// t += x·yi
		hi, lo = bits.Mul64(x0, yi)
		t0, c = bits.Add64(t0, lo, 0)
		carry = hi + c
		hi, lo = bits.Mul64(x1, yi)
		lo, c = bits.Add64(lo, carry, 0)
		hi += c
		t1, c = bits.Add64(t1, lo, 0)
		carry = hi + c
		hi, lo = bits.Mul64(x2, yi)
		lo, c = bits.Add64(lo, carry, 0)
		hi += c
		t2, c = bits.Add64(t2, lo, 0)
		carry = hi + c
		hi, lo = bits.Mul64(x3, yi)
		lo, c = bits.Add64(lo, carry, 0)
		hi += c
		t3, c = bits.Add64(t3, lo, 0)
		carry = hi + c
		t4, c = bits.Add64(t4, carry, 0)
		t5 := c

		// t = (t + m·p) / 2^64 with m = t0: t0 + m·p0 = m·2^64, so the
		// low limb vanishes and carries m.
		m := t0
		carry = m
		hi, lo = bits.Mul64(m, p1)
		lo, c = bits.Add64(lo, carry, 0)
		hi += c
		t0, c = bits.Add64(t1, lo, 0)
		carry = hi + c
		hi, lo = bits.Mul64(m, p2)
		lo, c = bits.Add64(lo, carry, 0)
		hi += c
		t1, c = bits.Add64(t2, lo, 0)
		carry = hi + c
		hi, lo = bits.Mul64(m, p3)
		lo, c = bits.Add64(lo, carry, 0)
		hi += c
		t2, c = bits.Add64(t3, lo, 0)
		carry = hi + c
		t3, c = bits.Add64(t4, carry, 0)
		t4 = t5 + c
	}
	// t < 2p: subtract p once when t ≥ p.
	r0, b := bits.Sub64(t0, p0, 0)
	r1, b := bits.Sub64(t1, p1, b)
	r2, b := bits.Sub64(t2, p2, b)
	r3, b := bits.Sub64(t3, p3, b)
	_, b = bits.Sub64(t4, 0, b)
	if b == 0 {
		z[0], z[1], z[2], z[3] = r0, r1, r2, r3
	} else {
		z[0], z[1], z[2], z[3] = t0, t1, t2, t3
	}
}

// feSqr sets z = x²·2^−256 mod p.
func feSqr(z, x *fe) { feMul(z, x, x) }

// feAdd sets z = x + y mod p.
func feAdd(z, x, y *fe) {
	s0, c := bits.Add64(x[0], y[0], 0)
	s1, c := bits.Add64(x[1], y[1], c)
	s2, c := bits.Add64(x[2], y[2], c)
	s3, c := bits.Add64(x[3], y[3], c)
	r0, b := bits.Sub64(s0, p0, 0)
	r1, b := bits.Sub64(s1, p1, b)
	r2, b := bits.Sub64(s2, p2, b)
	r3, b := bits.Sub64(s3, p3, b)
	_, b = bits.Sub64(c, 0, b)
	if b == 0 {
		z[0], z[1], z[2], z[3] = r0, r1, r2, r3
	} else {
		z[0], z[1], z[2], z[3] = s0, s1, s2, s3
	}
}

// feSub sets z = x − y mod p.
func feSub(z, x, y *fe) {
	d0, b := bits.Sub64(x[0], y[0], 0)
	d1, b := bits.Sub64(x[1], y[1], b)
	d2, b := bits.Sub64(x[2], y[2], b)
	d3, b := bits.Sub64(x[3], y[3], b)
	if b != 0 {
		var c uint64
		d0, c = bits.Add64(d0, p0, 0)
		d1, c = bits.Add64(d1, p1, c)
		d2, c = bits.Add64(d2, p2, c)
		d3, _ = bits.Add64(d3, p3, c)
	}
	z[0], z[1], z[2], z[3] = d0, d1, d2, d3
}

// feNeg sets z = −x mod p.
func feNeg(z, x *fe) { feSub(z, &fe{}, x) }

func (x *fe) isZero() bool { return x[0]|x[1]|x[2]|x[3] == 0 }

// feInv sets z = x^(p−2) = x⁻¹ mod p (Fermat), and 0 for x = 0. The exponent
// is public; square-and-multiply, 256 squarings and 222 multiplications
// (the one bits of p−2), used only when building tables.
func feInv(z, x *fe) {
	e := [4]uint64{p0 - 2, p1, p2, p3}
	r := feOne
	for i := 255; i >= 0; i-- {
		feSqr(&r, &r)
		if e[i/64]>>(i%64)&1 == 1 {
			feMul(&r, &r, x)
		}
	}
	*z = r
}

func limbsToBytesArr(l [4]uint64) []byte {
	b := limbsToBytes(&l)
	return b[:]
}
