package x25519

import (
	"crypto/subtle"

	"filippo.io/edwards25519"
	"filippo.io/edwards25519/field"
)

// A recipient's key is the same for every tip, so the shared secret's
// multiplication can be a fixed-base one too: the recipient's point,
// lifted to edwards25519, gets tables like those edwards25519 keeps for
// its basepoint (ScalarBaseMult), built once, and each tip's shared secret
// costs 64 additions of table entries and 4 doublings instead of the
// ladder's 255 steps.
//
// X25519(e, P) is [c]P for the clamped scalar c, a multiple of the
// cofactor 8: [c]P = [c/8]([8]P), where [8]P is in the prime-order
// subgroup whatever P's order. c/8 lies in [2^251, 2^252), below the group
// order, so it is the scalar as it is, never reduced. The u coordinate of
// [k]P is that of [k](-P), so either lift of u serves. A u that does not
// lift (a point of the twist, or u = -1) and a point of small order ([8]P
// the identity) get no table: the ladder computes those, as the
// specification defines them.

// pointTable holds, for i in 0..31, [j·256^i]Q for j in 1..8, Q = [8]P,
// in the affine form that mixed addition takes (edwards25519's
// affineCached: y+x, y-x, 2dxy).
type pointTable [32]tableRow

// tableRow holds [1..8] times one multiple of Q.
type tableRow [8]affinePoint

type affinePoint struct {
	yPlusX, yMinusX, t2d field.Element
}

// curveD2 is 2d, d = -121665/121666, edwards25519's curve constant.
var curveD2 = func() *field.Element {
	var num, den, d field.Element
	num.Mult32(new(field.Element).One(), 121665)
	num.Negate(&num)
	den.Mult32(new(field.Element).One(), 121666)
	d.Multiply(&num, den.Invert(&den))
	return d.Add(&d, &d)
}()

// newPointTable builds the table of the X25519 public key u, or returns
// nil when the ladder must compute its multiples (see above). It takes
// about 2 ms; it holds public values only.
func newPointTable(u *[32]byte) *pointTable {
	var fu, one, num, den, y field.Element
	if _, err := fu.SetBytes(u[:]); err != nil {
		return nil
	}
	one.One()
	den.Add(&fu, &one)
	if den.Equal(new(field.Element).Zero()) == 1 {
		return nil // u = -1: no Edwards point
	}
	// y = (u-1)/(u+1), the birational map to edwards25519.
	num.Subtract(&fu, &one)
	y.Multiply(&num, den.Invert(&den))
	p, err := new(edwards25519.Point).SetBytes(y.Bytes()) // x's sign 0
	if err != nil {
		return nil // u is on the twist
	}
	q := new(edwards25519.Point).MultByCofactor(p)
	if q.Equal(edwards25519.NewIdentityPoint()) == 1 {
		return nil // P has small order: the result is all zeros
	}
	t := new(pointTable)
	var row [8]edwards25519.Point
	base := new(edwards25519.Point).Set(q)
	for i := range t {
		row[0].Set(base)
		for j := 1; j < 8; j++ {
			row[j].Add(&row[j-1], base)
		}
		for j := range row {
			t[i][j].set(&row[j])
		}
		// base = [256]base for the next row.
		for range 8 {
			base.Add(base, base)
		}
	}
	return t
}

// set sets a to p in affine form.
func (a *affinePoint) set(p *edwards25519.Point) {
	X, Y, Z, T := p.ExtendedCoordinates()
	var zInv field.Element
	zInv.Invert(Z)
	a.yPlusX.Add(Y, X)
	a.yPlusX.Multiply(&a.yPlusX, &zInv)
	a.yMinusX.Subtract(Y, X)
	a.yMinusX.Multiply(&a.yMinusX, &zInv)
	a.t2d.Multiply(T, curveD2)
	a.t2d.Multiply(&a.t2d, &zInv)
}

