package console

import (
	"strings"
	"unicode/utf8"
)

// clean makes a reporter's text safe to show as text: html/template escapes
// it; this takes out what would still mislead a reader. Bidirectional
// controls (which can reverse a phone number or a place name on screen),
// other control characters and invalid UTF-8 become U+FFFD, shown; line
// and paragraph separators become newlines. Tabs and newlines stay.
func clean(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD"):
			b.WriteRune('\uFFFD')
		case r == '\n' || r == '\t':
			b.WriteRune(r)
		case r == '\r':
		case r == '\u2028' || r == '\u2029':
			b.WriteByte('\n')
		case r < 0x20 || r == 0x7f || r >= 0x80 && r <= 0x9f,
			r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069,
			r == 0x200e || r == 0x200f || r == 0x061c:
			b.WriteRune('\uFFFD')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// short cuts a clear value (an id, a gateway's message) to n runes.
func short(s string, n int) string {
	s = clean(s)
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}
