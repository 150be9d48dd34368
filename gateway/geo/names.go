package geo

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Places as locals write them: official names with and without their
// administrative words, the short and foreign names people use, and one
// typo in a long name.

// adminPrefixes and adminSuffixes are the administrative words that
// official names carry and people leave out, folded, in Spanish, Malay,
// Indonesian and English: "W.P. Kuala Lumpur" is written "Kuala Lumpur",
// "Provincia de Buenos Aires" "Buenos Aires". Longer forms first.
var adminPrefixes = []string{
	"wilayah persekutuan ", "federal territory of ", "federal territory ", "w p ", "wp ",
	"provincia constitucional del ", "provincia constitucional de ", "provincia de ", "provincia del ", "provincia ",
	"departamento de ", "departamento del ", "departamento ", "department of ",
	"distrito de ", "distrito del ", "distrito ", "district of ",
	"region de ", "region del ", "region ", "state of ", "estado de ", "negeri ", "negri ",
	"provinsi ", "kabupaten ", "kab ", "kota ", "bandar ", "ciudad de ", "ciudad ", "city of ",
	"cercado de ", "cercado del ", "daerah ",
}

var adminSuffixes = []string{
	" federal territory", " state", " province", " district", " department", " region", " city", " cercado",
}

// adminVariants returns key without its administrative words, when what is
// left is still a name: four letters or more and not an everyday word
// ("Negeri Sembilan" is not "sembilan", nine).
func adminVariants(key string) []string {
	v := key
	for _, p := range adminPrefixes {
		if strings.HasPrefix(v, p) {
			v = v[len(p):]
			break
		}
	}
	for _, s := range adminSuffixes {
		if strings.HasSuffix(v, s) {
			v = v[:len(v)-len(s)]
			break
		}
	}
	if v == key || letters(v) < 4 || commonWords[v] {
		return nil
	}
	return []string{v}
}

// letters counts the letters and digits of a folded name (not its spaces).
func letters(s string) int {
	return utf8.RuneCountInString(s) - strings.Count(s, " ")
}

// narrowWords before a name, or narrowAfter after it, ask for the district
// when a name is also that of the province or department around it:
// "Cercado de Lima", "distrito de Lima", "Lima Cercado" are the district,
// "Lima" alone is the department.
var narrowWords = []string{"cercado de", "cercado del", "distrito de", "distrito del", "district of", "cercado", "distrito", "daerah", "kecamatan"}

var narrowAfter = []string{"cercado", "district", "distrito"}

// narrowQualified reports whether the name at [fs, fe) of the folded text
// is qualified as the smaller of two places of the same name.
func narrowQualified(folded string, fs, fe int) bool {
	before := strings.TrimRight(folded[:fs], " ")
	for _, w := range narrowWords {
		if strings.HasSuffix(before, w) && (len(before) == len(w) || before[len(before)-len(w)-1] == ' ') {
			return true
		}
	}
	after := strings.TrimLeft(folded[fe:], " ")
	for _, w := range narrowAfter {
		if strings.HasPrefix(after, w) && (len(after) == len(w) || after[len(w)] == ' ') {
			return true
		}
	}
	return false
}

// streetBefore and streetAfter are the words that make a place name the
// name of a street: "Av. Arequipa", "Jr. Ucayali", "Jalan Ipoh", "Ipoh
// Road".
var streetBefore = map[string]bool{
	"av": true, "avenida": true, "jr": true, "jiron": true, "calle": true, "psje": true, "pasaje": true,
	"prolongacion": true, "jalan": true, "jln": true, "jl": true, "lorong": true, "lrg": true, "persiaran": true,
	"lebuh": true, "lebuhraya": true,
}

var streetAfter = map[string]bool{"road": true, "rd": true, "street": true, "st": true, "avenue": true, "ave": true, "highway": true}

