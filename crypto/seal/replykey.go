package seal

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"strings"

	"filippo.io/age"
)

// MaxRecordSize bounds a record sealed to a ReplyKey (a reply handle, a
// scrub job, a side record): a few hundred bytes in practice.
const MaxRecordSize = 64 << 10

// ErrNotReplyKey is returned by ParseReplyKey for anything but an X25519
// identity. The value is never quoted.
var ErrNotReplyKey = errors.New("not an X25519 age identity (AGE-SECRET-KEY-1...)")

// ReplyKey is the gateway's own X25519 identity (secrets.reply_key). It
// seals the records only the gateway reads back: the reply handle (the
// number to text a reporter back), the Twilio scrub job (a message SID
// leads to the message until it is redacted) and a spooled tip's side
// record. Redis and the spool hold them sealed; a gateway without the key
// cannot read them.
type ReplyKey struct {
	id *age.X25519Identity
	to *Recipients
}

// ParseReplyKey reads the reply key from the content of its identity file,
// as `hotline keygen --x25519` writes it: the last line that is not blank
// or a comment.
func ParseReplyKey(file []byte) (*ReplyKey, error) {
	var last string
	sc := bufio.NewScanner(bytes.NewReader(file))
	sc.Buffer(nil, maxIdentityFile)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" && !strings.HasPrefix(l, "#") {
			last = l
		}
	}
	if sc.Err() != nil {
		return nil, ErrNotReplyKey
	}
	id, err := age.ParseX25519Identity(last)
	if err != nil {
		return nil, ErrNotReplyKey
	}
	return newReplyKey(id)
}

// GenerateReplyKey makes a new reply key, for tests and throwaway
// gateways; a real one comes from `hotline keygen --x25519`.
func GenerateReplyKey() (*ReplyKey, error) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return nil, fmt.Errorf("failed to generate reply key: %w", err)
	}
	return newReplyKey(id)
}

func newReplyKey(id *age.X25519Identity) (*ReplyKey, error) {
	to, err := ParseRecipients([]string{id.Recipient().String()})
	if err != nil {
		return nil, err
	}
	return &ReplyKey{id: id, to: to}, nil
}

// WithOptions returns the key sealing as opt says (FastX25519: with
// crypto/x25519, the same stanza at half the cost). Records sealed either
// way open alike.
func (k *ReplyKey) WithOptions(opt Options) *ReplyKey {
	to, err := ParseRecipientsWith(k.to.Strings(), opt)
	if err != nil {
		// The recipient was derived from a parsed identity: every parser
		// accepts it.
		return k
	}
	return &ReplyKey{id: k.id, to: to}
}

// Recipient returns the key's public recipient (age1...).
func (k *ReplyKey) Recipient() string { return k.to.Strings()[0] }

// String names the key by its recipient; the identity is never printed.
func (k *ReplyKey) String() string { return "reply key " + k.Recipient() }

// SealJSON seals v, encoded as JSON, to the key.
func (k *ReplyKey) SealJSON(v any) ([]byte, error) { return k.to.SealJSON(v) }

// OpenJSON opens a record sealed by SealJSON (at most MaxRecordSize) into v.
func (k *ReplyKey) OpenJSON(sealed []byte, v any) error {
	return OpenJSON(sealed, MaxRecordSize, v, k.id)
}
