package sm2verify

import (
	"crypto/ecdsa"
	"math/big"
	"math/rand"
	"testing"

	"github.com/emmansun/gmsm/sm2"
)

// limbPatterns are limb values that stress carries in feMul, feAdd, feSub.
var limbPatterns = []uint64{0, 1, 2, 1 << 32, 1<<32 - 1, 1 << 63, 1<<64 - 1, 1<<64 - 2,
	0xFFFFFFFF00000000, 0xFFFFFFFEFFFFFFFF, 0xFFFFFFFF00000001, 0x00000000FFFFFFFF}

// structuredFieldValues: every limb combination of limbPatterns below p,
// plus p−k and 2^256−k−(2^256−p) neighbours.
func structuredFieldValues() []*big.Int {
	var vs []*big.Int
	for _, a := range limbPatterns {
		for _, b := range limbPatterns {
			for _, c := range limbPatterns {
				for _, d := range limbPatterns {
					l := [4]uint64{a, b, c, d}
					if !lessThan(&l, &pLimbs) {
						continue
					}
					b := limbsToBytes(&l)
					vs = append(vs, new(big.Int).SetBytes(b[:]))
				}
			}
		}
	}
	for k := int64(1); k <= 64; k++ {
		vs = append(vs, new(big.Int).Sub(bigP, big.NewInt(k)))
	}
	for i := 0; i < 256; i++ {
		v := new(big.Int).Lsh(big.NewInt(1), uint(i))
		if v.Cmp(bigP) < 0 {
			vs = append(vs, v, new(big.Int).Sub(v, big.NewInt(1)))
		}
		if w := new(big.Int).Sub(bigP, v); w.Sign() > 0 {
			vs = append(vs, w)
		}
	}
	return vs
}

// TestFieldStructured: mul/add/sub of limb-pattern values (as Montgomery
// representations directly, so the limbs really are those patterns) against
// math/big.
func TestFieldStructured(t *testing.T) {
	vs := structuredFieldValues()
	r := rand.New(rand.NewSource(11))
	n := 0
	check := func(a, b *big.Int) {
		var x, y fe
		setLimbs((*[4]uint64)(&x), a)
		setLimbs((*[4]uint64)(&y), b)
		checkFieldOps(t, x, y)
		n++
	}
	for i, a := range vs {
		// All pairs would be ~200M: every value with 100 random partners,
		// every 250th with all.
		for range 100 {
			check(a, vs[r.Intn(len(vs))])
		}
		if i%250 == 0 {
			for _, b := range vs {
				check(a, b)
			}
		}
	}
	t.Logf("%d values, %d checks", len(vs), n)
}

// TestFieldMulResultsNearP: products whose result is p−k or k, so the final
// conditional subtraction is hit at its boundary.
func TestFieldMulResultsNearP(t *testing.T) {
	r := rand.New(rand.NewSource(12))
	for range 20000 {
		y := new(big.Int).Rand(r, bigP)
		if y.Sign() == 0 {
			continue
		}
		k := big.NewInt(int64(r.Intn(1 << 20)))
		var want *big.Int
		if r.Intn(2) == 0 {
			want = new(big.Int).Sub(bigP, k)
			want.Sub(want, big.NewInt(1))
		} else {
			want = k
		}
		// x·y·R⁻¹ = want  →  x = want·R·y⁻¹.
		x := new(big.Int).Mul(want, bigR)
		x.Mul(x, new(big.Int).ModInverse(y, bigP)).Mod(x, bigP)
		var xf, yf, z fe
		setLimbs((*[4]uint64)(&xf), x)
		setLimbs((*[4]uint64)(&yf), y)
		feMul(&z, &xf, &yf)
		if got := limbsBig(&z); got.Cmp(want) != 0 {
			t.Fatalf("mont(%x, %x) = %x, want %x", x, y, got, want)
		}
		feMul(&z, &yf, &xf)
		if got := limbsBig(&z); got.Cmp(want) != 0 {
			t.Fatalf("mont(%x, %x) swapped = %x, want %x", y, x, got, want)
		}
	}
}

