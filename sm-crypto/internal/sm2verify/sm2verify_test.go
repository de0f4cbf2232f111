package sm2verify

import (
	"crypto/ecdsa"
	"math/big"
	"math/rand"
	"testing"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm2/sm2ec"
)

var (
	curve  = sm2ec.P256()
	bigP   = curve.Params().P
	bigN   = curve.Params().N
	bigR   = new(big.Int).Lsh(big.NewInt(1), 256)
	bigRin = new(big.Int).ModInverse(bigR, bigP)
)

// plain returns x out of Montgomery form as a big.Int.
func plain(x *fe) *big.Int {
	b := feBytes(x)
	return new(big.Int).SetBytes(b[:])
}

func mont(t *testing.T, v *big.Int) fe {
	t.Helper()
	var b [32]byte
	v.FillBytes(b[:])
	var z fe
	if !feSetBytes(&z, &b) {
		t.Fatalf("feSetBytes(%x) refused", v)
	}
	return z
}

func bytes32(v *big.Int) *[32]byte {
	var b [32]byte
	v.FillBytes(b[:])
	return &b
}

// fieldValues returns edge values of GF(p) and count seeded random ones.
func fieldValues(r *rand.Rand, count int) []*big.Int {
	vs := []*big.Int{big.NewInt(0), big.NewInt(1), big.NewInt(2), big.NewInt(3),
		new(big.Int).Sub(bigP, big.NewInt(1)), new(big.Int).Sub(bigP, big.NewInt(2)),
		new(big.Int).Lsh(big.NewInt(1), 255), new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 224), big.NewInt(1)),
		new(big.Int).Lsh(big.NewInt(1), 64), new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 64), big.NewInt(1)),
		new(big.Int).Sub(bigN, big.NewInt(1)), bigN,
	}
	for range count {
		vs = append(vs, new(big.Int).Rand(r, bigP))
	}
	return vs
}

func TestFieldAgainstBig(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	vs := fieldValues(r, 300)
	mod := func(v *big.Int) *big.Int { return v.Mod(v, bigP) }
	for i, a := range vs {
		x := mont(t, a)
		if got := plain(&x); got.Cmp(a) != 0 {
			t.Fatalf("round trip %x → %x", a, got)
		}
		var z fe
		feInv(&z, &x)
		want := new(big.Int).ModInverse(a, bigP)
		if a.Sign() == 0 {
			want = big.NewInt(0)
		}
		if got := plain(&z); got.Cmp(want) != 0 {
			t.Fatalf("inv(%x) = %x, want %x", a, got, want)
		}
		feNeg(&z, &x)
		if got, want := plain(&z), mod(new(big.Int).Neg(a)); got.Cmp(want) != 0 {
			t.Fatalf("neg(%x) = %x, want %x", a, got, want)
		}
		for _, b := range vs[max(0, i-20) : i+1] {
			y := mont(t, b)
			feMul(&z, &x, &y)
			if got, want := plain(&z), mod(new(big.Int).Mul(a, b)); got.Cmp(want) != 0 {
				t.Fatalf("%x · %x = %x, want %x", a, b, got, want)
			}
			feAdd(&z, &x, &y)
			if got, want := plain(&z), mod(new(big.Int).Add(a, b)); got.Cmp(want) != 0 {
				t.Fatalf("%x + %x = %x, want %x", a, b, got, want)
			}
			feSub(&z, &x, &y)
			if got, want := plain(&z), mod(new(big.Int).Sub(a, b)); got.Cmp(want) != 0 {
				t.Fatalf("%x − %x = %x, want %x", a, b, got, want)
			}
			feSub(&z, &y, &x)
			if got, want := plain(&z), mod(new(big.Int).Sub(b, a)); got.Cmp(want) != 0 {
				t.Fatalf("%x − %x = %x, want %x", b, a, got, want)
			}
			// Aliased operands.
			z = x
			feMul(&z, &z, &z)
			if got, want := plain(&z), mod(new(big.Int).Mul(a, a)); got.Cmp(want) != 0 {
				t.Fatalf("%x² = %x, want %x", a, got, want)
			}
		}
	}
}

