package seal

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"filippo.io/age"
)

// pluginLike is an identity whose recipient cannot be derived, as with a
// hardware key behind an age plugin; this one opens nothing.
type pluginLike struct{}

func (pluginLike) Unwrap([]*age.Stanza) ([]byte, error) { return nil, age.ErrIncorrectIdentity }

func TestIdentitiesMatch(t *testing.T) {
	x, _ := age.GenerateX25519Identity()
	pq, _ := age.GenerateHybridIdentity()
	other, _ := age.GenerateX25519Identity()
	agency := []string{x.Recipient().String(), pq.Recipient().String()}
	for _, c := range []struct {
		name             string
		ids              []age.Identity
		checked, matches bool
	}{
		{"x25519", []age.Identity{x}, true, true},
		{"hybrid", []age.Identity{pq}, true, true},
		{"wrong", []age.Identity{other}, true, false},
		{"wrong and right", []age.Identity{other, x}, true, true},
		{"plugin", []age.Identity{pluginLike{}}, false, false},
		{"plugin and right", []age.Identity{pluginLike{}, pq}, true, true},
	} {
		s := &Identities{ids: c.ids}
		if checked, matches := s.Match(agency); checked != c.checked || matches != c.matches {
			t.Errorf("%s: checked %v matches %v, want %v %v", c.name, checked, matches, c.checked, c.matches)
		}
	}
}

func TestLoadIdentitiesOpens(t *testing.T) {
	g, err := Generate(false)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "officer.key")
	if err := WriteIdentityFile(path, g, time.Now()); err != nil {
		t.Fatal(err)
	}
	rs, err := ParseRecipients([]string{g.Recipient})
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := rs.Seal([]byte("a note"))
	if err != nil {
		t.Fatal(err)
	}
	var prompts bytes.Buffer
	s, err := LoadIdentities(path, &prompts, "hotline: ")
	if err != nil {
		t.Fatal(err)
	}
	if plain, err := s.Open(sealed); err != nil || string(plain) != "a note" {
		t.Fatalf("Open = %q, %v", plain, err)
	}
	if checked, matches := s.Match([]string{g.Recipient}); !checked || !matches {
		t.Fatalf("Match of its own recipient: %v %v", checked, matches)
	}
	if _, err := LoadIdentities(filepath.Join(t.TempDir(), "missing"), &prompts, "hotline: "); !os.IsNotExist(errors.Unwrap(err)) {
		t.Fatalf("a missing file: %v", err)
	}
}
