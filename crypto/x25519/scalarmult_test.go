package x25519

import (
	"bytes"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/hex"
	"testing"

	"filippo.io/edwards25519"
	"filippo.io/edwards25519/field"
)

func from(t testing.TB, h string) *[32]byte {
	t.Helper()
	b, err := hex.DecodeString(h)
	if err != nil || len(b) != 32 {
		t.Fatalf("bad test hex %q", h)
	}
	return (*[32]byte)(b)
}

// ecdhMult is X25519(scalar, point) by crypto/ecdh, the reference for both
// multiplications here; ok is false where it refuses the all-zero result.
func ecdhMult(t testing.TB, scalar, point []byte) (out []byte, ok bool) {
	t.Helper()
	priv, err := ecdh.X25519().NewPrivateKey(scalar)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := ecdh.X25519().NewPublicKey(point)
	if err != nil {
		t.Fatal(err)
	}
	out, err = priv.ECDH(pub)
	return out, err == nil
}

// TestScalarMultRFC7748: the ladder gives RFC 7748's answers (section 5.2,
// the second with the high bit of u set, which must be ignored; the
// iterated test at 1 and 1,000 iterations).
func TestScalarMultRFC7748(t *testing.T) {
	for _, v := range []struct{ k, u, want string }{
		{"a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
			"e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
			"c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552"},
		{"4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
			"e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
			"95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957"},
	} {
		var got [32]byte
		scalarMult(&got, from(t, v.k), from(t, v.u))
		if hex.EncodeToString(got[:]) != v.want {
			t.Errorf("X25519(%.8s..., %.8s...) = %x, want %s", v.k, v.u, got, v.want)
		}
	}
	k, u := [32]byte{9}, [32]byte{9}
	for i := 1; i <= 1000; i++ {
		var r [32]byte
		scalarMult(&r, &k, &u)
		u, k = k, r
		if i == 1 && hex.EncodeToString(k[:]) != "422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079" {
			t.Fatalf("iterated once: %x", k)
		}
	}
	if hex.EncodeToString(k[:]) != "684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51" {
		t.Fatalf("iterated 1,000 times: %x", k)
	}
}

// TestBaseMultRFC7748: the fixed-base share of RFC 7748's section 6.1 keys.
func TestBaseMultRFC7748(t *testing.T) {
	for _, v := range []struct{ k, want string }{
		{"77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
			"8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"},
		{"5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb",
			"de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"},
	} {
		var got [32]byte
		baseMult(&got, from(t, v.k))
		if hex.EncodeToString(got[:]) != v.want {
			t.Errorf("X25519(%.8s..., 9) = %x, want %s", v.k, got, v.want)
		}
	}
}

// TestMultsMatchECDH: both multiplications agree with crypto/ecdh for
// random and extreme scalars, and the ladder for points of every kind:
// public keys, random strings (half of them on the twist), the high bit
// set, non-canonical encodings, and low-order points (all-zero result).
func TestMultsMatchECDH(t *testing.T) {
	scalars := [][]byte{make([]byte, 32), bytes.Repeat([]byte{0xff}, 32), append([]byte{1}, make([]byte, 31)...)}
	for range 200 {
		s := make([]byte, 32)
		rand.Read(s)
		scalars = append(scalars, s)
	}
	basepoint := make([]byte, 32)
	basepoint[0] = 9
	points := [][]byte{make([]byte, 32), basepoint, bytes.Repeat([]byte{0xff}, 32)}
	for _, h := range lowOrder {
		b, _ := hex.DecodeString(h)
		points = append(points, b, append(b[:31:31], b[31]|0x80))
	}
	for range 200 {
		p := make([]byte, 32)
		rand.Read(p)
		priv, _ := ecdh.X25519().GenerateKey(rand.Reader)
		points = append(points, p, priv.PublicKey().Bytes())
	}
	for i, s := range scalars {
		priv, err := ecdh.X25519().NewPrivateKey(s)
		if err != nil {
			t.Fatal(err)
		}
		var share [32]byte
		baseMult(&share, (*[32]byte)(s))
		if !bytes.Equal(share[:], priv.PublicKey().Bytes()) {
			t.Fatalf("scalar %d: fixed-base share %x, crypto/ecdh %x", i, share, priv.PublicKey().Bytes())
		}
		for _, p := range [][]byte{points[i%len(points)], points[(i*7+3)%len(points)]} {
			var got [32]byte
			scalarMult(&got, (*[32]byte)(s), (*[32]byte)(p))
			want, ok := ecdhMult(t, s, p)
			if !ok {
				want = make([]byte, 32)
			}
			if !bytes.Equal(got[:], want) {
				t.Fatalf("scalar %d, point %x: ladder %x, crypto/ecdh %x", i, p, got, want)
			}
			checkExchange(t, s, p)
		}
	}
}

