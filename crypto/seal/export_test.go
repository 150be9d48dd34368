package seal

import (
	"fmt"

	"filippo.io/age"
)

// MaxIdentityFile exposes the identity file bound to the tests.
const MaxIdentityFile = maxIdentityFile

// Implementations names the Go type sealing to each recipient of r.
func Implementations(r *Recipients) []string {
	out := make([]string, len(r.list))
	for i, x := range r.list {
		out[i] = fmt.Sprintf("%T", x)
	}
	return out
}

// Writer names what writes r's files: x25519.Seal when every recipient is
// crypto/x25519's, else age.Encrypt.
func Writer(r *Recipients) string {
	if r.fast != nil {
		return "x25519.Seal"
	}
	return "age.Encrypt"
}

// NewPassphraseKey locks a new thread key as releases before thread key
// format 1 did: its identity sealed to an age scrypt recipient of
// passphrase, at the given work factor.
func NewPassphraseKey(passphrase string, workFactor int) (recipient string, locked []byte, err error) {
	id, err := age.GenerateHybridIdentity()
	if err != nil {
		return "", nil, err
	}
	sr, err := age.NewScryptRecipient(passphrase)
	if err != nil {
		return "", nil, err
	}
	sr.SetWorkFactor(workFactor)
	locked, err = (&Recipients{list: []age.Recipient{sr}}).Seal([]byte(id.String()))
	return id.Recipient().String(), locked, err
}
