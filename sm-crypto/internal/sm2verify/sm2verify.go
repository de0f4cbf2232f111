// Package sm2verify verifies SM2 signatures (GB/T 32918.2-2016 §7.1) fast
// for keys that verify many times: the counter's trust-list keys, in the
// browser verifier's WebAssembly above all.
//
// It is written here because no served module exposes SM2 point arithmetic:
// gmsm v0.44.1 keeps it in internal/sm2ec, constant time, with complete
// formulas, and in WebAssembly (no assembly) its variable-base scalar
// multiplication was 72 % of a code's verification. Verification handles
// only public values — key, message, signature — so this package is
// variable time and must never see a secret:
//
//   - GF(p) in Montgomery form over four 64-bit limbs (field.go);
//   - Jacobian points for a = −3 with doubling dbl-2001-b and mixed
//     addition madd-2007-bl, exact on every exceptional input (point.go);
//   - a comb table per point — for each of 43 windows of 6 bits, the affine
//     multiples 1…32 of 2^(6i)·P, 88,064 bytes (86 KiB) — so that [k]P is
//     43 mixed additions of signed digits and no doubling;
//   - the final check x1 ≡ r − e (mod n) without an inversion.
//
// The generator's table is built once per process on first use, a key's on
// its first verification (about 27,600 field multiplications), whether or
// not that first signature turns out valid: keys come only from signed trust
// lists, and a table is built once per key. Every result is tested against
// gmsm and math/big (sm2verify_test.go, edge_test.go, the fuzz targets). docs/design/
// sm2-verify-tables.md has the measurements.
package sm2verify

import (
	"errors"
	"math/bits"
	"sync"

	"github.com/emmansun/gmsm/sm2/sm2ec"
)

const (
	windowBits = 6
	windows    = 43 // ⌈256/6⌉; signed digits of a scalar < n end with no carry
	entries    = 1 << (windowBits - 1)
)

// table holds, for window i, the affine multiples (j+1)·2^(6i)·P for
// j = 0…31.
type table [windows][entries]affine

// Curve constants, from gmsm's curve parameters (GB/T 32918.5-2017).
var (
	feB      fe        // b, Montgomery form
	gen      affine    // the base point G
	nLimbs   [4]uint64 // the group order n
	genTable = sync.OnceValue(func() *table { return newTable(&gen) })
)

func init() {
	params := sm2ec.P256().Params()
	var l [4]uint64
	for _, c := range []struct {
		dst *fe
		v   []byte
	}{{&feB, params.B.Bytes()}, {&gen.x, params.Gx.Bytes()}, {&gen.y, params.Gy.Bytes()}} {
		var b [32]byte
		copy(b[32-len(c.v):], c.v)
		if !feSetBytes(c.dst, &b) {
			panic("sm2verify: curve constant ≥ p")
		}
	}
	setLimbs(&l, params.N)
	nLimbs = l
}

// newTable builds P's comb table with two inversions: the window bases
// 2^(6i)·P by doubling, made affine together, then every row's multiples by
// mixed addition, made affine together.
func newTable(p *affine) *table {
	var bases [windows]jacobian
	bases[0].setAffine(p)
	for i := 1; i < windows; i++ {
		bases[i] = bases[i-1]
		for range windowBits {
			bases[i].double(&bases[i])
		}
	}
	var base [windows]affine
	batchAffine(base[:], bases[:])

	rows := make([]jacobian, windows*entries)
	for i := range windows {
		row := rows[i*entries : (i+1)*entries]
		row[0].setAffine(&base[i])
		for j := 1; j < entries; j++ {
			row[j].addAffine(&row[j-1], &base[i])
		}
	}
	flat := make([]affine, windows*entries)
	batchAffine(flat, rows)
	t := new(table)
	for i := range windows {
		copy(t[i][:], flat[i*entries:])
	}
	return t
}

// digits recodes k < 2^256 into 43 signed digits d_i ∈ [−31, 32] with
// k = Σ d_i·2^(6i).
func digits(k *[4]uint64) [windows]int8 {
	var d [windows]int8
	carry := uint64(0)
	for i := 0; i < windows; i++ {
		bit := 6 * i
		limb, off := bit/64, bit%64
		w := k[limb] >> off
		if off > 64-windowBits && limb+1 < 4 {
			w |= k[limb+1] << (64 - off)
		}
		w = w&(1<<windowBits-1) + carry
		if w > entries {
			d[i] = int8(int(w) - 1<<windowBits)
			carry = 1
		} else {
			d[i] = int8(w)
			carry = 0
		}
	}
	return d
}

// accumulate adds [k]P to q, with t P's table.
func (q *jacobian) accumulate(t *table, k *[4]uint64) {
	d := digits(k)
	for i, di := range d {
		switch {
		case di > 0:
			q.addAffine(q, &t[i][di-1])
		case di < 0:
			q.subAffine(q, &t[i][-di-1])
		}
	}
}