func TestFieldRandomMany(t *testing.T) {
	r := rand.New(rand.NewSource(13))
	for range 300000 {
		a, b := new(big.Int).Rand(r, bigP), new(big.Int).Rand(r, bigP)
		// Sparse / dense bit patterns half the time.
		if r.Intn(2) == 0 {
			a.And(a, new(big.Int).Rand(r, bigP))
			b.Or(b, new(big.Int).Rand(r, bigP))
			b.Mod(b, bigP)
		}
		var x, y, z fe
		setLimbs((*[4]uint64)(&x), a)
		setLimbs((*[4]uint64)(&y), b)
		feMul(&z, &x, &y)
		want := new(big.Int).Mul(a, b)
		want.Mul(want, bigRin).Mod(want, bigP)
		if got := limbsBig(&z); got.Cmp(want) != 0 {
			t.Fatalf("mont(%x, %x) = %x, want %x", a, b, got, want)
		}
	}
}

func TestFieldSetBytesBoundary(t *testing.T) {
	for k := int64(-70); k <= 70; k++ {
		v := new(big.Int).Add(bigP, big.NewInt(k))
		var z fe
		ok := feSetBytes(&z, bytes32(v))
		if ok != (k < 0) {
			t.Fatalf("feSetBytes(p%+d) = %v", k, ok)
		}
		if ok && plain(&z).Cmp(v) != 0 {
			t.Fatalf("feSetBytes(p%+d) round trip %x", k, plain(&z))
		}
	}
	// Each limb of p bumped by one, with lower limbs zero or all-ones.
	for i := 0; i < 4; i++ {
		for _, low := range []uint64{0, 1<<64 - 1} {
			l := pLimbs
			for j := 0; j < i; j++ {
				l[j] = low
			}
			b := limbsToBytes(&l)
			v := new(big.Int).SetBytes(b[:])
			var z fe
			if got := feSetBytes(&z, &b); got != (v.Cmp(bigP) < 0) {
				t.Fatalf("feSetBytes(%x) = %v", v, got)
			}
		}
	}
}

func limbsBig(z *fe) *big.Int {
	l := [4]uint64(*z)
	b := limbsToBytes(&l)
	return new(big.Int).SetBytes(b[:])
}

// randJacobian returns P = [k]G in a random Jacobian representation.
func randJacobian(t *testing.T, r *rand.Rand, k *big.Int) (jacobian, *big.Int, *big.Int) {
	x, y := curve.ScalarBaseMult(new(big.Int).Mod(k, bigN).Bytes())
	lam := new(big.Int).Rand(r, bigP)
	if lam.Sign() == 0 {
		lam.SetInt64(1)
	}
	l2 := new(big.Int).Mul(lam, lam)
	l3 := new(big.Int).Mul(l2, lam)
	var q jacobian
	q.x = mont(t, l2.Mul(l2, x).Mod(l2, bigP))
	q.y = mont(t, l3.Mul(l3, y).Mod(l3, bigP))
	q.z = mont(t, lam)
	return q, x, y
}

