package geo

import (
	"runtime"
	"slices"
	"testing"
	"time"
)

// benchTips are tips as they arrive, in the proportions a hotline in Peru
// might see: coordinates of all kinds, links, place names, and many
// messages with no location at all.
var benchTips = []string{
	"ayuda estoy en -12.0857, -76.9397 no me dejan salir",
	"https://maps.google.com/?q=-13.5319,-71.9675",
	"https://www.google.com/maps/place/Iquitos/@-3.7437,-73.2516,14z/data=!3m1!4b1!4m6!3m5!1s0x91ea10b3:0x1!8m2!3d-3.7437!4d-73.2516",
	`nos tienen en 16°24'32.4"S 71°32'15.0"W en una casa`,
	"estoy en la molina, en una casa con rejas verdes, somos cinco",
	"trabajo en una mina en Madre de Dios, no me pagan hace 3 meses",
	"me trajeron de Puno a Arequipa, estoy en Miraflores, Arequipa",
	"geo:-8.1116,-79.0288;u=20",
	"57V5W376+P4",
	"W376+P4 La Molina",
	"me quitaron el pasaporte y el celular, mi jefe dice que le debo S/ 3,500.00",
	"necesito ayuda por favor, no sé dónde estoy, es una chacra grande",
	"https://maps.app.goo.gl/q4VKxa2nDg7Z1fWf8",
	"https://www.openstreetmap.org/#map=15/-15.8402/-70.0219",
	"estamos en San Juan de Lurigancho cerca del mercado, 12 personas",
	"lat -12.5933 lon -69.1891",
}

// loadDistricts loads the 1,834-feature INEI districts layer with one
// region per district.
func loadDistricts(b *testing.B) (*Index, *Locator, uint64) {
	b.Helper()
	path := geoFile(b, "peru-districts.geojson")
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	ix, err := Load([]RegionSpec{{ID: "pd", GeoJSONPath: path, NameProperty: "NOMBDIST", IDProperty: "IDDIST", EachFeature: true, SkipUnlocated: true}})
	if err != nil {
		b.Fatal(err)
	}
	l := NewLocator(ix)
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(ix)
	return ix, l, after.HeapAlloc - before.HeapAlloc
}

// BenchmarkLocateRoute locates each tip and routes it the way the gateway
// does, over the districts layer. ns/op is the mean per tip; p50 and p99
// come from timing every tip; heap-MB is the index and locator after load.
func BenchmarkLocateRoute(b *testing.B) {
	_, l, heap := loadDistricts(b)
	durations := make([]time.Duration, 0, b.N)
	routed := 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		start := time.Now()
		loc, ok := l.Locate(benchTips[i%len(benchTips)], Hints{})
		if ok && len(loc.Regions) > 0 {
			routed++
		}
		durations = append(durations, time.Since(start))
	}
	b.StopTimer()
	if routed == 0 {
		b.Fatal("no tip was routed")
	}
	slices.Sort(durations)
	b.ReportMetric(float64(durations[len(durations)/2].Nanoseconds()), "p50-ns/tip")
	b.ReportMetric(float64(durations[len(durations)*99/100].Nanoseconds()), "p99-ns/tip")
	b.ReportMetric(float64(heap)/(1<<20), "heap-MB")
}

// BenchmarkRegions is the point-in-polygon step alone: the R-tree and the
// exact test with holes, on points spread over Peru.
func BenchmarkRegions(b *testing.B) {
	ix, _, _ := loadDistricts(b)
	points := []Point{{-12.0857, -76.9397}, {-13.5319, -71.9675}, {-3.7437, -73.2516}, {-16.409, -71.5375}, {-8.1116, -79.0288}, {-12.5933, -69.1891}, {-15.8402, -70.0219}, {-5.1945, -80.6328}}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if len(ix.Regions(points[i%len(points)])) != 1 {
			b.Fatal("a district point is in no district")
		}
	}
}

// BenchmarkLoad is the start-up cost of the districts layer: reading,
// checking and indexing the GeoJSON, and the gazetteer with the regions
// that hold each named place.
func BenchmarkLoad(b *testing.B) {
	path := geoFile(b, "peru-districts.geojson")
	for b.Loop() {
		ix, err := Load([]RegionSpec{{ID: "pd", GeoJSONPath: path, NameProperty: "NOMBDIST", IDProperty: "IDDIST", EachFeature: true, SkipUnlocated: true}})
		if err != nil {
			b.Fatal(err)
		}
		NewLocator(ix)
	}
}
