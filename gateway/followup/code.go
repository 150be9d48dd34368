package followup

import (
	"crypto/rand"
	"crypto/sha256"
	"strings"

	"github.com/hotline-org/hotline/gateway/fault"
)

// Receipt codes are what a witness keeps after reporting on the web form:
// the only key to the follow-up conversation. A code is 16 symbols of
// Crockford's base32 (80 random bits), shown as four groups of four:
// K7QH-2MXD-9RT4-WB0C. It fits on a scrap of paper and is typed on a phone
// keypad in a few seconds; reading is forgiving: any case, spaces, hyphens,
// and O for 0, I or L for 1.
//
// 80 bits stand on their own against online guessing (attempts are rate
// limited) and, should Redis and the pepper both leak, against offline
// guessing too: 2^80 guesses, each an HMAC, is beyond reach, and a slow
// key derivation would add nothing, since the handle (an HMAC of the code)
// already tests a guess. Without the pepper a guess cannot be tested at
// all: both the handle and the key's lock are keyed with it.
//
// Codes made before (28 characters of another alphabet, two of them check
// characters, seven groups) still open their threads.
const (
	codeChars = 16
	codeGroup = 4

	legacyRandomChars = 26
	legacyCheckChars  = 2
	legacyChars       = legacyRandomChars + legacyCheckChars
)

// codeAlphabet is Crockford's base32: no I, L, O or U.
const codeAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// legacyAlphabet is the alphabet of the 28-character codes: no 0, 1, I, O.
const legacyAlphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"

// ErrBadCode is returned for a code that is not well formed (or, for an old
// code, whose check characters do not match): most likely a typing mistake.
var ErrBadCode = fault.New(fault.Invalid, "malformed receipt code")

// NewCode returns a fresh receipt code in its display form.
func NewCode() string {
	b := make([]byte, codeChars)
	rand.Read(b) // never fails (crypto/rand since Go 1.24)
	raw := make([]byte, 0, codeChars)
	for _, x := range b {
		raw = append(raw, codeAlphabet[x&31]) // 256 is a multiple of 32: no bias
	}
	return group(string(raw))
}

// NormalizeCode returns the canonical form of a code as typed (any case,
// with or without spaces, dashes or dots, O for 0 and I or L for 1), or
// ErrBadCode. Old 28-character codes are accepted in their own canonical
// form.
func NormalizeCode(s string) (string, error) {
	if len(s) > 8*legacyChars { // room for full-width characters and spaces
		return "", ErrBadCode
	}
	raw := make([]byte, 0, legacyChars)
	for _, r := range s {
		switch {
		case r == ' ' || r == '-' || r == '.' || r == '\t' || r == '\u00a0' || r == '\u3000' || r == '\u2010' || r == '\u2013' || r == '\u2014' || r == '\u2212' || r == '\uff0d':
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
		if r > 0x7f || !(r >= '0' && r <= '9' || r >= 'A' && r <= 'Z') {
			return "", ErrBadCode
		}
		raw = append(raw, byte(r))
		if len(raw) > legacyChars {
			return "", ErrBadCode
		}
	}
	switch len(raw) {
	case codeChars:
		for i, c := range raw {
			switch c {
			case 'O':
				raw[i] = '0'
			case 'I', 'L':
				raw[i] = '1'
			case 'U':
				return "", ErrBadCode
			}
		}
		return group(string(raw)), nil
	case legacyChars:
		for _, c := range raw {
			if strings.IndexByte(legacyAlphabet, c) < 0 {
				return "", ErrBadCode
			}
		}
		if string(legacyCheck(raw[:legacyRandomChars])) != string(raw[legacyRandomChars:]) {
			return "", ErrBadCode
		}
		return group(string(raw)), nil
	}
	return "", ErrBadCode
}

// Groups splits a code in display form into its groups, for a page that
// must never break a line inside one.
func Groups(code string) []string { return strings.Split(code, "-") }

func legacyCheck(random []byte) []byte {
	sum := sha256.Sum256(append([]byte("hotline receipt code check\x00"), random[:legacyRandomChars]...))
	return []byte{legacyAlphabet[sum[0]&31], legacyAlphabet[sum[1]&31]}
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
