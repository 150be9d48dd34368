package seal

import (
	"fmt"
	"io"
	"slices"

	"filippo.io/age"
	"filippo.io/age/plugin"
)

// Identities are an officer's secret keys, loaded on the officer's own
// machine to open tips and notes. They never leave it: nothing here sends,
// prints or logs them.
type Identities struct {
	ids []age.Identity
}

// LoadIdentities reads an identity file at a terminal: a plugin identity (a
// hardware key) shows its messages and warnings on w, each line led by
// prefix.
func LoadIdentities(path string, w io.Writer, prefix string) (*Identities, error) {
	ui := plugin.NewTerminalUI(
		func(format string, v ...any) { fmt.Fprintf(w, prefix+format+"\n", v...) },
		func(format string, v ...any) { fmt.Fprintf(w, prefix+"warning: "+format+"\n", v...) })
	ids, err := LoadIdentityFile(path, ui)
	if err != nil {
		return nil, err
	}
	return &Identities{ids: ids}, nil
}

// Open decrypts a sealed tip or note.
func (s *Identities) Open(sealed []byte) ([]byte, error) { return Open(sealed, s.ids...) }

// Match reports whether the recipients of the identities could all be
// derived (checked), and whether one of them is among recipients. Plugin
// identities (hardware keys) do not reveal their recipient: with one of
// those, checked is false unless another identity matches.
func (s *Identities) Match(recipients []string) (checked, matches bool) {
	checked = true
	for _, id := range s.ids {
		var r string
		switch x := id.(type) {
		case *age.X25519Identity:
			r = x.Recipient().String()
		case *age.HybridIdentity:
			r = x.Recipient().String()
		default:
			checked = false
			continue
		}
		if slices.Contains(recipients, r) {
			return true, true
		}
	}
	return checked, false
}
