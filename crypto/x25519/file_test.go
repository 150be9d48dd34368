package x25519

import (
	"bytes"
	"crypto/rand"
	"io"
	"testing"
	"testing/cryptotest"

	"filippo.io/age"
)

// TestSealIsUpstreamsFile: with the same random bytes, Seal writes byte
// for byte the file age.Encrypt writes to the same recipients (one, two
// and five, new and past their point table), for payloads empty, short,
// and on either side of every chunk boundary; upstream age.Decrypt opens
// it with each recipient's identity, and not with another's.
func TestSealIsUpstreamsFile(t *testing.T) {
	const chunk = 64 * 1024
	sizes := []int{0, 1, 15, 16, 17, 400, chunk - 1, chunk, chunk + 1, 2*chunk - 1, 2 * chunk, 2*chunk + 1, 3*chunk + 123}
	var ids []*age.X25519Identity
	var rs []*Recipient
	for range 5 {
		id, r := newPair(t)
		ids, rs = append(ids, id), append(rs, r)
	}
	stranger, _ := age.GenerateX25519Identity()
	seed := uint64(0)
	for _, n := range []int{1, 2, 5} {
		for _, warmed := range []bool{false, true} {
			if warmed {
				for _, r := range rs[:n] {
					warm(r)
				}
			}
			for _, size := range sizes {
				plain := make([]byte, size)
				rand.Read(plain)
				seed++
				cryptotest.SetGlobalRandom(t, seed)
				got, err := Seal(plain, rs[:n]...)
				if err != nil {
					t.Fatal(err)
				}
				cryptotest.SetGlobalRandom(t, seed)
				var want bytes.Buffer
				ups := make([]age.Recipient, n)
				for i, r := range rs[:n] {
					ups[i] = r
				}
				w, err := age.Encrypt(&want, ups...)
				if err != nil {
					t.Fatal(err)
				}
				w.Write(plain)
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want.Bytes()) {
					t.Fatalf("%d recipients (table %v), %d bytes: Seal wrote %d bytes unlike age.Encrypt's %d\n%q\n%q",
						n, warmed, size, len(got), want.Len(), got[:min(len(got), 300)], want.Bytes()[:min(want.Len(), 300)])
				}
				// Written in the buffer made for it: no append outgrew it
				// (the AEAD's would reallocate to the exact length).
				if want := sealedSize(n, size); len(got) != want || cap(got) != want {
					t.Errorf("%d recipients, %d bytes: %d bytes in a buffer of %d, sized %d", n, size, len(got), cap(got), want)
				}
				for i, id := range ids[:n] {
					rd, err := age.Decrypt(bytes.NewReader(got), id)
					if err != nil {
						t.Fatalf("%d recipients, %d bytes: identity %d: %v", n, size, i, err)
					}
					if opened, err := io.ReadAll(rd); err != nil || !bytes.Equal(opened, plain) {
						t.Fatalf("%d recipients, %d bytes: identity %d opened %d bytes, %v", n, size, i, len(opened), err)
					}
				}
				if _, err := age.Decrypt(bytes.NewReader(got), stranger); err == nil {
					t.Fatalf("%d recipients, %d bytes: a stranger opened it", n, size)
				}
			}
		}
	}
	if _, err := Seal([]byte("x")); err == nil {
		t.Fatal("sealed to no recipient")
	}
}
