// Command age-plugin-hotlinetest is a stand-in for a hardware plugin such
// as age-plugin-yubikey, built by the tests so that the plugin path of
// sealing and opening is exercised without hardware. Its recipient and
// identity data are a native X25519 recipient and identity, as text.
// It is for tests only: its "hardware" is the identity string itself.
package main

import (
	"errors"
	"os"

	"filippo.io/age"
	"filippo.io/age/plugin"
)

func main() {
	p, err := plugin.New("hotlinetest")
	if err != nil {
		os.Exit(1)
	}
	p.HandleRecipient(func(data []byte) (age.Recipient, error) {
		r, err := age.ParseX25519Recipient(string(data))
		if err != nil {
			return nil, errors.New("bad recipient data")
		}
		return r, nil
	})
	p.HandleIdentity(func(data []byte) (age.Identity, error) {
		i, err := age.ParseX25519Identity(string(data))
		if err != nil {
			return nil, errors.New("bad identity data")
		}
		return i, nil
	})
	os.Exit(p.Main())
}
