package geo

import (
	"slices"
	"sort"
	"unicode/utf8"

	"github.com/paulmach/orb"
)

// Source says where a location came from. It is sealed with the tip so the
// officer can judge how far to trust it.
type Source string

// Sources of a location.
const (
	SourcePin      Source = "pin"       // a WhatsApp location pin (Latitude/Longitude fields)
	SourceForm     Source = "form"      // the web form's lat/lon fields
	SourceDecimal  Source = "decimal"   // decimal degrees in the text: -12.0857, -76.9397 or 3.139 N 101.6869 E
	SourceDMS      Source = "dms"       // degrees, minutes (and seconds) in the text: 12°05'08.5"S 76°56'23.0"W
	SourceMapLink  Source = "map_link"  // a Google Maps, Apple Maps, OpenStreetMap or Waze link
	SourceGeoURI   Source = "geo_uri"   // an RFC 5870 geo: URI
	SourcePlusCode Source = "plus_code" // a full plus code, or a short one placed by a locality in the text
	SourcePlace    Source = "place"     // a place name from the gazetteer
	// SourcePlaceAmbiguous is a place name shared by features in different
	// regions that the text does not settle; Candidates lists the regions.
	SourcePlaceAmbiguous Source = "place_ambiguous"
	// SourceLinkUnresolved is a map link whose position needs the network
	// (maps.app.goo.gl, goo.gl/maps, maps.apple/p) or that holds none, or
	// a geo: URI naming a place: it has no point, but the officer can open it.
	SourceLinkUnresolved Source = "link_unresolved"
	// SourcePlusCodeShort is a short plus code with no known locality
	// next to it: it has no point.
	SourcePlusCodeShort Source = "plus_code_short"
)

// maxLocateText bounds the text the locator reads. An SMS thread is a few
// kilobytes; a location far down a longer message is still in the sealed
// text for the officer.
const maxLocateText = 64 << 10

// Hints are structured coordinates that came with a message, outside its
// text: a WhatsApp pin or the web form's fields.
type Hints struct {
	Latitude, Longitude string
	Source              Source // SourcePin or SourceForm; SourcePin when empty
}

// Location is what the locator found.
//
// Regions is where the tip belongs, and the gateway should route on it:
// for coordinates, the regions containing the point; for a place name, the
// regions that contain the whole named feature (La Molina's own region and
// the department around it, but not a district that merely holds the
// department's middle); for an ambiguous name, the regions that contain
// every candidate. It is empty when nothing routes (an unresolved link, a
// point outside every region).
//
// HasPoint is set for every source with coordinates, and for a place name
// whose feature has geometry: Point is then a point inside that feature,
// chosen so that Index.Regions(Point) always includes Region, and Radius
// says how coarse it is. For a named place Regions is the more exact
// answer: the point of a large place (a department) falls in one of its
// districts, which Regions(Point) would add.
type Location struct {
	Point    Point  `json:"point"`
	HasPoint bool   `json:"has_point"`
	Region   string `json:"region,omitempty"` // for a place name: the region of the named feature
	Source   Source `json:"source"`
	Match    string `json:"match,omitempty"` // the text that matched: Match == text[Start:End]
	Start    int    `json:"start,omitempty"` // byte span of Match in the text
	End      int    `json:"end,omitempty"`
	// Regions are the ids of the regions the location lies in, sorted.
	Regions []string `json:"regions,omitempty"`
	// Radius is how far, in metres, the place may be from Point where
	// that is known: the u= of a geo: URI, the cell of a plus code or a
	// geohash, the extent of a named feature.
	Radius float64 `json:"radius_m,omitempty"`
	// Candidates are the regions an ambiguous place name may refer to.
	Candidates []string `json:"candidates,omitempty"`
}

// Locator finds a location in a message. It is read-only after it is made
// and safe for concurrent use.
type Locator struct {
	ix    *Index
	gaz   gazetteer
	cover map[int32][]string // named feature -> regions containing all of it
	// holds[{g, f}]: feature g holds most of feature f, both named alike.
	holds map[[2]int32]bool
}

