package x25519

import (
	"filippo.io/edwards25519"
	"filippo.io/edwards25519/field"
)

// baseMult computes X25519(scalar, basepoint), the ephemeral share, with one
// fixed-base multiplication on edwards25519's precomputed tables and the
// birational map to Montgomery form, u = (1+y)/(1-y), as libsodium does. The
// clamped scalar is reduced modulo the group order on the way; that leaves
// the result unchanged because the basepoint is in the prime-order
// subgroup. It is about twice as fast as the ladder that ecdh.GenerateKey
// runs.
func baseMult(dst *[32]byte, scalar *[32]byte) {
	s, err := edwards25519.NewScalar().SetBytesWithClamping(scalar[:])
	if err != nil {
		panic("x25519: 32-byte scalar refused") // unreachable: the length is fixed
	}
	p := new(edwards25519.Point).ScalarBaseMult(s)
	copy(dst[:], p.BytesMontgomery())
}

// baseMultFraction is baseMult with the map to Montgomery form left as a
// fraction, u = num/den, for the caller to invert with another.
func baseMultFraction(num, den *field.Element, scalar *[32]byte) {
	s, err := edwards25519.NewScalar().SetBytesWithClamping(scalar[:])
	if err != nil {
		panic("x25519: 32-byte scalar refused") // unreachable: the length is fixed
	}
	p := new(edwards25519.Point).ScalarBaseMult(s)
	_, Y, Z, _ := p.ExtendedCoordinates()
	num.Add(Z, Y)
	den.Subtract(Z, Y)
}

// scalarMult computes X25519(scalar, point) with the Montgomery ladder of
// RFC 7748, section 5, in constant time: the loop of crypto/ecdh's
// x25519ScalarMult (Go's standard library, BSD licence), on the same field
// arithmetic (filippo.io/edwards25519/field is its published copy).
// crypto/ecdh itself cannot be used for the shared secret without a second
// ladder: NewPrivateKey computes the public key of the scalar as soon as it
// is given one.
func scalarMult(dst, scalar, point *[32]byte) {
	var e [32]byte
	copy(e[:], scalar[:])
	defer clear(e[:])
	e[0] &= 248
	e[31] &= 127
	e[31] |= 64

	var x1, x2, z2, x3, z3, tmp0, tmp1 field.Element
	if _, err := x1.SetBytes(point[:]); err != nil {
		panic("x25519: 32-byte point refused") // unreachable: the length is fixed
	}
	x2.One()
	x3.Set(&x1)
	z3.One()

	swap := 0
	for pos := 254; pos >= 0; pos-- {
		b := int(e[pos/8]>>uint(pos&7)) & 1
		swap ^= b
		x2.Swap(&x3, swap)
		z2.Swap(&z3, swap)
		swap = b

		tmp0.Subtract(&x3, &z3)
		tmp1.Subtract(&x2, &z2)
		x2.Add(&x2, &z2)
		z2.Add(&x3, &z3)
		z3.Multiply(&tmp0, &x2)
		z2.Multiply(&z2, &tmp1)
		tmp0.Square(&tmp1)
		tmp1.Square(&x2)
		x3.Add(&z3, &z2)
		z2.Subtract(&z3, &z2)
		x2.Multiply(&tmp1, &tmp0)
		tmp1.Subtract(&tmp1, &tmp0)
		z2.Square(&z2)

		z3.Mult32(&tmp1, 121666)
		x3.Square(&x3)
		tmp0.Add(&tmp0, &z3)
		z3.Multiply(&x1, &z2)
		z2.Multiply(&tmp1, &tmp0)
	}

	x2.Swap(&x3, swap)
	z2.Swap(&z3, swap)

	z2.Invert(&z2)
	x2.Multiply(&x2, &z2)
	copy(dst[:], x2.Bytes())
}
