// Package pseudonym turns phone numbers, IP prefixes and provider ids into
// keyed pseudonyms: HMAC-SHA256 under a secret pepper, with a domain label per
// use so that a pseudonym from one use cannot be matched against another.
//
// It protects against anyone who reads Redis, logs or metrics: without the
// pepper a pseudonym cannot be tested against a guessed phone number, which a
// plain hash of a number (a space of about 10^10) would allow.
package pseudonym

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"hash"
	"strings"
	"sync"
)

// MinPepperSize is the least pepper length accepted, in bytes.
const MinPepperSize = 32

// Domains separate the uses of the pepper.
const (
	DomainSender   = "sender"   // a reporter's phone number (E.164)
	DomainProvider = "provider" // a provider message id such as Twilio's MessageSid
	DomainNetwork  = "network"  // a truncated client address
)

var enc = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// ErrShortPepper is returned for a pepper under MinPepperSize bytes.
var ErrShortPepper = errors.New("pepper must be at least 32 bytes")

// Keyer computes pseudonyms. It is safe for concurrent use.
type Keyer struct {
	pepper []byte
	// macs holds keyed HMACs to reuse: a Reset one starts from the
	// pepper's state without hashing the pepper again (several pseudonyms
	// are taken per message).
	macs sync.Pool
}

// New returns a Keyer for pepper, which must hold at least 32 bytes.
func New(pepper []byte) (*Keyer, error) {
	if len(pepper) < MinPepperSize {
		return nil, ErrShortPepper
	}
	k := &Keyer{pepper: append([]byte(nil), pepper...)}
	k.macs.New = func() any { return hmac.New(sha256.New, k.pepper) }
	return k, nil
}

// Sum returns the raw HMAC of value in domain.
func (k *Keyer) Sum(domain, value string) []byte {
	m := k.macs.Get().(hash.Hash)
	defer k.macs.Put(m)
	m.Reset()
	m.Write([]byte("hotline/v1/"))
	m.Write([]byte(domain))
	m.Write([]byte{0})
	m.Write([]byte(value))
	return m.Sum(nil)
}

// Of returns a printable pseudonym (26 base32 characters, 130 bits) of value
// in domain.
func (k *Keyer) Of(domain, value string) string {
	return enc.EncodeToString(k.Sum(domain, value)[:17])[:26]
}

// Sender returns the pseudonym of a sender address. Addresses that are the
// same number written differently ("whatsapp:+51 999-888-777", "0051999888777")
// get the same pseudonym; an address that is not a phone number is keyed as
// given.
func (k *Keyer) Sender(address string) string {
	if n, err := NormalizeE164(address); err == nil {
		return k.Of(DomainSender, n)
	}
	return k.Of(DomainSender, strings.TrimSpace(address))
}

// ErrNotE164 is returned for an address that is not an international number.
var ErrNotE164 = errors.New("not an international phone number")

// NormalizeE164 returns the number in E.164 form (+ and 8 to 15 digits). It
// strips a channel prefix such as "whatsapp:" or "sms:", spaces and the usual
// punctuation, and reads a leading 00 as +.
func NormalizeE164(address string) (string, error) {
	s := strings.TrimSpace(address)
	if i := strings.IndexByte(s, ':'); i >= 0 && i < 12 {
		s = strings.TrimSpace(s[i+1:]) // "whatsapp: +51 ..." as well
	}
	var b strings.Builder
	b.Grow(16)
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && i == 0:
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')' || r == '\u00a0':
		default:
			return "", ErrNotE164
		}
	}
	digits := b.String()
	if !strings.HasPrefix(s, "+") {
		if !strings.HasPrefix(digits, "00") {
			return "", ErrNotE164
		}
		digits = digits[2:]
	}
	if len(digits) < 8 || len(digits) > 15 || digits[0] == '0' {
		return "", ErrNotE164
	}
	return "+" + digits, nil
}
