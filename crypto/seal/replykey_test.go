package seal_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/hotline-org/hotline/crypto/seal"
)

type record struct {
	From string `json:"from"`
	N    int    `json:"n"`
}

func TestReplyKey(t *testing.T) {
	g, err := seal.Generate(true)
	if err != nil {
		t.Fatal(err)
	}
	file := "# created: 2026-01-01T00:00:00Z\n# kind: x25519\n# public key: " + g.Recipient + "\n\n" + g.Identity + "\n"
	key, err := seal.ParseReplyKey([]byte(file))
	if err != nil {
		t.Fatal(err)
	}
	if key.Recipient() != g.Recipient {
		t.Fatalf("recipient = %s, want %s", key.Recipient(), g.Recipient)
	}
	for _, s := range []string{key.String(), fmt.Sprintf("%v %+v %#v", key, key, key)} {
		if strings.Contains(strings.ToUpper(s), "AGE-SECRET-KEY") {
			t.Fatalf("the reply key printed its identity: %s", s)
		}
	}
	in := record{From: "+51987654321", N: 7}
	for _, fast := range []bool{false, true} {
		k := key.WithOptions(seal.Options{FastX25519: fast})
		sealed, err := k.SealJSON(in)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(sealed, []byte("987654321")) {
			t.Fatal("the record is in clear")
		}
		var out record
		if err := key.OpenJSON(sealed, &out); err != nil || out != in {
			t.Fatalf("fast=%v: opened %+v, %v", fast, out, err)
		}
		// Plain age: the identity in the file opens it too.
		ids, err := seal.ParseIdentities(strings.NewReader(g.Identity), nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := seal.Open(sealed, ids...); err != nil {
			t.Fatalf("fast=%v: the identity does not open the record: %v", fast, err)
		}
	}
	other, err := seal.GenerateReplyKey()
	if err != nil {
		t.Fatal(err)
	}
	sealed, _ := other.SealJSON(in)
	var out record
	var noMatch *age.NoIdentityMatchError
	if err := key.OpenJSON(sealed, &out); !errors.As(err, &noMatch) {
		t.Fatalf("another key's record: %v", err)
	}
	if err := key.OpenJSON(make([]byte, seal.MaxRecordSize+1), &out); !errors.Is(err, seal.ErrTooLarge) {
		t.Fatalf("an oversized record: %v, want ErrTooLarge", err)
	}
}

func TestParseReplyKeyRefuses(t *testing.T) {
	pq, x := newPair(t, seal.KindPostQuantum), newPair(t, seal.KindX25519)
	for name, file := range map[string]string{
		"empty":        "",
		"comments":     "# nothing\n",
		"post-quantum": pq.secret + "\n",
		"recipient":    x.recipient + "\n",
		"mangled":      x.secret[:len(x.secret)-2] + "\n",
	} {
		_, err := seal.ParseReplyKey([]byte(file))
		if !errors.Is(err, seal.ErrNotReplyKey) {
			t.Errorf("%s: %v, want ErrNotReplyKey", name, err)
		}
		if line := strings.TrimSpace(file); err != nil && len(line) > 20 && strings.Contains(err.Error(), line[10:]) {
			t.Errorf("%s: the error quotes the key: %v", name, err)
		}
	}
}

func TestOpenLimited(t *testing.T) {
	p := newPair(t, seal.KindX25519)
	plain := bytes.Repeat([]byte("x"), 1000)
	sealed := sealFor(t, p, plain)
	if got, err := seal.OpenLimited(sealed, len(sealed), p.id); err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("at the limit: %d bytes, %v", len(got), err)
	}
	if _, err := seal.OpenLimited(sealed, len(sealed)-1, p.id); !errors.Is(err, seal.ErrTooLarge) {
		t.Fatalf("over the limit: %v, want ErrTooLarge", err)
	}
	var v struct{}
	if err := seal.OpenJSON(sealed, len(sealed), &v, p.id); err == nil {
		t.Fatal("OpenJSON decoded a plaintext that is not JSON")
	}
}

func TestMatchRecipients(t *testing.T) {
	x := newPair(t, seal.KindX25519)
	pq := newPair(t, seal.KindPostQuantum)
	other := newPair(t, seal.KindX25519)
	plug := pluginLike{}
	agency := []string{x.recipient, pq.recipient}
	for _, tc := range []struct {
		name             string
		ids              []seal.Identity
		checked, matches bool
	}{
		{"x25519", []seal.Identity{x.id}, true, true},
		{"hybrid", []seal.Identity{pq.id}, true, true},
		{"wrong", []seal.Identity{other.id}, true, false},
		{"wrong and right", []seal.Identity{other.id, x.id}, true, true},
		{"plugin", []seal.Identity{plug}, false, false},
		{"plugin and right", []seal.Identity{plug, pq.id}, true, true},
	} {
		checked, matches := seal.MatchRecipients(tc.ids, agency)
		if checked != tc.checked || matches != tc.matches {
			t.Errorf("%s: checked %v matches %v, want %v %v", tc.name, checked, matches, tc.checked, tc.matches)
		}
	}
	if r, ok := seal.RecipientOf(pq.id); !ok || r != pq.recipient {
		t.Errorf("RecipientOf(post-quantum) = %s %v", r, ok)
	}
}

// pluginLike stands for a plugin identity: its recipient is unknown.
type pluginLike struct{}

func (pluginLike) Unwrap([]*age.Stanza) ([]byte, error) { return nil, age.ErrIncorrectIdentity }
