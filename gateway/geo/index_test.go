package geo

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

// TestRealBoundaries routes well-known places against the real boundary
// files: where a tip is sent depends on exactly these answers.
func TestRealBoundaries(t *testing.T) {
	ix, _ := testLocator(t)
	cases := []struct {
		place string
		p     Point
		want  []string // exactly these regions
	}{
		// Lima and Callao districts (and their departments).
		{"La Molina, UNALM", Point{-12.0857, -76.9397}, []string{laMolina, limaDept}},
		{"Miraflores, Parque Kennedy", Point{-12.1211, -77.0297}, []string{"lc/MIRAFLORES", limaDept}},
		{"San Isidro", Point{-12.0977, -77.0365}, []string{"lc/SAN ISIDRO", limaDept}},
		{"Plaza de Armas de Lima", Point{-12.0464, -77.0428}, []string{"lc/LIMA", limaDept}},
		{"San Juan de Lurigancho", Point{-11.98, -77.0}, []string{"lc/SAN JUAN DE LURIGANCHO", limaDept}},
		{"Callao, Plaza Grau", Point{-12.0566, -77.1181}, []string{callao, "pe/CALLAO"}},
		{"Bellavista, Callao", Point{-12.0617, -77.1089}, []string{"lc/BELLAVISTA", "pe/CALLAO"}},
		{"Ventanilla, Callao", Point{-11.8753, -77.1256}, []string{"lc/VENTANILLA", "pe/CALLAO"}},
		// Peru departments.
		{"Cusco", Point{-13.5319, -71.9675}, []string{"pe/CUSCO"}},
		{"Arequipa", Point{-16.409, -71.5375}, []string{"pe/AREQUIPA"}},
		{"Trujillo", Point{-8.1116, -79.0288}, []string{"pe/LA LIBERTAD"}},
		{"Iquitos", Point{-3.7437, -73.2516}, []string{"pe/LORETO"}},
		{"Puno", Point{-15.8402, -70.0219}, []string{"pe/PUNO"}},
		{"Puerto Maldonado", Point{-12.5933, -69.1891}, []string{"pe/MADRE DE DIOS"}},
		// Malaysia: Kuala Lumpur and Putrajaya are holes in Selangor.
		{"Kuala Lumpur, Merdeka Square", Point{3.1478, 101.6953}, []string{kl}},
		{"Kuala Lumpur, KLCC", Point{3.1590, 101.7130}, []string{kl}},
		{"Putrajaya, Perdana Putra", Point{2.9264, 101.6964}, []string{putra}},
		{"Shah Alam", Point{3.0733, 101.5185}, []string{selangor}},
		{"Petaling Jaya", Point{3.1073, 101.6067}, []string{selangor}},
		{"Johor Bahru", Point{1.4927, 103.7414}, []string{"my/Johor"}},
		{"George Town", Point{5.4141, 100.3288}, []string{"my/Pulau Pinang"}},
		{"Kota Kinabalu", Point{5.9804, 116.0735}, []string{"my/Sabah"}},
		{"Kuching", Point{1.5533, 110.3592}, []string{"my/Sarawak"}},
		{"Labuan", Point{5.2831, 115.2308}, []string{"my/W.P. Labuan"}},
		// Nowhere configured.
		{"Singapore", Point{1.2903, 103.8519}, nil},
		{"Pacific off Callao", Point{-12.2, -77.5}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.place, func(t *testing.T) {
			if got := ix.Regions(tc.p); !slices.Equal(got, tc.want) {
				t.Errorf("Regions(%v) = %v, want %v", tc.p, got, tc.want)
			}
		})
	}
}

