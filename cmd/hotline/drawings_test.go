package main

import (
	"encoding/json"
	"testing"

	"github.com/hotline-org/hotline/gateway/config"
)

// TestRegionDrawings: each agency is given the drawing of its own regions
// only, and an agency without regions an empty collection.
func TestRegionDrawings(t *testing.T) {
	c := &config.Config{
		Regions: []config.Region{
			{ID: "lima", Polygon: [][][2]float64{{{-77.2, -12.4}, {-76.7, -12.4}, {-76.7, -11.7}, {-77.2, -11.7}}}},
			{ID: "kl", Polygon: [][][2]float64{{{101.6, 3.0}, {101.8, 3.0}, {101.8, 3.3}, {101.6, 3.3}}}},
		},
		Agencies: []config.Agency{{ID: "pe-lima", Regions: []string{"lima"}}, {ID: "my-kl", Regions: []string{"kl"}}, {ID: "hq"}},
	}
	ix, _, err := loadRegions(c)
	if err != nil {
		t.Fatal(err)
	}
	got, err := regionDrawings(ix, c)
	if err != nil {
		t.Fatal(err)
	}
	for agency, want := range map[string]string{"pe-lima": "lima", "my-kl": "kl", "hq": ""} {
		var d struct {
			Features []struct {
				Properties struct{ Region string } `json:"properties"`
			} `json:"features"`
		}
		if err := json.Unmarshal(got[agency], &d); err != nil {
			t.Fatalf("%s: %v", agency, err)
		}
		switch {
		case want == "" && len(d.Features) != 0:
			t.Errorf("%s has no regions but is drawn %s", agency, got[agency])
		case want != "" && (len(d.Features) != 1 || d.Features[0].Properties.Region != want):
			t.Errorf("%s: %s, want region %s only", agency, got[agency], want)
		}
	}
}
