// Package upstream seals and opens with upstream filippo.io/age alone, for
// the tests of the crypto packages: what the hotline's own sealing must
// interoperate with. Only tests import it.
package upstream

import (
	"bytes"
	"io"
	"testing"

	"filippo.io/age"
)

// Encrypt seals plaintext with age.Encrypt.
func Encrypt(t testing.TB, plaintext []byte, rs ...age.Recipient) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, rs...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(plaintext); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Decrypt opens a file with age.Decrypt.
func Decrypt(file []byte, ids ...age.Identity) ([]byte, error) {
	r, err := age.Decrypt(bytes.NewReader(file), ids...)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(r)
}
