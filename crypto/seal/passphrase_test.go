package seal_test

import (
	"strings"
	"testing"

	"github.com/hotline-org/hotline/crypto/seal"
)

func TestPassphraseKey(t *testing.T) {
	const code = "REAN-5G97-9XFV-QR2N"
	recipient, locked, err := seal.NewPassphraseKey(code, 10)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(recipient, "age1pq1") || strings.Contains(string(locked), "AGE-SECRET-KEY") {
		t.Fatalf("recipient %.12s..., locked key in clear: %v", recipient, strings.Contains(string(locked), "AGE-SECRET-KEY"))
	}
	rs, err := seal.ParsePostQuantumRecipient(recipient)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := rs.SealJSON(map[string]string{"text": "¿dónde?"})
	if err != nil {
		t.Fatal(err)
	}
	id, err := seal.OpenPassphraseKey(locked, code, 10)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	if err := seal.OpenJSON(sealed, 1<<10+len(sealed), &m, id); err != nil || m["text"] != "¿dónde?" {
		t.Fatalf("opened %v, %v", m, err)
	}
	if r, ok := seal.RecipientOf(id); !ok || r != recipient {
		t.Fatal("the unlocked key is not the one sealed to")
	}
	if _, err := seal.OpenPassphraseKey(locked, "REAN-5G97-9XFV-QR2M", 10); err == nil {
		t.Fatal("a wrong passphrase unlocked the key")
	}
	// A tampered entry with a higher work factor is refused, not computed.
	if _, err := seal.OpenPassphraseKey(locked, code, 9); err == nil {
		t.Fatal("a key locked at work factor 10 opened with a maximum of 9")
	}
}

func TestParsePostQuantumRecipientOnly(t *testing.T) {
	x := newPair(t, seal.KindX25519)
	for _, s := range []string{x.recipient, pluginRecipient(t), x.secret, ""} {
		if _, err := seal.ParsePostQuantumRecipient(s); err == nil {
			t.Errorf("accepted %.10s...", s)
		} else if strings.Contains(err.Error(), "SECRET") {
			t.Errorf("the error quotes the input: %v", err)
		}
	}
}
