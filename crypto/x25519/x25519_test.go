package x25519

import (
	"bytes"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	mathrand "math/rand/v2"
	"regexp"
	"strings"
	"sync"
	"testing"
	"testing/cryptotest"

	"filippo.io/age"
	"github.com/hotline-org/hotline/crypto/internal/upstream"
)

// Upstream age decrypts what this recipient seals: many sizes around the
// 64 KiB chunk boundary and random ones, with the identity of each recipient.
func TestUpstreamDecrypts(t *testing.T) {
	ids := make([]*age.X25519Identity, 3)
	rs := make([]*Recipient, 3)
	for i := range ids {
		ids[i], rs[i] = newPair(t)
	}
	sizes := []int{0, 1, 15, 16, 17, 1023, 1024, 64<<10 - 1, 64 << 10, 64<<10 + 1, 128 << 10, 200<<10 + 7}
	rng := mathrand.New(mathrand.NewPCG(1, 2))
	for range 40 {
		sizes = append(sizes, rng.IntN(300<<10))
	}
	for _, size := range sizes {
		plaintext := make([]byte, size)
		rand.Read(plaintext)
		t.Run(fmt.Sprintf("size=%d/one", size), func(t *testing.T) {
			file := upstream.Encrypt(t, plaintext, rs[0])
			got, err := upstream.Decrypt(file, ids[0])
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, plaintext) {
				t.Fatal("plaintext differs")
			}
		})
		t.Run(fmt.Sprintf("size=%d/three", size), func(t *testing.T) {
			file := upstream.Encrypt(t, plaintext, rs[0], rs[1], rs[2])
			for i, id := range ids {
				got, err := upstream.Decrypt(file, id)
				if err != nil {
					t.Fatalf("identity %d: %v", i, err)
				}
				if !bytes.Equal(got, plaintext) {
					t.Fatalf("identity %d: plaintext differs", i)
				}
			}
		})
	}
}

// This recipient and upstream's mix in one file, in any order, and each
// identity opens it; an identity that is not a recipient does not.
func TestMixedWithUpstream(t *testing.T) {
	fastID, fast := newPair(t)
	upID, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	fast2ID, fast2 := newPair(t)
	plaintext := []byte("a tip, sealed to three keys by two implementations")
	orders := map[string][]age.Recipient{
		"fast-up-fast": {fast, upID.Recipient(), fast2},
		"up-fast-fast": {upID.Recipient(), fast, fast2},
		"fast-fast-up": {fast2, fast, upID.Recipient()},
	}
	for name, rs := range orders {
		t.Run(name, func(t *testing.T) {
			file := upstream.Encrypt(t, plaintext, rs...)
			for i, id := range []age.Identity{fastID, upID, fast2ID} {
				got, err := upstream.Decrypt(file, id)
				if err != nil {
					t.Fatalf("identity %d: %v", i, err)
				}
				if !bytes.Equal(got, plaintext) {
					t.Fatalf("identity %d: plaintext differs", i)
				}
			}
			stranger, _ := age.GenerateX25519Identity()
			_, err := upstream.Decrypt(file, stranger)
			if _, ok := errors.AsType[*age.NoIdentityMatchError](err); !ok {
				t.Fatalf("a stranger's identity: err = %v, want NoIdentityMatchError", err)
			}
		})
	}
}

// stanzaLine is the spec's X25519 stanza in a file's header: the share as 43
// characters of unpadded standard base64 (32 bytes), the body as one line of
// 43 (32 bytes: a 16-byte file key and a 16-byte tag), lines ending in LF.
var stanzaLine = regexp.MustCompile(`^-> X25519 [A-Za-z0-9+/]{43}\n[A-Za-z0-9+/]{43}\n$`)

