// Package urgency decides whether a tip speaks of danger now, in any of the
// hotline's languages, so that it is queued as urgent.
//
// It does not take one phrase as proof. Each list gives cues of a class
// (a call for help, confinement, violence, a weapon, a threat, fear,
// escape, "right now", children, documents taken, forced or unpaid work,
// being moved, sexual exploitation, and "that was long ago, I am safe now"), and a message is urgent when the cues it
// holds add up to danger now, the same way in every language:
//
//   - a cue that is enough alone: confinement ("locked in", "dikurung",
//     "被关"), violence or a death threat, a weapon, an explicit emergency
//     ("SOS", "emergency"), or a message that is nothing but calls for help
//     ("HELP!!", "AYÚDENME x favor", "救命");
//   - or a call for help with any cue of danger ("help us, they took our
//     passports", "tolong saya, gaji tak dibayar");
//   - or two cues of danger of different classes ("they took my passport and
//     make us work without pay", "we escaped last night"), except that
//     "right now" and fear only bring danger nearer: not with each other,
//     nor with a condition alone (work not paid, a passport kept, children);
//   - unless the message says the danger is past or over ("years ago", "we
//     are safe now", the news) and holds no "right now" cue beside it, or
//     laughs ("lol", "555", "哈哈") or tells a film or a game: not real,
//     "right now" or not.
//
// A small model hears what the lists miss (model.go): a logistic
// regression over the letter n-grams, words and pairs of words of the text
// alone (it does not see the cues), trained on the corpora of testdata
// (never on a blind one) and on the examples of the package's tests. It is
// a second opinion made apart from the lists'. The rule's urgent answer
// stands unless the model gives the message less than 0.25 (an explicit
// emergency, a whole-message phrase or a cry stand whatever it says). A
// message the rule left aside, unless it is a joke, a story or a danger
// past, is urgent when the model's probability reaches 0.4 with a cue of
// escape, threat, being moved or exploitation, 0.3 with a condition alone
// (work, documents, children), 0.55 with only "now", fear or a call for
// help, and 0.4 with no cue at all: the thresholds a search by
// cross-validation picks (TestCrossValidation). A Match the model raised
// names modelPhrase, then the cues found. Options NoModel (and NoDefaults,
// whose lists it did not learn) leave it out. Leave-one-corpus-out
// cross-validation over the nine corpora estimates a new writer's figures:
// 97.2% recall and 7.6% false alarms, the lists alone 72.4% and 7.8%; on
// blind4 and blind5, each written apart and measured once, 100% and 5.4%,
// 100% and 4.2% (TestNewBlindCorpora).
//
// The cues found are part of what the reporter wrote: they go into the sealed
// report and nowhere else. Match values print as [redacted]; only the fact
// that a tip is urgent is stored in clear.
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
	"sync"
	"unicode"
	"unicode/utf8"

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

// maxRunGap is how many letters "..." stands for at most in scripts
// without spaces: "现在...安全" matches "现在已经很安全".
const maxRunGap = 10

// maxVariants bounds what the "(a|b)" groups of one configured phrase
// expand to. The built-in lists, which are not outside input, may be longer
// and wider: up to builtinScale times.
const maxVariants = 64

const builtinScale = 16

// limits bound a phrase.
type limits struct{ bytes, variants int }

var (
	configured = limits{MaxPhrase, maxVariants}
	builtin    = limits{builtinScale * MaxPhrase, builtinScale * maxVariants}
)

// Class is the kind of cue a phrase is. Class names are not personal data.
type Class uint8

// The classes of cues. Those marked "alone" make a message urgent by
// themselves; the others count with a call for help or with another class.
const (
	Urgent    Class = iota // alone: SOS, "emergency"; a configured phrase without a class
	Help                   // a call for help ("help us", "tolong kami")
	Confine                // alone: locked in, held, not let out
	Violence               // alone: beaten, raped, a death threat
	Weapon                 // alone: a gun, a knife
	Escape                 // escaped, running, hiding
	Threat                 // threatened, chased, watched
	Fear                   // afraid, cannot take it any more
	Now                    // right now, tonight, last night
	Children               // children, minors
	Documents              // passport or papers taken
	Labour                 // forced work, not paid, debt, sold
	Moved                  // being moved now: in a lorry, in the trunk, to another camp tonight
	Exploit                // sexual exploitation now: a client in the room, made to sit with customers
	Safe                   // the danger is past, over or elsewhere (the news): cancels the rest unless a Now cue is outside it
	Joke                   // not real: laughter, "jk", a film, a game: cancels the rest, a Now cue too ("kill me now lol")
	numClasses
)

