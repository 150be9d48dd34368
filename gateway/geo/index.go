package geo

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/planar"
	"github.com/tidwall/rtree"
)

// maxGeoJSON bounds a boundary file; national district layers are a few MB.
const maxGeoJSON = 256 << 20

// Point is a WGS84 position.
type Point struct {
	Lat float64 `json:"lat"`
	Lon float64 `json:"lon"`
}

// Valid reports whether p is a position on Earth, excluding the (0, 0)
// "null island" that broken clients send.
func (p Point) Valid() bool {
	return p.Lat >= -90 && p.Lat <= 90 && p.Lon >= -180 && p.Lon <= 180 && (p.Lat != 0 || p.Lon != 0)
}

// RegionSpec describes one configured region.
type RegionSpec struct {
	ID           string
	GeoJSONPath  string         // a FeatureCollection, Feature or bare geometry
	Feature      string         // "" or "*" for every feature, else a name matched against NameProperty
	NameProperty string         // the property holding a feature's name
	Polygon      [][][2]float64 // inline rings of [lon, lat], first the outer ring; the closing point may be left out
	// Aliases are other names for the gazetteer, as people write them
	// (exonyms, other scripts, short and local names): each maps a name to
	// a feature of this region, by its name, or to "" for the region as a
	// whole. With EachFeature every alias must name a feature.
	Aliases map[string]string

	// EachFeature makes every selected feature a region of its own, with
	// the id ID + "/" + the feature's IDProperty (for instance "pe/150114"
	// for La Molina in the INEI districts layer), so that one file of
	// thousands of districts needs one spec, not thousands.
	EachFeature bool
	// IDProperty holds a feature's unique id with EachFeature; when empty
	// NameProperty is used, and then names must be unique.
	IDProperty string
	// SkipUnlocated skips features whose geometry is null instead of
	// failing the load; they are listed in Warnings. Their names still
	// name the region in the gazetteer, without a point.
	SkipUnlocated bool
}

// Place is one named feature of a region, for the gazetteer.
type Place struct {
	Name   string
	Region string
	// Center is a point inside the feature (not the centroid, which can
	// fall outside a crescent-shaped district), so that Regions(Center)
	// always includes Region. It is the zero Point for a feature kept
	// without geometry (SkipUnlocated).
	Center Point
}

// feature is one selected GeoJSON feature or inline polygon.
type feature struct {
	name   string
	region int32
	shape  orb.MultiPolygon // nil for a feature kept without geometry
	bound  orb.Bound
	area   float64 // in square degrees, only to compare sizes
	inner  Point   // inside shape; zero without a shape
	radius float64 // metres from inner to the farthest corner of bound
}

// polygon is one entry of the spatial index.
type polygon struct {
	region int32
	poly   orb.Polygon
}

// regionAlias is a RegionSpec alias.
type regionAlias struct {
	name    string
	region  int32
	feature int32 // the feature named, or -1 for the region as a whole
}

// Index answers which regions contain a point. It is read-only after Load
// and safe for concurrent use.
type Index struct {
	ids      []string         // by region number
	byID     map[string]int32 // region id -> number
	features []feature
	byRegion [][]int32 // region number -> its features
	aliases  []regionAlias
	polys    []polygon
	tree     rtree.RTreeG[int32] // bounds of polys
	warnings []string
}

