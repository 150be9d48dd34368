package pseudonym_test

import (
	"errors"
	"testing"

	"github.com/hotline-org/hotline/crypto/pseudonym"
)

// FuzzNormalizeE164: never panics; whatever it accepts is E.164, normalising
// it again changes nothing, and the sender pseudonym follows the number.
func FuzzNormalizeE164(f *testing.F) {
	for _, s := range []string{
		"+51999888777", "whatsapp:+51 999-888-777", "0051999888777", "+1 (500) 555-0006",
		"+0123456789", "51999888777", "+1234567890123456", "tel:", ":", "00", "+", "",
		"whatsapp: +51\u00a0999", "+٥١٩", "\xff\xfe", "a:b:c",
	} {
		f.Add(s)
	}
	k, err := pseudonym.New(testPepper(9))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := pseudonym.NormalizeE164(in)
		if err != nil {
			if !errors.Is(err, pseudonym.ErrNotE164) || got != "" {
				t.Fatalf("NormalizeE164(%q) = %q, %v", in, got, err)
			}
			if p := k.Sender(in); !pseudonymPattern.MatchString(p) {
				t.Fatalf("Sender(%q) = %q", in, p)
			}
			return
		}
		if !e164.MatchString(got) {
			t.Fatalf("NormalizeE164(%q) = %q, not E.164", in, got)
		}
		again, err := pseudonym.NormalizeE164(got)
		if err != nil || again != got {
			t.Fatalf("NormalizeE164(%q) = %q, %v; want the fixed point %q", got, again, err, got)
		}
		if k.Sender(in) != k.Sender(got) {
			t.Fatalf("Sender(%q) != Sender(%q)", in, got)
		}
	})
}
