package x25519

import (
	"bytes"
	"crypto/ecdh"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"strings"
	"testing"

	"filippo.io/age"
	"golang.org/x/crypto/chacha20poly1305"
	"golang.org/x/crypto/curve25519"
	xhkdf "golang.org/x/crypto/hkdf"
)

// encodeBech32 is BIP 173's encoder, for making age strings from raw keys.
func encodeBech32(hrp string, data []byte) string {
	var values []byte
	var acc uint32
	var bits uint
	for _, b := range data {
		acc = acc<<8 | uint32(b)
		bits += 8
		for bits >= 5 {
			bits -= 5
			values = append(values, byte(acc>>bits)&31)
		}
	}
	if bits > 0 {
		values = append(values, byte(acc<<(5-bits))&31)
	}
	lower := strings.ToLower(hrp)
	mod := bech32Polymod(lower, append(values, 0, 0, 0, 0, 0, 0)) ^ 1
	var sb strings.Builder
	sb.WriteString(lower)
	sb.WriteByte('1')
	for _, v := range values {
		sb.WriteByte(bech32Charset[v])
	}
	for i := range 6 {
		sb.WriteByte(bech32Charset[(mod>>(5*(5-i)))&31])
	}
	if hrp != lower {
		return strings.ToUpper(sb.String())
	}
	return sb.String()
}

// recipientString is the age encoding of a raw X25519 public key.
func recipientString(pub []byte) string { return encodeBech32("age", pub) }

// identityFromScalar is the upstream identity for a raw scalar.
func identityFromScalar(t testing.TB, scalar []byte) *age.X25519Identity {
	t.Helper()
	id, err := age.ParseX25519Identity(encodeBech32("AGE-SECRET-KEY-", scalar))
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// scalarOf reads an upstream identity's raw scalar back from its encoding.
func scalarOf(t testing.TB, id *age.X25519Identity) []byte {
	t.Helper()
	hrp, k, err := decodeBech32(id.String())
	if err != nil || hrp != "age-secret-key-" || len(k) != 32 {
		t.Fatalf("cannot decode identity: hrp %q, %d bytes, %v", hrp, len(k), err)
	}
	return k
}

// newPair is an upstream identity and this package's recipient for it.
func newPair(t testing.TB) (*age.X25519Identity, *Recipient) {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	r, err := ParseRecipient(id.Recipient().String())
	if err != nil {
		t.Fatal(err)
	}
	return id, r
}

// withScalar returns a copy of r that uses scalar as its next ephemeral key.
func withScalar(r *Recipient, scalar []byte) *Recipient {
	c := *r
	c.rand = bytes.NewReader(bytes.Clone(scalar))
	return &c
}

// referenceStanza computes the X25519 stanza step by step as the age
// specification writes it, on golang.org/x/crypto's curve25519 and hkdf
// (the primitives upstream age uses), independently of this package:
//
//	ephemeral share = X25519(ephemeral secret, basepoint)
//	shared secret   = X25519(ephemeral secret, recipient)   (all zero: error)
//	salt            = ephemeral share || recipient
//	wrap key        = HKDF-SHA-256(ikm = shared secret, salt, info = "age-encryption.org/v1/X25519")
//	body            = ChaCha20-Poly1305(key = wrap key, nonce = 0, plaintext = file key)
//	stanza          = "-> X25519 " || base64(ephemeral share), body
func referenceStanza(scalar, recipient, fileKey []byte) (*age.Stanza, error) {
	share, err := curve25519.X25519(scalar, curve25519.Basepoint)
	if err != nil {
		return nil, err
	}
	shared, err := curve25519.X25519(scalar, recipient)
	if err != nil {
		return nil, err
	}
	if bytes.Equal(shared, make([]byte, 32)) {
		return nil, errors.New("all-zero shared secret")
	}
	salt := append(append([]byte{}, share...), recipient...)
	key := make([]byte, 32)
	if _, err := io.ReadFull(xhkdf.New(sha256.New, shared, salt, []byte("age-encryption.org/v1/X25519")), key); err != nil {
		return nil, err
	}
	aead, err := chacha20poly1305.New(key)
	if err != nil {
		return nil, err
	}
	body := aead.Seal(nil, make([]byte, 12), fileKey, nil)
	return &age.Stanza{Type: "X25519", Args: []string{base64.RawStdEncoding.EncodeToString(share)}, Body: body}, nil
}

// unwrapStanza is the receiving side of the exchange on crypto/ecdh and this
// package's key derivation: it opens an X25519 stanza with a raw scalar.
func unwrapStanza(scalar []byte, s *age.Stanza) ([]byte, error) {
	if s.Type != "X25519" || len(s.Args) != 1 {
		return nil, errors.New("not an X25519 stanza")
	}
	share, err := base64.RawStdEncoding.Strict().DecodeString(s.Args[0])
	if err != nil || len(share) != 32 {
		return nil, errors.New("invalid share")
	}
	priv, err := ecdh.X25519().NewPrivateKey(scalar)
	if err != nil {
		return nil, err
	}
	pub, err := ecdh.X25519().NewPublicKey(share)
	if err != nil {
		return nil, err
	}
	shared, err := priv.ECDH(pub)
	if err != nil {
		return nil, err
	}
	key, err := wrappingKey(shared, share, priv.PublicKey().Bytes())
	if err != nil {
		return nil, err
	}
	aead, err := chacha20poly1305.New(key)
	if err != nil {
		return nil, err
	}
	if len(s.Body) != 16+aead.Overhead() {
		return nil, errors.New("wrong body size")
	}
	return aead.Open(nil, make([]byte, 12), s.Body, nil)
}

func stanzasEqual(a, b *age.Stanza) bool {
	if a.Type != b.Type || len(a.Args) != len(b.Args) || !bytes.Equal(a.Body, b.Body) {
		return false
	}
	for i := range a.Args {
		if a.Args[i] != b.Args[i] {
			return false
		}
	}
	return true
}
