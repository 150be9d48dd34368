package seal

import "fmt"

// Keyring maps agency ids to their recipient sets. It holds only public
// keys: nothing in it can open what it seals.
type Keyring struct {
	agencies map[string]*Recipients
}

// NewKeyring returns a keyring over the given sets.
func NewKeyring(agencies map[string]*Recipients) *Keyring {
	m := make(map[string]*Recipients, len(agencies))
	for k, v := range agencies {
		m[k] = v
	}
	return &Keyring{agencies: m}
}

// ToAgency seals plaintext to every recipient of the agency.
func (k *Keyring) ToAgency(agency string, plaintext []byte) ([]byte, error) {
	r, ok := k.agencies[agency]
	if !ok {
		return nil, fmt.Errorf("no recipients for agency %s", agency)
	}
	return r.Seal(plaintext)
}

// Recipients returns the agency's set, or nil.
func (k *Keyring) Recipients(agency string) *Recipients { return k.agencies[agency] }