func TestFieldSetBytesRefusesP(t *testing.T) {
	for _, v := range []*big.Int{bigP, new(big.Int).Add(bigP, big.NewInt(1)), new(big.Int).Sub(bigR, big.NewInt(1))} {
		z := fe{1, 2, 3, 4}
		if feSetBytes(&z, bytes32(v)) {
			t.Errorf("feSetBytes(%x) accepted a value ≥ p", v)
		}
		if z != (fe{1, 2, 3, 4}) {
			t.Errorf("feSetBytes(%x) changed z on refusal", v)
		}
	}
}

// toAffine returns q's affine coordinates as big.Ints, or nil, nil at
// infinity.
func toAffine(q *jacobian) (*big.Int, *big.Int) {
	if q.isInfinity() {
		return nil, nil
	}
	var zi, zi2, zi3, x, y fe
	feInv(&zi, &q.z)
	feSqr(&zi2, &zi)
	feMul(&zi3, &zi2, &zi)
	feMul(&x, &q.x, &zi2)
	feMul(&y, &q.y, &zi3)
	return plain(&x), plain(&y)
}

func affineOf(t *testing.T, x, y *big.Int) *affine {
	return &affine{x: mont(t, x), y: mont(t, y)}
}

// scalars returns edge scalars for comb multiplication and count seeded
// random ones below n.
func scalars(r *rand.Rand, count int) []*big.Int {
	ks := []*big.Int{big.NewInt(1), big.NewInt(2), big.NewInt(31), big.NewInt(32), big.NewInt(33),
		big.NewInt(63), big.NewInt(64), big.NewInt(65), new(big.Int).Lsh(big.NewInt(1), 255),
		new(big.Int).Sub(bigN, big.NewInt(1)), new(big.Int).Sub(bigN, big.NewInt(2)),
		new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 252), big.NewInt(1)),
	}
	// Every window's digit 32 and 33 (→ −31 with a carry), and runs of 63.
	allOnes, thirtyTwo := new(big.Int), new(big.Int)
	for i := 0; i < 42; i++ {
		allOnes.Or(allOnes, new(big.Int).Lsh(big.NewInt(63), uint(6*i)))
		thirtyTwo.Or(thirtyTwo, new(big.Int).Lsh(big.NewInt(32), uint(6*i)))
	}
	ks = append(ks, allOnes, thirtyTwo, new(big.Int).Add(thirtyTwo, big.NewInt(1)))
	for range count {
		k := new(big.Int).Rand(r, bigN)
		if k.Sign() == 0 {
			continue
		}
		ks = append(ks, k)
	}
	return ks
}

func TestDigits(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	for _, k := range append(scalars(r, 200), new(big.Int).Sub(bigR, big.NewInt(1))) {
		l := limbsFromBytes(bytes32(k))
		d := digits(&l)
		sum := new(big.Int)
		for i := windows - 1; i >= 0; i-- {
			if d[i] < -entries || d[i] > entries {
				t.Fatalf("k=%x: digit %d = %d out of range", k, i, d[i])
			}
			sum.Lsh(sum, windowBits).Add(sum, big.NewInt(int64(d[i])))
		}
		if sum.Cmp(k) != 0 {
			t.Fatalf("digits of %x sum to %x", k, sum)
		}
	}
}