// The stanza has exactly the specification's shape, as a value and as the
// bytes age writes into a file's header, the same as upstream's.
func TestStanzaFormat(t *testing.T) {
	id, r := newPair(t)
	for range 200 {
		fileKey := make([]byte, 16)
		rand.Read(fileKey)
		ss, err := r.Wrap(fileKey)
		if err != nil {
			t.Fatal(err)
		}
		if len(ss) != 1 {
			t.Fatalf("%d stanzas, want 1", len(ss))
		}
		s := ss[0]
		if s.Type != "X25519" || len(s.Args) != 1 || len(s.Args[0]) != 43 {
			t.Fatalf("stanza type %q args %q", s.Type, s.Args)
		}
		share, err := base64.RawStdEncoding.Strict().DecodeString(s.Args[0])
		if err != nil || len(share) != 32 {
			t.Fatalf("share %q: %d bytes, %v", s.Args[0], len(share), err)
		}
		if base64.RawStdEncoding.EncodeToString(share) != s.Args[0] {
			t.Fatal("share is not canonical base64")
		}
		if len(s.Body) != 32 {
			t.Fatalf("body is %d bytes, want 32", len(s.Body))
		}
		got, err := id.Unwrap(ss)
		if err != nil || !bytes.Equal(got, fileKey) {
			t.Fatalf("upstream unwrap: %x, %v", got, err)
		}
	}

	for name, rec := range map[string]age.Recipient{"fast": r, "upstream": id.Recipient()} {
		t.Run("header/"+name, func(t *testing.T) {
			file := upstream.Encrypt(t, []byte("x"), rec, rec)
			header, _, ok := bytes.Cut(file, []byte("\n--- "))
			if !ok {
				t.Fatal("no header MAC line")
			}
			lines := strings.SplitAfter(string(header)+"\n", "\n")
			if lines[0] != "age-encryption.org/v1\n" || len(lines) != 6 || lines[5] != "" {
				t.Fatalf("header %q", header)
			}
			for i := 1; i < 5; i += 2 {
				if st := lines[i] + lines[i+1]; !stanzaLine.MatchString(st) {
					t.Errorf("stanza %q is not in the spec's format", st)
				}
			}
		})
	}
}

