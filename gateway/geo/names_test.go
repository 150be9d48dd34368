package geo

import (
	"slices"
	"strings"
	"sync"
	"testing"
)

var (
	allOnce sync.Once
	allIx   *Index
	allLoc  *Locator
	allErr  error
)

// allLayers loads the four documented boundary files, each feature its own
// region, as a deployment with a district agency for Lima and Callao, a
// national districts layer, departments and Malaysian states would.
func allLayers(t *testing.T) (*Index, *Locator) {
	t.Helper()
	specs := []RegionSpec{
		{ID: "lc", GeoJSONPath: geoFile(t, "lima-callao-districts.geojson"), NameProperty: "distrito", EachFeature: true},
		{ID: "pd", GeoJSONPath: geoFile(t, "peru-districts.geojson"), NameProperty: "NOMBDIST", IDProperty: "IDDIST", EachFeature: true, SkipUnlocated: true},
		{ID: "pe", GeoJSONPath: geoFile(t, "peru-departments.geojson"), NameProperty: "NOMBDEP", EachFeature: true},
		{ID: "my", GeoJSONPath: geoFile(t, "malaysia-states.geojson"), NameProperty: "state", EachFeature: true},
	}
	allOnce.Do(func() {
		allIx, allErr = Load(specs)
		if allErr == nil {
			allLoc = NewLocator(allIx)
		}
	})
	if allErr != nil {
		t.Fatal(allErr)
	}
	return allIx, allLoc
}

// TestBuiltinNamesResolve: every built-in name finds its feature in the
// documented files, so that a misspelt target cannot silently do nothing.
func TestBuiltinNamesResolve(t *testing.T) {
	_, l := allLayers(t)
	for _, g := range builtinNames {
		for _, n := range g.names {
			i, ok := slices.BinarySearch(l.gaz.keys, n.name)
			if !ok {
				t.Errorf("built-in name %q (for %q) is not in the gazetteer", n.name, n.target)
				continue
			}
			e := l.gaz.entries[i]
			if len(e.features) == 0 {
				t.Errorf("built-in name %q names no feature", n.name)
			}
		}
	}
}

