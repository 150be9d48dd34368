package pseudonym_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/hotline-org/hotline/crypto/pseudonym"
)

// e164 is what NormalizeE164 may return.
var e164 = regexp.MustCompile(`^\+[1-9][0-9]{7,14}$`)

// pseudonymPattern is the printable form: 26 characters of lowercase base32.
var pseudonymPattern = regexp.MustCompile(`^[a-z2-7]{26}$`)

func testPepper(b byte) []byte { return bytes.Repeat([]byte{b}, pseudonym.MinPepperSize) }

func newKeyer(t testing.TB, pepper []byte) *pseudonym.Keyer {
	t.Helper()
	k, err := pseudonym.New(pepper)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return k
}

func TestNormalizeE164(t *testing.T) {
	tests := []struct {
		in   string
		want string // empty: ErrNotE164
	}{
		{"+51999888777", "+51999888777"},
		{"whatsapp:+51999888777", "+51999888777"},
		{"whatsapp:+51 999-888-777", "+51999888777"},
		{"sms:+15005550006", "+15005550006"},
		{"tel:+1-500-555-0006", "+15005550006"},
		{"whatsapp: +51 999 888 777", "+51999888777"},
		{"+51 999 888 777", "+51999888777"},
		{"  +51 999 888 777\t", "+51999888777"},
		{"+51\u00a0999\u00a0888\u00a0777", "+51999888777"},
		{"+51-999-888-777", "+51999888777"},
		{"+51.999.888.777", "+51999888777"},
		{"+1 (500) 555-0006", "+15005550006"},
		{"0051999888777", "+51999888777"},
		{"00 51 999 888 777", "+51999888777"},
		{"+60123456789", "+60123456789"},
		{"+12345678", "+12345678"},               // 8 digits: the shortest accepted
		{"+123456789012345", "+123456789012345"}, // 15 digits: the longest E.164 allows

		{"51999888777", ""},        // no + and no 00: a national number, country unknown
		{"999888777", ""},          // same
		{"0999888777", ""},         // a national trunk prefix is not 00
		{"+1234567", ""},           // 7 digits: too short
		{"+1234567890123456", ""},  // 16 digits: too long
		{"001234567", ""},          // too short after 00
		{"+0123456789", ""},        // country codes never start with 0
		{"+00 51 999 888 777", ""}, // + and 00 together
		{"000051999888777", ""},    // 00 then 0
		{"+51 999 888 77a", ""},    // letters
		{"+51999888777x", ""},
		{"+51 999 888 777 ext 12", ""},
		{"whatsapp:hello", ""},
		{"++51999888777", ""},
		{"+51+999888777", ""},
		{"51+999888777", ""},
		{"+٥١٩٩٩٨٨٨٧٧٧", ""}, // Arabic-Indic digits are not read as digits
		{"+５１９９９８８８７７７", ""}, // nor are full-width ones
		{"", ""},
		{"+", ""},
		{"   ", ""},
		{"user@example.org", ""},
		{"messenger:1234567890", ""},
		{"a:b:+51999888777", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := pseudonym.NormalizeE164(tt.in)
			if tt.want == "" {
				if !errors.Is(err, pseudonym.ErrNotE164) {
					t.Fatalf("NormalizeE164(%q) = %q, %v; want ErrNotE164", tt.in, got, err)
				}
				if got != "" {
					t.Fatalf("NormalizeE164(%q) returned %q with the error", tt.in, got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("NormalizeE164(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
			if !e164.MatchString(got) {
				t.Fatalf("%q is not E.164", got)
			}
			if again, err := pseudonym.NormalizeE164(got); err != nil || again != got {
				t.Fatalf("NormalizeE164(%q) = %q, %v; not a fixed point", got, again, err)
			}
		})
	}
}

func TestNewRejectsShortPepper(t *testing.T) {
	for _, n := range []int{0, 1, 16, pseudonym.MinPepperSize - 1} {
		k, err := pseudonym.New(make([]byte, n))
		if !errors.Is(err, pseudonym.ErrShortPepper) || k != nil {
			t.Errorf("New(%d bytes) = %v, %v; want nil, ErrShortPepper", n, k, err)
		}
	}
	for _, n := range []int{pseudonym.MinPepperSize, 64} {
		if _, err := pseudonym.New(make([]byte, n)); err != nil {
			t.Errorf("New(%d bytes): %v", n, err)
		}
	}
}

func TestSenderSameNumberSamePseudonym(t *testing.T) {
	k := newKeyer(t, testPepper(1))
	groups := [][]string{
		{"+51999888777", "whatsapp:+51999888777", "whatsapp:+51 999-888-777", "0051999888777", "+51 (999) 888.777", " +51 999 888 777 ", "sms:0051-999-888-777"},
		{"+15005550006", "+1 500 555 0006", "whatsapp:+1 (500) 555-0006", "001 500 555 0006"},
		{"+60123456789", "+60 12-345 6789"},
	}
	seen := map[string]int{}
	for gi, g := range groups {
		want := k.Sender(g[0])
		if !pseudonymPattern.MatchString(want) {
			t.Fatalf("Sender(%q) = %q, not 26 lowercase base32 characters", g[0], want)
		}
		for _, addr := range g[1:] {
			if got := k.Sender(addr); got != want {
				t.Errorf("Sender(%q) = %q, want %q as for %q", addr, got, want, g[0])
			}
		}
		if other, ok := seen[want]; ok {
			t.Errorf("numbers of group %d and %d share pseudonym %q", other, gi, want)
		}
		seen[want] = gi
	}
}

func TestSenderDifferentNumbers(t *testing.T) {
	k := newKeyer(t, testPepper(2))
	// Neighbouring numbers, a number and its prefix, and non-numbers.
	addrs := []string{
		"+51999888777", "+51999888778", "+51999888776", "+5199988877", "+151999888777",
		"+15005550006", "+15005550007", "messenger:abc", "messenger:abd", "", "+",
	}
	seen := map[string]string{}
	for _, a := range addrs {
		p := k.Sender(a)
		if !pseudonymPattern.MatchString(p) {
			t.Errorf("Sender(%q) = %q, not 26 lowercase base32 characters", a, p)
		}
		if prev, ok := seen[p]; ok {
			t.Errorf("Sender(%q) == Sender(%q) == %q", a, prev, p)
		}
		seen[p] = a
	}
	// A non-number is keyed as given, trimmed, in the sender domain.
	if k.Sender(" messenger:abc ") != k.Sender("messenger:abc") {
		t.Error("surrounding spaces change a non-number's pseudonym")
	}
	if k.Sender("messenger:abc") != k.Of(pseudonym.DomainSender, "messenger:abc") {
		t.Error("a non-number is not keyed as given in the sender domain")
	}
	if k.Sender("whatsapp:+51 999 888 777") != k.Of(pseudonym.DomainSender, "+51999888777") {
		t.Error("a number is not keyed in its E.164 form in the sender domain")
	}
}

func TestDomainSeparation(t *testing.T) {
	k := newKeyer(t, testPepper(3))
	domains := []string{pseudonym.DomainSender, pseudonym.DomainProvider, pseudonym.DomainNetwork, pseudonym.DomainProvider + "/ids", ""}
	for _, v := range []string{"+51999888777", "SM0123456789abcdef0123456789abcdef", "203.0.113.0/24", ""} {
		seen := map[string]string{}
		for _, d := range domains {
			p := k.Of(d, v)
			if prev, ok := seen[p]; ok {
				t.Errorf("Of(%q, %q) == Of(%q, %q)", d, v, prev, v)
			}
			seen[p] = d
		}
	}
	// The separator keeps domain and value apart: ("ab", "c") is not ("a", "bc").
	if k.Of("ab", "c") == k.Of("a", "bc") {
		t.Error("domain and value are not separated")
	}
}

func TestPeppers(t *testing.T) {
	a := newKeyer(t, testPepper(4))
	b := newKeyer(t, testPepper(5))
	// Not a zero byte: HMAC pads a short key with zeros, so K and K||0 are
	// the same key by design.
	longer := newKeyer(t, append(testPepper(4), 4))
	for _, v := range []string{"+51999888777", "", "SM00"} {
		pa, pb, pl := a.Of(pseudonym.DomainSender, v), b.Of(pseudonym.DomainSender, v), longer.Of(pseudonym.DomainSender, v)
		if pa == pb || pa == pl {
			t.Errorf("different peppers give the same pseudonym of %q: %q %q %q", v, pa, pb, pl)
		}
		// Deterministic: the same pepper gives the same pseudonym again,
		// also from a second Keyer.
		if again := newKeyer(t, testPepper(4)).Of(pseudonym.DomainSender, v); again != pa {
			t.Errorf("same pepper, different pseudonym of %q: %q, %q", v, pa, again)
		}
	}
}

func TestNewCopiesPepper(t *testing.T) {
	pepper := testPepper(6)
	k := newKeyer(t, pepper)
	before := k.Sender("+51999888777")
	for i := range pepper {
		pepper[i] = 0
	}
	if after := k.Sender("+51999888777"); after != before {
		t.Fatal("the Keyer shares the caller's pepper slice: wiping it changed the pseudonyms")
	}
}

func TestSumAndOf(t *testing.T) {
	k := newKeyer(t, testPepper(7))
	sum := k.Sum(pseudonym.DomainSender, "+51999888777")
	if len(sum) != 32 {
		t.Fatalf("Sum is %d bytes, want 32 (HMAC-SHA256)", len(sum))
	}
	if bytes.Equal(sum, k.Sum(pseudonym.DomainSender, "+51999888778")) {
		t.Fatal("Sum of different values is equal")
	}
	p := k.Of(pseudonym.DomainSender, "+51999888777")
	if !pseudonymPattern.MatchString(p) {
		t.Fatalf("Of = %q, not 26 lowercase base32 characters", p)
	}
}

// TestPseudonymHidesNumber checks that nothing of the number survives in
// clear: the alphabet leaves no room for a run of its digits.
func TestPseudonymHidesNumber(t *testing.T) {
	k := newKeyer(t, testPepper(8))
	for _, n := range []string{"+51999888777", "+15005550006", "+60123456789", "+23456789012345"} {
		p := k.Sender(n)
		if !pseudonymPattern.MatchString(p) {
			t.Fatalf("Sender(%q) = %q, not 26 lowercase base32 characters", n, p)
		}
		// Base32 holds the digits 2 to 7 only, so check every run of four
		// of the number's digits as a substring.
		digits := strings.TrimPrefix(n, "+")
		for i := 0; i+4 <= len(digits); i++ {
			if strings.Contains(p, digits[i:i+4]) {
				t.Errorf("Sender(%q) = %q contains %q", n, p, digits[i:i+4])
			}
		}
	}
}

// TestSumIsTheHMAC checks Sum against HMAC-SHA256 computed afresh, from
// many goroutines at once: the keyed HMACs Sum reuses must never carry one
// value into another's pseudonym.
func TestSumIsTheHMAC(t *testing.T) {
	pepper := testPepper(9)
	k := newKeyer(t, pepper)
	want := func(domain, value string) []byte {
		m := hmac.New(sha256.New, pepper)
		m.Write([]byte("hotline/v1/" + domain + "\x00" + value))
		return m.Sum(nil)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				v := fmt.Sprintf("+5199988%04d%d", i, g)
				if !bytes.Equal(k.Sum(pseudonym.DomainSender, v), want(pseudonym.DomainSender, v)) {
					errs <- v
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for v := range errs {
		t.Errorf("Sum of %q is not HMAC-SHA256 under the pepper", v)
	}
}