// streetName reports whether the name at [fs, fe) of the folded text is
// part of a street's name.
func streetName(folded string, fs, fe int) bool {
	before := strings.TrimRight(folded[:fs], " ")
	if i := strings.LastIndexByte(before, ' '); i >= 0 {
		before = before[i+1:]
	}
	after := strings.TrimLeft(folded[fe:], " ")
	if i := strings.IndexByte(after, ' '); i >= 0 {
		after = after[:i]
	}
	return streetBefore[before] || streetAfter[after]
}

// wholeSegment reports whether text[start:end] stands alone between commas,
// semicolons, line breaks or the ends of the message, next to another part
// of an address ("Comas, por Collique", "en Gamarra, La Victoria, 4to
// piso"): not a word of a sentence ("puse comas donde no iba"), nor a name
// called out ("Esperanza, ayúdame").
func wholeSegment(text string, start, end int) bool {
	const delims = ",;\n\r"
	before := strings.TrimRight(text[:start], " \t")
	after := strings.TrimLeft(text[end:], " \t")
	if before != "" {
		if r, _ := utf8.DecodeLastRuneInString(before); !strings.ContainsRune(delims, r) {
			return false
		}
	}
	if after != "" {
		if r, _ := utf8.DecodeRuneInString(after); !strings.ContainsRune(delims, r) {
			return false
		}
	}
	var prev, next string
	if before != "" {
		b := before[:len(before)-1]
		prev = b[strings.LastIndexAny(b, delims)+1:]
	}
	if after != "" {
		a := after[1:]
		if i := strings.IndexAny(a, delims); i >= 0 {
			a = a[:i]
		}
		next = a
	}
	return addressPart(prev) || addressPart(next)
}

// addressWords mark a part of an address.
var addressWords = map[string]bool{
	"en": true, "por": true, "cerca": true, "av": true, "avenida": true, "jr": true, "jiron": true, "calle": true,
	"pasaje": true, "psje": true, "mz": true, "lote": true, "urb": true, "sector": true, "zona": true, "piso": true,
	"distrito": true, "in": true, "at": true, "near": true, "street": true, "road": true, "district": true,
	"di": true, "kat": true, "dekat": true, "jalan": true, "jln": true, "lorong": true, "taman": true, "daerah": true,
}

// addressPart reports whether a part of a message reads as part of an
// address: a number, or a word such as "por", "av", "jalan", "near".
func addressPart(part string) bool {
	f := " " + FoldName(part) + " "
	f = strings.ReplaceAll(f, " por favor ", " ")
	for _, w := range strings.Fields(f) {
		if addressWords[w] || strings.ContainsAny(w, "0123456789") {
			return true
		}
	}
	return false
}

// twoCapitals reports whether a match is a two-letter name written in
// capitals in a message that has lower-case letters: "KL", "PJ" are
// places, "kl" is "kalau" (if) in Malay texting.
func twoCapitals(text string, start, end int) bool {
	m := text[start:end]
	return len(m) == 2 && strings.ToUpper(m) == m && strings.ToLower(m) != m &&
		strings.ContainsFunc(text, unicode.IsLower)
}

// builtinGroup is a set of names for the boundary files the project
// documents (shared/geodata/SOURCES.md), applied only when the loaded
// layers hold at least one of its anchors, so that a name for Peru never
// fires in a deployment for another country that shares a place name.
type builtinGroup struct {
	anchors []string // folded feature names
	names   []builtinName
}

type builtinName struct {
	name, target string // folded; target is a feature name or a variant of one
	cue          bool   // an everyday word or a surname: needs a sign that it is a place
}