// checkExchange: a recipient's exchange (the point table where the point
// has one, else the ladder) gives crypto/ecdh's share and shared secret
// (all zeros where crypto/ecdh refuses a low-order point).
func checkExchange(t testing.TB, s, p []byte) {
	t.Helper()
	checkExchangeOf(t, recipientOf(p), s)
}

// recipientOf is a recipient of point p, unchecked, past the wraps it
// makes before its point table (if it has one).
func recipientOf(p []byte) *Recipient {
	r := &Recipient{table: new(lazyTable)}
	copy(r.point[:], p)
	return warm(r)
}

// warm returns r with the wraps before its point table made.
func warm(r *Recipient) *Recipient {
	r.table.uses.Store(tableAfter)
	return r
}

func checkExchangeOf(t testing.TB, r *Recipient, s []byte) {
	t.Helper()
	p := r.point[:]
	var share, shared [32]byte
	r.exchange(&share, &shared, (*[32]byte)(s))
	priv, err := ecdh.X25519().NewPrivateKey(s)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(share[:], priv.PublicKey().Bytes()) {
		t.Fatalf("scalar %x, point %x (table %v): share %x, crypto/ecdh %x", s, p, r.pointTable() != nil, share, priv.PublicKey().Bytes())
	}
	want, ok := ecdhMult(t, s, p)
	if !ok {
		want = make([]byte, 32)
	}
	if !bytes.Equal(shared[:], want) {
		t.Fatalf("scalar %x, point %x (table %v): shared %x, crypto/ecdh %x", s, p, r.pointTable() != nil, shared, want)
	}
}

// lift is the edwards25519 point of Montgomery u with x's sign 0 (the
// lift newPointTable makes, computed here on its own), if u has one.
func lift(u []byte) (*edwards25519.Point, bool) {
	var fu, one, num, den field.Element
	if _, err := fu.SetBytes(u); err != nil {
		return nil, false
	}
	one.One()
	num.Subtract(&fu, &one)
	den.Add(&fu, &one)
	if den.Equal(new(field.Element).Zero()) == 1 {
		return nil, false
	}
	y := new(field.Element).Multiply(&num, den.Invert(&den))
	p, err := new(edwards25519.Point).SetBytes(y.Bytes())
	return p, err == nil
}

// TestPointTable: which recipients get a point table, and that its
// multiples are the ladder's for every kind of point that has one: public
// keys, points of the full group (a point of small order added to one of
// prime order, which the cofactor takes out), random points that lift,
// non-canonical and high-bit encodings of them, and scalars of every
// extreme; points of small order and of the twist get none and go to the
// ladder.
func TestPointTable(t *testing.T) {
	for _, h := range lowOrder {
		u, _ := hex.DecodeString(h)
		if newPointTable((*[32]byte)(u)) != nil {
			t.Errorf("low-order point %s got a table", h)
		}
	}
	minusOne := bytes.Repeat([]byte{0xff}, 32)
	minusOne[0], minusOne[31] = 0xec, 0x7f
	if newPointTable((*[32]byte)(minusOne)) != nil {
		t.Error("u = -1 got a table")
	}

	var points [][]byte
	twist, lifted := 0, 0
	for range 64 {
		u := make([]byte, 32)
		rand.Read(u)
		if newPointTable((*[32]byte)(u)) == nil {
			twist++
			if _, ok := lift(u); ok {
				t.Fatalf("u %x lifts but got no table", u)
			}
			continue
		}
		lifted++
		points = append(points, u)
	}
	if twist == 0 || lifted == 0 {
		t.Fatalf("random points: %d on the twist, %d lifted; want some of each", twist, lifted)
	}
	for range 16 {
		priv, _ := ecdh.X25519().GenerateKey(rand.Reader)
		pub := priv.PublicKey().Bytes()
		points = append(points, pub)
		// The same point with the high bit set, which RFC 7748 ignores.
		points = append(points, append(pub[:31:31], pub[31]|0x80))
		// The full group: plus each point of small order that lifts.
		p, ok := lift(pub)
		if !ok {
			t.Fatalf("public key %x does not lift", pub)
		}
		for _, h := range lowOrder {
			lo, _ := hex.DecodeString(h)
			if q, ok := lift(lo); ok {
				points = append(points, new(edwards25519.Point).Add(p, q).BytesMontgomery())
			}
		}
	}
	small := make([]byte, 32)
	small[0] = 9
	scalars := [][]byte{make([]byte, 32), bytes.Repeat([]byte{0xff}, 32), small, append(make([]byte, 31), 0x40)}
	for range 32 {
		s := make([]byte, 32)
		rand.Read(s)
		scalars = append(scalars, s)
	}
	tables := 0
	for _, p := range points {
		if newPointTable((*[32]byte)(p)) != nil {
			tables++
		}
		r := recipientOf(p)
		for _, s := range scalars {
			checkExchangeOf(t, r, s)
		}
	}
	if tables < len(points)/2 {
		t.Fatalf("%d of %d points got a table", tables, len(points))
	}
}

