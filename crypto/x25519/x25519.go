// Package x25519 is an age X25519 recipient built directly on crypto/ecdh.
//
// It writes exactly the stanza of the age specification
// (https://age-encryption.org/v1, "The X25519 recipient type"), so files
// sealed with it are opened by any age implementation with the matching
// X25519 identity, but at about a third of the cost of filippo.io/age's own
// recipient: upstream computes curve25519.X25519 twice (the ephemeral share,
// then the shared secret), and each call also derives a public key it throws
// away, four variable-base scalar multiplications in all. Here the share is
// one fixed-base multiplication on edwards25519's precomputed tables, mapped
// to Montgomery form (as libsodium does), and the shared secret one
// Montgomery ladder while the recipient is new; once it has wrapped a few
// file keys, the shared secret is a fixed-base multiplication too, on tables
// of the recipient's own point (fixedbase.go), and both results share one
// field inversion: about half the cost of the share and the ladder. Seal
// writes a whole age file to such recipients, the file age.Encrypt writes,
// in one buffer.
//
// What it protects: the file key of an age file, so that only the holder of
// the recipient's identity can open the file. It holds only public keys. It
// rejects an all-zero shared secret (a low-order recipient key), as the
// specification requires, so that a hostile "recipient" cannot make the
// wrapping key predictable. The ephemeral scalar is 32 bytes of crypto/rand,
// used for one stanza only and cleared after it.
package x25519

import (
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"

	"filippo.io/age"
	"filippo.io/edwards25519/field"
	"golang.org/x/crypto/chacha20poly1305"
)

// label is the HKDF info string of the X25519 recipient type.
const label = "age-encryption.org/v1/X25519"

// stanzaType is the first argument of the stanza line.
const stanzaType = "X25519"

// Recipient seals age file keys to one X25519 public key. It implements
// age.Recipient and is interchangeable with age.X25519Recipient.
type Recipient struct {
	point   [32]byte // the public key, for the ladder
	key     []byte   // the public key, the salt's second half
	encoded string
	table   *lazyTable

	// rand, if set, supplies the ephemeral scalar instead of crypto/rand.
	// Tests only: it lets them compare a stanza with one computed step by
	// step from the specification.
	rand io.Reader
}

var _ age.Recipient = (*Recipient)(nil)

// ParseRecipient parses an X25519 recipient in age's Bech32 encoding
// ("age1..."). It accepts exactly what age.ParseX25519Recipient accepts.
// Its errors never quote the input, which may be a secret key pasted in the
// wrong place.
func ParseRecipient(s string) (*Recipient, error) {
	up, err := age.ParseX25519Recipient(s)
	if err != nil {
		return nil, fmt.Errorf("malformed X25519 recipient: %s", whyMalformed(s))
	}
	// age has checked the encoding (checksum, type, length); read the key
	// bytes back from its canonical form.
	canonical := up.String()
	hrp, key, err := decodeBech32(canonical)
	if err != nil || hrp != "age" {
		return nil, fmt.Errorf("malformed recipient %q", s)
	}
	return newRecipient(key, canonical)
}

// whyMalformed explains, without quoting it, why s is not a recipient.
func whyMalformed(s string) string {
	hrp, key, err := decodeBech32(s)
	switch {
	case err != nil:
		return err.Error()
	case hrp != "age" || s[:3] != "age":
		return "not of type age1"
	case len(key) != 32:
		return fmt.Sprintf("key is %d bytes, want 32", len(key))
	}
	return "rejected by age"
}

func newRecipient(key []byte, encoded string) (*Recipient, error) {
	pub, err := ecdh.X25519().NewPublicKey(key)
	if err != nil {
		return nil, fmt.Errorf("invalid X25519 public key: %w", err)
	}
	r := &Recipient{key: pub.Bytes(), encoded: encoded, table: new(lazyTable)}
	copy(r.point[:], r.key)
	return r, nil
}

// lazyTable is a recipient's point table (fixedbase.go), built once the
// recipient has wrapped tableAfter file keys with the ladder: the table
// costs about as much as 25 ladders, which a recipient parsed for one
// note or one transfer would never win back; a gateway's recipients win it
// back within a minute of tips.
type lazyTable struct {
	uses atomic.Uint32
	once sync.Once
	t    *pointTable
}

const tableAfter = 32

func (r *Recipient) pointTable() *pointTable {
	if r.table.uses.Load() < tableAfter {
		r.table.uses.Add(1)
		return nil
	}
	r.table.once.Do(func() { r.table.t = newPointTable(&r.point) })
	return r.table.t
}

// exchange computes the ephemeral share and the shared secret of scalar.
// With the recipient's point table both are fixed-base multiplications,
// mapped to Montgomery form with one inversion between them (Montgomery's
// trick: neither denominator is zero, the share being a multiple of the
// basepoint and the secret a multiple of a point of prime order, both by
// scalars below the group order and above zero); else the share is one
// and the secret the ladder.
func (r *Recipient) exchange(share, shared, scalar *[32]byte) {
	t := r.pointTable()
	if t == nil {
		baseMult(share, scalar)
		scalarMult(shared, scalar, &r.point)
		return
	}
	var n1, d1, n2, d2, inv, u field.Element
	baseMultFraction(&n1, &d1, scalar)
	t.mult(&n2, &d2, scalar)
	inv.Multiply(&d1, &d2)
	inv.Invert(&inv)
	u.Multiply(&n1, u.Multiply(&inv, &d2))
	copy(share[:], u.Bytes())
	u.Multiply(&n2, u.Multiply(&inv, &d1))
	copy(shared[:], u.Bytes())
	u.Zero()
}