var classNames = [numClasses]string{"urgent", "help", "confinement", "violence", "weapon", "escape", "threat",
	"fear", "now", "children", "documents", "labour", "moved", "exploitation", "safe", "joke"}

// String returns the name of c as written in the lists.
func (c Class) String() string {
	if c < numClasses {
		return classNames[c]
	}
	return fmt.Sprintf("Class(%d)", c)
}

// alone reports whether a cue of class c makes a message urgent by itself.
func (c Class) alone() bool { return c == Urgent || c == Confine || c == Violence || c == Weapon }

// danger reports whether c is a cue of danger (not help, not safety, not a
// joke).
func (c Class) danger() bool { return c != Help && c != Safe && c != Joke }

// ParseClass returns the class of a name, as written in the lists.
func ParseClass(name string) (Class, error) {
	for i, n := range classNames {
		if n == name {
			return Class(i), nil
		}
	}
	return 0, ErrBadClass
}

// Match is a cue found in a message or, from Matcher.Match, the cues that
// made it urgent. It is part of the message: it prints as [redacted] and
// belongs in the sealed report only.
type Match struct {
	Phrase string       // the phrases as written in the lists, joined by " + "
	Lang   language.Tag // the list of the first phrase; Und for any language
	Class  Class        // the class of the first phrase
}

// LogValue keeps a match out of logs.
func (Match) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// String keeps a match out of formatted output.
func (Match) String() string { return "[redacted]" }

// Options configure a Matcher.
type Options struct {
	// Extra phrases by language, added to the built-in lists (config:
	// urgency phrases). Any language may be given, not only the eight the
	// replies speak: a Burmese phrase is matched like a Thai one. A phrase
	// may start with its class ("[confinement] kurungan"); without one it is
	// urgent alone, as the phrases of earlier versions were.
	Extra map[language.Tag][]string
	// NoDefaults leaves the built-in lists out, and the model with them:
	// it learnt what their cues are worth.
	NoDefaults bool
	// NoModel decides by the rule over the cues alone.
	NoModel bool
}

type phrase struct {
	text   string
	lang   language.Tag
	class  Class
	words  []string // folded words; "" is a gap of up to maxGap words
	exact  []string // the words as written, for sameWord; nil when they are the folded words
	strict bool     // accents must agree when the text has some (Vietnamese)
	run    string   // compact form, for unspaced scripts
	rest   []string // what follows run, each within maxRunGap letters of the one before
	whole  bool
	except bool
	// A phrase a compact matcher found has no text until it is asked for
	// (see asWritten): it has the phrase as written, "(a|b)" groups and all,
	// and which of its expansions it is.
	groups  string
	variant int
}

// written is p's k-th word as written.
func (p *phrase) written(k int) string {
	if p.exact == nil {
		return p.words[k]
	}
	return p.exact[k]
}

// number reports whether p is a number alone ("555"): it matches only a
// number that stands alone (see joinedNumber).
func (p *phrase) number() bool { return len(p.words) == 1 && isNumber(p.words[0]) }

// masks reports whether p is matched before the others and hides the words
// it covers from them: exceptions, and Safe cues ("now safe" is no "now").
func (p *phrase) masks() bool { return p.except || p.class == Safe }

// Errors of New and ValidatePhrase.
var (
	ErrEmptyPhrase = errors.New("phrase has no letters or digits")
	ErrLongPhrase  = fmt.Errorf("phrase is longer than %d bytes", MaxPhrase)
	ErrBadGap      = errors.New(`"..." must stand between two words, and not in a whole-message phrase`)
	ErrBadClass    = errors.New("unknown class: use one of " + strings.Join(classNames[:], ", "))
	ErrBadGroup    = fmt.Errorf(`"(a|b)" groups must close, hold no other group, and make at most %d phrases`, maxVariants)
)

// load parses the built-in lists (unless opt.NoDefaults) and opt.Extra,
// gives add each phrase as written and what its "(a|b)" groups expand to, and
// returns how many phrases there were.
func load(opt Options, add func(string, []*phrase)) (int, error) {
	n := 0
	if !opt.NoDefaults {
		def, err := DefaultPhrases()
		if err != nil {
			return 0, err
		}
		if err := addAll(def, builtin, add, &n); err != nil {
			return 0, fmt.Errorf("built-in %w", err)
		}
	}
	if err := addAll(opt.Extra, configured, add, &n); err != nil {
		return 0, err
	}
	return n, nil
}