// TestPointOpsAgainstGmsm: double and addAffine in random Jacobian
// representations, with and without aliasing, including P = A, P = −A.
func TestPointOpsAgainstGmsm(t *testing.T) {
	r := rand.New(rand.NewSource(14))
	for range 500 {
		k1 := new(big.Int).Rand(r, bigN)
		k2 := new(big.Int).Rand(r, bigN)
		switch r.Intn(4) {
		case 0:
			k2.Set(k1) // P = A
		case 1:
			k2.Sub(bigN, k1) // P = −A
		}
		if k1.Sign() == 0 || k2.Sign() == 0 || new(big.Int).Mod(k2, bigN).Sign() == 0 {
			continue
		}
		p, px, py := randJacobian(t, r, k1)
		ax, ay := curve.ScalarBaseMult(k2.Bytes())
		a := affineOf(t, ax, ay)

		var q jacobian
		q.double(&p)
		wx, wy := curve.Double(px, py)
		if x, y := toAffine(&q); x == nil || x.Cmp(wx) != 0 || y.Cmp(wy) != 0 {
			t.Fatalf("2·[%x]G wrong", k1)
		}
		q = p
		q.double(&q)
		if x, y := toAffine(&q); x == nil || x.Cmp(wx) != 0 || y.Cmp(wy) != 0 {
			t.Fatalf("aliased 2·[%x]G wrong", k1)
		}

		sum := new(big.Int).Add(k1, k2)
		sum.Mod(sum, bigN)
		for _, alias := range []bool{false, true} {
			var q jacobian
			if alias {
				q = p
				q.addAffine(&q, a)
			} else {
				q.addAffine(&p, a)
			}
			x, y := toAffine(&q)
			if sum.Sign() == 0 {
				if x != nil {
					t.Fatalf("[%x]G + [%x]G not infinity", k1, k2)
				}
				continue
			}
			wx, wy := curve.ScalarBaseMult(sum.Bytes())
			if x == nil || x.Cmp(wx) != 0 || y.Cmp(wy) != 0 {
				t.Fatalf("[%x]G + [%x]G wrong (alias %v)", k1, k2, alias)
			}
			// subAffine: P − A.
			diff := new(big.Int).Sub(k1, k2)
			diff.Mod(diff, bigN)
			q = p
			q.subAffine(&q, a)
			x, y = toAffine(&q)
			if diff.Sign() == 0 {
				if x != nil {
					t.Fatal("P − P not infinity")
				}
				continue
			}
			wx, wy = curve.ScalarBaseMult(diff.Bytes())
			if x == nil || x.Cmp(wx) != 0 || y.Cmp(wy) != 0 {
				t.Fatalf("[%x]G − [%x]G wrong", k1, k2)
			}
		}
	}
	// Infinity in the representation double() leaves (X, Y arbitrary, Z = 0).
	var inf jacobian
	inf.x, inf.y = mont(t, big.NewInt(77)), mont(t, big.NewInt(99))
	var q jacobian
	q.addAffine(&inf, &gen)
	if x, _ := toAffine(&q); x == nil || x.Cmp(curve.Params().Gx) != 0 {
		t.Fatal("(77, 99, 0) + G is not G")
	}
}

// signDigest signs the digest e (mod n) with d and nonce k, at digest level.
func signDigest(d, k, e *big.Int) (r, s *big.Int) {
	x1, _ := curve.ScalarBaseMult(k.Bytes())
	r = new(big.Int).Add(e, x1)
	r.Mod(r, bigN)
	s = new(big.Int).Mul(r, d)
	s.Sub(k, s)
	s.Mul(s, new(big.Int).ModInverse(new(big.Int).Add(d, big.NewInt(1)), bigN))
	s.Mod(s, bigN)
	return r, s
}

// TestVerifyDigestAtLeastN: e as a 256-bit integer ≥ n (e = e' + n), and
// e = 2^256 − 1, which gmsm reduces mod n.
func TestVerifyDigestAtLeastN(t *testing.T) {
	r := rand.New(rand.NewSource(15))
	d := new(big.Int).Rand(r, bigN)
	pub, k := key(t, d)
	maxE := new(big.Int).Sub(bigR, big.NewInt(1))
	for _, e := range []*big.Int{new(big.Int).Set(bigN), new(big.Int).Add(bigN, big.NewInt(1)), maxE,
		new(big.Int).Sub(maxE, big.NewInt(1)), new(big.Int).Sub(bigN, big.NewInt(1)), big.NewInt(0)} {
		nonce := new(big.Int).Rand(r, bigN)
		rr, ss := signDigest(d, nonce, new(big.Int).Mod(e, bigN))
		check(t, pub, k, e, rr, ss, true)
		check(t, pub, k, new(big.Int).Add(e, big.NewInt(1)).Mod(new(big.Int).Add(e, big.NewInt(1)), bigR), rr, ss, false)
	}
	for range 200 {
		e := new(big.Int).Rand(r, new(big.Int).Sub(bigR, bigN))
		e.Add(e, bigN) // n ≤ e < 2^256
		nonce := new(big.Int).Rand(r, bigN)
		rr, ss := signDigest(d, nonce, new(big.Int).Sub(e, bigN))
		check(t, pub, k, e, rr, ss, true)
	}
}