func TestCombAgainstGmsm(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	d := new(big.Int).Rand(r, bigN)
	qx, qy := curve.ScalarBaseMult(d.Bytes())
	qt := newTable(affineOf(t, qx, qy))
	for _, k := range scalars(r, 100) {
		kl := limbsFromBytes(bytes32(k))
		var acc jacobian
		acc.setInfinity()
		acc.accumulate(genTable(), &kl)
		x, y := toAffine(&acc)
		wx, wy := curve.ScalarBaseMult(k.Bytes())
		if x == nil || x.Cmp(wx) != 0 || y.Cmp(wy) != 0 {
			t.Fatalf("[%x]G = (%x, %x), want (%x, %x)", k, x, y, wx, wy)
		}
		acc.setInfinity()
		acc.accumulate(qt, &kl)
		x, y = toAffine(&acc)
		wx, wy = curve.ScalarMult(qx, qy, k.Bytes())
		if x == nil || x.Cmp(wx) != 0 || y.Cmp(wy) != 0 {
			t.Fatalf("[%x]Q = (%x, %x), want (%x, %x)", k, x, y, wx, wy)
		}
	}
}

func TestTableEntries(t *testing.T) {
	tab := genTable()
	for i := 0; i < windows; i += 7 {
		for j := 0; j < entries; j += 5 {
			k := new(big.Int).Lsh(big.NewInt(int64(j+1)), uint(windowBits*i))
			wx, wy := curve.ScalarBaseMult(new(big.Int).Mod(k, bigN).Bytes())
			if plain(&tab[i][j].x).Cmp(wx) != 0 || plain(&tab[i][j].y).Cmp(wy) != 0 {
				t.Fatalf("table[%d][%d] is not %d·2^%d·G", i, j, j+1, windowBits*i)
			}
		}
	}
}

// TestAddAffineExceptional checks the cases a signer can force: adding a
// point to itself, to its negation, and to infinity.
func TestAddAffineExceptional(t *testing.T) {
	g := gen
	var p, q jacobian
	p.setAffine(&g)
	q.addAffine(&p, &g) // G + G
	x, y := toAffine(&q)
	wx, wy := curve.Double(curve.Params().Gx, curve.Params().Gy)
	if x.Cmp(wx) != 0 || y.Cmp(wy) != 0 {
		t.Fatalf("G + G = (%x, %x), want 2G", x, y)
	}
	q.subAffine(&p, &g) // G − G
	if !q.isInfinity() {
		t.Fatal("G − G is not infinity")
	}
	q.addAffine(&q, &g) // ∞ + G
	if x, y := toAffine(&q); x.Cmp(curve.Params().Gx) != 0 || y.Cmp(curve.Params().Gy) != 0 {
		t.Fatal("∞ + G is not G")
	}
	// Same point in another Jacobian representation: (λ²X, λ³Y, λZ).
	var lam, l2, l3 fe
	lam = mont(t, big.NewInt(12345))
	feSqr(&l2, &lam)
	feMul(&l3, &l2, &lam)
	feMul(&p.x, &p.x, &l2)
	feMul(&p.y, &p.y, &l3)
	feMul(&p.z, &p.z, &lam)
	q.addAffine(&p, &g)
	if x, y := toAffine(&q); x.Cmp(wx) != 0 || y.Cmp(wy) != 0 {
		t.Fatal("(λ²X, λ³Y, λZ) + G is not 2G")
	}
	q.subAffine(&p, &g)
	if !q.isInfinity() {
		t.Fatal("(λ²X, λ³Y, λZ) − G is not infinity")
	}
	q.setInfinity()
	q.double(&q)
	if !q.isInfinity() {
		t.Fatal("2·∞ is not infinity")
	}
}