func addAll(lists map[language.Tag][]string, lim limits, add func(string, []*phrase), n *int) error {
	tags := make([]language.Tag, 0, len(lists))
	for t := range lists {
		tags = append(tags, t)
	}
	sort.Slice(tags, func(i, j int) bool { return tags[i].String() < tags[j].String() })
	var errs []error
	for _, t := range tags {
		for i, s := range lists[t] {
			ps, err := parsePhrase(s, t, lim)
			if err != nil {
				errs = append(errs, fmt.Errorf("urgency phrase %d of %v: %w", i+1, t, err))
				continue
			}
			*n++
			add(s, ps)
		}
	}
	return errors.Join(errs...)
}

// ValidatePhrase reports whether s can be a phrase. Errors never quote it.
func ValidatePhrase(s string) error {
	_, err := parsePhrase(s, language.Und, configured)
	return err
}

// header reads "[class] =phrase", "[class] !phrase" or "[class] phrase",
// the class optional, and returns the phrase with its groups unexpanded.
func header(s string) (class Class, whole, except bool, body string, err error) {
	body = strings.TrimSpace(s)
	class = Urgent
	if strings.HasPrefix(body, "[") {
		end := strings.Index(body, "]")
		if end < 0 {
			return 0, false, false, "", ErrBadClass
		}
		c, err := ParseClass(strings.TrimSpace(body[1:end]))
		if err != nil {
			return 0, false, false, "", err
		}
		class, body = c, strings.TrimSpace(body[end+1:])
	}
	switch {
	case strings.HasPrefix(body, "="):
		whole, body = true, body[1:]
	case strings.HasPrefix(body, "!"):
		except, body = true, body[1:]
	}
	return class, whole, except, strings.TrimSpace(body), nil
}

// parsePhrase reads "[class] =phrase", "[class] !phrase" or "[class]
// phrase", the class optional, and expands its "(a|b)" groups.
func parsePhrase(s string, tag language.Tag, lim limits) ([]*phrase, error) {
	if len(s) > lim.bytes {
		return nil, ErrLongPhrase
	}
	class, whole, except, body, err := header(s)
	if err != nil {
		return nil, err
	}
	variants, err := expand(body, lim.variants)
	if err != nil {
		return nil, err
	}
	out := make([]*phrase, 0, len(variants))
	for _, v := range variants {
		p, err := parseVariant(strings.Join(strings.Fields(v), " "), tag, class, whole, except)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// expand turns "(beat|beating) (me|us)" into its four phrases. A group may
// hold an empty choice: "(please )help" is "please help" and "help".
func expand(s string, limit int) ([]string, error) {
	open := strings.IndexByte(s, '(')
	if open < 0 {
		if strings.ContainsRune(s, ')') {
			return nil, ErrBadGroup
		}
		return []string{s}, nil
	}
	closing := strings.IndexByte(s[open:], ')')
	if closing < 0 {
		return nil, ErrBadGroup
	}
	closing += open
	inner := s[open+1 : closing]
	if strings.ContainsAny(inner, "()") {
		return nil, ErrBadGroup
	}
	rest, err := expand(s[closing+1:], limit)
	if err != nil {
		return nil, err
	}
	if strings.ContainsRune(s[:open], ')') {
		return nil, ErrBadGroup
	}
	choices := strings.Split(inner, "|")
	if len(choices)*len(rest) > limit {
		return nil, ErrBadGroup
	}
	out := make([]string, 0, len(choices)*len(rest))
	for _, c := range choices {
		for _, r := range rest {
			out = append(out, s[:open]+c+r)
		}
	}
	return out, nil
}

func parseVariant(body string, tag language.Tag, class Class, whole, except bool) (*phrase, error) {
	base, _ := tag.Base()
	p := &phrase{text: body, lang: tag, class: class, whole: whole, except: except, strict: base.String() == "vi"}
	if unspaced(body) {
		parts := strings.Split(body, "...")
		if len(parts) > 1 && whole {
			return nil, ErrBadGap
		}
		for i, part := range parts {
			c := compact(part)
			switch {
			case c == "" && len(parts) == 1:
				return nil, ErrEmptyPhrase
			case c == "":
				return nil, ErrBadGap
			case i == 0:
				p.run = c
			default:
				p.rest = append(p.rest, c)
			}
		}
		return p, nil
	}
	parts := strings.Split(body, "...")
	for i, part := range parts {
		ws, ex := words(part)
		if len(ws) == 0 {
			if len(parts) == 1 {
				break // no words at all
			}
			return nil, ErrBadGap // "..." at an end, or twice in a row
		}
		if i > 0 {
			p.words, p.exact = append(p.words, ""), append(p.exact, "")
		}
		p.words, p.exact = append(p.words, ws...), append(p.exact, ex...)
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
	if slices.Equal(p.words, p.exact) {
		p.exact = nil // most phrases: the matcher keeps tens of thousands
	}
	return p, nil
}

// unspaced reports whether s has letters of a script written without spaces
// between words.
func unspaced(s string) bool {
	for _, r := range s {
		if r >= 0x0E00 && unspacedRune(r) { // below: Latin, Cyrillic, Arabic, Devanagari...
			return true
		}
	}
	return false
}

func unspacedRune(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul, unicode.Thai,
		unicode.Lao, unicode.Khmer, unicode.Myanmar, unicode.Tibetan)
}

// hasWords reports whether s has a letter or digit of a spaced script: a
// text all in Thai or Chinese has no words to match.
func hasWords(s string) bool {
	for _, r := range s {
		if (r < 0x0E00 || !unspacedRune(r)) && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			return true
		}
	}
	return false
}

// foldLatin lowers s and strips accents and apostrophes, so that "Can't",
// "cant" and "CAN’T" are one word, and "cứu" is "cuu".
func foldLatin(s string) string {
	if isASCII(s) {
		return squeeze(strings.ToLower(strings.ReplaceAll(s, "'", "")))
	}
	folds := latinFolds()
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if f, ok := folds[r]; ok {
			b.WriteString(f)
		} else {
			foldRune(&b, r)
		}
	}
	return squeeze(b.String())
}

