package geo

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// This file reads coordinates written in text: decimal degrees with signs,
// hemisphere letters or words, "lat"/"lon" keywords, and
// degrees-minutes-seconds with their many symbols. It is a hand-written
// scanner rather than one large regular expression so that each rule (and
// each guard against prices, times and phone numbers) is visible.

type axis uint8

const (
	axisNone axis = iota
	axisLat
	axisLon
)

// part is one coordinate: a latitude or a longitude.
type part struct {
	start, end int
	deg        float64 // absolute value in degrees
	minus      bool    // an explicit minus sign
	signed     bool    // an explicit sign, + or -
	hemi       axis    // the axis named by a hemisphere letter or word
	hemiNeg    bool    // the hemisphere is south or west
	kw         axis    // the axis named by a keyword ("lat", "lng")
	marked     bool    // a degree sign or d/m/s marks
	dms        bool    // minutes (and perhaps seconds) were given
	decimals   int     // digits after the decimal point of the last number
	commaDec   bool    // the decimal separator was a comma
}

// coordMatch is a pair found in text.
type coordMatch struct {
	start, end int
	p          Point
	dms        bool
}

// scanner holds the text being read.
type scanner struct {
	s string
}

// Keywords, matched without regard to case and only as whole words.
var (
	// pairKeywords announce that a pair of coordinates follows.
	pairKeywords = []string{
		"lat/lon", "lat/lng", "lat/long", "lat,lon", "lat,lng", "lat, lon", "lat, lng", "lat lon", "lat lng",
		"lat-lon", "lat-long", "latlon", "latlng", "latitude/longitude", "latitud/longitud",
		"coordinates", "coordinate", "coords", "coord", "coordenadas", "coordenada", "koordinat", "gps",
		"坐标", "座標", "经纬度", "經緯度",
	}
	latKeywords = []string{"latitude", "latitud", "lat", "纬度", "緯度"}
	lonKeywords = []string{"longitude", "longitud", "long", "lng", "lon", "经度", "經度"}
	// hemisphereWords in English, Spanish and Malay, and the Chinese
	// prefixes (北纬 3.1 = 3.1 N).
	hemisphereWords = []struct {
		word string
		ax   axis
		neg  bool
	}{
		{"north", axisLat, false}, {"south", axisLat, true}, {"east", axisLon, false}, {"west", axisLon, true},
		{"norte", axisLat, false}, {"sur", axisLat, true}, {"este", axisLon, false}, {"oeste", axisLon, true},
		{"utara", axisLat, false}, {"selatan", axisLat, true}, {"timur", axisLon, false}, {"barat", axisLon, true},
		{"北纬", axisLat, false}, {"北緯", axisLat, false}, {"南纬", axisLat, true}, {"南緯", axisLat, true},
		{"东经", axisLon, false}, {"東經", axisLon, false}, {"东經", axisLon, false}, {"東经", axisLon, false},
		{"西经", axisLon, true}, {"西經", axisLon, true},
	}
	degreeMarks = []string{"°", "º", "˚", "deg", "度", "d"}
	minuteMarks = []string{"'", "′", "’", "‘", "´", "`", "分", "min", "m"}
	secondMarks = []string{"\"", "″", "”", "“", "''", "′′", "’’", "´´", "秒", "sec", "s"}
	minusSigns  = []string{"-", "−", "–", "‐", "‑", "﹣", "－"}
	pairSeps    = []string{",", ";", "/", "|", "&", "，", "、", "；"}
	pairWords   = []string{"and", "y", "dan"}
)

// hemiLetter reads a hemisphere letter: N S E W in English, O (oeste) in
// Spanish, U (utara), T (timur), B (barat) in Malay. Only upper case: a
// lower-case "s" after a number is seconds or a plural far more often than
// south.
func hemiLetter(c byte) (axis, bool, bool) {
	switch c {
	case 'N', 'U':
		return axisLat, false, true
	case 'S':
		return axisLat, true, true
	case 'E', 'T':
		return axisLon, false, true
	case 'W', 'O', 'B':
		return axisLon, true, true
	}
	return axisNone, false, false
}

func isASCIILetter(c byte) bool { return 'a' <= c|0x20 && c|0x20 <= 'z' }
func isDigit(c byte) bool       { return '0' <= c && c <= '9' }
func isAlnum(c byte) bool       { return isDigit(c) || isASCIILetter(c) }

