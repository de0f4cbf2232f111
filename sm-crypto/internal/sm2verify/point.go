package sm2verify

// jacobian is the point (X/Z², Y/Z³) on y² = x³ − 3x + b; Z = 0 is the point
// at infinity.
type jacobian struct{ x, y, z fe }

// affine is a finite point (x, y).
type affine struct{ x, y fe }

func (q *jacobian) setInfinity() { *q = jacobian{x: feOne, y: feOne} }

func (q *jacobian) isInfinity() bool { return q.z.isZero() }

func (q *jacobian) setAffine(a *affine) { q.x, q.y, q.z = a.x, a.y, feOne }

// double sets q = 2·p (dbl-2001-b, a = −3: 3M + 5S). Infinity doubles to
// infinity (Z3 = 0); the SM2 group has no point of order two.
func (q *jacobian) double(p *jacobian) {
	var delta, gamma, beta, alpha, t0, t1 fe
	feSqr(&delta, &p.z)
	feSqr(&gamma, &p.y)
	feMul(&beta, &p.x, &gamma)
	feSub(&t0, &p.x, &delta)
	feAdd(&t1, &p.x, &delta)
	feMul(&alpha, &t0, &t1)
	feAdd(&t0, &alpha, &alpha)
	feAdd(&alpha, &t0, &alpha) // alpha = 3(X−δ)(X+δ)

	var x3, y3, z3 fe
	feAdd(&t0, &p.y, &p.z)
	feSqr(&z3, &t0)
	feSub(&z3, &z3, &gamma)
	feSub(&z3, &z3, &delta) // Z3 = (Y+Z)² − γ − δ

	feAdd(&t0, &beta, &beta)
	feAdd(&t0, &t0, &t0) // 4β
	feSqr(&x3, &alpha)
	feSub(&x3, &x3, &t0)
	feSub(&x3, &x3, &t0) // X3 = α² − 8β

	feSub(&t0, &t0, &x3)
	feMul(&y3, &alpha, &t0)
	feSqr(&t1, &gamma)
	feAdd(&t1, &t1, &t1)
	feAdd(&t1, &t1, &t1)
	feAdd(&t1, &t1, &t1) // 8γ²
	feSub(&y3, &y3, &t1) // Y3 = α(4β − X3) − 8γ²

	q.x, q.y, q.z = x3, y3, z3
}

// addAffine sets q = p + a (madd-2007-bl: 7M + 4S) and is exact for every
// input: p at infinity gives a, p = a doubles, p = −a gives infinity. The
// scalars of a verification are chosen by whoever made the signature, so
// these cases are reachable and are not left to chance.
func (q *jacobian) addAffine(p *jacobian, a *affine) {
	if p.isInfinity() {
		q.setAffine(a)
		return
	}
	var z1z1, u2, s2, h, r fe
	feSqr(&z1z1, &p.z)
	feMul(&u2, &a.x, &z1z1)
	feMul(&s2, &a.y, &p.z)
	feMul(&s2, &s2, &z1z1)
	feSub(&h, &u2, &p.x)
	feSub(&r, &s2, &p.y)
	if h.isZero() {
		if r.isZero() {
			q.double(p)
		} else {
			q.setInfinity()
		}
		return
	}
	var hh, i, j, v, t fe
	feSqr(&hh, &h)
	feAdd(&i, &hh, &hh)
	feAdd(&i, &i, &i) // I = 4H²
	feMul(&j, &h, &i)
	feAdd(&r, &r, &r) // r = 2(S2 − Y1)
	feMul(&v, &p.x, &i)

	var x3, y3, z3 fe
	feSqr(&x3, &r)
	feSub(&x3, &x3, &j)
	feSub(&x3, &x3, &v)
	feSub(&x3, &x3, &v) // X3 = r² − J − 2V

	feSub(&t, &v, &x3)
	feMul(&y3, &r, &t)
	feMul(&t, &p.y, &j)
	feAdd(&t, &t, &t)
	feSub(&y3, &y3, &t) // Y3 = r(V − X3) − 2·Y1·J

	feAdd(&t, &p.z, &h)
	feSqr(&z3, &t)
	feSub(&z3, &z3, &z1z1)
	feSub(&z3, &z3, &hh) // Z3 = (Z1 + H)² − Z1Z1 − HH

	q.x, q.y, q.z = x3, y3, z3
}

// subAffine sets q = p − a.
func (q *jacobian) subAffine(p *jacobian, a *affine) {
	n := affine{x: a.x}
	feNeg(&n.y, &a.y)
	q.addAffine(p, &n)
}

// batchAffine sets out[i] to in[i] in affine form with one inversion
// (Montgomery's trick). Every in[i] must be finite; it panics otherwise,
// which cannot happen for multiples j·2^(6i)·P of a point of prime order n.
func batchAffine(out []affine, in []jacobian) {
	prefix := make([]fe, len(in))
	acc := feOne
	for i := range in {
		if in[i].isInfinity() {
			panic("sm2verify: point at infinity in a table")
		}
		prefix[i] = acc
		feMul(&acc, &acc, &in[i].z)
	}
	var inv fe
	feInv(&inv, &acc)
	for i := len(in) - 1; i >= 0; i-- {
		var zinv, zinv2, zinv3 fe
		feMul(&zinv, &inv, &prefix[i]) // 1/Z_i
		feMul(&inv, &inv, &in[i].z)    // 1/(Z_0…Z_{i−1})
		feSqr(&zinv2, &zinv)
		feMul(&zinv3, &zinv2, &zinv)
		feMul(&out[i].x, &in[i].x, &zinv2)
		feMul(&out[i].y, &in[i].y, &zinv3)
	}
}