// TestVerifyX1AtLeastN builds real signatures whose R has x1 ≥ n: pick such
// an R, any s and t, and the key Q = t⁻¹·(R − [s]G) (its discrete log is
// unknown, which does not matter). Then r = t − s, e = r − x1 mod n.
func TestVerifyX1AtLeastN(t *testing.T) {
	rnd := rand.New(rand.NewSource(16))
	b := curve.Params().B
	pMinusN := new(big.Int).Sub(bigP, bigN)
	found := 0
	for tries := 0; found < 40 && tries < 10000; tries++ {
		var x1 *big.Int
		switch {
		case tries < 8:
			x1 = new(big.Int).Sub(bigP, big.NewInt(int64(1+tries))) // p−1 …
		case tries < 16:
			x1 = new(big.Int).Add(bigN, big.NewInt(int64(tries-8))) // n …
		default:
			x1 = new(big.Int).Rand(rnd, pMinusN)
			x1.Add(x1, bigN)
		}
		rhs := new(big.Int).Exp(x1, big.NewInt(3), bigP)
		rhs.Sub(rhs, new(big.Int).Mul(big.NewInt(3), x1))
		rhs.Add(rhs, b).Mod(rhs, bigP)
		y1 := new(big.Int).ModSqrt(rhs, bigP)
		if y1 == nil {
			continue
		}
		if rnd.Intn(2) == 0 {
			y1.Sub(bigP, y1)
		}
		found++
		s := new(big.Int).Rand(rnd, bigN)
		tt := new(big.Int).Rand(rnd, bigN)
		if s.Sign() == 0 || tt.Sign() == 0 || s.Cmp(tt) == 0 {
			continue
		}
		// Q = t⁻¹·(R − [s]G)
		sx, sy := curve.ScalarBaseMult(s.Bytes())
		sy = new(big.Int).Sub(bigP, sy)
		dx, dy := curve.Add(x1, y1, sx, sy)
		tinv := new(big.Int).ModInverse(tt, bigN)
		qx, qy := curve.ScalarMult(dx, dy, tinv.Bytes())
		pub := &ecdsa.PublicKey{Curve: curve, X: qx, Y: qy}
		k, err := NewPublicKey(bytes32(qx), bytes32(qy))
		if err != nil {
			t.Fatal(err)
		}
		r := new(big.Int).Sub(tt, s)
		r.Mod(r, bigN)
		e := new(big.Int).Sub(r, x1)
		e.Mod(e, bigN)
		check(t, pub, k, e, r, s, true)
		// x1 as if it were not reduced mod n would give e − n·… ≡ same; a
		// verifier that compared x1 itself with r − e would refuse. Neighbours
		// must be refused by both.
		for _, de := range []int64{1, -1} {
			e2 := new(big.Int).Add(e, big.NewInt(de))
			check(t, pub, k, e2.Mod(e2, bigN), r, s, false)
		}
		// The same with e + n (< 2^256 when e < 2^256 − n).
		if en := new(big.Int).Add(e, bigN); en.Cmp(bigR) < 0 {
			check(t, pub, k, en, r, s, true)
		}
		// Wrong: r − (x1 − p + n)? i.e. a verifier that used x1 mod p
		// confusion. Both must refuse e' = r − (x1 − n) − 1 … already covered;
		// also refuse the digest that would match x1 + n − p (x1 wrapped).
		e3 := new(big.Int).Sub(r, new(big.Int).Sub(x1, pMinusN))
		e3.Mod(e3, bigN)
		if e3.Cmp(e) != 0 {
			check(t, pub, k, e3, r, s, false)
		}
	}
	if found < 20 {
		t.Fatalf("only %d points with x ≥ n", found)
	}
}

