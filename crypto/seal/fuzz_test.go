package seal_test

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/hotline-org/hotline/crypto/seal"
)

// FuzzParseRecipients feeds a newline-separated list. Whatever the input,
// ParseRecipients must not panic, and an error must never quote a line that
// holds a secret key.
func FuzzParseRecipients(f *testing.F) {
	pq := newPair(f, seal.KindPostQuantum)
	x := newPair(f, seal.KindX25519)
	seeds := []string{
		x.recipient,
		x.secret,
		x.recipient + "\n" + x.secret,
		x.recipient + " " + x.secret,
		pq.recipient,
		pq.secret,
		pq.recipient + pq.secret,
		pq.recipient + "\n" + x.recipient,
		pluginRecipient(f) + "\n" + pq.recipient + "\n" + x.recipient,
		pluginIdentity(f),
		"age1",
		"age1pq1",
		"ssh-ed25519 AAAA",
		"",
		"\n\n",
		"AGE-SECRET-KEY-",
		"  age-secret-key-1qqqq  ",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		lines := strings.Split(in, "\n")
		rs, err := seal.ParseRecipients(lines)
		if err == nil {
			if rs.Len() != len(lines) {
				t.Fatalf("Len() = %d for %d lines", rs.Len(), len(lines))
			}
			switch rs.Kind() {
			case seal.KindX25519, seal.KindPostQuantum, seal.KindPlugin:
			default:
				t.Fatalf("unknown Kind() %q", rs.Kind())
			}
			for _, l := range rs.Strings() {
				if strings.Contains(strings.ToUpper(l), "AGE-SECRET-KEY-") {
					t.Fatalf("a secret key was accepted as a recipient")
				}
			}
			return
		}
		msg := strings.ToUpper(err.Error())
		for _, l := range lines {
			l = strings.TrimSpace(l)
			if strings.HasPrefix(strings.ToUpper(l), "AGE-SECRET-KEY") && strings.Contains(msg, strings.ToUpper(l)) {
				t.Fatalf("error quotes a secret key line: %q", err)
			}
		}
		// Stronger: nothing that looks like a secret key is ever echoed.
		if strings.Contains(msg, "AGE-SECRET-KEY-") {
			t.Fatalf("error contains secret key material: %q", err)
		}
	})
}

// FuzzOpen feeds arbitrary bytes to Open: it must fail cleanly, never panic,
// and never claim success for something not sealed to the identity.
func FuzzOpen(f *testing.F) {
	p := newPair(f, seal.KindX25519)
	id := p.id
	sealed := sealFor(f, p, []byte("seed tip"))
	f.Add(sealed)
	f.Add(sealed[:len(sealed)/2])
	f.Add([]byte("age-encryption.org/v1\n-> X25519 AAAA\nAAAA\n--- AAAA\n"))
	f.Add([]byte("-----BEGIN AGE ENCRYPTED FILE-----\n"))
	f.Add([]byte{})
	other := newPair(f, seal.KindPostQuantum).id
	f.Fuzz(func(t *testing.T, in []byte) {
		plain, err := seal.Open(in, id)
		if err == nil && len(plain) > len(in) {
			t.Fatalf("opened %d bytes of plaintext from %d bytes", len(plain), len(in))
		}
		if err == nil && bytes.Equal(in, sealed) && string(plain) != "seed tip" {
			t.Fatalf("the seed opened to %q", plain)
		}
		// A post-quantum identity never opens what was sealed to X25519.
		if _, err := seal.Open(in, other); err == nil && bytes.Equal(in, sealed) {
			t.Fatal("a foreign identity opened the seed")
		}
	})
}

// FuzzReplyKeyOpenJSON feeds arbitrary bytes to ReplyKey.OpenJSON, seeded
// with records of both formats (the AEAD one and earlier releases' age
// files) of the key in testdata: it must fail cleanly, never panic, and
// never open anything but what the key sealed.
func FuzzReplyKeyOpenJSON(f *testing.F) {
	key := fixtureReplyKey(f)
	in := record{From: "+51987654321", N: 7}
	sealed, err := key.SealJSON("test", in)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sealed)
	f.Add(sealed[:len(sealed)-1])
	old := fixtureAgeRecord(f)
	f.Add(old)
	if v1, err := os.ReadFile("testdata/record.v1"); err == nil {
		f.Add(v1)
		f.Add(v1[:len(v1)-1])
	}
	f.Add(old[:len(old)/2])
	f.Add([]byte{1})
	f.Add([]byte{})
	f.Add([]byte("age-encryption.org/v1\n-> X25519 AAAA\nAAAA\n--- AAAA\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var out record
		if err := key.OpenJSON("test", b, &out); err == nil && out != in {
			t.Fatalf("opened %+v from %d bytes the key did not seal", out, len(b))
		}
	})
}