// isWordRune reports whether r continues a word. Letters of scripts
// written without spaces do not: "在3.139,101.6869" holds a coordinate.
func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return isAlnum(byte(r)) || r == '_'
	}
	return (unicode.IsLetter(r) && !noSpaceScript(r)) || unicode.IsDigit(r) || r == '_'
}

// wordBefore reports whether a word character ends at i.
func (sc scanner) wordBefore(i int) bool {
	if i <= 0 {
		return false
	}
	r, _ := utf8.DecodeLastRuneInString(sc.s[:i])
	return isWordRune(r)
}

// wordAfter reports whether a word character starts at i.
func (sc scanner) wordAfter(i int) bool {
	if i >= len(sc.s) {
		return false
	}
	r, _ := utf8.DecodeRuneInString(sc.s[i:])
	return isWordRune(r)
}

// signBefore reports whether a plus or minus sign ends at i.
func (sc scanner) signBefore(i int) bool {
	if i > 0 && sc.s[i-1] == '+' {
		return true
	}
	for _, m := range minusSigns {
		if strings.HasSuffix(sc.s[:i], m) {
			return true
		}
	}
	return false
}

// prefixFold reports whether s[i:] starts with word, ASCII letters compared
// without case.
func (sc scanner) hasPrefix(i int, word string) bool {
	if len(sc.s)-i < len(word) {
		return false
	}
	for k := 0; k < len(word); k++ {
		a, b := sc.s[i+k], word[k]
		if a != b && !(isASCIILetter(a) && a|0x20 == b) {
			return false
		}
	}
	return true
}

// word matches one of words at i as a whole word and returns its end.
// Words in scripts without spaces need no boundary.
func (sc scanner) word(i int, words []string) (int, bool) {
	for _, w := range words {
		if !sc.hasPrefix(i, w) {
			continue
		}
		end := i + len(w)
		if isASCIILetter(w[len(w)-1]) && sc.wordAfter(end) {
			continue
		}
		return end, true
	}
	return i, false
}

// spaces skips at most max spaces or tabs (and newlines when nl is set).
func (sc scanner) spaces(i, max int, nl bool) int {
	for n := 0; i < len(sc.s) && n < max; n++ {
		switch sc.s[i] {
		case ' ', '\t':
		case '\n', '\r':
			if !nl {
				return i
			}
		default:
			if strings.HasPrefix(sc.s[i:], "\u00a0") { // no-break space
				i += len("\u00a0") - 1
				break
			}
			return i
		}
		i++
	}
	return i
}

// number reads digits with an optional decimal part: up to maxInt integer
// digits, and a decimal comma only when allowed.
func (sc scanner) number(i, maxInt int, comma bool) (val float64, end, decimals int, commaDec, ok bool) {
	j := i
	for j < len(sc.s) && isDigit(sc.s[j]) {
		j++
	}
	if j == i || j-i > maxInt {
		return 0, i, 0, false, false
	}
	intEnd := j
	if j+1 < len(sc.s) && (sc.s[j] == '.' || (comma && sc.s[j] == ',')) && isDigit(sc.s[j+1]) {
		commaDec = sc.s[j] == ','
		k := j + 1
		for k < len(sc.s) && isDigit(sc.s[k]) {
			k++
		}
		decimals = k - j - 1
		if decimals > 15 {
			return 0, i, 0, false, false
		}
		j = k
	}
	// A number glued to more digits or dots is a date, a version or an
	// IP address: 12.05.2024, 192.168.1.10.
	if j+1 < len(sc.s) && sc.s[j] == '.' && isDigit(sc.s[j+1]) {
		return 0, i, 0, false, false
	}
	txt := sc.s[i:j]
	if commaDec {
		txt = sc.s[i:intEnd] + "." + sc.s[intEnd+1:j]
	}
	v, err := strconv.ParseFloat(txt, 64)
	if err != nil {
		return 0, i, 0, false, false
	}
	return v, j, decimals, commaDec, true
}

