package urgency

import (
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Vietnamese writes the tone of a word ending in "oa", "oe" or "uy" on
// either vowel: "khoá" and "khóa" (lock), "hoà" and "hòa", "thuỷ" and
// "thủy" are one word in the old and the new convention, and people type
// both. toneFirst moves the tone of such a word to the first vowel, so
// that the accented forms of a text and of a phrase agree whichever was
// used. Words where the vowels are followed by a consonant ("hoàng",
// "khoảng") and "qu" + y ("quý") have one spelling only and are left alone.
// w is lower case and composed (NFC).
func toneFirst(w string) string {
	last, size := utf8.DecodeLastRuneInString(w)
	if last < 0xC0 || size >= len(w) { // the common case: no accent on the last letter
		return w
	}
	first := w[len(w)-size-1] // the letter before it, if it is a plain o or u
	if first != 'o' && first != 'u' {
		return w
	}
	base, tone, ok := splitTone(last)
	if !ok || !(first == 'o' && (base == 'a' || base == 'e') || first == 'u' && base == 'y') {
		return w
	}
	if first == 'u' && len(w) >= size+2 && w[len(w)-size-2] == 'q' {
		return w
	}
	return w[:len(w)-size-1] + norm.NFC.String(string([]rune{rune(first), tone, base}))
}

// splitTone splits a composed a, e or y with a tone mark (and nothing else)
// into the letter and the mark.
func splitTone(r rune) (base, tone rune, ok bool) {
	d := norm.NFD.String(string(r))
	b, n := utf8.DecodeRuneInString(d)
	t, m := utf8.DecodeRuneInString(d[n:])
	if n+m != len(d) || !strings.ContainsRune("aey", b) || !isTone(t) {
		return 0, 0, false
	}
	return b, t, true
}

// isTone reports whether r is one of the five Vietnamese tone marks, as a
// combining mark.
func isTone(r rune) bool {
	switch r {
	case '\u0300', '\u0301', '\u0303', '\u0309', '\u0323':
		return true
	}
	return false
}