// digitsRef is the signed recoding computed with big.Int.
func digitsOf(k *big.Int) [windows]int8 {
	l := limbsFromBytes(bytes32(k))
	return digits(&l)
}

// partial returns Σ_{j<i} d_j·2^(6j).
func partial(d [windows]int8, i int) *big.Int {
	s := new(big.Int)
	for j := i - 1; j >= 0; j-- {
		s.Lsh(s, windowBits).Add(s, big.NewInt(int64(d[j])))
	}
	return s
}

// TestVerifyForcedCollisions: for each window i of t where the digit is
// non-zero, choose s so that the accumulator [s]G + [T_i·d]G before window i
// equals the addend [d_i·2^(6i)·d]G (doubling case) or its negation
// (infinity midway), then both verifiers must accept the forged signature
// and refuse a neighbour digest.
func TestVerifyForcedCollisions(t *testing.T) {
	rnd := rand.New(rand.NewSource(17))
	nm := func(v int64) *big.Int { return new(big.Int).Sub(bigN, big.NewInt(v)) }
	ds := []*big.Int{big.NewInt(1), big.NewInt(2), big.NewInt(3), big.NewInt(63), big.NewInt(64),
		nm(1), nm(2), nm(64), new(big.Int).Lsh(big.NewInt(1), 252), new(big.Int).Rand(rnd, bigN),
		new(big.Int).Rand(rnd, bigN)}
	all32 := new(big.Int)
	allNeg := new(big.Int) // digits 33 → −31 with carry
	for i := 0; i < 42; i++ {
		all32.Or(all32, new(big.Int).Lsh(big.NewInt(32), uint(6*i)))
		allNeg.Or(allNeg, new(big.Int).Lsh(big.NewInt(33), uint(6*i)))
	}
	ts := []*big.Int{all32, allNeg, nm(1), nm(2), new(big.Int).Lsh(big.NewInt(1), 255)}
	for range 3 {
		ts = append(ts, new(big.Int).Rand(rnd, bigN))
	}
	count := 0
	for _, d := range ds {
		if d.Sign() == 0 {
			continue
		}
		pub, k := key(t, d)
		for _, tt := range ts {
			dig := digitsOf(tt)
			for i := 0; i < windows; i++ {
				if dig[i] == 0 {
					continue
				}
				ti := partial(dig, i)
				add := new(big.Int).Lsh(big.NewInt(int64(dig[i])), uint(6*i))
				for _, sign := range []int64{1, -1} {
					// s + d·T_i ≡ sign·d·add  →  s = d·(sign·add − T_i)
					s := new(big.Int).Mul(add, big.NewInt(sign))
					s.Sub(s, ti).Mul(s, d).Mod(s, bigN)
					if s.Sign() == 0 {
						continue
					}
					checkForged(t, pub, k, d, s, tt)
					count++
				}
			}
		}
	}
	t.Logf("%d forced collisions", count)
}