// mark matches one of marks at i and returns its end. Letter marks (d, m,
// s, min) must not run into a following letter, except a hemisphere letter.
func (sc scanner) mark(i int, marks []string) (string, int, bool) {
	for _, m := range marks {
		if !sc.hasPrefix(i, m) {
			continue
		}
		end := i + len(m)
		if isASCIILetter(m[len(m)-1]) && end < len(sc.s) && isASCIILetter(sc.s[end]) {
			if _, _, h := hemiLetter(sc.s[end]); !h || (end+1 < len(sc.s) && isASCIILetter(sc.s[end+1])) {
				continue
			}
		}
		return m, end, true
	}
	return "", i, false
}

// hemisphere matches a hemisphere letter or word at i.
func (sc scanner) hemisphere(i int) (ax axis, neg bool, end int, ok bool) {
	if i >= len(sc.s) {
		return axisNone, false, i, false
	}
	if ax, neg, ok := hemiLetter(sc.s[i]); ok && (!sc.wordAfter(i+1) || isDigit(sc.s[i+1])) {
		return ax, neg, i + 1, true
	}
	for _, h := range hemisphereWords {
		if !sc.hasPrefix(i, h.word) {
			continue
		}
		end := i + len(h.word)
		if isASCIILetter(h.word[0]) && sc.wordAfter(end) {
			continue
		}
		return h.ax, h.neg, end, true
	}
	return axisNone, false, i, false
}

// parsePart reads one coordinate at i. relaxed is set inside map links,
// where the value is known to be a coordinate.
func (sc scanner) parsePart(i int, relaxed bool) (part, bool) {
	p := part{start: i}
	j := i
	// A keyword: "lat:", "Longitude =", "纬度".
	if end, ok := sc.word(j, latKeywords); ok {
		p.kw, j = axisLat, sc.kwTail(end)
	} else if end, ok := sc.word(j, lonKeywords); ok {
		p.kw, j = axisLon, sc.kwTail(end)
	}
	// A hemisphere before the number: "S 12.08", "北纬3.1".
	hemiPrefix := false
	if ax, neg, end, ok := sc.hemisphere(j); ok {
		k := sc.spaces(end, 2, false)
		if k < len(sc.s) && (isDigit(sc.s[k]) || sc.signAt(k) > 0) {
			p.hemi, p.hemiNeg, j, hemiPrefix = ax, neg, k, true
		}
	}
	if n := sc.signAt(j); n > 0 {
		p.signed = true
		p.minus = sc.s[j] != '+'
		j += n
		if j >= len(sc.s) || !isDigit(sc.s[j]) {
			return p, false
		}
	}
	if p.kw == axisNone && !hemiPrefix && !p.signed && (sc.wordBefore(j) || sc.signBefore(j) || j > 0 && sc.s[j-1] == '.') {
		return p, false // inside a word or a number, or a sign was skipped
	}
	deg, end, dec, commaDec, ok := sc.number(j, 3, true)
	if !ok {
		return p, false
	}
	p.deg, p.decimals, p.commaDec, j = deg, dec, commaDec, end
	// Degrees, minutes, seconds: 12°05'08.5", 12d5m8s, 12° 05.142'.
	k := sc.spaces(j, 1, false)
	if m, end, ok := sc.mark(k, degreeMarks); ok && !(m == "d" && k != j) {
		p.marked, j = true, end
		if commaDec {
			return p, false
		}
		m := sc.spaces(j, 1, false)
		if mins, mEnd, mDec, _, ok := sc.number(m, 2, false); ok && dec == 0 {
			ms := sc.spaces(mEnd, 1, false)
			if _, end, ok := sc.mark(ms, minuteMarks); ok && mins < 60 {
				p.deg += mins / 60
				p.dms, p.decimals, j = true, mDec, end
				s := sc.spaces(j, 1, false)
				if secs, sEnd, sDec, _, ok := sc.number(s, 2, false); ok && mDec == 0 {
					ss := sc.spaces(sEnd, 1, false)
					if _, end, ok := sc.mark(ss, secondMarks); ok && secs < 60 {
						p.deg += secs / 3600
						p.decimals, j = sDec, end
					}
				}
			}
		}
	}
	// A hemisphere after the number: "12.08 S", "76°56'23"W".
	if !hemiPrefix {
		k := sc.spaces(j, 1, false)
		if ax, neg, end, ok := sc.hemisphere(k); ok {
			p.hemi, p.hemiNeg, j = ax, neg, end
		}
	}
	if sc.wordAfter(j) && !relaxed {
		return p, false
	}
	p.end = j
	if p.signed && p.hemi != axisNone && p.minus != p.hemiNeg && p.minus {
		return p, false // "-12.08 N" contradicts itself
	}
	return p, true
}