// foldRune writes r decomposed, lower case, without marks and apostrophes.
func foldRune(b *strings.Builder, r rune) {
	if r < utf8.RuneSelf {
		if r != '\'' {
			b.WriteRune(unicode.ToLower(r))
		}
		return
	}
	for _, d := range norm.NFKD.String(string(r)) {
		switch {
		case unicode.Is(unicode.Mn, d), unicode.Is(unicode.Cf, d), isApostrophe(d):
		case d == 'đ' || d == 'Đ':
			b.WriteByte('d')
		default:
			b.WriteRune(unicode.ToLower(d))
		}
	}
}

// latinFolds are the folds of the accented Latin letters, Vietnamese's
// included, made once: decomposing each word of a text costs more than the
// rest of the matching.
var latinFolds = sync.OnceValue(func() map[rune]string {
	folds := map[rune]string{}
	for _, block := range [][2]rune{{0xC0, 0x24F}, {0x1E00, 0x1EFF}} {
		for r := block[0]; r <= block[1]; r++ {
			var b strings.Builder
			foldRune(&b, r)
			folds[r] = b.String()
		}
	}
	return folds
})

// squeeze writes a letter said three times or more in a row once:
// "HELPPP", "tolonggg" and "ช่วยด้วยยยย" are how people shout in a text.
func squeeze(s string) string {
	if !hasTriple(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	rs := []rune(s)
	for i := 0; i < len(rs); {
		j := i
		for j < len(rs) && rs[j] == rs[i] {
			j++
		}
		if j-i >= 3 && unicode.IsLetter(rs[i]) {
			b.WriteRune(rs[i])
		} else {
			for _, r := range rs[i:j] {
				b.WriteRune(r)
			}
		}
		i = j
	}
	return b.String()
}

func hasTriple(s string) bool {
	var last rune
	n := 0
	for _, r := range s {
		if r == last && unicode.IsLetter(r) {
			if n++; n == 3 {
				return true
			}
		} else {
			last, n = r, 1
		}
	}
	return false
}

// words splits text into words of letters and digits (hyphens, punctuation
// and emoji separate: "anak-anak" is "anak anak"), folded, and as written
// beside them: lower case, composed, without apostrophes. The written form
// tells "bắn em" (shoot me) from "bạn em" (my friend), which fold alike.
func words(text string) (folded, written []string) {
	folded, written, _ = wordsJoined(text)
	return folded, written
}

// wordsJoined is words, and which words are a group of digits joined to
// another number (see joinedNumber; nil if none): "555" in "call 081 555 1234". A run of
// five fives or more is "555", as laughter said longer ("5555555") is
// laughter.
func wordsJoined(text string) (folded, written []string, joined []bool) {
	ascii := isASCII(text)
	if !ascii {
		text = norm.NFC.String(text)
	}
	sep := func(r rune) bool { // unspaced scripts are matched as runs
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.IsMark(r) && !isApostrophe(r) &&
			!unicode.Is(unicode.Cf, r) || (r >= 0x0E00 && unspacedRune(r))
	}
	n, inField := 0, false // how many fields, to allocate once
	for _, r := range text {
		if sep(r) {
			inField = false
		} else if !inField {
			n, inField = n+1, true
		}
	}
	folded = make([]string, 0, n)
	if !ascii {
		written = make([]string, 0, n)
	}
	join := func(j bool) { // joined stays nil until a number is joined
		if j && joined == nil {
			joined = make([]bool, len(folded), cap(folded))
		}
		if joined != nil {
			joined = append(joined, j)
		}
	}
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		if sep(r) {
			i += size
			continue
		}
		j := i + size
		for j < len(text) {
			r, size := utf8.DecodeRuneInString(text[j:])
			if sep(r) {
				break
			}
			j += size
		}
		f, isJoined := text[i:j], isNumber(text[i:j]) && joinedNumber(text[:i], text[j:])
		i = j
		fw := laughDigits(foldLatin(f))
		if ascii { // the common case: as written is as folded
			if fw != "" {
				join(isJoined)
				folded = append(folded, fw)
			}
			continue
		}
		if strings.ContainsFunc(fw, notWordRune) || fw == "" {
			fs := strings.FieldsFunc(fw, notWordRune)
			for range fs {
				join(isJoined)
			}
			folded, written = append(folded, fs...), append(written, fs...) // compatibility forms: as folded
			continue
		}
		w := fw
		if !isASCII(f) {
			w = squeeze(strings.Map(func(r rune) rune {
				if isApostrophe(r) || unicode.Is(unicode.Cf, r) {
					return -1
				}
				return unicode.ToLower(r)
			}, f))
			w = laughDigits(toneFirst(w))
		}
		join(isJoined)
		folded, written = append(folded, fw), append(written, w)
	}
	if ascii {
		written = folded
	}
	return folded, written, joined
}

