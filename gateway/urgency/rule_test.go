package urgency

import (
	"slices"
	"strings"
	"testing"
	"unicode"

	"golang.org/x/text/language"
	"golang.org/x/text/unicode/norm"
)

// TestRule: the combination rule, on lists of one word a class, so that each
// case says which classes meet.
func TestRule(t *testing.T) {
	m := mustMatcher(t, Options{NoDefaults: true, Extra: map[language.Tag][]string{language.English: {
		"[help] helpme", "[confinement] locked", "[violence] beaten", "[weapon] gun", "[escape] escaped",
		"[threat] chased", "[fear] scared", "[now] now", "[children] kids", "[documents] passport", "[labour] unpaid",
		"[safe] safe", "[safe] years ago", "sos", "[help] =helpme", "[help] please", "!not safe",
	}}})
	for _, tt := range []struct {
		text   string
		urgent bool
		phrase string
	}{
		{"locked", true, "locked"},
		{"a gun", true, "gun"},
		{"beaten", true, "beaten"},
		{"sos", true, "sos"}, // a configured phrase without a class counts alone
		{"helpme", true, "helpme"},
		{"helpme please", true, "helpme"}, // nothing but calls for help
		{"helpme with my visa", false, ""},
		{"helpme passport", true, "helpme + passport"},
		{"helpme now", true, "helpme + now"},
		{"passport", false, ""},
		{"passport unpaid", true, "passport + unpaid"},
		{"kids unpaid", true, "kids + unpaid"},
		{"escaped now", true, "escaped + now"},
		{"escaped chased", true, "escaped + chased"},
		{"now unpaid", false, ""}, // now with a condition alone
		{"now passport", false, ""},
		{"now passport kids", true, "passport + kids"},
		{"escaped", false, ""},
		{"scared unpaid", false, ""},
		{"scared now", false, ""},
		{"now kids", false, ""},
		{"scared escaped", true, "scared + escaped"},
		{"helpme scared", true, "helpme + scared"},
		{"locked years ago, safe", false, ""},
		{"locked years ago, now again", true, "locked"},
		{"locked, not safe", true, "locked"}, // an exception hides the safe cue
		{"helpme escaped safe", false, ""},
	} {
		got, ok := m.Match(tt.text)
		if ok != tt.urgent || got.Phrase != tt.phrase {
			t.Errorf("Match(%q) = %q, %v; want %q, %v (cues %v)", tt.text, got.Phrase, ok, tt.phrase, tt.urgent, cueList(m.All(tt.text)))
		}
	}
}

// TestSafeHidesNow: a safe cue takes its words from the others, so "safe
// now" is no "now"; a "now" elsewhere still counts.
func TestSafeHidesNow(t *testing.T) {
	m := mustMatcher(t, Options{NoDefaults: true, Extra: map[language.Tag][]string{language.English: {
		"[confinement] locked", "[now] now", "[safe] safe now",
	}}})
	if _, ok := m.Match("locked up once, safe now"); ok {
		t.Error(`"safe now" counted as now`)
	}
	if _, ok := m.Match("was safe now locked again now"); !ok {
		t.Error("a now outside the safe cue did not count")
	}
}

// TestJokeCancelsNow: a joke cue (laughter) cancels the rest, a "now" cue
// too, where a safe cue gives way to one; an exception ("not a joke") keeps
// it from counting.
func TestJokeCancelsNow(t *testing.T) {
	m := mustMatcher(t, Options{NoDefaults: true, Extra: map[language.Tag][]string{language.English: {
		"[violence] kill me", "[now] now", "[safe] years ago", "[joke] lol", "[joke] joke", "[joke] !not a joke",
	}}})
	for text, want := range map[string]bool{
		"kill me now":                true,
		"kill me now lol":            false,
		"years ago kill me":          false,
		"years ago, now kill me":     true,
		"years ago, now kill me lol": false,
		"not a joke, kill me":        true,
		"a joke, kill me":            false,
	} {
		if _, ok := m.Match(text); ok != want {
			t.Errorf("Match(%q) = %v, want %v (cues %v)", text, ok, want, cueList(m.All(text)))
		}
	}
}

