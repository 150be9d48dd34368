package seal_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/hotline-org/hotline/crypto/seal"
)

// threadSecret stands for what the follow-up store passes: a keyed hash of
// the receipt code.
func threadSecret(code string) []byte {
	s := sha256.Sum256([]byte(code))
	return s[:]
}

func TestThreadKey(t *testing.T) {
	const code = "REAN-5G97-9XFV-QR2N"
	secret := threadSecret(code)
	recipient, locked, err := seal.NewThreadKey(secret)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(recipient, "age1pq1") || bytes.Contains(bytes.ToUpper(locked), []byte("AGE-SECRET-KEY")) {
		t.Fatalf("recipient %.12s..., locked key in clear", recipient)
	}
	if bytes.HasPrefix(locked, []byte("age-encryption.org/")) {
		t.Fatal("a new lock is an age file")
	}
	rs, err := seal.ParsePostQuantumRecipient(recipient)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := rs.SealJSON(map[string]string{"text": "¿dónde?"})
	if err != nil {
		t.Fatal(err)
	}
	id, err := seal.OpenThreadKey(locked, secret, code, 10)
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
	// The passphrase does not matter for a new lock, the secret does.
	if _, err := seal.OpenThreadKey(locked, threadSecret("REAN-5G97-9XFV-QR2M"), code, 10); !errors.Is(err, seal.ErrThreadKeyLocked) {
		t.Fatalf("a wrong secret: %v, want ErrThreadKeyLocked", err)
	}
	// Two threads of the same secret have their own keys and locks.
	r2, l2, err := seal.NewThreadKey(secret)
	if err != nil || r2 == recipient || bytes.Equal(l2[:17], locked[:17]) {
		t.Fatalf("a second thread of the same secret: same recipient %v, same salt %v, %v", r2 == recipient, bytes.Equal(l2[:17], locked[:17]), err)
	}
	for i := range locked {
		tampered := bytes.Clone(locked)
		tampered[i] ^= 0x01
		if _, err := seal.OpenThreadKey(tampered, secret, code, 10); err == nil {
			t.Fatalf("byte %d flipped: the lock opened", i)
		}
	}
	for _, n := range []int{0, 1, 17, 32, len(locked) - 1} {
		if _, err := seal.OpenThreadKey(locked[:n], secret, code, 10); err == nil {
			t.Fatalf("cut to %d bytes: the lock opened", n)
		}
	}
	if _, err := seal.OpenThreadKey(make([]byte, 1<<20), secret, code, 10); !errors.Is(err, seal.ErrTooLarge) {
		t.Fatalf("a huge lock: %v, want ErrTooLarge", err)
	}
	if _, _, err := seal.NewThreadKey(secret[:15]); err == nil {
		t.Fatal("a 15-byte secret was accepted")
	}
}

// TestThreadKeyOfEarlierReleases: a key locked with scrypt to the code, as
// threads were made before, opens with the code; the secret plays no part.
func TestThreadKeyOfEarlierReleases(t *testing.T) {
	const code = "REAN-5G97-9XFV-QR2N"
	recipient, locked, err := seal.NewPassphraseKey(code, 10)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(locked, []byte("age-encryption.org/v1\n-> scrypt ")) {
		t.Fatalf("not an earlier lock: %.30q", locked)
	}
	id, err := seal.OpenThreadKey(locked, nil, code, 10)
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := seal.RecipientOf(id); !ok || r != recipient {
		t.Fatal("the unlocked key is not the one sealed to")
	}
	if _, err := seal.OpenThreadKey(locked, threadSecret(code), "REAN-5G97-9XFV-QR2M", 10); err == nil {
		t.Fatal("a wrong passphrase unlocked the key")
	}
	// A tampered entry with a higher work factor is refused, not computed.
	if _, err := seal.OpenThreadKey(locked, nil, code, 9); err == nil {
		t.Fatal("a key locked at work factor 10 opened with a maximum of 9")
	}
}

// threadKeyFixture is a lock of format 1 (testdata), so that every fuzzing
// process knows the one key it opens to.
func threadKeyFixture(t testing.TB) (code, recipient string, locked []byte) {
	t.Helper()
	b, err := os.ReadFile("testdata/threadkey-v1.json")
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Code      string `json:"code"`
		Recipient string `json:"recipient"`
		Locked    []byte `json:"locked"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v.Code, v.Recipient, v.Locked
}

// TestThreadKeyFixture: a lock of format 1 written by an earlier build
// opens, so that the format cannot change unnoticed.
func TestThreadKeyFixture(t *testing.T) {
	code, recipient, locked := threadKeyFixture(t)
	id, err := seal.OpenThreadKey(locked, threadSecret(code), code, 10)
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := seal.RecipientOf(id); !ok || r != recipient {
		t.Fatal("the fixture opened to another key")
	}
}

// FuzzOpenThreadKey: whatever is stored as a lock, OpenThreadKey fails
// cleanly, and a lock of format 1 opens only to the key it was made for.
func FuzzOpenThreadKey(f *testing.F) {
	code, recipient, locked := threadKeyFixture(f)
	secret := threadSecret(code)
	_, old, err := seal.NewPassphraseKey(code, 2)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(locked)
	f.Add(locked[:20])
	f.Add(old)
	f.Add([]byte{1})
	f.Add([]byte("age-encryption.org/v1\n-> scrypt AAAA 40\nAAAA\n--- AAAA\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		id, err := seal.OpenThreadKey(b, secret, code, 4)
		if err != nil || b[0] != 1 {
			return
		}
		if r, ok := seal.RecipientOf(id); !ok || r != recipient {
			t.Fatalf("%d bytes opened to a key that is not the thread's", len(b))
		}
	})
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