// TestXMatches covers the final check on synthetic points (X = x1·Z², any
// Z): x1 ≥ n, e ≥ n, c + n ≥ p. A random signature reaches x1 ≥ n with a
// probability of about 2^−129, but a chosen key does: TestVerifyX1AtLeastN
// (edge_test.go) reaches it end to end.
func TestXMatches(t *testing.T) {
	pMinusN := new(big.Int).Sub(bigP, bigN)
	for _, tc := range []struct {
		x1, e, r *big.Int
		want     bool
	}{
		// x1 = c + n, e = 0: r = x1 − n.
		{new(big.Int).Add(bigN, big.NewInt(5)), big.NewInt(0), big.NewInt(5), true},
		{new(big.Int).Sub(bigP, big.NewInt(1)), big.NewInt(0), new(big.Int).Sub(pMinusN, big.NewInt(1)), true},
		{new(big.Int).Sub(bigP, big.NewInt(1)), big.NewInt(0), pMinusN, false},
		// e ≥ n is reduced first.
		{big.NewInt(7), new(big.Int).Add(bigN, big.NewInt(3)), big.NewInt(10), true},
		{big.NewInt(7), new(big.Int).Add(bigN, big.NewInt(3)), big.NewInt(11), false},
		{new(big.Int).Sub(bigN, big.NewInt(10)), new(big.Int).Add(bigN, big.NewInt(20)), big.NewInt(10), true},
		// e + x1 wraps past n.
		{new(big.Int).Sub(bigN, big.NewInt(2)), big.NewInt(5), big.NewInt(3), true},
		// c + n ≥ p: only x1 = c counts.
		{pMinusN, big.NewInt(0), pMinusN, true},
		{new(big.Int).Add(bigN, pMinusN), big.NewInt(0), pMinusN, false},
	} {
		var q jacobian
		q.x, q.y, q.z = mont(t, new(big.Int).Mod(tc.x1, bigP)), feOne, feOne
		// And with Z ≠ 1: X = x1·Z².
		for _, z := range []int64{1, 987654321} {
			q.z = mont(t, big.NewInt(z))
			var z2 fe
			feSqr(&z2, &q.z)
			x := mont(t, new(big.Int).Mod(tc.x1, bigP))
			feMul(&q.x, &x, &z2)
			rl := limbsFromBytes(bytes32(tc.r))
			if got := q.xMatches(bytes32(tc.e), &rl); got != tc.want {
				t.Errorf("x1=%x e=%x r=%x Z=%d: got %v, want %v", tc.x1, tc.e, tc.r, z, got, tc.want)
			}
		}
	}
}

// forged builds a digest that makes (r, s) a valid signature under the key
// d·G for chosen s and t = r + s: R = [s + t·d]G, r = t − s, e = r − x1.
// Both verifiers must accept it; any bit changed, both must refuse.
func forged(d, s, t *big.Int) (e, r *big.Int) {
	k := new(big.Int).Mul(t, d)
	k.Add(k, s).Mod(k, bigN)
	x1, _ := curve.ScalarBaseMult(k.Bytes())
	r = new(big.Int).Sub(t, s)
	r.Mod(r, bigN)
	e = new(big.Int).Sub(r, x1)
	e.Mod(e, bigN)
	return e, r
}

func gmsmVerify(pub *ecdsa.PublicKey, e, r, s *big.Int) bool {
	return sm2.Verify(pub, bytes32(e)[:], r, s)
}

func key(t *testing.T, d *big.Int) (*ecdsa.PublicKey, *PublicKey) {
	t.Helper()
	x, y := curve.ScalarBaseMult(d.Bytes())
	k, err := NewPublicKey(bytes32(x), bytes32(y))
	if err != nil {
		t.Fatal(err)
	}
	return &ecdsa.PublicKey{Curve: curve, X: x, Y: y}, k
}

func check(t *testing.T, pub *ecdsa.PublicKey, k *PublicKey, e, r, s *big.Int, want bool) {
	t.Helper()
	if !(r.Sign() > 0 && r.Cmp(bigN) < 0 && s.Sign() > 0 && s.Cmp(bigN) < 0) {
		if k.Verify(bytes32(e), bytes32(new(big.Int).Mod(r, bigR)), bytes32(new(big.Int).Mod(s, bigR))) {
			t.Fatalf("accepted out-of-range r=%x s=%x", r, s)
		}
		if want {
			t.Fatal("test wants an out-of-range signature accepted")
		}
		return
	}
	g := gmsmVerify(pub, e, r, s)
	got := k.Verify(bytes32(e), bytes32(r), bytes32(s))
	if g != want || got != want {
		t.Fatalf("e=%x r=%x s=%x: sm2verify %v, gmsm %v, want %v", e, r, s, got, g, want)
	}
}