// NewLocator returns a locator over the regions of ix, whose gazetteer
// holds the feature names (with and without their administrative words),
// the RegionSpec aliases and the built-in local names of the documented
// boundary files whose places ix holds. ix may be nil: only coordinates
// are read then.
func NewLocator(ix *Index) *Locator {
	l, err := NewLocatorWithAliases(ix, nil)
	if err != nil {
		// Without explicit aliases there is nothing that can fail.
		panic("geo: " + err.Error())
	}
	return l
}

// NewLocatorWithAliases is NewLocator with more names for the gazetteer:
// aliases maps a name as reporters write it ("吉隆坡", "KL", "Mi Perú") to a
// region id, or else to a feature name. An alias whose target is neither is
// an error, as is one without letters: either would quietly fail to route.
// An alias equal to a feature name replaces that name, which is how an
// operator settles a name that several features share.
func NewLocatorWithAliases(ix *Index, aliases map[string]string) (*Locator, error) {
	if ix == nil {
		ix = &Index{byID: map[string]int32{}}
	}
	g, err := buildGazetteer(ix, aliases)
	if err != nil {
		return nil, err
	}
	l := &Locator{ix: ix, gaz: g, cover: make(map[int32][]string), holds: make(map[[2]int32]bool)}
	samples := make(map[int32][]Point)
	for _, e := range g.entries {
		for _, f := range e.features {
			if _, done := l.cover[f]; !done {
				samples[f] = ix.interiorSamples(f)
				l.cover[f] = ix.covering(f, samples[f])
			}
		}
	}
	// Which feature holds which, among those that share a name.
	for _, e := range g.entries {
		for _, f := range e.features {
			for _, h := range e.features {
				if f != h && ix.features[f].bound.Intersects(ix.features[h].bound) &&
					ix.shareIn(samples[f], h) >= coverShare {
					l.holds[[2]int32{h, f}] = true
				}
			}
		}
	}
	return l, nil
}

// Locate returns the best location in text and hints: a pin or form
// coordinates first (the reporter chose them), then the first coordinates
// in the text (decimal, degrees-minutes-seconds, a map link, a geo: URI, a
// plus code), then a place name (the most specific one, else the first),
// then what has no point (an unresolved link, an ambiguous name).
func (l *Locator) Locate(text string, h Hints) (Location, bool) {
	if loc, ok := fromHints(h); ok {
		return l.withRegions(loc), true
	}
	all := l.find(text)
	if len(all) == 0 {
		return Location{}, false
	}
	return l.withRegions(all[0]), true
}

// LocateAll returns every location found, best first in the order Locate
// uses, so that the sealed report can show the officer all of them.
func (l *Locator) LocateAll(text string, h Hints) []Location {
	var out []Location
	if loc, ok := fromHints(h); ok {
		out = append(out, loc)
	}
	out = append(out, l.find(text)...)
	for i := range out {
		out[i] = l.withRegions(out[i])
	}
	return out
}

func fromHints(h Hints) (Location, bool) {
	lat, ok1 := parseDecimal(h.Latitude)
	lon, ok2 := parseDecimal(h.Longitude)
	p := Point{Lat: lat, Lon: lon}
	if !ok1 || !ok2 || !p.Valid() {
		return Location{}, false
	}
	src := h.Source
	if src == "" {
		src = SourcePin
	}
	return Location{Point: p, HasPoint: true, Source: src}, true
}

// withRegions fills the routing answer of a location with a point.
func (l *Locator) withRegions(loc Location) Location {
	if loc.HasPoint && loc.Regions == nil {
		loc.Regions = l.ix.Regions(loc.Point)
	}
	return loc
}

// ranked orders the findings: rank first, then within a rank, then text
// position.
type ranked struct {
	loc       Location
	rank, sub int
}

const (
	rankPoint      = iota // coordinates of any kind
	rankPlace             // a place name with a point or a region
	rankUnresolved        // no point and no region
)

