package seal_test

import (
	"crypto/rand"
	"fmt"
	"testing"

	"github.com/hotline-org/hotline/crypto/seal"
)

// benchPlaintext is the size of a typical tip: a few SMS and the number
// geography fields, as JSON.
const benchPlaintext = 1 << 10

var benchKinds = []struct {
	name string
	kind seal.Kind
}{
	{"x25519", seal.KindX25519},
	{"pq", seal.KindPostQuantum},
}

func BenchmarkSeal(b *testing.B) {
	plaintext := make([]byte, benchPlaintext)
	rand.Read(plaintext)
	for _, k := range benchKinds {
		for _, n := range []int{1, 3} {
			b.Run(fmt.Sprintf("kind=%s/recipients=%d", k.name, n), func(b *testing.B) {
				rs := mustParse(b, recipientsOf(newPairs(b, k.kind, n)))
				b.SetBytes(benchPlaintext)
				b.ReportAllocs()
				for b.Loop() {
					if _, err := rs.Seal(plaintext); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func BenchmarkOpen(b *testing.B) {
	plaintext := make([]byte, benchPlaintext)
	rand.Read(plaintext)
	for _, k := range benchKinds {
		b.Run("kind="+k.name, func(b *testing.B) {
			p := newPair(b, k.kind)
			sealed := sealFor(b, p, plaintext)
			b.SetBytes(benchPlaintext)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := seal.Open(sealed, p.id); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// replyRecord is about the size of a reply handle.
type replyRecord struct {
	From    string `json:"from"`
	To      string `json:"to"`
	Channel string `json:"channel"`
	Sender  string `json:"sender"`
}

// BenchmarkReplyKey is the cost of the gateway's own records (a reply
// handle, a scrub job, a side record): sealed once or twice per tip.
func BenchmarkReplyKey(b *testing.B) {
	key, err := seal.GenerateReplyKey()
	if err != nil {
		b.Fatal(err)
	}
	rec := replyRecord{From: "+51987654321", To: "+15005550006", Channel: "sms", Sender: "p2abcdefghijklmnopqrstuvwx"}
	for _, fast := range []bool{false, true} {
		k := key.WithOptions(seal.Options{FastX25519: fast})
		b.Run(fmt.Sprintf("seal/fast=%v", fast), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := k.SealJSON("test", rec); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("open", func(b *testing.B) {
		sealed, err := key.SealJSON("test", rec)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			var out replyRecord
			if err := key.OpenJSON("test", sealed, &out); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkThreadKey is the key of a follow-up thread: made (once per web
// report) and unlocked (once per visit of /followup), with HKDF, and for
// threads of earlier releases with scrypt at the follow-up's factor (12).
func BenchmarkThreadKey(b *testing.B) {
	const code = "REAN-5G97-9XFV-QR2N"
	secret := make([]byte, 32)
	rand.Read(secret)
	b.Run("new", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := seal.NewThreadKey(secret); err != nil {
				b.Fatal(err)
			}
		}
	})
	open := func(b *testing.B, locked []byte, err error) {
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := seal.OpenThreadKey(locked, secret, code, 12); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("open", func(b *testing.B) {
		_, locked, err := seal.NewThreadKey(secret)
		open(b, locked, err)
	})
	b.Run("scrypt/new", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := seal.NewPassphraseKey(code, 12); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("scrypt/open", func(b *testing.B) {
		_, locked, err := seal.NewPassphraseKey(code, 12)
		open(b, locked, err)
	})
}
