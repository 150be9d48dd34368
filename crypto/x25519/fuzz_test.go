package x25519

import (
	"bytes"
	"crypto/ecdh"
	"testing"

	"filippo.io/age"
	"github.com/hotline-org/hotline/crypto/internal/upstream"
)

// fuzzKeys turns fuzz input into an identity scalar, an ephemeral scalar and
// a 16-byte file key (age's file keys are 16 bytes; upstream's unwrap
// accepts nothing else).
func fuzzKeys(idSeed, ephSeed, fileKeySeed []byte) (id, eph, fileKey []byte) {
	pad := func(b []byte, n int) []byte {
		out := make([]byte, n)
		copy(out, b)
		return out
	}
	return pad(idSeed, 32), pad(ephSeed, 32), pad(fileKeySeed, 16)
}

// FuzzRoundTrip checks both directions against upstream age, for any keys:
//
//   - this package's Wrap (with the fuzzed ephemeral scalar) equals the
//     specification's reference stanza, upstream's X25519Identity unwraps it
//     to the file key, and upstream age.Decrypt opens a whole file sealed
//     with it;
//   - upstream's X25519Recipient wraps, and this package's key derivation on
//     crypto/ecdh unwraps to the same file key; a whole file sealed by
//     upstream decrypts.
func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte("identity"), []byte("ephemeral"), []byte("YELLOW SUBMARINE"), []byte("tip"))
	f.Add(make([]byte, 32), make([]byte, 32), make([]byte, 16), []byte{})
	f.Add(bytes.Repeat([]byte{0xff}, 32), bytes.Repeat([]byte{0xff}, 32), bytes.Repeat([]byte{0xff}, 16), bytes.Repeat([]byte("x"), 70000))
	f.Fuzz(func(t *testing.T, idSeed, ephSeed, fileKeySeed, plaintext []byte) {
		idScalar, eph, fileKey := fuzzKeys(idSeed, ephSeed, fileKeySeed)
		id := identityFromScalar(t, idScalar)
		priv, err := ecdh.X25519().NewPrivateKey(idScalar)
		if err != nil {
			t.Fatal(err)
		}
		r, err := ParseRecipient(id.Recipient().String())
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(r.key, priv.PublicKey().Bytes()) {
			t.Fatal("parsed key differs from the identity's public key")
		}

		// Ours to upstream.
		ss, err := withScalar(r, eph).Wrap(fileKey)
		if err != nil {
			t.Fatal(err) // a real public key never gives an all-zero secret
		}
		want, err := referenceStanza(eph, r.key, fileKey)
		if err != nil || !stanzasEqual(ss[0], want) {
			t.Fatalf("stanza differs from the reference (%v)", err)
		}
		got, err := id.Unwrap(ss)
		if err != nil || !bytes.Equal(got, fileKey) {
			t.Fatalf("upstream unwrap: %x, %v", got, err)
		}
		file := upstream.Encrypt(t, plaintext, r)
		out, err := upstream.Decrypt(file, id)
		if err != nil || !bytes.Equal(out, plaintext) {
			t.Fatalf("upstream decrypt: %v", err)
		}
		// The same through this package's file writer, on the ladder and on
		// the point table.
		for _, rr := range []*Recipient{r, warm(recipientOf(r.key))} {
			rr.key, rr.encoded = r.key, r.encoded
			file, err := Seal(plaintext, rr)
			if err != nil {
				t.Fatal(err)
			}
			if out, err := upstream.Decrypt(file, id); err != nil || !bytes.Equal(out, plaintext) {
				t.Fatalf("upstream decrypt of Seal's file: %v", err)
			}
		}

		// Upstream to ours.
		up := id.Recipient()
		uss, err := up.Wrap(fileKey)
		if err != nil {
			t.Fatal(err)
		}
		got, err = unwrapStanza(idScalar, uss[0])
		if err != nil || !bytes.Equal(got, fileKey) {
			t.Fatalf("unwrapping upstream's stanza: %x, %v", got, err)
		}
		out, err = upstream.Decrypt(upstream.Encrypt(t, plaintext, up, r), id)
		if err != nil || !bytes.Equal(out, plaintext) {
			t.Fatalf("decrypting a file sealed by both: %v", err)
		}
	})
}

// FuzzParseRecipient checks that ParseRecipient accepts exactly what upstream
// accepts, never quotes its input in an error, and reads the same key.
func FuzzParseRecipient(f *testing.F) {
	f.Add("age1xnrmy86mfwae2dkrmd80py28r9xcqhx5d36gvqv2f7c80cr9zfxq4mj8hd")
	f.Add("age1ggr2chhwl3yr9fdqvr5h8pyn7kyr6730j5tnavev57c48mw96dhqx2rra9")
	f.Add("AGE-SECRET-KEY-1EGTZVFFV20835NWYV6270LXYVK2VKNX2MMDKWYKLMGR48UAWX40Q2P2LM0")
	f.Add("age1")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		up, upErr := age.ParseX25519Recipient(s)
		r, err := ParseRecipient(s)
		if (err == nil) != (upErr == nil) {
			t.Fatalf("err = %v, upstream err = %v", err, upErr)
		}
		if err != nil {
			if len(s) > 3 && bytes.Contains([]byte(err.Error()), []byte(s)) {
				t.Fatalf("error %q quotes its input", err)
			}
			return
		}
		if r.String() != up.String() {
			t.Fatalf("String() = %q, upstream %q", r.String(), up.String())
		}
		if recipientString(r.key) != up.String() {
			t.Fatal("decoded key does not encode back to upstream's")
		}
	})
}