func (l *Locator) find(text string) []Location {
	if len(text) > maxLocateText {
		cut := maxLocateText
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut-- // do not split a character
		}
		text = text[:cut]
	}
	var found []ranked
	add := func(rank, sub, start, end int, loc Location) {
		loc.Start, loc.End, loc.Match = start, end, text[start:end]
		found = append(found, ranked{loc: loc, rank: rank, sub: sub})
	}

	links := scanLinks(text)
	var masked, unknown []span
	for _, m := range links {
		masked = append(masked, span{m.start, m.end})
		switch {
		case !m.known:
			unknown = append(unknown, span{m.start, m.end})
		case m.hasPoint:
			add(rankPoint, 0, m.start, m.end, Location{Point: m.p, HasPoint: true, Source: m.source, Radius: m.radius})
		default:
			add(rankUnresolved, 0, m.start, m.end, Location{Source: SourceLinkUnresolved})
		}
	}
	codes := scanPlusCodes(text, masked)
	for _, c := range codes {
		masked = append(masked, span{c.start, c.end})
		if c.full {
			if p, r, ok := decodePlusCode(c.code); ok {
				add(rankPoint, 0, c.start, c.end, Location{Point: p, HasPoint: true, Source: SourcePlusCode, Radius: r})
			}
		}
	}
	coords := scanCoords(text, masked)
	for _, c := range coords {
		src := SourceDecimal
		if c.dms {
			src = SourceDMS
		}
		add(rankPoint, 0, c.start, c.end, Location{Point: c.p, HasPoint: true, Source: src})
		masked = append(masked, span{c.start, c.end})
	}

	var places []placeHit
	if len(l.gaz.keys) > 0 {
		places = l.places(text, masked, unknown, links)
		for _, ph := range places {
			loc, rank, sub := l.placeLocation(ph)
			add(rank, sub, ph.start, ph.end, loc)
		}
	}
	for _, c := range codes {
		if c.full {
			continue
		}
		if loc, start, end, ok := l.placeShortCode(c, places); ok {
			add(rankPoint, 0, start, end, loc)
		} else {
			add(rankUnresolved, 0, c.start, c.end, Location{Source: SourcePlusCodeShort})
		}
	}
	sort.SliceStable(found, func(i, j int) bool {
		a, b := found[i], found[j]
		if a.rank != b.rank {
			return a.rank < b.rank
		}
		if a.sub != b.sub {
			return a.sub < b.sub
		}
		return a.loc.Start < b.loc.Start
	})
	out := make([]Location, len(found))
	for i, f := range found {
		out[i] = f.loc
	}
	return out
}

// placeHit is a place name resolved as far as the text allows.
type placeHit struct {
	start, end int
	entry      int
	feature    int32   // the feature named, or -1
	region     int32   // the region named when no one feature is, or -1
	same       []int32 // more features of the same place, from other layers
	feats      []int32 // the candidate features of an ambiguous name
	regions    []int32 // ... and its candidate regions without a feature
	broader    bool    // contains another place of the text: it qualifies it
}

