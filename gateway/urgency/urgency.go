// Package urgency finds the words of immediate danger in a tip ("we
// escaped", "locked in", "they took our passports", "tolong kami", "救命",
// "ช่วยด้วย", "cứu chúng tôi"...), in any of the hotline's languages, so that
// the tip is queued as urgent.
//
// The matched phrase is part of what the reporter wrote: it goes into the
// sealed report and nowhere else. Match values print as [redacted]; only the
// fact that a tip is urgent is stored in clear.
//
// Matching ignores case, accents, width and punctuation. In scripts that
// separate words with spaces a phrase matches whole words in sequence; in
// those that do not (Chinese, Japanese, Thai, Lao, Khmer, Burmese, and Korean,
// whose particles attach to words) it matches anywhere. Every list applies to
// every message, whatever its language: a Malay speaker may write "help".
// The built-in lists and their syntax are in phrases/ (see its README).
package urgency

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"slices"
	"sort"
	"strings"
	"unicode"

	"golang.org/x/text/language"
	"golang.org/x/text/unicode/norm"
)

//go:embed phrases/*.txt
var phraseFiles embed.FS

// MaxText bounds the part of a message that is searched, in bytes. The
// intake refuses longer texts anyway.
const MaxText = 64 << 10

// MaxPhrase bounds a configured phrase, in bytes.
const MaxPhrase = 120

// maxGap is how many words "..." stands for at most: enough for "took all
// of our passports" and "kinuha ng amo ko ang passport".
const maxGap = 4

// Match is a phrase found in a message. It is part of the message: it prints
// as [redacted] and belongs in the sealed report only.
type Match struct {
	Phrase string       // as written in the list
	Lang   language.Tag // the list it came from; Und for any language
}

// LogValue keeps a match out of logs.
func (Match) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// String keeps a match out of formatted output.
func (Match) String() string { return "[redacted]" }

// Options configure a Matcher.
type Options struct {
	// Extra phrases by language, added to the built-in lists (config:
	// urgency phrases). Any language may be given, not only the eight the
	// replies speak: a Burmese phrase is matched like a Thai one.
	Extra map[language.Tag][]string
	// NoDefaults leaves the built-in lists out.
	NoDefaults bool
}

// Matcher finds urgent phrases. It is safe for concurrent use.
type Matcher struct {
	first   map[string][]*phrase // word phrases by their first word
	wordExc map[string][]*phrase // word exceptions by their first word
	whole   map[string]*phrase   // whole-message phrases by normal form
	runs    []*phrase            // phrases matched anywhere
	runExc  []*phrase
	// symbols are the phrases matched anywhere that are not in an
	// unspaced script (emoji): a text in Latin letters needs only these.
	symbols  []*phrase
	nPhrases int
}

type phrase struct {
	text   string
	lang   language.Tag
	words  []string // folded words; "" is a gap of up to maxGap words
	run    string   // compact form, for unspaced scripts
	whole  bool
	except bool
}

// Errors of New and ValidatePhrase.
var (
	ErrEmptyPhrase = errors.New("phrase has no letters or digits")
	ErrLongPhrase  = fmt.Errorf("phrase is longer than %d bytes", MaxPhrase)
	ErrBadGap      = errors.New(`"..." must stand between two words of a spaced script`)
)

// New returns a matcher with the built-in lists and opt.Extra.
func New(opt Options) (*Matcher, error) {
	m := &Matcher{first: map[string][]*phrase{}, wordExc: map[string][]*phrase{}, whole: map[string]*phrase{}}
	if !opt.NoDefaults {
		def, err := DefaultPhrases()
		if err != nil {
			return nil, err
		}
		if err := m.addAll(def); err != nil {
			return nil, fmt.Errorf("built-in %w", err)
		}
	}
	if err := m.addAll(opt.Extra); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *Matcher) addAll(lists map[language.Tag][]string) error {
	tags := make([]language.Tag, 0, len(lists))
	for t := range lists {
		tags = append(tags, t)
	}
	sort.Slice(tags, func(i, j int) bool { return tags[i].String() < tags[j].String() })
	var errs []error
	for _, t := range tags {
		for i, s := range lists[t] {
			p, err := parsePhrase(s, t)
			if err != nil {
				errs = append(errs, fmt.Errorf("urgency phrase %d of %v: %w", i+1, t, err))
				continue
			}
			m.add(p)
		}
	}
	return errors.Join(errs...)
}

