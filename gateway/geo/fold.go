package geo

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// SameName compares place names without regard to case, accents or
// punctuation: "Perú", "PERU" and "peru." are the same name.
func SameName(a, b string) bool { return FoldName(a) == FoldName(b) }

// FoldName reduces a place name to the key the gazetteer compares: lower
// case, accents removed, every run of punctuation or spacing turned into one
// space, no leading or trailing space. Letters without a decomposition (ø,
// ß, 吉) are kept as they are.
func FoldName(s string) string {
	var f foldedText
	f.fold(s, false)
	return f.s
}

// foldedText is a text folded for matching together with, for every byte of
// the folded form, the byte span of the original rune it came from, so that
// a match in the folded form can be reported as a span of the original.
type foldedText struct {
	s     string
	start []int32 // start[i]: offset in the original of the rune that produced byte i
	end   []int32 // end[i]: end of that rune in the original
}

// fold fills f from text. With spans false only f.s is built (names at load
// time need no offsets).
func (f *foldedText) fold(text string, spans bool) {
	var b strings.Builder
	b.Grow(len(text))
	if spans {
		f.start = make([]int32, 0, len(text))
		f.end = make([]int32, 0, len(text))
	}
	pendingSpace := false
	var tmp [4 * utf8.UTFMax]byte
	for i, r := range text {
		size := utf8.RuneLen(r)
		if r == utf8.RuneError {
			// Invalid bytes decode as RuneError of width 1; the range
			// loop has already stepped over them.
			size = runeWidthAt(text, i)
		}
		out := foldRune(tmp[:0], r)
		if out == nil { // a combining mark or format character: part of the previous letter
			if spans && len(f.end) > 0 && !pendingSpace {
				f.end[len(f.end)-1] = int32(i + size)
				// Extend every byte of the previous rune, so that any
				// byte used as a match end covers the mark.
				for k := len(f.end) - 2; k >= 0 && f.start[k] == f.start[len(f.start)-1]; k-- {
					f.end[k] = int32(i + size)
				}
			}
			continue
		}
		if len(out) == 0 { // a separator
			pendingSpace = b.Len() > 0
			continue
		}
		if pendingSpace {
			b.WriteByte(' ')
			if spans {
				f.start = append(f.start, int32(i))
				f.end = append(f.end, int32(i))
			}
			pendingSpace = false
		}
		b.Write(out)
		if spans {
			for range out {
				f.start = append(f.start, int32(i))
				f.end = append(f.end, int32(i+size))
			}
		}
	}
	f.s = b.String()
}

func runeWidthAt(s string, i int) int {
	_, w := utf8.DecodeRuneInString(s[i:])
	return w
}

// foldRune appends the folded form of r to dst. It returns nil for a rune
// that belongs to the previous letter (a combining mark, a zero-width
// joiner) and an empty, non-nil slice for a separator.
func foldRune(dst []byte, r rune) []byte {
	if r < utf8.RuneSelf {
		switch {
		case 'a' <= r && r <= 'z', '0' <= r && r <= '9':
			return append(dst, byte(r))
		case 'A' <= r && r <= 'Z':
			return append(dst, byte(r)+'a'-'A')
		default:
			return dst[:0:0]
		}
	}
	switch {
	case unicode.Is(unicode.Mn, r), unicode.Is(unicode.Cf, r):
		return nil
	case unicode.IsLetter(r), unicode.IsDigit(r), unicode.Is(unicode.Mc, r), unicode.Is(unicode.Me, r):
	default:
		return dst[:0:0]
	}
	// Decompose, drop the accents, and compose again so that scripts whose
	// syllables decompose into letters (Hangul) keep their usual form.
	var rb [utf8.UTFMax]byte
	var buf, keptBuf [8 * utf8.UTFMax]byte
	n := utf8.EncodeRune(rb[:], r)
	d := norm.NFD.Append(buf[:0], rb[:n]...)
	if len(d) == n {
		return utf8.AppendRune(dst, unicode.ToLower(r))
	}
	kept := keptBuf[:0]
	for len(d) > 0 {
		c, w := utf8.DecodeRune(d)
		d = d[w:]
		if unicode.Is(unicode.Mn, c) {
			continue
		}
		kept = utf8.AppendRune(kept, unicode.ToLower(c))
	}
	if len(kept) == 0 {
		return nil
	}
	return norm.NFC.Append(dst, kept...)
}

// noSpaceScript reports whether r belongs to a script written without
// spaces between words, where a place name may start or end anywhere.
func noSpaceScript(r rune) bool {
	// Most text is Latin: answer it without searching the tables.
	switch {
	case r < 0x0E00, r >= 0x1100 && r < 0x1780, r >= 0x1800 && r < 0x2E80:
		return false
	}
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Thai,
		unicode.Lao, unicode.Khmer, unicode.Myanmar, unicode.Tibetan)
}
