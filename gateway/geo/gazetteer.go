package geo

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The gazetteer finds place names in a message: the names of the configured
// features and their aliases, compared folded (FoldName), longest first, on
// word boundaries, except in scripts written without spaces (吉隆坡 in
// 我们在吉隆坡) where a name may sit anywhere.

// gazEntry is what one folded name refers to.
type gazEntry struct {
	features []int32 // features with geometry
	regions  []int32 // regions named as a whole, with no one feature
	cue      bool    // a common word: needs a sign that it is used as a place
}

type gazetteer struct {
	keys    []string // folded names, sorted bytewise
	entries []gazEntry
	// fuzzy holds the keys that may match with one typo (fuzzyEligible).
	fuzzy fuzzyTrie
}

// commonWords are place names that are also everyday words in the
// languages the hotline serves; they count only when the text shows they
// name a place ("en Ate", "di Lima", "Comas" mid-sentence, "..., La
// Victoria, ..." as a part of an address). "lima" is five in Malay, "ate"
// an English verb, "comas" Spanish commas, "perak" silver, "ves" you see.
var commonWords = map[string]bool{
	"ate": true, "lima": true, "comas": true, "independencia": true, "union": true, "la union": true,
	"progreso": true, "el progreso": true, "pampas": true, "alto": true, "el alto": true, "santa": true,
	"perak": true, "sur": true, "norte": true, "centro": true, "victoria": true, "la victoria": true,
	"libertad": true, "la libertad": true, "esperanza": true, "la esperanza": true, "la paz": true,
	"paz": true, "mala": true, "tinta": true, "cabana": true, "la punta": true, "lince": true,
	"pueblo libre": true, "jesus maria": true, "san juan": true, "santiago": true, "san jose": true,
	"vista alegre": true, "pueblo nuevo": true, "nuevo progreso": true, "la perla": true, "bellavista": true,
	"buenos aires": true, "los olivos": true, "las flores": true, "la merced": true, "chance": true,
	"kota": true, "bandar": true, "baru": true, "pasir": true, "batu": true, "tanjung": true,
	"ventanilla": true, "ves": true, "sembilan": true, "trujillo": true, "pinang": true,
	// District names of the national layer that are everyday words.
	"lari": true, "sama": true, "chicas": true, "llama": true, "lancha": true, "pampa": true, "carmen": true,
}

// locativeWords before a name show that it names a place.
var locativeWords = map[string]bool{
	// Spanish
	"en": true, "de": true, "del": true, "desde": true, "cerca": true, "hacia": true, "a": true, "al": true,
	"por": true, "para": true, "distrito": true, "provincia": true, "departamento": true, "region": true,
	"zona": true, "ciudad": true, "sector": true, "urbanizacion": true, "urb": true, "pueblo": true, "cercado": true,
	// English
	"in": true, "at": true, "near": true, "from": true, "to": true, "around": true, "district": true,
	"province": true, "city": true, "town": true, "state": true, "of": true,
	// Malay and Indonesian
	"di": true, "dari": true, "ke": true, "dekat": true, "sekitar": true, "daerah": true, "negeri": true,
	"kawasan": true, "taman": true, "kat": true, "dkt": true, "negri": true,
	"kota": true, "bandar": true, "provinsi": true, "kabupaten": true,
}