// Load reads every region. It reports every problem found, not only the
// first, because each one would misroute tips silently: a missing file, a
// feature name that matches nothing, a feature that is not a polygon,
// geometry that is invalid (rings not closed or with fewer than 4 points,
// coordinates off the globe or not numbers, a ring across the
// antimeridian, a ring without area), a coordinate system other than
// WGS84, duplicate region ids.
func Load(specs []RegionSpec) (*Index, error) {
	ix := &Index{byID: make(map[string]int32)}
	l := loader{ix: ix, files: make(map[string]*parsedFile)}
	var errs []error
	for _, s := range specs {
		if err := l.loadSpec(s); err != nil {
			name := s.ID
			if name == "" {
				name = "(no id)"
			}
			// One line per problem, each naming its region.
			for _, e := range unjoin(err) {
				errs = append(errs, fmt.Errorf("region %s: %w", name, e))
			}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	for i := range ix.polys {
		b := ix.polys[i].poly.Bound()
		ix.tree.Insert(b.Min, b.Max, int32(i))
	}
	return ix, nil
}

// unjoin lists the errors inside errors.Join, however deep.
func unjoin(err error) []error {
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return []error{err}
	}
	var out []error
	for _, e := range j.Unwrap() {
		out = append(out, unjoin(e)...)
	}
	return out
}

type parsedFile struct {
	features []*geojson.Feature
	err      error
}

type loader struct {
	ix    *Index
	files map[string]*parsedFile // a file named by many specs is read once
}

func (l *loader) addRegion(id string) (int32, error) {
	if id == "" {
		return 0, errors.New("region has no id")
	}
	if _, dup := l.ix.byID[id]; dup {
		return 0, fmt.Errorf("duplicate region id %q", id)
	}
	n := int32(len(l.ix.ids))
	l.ix.ids = append(l.ix.ids, id)
	l.ix.byID[id] = n
	l.ix.byRegion = append(l.ix.byRegion, nil)
	return n, nil
}

func (l *loader) addFeature(region int32, name string, mp orb.MultiPolygon) {
	f := feature{name: name, region: region}
	if len(mp) > 0 {
		f.shape = mp
		f.bound = mp.Bound()
		f.area = math.Abs(planar.Area(mp))
		f.inner = interiorPoint(mp)
		f.radius = boundRadius(f.inner, f.bound)
		for _, p := range mp {
			l.ix.polys = append(l.ix.polys, polygon{region: region, poly: p})
		}
	}
	l.ix.byRegion[region] = append(l.ix.byRegion[region], int32(len(l.ix.features)))
	l.ix.features = append(l.ix.features, f)
	if looksMisencoded(name) {
		l.ix.warnings = append(l.ix.warnings, fmt.Sprintf(
			"region %s: feature name %q looks mis-encoded; add an alias with its real spelling", l.ix.ids[region], name))
	}
}

func (l *loader) loadSpec(s RegionSpec) error {
	hasFile := s.GeoJSONPath != ""
	if len(s.Polygon) > 0 && hasFile {
		return errors.New("give either a polygon or a GeoJSON file, not both")
	}
	if len(s.Polygon) > 0 {
		if s.EachFeature {
			return errors.New("each-feature needs a GeoJSON file")
		}
		mp, err := inlinePolygon(s.Polygon)
		if err != nil {
			return err
		}
		r, err := l.addRegion(s.ID)
		if err != nil {
			return err
		}
		l.addFeature(r, "", mp)
		return l.addAliases(s, r, len(l.ix.features)-1)
	}
	if !hasFile {
		return errors.New("no polygon and no GeoJSON file")
	}
	features, err := l.read(s.GeoJSONPath)
	if err != nil {
		return err
	}
	wantAll := s.Feature == "" || s.Feature == "*"
	if !wantAll && s.NameProperty == "" {
		return fmt.Errorf("feature %q given without a name property", s.Feature)
	}
	var errs []error
	region := int32(-1)
	if !s.EachFeature {
		if region, err = l.addRegion(s.ID); err != nil {
			return err
		}
	} else if s.ID == "" {
		return errors.New("region has no id")
	}
	idProp := s.IDProperty
	if idProp == "" {
		idProp = s.NameProperty
	}
	if s.EachFeature && idProp == "" {
		return errors.New("each-feature needs an id property or a name property")
	}
	matched := 0
	first := len(l.ix.features)
	for i, f := range features {
		name := ""
		if s.NameProperty != "" {
			name = propertyString(f.Properties, s.NameProperty)
		}
		if !wantAll && !SameName(name, s.Feature) {
			continue
		}
		matched++
		what := fmt.Sprintf("feature %d", i)
		if name != "" {
			what = fmt.Sprintf("feature %d (%s)", i, name)
		}
		mp, err := featureShape(f.Geometry)
		if errors.Is(err, errNoGeometry) && s.SkipUnlocated {
			l.ix.warnings = append(l.ix.warnings, fmt.Sprintf("region %s: %s has no geometry and covers nothing", s.ID, what))
		} else if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", what, err))
			continue
		}
		r := region
		if s.EachFeature {
			key := propertyString(f.Properties, idProp)
			if key == "" {
				errs = append(errs, fmt.Errorf("%s: no %s to use as its id", what, idProp))
				continue
			}
			if r, err = l.addRegion(s.ID + "/" + key); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w (use a unique id property)", what, err))
				continue
			}
		}
		l.addFeature(r, name, mp)
	}
	switch {
	case matched == 0 && !wantAll:
		errs = append(errs, fmt.Errorf("no feature with %s = %q in %s", s.NameProperty, s.Feature, s.GeoJSONPath))
	case matched == 0:
		errs = append(errs, fmt.Errorf("no features in %s", s.GeoJSONPath))
	case matched > 1 && !wantAll:
		l.ix.warnings = append(l.ix.warnings, fmt.Sprintf(
			"region %s: %d features are named %q; the region is all of them", s.ID, matched, s.Feature))
	}
	if err := l.addAliases(s, region, first); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// addAliases resolves the aliases of spec s, whose features are