// With a fixed ephemeral scalar, the stanza equals the one computed step by
// step from the specification, for the RFC 7748 test keys and random ones.
func TestWrapMatchesReference(t *testing.T) {
	// RFC 7748, section 6.1: Alice's private key and Bob's public key.
	alice, _ := hex.DecodeString("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
	bob, _ := hex.DecodeString("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")
	wantShare, _ := hex.DecodeString("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")
	wantShared, _ := hex.DecodeString("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742")

	type tc struct{ scalar, recipient []byte }
	cases := []tc{{alice, bob}}
	for range 100 {
		s, p := make([]byte, 32), make([]byte, 32)
		rand.Read(s)
		priv, _ := ecdh.X25519().GenerateKey(rand.Reader)
		copy(p, priv.PublicKey().Bytes())
		cases = append(cases, tc{s, p})
	}
	for i, c := range cases {
		// A recipient new (the ladder) and one past its first wraps (its
		// point table).
		for _, warmed := range []bool{false, true} {
			r, err := ParseRecipient(recipientString(c.recipient))
			if err != nil {
				t.Fatal(err)
			}
			if warmed {
				warm(r)
			}
			for _, fileKey := range [][]byte{make([]byte, 16), bytes.Repeat([]byte{0xff}, 16), []byte("YELLOW SUBMARINE")} {
				got, err := withScalar(r, c.scalar).Wrap(fileKey)
				if err != nil {
					t.Fatal(err)
				}
				want, err := referenceStanza(c.scalar, c.recipient, fileKey)
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != 1 || !stanzasEqual(got[0], want) {
					t.Fatalf("case %d (table %v): stanza\n%+v\nwant\n%+v", i, warmed, got[0], want)
				}
			}
			if warmed != (r.table.t != nil) {
				t.Fatalf("case %d: warmed %v, table built %v", i, warmed, r.table.t != nil)
			}
		}
	}

	// The RFC's known answers, to show the reference itself is right.
	share, _ := base64.RawStdEncoding.DecodeString(mustWrap(t, alice, bob).Args[0])
	if !bytes.Equal(share, wantShare) {
		t.Errorf("share %x, want RFC 7748's %x", share, wantShare)
	}
	priv, _ := ecdh.X25519().NewPrivateKey(alice)
	pub, _ := ecdh.X25519().NewPublicKey(bob)
	if shared, _ := priv.ECDH(pub); !bytes.Equal(shared, wantShared) {
		t.Errorf("shared secret %x, want RFC 7748's %x", shared, wantShared)
	}
}

func mustWrap(t *testing.T, scalar, recipient []byte) *age.Stanza {
	t.Helper()
	r, err := ParseRecipient(recipientString(recipient))
	if err != nil {
		t.Fatal(err)
	}
	ss, err := withScalar(r, scalar).Wrap([]byte("YELLOW SUBMARINE"))
	if err != nil {
		t.Fatal(err)
	}
	return ss[0]
}

// The production path (32 bytes of crypto/rand as the scalar) computes the
// same stanza as the reference for the scalar it drew. SetGlobalRandom makes
// crypto/rand deterministic, so the scalar can be drawn again after the
// fact.
func TestWrapProductionPathMatchesReference(t *testing.T) {
	_, r := newPair(t)
	fileKey := []byte("YELLOW SUBMARINE")
	// Through the wraps with the ladder and on to the point table.
	for seed := range uint64(tableAfter + 20) {
		if built := r.table.t != nil; built != (seed > tableAfter) {
			t.Fatalf("wrap %d: point table built %v", seed, built)
		}
		cryptotest.SetGlobalRandom(t, seed)
		got, err := r.Wrap(fileKey)
		if err != nil {
			t.Fatal(err)
		}
		cryptotest.SetGlobalRandom(t, seed)
		scalar := make([]byte, 32)
		rand.Read(scalar)
		want, err := referenceStanza(scalar, r.key, fileKey)
		if err != nil {
			t.Fatal(err)
		}
		if !stanzasEqual(got[0], want) {
			t.Fatalf("seed %d: Wrap did not use the 32 bytes it read as the scalar, or the stanza differs", seed)
		}
	}
}

// Every stanza has a fresh share and a different body.
func TestWrapIsFresh(t *testing.T) {
	_, r := newPair(t)
	seen := map[string]bool{}
	for range 1000 {
		ss, err := r.Wrap([]byte("YELLOW SUBMARINE"))
		if err != nil {
			t.Fatal(err)
		}
		if seen[ss[0].Args[0]] || seen[string(ss[0].Body)] {
			t.Fatal("a share or body repeated")
		}
		seen[ss[0].Args[0]], seen[string(ss[0].Body)] = true, true
	}
}

// lowOrder are the points of small order on Curve25519 and their
// non-canonical encodings: X25519 with any scalar gives the all-zero secret.
var lowOrder = []string{
	"0000000000000000000000000000000000000000000000000000000000000000",
	"0100000000000000000000000000000000000000000000000000000000000000",
	"e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
	"5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
	"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
}

// A low-order recipient key is rejected (all-zero shared secret), as by
// upstream, and the reference agrees.
func TestRejectsAllZeroSharedSecret(t *testing.T) {
	for _, h := range lowOrder {
		key, _ := hex.DecodeString(h)
		s := recipientString(key)
		up, err := age.ParseX25519Recipient(s)
		if err != nil {
			t.Fatalf("%s: upstream parse: %v", h, err)
		}
		r, err := ParseRecipient(s)
		if err != nil {
			t.Fatalf("%s: parse: %v", h, err)
		}
		if ss, err := r.Wrap(make([]byte, 16)); err == nil {
			t.Errorf("%s: Wrap succeeded with %+v", h, ss[0])
		}
		if _, err := up.Wrap(make([]byte, 16)); err == nil {
			t.Errorf("%s: upstream Wrap succeeded", h)
		}
		scalar := make([]byte, 32)
		rand.Read(scalar)
		if _, err := referenceStanza(scalar, key, make([]byte, 16)); err == nil {
			t.Errorf("%s: reference succeeded", h)
		}
	}
}

// ParseRecipient accepts what upstream accepts and reads the same key.
func TestParseRecipient(t *testing.T) {
	id, r := newPair(t)
	if r.String() != id.Recipient().String() {
		t.Errorf("String() = %q, want %q", r.String(), id.Recipient().String())
	}
	priv, _ := ecdh.X25519().NewPrivateKey(scalarOf(t, id))
	if !bytes.Equal(r.key, priv.PublicKey().Bytes()) {
		t.Error("decoded key is not the identity's public key")
	}
	good := id.Recipient().String()
	bad := []string{
		"", "age1", good[:len(good)-1], good + "q", strings.ToUpper(good[:10]) + good[10:],
		good[:20] + "b" + good[21:], // 'b' is not in the alphabet
		good[:20] + flip(good[20]) + good[21:],
		"age1pq1" + good[4:], encodeBech32("age", make([]byte, 31)), encodeBech32("age", make([]byte, 33)),
		encodeBech32("agf", make([]byte, 32)), id.String(), strings.ToUpper(good),
	}
	for _, s := range bad {
		_, upErr := age.ParseX25519Recipient(s)
		_, err := ParseRecipient(s)
		if err == nil || upErr == nil {
			t.Errorf("%q: err = %v, upstream err = %v; want both to fail", s, err, upErr)
		}
		if err != nil && s != "" && strings.Contains(err.Error(), s) {
			t.Errorf("the error %q quotes its input", err)
		}
	}
}

func flip(c byte) string {
	if c == 'q' {
		return "p"
	}
	return "q"
}

// decodeBech32 agrees with age's encoder on random data of many lengths.
func TestBech32(t *testing.T) {
	for n := range 80 {
		data := make([]byte, n)
		rand.Read(data)
		s := encodeBech32("age", data)
		hrp, got, err := decodeBech32(s)
		if err != nil || hrp != "age" || !bytes.Equal(got, data) {
			t.Fatalf("n=%d: %q %x %v", n, hrp, got, err)
		}
	}
	id, _ := age.GenerateX25519Identity()
	if _, _, err := decodeBech32(id.String()); err != nil {
		t.Fatal(err)
	}
	if scalarOf(t, identityFromScalar(t, scalarOf(t, id))) == nil || identityFromScalar(t, scalarOf(t, id)).String() != id.String() {
		t.Fatal("identity does not round-trip through the test encoder")
	}
}

// TestWrapConcurrently: a recipient shared by concurrent intakes crosses to
// its point table while they wrap (the table built once, read by all):
// every stanza opens with the identity, and the table is built.
func TestWrapConcurrently(t *testing.T) {
	id, r := newPair(t)
	const workers, each = 8, 3 * tableAfter / 2
	var wg sync.WaitGroup
	stanzas := make(chan *age.Stanza, workers*each)
	for range workers {
		wg.Go(func() {
			for range each {
				ss, err := r.Wrap([]byte("YELLOW SUBMARINE"))
				if err != nil {
					t.Error(err)
					return
				}
				stanzas <- ss[0]
			}
		})
	}
	wg.Wait()
	close(stanzas)
	n := 0
	for s := range stanzas {
		n++
		if key, err := id.Unwrap([]*age.Stanza{s}); err != nil || string(key) != "YELLOW SUBMARINE" {
			t.Fatalf("stanza %d: %q, %v", n, key, err)
		}
	}
	if n != workers*each || r.pointTable() == nil {
		t.Fatalf("%d stanzas, table built %v", n, r.table.t != nil)
	}
}