// TestVerifyDigitPatterns: s and t with every window ±32, −31 with carries,
// the top window carried into, random keys including small d and d near n.
func TestVerifyDigitPatterns(t *testing.T) {
	rnd := rand.New(rand.NewSource(18))
	nm := func(v int64) *big.Int { return new(big.Int).Sub(bigN, big.NewInt(v)) }
	var pats []*big.Int
	for _, w := range []int64{31, 32, 33, 63, 1} {
		v := new(big.Int)
		for i := 0; i < 43; i++ {
			v.Or(v, new(big.Int).Lsh(big.NewInt(w), uint(6*i)))
		}
		v.Mod(v, bigN)
		pats = append(pats, v)
		// alternating with zeros
		v2 := new(big.Int)
		for i := 0; i < 43; i += 2 {
			v2.Or(v2, new(big.Int).Lsh(big.NewInt(w), uint(6*i)))
		}
		pats = append(pats, v2.Mod(v2, bigN))
	}
	pats = append(pats, nm(1), nm(32), nm(33), big.NewInt(1), big.NewInt(32), big.NewInt(33),
		new(big.Int).Lsh(big.NewInt(1), 252), new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 252), big.NewInt(1)),
		new(big.Int).Lsh(big.NewInt(33), 246))
	for range 4 {
		pats = append(pats, new(big.Int).Rand(rnd, bigN))
	}
	ds := []*big.Int{big.NewInt(1), big.NewInt(2), big.NewInt(5), nm(1), nm(3), new(big.Int).Rand(rnd, bigN)}
	for _, d := range ds {
		pub, k := key(t, d)
		for _, s := range pats {
			for _, tt := range pats {
				if s.Sign() == 0 || tt.Sign() == 0 {
					continue
				}
				checkForged(t, pub, k, d, s, tt)
			}
		}
	}
}

// TestVerifyRandomKeysGmsm: real gmsm signatures under many fresh keys,
// each verified by a fresh PublicKey (table built per key).
func TestVerifyRandomKeysGmsm(t *testing.T) {
	rnd := rand.New(rand.NewSource(19))
	for i := range 30 {
		priv, err := sm2.GenerateKey(rnd)
		if err != nil {
			t.Fatal(err)
		}
		k, err := NewPublicKey(bytes32(priv.X), bytes32(priv.Y))
		if err != nil {
			t.Fatal(err)
		}
		for j := range 10 {
			var e [32]byte
			rnd.Read(e[:])
			r, s, err := sm2.Sign(rnd, &priv.PrivateKey, e[:])
			if err != nil {
				t.Fatal(err)
			}
			if !k.Verify(&e, bytes32(r), bytes32(s)) {
				t.Fatalf("key %d sig %d refused", i, j)
			}
			e[j] ^= 0x80
			if k.Verify(&e, bytes32(r), bytes32(s)) {
				t.Fatalf("key %d sig %d accepted with changed digest", i, j)
			}
		}
	}
}

// TestConcurrentFirstUse: goroutines race on the generator's table and on
// several keys' tables at their first use (run alone with -race so that
// genTable is not yet built).
func TestConcurrentFirstUse(t *testing.T) {
	type job struct {
		k       *PublicKey
		e, r, s *[32]byte
	}
	var jobs []job
	for i := int64(1); i <= 4; i++ {
		d := big.NewInt(1000003 * i)
		_, k := key(t, d)
		for j := int64(1); j <= 4; j++ {
			s := big.NewInt(77 * j)
			tt := big.NewInt(99*j + i)
			e, r := forged(d, s, tt)
			jobs = append(jobs, job{k, bytes32(e), bytes32(r), bytes32(s)})
		}
	}
	errs := make(chan string, 64)
	done := make(chan struct{})
	for g := 0; g < 16; g++ {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range jobs {
				jb := jobs[(i+g)%len(jobs)]
				if !jb.k.Verify(jb.e, jb.r, jb.s) {
					errs <- "refused"
				}
			}
		}()
	}
	for range 16 {
		<-done
	}
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
}

