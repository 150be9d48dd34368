package seal

import (
	"encoding/json"
	"fmt"

	"golang.org/x/crypto/chacha20poly1305"

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

// OpenAsBefore opens a record as the release before places did (format 1,
// JSON decoded as it is): gateways of both share a Redis during an upgrade.
func (k *ReplyKey) OpenAsBefore(sealed []byte, v any) error {
	if len(sealed) < recordOverhead || sealed[0] != recordV1 {
		return ErrRecordUnreadable
	}
	plain, err := k.aead.Open(nil, sealed[1:1+chacha20poly1305.NonceSizeX], sealed[1+chacha20poly1305.NonceSizeX:], sealed[:1])
	if err != nil {
		return ErrRecordUnreadable
	}
	return json.Unmarshal(plain, v)
}