// TestSelangorHoles checks that the Kuala Lumpur and Putrajaya points lie
// inside Selangor's outer ring, so that only the holes keep them out: the
// test above would prove nothing if they were simply outside.
func TestSelangorHoles(t *testing.T) {
	ix, err := Load([]RegionSpec{{ID: "selangor", GeoJSONPath: geoFile(t, "malaysia-states.geojson"), NameProperty: "state", Feature: "selangor"}})
	if err != nil {
		t.Fatal(err)
	}
	f := ix.features[0]
	for _, p := range []Point{{3.1478, 101.6953}, {2.9264, 101.6964}} {
		pt := orb.Point{p.Lon, p.Lat}
		inOuter := false
		for _, poly := range f.shape {
			if planar.RingContains(poly[0], pt) {
				inOuter = true
				if len(poly) < 2 {
					t.Errorf("the polygon holding %v has no holes", p)
				}
			}
		}
		if !inOuter {
			t.Errorf("%v is not inside Selangor's outer ring; the hole test is void", p)
		}
		if got := ix.Regions(p); len(got) != 0 {
			t.Errorf("Regions(%v) = %v, want none: it is in a hole", p, got)
		}
	}
	if got := ix.Regions(Point{3.0733, 101.5185}); !slices.Equal(got, []string{"selangor"}) {
		t.Errorf("Shah Alam: Regions = %v, want [selangor]", got)
	}
}

// TestIndexMatchesBruteForce compares the R-tree answers with testing every
// polygon, on random points over Peru and Malaysia.
func TestIndexMatchesBruteForce(t *testing.T) {
	ix, _ := testLocator(t)
	rng := rand.New(rand.NewPCG(1, 2))
	boxes := []orb.Bound{
		{Min: orb.Point{-81.5, -18.5}, Max: orb.Point{-68.5, 0}},     // Peru
		{Min: orb.Point{-77.3, -12.6}, Max: orb.Point{-76.6, -11.5}}, // Lima and Callao
		{Min: orb.Point{99.5, 0.8}, Max: orb.Point{119.5, 7.5}},      // Malaysia
		{Min: orb.Point{101.4, 2.8}, Max: orb.Point{101.9, 3.3}},     // the Klang valley
	}
	for n := 0; n < 4000; n++ {
		b := boxes[n%len(boxes)]
		p := Point{Lat: b.Min[1] + rng.Float64()*(b.Max[1]-b.Min[1]), Lon: b.Min[0] + rng.Float64()*(b.Max[0]-b.Min[0])}
		var want []string
		for _, f := range ix.features {
			pt := orb.Point{p.Lon, p.Lat}
			if f.shape != nil && f.bound.Contains(pt) && planar.MultiPolygonContains(f.shape, pt) {
				want = appendUniqueString(want, ix.ids[f.region])
			}
		}
		slices.Sort(want)
		if got := ix.Regions(p); !slices.Equal(got, want) {
			t.Fatalf("Regions(%v) = %v, brute force %v", p, got, want)
		}
	}
}

func appendUniqueString(s []string, v string) []string {
	if slices.Contains(s, v) {
		return s
	}
	return append(s, v)
}

// TestPlaceCentres checks the promise the gateway relies on: the point of
// a named place routes to the place's own region, for every feature of
// every layer, including concave and multi-part ones.
func TestPlaceCentres(t *testing.T) {
	ix, err := Load(append(testSpecs(t), RegionSpec{
		ID: "pd", GeoJSONPath: geoFile(t, "peru-districts.geojson"), NameProperty: "NOMBDIST",
		IDProperty: "IDDIST", EachFeature: true, SkipUnlocated: true,
	}))
	if err != nil {
		t.Fatal(err)
	}
	places := ix.Places()
	if len(places) != 50+25+16+1834 {
		t.Errorf("%d places, want %d", len(places), 50+25+16+1834)
	}
	for _, p := range places {
		if p.Center == (Point{}) {
			continue // kept without geometry
		}
		if got := ix.Regions(p.Center); !slices.Contains(got, p.Region) {
			t.Errorf("%s (%s): Regions(%v) = %v, missing its own region", p.Name, p.Region, p.Center, got)
		}
	}
}