// TestLaughterDigitsStandAlone: a number as a cue ("555", Thai laughter)
// counts only where it stands alone, not as a group of a longer number (a
// phone number, an address, a score); and laughter said with more fives
// ("5555555") is laughter too.
func TestLaughterDigitsStandAlone(t *testing.T) {
	m := mustMatcher(t, Options{})
	for text, want := range map[string]bool{
		"locked in 555":                   false, // laughter cancels
		"locked in 5555555":               false,
		"locked in, 555 lol no":           false,
		"ขังอยู่ 555":                     false,
		"ขังอยู่555":                      false,
		"locked in 555.":                  false, // a full stop ends the sentence
		"locked in call 081 555 1234":     true,
		"locked in call 081 5555 1234":    true,
		"locked in 555 1234":              true,
		"locked in 081 555":               true,
		"locked in 081-555-1234":          true,
		"locked in 555-1234":              true,
		"locked in +555":                  true,
		"locked in 12/555":                true,
		"locked in 555/3":                 true,
		"locked in 1.555":                 true,
		"locked in 555.12":                true,
		"locked in 555,000 baht debt":     true,
		"locked in call 555 ext. 081 555": true,
		"locked in 555 ０８１":               true, // full width digits are digits
		"locked in call 081 , 555 , 1234": true, // punctuation between words changes nothing
		"locked in, 555, 12 of us":        true, // erring towards urgent
		"locked in 555. 12 of us":         false,
	} {
		if _, ok := m.Match(text); ok != want {
			t.Errorf("Match(%q) = %v, want %v (cues %v)", text, ok, want, cueList(m.All(text)))
		}
	}
	// A configured number alone is held to the same: "999" in "0999 999 12" is
	// part of a phone number.
	m = mustMatcher(t, Options{NoDefaults: true, Extra: map[language.Tag][]string{language.English: {"999"}}})
	for text, want := range map[string]bool{"call 999": true, "call 0999 999 12": false, "999-12": false} {
		if _, ok := m.Match(text); ok != want {
			t.Errorf("configured: Match(%q) = %v, want %v", text, ok, want)
		}
	}
}

func TestGroups(t *testing.T) {
	m := mustMatcher(t, Options{NoDefaults: true, Extra: map[language.Tag][]string{
		language.English: {"[weapon] (a|the) (gun|knife)", "[confinement] (|they )locked us"},
		language.Thai:    {"[confinement] (ถูก|โดน)ขัง"},
	}})
	for text, want := range map[string]bool{
		"the gun": true, "a knife": true, "gun": false, "they locked us": true, "locked us": true,
		"ถูกขัง": true, "โดนขัง": true, "ขัง": false,
	} {
		if _, ok := m.Match(text); ok != want {
			t.Errorf("Match(%q) = %v, want %v", text, ok, want)
		}
	}
	if got, _ := m.Match("the knife"); got.Phrase != "the knife" || got.Class != Weapon {
		t.Errorf("Match = %q %v: want the variant that matched", got.Phrase, got.Class)
	}
	if m.Len() != 3 {
		t.Errorf("Len = %d, want 3 phrases as written", m.Len())
	}
}

// TestAccents: where both sides have accents they must agree in Vietnamese;
// a text typed without them matches as before, and other languages forgive
// a missing or an extra accent.
func TestAccents(t *testing.T) {
	m := mustMatcher(t, Options{NoDefaults: true, Extra: map[language.Tag][]string{
		language.Vietnamese: {"[violence] bắn em"},
		language.Spanish:    {"[escape] me escapé", "[escape] nos escapamos"},
	}})
	for text, want := range map[string]bool{
		"nó bắn em": true, "bạn em làm nhà hàng": false, "no ban em": true,
		"me escape": true, "me escapé": true, "nos escapámos": true,
	} {
		if got := len(m.All(text)) > 0; got != want {
			t.Errorf("All(%q) found %v, want %v", text, got, want)
		}
	}
}

func TestRunGap(t *testing.T) {
	m := mustMatcher(t, Options{NoDefaults: true, Extra: map[language.Tag][]string{
		language.Chinese: {"[confinement] 门...锁"},
	}})
	for text, want := range map[string]bool{
		"门从外面锁了": true, "门锁了": true, "锁门": false, "门一二三四五六七八九十锁": true,
		"门一二三四五六七八九十十一锁": false, // eleven letters between
	} {
		if _, ok := m.Match(text); ok != want {
			t.Errorf("Match(%q) = %v, want %v", text, ok, want)
		}
	}
}