func (m *Matcher) add(p *phrase) {
	m.nPhrases++
	switch {
	case p.whole:
		key := p.run
		if p.words != nil {
			key = strings.Join(p.words, " ")
		}
		if _, dup := m.whole[key]; !dup {
			m.whole[key] = p
		}
	case p.words != nil && p.except:
		m.wordExc[p.words[0]] = append(m.wordExc[p.words[0]], p)
	case p.words != nil:
		for _, q := range m.first[p.words[0]] {
			if slices.Equal(q.words, p.words) {
				return // the same phrase twice, or in two languages: first wins
			}
		}
		m.first[p.words[0]] = append(m.first[p.words[0]], p)
	case p.except:
		m.runExc = append(m.runExc, p)
	default:
		for _, q := range m.runs {
			if q.run == p.run {
				return
			}
		}
		m.runs = append(m.runs, p)
		if !unspaced(p.run) {
			m.symbols = append(m.symbols, p)
		}
	}
}

// ValidatePhrase reports whether s can be a phrase. Errors never quote it.
func ValidatePhrase(s string) error {
	_, err := parsePhrase(s, language.Und)
	return err
}

func parsePhrase(s string, tag language.Tag) (*phrase, error) {
	p := &phrase{text: strings.TrimSpace(s), lang: tag}
	if len(s) > MaxPhrase {
		return nil, ErrLongPhrase
	}
	body := p.text
	switch {
	case strings.HasPrefix(body, "="):
		p.whole, body = true, body[1:]
	case strings.HasPrefix(body, "!"):
		p.except, body = true, body[1:]
	}
	p.text = strings.TrimSpace(body)
	if unspaced(body) {
		if strings.Contains(body, "...") {
			return nil, ErrBadGap
		}
		p.run = compact(body)
		if p.run == "" {
			return nil, ErrEmptyPhrase
		}
		return p, nil
	}
	parts := strings.Split(body, "...")
	for i, part := range parts {
		ws := words(foldLatin(part))
		if len(ws) == 0 {
			if len(parts) == 1 {
				break // no words at all
			}
			return nil, ErrBadGap // "..." at an end, or twice in a row
		}
		if i > 0 {
			p.words = append(p.words, "")
		}
		p.words = append(p.words, ws...)
	}
	if p.words == nil {
		// Only symbols: an emoji such as 🆘 is matched anywhere.
		if p.run = compact(body); p.run == "" {
			return nil, ErrEmptyPhrase
		}
		return p, nil
	}
	if p.whole && strings.Contains(body, "...") {
		return nil, ErrBadGap
	}
	return p, nil
}

// unspaced reports whether s has letters of a script written without spaces
// between words.
func unspaced(s string) bool {
	for _, r := range s {
		if r < 0x0E00 {
			continue // fast path: Latin, Cyrillic, Arabic, Devanagari...
		}
		if unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul, unicode.Thai,
			unicode.Lao, unicode.Khmer, unicode.Myanmar, unicode.Tibetan) {
			return true
		}
	}
	return false
}

