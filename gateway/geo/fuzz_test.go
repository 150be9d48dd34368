package geo

import (
	"math"
	"os"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzLocate feeds the locator arbitrary messages and pin fields. Whatever
// a sender types, the locator must not panic, every span it reports must
// lie in the text and be the text it matched, and every point must be on
// Earth.
func FuzzLocate(f *testing.F) {
	for _, tc := range locateCases {
		f.Add(tc.text, tc.hints.Latitude, tc.hints.Longitude)
	}
	for _, s := range []string{
		"geo:", "geo:1,2;crs=", "geo:1,2;u=", "geo:1,2?q=", "https://", "https://maps.google.com/?q=",
		"https://www.google.com/maps/place//@", "https://waze.com/ul/h", "http://osm.org/go/~~~~~~~~~~~",
		"https://www.openstreetmap.org/#map=", "+", "++++", "2222+22", "CFGHJMPQ+RVWX", "°'\"", "12°", "12°60'",
		"N", "S -", "lat", "lat/lon:", "坐标：", "北纬", "\xff\xfe", "Pe\u0301rez la mo\u0301lina", "e\u0301\u0301\u0301",
		"https://maps.google.com/?q=%zz", "https://maps.apple.com/?ll=1,2,3", strings.Repeat("1.234 ", 50),
		strings.Repeat("la molina ", 30), "9" + strings.Repeat("0", 400) + ".5, 1.5",
		"en san juan de lurigancjo", "carabyallo", "kuala terenganu", "cercado de lima", "lima cercado",
		"provincia constitucional del callao", "w.p. labuan", "吉隆坡 新山", "Comas,", ", la victoria,", "sjl smp ves",
		strings.Repeat("lurigancjo ", 40), strings.Repeat("a", 300),
	} {
		f.Add(s, "", "")
	}
	f.Add("", "1e3", "2")
	f.Add("", "-0", "+0")
	f.Add("", "−12,5", "−76,9")
	_, l := fuzzLocator(f)
	f.Fuzz(func(t *testing.T, text, lat, lon string) {
		h := Hints{Latitude: lat, Longitude: lon}
		loc, ok := l.Locate(text, h)
		if !ok && !(loc.Match == "" && loc.Start == 0 && loc.End == 0 && !loc.HasPoint) {
			t.Fatalf("nothing found but a location returned: %+v", loc)
		}
		all := l.LocateAll(text, h)
		if ok != (len(all) > 0) {
			t.Fatalf("Locate found %v, LocateAll %d", ok, len(all))
		}
		if ok && !sameLocation(all[0], loc) {
			t.Fatalf("Locate %+v, LocateAll first %+v", loc, all[0])
		}
		for _, loc := range all {
			if loc.Start < 0 || loc.End < loc.Start || loc.End > len(text) {
				t.Fatalf("span [%d:%d] outside the text of %d bytes", loc.Start, loc.End, len(text))
			}
			if text[loc.Start:loc.End] != loc.Match {
				t.Fatalf("text[%d:%d] = %q, Match %q", loc.Start, loc.End, text[loc.Start:loc.End], loc.Match)
			}
			if utf8.ValidString(text) && !utf8.ValidString(loc.Match) {
				t.Fatalf("Match %q splits a character", loc.Match)
			}
			if loc.HasPoint && (!loc.Point.Valid() || math.IsNaN(loc.Point.Lat) || math.IsNaN(loc.Point.Lon)) {
				t.Fatalf("invalid point %+v", loc.Point)
			}
			if !loc.HasPoint && loc.Source != SourcePlace && loc.Point != (Point{}) {
				t.Fatalf("a point without HasPoint: %+v", loc)
			}
			if loc.Source == "" {
				t.Fatalf("no source: %+v", loc)
			}
		}
	})
}

func sameLocation(a, b Location) bool {
	return a.Point == b.Point && a.HasPoint == b.HasPoint && a.Region == b.Region && a.Source == b.Source &&
		a.Start == b.Start && a.End == b.End && strings.Join(a.Regions, ",") == strings.Join(b.Regions, ",")
}

// fuzzLocator uses the real boundaries when present, else a small inline
// region, so that the fuzz target runs anywhere.
func fuzzLocator(f *testing.F) (*Index, *Locator) {
	if _, err := os.Stat(geodata); err == nil {
		return testLocator(f)
	}
	ix, err := Load([]RegionSpec{{ID: "lima", Polygon: [][][2]float64{{{-77.2, -12.3}, {-76.7, -12.3}, {-76.7, -11.7}, {-77.2, -11.7}}}, Aliases: map[string]string{"La Molina": "", "Lima": ""}}})
	if err != nil {
		f.Fatal(err)
	}
	return ix, NewLocator(ix)
}

// FuzzParseCoordinates feeds the web form's position box (ParseCoordinates)
// whatever a witness may paste: it must not panic, and a position it takes
// is on Earth and also read, to the same point, with spaces around it.
func FuzzParseCoordinates(f *testing.F) {
	for _, s := range []string{
		"-12.0464, -77.0428", "-12,0464, -77,0428", "-12,0464 -77,0428", `12°02'47"S 77°02'34"W`, `3°08'20"U 101°41'13"T`,
		`12°02'47"S 77°02'34"O`, "lat: 3.139, lng: 101.6869", "北纬3.139 东经101.6869", "91, 0", "12°60'", "°'\"", "N S",
		"−12,5 ; −76,9", "9" + strings.Repeat("0", 400) + ".5, 1.5", "\xff\xfe", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, ok := ParseCoordinates(s)
		if !ok {
			if p != (Point{}) {
				t.Fatalf("refused %q but returned %+v", s, p)
			}
			return
		}
		if !p.Valid() || math.IsNaN(p.Lat) || math.IsNaN(p.Lon) {
			t.Fatalf("%q: invalid point %+v", s, p)
		}
		if q, ok := ParseCoordinates(" " + s + " "); !ok || q != p {
			t.Fatalf("%q read as %+v, with spaces around as %+v (%v)", s, p, q, ok)
		}
	})
}