// places finds place names and settles those that several features share:
// a feature containing another candidate gives way to it (the district
// LIMA over the department LIMA), and a candidate inside another name of
// the text wins ("Miraflores, Arequipa").
func (l *Locator) places(text string, masked, unknown []span, links []linkMatch) []placeHit {
	var f foldedText
	f.fold(text, true)
	matches := l.gaz.find(text, &f)
	kept := matches[:0]
	for _, m := range matches {
		// Names inside coordinates, plus codes or unrelated links are
		// not place names; names inside a map link are ("/maps/place/La+Molina").
		if overlaps(unknown, m.start, m.end) || overlapsNonLink(masked, links, m.start, m.end) {
			continue
		}
		// Streets are named after places elsewhere: Jr. Ucayali is in
		// Lima, Jalan Ipoh in Kuala Lumpur.
		if streetName(f.s, m.fs, m.fe) {
			continue
		}
		kept = append(kept, m)
	}
	matches = kept
	hits := make([]placeHit, len(matches))
	for i, m := range matches {
		e := &l.gaz.entries[m.entry]
		feats := l.byLevel(e.features, narrowQualified(f.s, m.fs, m.fe))
		regions := e.regions
		if len(feats)+len(regions) > 1 {
			// Context: keep the candidates inside another name of the text.
			var inside []int32
			for _, f := range feats {
				if l.insideOther(l.ix.features[f].inner, f, m.entry, matches) {
					inside = append(inside, f)
				}
			}
			if len(inside) > 0 {
				feats, regions = inside, nil
			}
		}
		h := placeHit{start: m.start, end: m.end, entry: m.entry, feature: -1, region: -1}
		var all []int32
		for _, f := range feats {
			all = appendUnique(all, l.ix.features[f].region)
		}
		for _, r := range regions {
			all = appendUnique(all, r)
		}
		switch {
		case len(feats) == 1 && len(regions) == 0:
			h.feature = feats[0]
		case len(all) == 1:
			h.region = all[0]
		case len(regions) == 0 && l.samePlace(feats):
			// One place in two layers (two agencies' boundary files):
			// it goes to both, as its coordinates would.
			h.feature, h.same = feats[0], feats[1:]
		default:
			h.feats, h.regions = feats, regions
		}
		hits[i] = h
	}
	// A name whose place contains another place of the text qualifies
	// it: "La Molina, Lima" and "Miraflores, Arequipa" are about the
	// district.
	for i := range hits {
		for j := range hits {
			if hits[i].entry == hits[j].entry {
				continue
			}
			var pts []int32
			if hits[j].feature >= 0 {
				pts = []int32{hits[j].feature}
			} else {
				pts = hits[j].feats
			}
			for _, f := range pts {
				if l.insideEntry(l.ix.features[f].inner, f, hits[i].entry) {
					hits[i].broader = true
				}
			}
		}
	}
	return hits
}

// placeLocation turns a hit into a location and its rank: a named feature
// first, then an ambiguous name that still routes, then a region named as
// a whole, then names that only qualify another.
func (l *Locator) placeLocation(h placeHit) (Location, int, int) {
	sub := func(n int) int {
		if h.broader {
			return 3
		}
		return n
	}
	switch {
	case h.feature >= 0:
		f := &l.ix.features[h.feature]
		regions := slices.Clone(l.cover[h.feature])
		for _, g := range h.same {
			for _, id := range l.cover[g] {
				regions = appendUniqueID(regions, id)
			}
		}
		slices.Sort(regions)
		return Location{Point: f.inner, HasPoint: true, Region: l.ix.ids[f.region], Source: SourcePlace,
			Regions: regions, Radius: f.radius}, rankPlace, sub(0)
	case h.region >= 0:
		id := l.ix.ids[h.region]
		return Location{Region: id, Source: SourcePlace, Regions: []string{id}}, rankPlace, sub(2)
	}
	loc := Location{Source: SourcePlaceAmbiguous}
	var common []string
	for i, f := range h.feats {
		loc.Candidates = appendUniqueID(loc.Candidates, l.ix.ids[l.ix.features[f].region])
		if i == 0 {
			common = slices.Clone(l.cover[f])
		} else {
			common = slices.DeleteFunc(common, func(id string) bool { return !slices.Contains(l.cover[f], id) })
		}
	}
	for _, r := range h.regions {
		loc.Candidates = appendUniqueID(loc.Candidates, l.ix.ids[r])
		common = nil // a candidate without geometry: nothing is known to hold it
	}
	slices.Sort(loc.Candidates)
	if len(common) > 0 && len(h.regions) == 0 {
		loc.Regions = common
		return loc, rankPlace, sub(1)
	}
	return loc, rankUnresolved, 0
}

func appendUniqueID(s []string, id string) []string {
	if slices.Contains(s, id) {
		return s
	}
	return append(s, id)
}

// overlapsNonLink reports whether [start, end) overlaps a masked span that
// is not a known map link.
func overlapsNonLink(masked []span, links []linkMatch, start, end int) bool {
	for _, s := range masked {
		if start < s.end && s.start < end {
			isLink := false
			for _, l := range links {
				if l.known && l.start == s.start && l.end == s.end {
					isLink = true
					break
				}
			}
			if !isLink {
				return true
			}
		}
	}
	return false
}