// FuzzMults: for any scalar and point, the fixed-base share and the ladder
// equal crypto/ecdh's.
func FuzzMults(f *testing.F) {
	f.Add(make([]byte, 32), make([]byte, 32))
	f.Add(bytes.Repeat([]byte{0xff}, 32), bytes.Repeat([]byte{0xff}, 32))
	f.Add([]byte("scalar"), []byte{9})
	f.Fuzz(func(t *testing.T, scalarSeed, pointSeed []byte) {
		var s, p [32]byte
		copy(s[:], scalarSeed)
		copy(p[:], pointSeed)
		priv, err := ecdh.X25519().NewPrivateKey(s[:])
		if err != nil {
			t.Fatal(err)
		}
		var share, got [32]byte
		baseMult(&share, &s)
		if !bytes.Equal(share[:], priv.PublicKey().Bytes()) {
			t.Fatalf("fixed-base share %x, crypto/ecdh %x", share, priv.PublicKey().Bytes())
		}
		scalarMult(&got, &s, &p)
		want, ok := ecdhMult(t, s[:], p[:])
		if !ok {
			want = make([]byte, 32)
		}
		if !bytes.Equal(got[:], want) {
			t.Fatalf("ladder %x, crypto/ecdh %x", got, want)
		}
		checkExchange(t, s[:], p[:])
	})
}

// BenchmarkMults compares each multiplication with what crypto/ecdh runs
// for it: the fixed-base share with GenerateKey (a ladder on the
// basepoint), the ladder with ECDH.
func BenchmarkMults(b *testing.B) {
	var s, point, out [32]byte
	rand.Read(s[:])
	peer, _ := ecdh.X25519().GenerateKey(rand.Reader)
	copy(point[:], peer.PublicKey().Bytes())
	priv, _ := ecdh.X25519().NewPrivateKey(s[:])
	b.Run("share/ecdh.GenerateKey", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ecdh.X25519().GenerateKey(rand.Reader); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("share/fixed-base", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			baseMult(&out, &s)
		}
	})
	b.Run("shared/ecdh.ECDH", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := priv.ECDH(peer.PublicKey()); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("shared/ladder", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			scalarMult(&out, &s, &point)
		}
	})
	table := newPointTable(&point)
	b.Run("shared/point-table", func(b *testing.B) {
		b.ReportAllocs()
		var num, den field.Element
		for b.Loop() {
			table.mult(&num, &den, &s)
			copy(out[:], num.Multiply(&num, den.Invert(&den)).Bytes())
		}
	})
	r := recipientOf(point[:])
	var share [32]byte
	b.Run("both/exchange", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			r.exchange(&share, &out, &s)
		}
	})
	b.Run("both/share+ladder", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			baseMult(&share, &s)
			scalarMult(&out, &s, &point)
		}
	})
	b.Run("table/build", func(b *testing.B) {
		for b.Loop() {
			newPointTable(&point)
		}
	})
}
