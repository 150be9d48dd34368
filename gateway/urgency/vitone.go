package urgency

import (
	"strings"

	"golang.org/x/text/unicode/norm"
)

// Vietnamese writes the tone of a word ending in "oa", "oe" or "uy" on
// either vowel: "khoá" and "khóa" (lock), "hoà" and "hòa", "thuỷ" and
// "thủy" are one word in the old and the new convention, and people type
// both. toneFirst moves the tone of such a word to the first vowel, so
// that the accented forms of a text and of a phrase agree whichever was
// used. Words where the vowels are followed by a consonant ("hoàng",
// "khoảng") and "qu" + y ("quý") have one spelling only and are left alone.
func toneFirst(w string) string {
	d := norm.NFD.String(w)
	rs := []rune(d)
	// The last letter, its tone after it if any.
	n := len(rs)
	end := n
	tone := rune(0)
	if n > 0 && isTone(rs[n-1]) {
		tone, end = rs[n-1], n-1
	}
	if tone == 0 || end < 2 {
		return w
	}
	last, first := rs[end-1], rs[end-2]
	if !((first == 'o' && (last == 'a' || last == 'e')) || (first == 'u' && last == 'y')) {
		return w
	}
	if first == 'u' && end >= 3 && rs[end-3] == 'q' {
		return w
	}
	var b strings.Builder
	b.Grow(len(d) + 2)
	b.WriteString(string(rs[:end-1]))
	b.WriteRune(tone)
	b.WriteRune(last)
	return norm.NFC.String(b.String())
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