// TestAdminVariants: official names are also found without their
// administrative words, unless what is left is an everyday word or too
// short to be a name.
func TestAdminVariants(t *testing.T) {
	for in, want := range map[string]string{
		"w p kuala lumpur":                    "kuala lumpur",
		"wilayah persekutuan putrajaya":       "putrajaya",
		"provincia constitucional del callao": "callao",
		"departamento de cusco":               "cusco",
		"kota bandung":                        "bandung",
		"selangor state":                      "selangor",
		"negeri sembilan":                     "", // sembilan is nine
		"w p ate":                             "", // too short
		"la molina":                           "",
	} {
		got := adminVariants(in)
		if (want == "" && got != nil) || (want != "" && !slices.Equal(got, []string{want})) {
			t.Errorf("adminVariants(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestFuzzyEdits: one insertion, deletion, substitution or swap in a name
// of six letters or more is found; two are not, nor one in a short name,
// nor one in the first letter.
func TestFuzzyEdits(t *testing.T) {
	_, l := allLayers(t)
	cases := []struct {
		text, want string // want: the region of the match, "" for none
	}{
		{"en san juan de lurigancjo", "lc/SAN JUAN DE LURIGANCHO"}, // substitution
		{"en san juan de luriganco", "lc/SAN JUAN DE LURIGANCHO"},  // deletion
		{"en caarabbayllo", ""},                                    // two insertions
		{"en san juan de lurigancho", "lc/SAN JUAN DE LURIGANCHO"}, // exact
		{"en carabyallo", "lc/CARABAYLLO"},                         // swap
		{"en carabayyllo", "lc/CARABAYLLO"},                        // insertion
		{"di kuala terenganu", "my/Terengganu"},                    // deletion in a built-in name
		{"kat melakka", "my/Melaka"},                               // a short name: with a cue
		{"melakka dekat pasar", ""},                                // ... and not without one
		{"selangr dekat pasar", "my/Selangor"},                     // eight letters: no cue needed
		{"villa maria del trinfo", "lc/VILLA MARIA DEL TRIUNFO"},   // long: no cue needed
		{"en xarabayllo", ""},                                      // the first letter is never the typo
		{"en lmia", ""},                                            // short names: exact only

		{"el jefe esta callado", ""}, // everyday words
		{"celaka betul", ""},
		{"kat kilang ikan", ""},
	}
	// An exact name wins over a typo of another: Barranca (two districts
	// of the national layer) is not Barranco.
	if loc, _ := l.Locate("en barranca", Hints{}); loc.Match != "barranca" || slices.Contains(loc.Regions, "lc/BARRANCO") || len(loc.Candidates) != 2 {
		t.Errorf("Locate(en barranca) = %+v", loc)
	}
	for _, tc := range cases {
		loc, ok := l.Locate(tc.text, Hints{})
		got := ""
		if ok && loc.Source == SourcePlace {
			got = loc.Region
		}
		if tc.want == "" && ok {
			t.Errorf("Locate(%q) = %s %q %s, want nothing", tc.text, loc.Source, loc.Match, loc.Region)
		} else if got != tc.want {
			t.Errorf("Locate(%q) = %s %q region %q, want %q", tc.text, loc.Source, loc.Match, got, tc.want)
		}
	}
}

// TestPlaceTraps: everyday words that are, or are one letter from, place
// names in the documented files locate nothing in ordinary sentences.
func TestPlaceTraps(t *testing.T) {
	_, l := allLayers(t)
	for _, text := range []string{
		// Spanish
		"mi amiga victoria me dijo que llame, puse comas donde no iba",
		"somos lima personas", "el señor esta callado, no habla", "estamos en la lancha yendo a la mina",
		"hay muchas chicas en la casa", "mi mama me llama llorando", "las tumbas del cementerio",
		"compre en la ventanilla del banco", "ves? te dije", "mi jefe es el señor trujillo",
		"Esperanza, ayudame por favor", "Llama, por favor", "Victoria, me dijo que no", "Comas",
		// Malay and Indonesian
		"kami lima orang dlm bilik", "bos bagi cincin perak je", "kami kat kilang ikan", "dia pegang pasport sy",
		"penyelia bawa parang", "esok dia hantar sy", "sy mangsa pemerdagangan", "sy lari dr ladang semalam",
		"paspor sama bos", "Sama, kak", "gmn caranya?", "kl dia datang sy lari", "anak sy masih SMP kelas 2", "celaka betul bos ni", "kerja sembilan jam sehari",
		// Streets named after places elsewhere
		"vivo en el jr. ucayali 123", "trabajo en la av. arequipa cuadra 20", "kedai kat jalan ipoh",
		"a shop on ipoh road", "jln klang lama, kedai makan",
		// English
		"i ate nothing today", "we are five, the boss is victoria",
		// Chinese
		"我们五个人 下午五点才能吃饭", "老板姓马 每个月只给五百令吉",
	} {
		if loc, ok := l.Locate(text, Hints{}); ok {
			t.Errorf("Locate(%q) = %s %q %v, want nothing", text, loc.Source, loc.Match, loc.Regions)
		}
	}
}

// TestSamePlaceTwoLayers: a place that two agencies' layers both trace
// (the Lima and Callao districts and the national districts) goes to both,
// as its coordinates would; a name the text qualifies or that two
// different places share is still settled or left ambiguous.
func TestSamePlaceTwoLayers(t *testing.T) {
	ix, l := allLayers(t)
	for _, tc := range []struct {
		text    string
		region  string
		regions []string
	}{
		{"trabajo en La Molina", "lc/LA MOLINA", []string{"lc/LA MOLINA", "pd/150114", "pe/LIMA"}},
		{"nos tienen en sjl", "lc/SAN JUAN DE LURIGANCHO", []string{"lc/SAN JUAN DE LURIGANCHO", "pd/150132", "pe/LIMA"}},
		{"cercado de lima, jr. ucayali", "lc/LIMA", []string{"lc/LIMA", "pd/150101", "pe/LIMA"}},
		{"una casa en lima", "pe/LIMA", []string{"pe/LIMA"}},
		{"en la provincia constitucional del callao", "pe/CALLAO", []string{"pe/CALLAO"}},
	} {
		loc, ok := l.Locate(tc.text, Hints{})
		if !ok || loc.Source != SourcePlace || loc.Region != tc.region || !slices.Equal(loc.Regions, tc.regions) {
			t.Errorf("Locate(%q) = %+v, %v; want region %s, regions %v", tc.text, loc, ok, tc.region, tc.regions)
			continue
		}
		// As coordinates: the point of the place is in every layer's
		// feature it routes to (the department may hold more).
		at := ix.Regions(loc.Point)
		for _, r := range tc.regions {
			if !slices.Contains(at, r) && !strings.HasPrefix(r, "pe/") {
				t.Errorf("%q: the point %v is in %v, not in %s", tc.text, loc.Point, at, r)
			}
		}
	}
}

// TestPlaceNamesBounded: a message of thousands of names (a typo in each)
// is settled on a bounded number of them, so that settling names against
// each other cannot grow with the square of the message.
func TestPlaceNamesBounded(t *testing.T) {
	_, l := allLayers(t)
	text := strings.Repeat("carabyallo, ", 3000)
	n := 0
	for _, loc := range l.LocateAll(text, Hints{}) {
		if loc.Source == SourcePlace {
			n++
		}
	}
	if n == 0 || n > maxPlaceNames {
		t.Errorf("%d places read, want 1 to %d", n, maxPlaceNames)
	}
}

// TestLevelsWithWholeLayer: with the national districts as one region
// (which holds every department), the district LIMA and the department
// LIMA are still two levels, not one place: sameness is judged feature by
// feature, not by the regions that hold them.
func TestLevelsWithWholeLayer(t *testing.T) {
	ix, err := Load([]RegionSpec{
		{ID: "peru", GeoJSONPath: geoFile(t, "peru-districts.geojson"), NameProperty: "NOMBDIST", Feature: "*", SkipUnlocated: true},
		{ID: "pe", GeoJSONPath: geoFile(t, "peru-departments.geojson"), NameProperty: "NOMBDEP", EachFeature: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	l := NewLocator(ix)
	for text, want := range map[string]string{"estoy en Lima": "pe/LIMA", "estoy en el Cercado de Lima": "peru"} {
		loc, ok := l.Locate(text, Hints{})
		if !ok || loc.Source != SourcePlace || loc.Region != want || !slices.Contains(loc.Regions, "peru") {
			t.Errorf("Locate(%q) = %+v, %v; want region %s", text, loc, ok, want)
		}
	}
}
