package geo

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
)

// The corpus in testdata/places.tsv is a byte-for-byte copy of the held-out
// place corpus of issue 17 (corpus/places.tsv, 92 lines, sha256
// placesSHA256; TestPlacesCorpusUnchanged keeps it so), written by hand
// by someone who had not read this package: realistic
// messages in Spanish, Malay, English, Indonesian and Chinese, each with
// the boundary features that contain the place it names. Do not edit the
// labels to make the test pass; a label that looks wrong is reported, not
// changed.
//
// Lines are lang<TAB>expected<TAB>message. expected is "-" (the message
// names no place: nothing may be found) or features written
// file:NAME|file:NAME, most specific first. A message passes when Locate
// finds a place name whose Region is the first feature and whose Regions
// (where the gateway sends the tip) are exactly the listed features: a
// Lima district goes to that district and to the department LIMA, and to
// no other district; a bare "Lima" goes to the department alone.

// placesSHA256 is the hash of the corpus as it was handed over.
const placesSHA256 = "f369338879fa54c6c5ffb0b82fe7c4c49a3912cd40a3e6da4b80d9bb67bcd1b3"

// TestPlacesCorpusUnchanged: the labels are not ours to edit.
func TestPlacesCorpusUnchanged(t *testing.T) {
	data, err := os.ReadFile("testdata/places.tsv")
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != placesSHA256 {
		t.Errorf("testdata/places.tsv differs from the corpus handed over (sha256 %x)", sum)
	}
}

// corpusLayers maps the corpus's boundary files to the regions of the test
// configuration: one region per feature, as an agency per district would
// configure them.
var corpusLayers = map[string]struct{ prefix, nameProperty string }{
	"lima-callao-districts.geojson": {"lc", "distrito"},
	"peru-departments.geojson":      {"pe", "NOMBDEP"},
	"malaysia-states.geojson":       {"my", "state"},
}

type corpusCase struct {
	line     int
	lang     string
	expected []string // region ids, most specific first; nil for "-"
	text     string
}

func loadCorpus(t *testing.T) []corpusCase {
	t.Helper()
	f, err := os.Open("testdata/places.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []corpusCase
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" {
			continue
		}
		parts := strings.SplitN(line, "\t", 3)
		if len(parts) != 3 {
			t.Fatalf("places.tsv:%d: want lang<TAB>expected<TAB>message", n)
		}
		c := corpusCase{line: n, lang: parts[0], text: parts[2]}
		if parts[1] != "-" {
			for _, fe := range strings.Split(parts[1], "|") {
				file, name, ok := strings.Cut(fe, ":")
				layer, known := corpusLayers[file]
				if !ok || !known || name == "" {
					t.Fatalf("places.tsv:%d: bad feature %q", n, fe)
				}
				c.expected = append(c.expected, layer.prefix+"/"+name)
			}
		}
		out = append(out, c)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

var (
	corpusOnce sync.Once
	corpusLoc  *Locator
	corpusErr  error
)

// corpusLocator is the locator of a deployment that configured the three
// layers and no aliases of its own: what it finds, it finds with the
// built-in names.
func corpusLocator(t *testing.T) *Locator {
	t.Helper()
	var specs []RegionSpec
	for file, layer := range corpusLayers {
		specs = append(specs, RegionSpec{ID: layer.prefix, GeoJSONPath: geoFile(t, file), NameProperty: layer.nameProperty, EachFeature: true})
	}
	slices.SortFunc(specs, func(a, b RegionSpec) int { return strings.Compare(a.ID, b.ID) })
	corpusOnce.Do(func() {
		var ix *Index
		ix, corpusErr = Load(specs)
		if corpusErr == nil {
			corpusLoc = NewLocator(ix)
		}
	})
	if corpusErr != nil {
		t.Fatal(corpusErr)
	}
	return corpusLoc
}

// corpusVerdict says why a message fails, or "" when it passes.
func corpusVerdict(l *Locator, c corpusCase) (string, Location) {
	loc, ok := l.Locate(c.text, Hints{})
	if c.expected == nil {
		if ok {
			return "found a place where there is none", loc
		}
		return "", loc
	}
	switch {
	case !ok:
		return "found nothing", loc
	case loc.Source != SourcePlace:
		return "source " + string(loc.Source), loc
	case loc.Region != c.expected[0]:
		return "region " + loc.Region, loc
	}
	want := slices.Clone(c.expected)
	slices.Sort(want)
	if !slices.Equal(loc.Regions, want) {
		return "routes " + strings.Join(loc.Regions, ", "), loc
	}
	return "", loc
}

// TestPlacesCorpus runs the held-out corpus and reports the figure per
// language; every message must pass.
func TestPlacesCorpus(t *testing.T) {
	l := corpusLocator(t)
	cases := loadCorpus(t)
	if len(cases) < 60 {
		t.Fatalf("%d messages in the corpus, want at least 60", len(cases))
	}
	type tally struct{ pass, all int }
	byLang := map[string]*tally{}
	var langs []string
	pass := 0
	for _, c := range cases {
		if byLang[c.lang] == nil {
			byLang[c.lang] = &tally{}
			langs = append(langs, c.lang)
		}
		byLang[c.lang].all++
		why, loc := corpusVerdict(l, c)
		if why == "" {
			pass++
			byLang[c.lang].pass++
			continue
		}
		t.Errorf("places.tsv:%d %s %q: %s (match %q); want %v", c.line, c.lang, c.text, why, loc.Match, c.expected)
	}
	var fig []string
	for _, lang := range langs {
		fig = append(fig, lang+" "+itoa(byLang[lang].pass)+"/"+itoa(byLang[lang].all))
	}
	t.Logf("places corpus: %d/%d messages resolved as labelled (%s)", pass, len(cases), strings.Join(fig, ", "))
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}