// PublicKey is an SM2 public key prepared for verification. It is safe for
// concurrent use.
type PublicKey struct {
	q     affine
	table func() *table
}

// ErrInvalidPoint: the coordinates are not both below p or the point is not
// on the SM2 curve.
var ErrInvalidPoint = errors.New("sm2verify: not a point on the SM2 curve")

// NewPublicKey prepares the point (x, y), each coordinate 32 big-endian
// bytes. It fails with ErrInvalidPoint when a coordinate is ≥ p or
// y² ≠ x³ − 3x + b. The table is built on the first Verify.
func NewPublicKey(x, y *[32]byte) (*PublicKey, error) {
	k := new(PublicKey)
	if !feSetBytes(&k.q.x, x) || !feSetBytes(&k.q.y, y) {
		return nil, ErrInvalidPoint
	}
	var lhs, rhs, t fe
	feSqr(&lhs, &k.q.y)
	feSqr(&rhs, &k.q.x)
	feMul(&rhs, &rhs, &k.q.x)
	feAdd(&t, &k.q.x, &k.q.x)
	feAdd(&t, &t, &k.q.x)
	feSub(&rhs, &rhs, &t)
	feAdd(&rhs, &rhs, &feB)
	if lhs != rhs {
		return nil, ErrInvalidPoint
	}
	k.table = sync.OnceValue(func() *table { return newTable(&k.q) })
	return k, nil
}

// Verify reports whether (r, s), each 32 big-endian bytes, is an SM2
// signature by k of the digest e = SM3(Z_A ‖ M), 32 bytes (GB/T 32918.2-2016
// §7.1 B1–B7): 1 ≤ r, s < n; t = r + s mod n ≠ 0; (x1, y1) = [s]G + [t]Q
// finite; (e + x1) mod n = r.
func (k *PublicKey) Verify(e, r, s *[32]byte) bool {
	rl, sl := limbsFromBytes(r), limbsFromBytes(s)
	if !inRange(&rl) || !inRange(&sl) {
		return false
	}
	t := addModN(&rl, &sl)
	if t == ([4]uint64{}) {
		return false
	}
	var acc jacobian
	acc.setInfinity()
	acc.accumulate(genTable(), &sl)
	acc.accumulate(k.table(), &t)
	if acc.isInfinity() {
		return false
	}
	return acc.xMatches(e, &rl)
}

// xMatches reports whether q's x1 = X/Z² satisfies (e + x1) mod n = r
// (§7.1 B7) without inverting Z: x1 < p must be c = r − e mod n, or c + n
// when that is below p.
func (q *jacobian) xMatches(e *[32]byte, rl *[4]uint64) bool {
	el := limbsFromBytes(e)
	if !lessThan(&el, &nLimbs) {
		el = sub256(&el, &nLimbs)
	}
	c := subModN(rl, &el)
	var z2 fe
	feSqr(&z2, &q.z)
	if equalsTimes(&q.x, &z2, &c) {
		return true
	}
	cn, carry := add256(&c, &nLimbs)
	return carry == 0 && lessThan(&cn, &pLimbs) && equalsTimes(&q.x, &z2, &cn)
}

// equalsTimes reports whether x = v·z2 for the plain integer v < p.
func equalsTimes(x, z2 *fe, v *[4]uint64) bool {
	var vm fe
	feMul(&vm, (*fe)(v), &feR2) // into Montgomery form
	feMul(&vm, &vm, z2)
	return vm == *x
}

// inRange reports 1 ≤ v < n.
func inRange(v *[4]uint64) bool {
	return *v != [4]uint64{} && lessThan(v, &nLimbs)
}

func add256(a, b *[4]uint64) ([4]uint64, uint64) {
	var z [4]uint64
	var c uint64
	z[0], c = bits.Add64(a[0], b[0], 0)
	z[1], c = bits.Add64(a[1], b[1], c)
	z[2], c = bits.Add64(a[2], b[2], c)
	z[3], c = bits.Add64(a[3], b[3], c)
	return z, c
}

func sub256(a, b *[4]uint64) [4]uint64 {
	var z [4]uint64
	var c uint64
	z[0], c = bits.Sub64(a[0], b[0], 0)
	z[1], c = bits.Sub64(a[1], b[1], c)
	z[2], c = bits.Sub64(a[2], b[2], c)
	z[3], _ = bits.Sub64(a[3], b[3], c)
	return z
}

// addModN returns a + b mod n for a, b < n.
func addModN(a, b *[4]uint64) [4]uint64 {
	z, carry := add256(a, b)
	if carry == 1 || !lessThan(&z, &nLimbs) {
		z = sub256(&z, &nLimbs)
	}
	return z
}

// subModN returns a − b mod n for a, b < n.
func subModN(a, b *[4]uint64) [4]uint64 {
	if lessThan(a, b) {
		s, _ := add256(a, &nLimbs)
		return sub256(&s, b)
	}
	return sub256(a, b)
}