// builtinNames: short names for long districts, the cities people name
// instead of their department or state, exonyms and other scripts.
// Johor Bahru is a city in Johor, Petaling Jaya one in Selangor.
var builtinNames = []builtinGroup{
	{anchors: []string{"san juan de lurigancho", "villa el salvador", "comas"}, names: []builtinName{
		{"sjl", "san juan de lurigancho", false}, {"smp", "san martin de porres", true}, // SMP is also a school year in Indonesia
		{"ves", "villa el salvador", true}, {"vmt", "villa maria del triunfo", false},
		{"sjm", "san juan de miraflores", false}, {"surco", "santiago de surco", true},
		{"mi peru", "mi peraz", false}, {"pueblo libre", "magdalena vieja", true},
		{"chosica", "lurigancho", false}, {"huaycan", "ate", false},
		{"carmen de la legua", "carmen de la legua reynoso", false},
	}},
	{anchors: []string{"loreto", "ucayali", "madre de dios", "la libertad"}, names: []builtinName{
		{"iquitos", "loreto", false}, {"pucallpa", "ucayali", false}, {"trujillo", "la libertad", true},
		{"huancayo", "junin", false}, {"puerto maldonado", "madre de dios", false}, {"chiclayo", "lambayeque", false},
		{"chimbote", "ancash", false}, {"huaraz", "ancash", false}, {"tarapoto", "san martin", false},
		{"moyobamba", "san martin", false}, {"juliaca", "puno", false}, {"huamanga", "ayacucho", false},
		{"abancay", "apurimac", false}, {"cerro de pasco", "pasco", false}, {"chincha", "ica", false},
		{"tingo maria", "huanuco", false}, {"chachapoyas", "amazonas", false}, {"cuzco", "cusco", false},
		{"la rinconada", "puno", false}, {"lima metropolitana", "lima", false},
		{"利马", "lima", false}, {"利馬", "lima", false}, {"库斯科", "cusco", false}, {"庫斯科", "cusco", false},
		{"卡亚俄", "callao", false}, {"阿雷基帕", "arequipa", false}, {"伊基托斯", "loreto", false},
	}},
	{anchors: []string{"selangor", "johor", "sarawak", "w p kuala lumpur"}, names: []builtinName{
		{"kl", "kuala lumpur", true}, // kl is also "kalau" (if) in Malay texting {"kuala lumpur", "kuala lumpur", false},
		{"jb", "johor", false}, {"johor bahru", "johor", false}, {"johor baharu", "johor", false},
		{"batu pahat", "johor", false}, {"kluang", "johor", false}, {"muar", "johor", false}, {"pasir gudang", "johor", false},
		{"pj", "selangor", true}, {"petaling jaya", "selangor", false}, {"shah alam", "selangor", false},
		{"klang", "selangor", false}, {"kelang", "selangor", false}, {"kajang", "selangor", false},
		{"rawang", "selangor", false}, {"subang jaya", "selangor", false}, {"hulu langat", "selangor", false},
		{"cyberjaya", "selangor", false}, {"sepang", "selangor", false}, {"selayang", "selangor", false},
		{"penang", "pulau pinang", false}, {"pulau penang", "pulau pinang", false}, {"georgetown", "pulau pinang", false},
		{"george town", "pulau pinang", false}, {"butterworth", "pulau pinang", false}, {"bayan lepas", "pulau pinang", false},
		{"n9", "negeri sembilan", false}, {"negri sembilan", "negeri sembilan", false}, {"seremban", "negeri sembilan", false},
		{"port dickson", "negeri sembilan", false},
		{"malacca", "melaka", false}, {"ipoh", "perak", false}, {"taiping", "perak", false},
		{"kota bharu", "kelantan", false}, {"alor setar", "kedah", false}, {"alor star", "kedah", false},
		{"langkawi", "kedah", false}, {"kangar", "perlis", false}, {"kuantan", "pahang", false},
		{"cameron highlands", "pahang", false}, {"kuala terengganu", "terengganu", false},
		{"kota kinabalu", "sabah", false}, {"sandakan", "sabah", false}, {"tawau", "sabah", false},
		{"lahad datu", "sabah", false}, {"semporna", "sabah", false},
		{"kuching", "sarawak", false}, {"miri", "sarawak", false}, {"sibu", "sarawak", false}, {"bintulu", "sarawak", false},
		{"putrajaya", "putrajaya", false}, {"labuan", "labuan", false},
		// Chinese, simplified and traditional.
		{"吉隆坡", "kuala lumpur", false}, {"布城", "putrajaya", false}, {"纳闽", "labuan", false}, {"納閩", "labuan", false},
		{"雪兰莪", "selangor", false}, {"雪蘭莪", "selangor", false}, {"八打灵再也", "selangor", false},
		{"八打靈再也", "selangor", false}, {"巴生", "selangor", false}, {"莎阿南", "selangor", false},
		{"槟城", "pulau pinang", false}, {"檳城", "pulau pinang", false}, {"槟榔屿", "pulau pinang", false},
		{"檳榔嶼", "pulau pinang", false}, {"柔佛", "johor", false}, {"新山", "johor", false},
		{"马六甲", "melaka", false}, {"馬六甲", "melaka", false}, {"森美兰", "negeri sembilan", false},
		{"森美蘭", "negeri sembilan", false}, {"霹雳", "perak", false}, {"霹靂", "perak", false}, {"怡保", "perak", false},
		{"彭亨", "pahang", false}, {"关丹", "pahang", false}, {"關丹", "pahang", false},
		{"登嘉楼", "terengganu", false}, {"登嘉樓", "terengganu", false}, {"丁加奴", "terengganu", false},
		{"吉兰丹", "kelantan", false}, {"吉蘭丹", "kelantan", false}, {"吉打", "kedah", false}, {"玻璃市", "perlis", false},
		{"沙巴", "sabah", false}, {"亚庇", "sabah", false}, {"亞庇", "sabah", false}, {"斗湖", "sabah", false},
		{"山打根", "sabah", false}, {"砂拉越", "sarawak", false}, {"砂劳越", "sarawak", false}, {"砂勞越", "sarawak", false},
		{"古晋", "sarawak", false}, {"古晉", "sarawak", false}, {"诗巫", "sarawak", false}, {"詩巫", "sarawak", false},
	}},
}