// kwTail skips the ":" or "=" after a keyword.
func (sc scanner) kwTail(i int) int {
	i = sc.spaces(i, 2, false)
	if i < len(sc.s) && (sc.s[i] == ':' || sc.s[i] == '=') {
		i++
	} else if strings.HasPrefix(sc.s[i:], "：") {
		i += len("：")
	}
	return sc.spaces(i, 2, false)
}

// signAt returns the length of a plus or minus sign at i, 0 if none.
func (sc scanner) signAt(i int) int {
	if i >= len(sc.s) {
		return 0
	}
	if sc.s[i] == '+' {
		return 1
	}
	for _, m := range minusSigns {
		if strings.HasPrefix(sc.s[i:], m) {
			return len(m)
		}
	}
	return 0
}

// separator skips what may stand between the two coordinates of a pair.
func (sc scanner) separator(i int, relaxed bool) int {
	j := sc.spaces(i, 4, true)
	at := j
	for _, s := range pairSeps {
		if strings.HasPrefix(sc.s[j:], s) {
			j += len(s)
			break
		}
	}
	if j == at && j > i { // words need a space before them
		if end, ok := sc.word(j, pairWords); ok {
			j = end
		}
	}
	if relaxed && j < len(sc.s) && sc.s[j] == '+' && sc.signAt(j+1) > 0 {
		j++ // q=-12.08+-76.93 with the plus left escaped
	}
	return sc.spaces(j, 4, true)
}

// parsePair reads "lat, lon" (or "lon, lat" when the letters say so) at i.
func (sc scanner) parsePair(i int, relaxed bool) (coordMatch, bool) {
	j := i
	pairKW := false
	if end, ok := sc.word(j, pairKeywords); ok {
		pairKW, j = true, sc.kwTail(end)
		if j < len(sc.s) && sc.s[j] == '(' {
			j++
		}
	}
	a, ok := sc.parsePart(j, relaxed)
	if !ok {
		return coordMatch{}, false
	}
	k := sc.separator(a.end, relaxed)
	if k == a.end && a.hemi == axisNone {
		return coordMatch{}, false // "12.0857-76.9397" needs something between
	}
	b, ok := sc.parsePart(k, relaxed)
	if !ok {
		return coordMatch{}, false
	}
	if !relaxed && !plausible(a, b, pairKW) {
		return coordMatch{}, false
	}
	lat, lon, ok := assign(a, b)
	if !ok {
		return coordMatch{}, false
	}
	p := Point{Lat: lat, Lon: lon}
	if !p.Valid() {
		return coordMatch{}, false
	}
	end := b.end
	if pairKW && end < len(sc.s) && sc.s[end] == ')' && strings.Contains(sc.s[i:j], "(") {
		end++
	}
	start := i
	if !pairKW {
		start = a.start
	}
	return coordMatch{start: start, end: end, p: p, dms: a.dms || b.dms}, true
}

// plausible keeps prices, scores, temperatures and measurements out: a
// bare pair of numbers is a coordinate only when it looks like one that a
// map app or a GPS produced.
func plausible(a, b part, pairKW bool) bool {
	for _, p := range []part{a, b} {
		// Whole degrees need a degree sign and minutes or a hemisphere:
		// "12 S" and "30° y 25°" are too coarse and too common.
		if p.decimals == 0 && !(p.marked && (p.dms || p.hemi != axisNone)) {
			return false
		}
	}
	if pairKW || a.kw != axisNone && b.kw != axisNone || a.hemi != axisNone && b.hemi != axisNone || a.dms && b.dms {
		return true
	}
	if a.commaDec || b.commaDec {
		// 12,500 is twelve thousand five hundred as often as 12.5.
		return a.decimals >= 4 && b.decimals >= 4
	}
	cued := a.signed || b.signed || a.hemi != axisNone || b.hemi != axisNone ||
		a.kw != axisNone || b.kw != axisNone || a.marked && b.marked
	if cued {
		return a.decimals >= 2 && b.decimals >= 2 // "38.5° y 39.1°" is a fever
	}
	return a.decimals >= 3 && b.decimals >= 3
}

