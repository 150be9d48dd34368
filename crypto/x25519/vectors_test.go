package x25519

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"io"
	"io/fs"
	"strings"
	"testing"

	agetest "c2sp.org/CCTV/age"
	"filippo.io/age"
	"filippo.io/age/armor"
	"github.com/hotline-org/hotline/crypto/internal/upstream"
)

// vector is one C2SP age test vector (https://c2sp.org/CCTV/age), read the
// way age's own testkit_test.go reads them.
type vector struct {
	name        string
	expect      string
	payloadHash *[32]byte
	fileKey     []byte
	identities  []age.Identity
	x25519      [][]byte // raw scalars of the X25519 identities
	armored     bool
	file        []byte
}

func readVectors(t *testing.T) []*vector {
	t.Helper()
	entries, err := fs.ReadDir(agetest.Vectors, ".")
	if err != nil {
		t.Fatal(err)
	}
	var vs []*vector
	for _, e := range entries {
		data, err := fs.ReadFile(agetest.Vectors, e.Name())
		if err != nil {
			t.Fatal(err)
		}
		vs = append(vs, parseVector(t, e.Name(), data))
	}
	if len(vs) < 50 {
		t.Fatalf("only %d vectors", len(vs))
	}
	return vs
}

func parseVector(t *testing.T, name string, data []byte) *vector {
	v := &vector{name: name, file: data}
	compressed := false
	for {
		line, rest, ok := bytes.Cut(v.file, []byte("\n"))
		if !ok {
			t.Fatalf("%s: no payload", name)
		}
		v.file = rest
		if len(line) == 0 {
			break
		}
		key, value, _ := strings.Cut(string(line), ": ")
		switch key {
		case "expect":
			v.expect = value
		case "payload":
			h, err := hex.DecodeString(value)
			if err != nil {
				t.Fatal(err)
			}
			v.payloadHash = (*[32]byte)(h)
		case "file key":
			h, err := hex.DecodeString(value)
			if err != nil {
				t.Fatal(err)
			}
			v.fileKey = h
		case "identity":
			if id, err := age.ParseX25519Identity(value); err == nil {
				v.identities = append(v.identities, id)
				v.x25519 = append(v.x25519, scalarOf(t, id))
				continue
			}
			id, err := age.ParseHybridIdentity(value)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			v.identities = append(v.identities, id)
		case "passphrase":
			id, err := age.NewScryptIdentity(value)
			if err != nil {
				t.Fatal(err)
			}
			v.identities = append(v.identities, id)
		case "armored":
			v.armored = true
		case "compressed":
			compressed = value == "zlib"
		case "comment":
		default:
			t.Fatalf("%s: unknown header key %q", name, key)
		}
	}
	if compressed {
		r, err := zlib.NewReader(bytes.NewReader(v.file))
		if err != nil {
			t.Fatal(err)
		}
		if v.file, err = io.ReadAll(r); err != nil {
			t.Fatal(err)
		}
	}
	return v
}

// rawStanzas reads the X25519 stanzas of a vector's header as they are
// written, without judging them (base64 is decoded later, strictly). Bodies
// are lines of 64 columns ending with a shorter one, as in the spec.
func rawStanzas(v *vector) []*age.Stanza {
	if v.armored {
		return nil
	}
	sc := bufio.NewScanner(bytes.NewReader(v.file))
	var out []*age.Stanza
	var cur *age.Stanza
	var body strings.Builder
	for sc.Scan() {
		line := sc.Text()
		switch {
		case cur != nil:
			body.WriteString(line)
			if len(line) < 64 {
				b, err := base64.RawStdEncoding.Strict().DecodeString(body.String())
				if err == nil {
					cur.Body = b
					out = append(out, cur)
				}
				cur = nil
				body.Reset()
			}
		case strings.HasPrefix(line, "-> "):
			f := strings.Split(line[3:], " ")
			if f[0] == "X25519" {
				cur = &age.Stanza{Type: f[0], Args: f[1:]}
			}
		case strings.HasPrefix(line, "---"):
			return out
		}
	}
	return out
}