// l.ix.features[first:] and whose region is region (-1 with EachFeature).
// An alias that names no feature, or that has no letters, is an error: it
// would quietly fail to route.
func (l *loader) addAliases(s RegionSpec, region int32, first int) error {
	names := make([]string, 0, len(s.Aliases))
	for a := range s.Aliases {
		names = append(names, a)
	}
	slices.Sort(names)
	var errs []error
	for _, a := range names {
		target := s.Aliases[a]
		if FoldName(a) == "" {
			errs = append(errs, fmt.Errorf("alias %q has no letters or digits", a))
			continue
		}
		if target == "" {
			if region < 0 {
				errs = append(errs, fmt.Errorf("alias %q names no feature, and each-feature makes one region per feature: write it as %q: FEATURE", a, a))
				continue
			}
			l.ix.aliases = append(l.ix.aliases, regionAlias{name: a, region: region, feature: -1})
			continue
		}
		found := false
		for i := first; i < len(l.ix.features); i++ {
			f := &l.ix.features[i]
			if SameName(f.name, target) || slices.Contains(adminVariants(FoldName(f.name)), FoldName(target)) {
				l.ix.aliases = append(l.ix.aliases, regionAlias{name: a, region: f.region, feature: int32(i)})
				found = true
			}
		}
		if !found {
			errs = append(errs, fmt.Errorf("alias %q names no feature: no feature of this region is named %q", a, target))
		}
	}
	return errors.Join(errs...)
}

func (l *loader) read(path string) ([]*geojson.Feature, error) {
	if pf, ok := l.files[path]; ok {
		return pf.features, pf.err
	}
	features, err := readFeatures(path)
	l.files[path] = &parsedFile{features: features, err: err}
	return features, err
}

func readFeatures(path string) ([]*geojson.Feature, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cannot open boundary file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxGeoJSON+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read boundary file: %w", err)
	}
	if len(data) > maxGeoJSON {
		return nil, fmt.Errorf("boundary file %s is larger than %d MiB", path, maxGeoJSON>>20)
	}
	var head struct {
		Type string          `json:"type"`
		CRS  json.RawMessage `json:"crs"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("%s is not JSON: %w", path, err)
	}
	if err := checkCRS(head.CRS); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	switch head.Type {
	case "FeatureCollection":
		fc, err := geojson.UnmarshalFeatureCollection(data)
		if err != nil {
			return nil, fmt.Errorf("%s is not a valid FeatureCollection: %w", path, err)
		}
		return fc.Features, nil
	case "Feature":
		ft, err := geojson.UnmarshalFeature(data)
		if err != nil {
			return nil, fmt.Errorf("%s is not a valid Feature: %w", path, err)
		}
		return []*geojson.Feature{ft}, nil
	default:
		g, err := geojson.UnmarshalGeometry(data)
		if err != nil {
			return nil, fmt.Errorf("%s is not GeoJSON: %w", path, err)
		}
		return []*geojson.Feature{geojson.NewFeature(g.Geometry())}, nil
	}
}

// checkCRS accepts the legacy "crs" member only when it names WGS84 lon/lat:
// projected coordinates (metres) would put every point off the map.
func checkCRS(raw json.RawMessage) error {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var crs struct {
		Properties struct {
			Name string `json:"name"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(raw, &crs); err != nil {
		return fmt.Errorf("unreadable crs member: %w", err)
	}
	switch strings.ToUpper(crs.Properties.Name) {
	case "URN:OGC:DEF:CRS:OGC:1.3:CRS84", "URN:OGC:DEF:CRS:OGC::CRS84", "EPSG:4326", "URN:OGC:DEF:CRS:EPSG::4326", "CRS84", "WGS84":
		return nil
	}
	return fmt.Errorf("coordinate system %q is not WGS84 longitude/latitude; reproject the file", crs.Properties.Name)
}

