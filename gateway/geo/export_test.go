package geo

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"
)

type drawnDoc struct {
	Type     string `json:"type"`
	Features []struct {
		Type       string         `json:"type"`
		Properties map[string]any `json:"properties"`
		Geometry   struct {
			Type        string           `json:"type"`
			Coordinates [][][][2]float64 `json:"coordinates"`
		} `json:"geometry"`
	} `json:"features"`
}

func decodeDrawing(t *testing.T, doc []byte) drawnDoc {
	t.Helper()
	var d drawnDoc
	if err := json.Unmarshal(doc, &d); err != nil {
		t.Fatalf("not GeoJSON: %v", err)
	}
	if d.Type != "FeatureCollection" {
		t.Fatalf("type %q", d.Type)
	}
	return d
}

// TestDrawingGeodata: every district of Lima and Callao, every department
// of Peru and every state of Malaysia, drawn for an agency covering them,
// fit MaxDrawing, keep every feature with only region and name, rounded to
// 5 decimals and with closed rings.
func TestDrawingGeodata(t *testing.T) {
	ix, _ := testLocator(t)
	for _, prefix := range []string{"lc/", "pe/", "my/"} {
		t.Run(prefix, func(t *testing.T) {
			var regions []string
			for _, id := range ix.RegionIDs() {
				if strings.HasPrefix(id, prefix) {
					regions = append(regions, id)
				}
			}
			doc, err := ix.Drawing(regions)
			if err != nil {
				t.Fatal(err)
			}
			if len(doc) > MaxDrawing {
				t.Errorf("%d bytes, want at most %d", len(doc), MaxDrawing)
			}
			d := decodeDrawing(t, doc)
			var got []string
			for _, f := range d.Features {
				if len(f.Properties) != 2 || f.Properties["region"] == nil || f.Properties["name"] == nil {
					t.Fatalf("properties %v, want region and name only", f.Properties)
				}
				got = append(got, f.Properties["region"].(string))
				if f.Geometry.Type != "MultiPolygon" || len(f.Geometry.Coordinates) == 0 {
					t.Fatalf("%v: geometry %s with %d polygons", f.Properties, f.Geometry.Type, len(f.Geometry.Coordinates))
				}
				for _, poly := range f.Geometry.Coordinates {
					for _, ring := range poly {
						if len(ring) < 4 || ring[0] != ring[len(ring)-1] {
							t.Fatalf("%v: ring of %d points, closed %v", f.Properties, len(ring), ring[0] == ring[len(ring)-1])
						}
					}
				}
			}
			slices.Sort(got)
			got = slices.Compact(got)
			if !slices.Equal(got, regions) {
				t.Errorf("drawn regions %d, want all %d", len(got), len(regions))
			}
			// Rounded: no number in the document has more than 5 decimals.
			for _, tok := range strings.FieldsFunc(string(doc), func(r rune) bool { return strings.ContainsRune("[],:{}\"", r) }) {
				if _, err := strconv.ParseFloat(tok, 64); err == nil {
					if _, frac, ok := strings.Cut(tok, "."); ok && len(frac) > 5 {
						t.Fatalf("coordinate %s not rounded", tok)
					}
				}
			}
			t.Logf("%s: %d regions, %d bytes", prefix, len(regions), len(doc))
		})
	}
}

func TestDrawingInlineAndUnknown(t *testing.T) {
	ix, err := Load([]RegionSpec{
		{ID: "box", Polygon: [][][2]float64{{{-77.1, -12.1}, {-77.0, -12.1}, {-77.0, -12.0}, {-77.1, -12.0}}}},
		{ID: "other", Polygon: [][][2]float64{{{101.6, 3.0}, {101.8, 3.0}, {101.8, 3.2}, {101.6, 3.2}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	d := decodeDrawing(t, must(ix.Drawing([]string{"box", "no-such-region"})))
	if len(d.Features) != 1 || d.Features[0].Properties["region"] != "box" || d.Features[0].Properties["name"] != "box" {
		t.Fatalf("features %+v, want the box only, named by its id", d.Features)
	}
	want := [][2]float64{{-77.1, -12.1}, {-77.0, -12.1}, {-77.0, -12.0}, {-77.1, -12.0}, {-77.1, -12.1}}
	if got := d.Features[0].Geometry.Coordinates[0][0]; !slices.Equal(got, want) {
		t.Errorf("ring %v, want %v", got, want)
	}
	// No regions: an empty collection, features [] and not null.
	if doc := must(ix.Drawing(nil)); string(doc) != `{"type":"FeatureCollection","features":[]}` {
		t.Errorf("empty drawing %s", doc)
	}
	// The index's own shapes are not simplified in place.
	if !slices.Equal(ix.Regions(Point{Lat: -12.05, Lon: -77.05}), []string{"box"}) {
		t.Error("the box no longer routes")
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

// TestDrawingAllPeruDistricts: 1834 districts in one region (1.8 MB) are
// simplified as far as the tolerance goes; every district with a geometry
// is still drawn, even though so many features cannot all fit MaxDrawing
// (an agency's map is a department's districts or a country's departments).
func TestDrawingAllPeruDistricts(t *testing.T) {
	ix, err := Load([]RegionSpec{{ID: "pd", GeoJSONPath: geoFile(t, "peru-districts.geojson"), NameProperty: "NOMBDIST", SkipUnlocated: true}})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := ix.Drawing([]string{"pd"})
	if err != nil {
		t.Fatal(err)
	}
	if len(doc) > 3*MaxDrawing {
		t.Errorf("%d bytes, want at most %d", len(doc), 3*MaxDrawing)
	}
	located := 0
	for _, f := range ix.features {
		if f.shape != nil {
			located++
		}
	}
	if n := len(decodeDrawing(t, doc).Features); n != located || n < 1800 {
		t.Errorf("%d districts drawn, want all %d with a geometry", n, located)
	}
	t.Logf("%d bytes", len(doc))
}