// keyForR returns a key Q under which (r, s) = (t − s, s) is valid for the
// digest r − x1 mod n, with R = (x1, y1) chosen: Q = t⁻¹·(R − [s]G). It
// returns nil when x1 is not the x of a curve point.
func keyForR(t *testing.T, x1, s, tt *big.Int) (*ecdsa.PublicKey, *PublicKey) {
	t.Helper()
	rhs := new(big.Int).Exp(x1, big.NewInt(3), bigP)
	rhs.Sub(rhs, new(big.Int).Mul(big.NewInt(3), x1))
	rhs.Add(rhs, curve.Params().B).Mod(rhs, bigP)
	y1 := new(big.Int).ModSqrt(rhs, bigP)
	if y1 == nil {
		return nil, nil
	}
	sx, sy := curve.ScalarBaseMult(s.Bytes())
	dx, dy := curve.Add(x1, y1, sx, new(big.Int).Sub(bigP, sy))
	qx, qy := curve.ScalarMult(dx, dy, new(big.Int).ModInverse(tt, bigN).Bytes())
	k, err := NewPublicKey(bytes32(qx), bytes32(qy))
	if err != nil {
		t.Fatal(err)
	}
	return &ecdsa.PublicKey{Curve: curve, X: qx, Y: qy}, k
}

// TestVerifyChosenX1 drives the final check end to end with chosen x1:
//   - x1 < 2^256 − p: the digest for x1 + (p − n) (c + n = x1 + p, in
//     [p, 2^256), which must not be tried as a field element) is refused;
//   - x1 just below n with r small, the digest passed as e + n, so that
//     e − n > r (the reduction of e matters).
func TestVerifyChosenX1(t *testing.T) {
	rnd := rand.New(rand.NewSource(20))
	pMinusN := new(big.Int).Sub(bigP, bigN)
	nA, nB := 0, 0
	for tries := 0; tries < 400 && (nA < 20 || nB < 20); tries++ {
		s := new(big.Int).Add(new(big.Int).Rand(rnd, new(big.Int).Sub(bigN, big.NewInt(1))), big.NewInt(1))
		if tries%2 == 0 {
			// Case A.
			// x1 < 2^256 − p, so that c + n = x1 + p does not carry out.
			x1 := new(big.Int).Rand(rnd, new(big.Int).Sub(bigR, bigP))
			tt := new(big.Int).Add(new(big.Int).Rand(rnd, new(big.Int).Sub(bigN, big.NewInt(1))), big.NewInt(1))
			if tt.Cmp(s) == 0 {
				continue
			}
			pub, k := keyForR(t, x1, s, tt)
			if k == nil {
				continue
			}
			nA++
			r := new(big.Int).Sub(tt, s)
			r.Mod(r, bigN)
			e := new(big.Int).Sub(r, x1)
			check(t, pub, k, e.Mod(e, bigN), r, s, true)
			bad := new(big.Int).Sub(r, x1)
			bad.Sub(bad, pMinusN).Mod(bad, bigN)
			check(t, pub, k, bad, r, s, false)
		} else {
			// Case B: r ∈ [1, 2^32), x1 ∈ [n − 2^200, n): e = r − x1 + n ≈ 2^200 > r.
			r := big.NewInt(1 + rnd.Int63n(1<<32))
			x1 := new(big.Int).Sub(bigN, new(big.Int).Rand(rnd, new(big.Int).Lsh(big.NewInt(1), 200)))
			if x1.Cmp(bigN) >= 0 || new(big.Int).Sub(bigN, x1).Cmp(r) <= 0 {
				continue
			}
			tt := new(big.Int).Add(r, s)
			tt.Mod(tt, bigN)
			if tt.Sign() == 0 {
				continue
			}
			pub, k := keyForR(t, x1, s, tt)
			if k == nil {
				continue
			}
			nB++
			e := new(big.Int).Sub(r, x1)
			e.Mod(e, bigN)
			check(t, pub, k, e, r, s, true)
			check(t, pub, k, new(big.Int).Add(e, bigN), r, s, true)
			check(t, pub, k, new(big.Int).Add(e, new(big.Int).Add(bigN, big.NewInt(1))), r, s, false)
		}
	}
	if nA < 20 || nB < 20 {
		t.Fatalf("only %d, %d cases", nA, nB)
	}
}