func TestVerifyAgainstGmsm(t *testing.T) {
	rnd := rand.New(rand.NewSource(4))
	for range 8 {
		d := new(big.Int).Rand(rnd, new(big.Int).Sub(bigN, big.NewInt(2)))
		d.Add(d, big.NewInt(1))
		pub, k := key(t, d)
		for range 25 {
			s := new(big.Int).Rand(rnd, bigN)
			tt := new(big.Int).Rand(rnd, bigN)
			e, r := forged(d, s, tt)
			check(t, pub, k, e, r, s, r.Sign() != 0 && s.Sign() != 0 && tt.Sign() != 0)
			// One bit flipped anywhere in e, r or s.
			for _, v := range []*big.Int{e, r, s} {
				old := new(big.Int).Set(v)
				i := rnd.Intn(256)
				v.SetBit(v, i, v.Bit(i)^1)
				check(t, pub, k, e, r, s, false)
				v.Set(old)
			}
		}
	}
}

// TestVerifyRealSignatures: signatures gmsm makes over real messages.
func TestVerifyRealSignatures(t *testing.T) {
	rnd := rand.New(rand.NewSource(5))
	priv, err := sm2.GenerateKey(rnd)
	if err != nil {
		t.Fatal(err)
	}
	x, y := bytes32(priv.X), bytes32(priv.Y)
	k, err := NewPublicKey(x, y)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		msg := []byte{byte(i), 1, 2, 3}
		e, err := sm2.CalculateSM2Hash(&priv.PublicKey, msg, nil)
		if err != nil {
			t.Fatal(err)
		}
		r, s, err := sm2.Sign(rnd, &priv.PrivateKey, e)
		if err != nil {
			t.Fatal(err)
		}
		var eb [32]byte
		copy(eb[:], e)
		if !k.Verify(&eb, bytes32(r), bytes32(s)) {
			t.Fatalf("message %d: gmsm's signature refused", i)
		}
		eb[i%32] ^= 1 << (i % 8)
		if k.Verify(&eb, bytes32(r), bytes32(s)) {
			t.Fatalf("message %d: signature accepted for another digest", i)
		}
	}
}

// TestVerifyExceptional forces the accumulator onto a table point, its
// negation and infinity, under the key G (d = 1) and others, with valid and
// invalid signatures, and the scalar edges.
func TestVerifyExceptional(t *testing.T) {
	nm := func(v int64) *big.Int { return new(big.Int).Sub(bigN, big.NewInt(v)) }
	for _, d := range []*big.Int{big.NewInt(1), big.NewInt(2), big.NewInt(64), nm(1), nm(2)} {
		pub, k := key(t, d)
		for _, c := range []struct{ s, t *big.Int }{
			{big.NewInt(5), big.NewInt(5 + 64*9)},         // [5]G then +5·dG: doubles when d = 1
			{nm(5), big.NewInt(5 + 64*9)},                 // −5G + 5G: infinity midway when d = 1
			{big.NewInt(5), nm(5)},                        // s + t·d = 0 when d = 1: R at infinity
			{big.NewInt(1), big.NewInt(2)},                //
			{nm(1), nm(1)},                                //
			{big.NewInt(32), big.NewInt(32)},              // r = 0
			{big.NewInt(32), big.NewInt(33)},              // r = 1
			{new(big.Int).Lsh(big.NewInt(1), 255), nm(3)}, //
			{big.NewInt(64), nm(64)},                      //
		} {
			checkForged(t, pub, k, d, c.s, c.t)
		}
		// t = r + s = n: [t]Q is infinity and R = [s]G. A digest that would
		// match R is still refused (§7.1 B5).
		for _, s := range []*big.Int{big.NewInt(1), big.NewInt(77), nm(2)} {
			x1, _ := curve.ScalarBaseMult(s.Bytes())
			r := new(big.Int).Sub(bigN, s)
			e := new(big.Int).Sub(r, x1)
			check(t, pub, k, e.Mod(e, bigN), r, s, false)
		}
		// r, s outside [1, n−1] and r + s = n.
		for _, c := range []struct{ r, s *big.Int }{
			{big.NewInt(0), big.NewInt(1)}, {big.NewInt(1), big.NewInt(0)}, {bigN, big.NewInt(1)},
			{big.NewInt(1), bigN}, {new(big.Int).Sub(bigR, big.NewInt(1)), big.NewInt(1)},
			{big.NewInt(1), nm(1)}, {nm(1), big.NewInt(1)}, {nm(7), big.NewInt(7)},
		} {
			check(t, pub, k, big.NewInt(99), c.r, c.s, false)
		}
	}
}