// TestDisambiguation uses the national districts layer, where names repeat
// (five districts are called Miraflores): the rest of the text settles the
// name, or the location says it is ambiguous rather than guess.
func TestDisambiguation(t *testing.T) {
	ix, err := Load([]RegionSpec{
		{ID: "pd", GeoJSONPath: geoFile(t, "peru-districts.geojson"), NameProperty: "NOMBDIST", IDProperty: "IDDIST", EachFeature: true, SkipUnlocated: true},
		{ID: "pe", GeoJSONPath: geoFile(t, "peru-departments.geojson"), NameProperty: "NOMBDEP", EachFeature: true},
		{ID: "peru", GeoJSONPath: geoFile(t, "peru-departments.geojson")},
	})
	if err != nil {
		t.Fatal(err)
	}
	l := NewLocator(ix)
	cases := []struct {
		text       string
		source     Source
		region     string
		candidates []string
		regions    []string // where the tip goes
	}{
		{"estoy en Miraflores, Arequipa", SourcePlace, "pd/040110", nil, []string{"pd/040110", "pe/AREQUIPA", "peru"}},
		{"Miraflores (Huánuco)", SourcePlace, "pd/100506", nil, []string{"pd/100506", "pe/HUANUCO", "peru"}},
		// Two Miraflores lie in the department of Lima: the tip goes to
		// the department, to no district.
		{"estoy en Miraflores, Lima", SourcePlaceAmbiguous, "", []string{"pd/150122", "pd/151021"}, []string{"pe/LIMA", "peru"}},
		{"estoy en Miraflores", SourcePlaceAmbiguous, "", []string{"pd/040110", "pd/100506", "pd/150122", "pd/151021"}, []string{"peru"}},
		{"trabajo en La Molina", SourcePlace, "pd/150114", nil, []string{"pd/150114", "pe/LIMA", "peru"}},
		// The district LIMA inside the department LIMA: the name alone is
		// the larger place, as people use it (issue 17: "Lima" is the
		// city, not its historic centre); a district word asks for the
		// district. Before issue 17 the bare name meant the district.
		{"Estoy en Lima", SourcePlace, "pe/LIMA", nil, []string{"pe/LIMA", "peru"}},
		{"Estoy en el distrito de Lima", SourcePlace, "pd/150101", nil, []string{"pd/150101", "pe/LIMA", "peru"}},
		{"cercado de lima, jr. ucayali", SourcePlace, "pd/150101", nil, []string{"pd/150101", "pe/LIMA", "peru"}},
		{"Lima Cercado", SourcePlace, "pd/150101", nil, []string{"pd/150101", "pe/LIMA", "peru"}},
		// A department alone routes to the department, not to the
		// district that holds its middle, nor to the district named like
		// it.
		{"en un barco en Loreto", SourcePlace, "pe/LORETO", nil, []string{"pe/LORETO", "peru"}},
		{"en una mina de Madre de Dios", SourcePlace, "pe/MADRE DE DIOS", nil, []string{"pe/MADRE DE DIOS", "peru"}},
		// INEI 2007 still calls Pueblo Libre "MAGDALENA VIEJA".
		{"estoy en Magdalena Vieja", SourcePlace, "pd/150121", nil, []string{"pd/150121", "pe/LIMA", "peru"}},
		// A district kept without geometry names its region, with no point.
		{"en la isla Amantani", SourcePlace, "pd/210103", nil, []string{"pd/210103"}},
	}
	for _, tc := range cases {
		loc, ok := l.Locate(tc.text, Hints{})
		if !ok || loc.Source != tc.source || loc.Region != tc.region || !slices.Equal(loc.Candidates, tc.candidates) || !slices.Equal(loc.Regions, tc.regions) {
			t.Errorf("Locate(%q) = %+v, %v; want %s region %q candidates %v regions %v", tc.text, loc, ok, tc.source, tc.region, tc.candidates, tc.regions)
		}
		if loc.Source == SourcePlaceAmbiguous && (loc.HasPoint || loc.Region != "") {
			t.Errorf("Locate(%q): an ambiguous name must not route: %+v", tc.text, loc)
		}
	}
	// The Miraflores of Arequipa routes to Arequipa, not Lima.
	loc, _ := l.Locate("estoy en Miraflores, Arequipa", Hints{})
	if got := ix.Regions(loc.Point); !slices.Contains(got, "pe/AREQUIPA") || slices.Contains(got, "pe/LIMA") {
		t.Errorf("Regions = %v, want pe/AREQUIPA and not pe/LIMA", got)
	}
}

