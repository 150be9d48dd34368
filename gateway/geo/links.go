package geo

import (
	"math"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// This file reads map links and geo: URIs. Links are parsed offline only:
// fetching a short link would tell its owner (and anyone watching the
// network) that someone at the hotline looked at that place, and would let
// a sender make the gateway call any address. A short link that needs the
// network is kept in the sealed report for the officer.

var (
	// schemeURL finds links written with a scheme.
	schemeURL = regexp.MustCompile(`(?i)\b(?:https?|waze)://[^\s<>"\x60{}|\\^]+`)
	// bareMapURL finds map links pasted without a scheme.
	bareMapURL = regexp.MustCompile(`(?i)\b(?:[a-z0-9-]+\.)*(?:google\.[a-z]{2,3}(?:\.[a-z]{2})?/maps|maps\.google\.[a-z]{2,3}(?:\.[a-z]{2})?|goo\.gl/maps|maps\.app\.goo\.gl|maps\.apple\.com|maps\.apple/|openstreetmap\.org|osm\.org/go|waze\.com/(?:ul|live-map|livemap))[^\s<>"\x60{}|\\^]*`)
	// geoURI finds RFC 5870 URIs; the grammar is checked by parseGeoURI.
	geoURI = regexp.MustCompile(`(?i)\bgeo:[^\s<>"'\x60{}|\\^]+`)

	googleData = regexp.MustCompile(`!3d(-?\d{1,2}(?:\.\d+)?)!4d(-?\d{1,3}(?:\.\d+)?)`)
	googleAt   = regexp.MustCompile(`/@(-?\d{1,2}(?:\.\d+)?),(-?\d{1,3}(?:\.\d+)?)(?:,|/|$)`)
	osmMap     = regexp.MustCompile(`(?:^|&)map=\d{1,2}(?:\.\d+)?/(-?\d{1,2}(?:\.\d+)?)/(-?\d{1,3}(?:\.\d+)?)`)
	wazeTo     = regexp.MustCompile(`^ll\.(-?\d{1,2}(?:\.\d+)?),(-?\d{1,3}(?:\.\d+)?)$`)
)

// linkMatch is a link or URI found in text.
type linkMatch struct {
	start, end int
	p          Point
	hasPoint   bool
	known      bool // a map service or a geo: URI, as opposed to any other link
	source     Source
	radius     float64
}

// scanLinks finds map links and geo: URIs. Every link is returned, known or
// not, so that numbers inside an unrelated link are not read as
// coordinates.
func scanLinks(text string) []linkMatch {
	// The regular expressions are the slowest part of locating; most
	// messages hold no link, which a plain search can tell.
	lower := asciiLower(text)
	hasScheme := strings.Contains(lower, "://")
	hasHost := false
	for _, h := range mapHosts {
		if strings.Contains(lower, h) {
			hasHost = true
			break
		}
	}
	hasGeo := strings.Contains(lower, "geo:")
	if !hasScheme && !hasHost && !hasGeo {
		return nil
	}
	var out []linkMatch
	var taken []span
	add := func(m linkMatch) {
		out = append(out, m)
		taken = append(taken, span{m.start, m.end})
	}
	for _, loc := range findAll(schemeURL, text, hasScheme) {
		start, end := loc[0], trimURLEnd(text, loc[0], loc[1])
		add(parseMapURL(text[start:end], start, end))
	}
	for _, loc := range findAll(bareMapURL, text, hasHost) {
		if overlaps(taken, loc[0], loc[1]) {
			continue
		}
		start, end := loc[0], trimURLEnd(text, loc[0], loc[1])
		add(parseMapURL("https://"+text[start:end], start, end))
	}
	for _, loc := range findAll(geoURI, text, hasGeo) {
		if overlaps(taken, loc[0], loc[1]) {
			continue
		}
		start, end := loc[0], trimURLEnd(text, loc[0], loc[1])
		if m, ok := parseGeoURI(text[start:end]); ok {
			m.start, m.end = start, start+m.end
			add(m)
		} else {
			// A geo: URI in another reference system, or broken: its
			// numbers are not a latitude and a longitude.
			add(linkMatch{start: start, end: end})
		}
	}
	return out
}

// mapHosts are the host names bareMapURL looks for, in lower case.
var mapHosts = []string{"google.", "goo.gl", "maps.apple", "openstreetmap.org", "osm.org", "waze.com"}

func findAll(re *regexp.Regexp, text string, worth bool) [][]int {
	if !worth {
		return nil
	}
	return re.FindAllStringIndex(text, -1)
}

// asciiLower lower-cases ASCII letters only, keeping byte offsets.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// trimURLEnd drops the punctuation that ends the sentence around a link,
// and a closing parenthesis that the link did not open.
func trimURLEnd(text string, start, end int) int {
	for end > start {
		c := text[end-1]
		switch {
		case strings.IndexByte(".,;:!?]'\"", c) >= 0:
			end--
			continue
		case c == ')' && strings.Count(text[start:end], "(") < strings.Count(text[start:end], ")"):
			end--
			continue
		}
		// Closing quotes and brackets outside ASCII: ” ’ » 」 。 ，
		trimmed := false
		for _, s := range []string{"”", "’", "»", "」", "。", "，", "）"} {
			if strings.HasSuffix(text[start:end], s) {
				end -= len(s)
				trimmed = true
				break
			}
		}
		if !trimmed {
			break
		}
	}
	return end
}

// parseMapURL reads the position out of a link to a map service.
func parseMapURL(raw string, start, end int) linkMatch {
	m := linkMatch{start: start, end: end, source: SourceMapLink}
	if strings.HasPrefix(strings.ToLower(raw), "waze://") {
		raw = "https://waze.com/ul" + raw[len("waze://"):]
	}
	u, err := url.Parse(raw)
	if err != nil {
		u, err = url.Parse(strings.ReplaceAll(raw, "%", "%25")) // a stray % must not hide the link
		if err != nil {
			return m
		}
	}
	host := strings.ToLower(u.Hostname())
	host = strings.TrimPrefix(strings.TrimPrefix(host, "www."), "m.")
	var p Point
	var ok bool
	switch {
	case host == "maps.app.goo.gl", host == "goo.gl" && strings.HasPrefix(u.Path, "/maps"),
		host == "g.co" && strings.HasPrefix(u.Path, "/kgs"), host == "maps.apple",
		host == "maps.apple.com" && strings.HasPrefix(u.Path, "/p/"):
		m.known, m.source = true, SourceLinkUnresolved
		return m
	case isGoogleHost(host) && (strings.HasPrefix(host, "maps.") || strings.HasPrefix(u.Path, "/maps")):
		m.known = true
		p, ok = googlePoint(u)
	case host == "maps.apple.com":
		m.known = true
		p, ok = firstParam(u.Query(), "ll", "coordinate", "q", "daddr", "center", "sll")
	case host == "openstreetmap.org" || host == "osm.org":
		m.known = true
		p, ok, m.radius = osmPoint(u)
	case host == "waze.com":
		m.known = true
		p, ok, m.radius = wazePoint(u)
	default:
		return m
	}
	if ok && p.Valid() {
		m.p, m.hasPoint = p, true
	} else {
		m.source = SourceLinkUnresolved
	}
	return m
}

// isGoogleHost accepts google.com, maps.google.com.pe, www.google.com.my.
func isGoogleHost(host string) bool {
	host = strings.TrimPrefix(host, "maps.")
	rest, ok := strings.CutPrefix(host, "google.")
	if !ok || rest == "" || len(rest) > 6 {
		return false
	}
	for _, part := range strings.Split(rest, ".") {
		if len(part) < 2 || len(part) > 3 || strings.Trim(part, "abcdefghijklmnopqrstuvwxyz") != "" {
			return false
		}
	}
	return true
}

// googlePoint prefers the place's own position (the !3d!4d data, a
// coordinate place or search path, q=) over the centre of the view (@).
func googlePoint(u *url.URL) (Point, bool) {
	path := u.Path
	if p, ok := matchPoint(googleData, u.EscapedPath()+"?"+u.RawQuery); ok {
		return p, true
	}
	segs := strings.Split(path, "/")
	for i, seg := range segs {
		if i+1 < len(segs) && (seg == "place" || seg == "search") {
			if p, ok := parseCoordValue(strings.ReplaceAll(segs[i+1], "+", " ")); ok {
				return p, true
			}
		}
	}
	if i := strings.Index(path, "/dir/"); i >= 0 {
		// Directions: the last stop is where the reporter is going.
		dirSegs := strings.Split(path[i+len("/dir/"):], "/")
		for k := len(dirSegs) - 1; k >= 0; k-- {
			if p, ok := parseCoordValue(strings.ReplaceAll(dirSegs[k], "+", " ")); ok {
				return p, true
			}
		}
	}
	if p, ok := firstParam(u.Query(), "q", "query", "destination", "daddr", "ll", "center", "sll"); ok {
		return p, true
	}
	return matchPoint(googleAt, path)
}

func firstParam(q url.Values, keys ...string) (Point, bool) {
	for _, k := range keys {
		if v := q.Get(k); v != "" {
			if p, ok := parseCoordValue(v); ok {
				return p, true
			}
		}
	}
	return Point{}, false
}

// osmPoint prefers the marker (mlat/mlon) over the view (#map=).
func osmPoint(u *url.URL) (Point, bool, float64) {
	q := u.Query()
	if p, ok := pointFrom(q.Get("mlat"), q.Get("mlon")); ok {
		return p, true, 0
	}
	if p, ok := matchPoint(osmMap, u.Fragment); ok {
		return p, true, 0
	}
	if p, ok := pointFrom(q.Get("lat"), q.Get("lon")); ok {
		return p, true, 0
	}
	if code, ok := strings.CutPrefix(u.Path, "/go/"); ok {
		return osmShortLink(code)
	}
	if route := q.Get("route"); route != "" {
		stops := strings.Split(route, ";")
		if p, ok := parseCoordValue(stops[len(stops)-1]); ok {
			return p, true, 0
		}
	}
	p, ok := firstParam(q, "query")
	return p, ok, 0
}

// wazePoint reads ll=, q=, to=ll.lat,lon and the geohash of /ul/h… share
// links, which is the position itself and needs no lookup.
func wazePoint(u *url.URL) (Point, bool, float64) {
	q := u.Query()
	if p, ok := firstParam(q, "ll", "latlng", "q"); ok {
		return p, true, 0
	}
	if p, ok := matchPoint(wazeTo, q.Get("to")); ok {
		return p, true, 0
	}
	if p, ok := pointFrom(q.Get("lat"), q.Get("lon")); ok {
		return p, true, 0
	}
	if hash, ok := strings.CutPrefix(u.Path, "/ul/h"); ok {
		return geohashDecode(hash)
	}
	return Point{}, false, 0
}

// matchPoint parses the latitude and longitude that re captures (groups 1
// and 2) in s.
func matchPoint(re *regexp.Regexp, s string) (Point, bool) {
	m := re.FindStringSubmatch(s)
	if m == nil {
		return Point{}, false
	}
	return pointFrom(m[1], m[2])
}

// pointFrom parses a latitude and a longitude given separately.
func pointFrom(lat, lon string) (Point, bool) {
	a, ok1 := parseDecimal(lat)
	b, ok2 := parseDecimal(lon)
	p := Point{Lat: a, Lon: b}
	return p, ok1 && ok2 && p.Valid()
}

// parseDecimal accepts [+-]digits[.digits] and nothing else: no NaN, no
// Inf, no hex floats, no exponents, no underscores, which ParseFloat would
// take.
func parseDecimal(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	for _, m := range minusSigns[1:] {
		if strings.HasPrefix(s, m) {
			s = "-" + s[len(m):]
			break
		}
	}
	body := strings.TrimLeft(s, "+-")
	if len(s)-len(body) > 1 || body == "" || len(body) > 24 {
		return 0, false
	}
	dots := 0
	for i := 0; i < len(body); i++ {
		switch c := body[i]; {
		case c == '.' || c == ',':
			dots++
			if i == 0 || i == len(body)-1 {
				return 0, false
			}
		case !isDigit(c):
			return 0, false
		}
	}
	if dots > 1 {
		return 0, false
	}
	v, err := strconv.ParseFloat(strings.Replace(s, ",", ".", 1), 64)
	return v, err == nil
}

const geohashAlphabet = "0123456789bcdefghjkmnpqrstuvwxyz"

// geohashDecode returns the centre of a geohash cell and its half diagonal
// in metres.
func geohashDecode(hash string) (Point, bool, float64) {
	if len(hash) < 5 || len(hash) > 12 {
		return Point{}, false, 0 // shorter cells are tens of kilometres wide
	}
	latLo, latHi, lonLo, lonHi := -90.0, 90.0, -180.0, 180.0
	even := true
	for i := 0; i < len(hash); i++ {
		v := strings.IndexByte(geohashAlphabet, hash[i]|0x20)
		if v < 0 {
			return Point{}, false, 0
		}
		for bit := 4; bit >= 0; bit-- {
			on := v>>bit&1 == 1
			if even {
				mid := (lonLo + lonHi) / 2
				if on {
					lonLo = mid
				} else {
					lonHi = mid
				}
			} else {
				mid := (latLo + latHi) / 2
				if on {
					latLo = mid
				} else {
					latHi = mid
				}
			}
			even = !even
		}
	}
	c := Point{Lat: (latLo + latHi) / 2, Lon: (lonLo + lonHi) / 2}
	return c, c.Valid(), metres(c, Point{Lat: latHi, Lon: lonHi})
}

const osmShortAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_~"

// osmShortLink decodes an osm.org/go/ code: the bits of x and y
// interleaved, six to a character, with "-" marking zoom offsets.
func osmShortLink(code string) (Point, bool, float64) {
	var x, y uint64
	z := 0
	for i := 0; i < len(code); i++ {
		c := code[i]
		if c == '@' {
			c = '~' // older links
		}
		if c == '-' {
			continue
		}
		v := strings.IndexByte(osmShortAlphabet, c)
		if v < 0 || z >= 30 {
			return Point{}, false, 0
		}
		for k := 0; k < 3; k++ {
			x = x<<1 | uint64(v>>(5-2*k)&1)
			y = y<<1 | uint64(v>>(4-2*k)&1)
		}
		z += 3
	}
	if z < 15 {
		return Point{}, false, 0 // five characters or fewer: a whole region
	}
	x <<= 32 - z
	y <<= 32 - z
	// The code is the corner of its cell; report the centre.
	half := float64(uint64(1)<<(32-z)) / 2
	lon := (float64(x)+half)*360/math.Exp2(32) - 180
	lat := (float64(y)+half)*180/math.Exp2(32) - 90
	p := Point{Lat: lat, Lon: lon}
	return p, p.Valid(), metres(p, Point{Lat: lat + half*180/math.Exp2(32), Lon: lon + half*360/math.Exp2(32)})
}

// parseGeoURI reads an RFC 5870 geo: URI at the start of s and returns the
// length it used. A crs other than WGS84 is refused (its numbers are not
// latitude and longitude); u= is the uncertainty in metres. The Android
// form geo:0,0?q=lat,lon(label) is read too.
func parseGeoURI(s string) (linkMatch, bool) {
	m := linkMatch{source: SourceGeoURI, known: true}
	if len(s) < 4 || !strings.EqualFold(s[:4], "geo:") {
		return m, false
	}
	body, query, _ := strings.Cut(s[4:], "?")
	coords, params, _ := strings.Cut(body, ";")
	end := len(s)
	nums := strings.Split(coords, ",")
	if len(nums) < 2 || len(nums) > 3 {
		return m, false
	}
	lat, ok1 := parseDecimal(nums[0])
	lon, ok2 := parseDecimal(nums[1])
	if !ok1 || !ok2 {
		return m, false
	}
	if len(nums) == 3 {
		if _, ok := parseDecimal(nums[2]); !ok {
			return m, false
		}
	}
	first := true
	for _, prm := range strings.Split(params, ";") {
		if prm == "" {
			continue
		}
		name, val, _ := strings.Cut(prm, "=")
		switch strings.ToLower(name) {
		case "crs":
			if !first || !strings.EqualFold(val, "wgs84") {
				return m, false // another reference system, or crs out of place
			}
		case "u":
			u, ok := parseDecimal(val)
			if !ok || u < 0 {
				return m, false
			}
			m.radius = u
		}
		first = false
	}
	p := Point{Lat: lat, Lon: lon}
	if query != "" {
		if v, err := url.ParseQuery(query); err == nil {
			if qp, ok := parseCoordValue(v.Get("q")); ok {
				p = qp
			}
		}
	}
	if !p.Valid() {
		// geo:0,0?q=La+Molina names a place; the gazetteer reads it.
		m.end = end
		return m, true
	}
	m.p, m.hasPoint, m.end = p, true, end
	return m, true
}