// propertyString reads a name or id property; numeric ids (DOSM's
// code_state) are printed without a fraction.
func propertyString(p geojson.Properties, key string) string {
	switch v := p[key].(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case json.Number:
		return v.String()
	default:
		return ""
	}
}

var errNoGeometry = errors.New("feature has no geometry")

func featureShape(g orb.Geometry) (orb.MultiPolygon, error) {
	var mp orb.MultiPolygon
	switch g := g.(type) {
	case nil:
		return nil, errNoGeometry
	case orb.Polygon:
		mp = orb.MultiPolygon{g}
	case orb.MultiPolygon:
		mp = g
	default:
		return nil, fmt.Errorf("geometry is a %s, not a Polygon or MultiPolygon", g.GeoJSONType())
	}
	if err := checkShape(mp); err != nil {
		return nil, err
	}
	return mp, nil
}

func inlinePolygon(rings [][][2]float64) (orb.MultiPolygon, error) {
	poly := make(orb.Polygon, 0, len(rings))
	for _, ring := range rings {
		r := make(orb.Ring, 0, len(ring)+1)
		for _, pt := range ring {
			r = append(r, orb.Point{pt[0], pt[1]})
		}
		// Inline rings are written by hand in the config: closing them
		// is a convenience, not a guess.
		if len(r) > 0 && r[0] != r[len(r)-1] {
			r = append(r, r[0])
		}
		poly = append(poly, r)
	}
	mp := orb.MultiPolygon{poly}
	if err := checkShape(mp); err != nil {
		return nil, err
	}
	return mp, nil
}

// checkShape rejects geometry that planar point-in-polygon would answer
// wrongly without any error.
func checkShape(mp orb.MultiPolygon) error {
	if len(mp) == 0 {
		return errors.New("empty geometry")
	}
	for pi, poly := range mp {
		if len(poly) == 0 {
			return fmt.Errorf("polygon %d has no rings", pi)
		}
		for ri, ring := range poly {
			where := fmt.Sprintf("polygon %d ring %d", pi, ri)
			if len(ring) < 4 {
				return fmt.Errorf("%s has %d points; a ring needs at least 4", where, len(ring))
			}
			if ring[0] != ring[len(ring)-1] {
				return fmt.Errorf("%s is not closed (its last point must repeat the first)", where)
			}
			for k, p := range ring {
				if math.IsNaN(p[0]) || math.IsNaN(p[1]) || p[1] < -90 || p[1] > 90 || p[0] < -180 || p[0] > 180 {
					return fmt.Errorf("%s point %d is off the globe (coordinates are [lon, lat])", where, k)
				}
				if k > 0 && math.Abs(p[0]-ring[k-1][0]) > 180 {
					return fmt.Errorf("%s crosses the antimeridian; split it at 180°", where)
				}
			}
			if planar.Area(ring) == 0 {
				return fmt.Errorf("%s has no area", where)
			}
		}
	}
	return nil
}

// looksMisencoded spots UTF-8 read as Latin-1 ("PERÃš", upstream's "MI
// PERÃz") so that check-config can ask for an alias: such a name never
// matches what a reporter types.
func looksMisencoded(name string) bool {
	if strings.ContainsRune(name, utf8.RuneError) {
		return true
	}
	rs := []rune(name)
	for i, r := range rs {
		if r != 'Ã' && r != 'Â' {
			continue
		}
		if i+1 == len(rs) {
			return true
		}
		next := rs[i+1]
		switch {
		case next >= 0x80 && next <= 0xBF: // a UTF-8 continuation byte read as Latin-1
			return true
		case strings.ContainsRune("€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ", next): // ... read as Windows-1252
			return true
		case unicode.IsLower(next) && onlyLower(rs, i+1):
			// One lower-case letter glued to "Ã" in an upper-case name;
			// Portuguese "SÃO" keeps its case.
			return true
		}
	}
	return false
}

// onlyLower reports whether rs[at] is the only lower-case letter in rs.
func onlyLower(rs []rune, at int) bool {
	for i, r := range rs {
		if i != at && unicode.IsLower(r) {
			return false
		}
	}
	return true
}