// isNumber reports whether w is digits only.
func isNumber(w string) bool {
	for _, r := range w {
		if !unicode.IsDigit(r) {
			return false
		}
	}
	return w != ""
}

// laughDigits returns "555" for a run of three fives or more, Thai laughter,
// and w otherwise.
func laughDigits(w string) string {
	if len(w) > 3 && strings.Trim(w, "5") == "" {
		return "555"
	}
	return w
}

// joinedNumber reports whether a group of digits, with before and after it
// in the text, is part of a longer number: next to another group of digits
// (spaces and commas aside: "081 555 1234", "555,000"), or to '-', '+', '/'
// or '#' ("555-1234", "+555", "12/555"), or to '.' or ':' with a digit
// beyond ("1.555", "12:555"). A number that is a cue alone ("555", Thai laughter) counts
// only where it stands alone.
func joinedNumber(before, after string) bool {
	next := func(s string, back bool) (rune, string) {
		if s == "" {
			return utf8.RuneError, ""
		}
		if back {
			r, size := utf8.DecodeLastRuneInString(s)
			return r, s[:len(s)-size]
		}
		r, size := utf8.DecodeRuneInString(s)
		return r, s[size:]
	}
	for _, back := range []bool{true, false} {
		s := after
		if back {
			s = before
		}
		r, rest := next(s, back)
		switch {
		case unicode.IsDigit(r) || strings.ContainsRune("-+/#\u2010\u2011\u2012\u2013\u2014\u2212\uff0d\uff0b\uff0f", r):
			return true
		case strings.ContainsRune(".:\uff0e\uff1a", r):
			if d, _ := next(rest, back); unicode.IsDigit(d) {
				return true
			}
		case unicode.IsSpace(r) || r == ',' || r == '\uff0c':
			// Commas and spaces alike, so that "081 , 555" is "081 555".
			for unicode.IsSpace(r) || r == ',' || r == '\uff0c' {
				r, rest = next(rest, back)
			}
			if unicode.IsDigit(r) {
				return true
			}
		}
	}
	return false
}

func notWordRune(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }

