package svgmap

import (
	"errors"
	"testing"
)

func FuzzRender(f *testing.F) {
	f.Add([]byte(small), -11.95, -77.05, "south", true)
	f.Add([]byte(`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"<script>x</script>"},"geometry":{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,0]]]]}}]}`), 0.5, 0.5, "<script>x</script>", true)
	f.Add([]byte(`{"type":"FeatureCollection","features":[{"properties":{"name":"\" onload=\"x"},"geometry":{"type":"Polygon","coordinates":[[[180,90],[-180,-90],[0,0]]]}}]}`), 90.0, 180.0, "", false)
	f.Add([]byte(`{"type":"FeatureCollection","features":[{"geometry":{"type":"Polygon","coordinates":[[[1e-300,0],[0,1e-300],[0,0]]]}}]}`), 0.0, 0.0, "", true)
	f.Fuzz(func(t *testing.T, fc []byte, lat, lon float64, highlight string, withPoint bool) {
		var pt *Point
		if withPoint {
			pt = &Point{Lat: lat, Lon: lon}
		}
		got, err := Render(fc, pt, Options{Highlight: []string{highlight}})
		if err != nil {
			if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrEmpty) {
				t.Fatalf("unclassified error %v", err)
			}
			return
		}
		if err := safe(string(got)); err != nil {
			t.Fatalf("%v in %q", err, got)
		}
	})
}
