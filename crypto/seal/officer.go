package seal

import (
	"io"
)

// Identities are an officer's secret keys, loaded on the officer's own
// machine to open tips and notes. They never leave it: nothing here sends,
// prints or logs them.
type Identities struct {
	ids []Identity
}

// LoadIdentities reads an identity file at a terminal: a plugin identity (a
// hardware key) shows its messages and warnings on w, each line led by
// prefix.
func LoadIdentities(path string, w io.Writer, prefix string) (*Identities, error) {
	ids, err := LoadIdentityFile(path, TerminalUI(w, prefix))
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
	return MatchRecipients(s.ids, recipients)
}
