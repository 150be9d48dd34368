package seal

import (
	"bufio"
	"bytes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"filippo.io/age"
	"golang.org/x/crypto/chacha20poly1305"
)

// MaxRecordSize bounds a record sealed to a ReplyKey (a reply handle, a
// scrub job, a side record): a few hundred bytes in practice.
const MaxRecordSize = 64 << 10

// ErrNotReplyKey is returned by ParseReplyKey for anything but an X25519
// identity. The value is never quoted.
var ErrNotReplyKey = errors.New("not an X25519 age identity (AGE-SECRET-KEY-1...)")

// ErrRecordUnreadable is returned by OpenJSON for a record in the current
// format that the key does not open: sealed by another reply key,
// truncated or altered.
var ErrRecordUnreadable = errors.New("record cannot be opened with this reply key")

// Records sealed by a ReplyKey are, since format 1,
//
//	recordV1 || nonce (24 bytes) || XChaCha20-Poly1305(recordKey, nonce, JSON, ad = recordV1)
//
// where recordKey = HKDF-SHA-256(ikm = the identity in its canonical
// encoding, salt = none, info = recordInfo). The gateway both seals and
// opens them, so no public-key operation is needed: the key is derived
// once, when the identity is loaded. Records sealed before (age files to
// the identity's own recipient) still open. No age file starts with
// recordV1: a binary one starts with "age-encryption.org/v1", an armored
// one with "-----BEGIN".
//
// The JSON names the record's place, first, as placeField: the kind of
// record and where it belongs ("handle CASE-REF", "scrub", ...). Sealed
// with the rest, it cannot be changed; a record read at another place, or
// as another kind, does not open, so that whoever can write to Redis
// cannot send an officer's reply for one case to the reporter of another
// by moving a sealed handle. Releases before places ignore the field (an
// unknown JSON field), so that gateways of both can share a Redis during
// a rolling upgrade, or a rollback; records they sealed name no place, and
// still open wherever they are found.
const (
	recordV1   byte = 0x01
	recordInfo      = "hotline/reply-record/v1"
	placeField      = "@place"
)

// recordOverhead is what sealing adds to a record's JSON.
const recordOverhead = 1 + chacha20poly1305.NonceSizeX + chacha20poly1305.Overhead

// ReplyKey is the gateway's own X25519 identity (secrets.reply_key). It
// seals the records only the gateway reads back: the reply handle (the
// number to text a reporter back), the Twilio scrub job (a message SID
// leads to the message until it is redacted) and a spooled tip's side
// record. Redis and the spool hold them sealed with a key derived from the
// identity (authenticated encryption, no public-key operation per record);
// a gateway without the identity cannot read them, nor forge or alter one
// unnoticed.
type ReplyKey struct {
	id        *age.X25519Identity // opens records of earlier releases
	recipient string
	aead      cipher.AEAD // seals and opens records (format 1)
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
	// The identity's canonical encoding carries its 32-byte scalar and
	// nothing else; HKDF extracts the key from it.
	secret := []byte(id.String())
	defer clear(secret)
	aead, err := deriveAEAD(secret, nil, recordInfo, chacha20poly1305.NewX)
	if err != nil {
		return nil, err
	}
	return &ReplyKey{id: id, recipient: id.Recipient().String(), aead: aead}, nil
}

// WithOptions returns k: records are no longer sealed to an X25519
// recipient, so the options of Recipients do not apply. It stays so that
// callers choosing options for every sealer need not tell this one apart.
func (k *ReplyKey) WithOptions(Options) *ReplyKey { return k }

// Recipient returns the key's public recipient (age1...).
func (k *ReplyKey) Recipient() string { return k.recipient }

// String names the key by its recipient; the identity is never printed.
func (k *ReplyKey) String() string { return "reply key " + k.Recipient() }

// SealJSON seals v, a struct or a map encoded as a JSON object, with the
// key, naming place (see placeField): OpenJSON opens it only for the same
// place. The encoding is cleared once sealed.
func (k *ReplyKey) SealJSON(place string, v any) ([]byte, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("failed to encode: %w", err)
	}
	defer clear(body)
	if len(body) < 2 || body[0] != '{' {
		return nil, errors.New("failed to encode: a sealed record is a JSON object")
	}
	head, _ := json.Marshal(map[string]string{placeField: place})
	plain := make([]byte, 0, len(head)+len(body))
	plain = append(plain, head[:len(head)-1]...) // {"@place":"..."
	if len(body) > 2 {
		plain = append(plain, ',')
	}
	plain = append(plain, body[1:]...)
	defer clear(plain)
	if len(plain)+recordOverhead > MaxRecordSize {
		return nil, ErrTooLarge
	}
	out := make([]byte, 1+chacha20poly1305.NonceSizeX, len(plain)+recordOverhead)
	out[0] = recordV1
	nonce := out[1:]
	rand.Read(nonce) // never fails (crypto/rand since Go 1.24)
	// A random 192-bit nonce never repeats under one key in practice.
	return k.aead.Seal(out, nonce, plain, out[:1]), nil
}

// OpenJSON opens into v a record sealed by SealJSON for place (at most
// MaxRecordSize), or one an earlier release sealed, which names no place:
// of format 1, or an age file. A record that names another place is
// ErrRecordUnreadable. The plaintext is cleared once decoded.
func (k *ReplyKey) OpenJSON(place string, sealed []byte, v any) error {
	_, err := k.open(place, sealed, v)
	return err
}

// Placed reports whether sealed opens and names place: false for a
// record of an earlier release (which a reader may seal again, so that it
// names its place from then on) and for one that does not open.
func (k *ReplyKey) Placed(place string, sealed []byte) bool {
	placed, err := k.open(place, sealed, nil)
	return err == nil && placed
}

// open is OpenJSON (v nil: nothing decoded but the place), and whether
// the record named its place.
func (k *ReplyKey) open(place string, sealed []byte, v any) (placed bool, err error) {
	if len(sealed) > MaxRecordSize {
		return false, ErrTooLarge
	}
	if len(sealed) == 0 || sealed[0] != recordV1 {
		return false, OpenJSON(sealed, MaxRecordSize, v, k.id)
	}
	if len(sealed) < recordOverhead {
		return false, ErrRecordUnreadable
	}
	nonce, box := sealed[1:1+chacha20poly1305.NonceSizeX], sealed[1+chacha20poly1305.NonceSizeX:]
	plain, err := k.aead.Open(nil, nonce, box, sealed[:1])
	if err != nil {
		return false, ErrRecordUnreadable
	}
	defer clear(plain)
	var named struct {
		Place *string `json:"@place"`
	}
	if err := json.Unmarshal(plain, &named); err != nil {
		return false, fmt.Errorf("failed to decode sealed data: %w", err)
	}
	if named.Place != nil && *named.Place != place {
		return false, ErrRecordUnreadable
	}
	if v == nil {
		return named.Place != nil, nil
	}
	if err := json.Unmarshal(plain, v); err != nil {
		return false, fmt.Errorf("failed to decode sealed data: %w", err)
	}
	return named.Place != nil, nil
}