// TestWholeLayerRegion loads a layer as one region: a repeated name then
// names that region, without a point.
func TestWholeLayerRegion(t *testing.T) {
	ix, err := Load([]RegionSpec{{ID: "peru", GeoJSONPath: geoFile(t, "peru-districts.geojson"), NameProperty: "NOMBDIST", Feature: "*", SkipUnlocated: true}})
	if err != nil {
		t.Fatal(err)
	}
	loc, ok := NewLocator(ix).Locate("estoy en Miraflores", Hints{})
	if !ok || loc.Region != "peru" || loc.HasPoint {
		t.Errorf("Locate = %+v, %v; want region peru without a point", loc, ok)
	}
	if got := ix.Regions(Point{-12.0857, -76.9397}); !slices.Equal(got, []string{"peru"}) {
		t.Errorf("Regions = %v", got)
	}
	if got := ix.RegionIDs(); !slices.Equal(got, []string{"peru"}) {
		t.Errorf("RegionIDs = %v", got)
	}
}

func TestWarnings(t *testing.T) {
	ix, err := Load([]RegionSpec{
		{ID: "lc", GeoJSONPath: geoFile(t, "lima-callao-districts.geojson"), NameProperty: "distrito"},
		{ID: "pd", GeoJSONPath: geoFile(t, "peru-districts.geojson"), NameProperty: "NOMBDIST", Feature: "*", SkipUnlocated: true},
		{ID: "sr", GeoJSONPath: geoFile(t, "peru-districts.geojson"), NameProperty: "NOMBDIST", Feature: "Santa Rosa"},
	})
	if err != nil {
		t.Fatal(err)
	}
	w := strings.Join(ix.Warnings(), "\n")
	for _, want := range []string{`"MI PERÃz" looks mis-encoded`, "(AMANTANI) has no geometry", "(BELLAVISTA) has no geometry", `10 features are named "Santa Rosa"`} {
		if !strings.Contains(w, want) {
			t.Errorf("warnings lack %q:\n%s", want, w)
		}
	}
	if n := strings.Count(w, "has no geometry"); n != 8 {
		t.Errorf("%d features without geometry reported, want 8", n)
	}
}

func TestMisencoded(t *testing.T) {
	for name, want := range map[string]bool{
		"MI PERÃz": true, "PERÃš": true, "Bogotá": false, "SÃO PAULO": false, "São Paulo": false,
		"BREÑA": false, "Ã©": true, "MI PER\uFFFD": true, "W.P. Kuala Lumpur": false,
	} {
		if got := looksMisencoded(name); got != want {
			t.Errorf("looksMisencoded(%q) = %v, want %v", name, got, want)
		}
	}
}

