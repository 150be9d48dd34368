package x25519_test

import (
	"crypto/rand"
	"fmt"
	"testing"

	"filippo.io/age"

	"github.com/hotline-org/hotline/crypto/seal"
	"github.com/hotline-org/hotline/crypto/x25519"
)

var impls = []struct {
	name string
	fast bool
}{{"upstream", false}, {"fast", true}}

func newRecipients(b *testing.B, n int) []string {
	out := make([]string, n)
	for i := range out {
		id, err := age.GenerateX25519Identity()
		if err != nil {
			b.Fatal(err)
		}
		out[i] = id.Recipient().String()
	}
	return out
}

// loop runs f for the benchmark and reports the process's CPU time per
// operation as cpu-ns/op, which other work on the machine disturbs much less
// than wall time.
func loop(b *testing.B, f func()) {
	cpu0, ok := processCPU()
	n := 0
	for b.Loop() {
		f()
		n++
	}
	if cpu1, ok1 := processCPU(); ok && ok1 && n > 0 {
		b.ReportMetric(float64(cpu1-cpu0)/float64(n), "cpu-ns/op")
	}
}

// BenchmarkWrap is the cost of wrapping one file key: upstream age's
// X25519Recipient (four scalar multiplications) against this package's
// (two).
func BenchmarkWrap(b *testing.B) {
	s := newRecipients(b, 1)[0]
	up, err := age.ParseX25519Recipient(s)
	if err != nil {
		b.Fatal(err)
	}
	fast, err := x25519.ParseRecipient(s)
	if err != nil {
		b.Fatal(err)
	}
	fileKey := make([]byte, 16)
	rand.Read(fileKey)
	for _, r := range []struct {
		name string
		r    age.Recipient
	}{{"upstream", up}, {"fast", fast}} {
		b.Run("impl="+r.name, func(b *testing.B) {
			b.ReportAllocs()
			loop(b, func() {
				if _, err := r.r.Wrap(fileKey); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}

// BenchmarkSeal is a whole 1 KiB tip sealed through crypto/seal, as the
// gateway does, to one and two recipients.
func BenchmarkSeal(b *testing.B) {
	plaintext := make([]byte, 1<<10)
	rand.Read(plaintext)
	for _, n := range []int{1, 2} {
		lines := newRecipients(b, n)
		for _, impl := range impls {
			b.Run(fmt.Sprintf("recipients=%d/impl=%s", n, impl.name), func(b *testing.B) {
				rs, err := seal.ParseRecipientsWith(lines, seal.Options{FastX25519: impl.fast})
				if err != nil {
					b.Fatal(err)
				}
				b.SetBytes(int64(len(plaintext)))
				b.ReportAllocs()
				loop(b, func() {
					if _, err := rs.Seal(plaintext); err != nil {
						b.Fatal(err)
					}
				})
			})
		}
	}
}
