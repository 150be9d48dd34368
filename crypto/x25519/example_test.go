package x25519_test

import (
	"bytes"
	"fmt"
	"io"
	"log"

	"filippo.io/age"

	"github.com/hotline-org/hotline/crypto/x25519"
)

// A file sealed with this package's recipient is an ordinary age file:
// upstream age opens it with the X25519 identity.
func ExampleRecipient_Wrap() {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		log.Fatal(err)
	}
	r, err := x25519.ParseRecipient(id.Recipient().String())
	if err != nil {
		log.Fatal(err)
	}

	var sealed bytes.Buffer
	w, err := age.Encrypt(&sealed, r)
	if err != nil {
		log.Fatal(err)
	}
	io.WriteString(w, "we are held in a house in La Molina")
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}

	out, err := age.Decrypt(&sealed, id)
	if err != nil {
		log.Fatal(err)
	}
	text, _ := io.ReadAll(out)
	fmt.Println(string(text))
	// Output: we are held in a house in La Molina
}
