package seal_test

import (
	"errors"
	"fmt"
	"log"
	"strings"

	"filippo.io/age"

	"github.com/hotline-org/hotline/crypto/seal"
)

// The gateway seals with the agency's public recipients; only the officer's
// identity opens the result.
func ExampleRecipients_Seal() {
	// On the agency's offline machine: `hotline keygen --out agency.key`.
	officer, err := age.GenerateHybridIdentity()
	if err != nil {
		log.Fatal(err)
	}

	// On the gateway: only the public recipient is configured.
	rs, err := seal.ParseRecipients([]string{officer.Recipient().String()})
	if err != nil {
		log.Fatal(err)
	}
	sealed, err := rs.Seal([]byte("boat 7, north pier, 12 people"))
	if err != nil {
		log.Fatal(err)
	}

	// On the officer's laptop.
	plain, err := seal.Open(sealed, officer)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(rs.Kind(), rs.Len())
	fmt.Println(string(plain))

	// Anyone else gets a typed error, not the tip.
	stranger, _ := age.GenerateHybridIdentity()
	_, err = seal.Open(sealed, stranger)
	var noMatch *age.NoIdentityMatchError
	fmt.Println(errors.As(err, &noMatch))
	// Output:
	// post-quantum 1
	// boat 7, north pier, 12 people
	// true
}

// A secret key pasted where a recipient belongs is refused without being
// quoted back.
func ExampleParseRecipients_identity() {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		log.Fatal(err)
	}
	_, err = seal.ParseRecipients([]string{id.Recipient().String(), id.String()})
	fmt.Println(errors.Is(err, seal.ErrIdentityNotRecipient))
	fmt.Println(err)
	// Output:
	// true
	// recipient 2: this is a secret identity, not a recipient
}

// age cannot seal one file to post-quantum and classic recipients together.
func ExampleParseRecipients_mixedKinds() {
	pq, _ := age.GenerateHybridIdentity()
	classic, _ := age.GenerateX25519Identity()
	_, err := seal.ParseRecipients([]string{pq.Recipient().String(), classic.Recipient().String()})
	fmt.Println(errors.Is(err, seal.ErrMixedKinds))
	// Output:
	// true
}

func ExampleKeyring_ToAgency() {
	lima, _ := age.GenerateX25519Identity()
	rs, err := seal.ParseRecipients([]string{lima.Recipient().String()})
	if err != nil {
		log.Fatal(err)
	}
	k := seal.NewKeyring(map[string]*seal.Recipients{"pe-lima": rs})

	sealed, err := k.ToAgency("pe-lima", []byte("tip"))
	if err != nil {
		log.Fatal(err)
	}
	plain, _ := seal.Open(sealed, lima)
	fmt.Println(string(plain))

	_, err = k.ToAgency("pe-puno", []byte("tip"))
	fmt.Println(err)
	// Output:
	// tip
	// no recipients for agency pe-puno
}

func ExampleParseIdentities() {
	officer, _ := age.GenerateX25519Identity()
	file := "# created by hotline keygen\n\n" + officer.String() + "\n"
	ids, err := seal.ParseIdentities(strings.NewReader(file), nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(ids))

	// A recipient where the identity belongs: the line is named, not quoted.
	_, err = seal.ParseIdentities(strings.NewReader("# key\n"+officer.Recipient().String()), nil)
	fmt.Println(err)
	// Output:
	// 1
	// identity file line 2: this is a public recipient, not an identity; use the identity file written by 'hotline keygen'
}

// The gateway seals the number to text a reporter back to its own reply
// key; Redis holds only the sealed record.
func ExampleReplyKey() {
	// `hotline keygen --x25519 --out reply.key`, then secrets.reply_key.
	g, err := seal.Generate(true)
	if err != nil {
		log.Fatal(err)
	}
	key, err := seal.ParseReplyKey([]byte("# reply key\n" + g.Identity + "\n"))
	if err != nil {
		log.Fatal(err)
	}
	type handle struct{ From, To string }
	sealed, err := key.SealJSON("handle CASE-0001", handle{From: "+51987654321", To: "+15005550006"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(strings.Contains(string(sealed), "987654321"))

	var h handle
	if err := key.OpenJSON("handle CASE-0001", sealed, &h); err != nil {
		log.Fatal(err)
	}
	fmt.Println(h.From)
	fmt.Println(key.String() == "reply key "+g.Recipient)
	// Output:
	// false
	// +51987654321
	// true
}