// selectInto sets dst to [x]·(row's unit), for x in [-8, 8], in constant
// time: every entry is read, whatever x.
func (row *tableRow) selectInto(dst *affinePoint, x int8) {
	xMask := x >> 7
	xAbs := uint8((x + xMask) ^ xMask)
	dst.yPlusX.One()
	dst.yMinusX.One()
	dst.t2d.Zero()
	for j := range row {
		c := subtle.ConstantTimeByteEq(xAbs, uint8(j+1))
		dst.yPlusX.Select(&row[j].yPlusX, &dst.yPlusX, c)
		dst.yMinusX.Select(&row[j].yMinusX, &dst.yMinusX, c)
		dst.t2d.Select(&row[j].t2d, &dst.t2d, c)
	}
	neg := int(xMask & 1)
	dst.yPlusX.Swap(&dst.yMinusX, neg)
	var t2dNeg field.Element
	t2dNeg.Negate(&dst.t2d)
	dst.t2d.Select(&t2dNeg, &dst.t2d, neg)
}

// extended is a point in extended coordinates (X:Y:Z:T), x = X/Z,
// y = Y/Z, xy = T/Z; completed is the (X:Y:Z:T) of an addition's or a
// doubling's result before its last multiplications (edwards25519's
// projP1xP1), as in ref10.
type extended struct{ x, y, z, t field.Element }
type completed struct{ x, y, z, t field.Element }

// addAffine sets c = p + a.
func (c *completed) addAffine(p *extended, a *affinePoint) {
	var yPlusX, yMinusX, pp, mm, tt2d, z2 field.Element
	yPlusX.Add(&p.y, &p.x)
	yMinusX.Subtract(&p.y, &p.x)
	pp.Multiply(&yPlusX, &a.yPlusX)
	mm.Multiply(&yMinusX, &a.yMinusX)
	tt2d.Multiply(&p.t, &a.t2d)
	z2.Add(&p.z, &p.z)
	c.x.Subtract(&pp, &mm)
	c.y.Add(&pp, &mm)
	c.z.Add(&z2, &tt2d)
	c.t.Subtract(&z2, &tt2d)
}

// double sets c = 2p (p's T unused).
func (c *completed) double(p *extended) {
	var xx, yy, zz2, xPlusYSq field.Element
	xx.Square(&p.x)
	yy.Square(&p.y)
	zz2.Square(&p.z)
	zz2.Add(&zz2, &zz2)
	xPlusYSq.Add(&p.x, &p.y)
	xPlusYSq.Square(&xPlusYSq)
	c.y.Add(&yy, &xx)
	c.z.Subtract(&yy, &xx)
	c.x.Subtract(&xPlusYSq, &c.y)
	c.t.Subtract(&zz2, &c.z)
}

// set sets p = c; withT false skips T, which a doubling does not read.
func (p *extended) set(c *completed, withT bool) {
	p.x.Multiply(&c.x, &c.t)
	p.y.Multiply(&c.y, &c.z)
	p.z.Multiply(&c.z, &c.t)
	if withT {
		p.t.Multiply(&c.x, &c.y)
	}
}

// mult sets the Montgomery form of [c]P for the clamped form c of scalar
// into num/den (u = num/den), for the caller to invert together with
// another: ScalarBaseMult's algorithm on this table, in constant time.
func (t *pointTable) mult(num, den *field.Element, scalar *[32]byte) {
	// c/8: the clamped scalar shifted right by 3 bits.
	var b [32]byte
	defer clear(b[:])
	copy(b[:], scalar[:])
	b[0] &= 248
	b[31] &= 127
	b[31] |= 64
	for i := range 31 {
		b[i] = b[i]>>3 | b[i+1]<<5
	}
	b[31] >>= 3

	// Signed radix-16 digits in [-8, 8): b < 2^252.
	var digits [64]int8
	defer clear(digits[:])
	for i := range 32 {
		digits[2*i] = int8(b[i] & 15)
		digits[2*i+1] = int8(b[i] >> 4)
	}
	for i := range 63 {
		carry := (digits[i] + 8) >> 4
		digits[i] -= carry << 4
		digits[i+1] += carry
	}

	var p extended
	var c completed
	var a affinePoint
	p.y.One()
	p.z.One()
	for i := 1; i < 64; i += 2 {
		t[i/2].selectInto(&a, digits[i])
		c.addAffine(&p, &a)
		p.set(&c, true)
	}
	for range 3 {
		c.double(&p)
		p.set(&c, false)
	}
	c.double(&p)
	p.set(&c, true)
	for i := 0; i < 64; i += 2 {
		t[i/2].selectInto(&a, digits[i])
		c.addAffine(&p, &a)
		p.set(&c, true)
	}
	// u = (1+y)/(1-y) = (Z+Y)/(Z-Y).
	num.Add(&p.z, &p.y)
	den.Subtract(&p.z, &p.y)
}