// interiorPoint returns a point inside mp: the centroid of its largest
// polygon when that is inside, else the middle of the widest inside span
// of a horizontal line through it (the usual "point on surface").
func interiorPoint(mp orb.MultiPolygon) Point {
	best, bestArea := 0, -1.0
	for i, p := range mp {
		if a := math.Abs(planar.Area(p)); a > bestArea {
			best, bestArea = i, a
		}
	}
	poly := mp[best]
	c, _ := planar.CentroidArea(poly)
	if planar.PolygonContains(poly, c) && !onBoundary(poly, c) {
		return Point{Lat: c[1], Lon: c[0]}
	}
	b := poly.Bound()
	h := b.Max[1] - b.Min[1]
	for _, frac := range []float64{0.5, 0.25, 0.75, 0.375, 0.625, 0.125, 0.875, 0.4375, 0.5625, 0.3125, 0.6875} {
		y := b.Min[1] + h*frac
		if p, ok := widestSpan(poly, y); ok {
			return p
		}
	}
	// A sliver too thin for the scanlines: a vertex is on the boundary,
	// which planar counts as inside.
	return Point{Lat: poly[0][0][1], Lon: poly[0][0][0]}
}

func widestSpan(poly orb.Polygon, y float64) (Point, bool) {
	var xs []float64
	for _, ring := range poly {
		for i := 1; i < len(ring); i++ {
			a, b := ring[i-1], ring[i]
			if (a[1] > y) != (b[1] > y) {
				xs = append(xs, a[0]+(y-a[1])*(b[0]-a[0])/(b[1]-a[1]))
			}
		}
	}
	slices.Sort(xs)
	bestW := 0.0
	var best Point
	for i := 0; i+1 < len(xs); i += 2 {
		if w := xs[i+1] - xs[i]; w > bestW {
			p := Point{Lat: y, Lon: (xs[i] + xs[i+1]) / 2}
			if planar.PolygonContains(poly, orb.Point{p.Lon, p.Lat}) {
				bestW, best = w, p
			}
		}
	}
	return best, bestW > 0
}

func onBoundary(poly orb.Polygon, p orb.Point) bool {
	for _, ring := range poly {
		for i := 1; i < len(ring); i++ {
			if planar.DistanceFromSegmentSquared(ring[i-1], ring[i], p) == 0 {
				return true
			}
		}
	}
	return false
}

// boundRadius is the distance in metres from p to the farthest corner of b:
// how far the reporter may be from a place's point.
func boundRadius(p Point, b orb.Bound) float64 {
	r := 0.0
	for _, c := range [][2]float64{{b.Min[0], b.Min[1]}, {b.Min[0], b.Max[1]}, {b.Max[0], b.Min[1]}, {b.Max[0], b.Max[1]}} {
		r = math.Max(r, metres(p, Point{Lat: c[1], Lon: c[0]}))
	}
	return r
}

// metres is the great-circle distance between a and b.
func metres(a, b Point) float64 {
	const earth = 6371008.8
	la1, la2 := a.Lat*math.Pi/180, b.Lat*math.Pi/180
	dla, dlo := la2-la1, (b.Lon-a.Lon)*math.Pi/180
	h := math.Sin(dla/2)*math.Sin(dla/2) + math.Cos(la1)*math.Cos(la2)*math.Sin(dlo/2)*math.Sin(dlo/2)
	return 2 * earth * math.Asin(math.Min(1, math.Sqrt(h)))
}

// Regions returns the ids of the regions that contain p, sorted. A point in
// a hole (Kuala Lumpur inside Selangor) is not in the polygon with the
// hole. A point on a border shared by two regions is in both: sending a
// copy to a neighbouring agency is better than sending it to none.
func (ix *Index) Regions(p Point) []string {
	if ix == nil || !p.Valid() {
		return nil
	}
	hits := ix.regionsAt(p, make([]int32, 0, 4))
	if len(hits) == 0 {
		return nil
	}
	out := make([]string, len(hits))
	for i, r := range hits {
		out[i] = ix.ids[r]
	}
	slices.Sort(out)
	return out
}

// regionsAt appends the numbers of the regions containing p to hits: the
// R-tree narrows thousands of polygons to the few whose bounds hold p, and
// only those are tested exactly.
func (ix *Index) regionsAt(p Point, hits []int32) []int32 {
	pt := orb.Point{p.Lon, p.Lat}
	ix.tree.Search(pt, pt, func(_, _ [2]float64, i int32) bool {
		pg := &ix.polys[i]
		if !slices.Contains(hits, pg.region) && planar.PolygonContains(pg.poly, pt) {
			hits = append(hits, pg.region)
		}
		return true
	})
	return hits
}