// The C2SP age vectors pass:
//
//   - upstream age gives each vector its expected outcome (the harness reads
//     them right);
//   - every X25519 stanza of every vector opens, under crypto/ecdh and this
//     package's key derivation, to exactly what upstream's X25519Identity
//     unwraps from it, and fails where upstream fails (the low-order and
//     identity-point shares, non-canonical encodings, long file keys, bad
//     tags) — and on a vector that decrypts, to the vector's file key;
//   - for every vector that decrypts with an X25519 identity, its payload,
//     sealed again with this package's recipient for each of those identities
//     (and, as a second file, with upstream's recipient next to it), is
//     decrypted by upstream age to the same payload hash.
func TestVectors(t *testing.T) {
	var x25519Vectors, resealed, stanzas int
	for _, v := range readVectors(t) {
		t.Run(v.name, func(t *testing.T) {
			payload, ok := upstreamOutcome(t, v)
			if len(v.x25519) == 0 {
				return
			}
			x25519Vectors++

			for _, s := range rawStanzas(v) {
				stanzas++
				for i, scalar := range v.x25519 {
					ours, ourErr := unwrapStanza(scalar, s)
					theirs, theirErr := v.identities[identityIndex(v, i)].Unwrap([]*age.Stanza{s})
					if (ourErr == nil) != (theirErr == nil) || !bytes.Equal(ours, theirs) {
						t.Fatalf("stanza %q: ours %x (%v), upstream %x (%v)", s.Args, ours, ourErr, theirs, theirErr)
					}
					if ourErr == nil && ok && !bytes.Equal(ours, v.fileKey) {
						t.Fatalf("stanza %q opens to %x, want the vector's file key %x", s.Args, ours, v.fileKey)
					}
				}
			}

			if !ok || v.expect != "success" {
				return
			}
			for i, scalar := range v.x25519 {
				id := v.identities[identityIndex(v, i)].(*age.X25519Identity)
				r, err := ParseRecipient(id.Recipient().String())
				if err != nil {
					t.Fatal(err)
				}
				priv := identityFromScalar(t, scalar)
				for _, rs := range [][]age.Recipient{{r}, {id.Recipient(), r}} {
					file := upstream.Encrypt(t, payload, rs...)
					got, err := upstream.Decrypt(file, priv)
					if err != nil {
						t.Fatalf("re-sealed payload: %v", err)
					}
					if sha256.Sum256(got) != *v.payloadHash {
						t.Fatal("re-sealed payload hash mismatch")
					}
				}
				resealed++
			}
		})
	}
	t.Logf("%d vectors with X25519 identities, %d X25519 stanzas checked, %d payloads re-sealed", x25519Vectors, stanzas, resealed)
	if x25519Vectors < 15 || resealed < 3 || stanzas < 15 {
		t.Fatal("too few X25519 vectors exercised: has the vector set changed?")
	}
}

// identityIndex maps the i-th X25519 scalar to its position in identities.
func identityIndex(v *vector, i int) int {
	n := -1
	for j, id := range v.identities {
		if _, ok := id.(*age.X25519Identity); ok {
			n++
			if n == i {
				return j
			}
		}
	}
	panic("no such identity")
}

// upstreamOutcome decrypts v with upstream age and checks the vector's
// expectation. It returns the payload and whether the header was accepted.
func upstreamOutcome(t *testing.T, v *vector) ([]byte, bool) {
	t.Helper()
	var in io.Reader = bytes.NewReader(v.file)
	if v.armored {
		in = armor.NewReader(in)
	}
	r, err := age.Decrypt(in, v.identities...)
	if err != nil {
		if v.expect == "success" || v.expect == "payload failure" {
			t.Fatalf("expected %s, got %v", v.expect, err)
		}
		return nil, false
	}
	out, err := io.ReadAll(r)
	switch {
	case err == nil && v.expect != "success":
		t.Fatalf("expected %s, got success", v.expect)
	case err != nil && v.expect == "success":
		t.Fatalf("expected success, got %v", err)
	case err == nil && sha256.Sum256(out) != *v.payloadHash:
		t.Fatal("payload hash mismatch")
	}
	return out, true
}
