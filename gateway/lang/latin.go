package lang

import (
	"embed"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

//go:embed words/*.txt
var wordFiles embed.FS

// lexicon maps a folded word to its weight in each language.
type lexicon map[string][numLangs]float32

// wordLists says which files feed which language; msid.txt is shared.
var wordLists = []struct {
	file  string
	langs []langID
}{
	{"en.txt", []langID{en}},
	{"es.txt", []langID{es}},
	{"fil.txt", []langID{fil}},
	{"vi.txt", []langID{vi}},
	{"msid.txt", []langID{ms, id}},
	{"ms.txt", []langID{ms}},
	{"id.txt", []langID{id}},
}

var (
	lexOnce sync.Once
	lexVal  lexicon
	lexErr  error
)

// loadLexicon parses the embedded lists once; they never change, so every
// detector shares one read-only map.
func loadLexicon() (lexicon, error) {
	lexOnce.Do(func() { lexVal, lexErr = parseLexicon() })
	return lexVal, lexErr
}

func parseLexicon() (lexicon, error) {
	lex := lexicon{}
	for _, wl := range wordLists {
		data, err := wordFiles.ReadFile("words/" + wl.file)
		if err != nil {
			return nil, fmt.Errorf("failed to read word list %s: %w", wl.file, err)
		}
		// Within one file a repeated word keeps its largest weight; across
		// files (msid.txt and ms.txt) weights add up.
		file := map[string]float32{}
		for n, line := range strings.Split(string(data), "\n") {
			if i := strings.IndexByte(line, '#'); i >= 0 {
				line = line[:i]
			}
			for _, f := range strings.Fields(line) {
				word, weight := f, float32(1)
				if i := strings.IndexByte(f, '/'); i >= 0 {
					w, err := strconv.ParseFloat(f[i+1:], 32)
					if err != nil || w <= 0 || w > 1 {
						return nil, fmt.Errorf("word list %s line %d: bad weight in %q", wl.file, n+1, f)
					}
					word, weight = f[:i], float32(w)
				}
				word = fold(word)
				if word == "" || strings.ContainsFunc(word, func(r rune) bool { return !isWordRune(r) }) {
					return nil, fmt.Errorf("word list %s line %d: %q is not one word", wl.file, n+1, f)
				}
				file[word] = max(file[word], weight)
			}
		}
		for word, w := range file {
			v := lex[word]
			for _, l := range wl.langs {
				v[l] += w
			}
			lex[word] = v
		}
	}
	return lex, nil
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// fold lowers s and strips its accents: "Tôi" and "toi", "Dónde" and
// "donde" become one. đ, which has no decomposition, becomes d.
func fold(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range norm.NFKD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
		case r == 'đ' || r == 'Đ':
			b.WriteByte('d')
		case r == '\'' || r == '’':
			// "don't" is "dont" in a text message anyway
		default:
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// tokens splits folded text into words of letters and digits.
func tokens(folded string) []string {
	return strings.FieldsFunc(folded, func(r rune) bool { return !isWordRune(r) })
}

// Letters that settle a Latin-script message almost alone.
const (
	// vietnameseOnly are letters of Vietnamese that neither Spanish, Malay,
	// Indonesian, Tagalog nor English writes (besides the block
	// U+1EA0-U+1EF9, which is all Vietnamese).
	vietnameseOnly = "ăâđêôơưàèìòùãẽĩõũỹỳýẫ"
	spanishOnly    = "ñ¿¡"
	spanishAccents = "áéíóúü"
)

// affix rules score words no list knows, by how they are built.
type affixRule struct {
	prefix, suffix string
	minLen         int
	langs          []langID
}

var affixRules = []affixRule{
	{suffix: "cion", minLen: 6, langs: []langID{es}},
	{suffix: "ciones", minLen: 8, langs: []langID{es}},
	{suffix: "mente", minLen: 8, langs: []langID{es}},
	{suffix: "amos", minLen: 6, langs: []langID{es}},
	{suffix: "emos", minLen: 6, langs: []langID{es}},
	{suffix: "imos", minLen: 6, langs: []langID{es}},
	{suffix: "aron", minLen: 6, langs: []langID{es}},
	{suffix: "ieron", minLen: 7, langs: []langID{es}},
	{suffix: "ando", minLen: 6, langs: []langID{es}},
	{suffix: "iendo", minLen: 7, langs: []langID{es}},
	{suffix: "ados", minLen: 6, langs: []langID{es}},
	{suffix: "adas", minLen: 6, langs: []langID{es}},
	{suffix: "idos", minLen: 6, langs: []langID{es}},
	{suffix: "idas", minLen: 6, langs: []langID{es}},
	{suffix: "dad", minLen: 6, langs: []langID{es}},
	{suffix: "ing", minLen: 5, langs: []langID{en}},
	{suffix: "tion", minLen: 6, langs: []langID{en}},
	{suffix: "ness", minLen: 6, langs: []langID{en}},
	{suffix: "ed", minLen: 5, langs: []langID{en}},
	{suffix: "ly", minLen: 5, langs: []langID{en}},
	{prefix: "th", minLen: 4, langs: []langID{en}},
	{prefix: "wh", minLen: 4, langs: []langID{en}},
	{prefix: "meng", minLen: 6, langs: []langID{ms, id}},
	{prefix: "meny", minLen: 6, langs: []langID{ms, id}},
	{prefix: "mem", minLen: 6, langs: []langID{ms, id}},
	{prefix: "men", minLen: 7, langs: []langID{ms, id}},
	{prefix: "ber", minLen: 6, langs: []langID{ms, id}},
	{prefix: "ter", minLen: 6, langs: []langID{ms, id}},
	{prefix: "di", minLen: 6, langs: []langID{ms, id}},
	{suffix: "kan", minLen: 6, langs: []langID{ms, id}},
	{suffix: "nya", minLen: 5, langs: []langID{ms, id}},
	{suffix: "lah", minLen: 5, langs: []langID{ms, id}},
	{prefix: "nag", minLen: 6, langs: []langID{fil}},
	{prefix: "mag", minLen: 6, langs: []langID{fil}},
	{prefix: "pag", minLen: 6, langs: []langID{fil}},
	{prefix: "naka", minLen: 6, langs: []langID{fil}},
	{prefix: "maka", minLen: 6, langs: []langID{fil}},
	{prefix: "pina", minLen: 6, langs: []langID{fil}},
	{prefix: "ipa", minLen: 6, langs: []langID{fil}},
	{prefix: "nh", minLen: 3, langs: []langID{vi}},
	{prefix: "ngh", minLen: 4, langs: []langID{vi}},
}

// nonASCIILower is text composed and lower-cased, or "" when text is all
// ASCII (nothing in it is counted as a letter of one language).
func nonASCIILower(text string) string {
	for i := 0; i < len(text); i++ {
		if text[i] >= utf8.RuneSelf {
			return strings.ToLower(norm.NFC.String(text))
		}
	}
	return ""
}

// affixWeight is what a word known only by its form is worth, against 1 for
// a listed word.
const affixWeight = 0.4

// scoreLatin adds each configured Latin-script language's evidence in text
// to scores.
func (d *Detector) scoreLatin(text string, scores *[numLangs]float64) {
	var viLetters, esLetters, esAccents int
	// The letters counted here are none of them ASCII: ASCII text has none.
	for _, r := range nonASCIILower(text) {
		switch {
		case r >= 0x1EA0 && r <= 0x1EF9, strings.ContainsRune(vietnameseOnly, r):
			viLetters++
		case strings.ContainsRune(spanishOnly, r):
			esLetters++
		case strings.ContainsRune(spanishAccents, r):
			esAccents++
		}
	}
	d.add(scores, []langID{vi}, float64(min(viLetters, 4)))
	d.add(scores, []langID{es}, float64(min(esLetters, 3)))
	if viLetters == 0 {
		d.add(scores, []langID{es}, 0.5*float64(min(esAccents, 2)))
	} else {
		d.add(scores, []langID{vi}, 0.5*float64(min(esAccents, 2)))
	}

	for _, tok := range tokens(fold(text)) {
		if tok[0] >= '0' && tok[0] <= '9' {
			continue // 5000, 10pm, 3am
		}
		if w, ok := d.lex[tok]; ok {
			var total float32
			for _, l := range latinLangs {
				if d.enabled[l] {
					total += w[l]
				}
			}
			if total > 0 {
				for _, l := range latinLangs {
					if d.enabled[l] && w[l] > 0 {
						scores[l] += float64(w[l] / total)
					}
				}
				continue
			}
		}
		n := len(tok) // folded words are ASCII but for rare letters
		for _, a := range affixRules {
			if n >= a.minLen && strings.HasPrefix(tok, a.prefix) && strings.HasSuffix(tok, a.suffix) {
				d.add(scores, a.langs, affixWeight)
				break
			}
		}
		if n >= 5 && isTagalogUm(tok) {
			d.add(scores, []langID{fil}, affixWeight)
		}
	}
}

// add shares weight among the configured languages of langs.
func (d *Detector) add(scores *[numLangs]float64, langs []langID, weight float64) {
	if weight == 0 {
		return
	}
	var on []langID
	for _, l := range langs {
		if d.enabled[l] {
			on = append(on, l)
		}
	}
	for _, l := range on {
		scores[l] += weight / float64(len(on))
	}
}

// isTagalogUm reports the Tagalog actor infix: a consonant, "um", then a
// vowel (tumakas, pumunta, lumabas, kumain).
func isTagalogUm(w string) bool {
	if len(w) < 4 || w[1] != 'u' || w[2] != 'm' {
		return false
	}
	return !strings.ContainsRune("aeiou", rune(w[0])) && strings.ContainsRune("aeiou", rune(w[3]))
}