// coverShare is the share of a feature's area that must lie inside a
// region for the region to hold the whole feature. Layers from different
// sources trace the same border (and the same coastline) differently, so
// not all of it: by the simplified INEI departments, 17% of San Martín de
// Porres lies in Callao and 10% of Ventanilla in Lima. A neighbour in the
// same layer holds almost none of it, and more than half means that at
// most one region of a layer qualifies.
const coverShare = 2.0 / 3

// coverGrid is the side of the grid of sample points laid over a
// feature's bounds; only the points inside the feature count.
const coverGrid = 8

// covering returns the ids of the regions that hold all of feature f: its
// own, and for a district the department around it (but not the
// neighbouring districts, nor a region with f in a hole). It samples the
// inside of the feature, not its border: a coastal district traced by
// another source has stretches of coast outside the department's own
// tracing, but its inside is in the department.
func (ix *Index) covering(f int32, samples []Point) []string {
	ft := &ix.features[f]
	own := ix.ids[ft.region]
	if ft.shape == nil {
		return []string{own}
	}
	// Only a region holding the feature's own point can hold the
	// feature: test the samples against those alone.
	var cands []int32
	for _, r := range ix.regionsAt(ft.inner, nil) {
		if r != ft.region {
			cands = append(cands, r)
		}
	}
	out := []string{own}
	for _, r := range cands {
		n := 0
		for _, p := range samples {
			if ix.inRegion(r, p) {
				n++
			}
		}
		if float64(n) >= coverShare*float64(len(samples)) {
			out = append(out, ix.ids[r])
		}
	}
	slices.Sort(out)
	return out
}

// interiorSamples returns points spread over the inside of feature f (its
// own point and those of a grid over its bounds that fall inside), to
// measure how much of it another place holds.
func (ix *Index) interiorSamples(f int32) []Point {
	ft := &ix.features[f]
	if ft.shape == nil {
		return nil
	}
	out := []Point{ft.inner}
	for n := coverGrid; n <= 4*coverGrid && len(out) < coverGrid; n *= 2 {
		dx, dy := (ft.bound.Max[0]-ft.bound.Min[0])/float64(n), (ft.bound.Max[1]-ft.bound.Min[1])/float64(n)
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				p := Point{Lon: ft.bound.Min[0] + (float64(i)+0.5)*dx, Lat: ft.bound.Min[1] + (float64(j)+0.5)*dy}
				if ix.inFeature(f, p) {
					out = append(out, p)
				}
			}
		}
	}
	return out
}

// shareIn is the share of samples (of a feature) inside feature g.
func (ix *Index) shareIn(samples []Point, g int32) float64 {
	if len(samples) == 0 {
		return 0
	}
	n := 0
	for _, p := range samples {
		if ix.inFeature(g, p) {
			n++
		}
	}
	return float64(n) / float64(len(samples))
}

// inRegion reports whether p is inside one of the features of region r.
func (ix *Index) inRegion(r int32, p Point) bool {
	for _, f := range ix.byRegion[r] {
		if ix.inFeature(f, p) {
			return true
		}
	}
	return false
}

// inFeature reports whether p is inside feature f.
func (ix *Index) inFeature(f int32, p Point) bool {
	ft := &ix.features[f]
	pt := orb.Point{p.Lon, p.Lat}
	return ft.shape != nil && ft.bound.Contains(pt) && planar.MultiPolygonContains(ft.shape, pt)
}

// Places returns the named features, for building a gazetteer.
func (ix *Index) Places() []Place {
	if ix == nil {
		return nil
	}
	var out []Place
	for _, f := range ix.features {
		if f.name != "" {
			out = append(out, Place{Name: f.name, Region: ix.ids[f.region], Center: f.inner})
		}
	}
	return out
}

// RegionIDs returns every region id, sorted, so that the configuration can
// check that agencies name regions that exist and that every region is
// covered by some agency.
func (ix *Index) RegionIDs() []string {
	if ix == nil {
		return nil
	}
	out := slices.Clone(ix.ids)
	slices.Sort(out)
	return out
}

// Warnings returns problems that do not stop the load but that an operator
// should see in check-config: features skipped for lack of geometry, names
// that look mis-encoded, a feature name that selects several features.
func (ix *Index) Warnings() []string {
	if ix == nil {
		return nil
	}
	return slices.Clone(ix.warnings)
}
