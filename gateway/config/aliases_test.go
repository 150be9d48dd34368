package config_test

import (
	"maps"
	"strings"
	"testing"

	"github.com/hotline-org/hotline/gateway/config"
	"github.com/hotline-org/hotline/gateway/geo"
)

// regionsYAML is valid.yaml with its regions replaced.
func withRegions(t *testing.T, regions string) []byte {
	t.Helper()
	data := string(readFixture(t, "valid.yaml"))
	start := strings.Index(data, "\nregions:\n")
	end := strings.Index(data, "\nagencies:\n")
	if start < 0 || end < start {
		t.Fatal("valid.yaml has no regions block")
	}
	return []byte(data[:start] + "\nregions:\n" + regions + data[end:])
}

// TestRegionAliasesForms reads both forms of regions[].aliases: the map of
// name to feature (issue 17) and the older list of names for the whole
// region, which keeps working.
func TestRegionAliasesForms(t *testing.T) {
	data := withRegions(t, `  - id: lima
    geojson: geo/lima.geojson
    feature: "*"
    name_property: distrito
    aliases: {"利马": "Test Lima", TL: "Test Lima", Cercado: ""}
  - id: callao
    polygon:
      - [[-77.20, -12.10], [-77.05, -12.10], [-77.05, -11.90], [-77.20, -11.90], [-77.20, -12.10]]
    aliases: [Chalaco, El Callao]
`)
	c, err := config.Parse(data, testdataDir(t), env{"HOTLINE_PEPPER": testPepper}.get)
	if err != nil {
		t.Fatal(err)
	}
	if want := (config.RegionAliases{"利马": "Test Lima", "TL": "Test Lima", "Cercado": ""}); !maps.Equal(c.Regions[0].Aliases, want) {
		t.Errorf("map form = %v, want %v", c.Regions[0].Aliases, want)
	}
	if want := (config.RegionAliases{"Chalaco": "", "El Callao": ""}); !maps.Equal(c.Regions[1].Aliases, want) {
		t.Errorf("list form = %v, want %v", c.Regions[1].Aliases, want)
	}
	if ps := c.Validate(); ps.Err() != nil {
		t.Errorf("Validate: %v", ps.Err())
	}
	for _, bad := range []string{"aliases: 5", "aliases: [[a]]", "aliases: {a: [b]}"} {
		_, err := config.Parse(withRegions(t, "  - id: callao\n    polygon: [[[-77.2, -12.1], [-77.05, -12.1], [-77.05, -11.9]]]\n    "+bad+"\n"),
			testdataDir(t), env{"HOTLINE_PEPPER": testPepper}.get)
		if err == nil || !strings.Contains(err.Error(), "aliases") {
			t.Errorf("%s: err = %v, want an aliases error", bad, err)
		}
	}
}

// TestRegionAliasNamesNoFeature: an alias whose feature is not in the
// region's boundary file is reported when the regions are loaded, which
// check-config does after Validate, with the alias and the feature named.
func TestRegionAliasNamesNoFeature(t *testing.T) {
	data := withRegions(t, `  - id: lima
    geojson: geo/lima.geojson
    feature: "*"
    name_property: distrito
    aliases: {TL: "Test Lima", Chosica: "Lurigancho"}
  - id: callao
    polygon:
      - [[-77.20, -12.10], [-77.05, -12.10], [-77.05, -11.90], [-77.20, -11.90], [-77.20, -12.10]]
`)
	c, err := config.Parse(data, testdataDir(t), env{"HOTLINE_PEPPER": testPepper}.get)
	if err != nil {
		t.Fatal(err)
	}
	if ps := c.Validate(); ps.Err() != nil {
		t.Fatalf("Validate: %v", ps.Err())
	}
	// What cmd/hotline's loadRegions does with each region.
	var specs []geo.RegionSpec
	for _, r := range c.Regions {
		path := ""
		if r.GeoJSON != "" {
			path = c.Path(r.GeoJSON)
		}
		specs = append(specs, geo.RegionSpec{ID: r.ID, GeoJSONPath: path, Feature: r.Feature, NameProperty: r.NameProperty,
			Polygon: r.Polygon, Aliases: r.Aliases, EachFeature: r.EachFeature, IDProperty: r.IDProperty})
	}
	_, err = geo.Load(specs)
	if err == nil || !strings.Contains(err.Error(), `region lima: alias "Chosica" names no feature: no feature of this region is named "Lurigancho"`) {
		t.Fatalf("Load = %v, want the alias named", err)
	}
	if strings.Contains(err.Error(), `"TL"`) {
		t.Errorf("a good alias is reported: %v", err)
	}
	delete(specs[0].Aliases, "Chosica")
	ix, err := geo.Load(specs)
	if err != nil {
		t.Fatal(err)
	}
	loc, ok := geo.NewLocator(ix).Locate("estoy en TL cerca del mercado", geo.Hints{})
	if !ok || loc.Region != "lima" {
		t.Errorf("Locate through the alias = %+v, %v", loc, ok)
	}
}