func TestSqueeze(t *testing.T) {
	for in, want := range map[string]string{
		"helppp": "help", "heeelp": "help", "help": "help", "aa": "aa", "1000": "1000", "ด้วยยยย": "ด้วย", "": "",
		"🆘🆘🆘": "🆘🆘🆘",
	} {
		if got := squeeze(in); got != want {
			t.Errorf("squeeze(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestEveryLanguageEveryClass: the eight languages have cues of every class,
// so that no situation depends on the language it is told in.
func TestEveryLanguageEveryClass(t *testing.T) {
	def, err := DefaultPhrases()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range corpusLangs {
		have := map[Class]bool{}
		for _, s := range def[language.MustParse(l)] {
			ps, err := parsePhrase(s, language.Und, builtin)
			if err != nil {
				t.Fatal(err)
			}
			have[ps[0].class] = true
		}
		for c := range numClasses {
			if !have[c] {
				t.Errorf("%s has no %v cue", l, c)
			}
		}
	}
}

// TestFoldTable: folding through the table of accented letters is folding
// by decomposition, for every letter of the table and a few words.
func TestFoldTable(t *testing.T) {
	reference := func(s string) string {
		var b strings.Builder
		for _, r := range norm.NFKD.String(s) {
			switch {
			case unicode.Is(unicode.Mn, r), unicode.Is(unicode.Cf, r), isApostrophe(r):
			case r == 'đ' || r == 'Đ':
				b.WriteByte('d')
			default:
				b.WriteRune(unicode.ToLower(r))
			}
		}
		return squeeze(b.String())
	}
	var texts []string
	for r := range latinFolds() {
		texts = append(texts, string(r))
	}
	texts = append(texts, "Cứu chúng tôi", "ĐÁNH", "niñas", "Ｈｅｌｐ", "can’t", "e\u0301", "ﬁx", "Ǆ")
	for _, s := range texts {
		if got, want := foldLatin(s), reference(s); got != want {
			t.Errorf("foldLatin(%q) = %q, want %q", s, got, want)
		}
	}
}

// TestWordIndex: looking phrases up by their first two words finds what
// trying every phrase at every word finds, on a text made of each phrase;
// for the index of exceptions and Safe phrases, in the order they were added.
func TestWordIndex(t *testing.T) {
	m := mustMatcher(t, Options{})
	wordOf := make([]string, len(m.dict)+1)
	for w, id := range m.dict {
		wordOf[id] = w
	}
	for _, index := range []struct {
		name string
		ix   *cueIndex
	}{{"word phrases", &m.first}, {"exceptions and Safe phrases", &m.wordExc}} {
		all := index.ix.cues
		if len(all) < 1000 {
			t.Fatalf("only %d %s indexed", len(all), index.name)
		}
		for n, c := range all {
			if n%211 != 0 { // a sample keeps the test quick
				continue
			}
			q := m.cues[c]
			written := m.ids[q.words : q.words+uint32(q.nWords)]
			if q.flags&cueExact != 0 {
				written = m.ids[q.words+uint32(q.nWords) : q.words+2*uint32(q.nWords)]
			}
			parts := make([]string, len(written))
			for i, id := range written {
				if parts[i] = wordOf[id]; id == gap {
					parts[i] = "x" // a gap of one word
				}
			}
			text := "so " + strings.Join(parts, " ") + " ok"
			ws, ex := words(text)
			tk := m.tokens(text, ws, ex, nil)
			naive, indexed := map[uint32]bool{}, map[uint32]bool{}
			for i := range ws {
				for _, d := range all {
					if m.matchAt(&tk, i, d, 0, nil) > i {
						naive[d] = true
					}
				}
				if tk.folded[i] == noWord {
					continue
				}
				found := index.ix.atInOrder(nil, tk.folded, i)
				if !slices.IsSorted(found) {
					t.Fatalf("%q: %s at word %d not in the order they were added: %v", text, index.name, i, found)
				}
				for _, d := range found {
					if m.matchAt(&tk, i, d, 0, nil) > i {
						indexed[d] = true
					}
				}
			}
			if !naive[c] || len(naive) != len(indexed) {
				t.Fatalf("%s, %q: %d phrases match by trying each, %d by the index (itself: %v)", index.name, text, len(naive), len(indexed), naive[c])
			}
		}
	}
}

// TestToneFirst: Vietnamese writes the tone of "oa", "oe", "uy" on either
// vowel; both spellings match a phrase written either way, and words where
// the placement is fixed are left alone.
func TestToneFirst(t *testing.T) {
	for in, want := range map[string]string{
		"khoá": "khóa", "khóa": "khóa", "hoà": "hòa", "khoẻ": "khỏe", "thuỷ": "thủy",
		"quý": "quý", "hoàng": "hoàng", "khoảng": "khoảng", "toà": "tòa", "em": "em", "tát": "tát",
	} {
		if got := toneFirst(in); got != want {
			t.Errorf("toneFirst(%q) = %q, want %q", in, got, want)
		}
	}
	m := mustMatcher(t, Options{NoDefaults: true, Extra: map[language.Tag][]string{
		language.Vietnamese: {"[confinement] khóa cổng", "[violence] đánh"},
	}})
	for _, text := range []string{"đêm khoá cổng", "đêm khóa cổng", "dem khoa cong"} {
		if _, ok := m.Match(text); !ok {
			t.Errorf("%q: not matched by %q", text, "khóa cổng")
		}
	}
	if _, ok := m.Match("khỏa cổng"); ok { // another word, written with accents
		t.Error(`"khỏa cổng" matched "khóa cổng"`)
	}
}