// buildGazetteer indexes feature names (with and without their
// administrative words: "W.P. Kuala Lumpur" is also "Kuala Lumpur"), the
// RegionSpec aliases, the built-in names of the boundary files the project
// documents (builtinNames) and the locator's aliases, in that order of
// precedence from weakest to strongest: an official name is never taken by
// a variant or a built-in name, and an explicit alias replaces anything.
func buildGazetteer(ix *Index, aliases map[string]string) (gazetteer, error) {
	m := make(map[string]*gazEntry)
	entry := func(key string) *gazEntry {
		e := m[key]
		if e == nil {
			e = &gazEntry{cue: commonWords[key]}
			m[key] = e
		}
		return e
	}
	add := func(e *gazEntry, i int) {
		if ix.features[i].shape != nil {
			e.features = appendUnique(e.features, int32(i))
		} else {
			e.regions = appendUnique(e.regions, ix.features[i].region)
		}
	}
	for i, f := range ix.features {
		if key := FoldName(f.name); key != "" {
			add(entry(key), i)
		}
	}
	// Names without their administrative words, where no feature has that
	// name itself.
	official := make(map[string]bool, len(m))
	for k := range m {
		official[k] = true
	}
	for i, f := range ix.features {
		for _, v := range adminVariants(FoldName(f.name)) {
			if !official[v] {
				add(entry(v), i)
			}
		}
	}
	// Names of features, before aliases are added, for alias targets.
	byName := make(map[string]gazEntry, len(m))
	for k, e := range m {
		byName[k] = gazEntry{features: slices.Clone(e.features), regions: slices.Clone(e.regions)}
	}
	for _, a := range ix.aliases {
		e := entry(FoldName(a.name))
		if a.feature >= 0 {
			add(e, int(a.feature))
		} else {
			ix.addRegionTarget(e, a.region)
		}
	}
	addBuiltinNames(m, byName)
	// Sorted so that errors come out in a stable order.
	keys := make([]string, 0, len(aliases))
	for k := range aliases {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var problems []string
	for _, alias := range keys {
		target := aliases[alias]
		key := FoldName(alias)
		if key == "" {
			problems = append(problems, fmt.Sprintf("alias %q has no letters or digits", alias))
			continue
		}
		// An explicit alias replaces a feature name with the same key:
		// that is how an operator settles an ambiguous name.
		e := &gazEntry{cue: commonWords[key]}
		if r, ok := ix.byID[target]; ok {
			ix.addRegionTarget(e, r)
		} else if t, ok := byName[FoldName(target)]; ok {
			e.features, e.regions = slices.Clone(t.features), slices.Clone(t.regions)
		} else {
			problems = append(problems, fmt.Sprintf("alias %q: no region id or feature name %q", alias, target))
			continue
		}
		m[key] = e
	}
	if len(problems) > 0 {
		return gazetteer{}, fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	g := gazetteer{keys: make([]string, 0, len(m))}
	for k := range m {
		g.keys = append(g.keys, k)
	}
	sort.Strings(g.keys)
	g.entries = make([]gazEntry, len(g.keys))
	for i, k := range g.keys {
		g.entries[i] = *m[k]
		if fuzzyEligible(k, &g.entries[i]) {
			g.fuzzy.add(k, i)
		}
	}
	return g, nil
}

// addRegionTarget makes e name region r: through its one feature when it
// has exactly one with geometry (so the name has a point), else as a whole.
func (ix *Index) addRegionTarget(e *gazEntry, r int32) {
	var only int32 = -1
	n := 0
	for _, f := range ix.byRegion[r] {
		if ix.features[f].shape != nil {
			only = f
			n++
		}
	}
	if n == 1 && len(ix.byRegion[r]) == 1 {
		e.features = appendUnique(e.features, only)
		return
	}
	e.regions = appendUnique(e.regions, r)
}

func appendUnique(s []int32, v int32) []int32 {
	if slices.Contains(s, v) {
		return s
	}
	return append(s, v)
}

// nameMatch is a name found in the folded text.
type nameMatch struct {
	fs, fe     int // span in the folded text
	start, end int // span in the original text
	entry      int
	fuzzy      bool // found with one typo
}

// find returns the names in f, longest first where they overlap, an exact
// name before a name with a typo of the same length.
func (g *gazetteer) find(text string, f *foldedText) []nameMatch {
	s := f.s
	var cands []nameMatch
	for i := 0; i < len(s); {
		r, w := utf8.DecodeRuneInString(s[i:])
		if r != ' ' && boundary(s, i) {
			if e, end, ok := g.longestAt(s, i); ok {
				cands = append(cands, nameMatch{fs: i, fe: end, entry: e})
			}
			if e, end, ok := g.fuzzyAt(s, i); ok {
				cands = append(cands, nameMatch{fs: i, fe: end, entry: e, fuzzy: true})
			}
		}
		i += w
	}
	// Longest first, then exact, then leftmost; a name inside a longer
	// one ("San Juan" in "San Juan de Lurigancho") is not a match of its
	// own.
	sort.SliceStable(cands, func(a, b int) bool {
		la, lb := cands[a].fe-cands[a].fs, cands[b].fe-cands[b].fs
		if la != lb {
			return la > lb
		}
		if cands[a].fuzzy != cands[b].fuzzy {
			return !cands[a].fuzzy
		}
		return cands[a].fs < cands[b].fs
	})
	var out []nameMatch
	taken := make([]bool, len(s)) // bytes of the folded text inside a kept match
	for _, c := range cands {
		if slices.Contains(taken[c.fs:c.fe], true) {
			continue
		}
		for k := c.fs; k < c.fe; k++ {
			taken[k] = true
		}
		c.start, c.end = int(f.start[c.fs]), int(f.end[c.fe-1])
		out = append(out, c)
		if len(out) == maxPlaceNames {
			break
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].fs < out[b].fs })
	// Common words need a cue; a neighbour that is itself a place
	// counts ("Ate, Lima").
	// So does a name of six or seven letters found with a typo: words
	// that close to a short name are too often everyday words ("kilang",
	// a factory, is one letter from Kelang).
	accepted := make([]bool, len(out))
	for i, m := range out {
		accepted[i] = !g.needsCue(m) || hasCue(text, s, m) || wholeSegment(text, m.start, m.end) || narrowQualified(s, m.fs, m.fe) ||
			twoCapitals(text, m.start, m.end)
	}
	for i, m := range out {
		if accepted[i] {
			continue
		}
		for j, o := range out {
			if j != i && accepted[j] && !g.needsCue(o) && adjacent(s, m, o) {
				accepted[i] = true
				break
			}
		}
	}
	kept := out[:0]
	for i, m := range out {
		if accepted[i] {
			kept = append(kept, m)
		}
	}
	return kept
}

// maxPlaceNames bounds the names read in one message: settling names
// against each other costs the square of their number, and a message that
// names more places than this is not telling where it is. The longest
// names are kept; the text stays whole in the sealed tip.
const maxPlaceNames = 128

// needsCue reports whether a match counts only with a sign that it names
// a place.
func (g *gazetteer) needsCue(m nameMatch) bool {
	return g.entries[m.entry].cue || (m.fuzzy && letters(g.keys[m.entry]) < minFuzzyFreeLetters)
}

// longestAt returns the longest name starting at byte i of s that also
// ends on a boundary. Names are sorted, so each further byte narrows the
// range of names that can still match.
func (g *gazetteer) longestAt(s string, i int) (entry, end int, ok bool) {
	lo, hi := 0, len(g.keys)
	for k := 0; i+k < len(s); k++ {
		c := s[i+k]
		lo = searchKeys(g.keys, lo, hi, k, c, false)
		hi = searchKeys(g.keys, lo, hi, k, c, true)
		if lo >= hi {
			break
		}
		if len(g.keys[lo]) == k+1 && boundary(s, i+k+1) {
			entry, end, ok = lo, i+k+1, true
		}
	}
	return entry, end, ok
}

// searchKeys returns the first key in keys[lo:hi] whose byte k is at least
// c (after c when past is set). Keys shorter than k+1 sort first in the
// range, since all share the first k bytes.
func searchKeys(keys []string, lo, hi, k int, c byte, past bool) int {
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		key := keys[mid]
		var before bool
		switch {
		case len(key) <= k:
			before = true
		case past:
			before = key[k] <= c
		default:
			before = key[k] < c
		}
		if before {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

// boundary reports whether a name may start or end at byte i of the folded
// text s.
func boundary(s string, i int) bool {
	if i <= 0 || i >= len(s) || s[i-1] == ' ' || s[i] == ' ' {
		return true
	}
	if !utf8.RuneStart(s[i]) {
		return false
	}
	if s[i-1] < utf8.RuneSelf && s[i] < utf8.RuneSelf {
		return false // two ASCII letters or digits
	}
	before, _ := utf8.DecodeLastRuneInString(s[:i])
	after, _ := utf8.DecodeRuneInString(s[i:])
	return noSpaceScript(before) || noSpaceScript(after)
}

// hasCue reports whether a common-word name is used as a place: after a
// locative word ("en Ate", "di Lima"), or capitalised in mid-sentence.
func hasCue(text, folded string, m nameMatch) bool {
	prev := strings.TrimSpace(folded[:m.fs])
	if i := strings.LastIndexByte(prev, ' '); i >= 0 {
		prev = prev[i+1:]
	}
	if locativeWords[prev] {
		return true
	}
	first, _ := utf8.DecodeRuneInString(text[m.start:])
	if !unicode.IsUpper(first) || !strings.ContainsFunc(text, unicode.IsLower) {
		return false // lower case, or a message shouted in capitals
	}
	if word := text[m.start:m.end]; utf8.RuneCountInString(word) <= 3 && !strings.ContainsFunc(word, unicode.IsLower) {
		return false // an acronym is in capitals wherever it stands (SMP, a school year)
	}
	before := strings.TrimRightFunc(text[:m.start], unicode.IsSpace)
	if before == "" {
		return false
	}
	last, _ := utf8.DecodeLastRuneInString(before)
	return !strings.ContainsRune(".!?¡¿:;\"'“”«»()-—", last)
}

// adjacent reports whether only spacing and punctuation (a single space in
// the folded text) separate a and b.
func adjacent(folded string, a, b nameMatch) bool {
	if a.fs > b.fs {
		a, b = b, a
	}
	return b.fs-a.fe <= 1
}