// String returns the recipient in age's Bech32 encoding.
func (r *Recipient) String() string { return r.encoded }

// Wrap encrypts the file key to the recipient, as one X25519 stanza:
//
//	-> X25519 base64(share)
//	base64(ChaCha20-Poly1305(wrapKey, zero nonce, fileKey))
//
// where share = X25519(e, basepoint) for a fresh scalar e, and wrapKey =
// HKDF-SHA-256(ikm = X25519(e, recipient), salt = share || recipient,
// info = "age-encryption.org/v1/X25519").
func (r *Recipient) Wrap(fileKey []byte) ([]*age.Stanza, error) {
	var scalar, share, shared [32]byte
	defer clear(scalar[:])
	defer clear(shared[:])
	if err := r.ephemeral(&scalar); err != nil {
		return nil, fmt.Errorf("failed to generate ephemeral X25519 key: %w", err)
	}
	r.exchange(&share, &shared, &scalar)
	if shared == [32]byte{} {
		return nil, errors.New("invalid X25519 recipient: low-order public key")
	}
	body, err := wrapFileKey(shared[:], share[:], r.key, fileKey)
	if err != nil {
		return nil, err
	}
	return []*age.Stanza{{
		Type: stanzaType,
		Args: []string{base64.RawStdEncoding.EncodeToString(share[:])},
		Body: body,
	}}, nil
}

// ephemeral draws the ephemeral scalar: 32 bytes, clamped where they are
// used (as ecdh.GenerateKey draws them).
func (r *Recipient) ephemeral(scalar *[32]byte) error {
	if r.rand == nil {
		rand.Read(scalar[:]) // never fails (crypto/rand since Go 1.24)
		return nil
	}
	_, err := io.ReadFull(r.rand, scalar[:])
	return err
}

// wrapFileKey seals fileKey under the key derived from one X25519 exchange.
func wrapFileKey(shared, share, recipient, fileKey []byte) ([]byte, error) {
	key, err := wrappingKey(shared, share, recipient)
	if err != nil {
		return nil, err
	}
	defer clear(key)
	aead, err := chacha20poly1305.New(key)
	if err != nil {
		return nil, fmt.Errorf("failed to wrap file key: %w", err)
	}
	// A zero nonce is safe: the key is used once, being derived from a
	// fresh ephemeral share (the specification fixes the nonce).
	var nonce [chacha20poly1305.NonceSize]byte
	return aead.Seal(nil, nonce[:], fileKey, nil), nil
}

// wrappingKey is the specification's key derivation, shared by both sides of
// the exchange (the tests open the C2SP vectors' stanzas with it).
func wrappingKey(shared, share, recipient []byte) ([]byte, error) {
	salt := make([]byte, 0, len(share)+len(recipient))
	salt = append(salt, share...)
	salt = append(salt, recipient...)
	key, err := hkdf.Key(sha256.New, shared, salt, label, chacha20poly1305.KeySize)
	if err != nil {
		return nil, fmt.Errorf("failed to derive wrapping key: %w", err)
	}
	return key, nil
}

// bech32Charset is BIP 173's alphabet.
const bech32Charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"

// decodeBech32 decodes a Bech32 string (BIP 173, without the 90-character
// limit, as age uses it), checking its checksum.
func decodeBech32(s string) (hrp string, data []byte, err error) {
	if strings.ToLower(s) != s && strings.ToUpper(s) != s {
		return "", nil, errors.New("mixed case")
	}
	s = strings.ToLower(s)
	pos := strings.LastIndexByte(s, '1')
	if pos < 1 || pos+7 > len(s) {
		return "", nil, errors.New("separator '1' at invalid position")
	}
	hrp = s[:pos]
	for _, c := range []byte(hrp) {
		if c < 33 || c > 126 {
			return "", nil, errors.New("invalid character in human-readable part")
		}
	}
	values := make([]byte, 0, len(s)-pos-1)
	for _, c := range []byte(s[pos+1:]) {
		v := strings.IndexByte(bech32Charset, c)
		if v < 0 {
			return "", nil, errors.New("invalid character in data part")
		}
		values = append(values, byte(v))
	}
	if bech32Polymod(hrp, values) != 1 {
		return "", nil, errors.New("invalid checksum")
	}
	data, err = convertBits(values[:len(values)-6])
	if err != nil {
		return "", nil, err
	}
	return hrp, data, nil
}

func bech32Polymod(hrp string, values []byte) uint32 {
	gen := [5]uint32{0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3}
	chk := uint32(1)
	step := func(v byte) {
		top := chk >> 25
		chk = (chk&0x1ffffff)<<5 ^ uint32(v)
		for i := range 5 {
			if (top>>i)&1 == 1 {
				chk ^= gen[i]
			}
		}
	}
	for i := range len(hrp) {
		step(hrp[i] >> 5)
	}
	step(0)
	for i := range len(hrp) {
		step(hrp[i] & 31)
	}
	for _, v := range values {
		step(v)
	}
	return chk
}

// convertBits regroups 5-bit values into bytes, rejecting non-zero or
// overlong padding.
func convertBits(values []byte) ([]byte, error) {
	var acc uint32
	var bits uint
	out := make([]byte, 0, len(values)*5/8)
	for _, v := range values {
		acc = acc<<5 | uint32(v)
		bits += 5
		for bits >= 8 {
			bits -= 8
			out = append(out, byte(acc>>bits))
		}
	}
	if bits >= 5 || acc&(1<<bits-1) != 0 {
		return nil, errors.New("invalid padding")
	}
	return out, nil
}