func TestNewPublicKeyRefuses(t *testing.T) {
	gx, gy := curve.Params().Gx, curve.Params().Gy
	for name, c := range map[string]struct{ x, y *big.Int }{
		"off curve":       {gx, new(big.Int).Add(gy, big.NewInt(1))},
		"x ≥ p":           {new(big.Int).Add(gx, bigP), gy},
		"y + p":           {gx, new(big.Int).Add(gy, bigP)},
		"zero":            {big.NewInt(0), big.NewInt(0)},
		"negated y wraps": {gx, new(big.Int).Sub(bigP, gy).Add(new(big.Int).Sub(bigP, gy), bigP)},
	} {
		if c.x.BitLen() > 256 || c.y.BitLen() > 256 {
			continue
		}
		if _, err := NewPublicKey(bytes32(c.x), bytes32(c.y)); err != ErrInvalidPoint {
			t.Errorf("%s: err = %v, want ErrInvalidPoint", name, err)
		}
	}
	if _, err := NewPublicKey(bytes32(gx), bytes32(new(big.Int).Sub(bigP, gy))); err != nil {
		t.Errorf("−G refused: %v", err)
	}
}

// checkForged checks the signature forged(d, s, t) under the key d·G (pub,
// k): valid unless r = 0 or R = [s + t·d]G is the point at infinity (then
// no x1 exists, and an arbitrary digest stands in), and refused with e + 1.
func checkForged(t *testing.T, pub *ecdsa.PublicKey, k *PublicKey, d, s, tt *big.Int) {
	t.Helper()
	e, r := forged(d, s, tt)
	inf := new(big.Int).Mod(new(big.Int).Add(s, new(big.Int).Mul(tt, d)), bigN).Sign() == 0
	if inf {
		e = big.NewInt(12345)
	}
	check(t, pub, k, e, r, s, r.Sign() != 0 && !inf)
	e1 := new(big.Int).Add(e, big.NewInt(1))
	check(t, pub, k, e1.Mod(e1, bigN), r, s, false)
}

// checkFieldOps checks feMul, feAdd and feSub of the plain limbs x, y (< p,
// not in Montgomery form; a, b their values) against math/big.
func checkFieldOps(t *testing.T, x, y fe) {
	t.Helper()
	a, b := limbsBig(&x), limbsBig(&y)
	var z fe
	feMul(&z, &x, &y)
	want := new(big.Int).Mul(a, b)
	if got := limbsBig(&z); got.Cmp(want.Mul(want, bigRin).Mod(want, bigP)) != 0 {
		t.Fatalf("mont(%x, %x) = %x, want %x", a, b, got, want)
	}
	feAdd(&z, &x, &y)
	want = new(big.Int).Add(a, b)
	if got := limbsBig(&z); got.Cmp(want.Mod(want, bigP)) != 0 {
		t.Fatalf("%x + %x = %x", a, b, got)
	}
	feSub(&z, &x, &y)
	want = new(big.Int).Sub(a, b)
	if got := limbsBig(&z); got.Cmp(want.Mod(want, bigP)) != 0 {
		t.Fatalf("%x - %x = %x", a, b, got)
	}
}