// assign decides which part is the latitude and applies the signs.
func assign(a, b part) (lat, lon float64, ok bool) {
	axOf := func(p part) (axis, bool) {
		switch {
		case p.hemi != axisNone && p.kw != axisNone && p.hemi != p.kw:
			return axisNone, false
		case p.hemi != axisNone:
			return p.hemi, true
		default:
			return p.kw, true
		}
	}
	ax, ok1 := axOf(a)
	bx, ok2 := axOf(b)
	if !ok1 || !ok2 {
		return 0, 0, false
	}
	switch {
	case ax == axisNone && bx == axisNone:
		// Pasted from GIS in [lon, lat] order: a first value beyond 90
		// cannot be a latitude.
		if a.deg > 90 && b.deg <= 90 {
			ax, bx = axisLon, axisLat
		} else {
			ax, bx = axisLat, axisLon
		}
	case ax == axisNone:
		ax = other(bx)
	case bx == axisNone:
		bx = other(ax)
	}
	if ax == bx {
		return 0, 0, false
	}
	if ax == axisLon {
		a, b = b, a
	}
	lat, lon = signed(a), signed(b)
	if a.deg > 90 || b.deg > 180 {
		return 0, 0, false
	}
	return lat, lon, true
}

func other(a axis) axis {
	if a == axisLat {
		return axisLon
	}
	return axisLat
}

func signed(p part) float64 {
	if p.minus || p.hemiNeg {
		return -p.deg
	}
	return p.deg
}

// startsPart reports whether a coordinate could start at i, to skip the
// many positions where none can.
func (sc scanner) startsPart(i int) bool {
	c := sc.s[i]
	switch {
	case isDigit(c), c == '+', c == '-':
		return true
	case c >= 0x80:
		// Lead bytes of the Unicode minus signs (E2, EF) and of the
		// Chinese keywords and hemisphere prefixes (E4-E8).
		return c == 0xE2 || c == 0xEF || (c >= 0xE4 && c <= 0xE8)
	case isASCIILetter(c):
		return !sc.wordBefore(i)
	}
	return false
}

// scanCoords finds every pair of coordinates in s outside the masked spans.
func scanCoords(s string, masked []span) []coordMatch {
	sc := scanner{s: s}
	var out []coordMatch
	for i := 0; i < len(s); i++ {
		if m, ok := inSpans(masked, i); ok {
			i = m - 1
			continue
		}
		if !sc.startsPart(i) {
			continue
		}
		if m, ok := sc.parsePair(i, false); ok && !overlaps(masked, m.start, m.end) {
			out = append(out, m)
			i = m.end - 1
		}
	}
	return out
}

// parseCoordValue reads a value from a map link (q=, ll=, a path segment)
// that must be a pair of coordinates and nothing else but a label.
func parseCoordValue(v string) (Point, bool) {
	v = strings.TrimSpace(v)
	if len(v) > 4 && strings.EqualFold(v[:4], "loc:") {
		v = strings.TrimSpace(v[4:])
	}
	sc := scanner{s: v}
	m, ok := sc.parsePair(0, true)
	if !ok || m.start != 0 {
		return Point{}, false
	}
	if rest := v[m.end:]; rest != "" && rest[0] != '(' && rest[0] != ' ' {
		return Point{}, false // "-12.08,-76.93abc" is not a coordinate
	}
	return m.p, true
}

// span is a byte range of the text.
type span struct{ start, end int }

// inSpans reports whether i is inside one of spans, and the end of that span.
func inSpans(spans []span, i int) (int, bool) {
	for _, s := range spans {
		if s.start <= i && i < s.end {
			return s.end, true
		}
	}
	return 0, false
}

func overlaps(spans []span, start, end int) bool {
	for _, s := range spans {
		if start < s.end && s.start < end {
			return true
		}
	}
	return false
}

// ParseCoordinates reads a position a person typed or pasted into a form
// field: a pair of coordinates and nothing else, in decimal degrees with a
// point or a comma ("-12.05, -77.14", "-12,05 -77,14"), with hemisphere
// letters or words, or in degrees, minutes and seconds
// (12°02'47"S 77°02'34"W).
func ParseCoordinates(s string) (Point, bool) {
	p, ok := parseCoordValue(s)
	if !ok || p.Lat < -90 || p.Lat > 90 || p.Lon < -180 || p.Lon > 180 {
		return Point{}, false
	}
	return p, true
}
