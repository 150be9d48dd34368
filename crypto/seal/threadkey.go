package seal

import (
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"

	"filippo.io/age"
	"golang.org/x/crypto/chacha20poly1305"
)

// A thread key is a post-quantum key pair whose public half is kept in
// clear (to seal to at any time) and whose identity is kept only locked to
// a secret that the gateway does not keep: whoever stores both can write to
// the key but cannot read what was written.
//
// The secret carries at least 80 random bits (a follow-up receipt code,
// keyed with the pepper), so it needs no slow key derivation: nothing is
// gained by making each guess cost more when there are 2^80 of them. Since
// format 1 a lock is
//
//	threadKeyV1 || salt (16 bytes) || ChaCha20-Poly1305(k, zero nonce, identity, ad = threadKeyV1 || salt)
//
// where k = HKDF-SHA-256(ikm = secret, salt, info = threadKeyInfo). The salt
// is fresh for every lock, so k is used once and the zero nonce is safe.
// Locks made before are age files to an scrypt recipient of the secret's
// passphrase form; they still open (see OpenThreadKey).
const (
	threadKeyV1   byte = 0x01
	threadKeyInfo      = "hotline/followup-thread-key/v1"
	threadKeySalt      = 16
	// MinThreadSecret is the least length of a thread key's secret, in
	// bytes.
	MinThreadSecret = 16
)

// maxThreadKey bounds a locked key: one identity line sealed to an
// scrypt stanza (locks of earlier releases), about 2 KiB.
const maxThreadKey = 16 << 10

// ErrThreadKeyLocked is returned by OpenThreadKey when the lock does not
// open: a wrong secret, or a damaged lock.
var ErrThreadKeyLocked = errors.New("thread key does not open with this secret")

// NewThreadKey makes a fresh post-quantum key pair and locks its identity
// with secret (at least MinThreadSecret bytes of a value with 80 random
// bits or more). It returns the public recipient and the lock.
func NewThreadKey(secret []byte) (recipient string, locked []byte, err error) {
	if len(secret) < MinThreadSecret {
		return "", nil, errors.New("thread key secret too short")
	}
	id, err := age.GenerateHybridIdentity()
	if err != nil {
		return "", nil, fmt.Errorf("failed to generate key: %w", err)
	}
	plain := []byte(id.String())
	defer clear(plain)
	header := make([]byte, 1+threadKeySalt, 1+threadKeySalt+len(plain)+chacha20poly1305.Overhead)
	header[0] = threadKeyV1
	rand.Read(header[1:]) // never fails (crypto/rand since Go 1.24)
	aead, err := threadKeyAEAD(secret, header[1:])
	if err != nil {
		return "", nil, err
	}
	var nonce [chacha20poly1305.NonceSize]byte
	ad := header[: 1+threadKeySalt : 1+threadKeySalt]
	return id.Recipient().String(), aead.Seal(header, nonce[:], plain, ad), nil
}

func threadKeyAEAD(secret, salt []byte) (cipher.AEAD, error) {
	return deriveAEAD(secret, salt, threadKeyInfo, chacha20poly1305.New)
}

// deriveAEAD derives a ChaCha20-Poly1305 key from secret with HKDF-SHA-256
// and returns the AEAD made of it by newAEAD.
func deriveAEAD(secret, salt []byte, info string, newAEAD func([]byte) (cipher.AEAD, error)) (cipher.AEAD, error) {
	k, err := hkdf.Key(sha256.New, secret, salt, info, chacha20poly1305.KeySize)
	if err != nil {
		return nil, fmt.Errorf("failed to derive %s key: %w", info, err)
	}
	defer clear(k)
	aead, err := newAEAD(k)
	if err != nil {
		return nil, fmt.Errorf("failed to derive %s key: %w", info, err)
	}
	return aead, nil
}

// OpenThreadKey unlocks a key made by NewThreadKey with its secret, or a
// key locked by an earlier release to an age scrypt recipient of
// passphrase. For those it refuses a work factor above maxWorkFactor: a
// tampered entry must not make the caller burn gigabytes of memory.
func OpenThreadKey(locked, secret []byte, passphrase string, maxWorkFactor int) (Identity, error) {
	if len(locked) > maxThreadKey {
		return nil, ErrTooLarge
	}
	if len(locked) == 0 || locked[0] != threadKeyV1 {
		return openPassphraseKey(locked, passphrase, maxWorkFactor)
	}
	if len(locked) < 1+threadKeySalt+chacha20poly1305.Overhead {
		return nil, ErrThreadKeyLocked
	}
	aead, err := threadKeyAEAD(secret, locked[1:1+threadKeySalt])
	if err != nil {
		return nil, err
	}
	var nonce [chacha20poly1305.NonceSize]byte
	plain, err := aead.Open(nil, nonce[:], locked[1+threadKeySalt:], locked[:1+threadKeySalt])
	if err != nil {
		return nil, ErrThreadKeyLocked
	}
	defer clear(plain)
	id, err := age.ParseHybridIdentity(string(plain))
	if err != nil {
		return nil, errors.New("failed to parse unlocked key")
	}
	return id, nil
}

// openPassphraseKey unlocks a key locked to an age scrypt recipient, as
// threads were created before format 1.
func openPassphraseKey(locked []byte, passphrase string, maxWorkFactor int) (Identity, error) {
	si, err := age.NewScryptIdentity(passphrase)
	if err != nil {
		return nil, err
	}
	si.SetMaxWorkFactor(maxWorkFactor)
	plain, err := OpenLimited(locked, maxThreadKey, si)
	if err != nil {
		return nil, fmt.Errorf("failed to unlock key: %w", err)
	}
	defer clear(plain)
	id, err := age.ParseHybridIdentity(string(plain))
	if err != nil {
		return nil, errors.New("failed to parse unlocked key")
	}
	return id, nil
}

// ParsePostQuantumRecipient parses one post-quantum recipient (age1pq1...),
// such as NewThreadKey returns, and nothing else: a stored value that
// was tampered with cannot turn into a classic or plugin recipient.
func ParsePostQuantumRecipient(s string) (*Recipients, error) {
	r, err := age.ParseHybridRecipient(s)
	if err != nil {
		return nil, errors.New("malformed post-quantum recipient")
	}
	return &Recipients{list: []age.Recipient{r}, encoded: []string{s}, kind: KindPostQuantum}, nil
}
