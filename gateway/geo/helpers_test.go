package geo

import (
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
)

// geodata is the shared boundary data, kept outside the repository.
const geodata = "../../../shared/geodata"

func geoFile(t testing.TB, name string) string {
	t.Helper()
	if _, err := os.Stat(geodata); os.IsNotExist(err) {
		// CI lays shared/ beside the clone: there the data must be present.
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but the boundary data %s is not present", geodata)
		}
		t.Skipf("boundary data %s not present", geodata)
	}
	return filepath.Join(geodata, name)
}

// testSpecs are the regions the table tests route against: every Lima and
// Callao district, every Peruvian department and every Malaysian state,
// each its own region.
func testSpecs(t testing.TB) []RegionSpec {
	return []RegionSpec{
		{ID: "lc", GeoJSONPath: geoFile(t, "lima-callao-districts.geojson"), NameProperty: "distrito", EachFeature: true},
		{ID: "pe", GeoJSONPath: geoFile(t, "peru-departments.geojson"), NameProperty: "NOMBDEP", EachFeature: true},
		{ID: "my", GeoJSONPath: geoFile(t, "malaysia-states.geojson"), NameProperty: "state", EachFeature: true},
	}
}

// testAliases are what an operator would configure: the names reporters
// use for places whose official name differs, in Malay, English, Chinese,
// and the real spelling of a mis-encoded upstream name.
var testAliases = map[string]string{
	"Kuala Lumpur":    "my/W.P. Kuala Lumpur",
	"KL":              "my/W.P. Kuala Lumpur",
	"吉隆坡":             "my/W.P. Kuala Lumpur",
	"Putrajaya":       "my/W.P. Putrajaya",
	"布城":              "my/W.P. Putrajaya",
	"Labuan":          "my/W.P. Labuan",
	"雪兰莪":             "my/Selangor",
	"Shah Alam":       "my/Selangor",
	"Penang":          "my/Pulau Pinang",
	"槟城":              "my/Pulau Pinang",
	"柔佛":              "my/Johor",
	"Mi Perú":         "MI PERÃz",
	"Cercado de Lima": "lc/LIMA",
	"利马":              "LIMA",
	"库斯科":             "CUSCO",
}

var (
	testOnce    sync.Once
	testIx      *Index
	testLoc     *Locator
	testLoadErr error
)

func testLocator(t testing.TB) (*Index, *Locator) {
	t.Helper()
	specs := testSpecs(t)
	testOnce.Do(func() {
		testIx, testLoadErr = Load(specs)
		if testLoadErr == nil {
			testLoc, testLoadErr = NewLocatorWithAliases(testIx, testAliases)
		}
	})
	if testLoadErr != nil {
		t.Fatal(testLoadErr)
	}
	return testIx, testLoc
}

// route is what the gateway does with a location. It also checks that
// Regions agrees with the point for coordinates, and that the point of a
// named place routes to the place's region.
func route(t testing.TB, ix *Index, loc Location) []string {
	t.Helper()
	switch {
	case loc.HasPoint && loc.Source != SourcePlace:
		if got := ix.Regions(loc.Point); !slices.Equal(got, loc.Regions) {
			t.Errorf("Regions = %v, but the point is in %v", loc.Regions, got)
		}
	case loc.HasPoint:
		if got := ix.Regions(loc.Point); !slices.Contains(got, loc.Region) {
			t.Errorf("the point of %s is in %v", loc.Region, got)
		}
	}
	return loc.Regions
}