// TestLoadRejects lists what Load must refuse, because each would misroute
// tips without any error.
func TestLoadRejects(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	square := `[[-77,-12],[-76,-12],[-76,-11],[-77,-11],[-77,-12]]`
	fc := func(geom string) string {
		return `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"A","id":"1"},"geometry":` + geom + `}]}`
	}
	good := write("good.geojson", fc(`{"type":"Polygon","coordinates":[`+square+`]}`))
	cases := []struct {
		name string
		spec RegionSpec
		want string
	}{
		{"missing file", RegionSpec{ID: "r", GeoJSONPath: filepath.Join(dir, "nope.geojson")}, "cannot open boundary file"},
		{"feature matches nothing", RegionSpec{ID: "r", GeoJSONPath: good, NameProperty: "name", Feature: "B"}, `no feature with name = "B"`},
		{"feature without name property", RegionSpec{ID: "r", GeoJSONPath: good, Feature: "A"}, "without a name property"},
		{"not json", RegionSpec{ID: "r", GeoJSONPath: write("bad.geojson", "{")}, "not JSON"},
		{"unclosed ring", RegionSpec{ID: "r", GeoJSONPath: write("open.geojson", fc(`{"type":"Polygon","coordinates":[[[-77,-12],[-76,-12],[-76,-11],[-77,-11]]]}`))}, "not closed"},
		{"short ring", RegionSpec{ID: "r", GeoJSONPath: write("short.geojson", fc(`{"type":"Polygon","coordinates":[[[-77,-12],[-76,-12],[-77,-12]]]}`))}, "at least 4"},
		{"lat lon swapped", RegionSpec{ID: "r", GeoJSONPath: write("swap.geojson", fc(`{"type":"Polygon","coordinates":[[[-12,-77],[-12,-76],[-11,-200],[-12,-77]]]}`))}, "off the globe"},
		{"point feature", RegionSpec{ID: "r", GeoJSONPath: write("point.geojson", fc(`{"type":"Point","coordinates":[-77,-12]}`))}, "not a Polygon"},
		{"null geometry", RegionSpec{ID: "r", GeoJSONPath: write("null.geojson", fc(`null`))}, "no geometry"},
		{"no area", RegionSpec{ID: "r", GeoJSONPath: write("flat.geojson", fc(`{"type":"Polygon","coordinates":[[[-77,-12],[-76,-12],[-75,-12],[-77,-12]]]}`))}, "no area"},
		{"antimeridian", RegionSpec{ID: "r", GeoJSONPath: write("fiji.geojson", fc(`{"type":"Polygon","coordinates":[[[179,-17],[-179,-17],[-179,-16],[179,-16],[179,-17]]]}`))}, "antimeridian"},
		{"projected crs", RegionSpec{ID: "r", GeoJSONPath: write("merc.geojson", `{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::3857"}},"features":[]}`)}, "not WGS84"},
		{"inline NaN", RegionSpec{ID: "r", Polygon: [][][2]float64{{{-77, -12}, {-76, math.NaN()}, {-76, -11}}}}, "off the globe"},
		{"inline off globe", RegionSpec{ID: "r", Polygon: [][][2]float64{{{-77, -12}, {-76, -95}, {-76, -11}}}}, "off the globe"},
		{"no id", RegionSpec{GeoJSONPath: good}, "no id"},
		{"nothing", RegionSpec{ID: "r"}, "no polygon and no GeoJSON file"},
		{"both", RegionSpec{ID: "r", GeoJSONPath: good, Polygon: [][][2]float64{{{-77, -12}, {-76, -12}, {-76, -11}}}}, "not both"},
		{"each feature with aliases", RegionSpec{ID: "r", GeoJSONPath: good, NameProperty: "name", EachFeature: true, Aliases: map[string]string{"x": ""}}, `alias "x" names no feature, and each-feature`},
		{"alias names no feature", RegionSpec{ID: "r", GeoJSONPath: good, NameProperty: "name", EachFeature: true, Aliases: map[string]string{"Cercado": "B"}}, `alias "Cercado" names no feature: no feature of this region is named "B"`},
		{"alias on a polygon names a feature", RegionSpec{ID: "r", Polygon: [][][2]float64{{{-77, -12}, {-76, -12}, {-76, -11}}}, Aliases: map[string]string{"Casa": "A"}}, `alias "Casa" names no feature`},
		{"alias without letters", RegionSpec{ID: "r", GeoJSONPath: good, Aliases: map[string]string{"--": ""}}, `alias "--" has no letters`},
		{"each feature ids repeat", RegionSpec{ID: "pd", GeoJSONPath: write("repeat.geojson", `{"type":"FeatureCollection","features":[`+
			`{"type":"Feature","properties":{"name":"SANTA ROSA"},"geometry":{"type":"Polygon","coordinates":[`+square+`]}},`+
			`{"type":"Feature","properties":{"name":"SANTA ROSA"},"geometry":{"type":"Polygon","coordinates":[`+square+`]}}]}`),
			NameProperty: "name", EachFeature: true}, `duplicate region id "pd/SANTA ROSA"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ix, err := Load([]RegionSpec{tc.spec})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Load = %v, %v; want an error with %q", ix, err, tc.want)
			}
		})
	}
	// Every problem is reported, not only the first.
	_, err := Load([]RegionSpec{cases[0].spec, cases[1].spec, {ID: "ok", GeoJSONPath: good}, {ID: "ok", GeoJSONPath: good}})
	for _, want := range []string{"cannot open", `no feature with name = "B"`, `duplicate region id "ok"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Load error %v lacks %q", err, want)
		}
	}
}