func isApostrophe(r rune) bool { return r == '\'' || r == '’' || r == 'ʼ' }

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// sameWord reports whether a word of the text, folded and as written, is a
// word of a phrase: the folded forms are equal, and if both were written
// with accents, the accents too.
// In Vietnamese, where accents tell words apart ("súng" gun, "bổ sung"
// add), a text written with accents must have them on the word too.
func sameWord(folded, written, pFolded, pWritten string, strict bool) bool {
	return folded == pFolded && (pWritten == pFolded || written == pWritten || (written == folded && !strict))
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
	return squeeze(b.String())
}

// Match decides whether text speaks of danger now, and returns the cues that
// decided it.
func (m *Matcher) Match(text string) (Match, bool) {
	cues, cry := m.find(text)
	return m.model.combine(text, cues, cry)
}

// All returns every cue found in text, urgent or not, one Match each: the
// whole-message phrase, the Safe cues, then the others in the order of the
// words, then those matched anywhere.
func (m *Matcher) All(text string) []Match {
	ps, _ := m.find(text)
	out := make([]Match, len(ps))
	for i, p := range ps {
		out[i] = Match{Phrase: p.asWritten(), Lang: p.lang, Class: p.class}
	}
	return out
}

// decide applies the rule of the package doc to the cues found.
func decide(cues []*phrase, cry bool) (Match, bool) {
	var firstOf [numClasses]*phrase
	var dangers []*phrase // the first cue of each class of danger
	for _, p := range cues {
		if firstOf[p.class] != nil {
			continue
		}
		firstOf[p.class] = p
		if p.class.danger() {
			dangers = append(dangers, p)
		}
	}
	if firstOf[Joke] != nil || (firstOf[Safe] != nil && firstOf[Now] == nil) {
		return Match{}, false
	}
	for _, p := range cues {
		if p.whole || p.class.alone() || (cry && p.class == Help) {
			return matchOf(p), true
		}
	}
	if h := firstOf[Help]; h != nil && len(dangers) > 0 {
		return matchOf(h, dangers[0]), true
	}
	// Two classes of danger; but "now" or fear do not make a condition an
	// emergency ("I am working now, not paid", "afraid to ask for my pay",
	// "kids in the park now"), nor each other.
	for i, a := range dangers {
		for _, b := range dangers[i+1:] {
			if !weakPair(a.class, b.class) && !weakPair(b.class, a.class) {
				return matchOf(a, b), true
			}
		}
	}
	return Match{}, false
}

// weakPair reports whether a, which only makes danger nearer (now, fear),
// meets b, which is a condition (work, documents, children) or another of
// its kind.
func weakPair(a, b Class) bool {
	return (a == Now || a == Fear) && (b == Now || b == Fear || b == Labour || b == Documents || b == Children)
}

func matchOf(ps ...*phrase) Match {
	texts := make([]string, len(ps))
	for i, p := range ps {
		texts[i] = p.asWritten()
	}
	return Match{Phrase: strings.Join(texts, " + "), Lang: ps[0].lang, Class: ps[0].class}
}

// within maxRunGap letters of the one before, or -1.
func followRun(run string, at int, rest []string) int {
	if len(rest) == 0 {
		return at
	}
	for skip, i := 0, at; skip <= maxRunGap && i <= len(run); skip++ {
		if strings.HasPrefix(run[i:], rest[0]) {
			if end := followRun(run, i+len(rest[0]), rest[1:]); end >= 0 {
				return end
			}
		}
		if i == len(run) {
			break
		}
		_, size := utf8.DecodeRuneInString(run[i:])
		i += size
	}
	return -1
}

// mark sets mask[from:to], making a mask of n first if there is none.
func mark(mask []bool, n, from, to int) []bool {
	if mask == nil {
		mask = make([]bool, n)
	}
	for i := from; i < to; i++ {
		mask[i] = true
	}
	return mask
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

// its class ("[confinement] locked in").
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
		section := ""
		for n, line := range strings.Split(string(data), "\n") {
			line = strings.TrimSpace(line)
			switch {
			case line == "" || strings.HasPrefix(line, "#"):
			case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
				if _, err := ParseClass(line[1 : len(line)-1]); err != nil {
					return nil, fmt.Errorf("urgency phrases %s:%d: %w", f, n+1, err)
				}
				section = line + " "
			case section == "":
				return nil, fmt.Errorf("urgency phrases %s:%d: phrase before the first [class]", f, n+1)
			default:
				out[tag] = append(out[tag], section+line)
			}
		}
	}
	return out, nil
}

// Len returns the number of phrases the matcher was given, exceptions and
// duplicates included, each "(a|b)" phrase once.
func (m *Matcher) Len() int { return m.nPhrases }