// foldLatin lowers s and strips accents and apostrophes, so that "Can't",
// "cant" and "CAN’T" are one word, and "cứu" is "cuu".
func foldLatin(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range norm.NFKD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r), unicode.Is(unicode.Cf, r):
		case r == 'đ' || r == 'Đ':
			b.WriteByte('d')
		case r == '\'' || r == '’' || r == 'ʼ':
		default:
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// words splits folded text into words of letters and digits: hyphens,
// punctuation and emoji separate ("anak-anak" is "anak anak").
func words(folded string) []string {
	return strings.FieldsFunc(folded, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// compact is the form unspaced phrases are matched in: compatibility forms
// folded (full-width letters), lower case, marks kept (Thai vowels and tones
// are marks), and every space and punctuation removed. Symbols stay, for
// emoji.
func compact(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range norm.NFKC.String(s) {
		switch {
		case unicode.IsLetter(r), unicode.IsDigit(r), unicode.IsMark(r):
			b.WriteRune(unicode.ToLower(r))
		case unicode.Is(unicode.So, r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Match returns the first urgent phrase found in text (words before the
// phrases matched anywhere), and whether there is one.
func (m *Matcher) Match(text string) (Match, bool) {
	all := m.find(text, true)
	if len(all) == 0 {
		return Match{}, false
	}
	return all[0], true
}

// All returns every distinct urgent phrase found in text, in the order Match
// would find them.
func (m *Matcher) All(text string) []Match { return m.find(text, false) }

func (m *Matcher) find(text string, firstOnly bool) []Match {
	if len(text) > MaxText {
		text = text[:MaxText] // a cut rune is dropped by the folding
	}
	var out []Match
	seen := map[*phrase]bool{}
	found := func(p *phrase) bool {
		if !seen[p] {
			seen[p] = true
			out = append(out, Match{Phrase: p.text, Lang: p.lang})
		}
		return firstOnly
	}

	ws := words(foldLatin(text))
	run := compact(text)
	if p, ok := m.whole[strings.Join(ws, " ")]; ok && len(ws) > 0 && p.words != nil {
		if found(p) {
			return out
		}
	}
	if p, ok := m.whole[run]; ok && run != "" && p.words == nil {
		if found(p) {
			return out
		}
	}

	masked := make([]bool, len(ws))
	for i, w := range ws {
		for _, p := range m.wordExc[w] {
			if end := matchAt(ws, i, p.words, nil); end > i {
				for j := i; j < end; j++ {
					masked[j] = true
				}
			}
		}
	}
	for i, w := range ws {
		if masked[i] {
			continue
		}
		for _, p := range m.first[w] {
			if matchAt(ws, i, p.words, masked) > i && found(p) {
				return out
			}
		}
	}

	runs := m.runs
	if !unspaced(text) {
		runs = m.symbols
	}
	if run == "" || len(runs) == 0 {
		return out
	}
	var maskRun []bool
	for _, p := range m.runExc {
		for off := 0; ; {
			j := strings.Index(run[off:], p.run)
			if j < 0 {
				break
			}
			if maskRun == nil {
				maskRun = make([]bool, len(run))
			}
			for k := off + j; k < off+j+len(p.run); k++ {
				maskRun[k] = true
			}
			off += j + 1
		}
	}
	for _, p := range runs {
		for off := 0; ; {
			j := strings.Index(run[off:], p.run)
			if j < 0 {
				break
			}
			if !anyMasked(maskRun, off+j, off+j+len(p.run)) {
				if found(p) {
					return out
				}
				break
			}
			off += j + 1
		}
	}
	return out
}

func anyMasked(mask []bool, from, to int) bool {
	if mask == nil {
		return false
	}
	for _, m := range mask[from:to] {
		if m {
			return true
		}
	}
	return false
}

// matchAt matches pattern against ws from i and returns the end of the match,
// or -1. A "" in pattern skips up to maxGap words. Masked words never match.
func matchAt(ws []string, i int, pattern []string, masked []bool) int {
	if len(pattern) == 0 {
		return i
	}
	if pattern[0] == "" {
		for skip := 0; skip <= maxGap && i+skip <= len(ws); skip++ {
			if skip > 0 && masked != nil && masked[i+skip-1] {
				return -1
			}
			if end := matchAt(ws, i+skip, pattern[1:], masked); end >= 0 {
				return end
			}
		}
		return -1
	}
	if i >= len(ws) || ws[i] != pattern[0] || (masked != nil && masked[i]) {
		return -1
	}
	return matchAt(ws, i+1, pattern[1:], masked)
}

// DefaultPhrases returns the built-in lists by language.
func DefaultPhrases() (map[language.Tag][]string, error) {
	files, err := fs.Glob(phraseFiles, "phrases/*.txt")
	if err != nil {
		return nil, fmt.Errorf("failed to list urgency phrases: %w", err)
	}
	out := map[language.Tag][]string{}
	for _, f := range files {
		name := strings.TrimSuffix(path.Base(f), ".txt")
		tag, err := language.Parse(name)
		if err != nil {
			return nil, fmt.Errorf("urgency phrases %s: file name is not a language tag", f)
		}
		data, err := phraseFiles.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("failed to read urgency phrases %s: %w", f, err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
				out[tag] = append(out[tag], line)
			}
		}
	}
	return out, nil
}

// Len returns the number of phrases the matcher was given, exceptions and
// duplicates included.
func (m *Matcher) Len() int { return m.nPhrases }