func TestLoadAccepts(t *testing.T) {
	dir := t.TempDir()
	feature := filepath.Join(dir, "feature.geojson")
	bare := filepath.Join(dir, "bare.geojson")
	os.WriteFile(feature, []byte(`{"type":"Feature","properties":{"n":"Casa"},"geometry":{"type":"Polygon","coordinates":[[[-77,-12],[-76,-12],[-76,-11],[-77,-11],[-77,-12]]]}}`), 0o600)
	os.WriteFile(bare, []byte(`{"type":"MultiPolygon","crs":{"type":"name","properties":{"name":"EPSG:4326"}},"coordinates":[[[[100,3],[102,3],[102,4],[100,4],[100,3]]]]}`), 0o600)
	ix, err := Load([]RegionSpec{
		{ID: "feature", GeoJSONPath: feature, NameProperty: "n", Aliases: map[string]string{"la casa grande": ""}},
		{ID: "bare", GeoJSONPath: bare},
		// Inline rings may leave out the closing point; holes are honoured.
		{ID: "inline", Polygon: [][][2]float64{{{-78, -13}, {-75, -13}, {-75, -10}, {-78, -10}}, {{-77.5, -12.5}, {-77.2, -12.5}, {-77.2, -12.2}, {-77.5, -12.2}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		p    Point
		want []string
	}{
		{Point{-11.5, -76.5}, []string{"feature", "inline"}},
		{Point{3.5, 101}, []string{"bare"}},
		{Point{-12.3, -77.3}, nil}, // in the inline hole
		{Point{-12.9, -77.9}, []string{"inline"}},
		{Point{-12, -76.5}, []string{"feature", "inline"}}, // on the border: in
		{Point{0, 0}, nil},
		{Point{91, 0}, nil},
	} {
		if got := ix.Regions(tc.p); !slices.Equal(got, tc.want) {
			t.Errorf("Regions(%v) = %v, want %v", tc.p, got, tc.want)
		}
	}
	loc, ok := NewLocator(ix).Locate("vivo por la Casa Grande", Hints{})
	if !ok || loc.Region != "feature" || !loc.HasPoint {
		t.Errorf("alias of a one-feature region: %+v, %v", loc, ok)
	}
	if got := ix.RegionIDs(); !slices.Equal(got, []string{"bare", "feature", "inline"}) {
		t.Errorf("RegionIDs = %v", got)
	}
	var nilIx *Index
	if nilIx.Regions(Point{1, 1}) != nil || nilIx.Places() != nil {
		t.Error("a nil index must answer nothing")
	}
}

func TestAliasErrors(t *testing.T) {
	ix, _ := testLocator(t)
	_, err := NewLocatorWithAliases(ix, map[string]string{"Cercado": "lc/NOWHERE", "...": "lc/LIMA"})
	if err == nil || !strings.Contains(err.Error(), `alias "Cercado": no region id or feature name "lc/NOWHERE"`) || !strings.Contains(err.Error(), `alias "..." has no letters`) {
		t.Errorf("err = %v", err)
	}
}

func TestFoldName(t *testing.T) {
	for in, want := range map[string]string{
		"  San Juan de  Lurigancho ": "san juan de lurigancho",
		"BREÑA":                      "brena",
		"Perú.":                      "peru",
		"W.P. Kuala Lumpur":          "w p kuala lumpur",
		"吉隆坡":                        "吉隆坡",
		"Pe\u0301rez":                "perez", // a combining accent
		"서울":                         "서울",    // Hangul stays composed
		"İstanbul":                   "istanbul",
		"---":                        "",
	} {
		if got := FoldName(in); got != want {
			t.Errorf("FoldName(%q) = %q, want %q", in, got, want)
		}
	}
	if !SameName("Villa María del Triunfo", "VILLA MARIA DEL TRIUNFO") || SameName("Lima", "Limatambo") {
		t.Error("SameName")
	}
}
