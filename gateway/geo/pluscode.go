package geo

import (
	"strings"
	"unicode/utf8"

	olc "github.com/google/open-location-code/go"
)

// codeMatch is a plus code (Open Location Code) found in text.
type codeMatch struct {
	start, end int
	code       string // upper case
	full       bool
}

// isOLCChar reports whether c is in the plus code alphabet, in either case.
func isOLCChar(c byte) bool {
	if isASCIILetter(c) {
		c &^= 0x20
	}
	return strings.IndexByte(olc.Alphabet, c) >= 0
}

// scanPlusCodes finds full codes (8 characters, "+", 2 or more: 57V5W376+P4)
// and short ones (4 or 6 characters: W376+P4) outside the masked spans.
// Padded codes (57V50000+) name areas of tens of kilometres and are not
// taken. A short code must hold a letter: "2345+67" is arithmetic far more
// often than a place.
func scanPlusCodes(text string, masked []span) []codeMatch {
	var out []codeMatch
	for i := strings.IndexByte(text, '+'); i >= 0; {
		l := i
		for l > 0 && i-l <= 8 && isOLCChar(text[l-1]) {
			l--
		}
		r := i + 1
		for r < len(text) && r-i-1 <= 7 && isOLCChar(text[r]) {
			r++
		}
		if m, ok := plusCodeAt(text, l, i, r); ok && !overlaps(masked, m.start, m.end) {
			out = append(out, m)
		}
		next := strings.IndexByte(text[i+1:], '+')
		if next < 0 {
			break
		}
		i += 1 + next
	}
	return out
}

func plusCodeAt(text string, l, plus, r int) (codeMatch, bool) {
	before, after := plus-l, r-plus-1
	if before != 8 && before != 6 && before != 4 || after < 2 || after > 7 {
		return codeMatch{}, false
	}
	if l > 0 {
		if c, _ := utf8.DecodeLastRuneInString(text[:l]); isWordRune(c) || c == '+' {
			return codeMatch{}, false
		}
	}
	if r < len(text) {
		if c, _ := utf8.DecodeRuneInString(text[r:]); isWordRune(c) || c == '+' {
			return codeMatch{}, false
		}
	}
	code := strings.ToUpper(text[l:r])
	m := codeMatch{start: l, end: r, code: code, full: before == 8}
	if m.full {
		return m, olc.CheckFull(code) == nil
	}
	return m, olc.CheckShort(code) == nil && strings.ContainsAny(code, "CFGHJMPQRVWX")
}

// decodePlusCode returns the centre of a full code's cell and its half
// diagonal in metres.
func decodePlusCode(code string) (Point, float64, bool) {
	area, err := olc.Decode(code)
	if err != nil {
		return Point{}, 0, false
	}
	lat, lon := area.Center()
	p := Point{Lat: lat, Lon: lon}
	return p, metres(p, Point{Lat: area.LatHi, Lon: area.LngHi}), p.Valid()
}

// recoverPlusCode places a short code next to a reference point, the way
// Google Maps does with the locality printed after it.
func recoverPlusCode(code string, ref Point) (Point, float64, bool) {
	full, err := olc.RecoverNearest(code, ref.Lat, ref.Lon)
	if err != nil {
		return Point{}, 0, false
	}
	return decodePlusCode(full)
}