// addBuiltinNames adds the built-in names whose target the layers hold.
// They never take a key that is already a name: a districts layer's own
// IQUITOS is more exact than the department Loreto.
func addBuiltinNames(m map[string]*gazEntry, byName map[string]gazEntry) {
	for _, g := range builtinNames {
		present := false
		for _, a := range g.anchors {
			if _, ok := byName[a]; ok {
				present = true
				break
			}
		}
		if !present {
			continue
		}
		for _, n := range g.names {
			t, ok := byName[n.target]
			if _, taken := m[n.name]; taken || !ok {
				continue
			}
			m[n.name] = &gazEntry{features: t.features, regions: t.regions, cue: n.cue || commonWords[n.name]}
		}
	}
}

// minFuzzyLetters is the shortest name, and the shortest text, that may
// match with one typo: short names are too close to everyday words.
const minFuzzyLetters = 6

// minFuzzyFreeLetters is the shortest name that matches with a typo
// without a sign that the text names a place ("en", "di", "kat", an
// address part, a neighbouring place).
const minFuzzyFreeLetters = 8

// fuzzyEligible reports whether a key may match with one typo: a name of
// six letters or more in the Latin alphabet that is not an everyday word.
func fuzzyEligible(key string, e *gazEntry) bool {
	if e.cue || letters(key) < minFuzzyLetters {
		return false
	}
	for i := 0; i < len(key); i++ {
		if c := key[i]; c >= utf8.RuneSelf || ('0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// fuzzyStop are everyday words one typo away from a place name: the text
// never matches fuzzily when it is one of them.
var fuzzyStop = map[string]bool{
	// Spanish
	"callado": true, "callada": true, "callados": true, "calladas": true, "tumbas": true, "ventanillas": true,
	"barrancos": true, "barranca": true, "lorito": true, "pueblos": true, "libertades": true, "carabayo": true,
	"chorrillo": true, "miradores": true, "miraflor": true, "palmeras": true, "molinas": true, "moline": true,
	"senores": true, "santos": true, "huertas": true, "cascadas": true, "puertos": true, "bellavistas": true,
	"olivos": true, "sanchez": true, "lurinas": true, "amazona": true,
	// Malay and Indonesian
	"celaka": true, "kilang": true, "pegang": true, "parang": true, "hantar": true, "mangsa": true, "tenang": true,
	"pulangan": true, "perang": true, "padang": true, "ladang": true, "barang": true, "sarang": true, "kelam": true, "pahala": true, "selangkah": true, "sabahat": true, "sarawa": true,
	"kedai": true, "kelantang": true, "pulang": true, "pinangan": true, "pahit": true,
	// English
	"labour": true, "labourer": true, "johnny": true, "melanie": true, "sabbath": true,
}

// fuzzyTrie holds the names that may match with a typo, so that a walk
// can try every branch of an edit at the cost of one step each.
type fuzzyTrie struct {
	nodes []trieNode // nodes[0] is the root
}

type trieNode struct {
	edges []trieEdge
	entry int32 // the gazetteer entry of the name ending here, or -1
}

type trieEdge struct {
	b    byte
	next int32
}

func (t *fuzzyTrie) add(key string, entry int) {
	if len(t.nodes) == 0 {
		t.nodes = append(t.nodes, trieNode{entry: -1})
	}
	n := int32(0)
	for i := 0; i < len(key); i++ {
		next := t.child(n, key[i])
		if next < 0 {
			next = int32(len(t.nodes))
			t.nodes = append(t.nodes, trieNode{entry: -1})
			t.nodes[n].edges = append(t.nodes[n].edges, trieEdge{b: key[i], next: next})
		}
		n = next
	}
	t.nodes[n].entry = int32(entry)
}

// child returns the node after byte b from node n, or -1.
func (t *fuzzyTrie) child(n int32, b byte) int32 {
	for _, e := range t.nodes[n].edges {
		if e.b == b {
			return e.next
		}
	}
	return -1
}

// fuzzyAt returns the longest fuzzy-eligible name that matches the text
// from byte i with exactly one edit (an insertion, a deletion, a
// substitution or a swap of two neighbours) after its first letter,
// ending on a boundary. Before the edit the walk follows the text; at
// each step it also tries every edit once; after the edit it follows the
// text exactly again.
func (g *gazetteer) fuzzyAt(s string, i int) (entry, end int, ok bool) {
	t := &g.fuzzy
	if len(t.nodes) == 0 || i >= len(s) || s[i] >= utf8.RuneSelf {
		return 0, 0, false
	}
	start := t.child(0, s[i])
	if start < 0 {
		return 0, 0, false
	}
	best, bestEnd := int32(-1), 0
	var walk func(n int32, j int, edited bool)
	walk = func(n int32, j int, edited bool) {
		for {
			node := &t.nodes[n]
			if edited && node.entry >= 0 && j > bestEnd && boundary(s, j) && fuzzyText(s[i:j]) {
				best, bestEnd = node.entry, j
			}
			if !edited {
				for _, e := range node.edges {
					walk(e.next, j, true) // a letter left out
					if j < len(s) && s[j] != e.b {
						walk(e.next, j+1, true) // a wrong letter
					}
				}
				if j < len(s) && s[j] != ' ' {
					walk(n, j+1, true) // a letter too many
				}
				if j+1 < len(s) && s[j] != s[j+1] {
					if a := t.child(n, s[j+1]); a >= 0 {
						if b := t.child(a, s[j]); b >= 0 {
							walk(b, j+2, true) // two letters swapped
						}
					}
				}
			}
			if j >= len(s) {
				return
			}
			if n = t.child(n, s[j]); n < 0 {
				return
			}
			j++
		}
	}
	walk(start, i+1, false)
	if best < 0 {
		return 0, 0, false
	}
	return int(best), bestEnd, true
}

// fuzzyText reports whether the text of a fuzzy match is long enough and
// not an everyday word.
func fuzzyText(t string) bool {
	return letters(t) >= minFuzzyLetters && !fuzzyStop[t] && !commonWords[t]
}