// byLevel settles a name that features at two levels share (the district
// LIMA inside the department LIMA): the name alone means the larger place,
// as people use it ("Lima" is the city, not its historic centre); with a
// district word ("Cercado de Lima", "distrito de Lima", "Lima Cercado")
// it means the smaller. Features that are not nested stay candidates.
func (l *Locator) byLevel(feats []int32, narrow bool) []int32 {
	if len(feats) < 2 {
		return feats
	}
	out := make([]int32, 0, len(feats))
	for _, f := range feats {
		drop := false
		for _, g := range feats {
			if g != f && ((narrow && l.within(g, f)) || (!narrow && l.within(f, g))) {
				drop = true
				break
			}
		}
		if !drop {
			out = append(out, f)
		}
	}
	return out
}

// within reports whether feature f lies inside feature g, a larger place:
// most of f is in g and not the other way round. The points of the two
// cannot tell, since the point of a department may lie in its capital
// district.
func (l *Locator) within(f, g int32) bool {
	return l.holds[[2]int32{g, f}] && !l.holds[[2]int32{f, g}]
}

// samePlace reports whether feats are one place traced by the layers of
// different regions: most of each lies in every other. Two sources trace
// the same district differently (INEI 2007 gives the district LIMA 45%
// more area than the Lima and Callao layer does).
func (l *Locator) samePlace(feats []int32) bool {
	for _, f := range feats {
		for _, g := range feats {
			if f != g && (l.ix.features[f].region == l.ix.features[g].region || !l.holds[[2]int32{g, f}]) {
				return false
			}
		}
	}
	return true
}

// insideOther reports whether p (of feature f) lies inside a feature named
// by another name of the text.
func (l *Locator) insideOther(p Point, f int32, self int, matches []nameMatch) bool {
	for _, m := range matches {
		if m.entry != self && l.insideEntry(p, f, m.entry) {
			return true
		}
	}
	return false
}

// insideEntry reports whether p (of feature f) lies inside one of the
// features a gazetteer entry names.
func (l *Locator) insideEntry(p Point, f int32, entry int) bool {
	for _, g := range l.gaz.entries[entry].features {
		if g != f && l.ix.inFeature(g, p) {
			return true
		}
	}
	return false
}

// shortCodeReach is how far a recovered short code may lie outside the
// locality named with it: Google prints a nearby locality, not always the
// one that contains the code, but a code placed tens of kilometres away is
// a typo, not a position.
const shortCodeReach = 0.1 // degrees

// placeShortCode recovers a short plus code from the place name nearest to
// it in the text ("W376+P4 La Molina").
func (l *Locator) placeShortCode(c codeMatch, places []placeHit) (Location, int, int, bool) {
	best, bestDist := -1, 0
	for i, ph := range places {
		if ph.feature < 0 {
			continue
		}
		d := ph.start - c.end
		if ph.start < c.start {
			d = c.start - ph.end
		}
		if best < 0 || d < bestDist {
			best, bestDist = i, d
		}
	}
	if best < 0 {
		return Location{}, 0, 0, false
	}
	ph := places[best]
	f := &l.ix.features[ph.feature]
	p, r, ok := recoverPlusCode(c.code, f.inner)
	if !ok {
		return Location{}, 0, 0, false
	}
	reach := orb.Bound{
		Min: orb.Point{f.bound.Min[0] - shortCodeReach, f.bound.Min[1] - shortCodeReach},
		Max: orb.Point{f.bound.Max[0] + shortCodeReach, f.bound.Max[1] + shortCodeReach},
	}
	if !reach.Contains(orb.Point{p.Lon, p.Lat}) {
		return Location{}, 0, 0, false
	}
	return Location{Point: p, HasPoint: true, Source: SourcePlusCode, Radius: r},
		min(c.start, ph.start), max(c.end, ph.end), true
}
