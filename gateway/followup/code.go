package followup

import (
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"strings"
)

// Receipt codes are what a witness keeps after reporting on the web form:
// the only key to the follow-up conversation. They carry 130 random bits
// (26 characters of a 32-letter alphabet) and two check characters, shown
// as seven groups of four: K7QH-2MXD-...-RT4W.
//
// 130 bits are beyond any guessing, online or offline: the code is both the
// lookup (through a keyed HMAC) and the passphrase that opens the witness's
// key, so it must stand on its own even if Redis and the pepper leak.
// The check characters are not a secret: they let the page say "this code is
// mistyped" rather than "no such report", which matters to someone copying a
// code from a scrap of paper on a small screen.
const (
	codeRandomChars = 26
	codeCheckChars  = 2
	codeChars       = codeRandomChars + codeCheckChars
	codeGroup       = 4
)

// codeAlphabet leaves out 0, 1, I and O, which are misread on a small
// screen and in handwriting (the same alphabet as case references).
const codeAlphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"

// ErrBadCode is returned for a code that is not well formed or whose check
// characters do not match: most likely a typing mistake.
var ErrBadCode = errors.New("malformed receipt code")

// NewCode returns a fresh receipt code in its display form.
func NewCode() string {
	b := make([]byte, codeRandomChars)
	rand.Read(b) // never fails (crypto/rand since Go 1.24)
	raw := make([]byte, 0, codeChars)
	for _, x := range b {
		raw = append(raw, codeAlphabet[x&31]) // 256 is a multiple of 32: no bias
	}
	raw = append(raw, checkChars(raw)...)
	return group(string(raw))
}

// NormalizeCode returns the canonical form of a code as typed (any case,
// with or without spaces, dashes or dots), or ErrBadCode.
func NormalizeCode(s string) (string, error) {
	if len(s) > 8*codeChars { // room for full-width characters and spaces
		return "", ErrBadCode
	}
	raw := make([]byte, 0, codeChars)
	for _, r := range s {
		switch {
		case r == ' ' || r == '-' || r == '.' || r == '\t' || r == '\u00a0' || r == '\u3000' || r == '\u2010' || r == '\u2013':
			continue
		case r >= 'a' && r <= 'z':
			r -= 'a' - 'A'
		case r >= 0xFF10 && r <= 0xFF5A:
			// Full-width digits and letters from a CJK keyboard.
			r = r - 0xFF10 + '0'
			if r >= 'a' && r <= 'z' {
				r -= 'a' - 'A'
			}
		}
		if r > 0x7f || strings.IndexByte(codeAlphabet, byte(r)) < 0 {
			return "", ErrBadCode
		}
		raw = append(raw, byte(r))
	}
	if len(raw) != codeChars || string(checkChars(raw[:codeRandomChars])) != string(raw[codeRandomChars:]) {
		return "", ErrBadCode
	}
	return group(string(raw)), nil
}

func checkChars(random []byte) []byte {
	sum := sha256.Sum256(append([]byte("hotline receipt code check\x00"), random[:codeRandomChars]...))
	return []byte{codeAlphabet[sum[0]&31], codeAlphabet[sum[1]&31]}
}

func group(raw string) string {
	var b strings.Builder
	for i := 0; i < len(raw); i += codeGroup {
		if i > 0 {
			b.WriteByte('-')
		}
		b.WriteString(raw[i:min(i+codeGroup, len(raw))])
	}
	return b.String()
}
