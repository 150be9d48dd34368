package seal

import (
	"errors"
	"fmt"

	"filippo.io/age"
)

// maxPassphraseKey bounds a locked key: one identity line sealed to an
// scrypt stanza, about 2 KiB.
const maxPassphraseKey = 16 << 10

// NewPassphraseKey makes a fresh post-quantum key pair and locks its
// identity with passphrase (an age scrypt recipient of the given work
// factor, log2 N). It returns the public recipient, to seal to at any
// time, and the locked identity, which only the passphrase opens: whoever
// stores both can write to the key but cannot read what was written.
func NewPassphraseKey(passphrase string, workFactor int) (recipient string, locked []byte, err error) {
	id, err := age.GenerateHybridIdentity()
	if err != nil {
		return "", nil, fmt.Errorf("failed to generate key: %w", err)
	}
	sr, err := age.NewScryptRecipient(passphrase)
	if err != nil {
		return "", nil, fmt.Errorf("failed to make scrypt recipient: %w", err)
	}
	sr.SetWorkFactor(workFactor)
	to := &Recipients{list: []age.Recipient{sr}}
	secret := []byte(id.String())
	defer clear(secret)
	locked, err = to.Seal(secret)
	if err != nil {
		return "", nil, fmt.Errorf("failed to lock key: %w", err)
	}
	return id.Recipient().String(), locked, nil
}

// OpenPassphraseKey unlocks a key made by NewPassphraseKey. It refuses a
// work factor above maxWorkFactor: a tampered entry must not make the
// caller burn gigabytes of memory.
func OpenPassphraseKey(locked []byte, passphrase string, maxWorkFactor int) (Identity, error) {
	si, err := age.NewScryptIdentity(passphrase)
	if err != nil {
		return nil, err
	}
	si.SetMaxWorkFactor(maxWorkFactor)
	plain, err := OpenLimited(locked, maxPassphraseKey, si)
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
// such as NewPassphraseKey returns, and nothing else: a stored value that
// was tampered with cannot turn into a classic or plugin recipient.
func ParsePostQuantumRecipient(s string) (*Recipients, error) {
	r, err := age.ParseHybridRecipient(s)
	if err != nil {
		return nil, errors.New("malformed post-quantum recipient")
	}
	return &Recipients{list: []age.Recipient{r}, encoded: []string{s}, kind: KindPostQuantum}, nil
}
