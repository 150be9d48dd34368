package urgency

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/language"
)

// Matcher finds cues and decides urgency. It is safe for concurrent use.
//
// The built-in lists expand to some 48,000 phrases of words. Each is a
// 16-byte cue; its words are numbers in one shared slice, and its text is
// made again when it is found, from the phrase as written (in one shared
// string) and which of its "(a|b)" choices it is. The matcher holds about
// 3 MB, not the 18 MB of a struct of strings and slices each (issue 16: peak
// RSS).
type Matcher struct {
	dict    map[string]uint32 // the words of the phrases, folded and as written; ids from 1
	ids     []uint32          // the cues' words; gap is "..."
	text    string            // the phrases as written, their groups unexpanded
	sources []source
	cues    []cue
	langs   []language.Tag
	first   cueIndex // word phrases by their first word, then their second
	wordExc cueIndex // word exceptions and Safe phrases by their first word
	whole   map[string]wholeCue
	// Phrases matched anywhere, and their exceptions and Safe phrases: in
	// unspaced scripts, and in symbols (emoji), which are all a text in
	// Latin letters needs.
	runs, runExc, symbols, symbolExc runSet
	runText                          string   // the compact forms of the runs
	restParts                        []string // the parts of the runs after "...", in runText
	nPhrases                         int
	model                            *model // nil: the rule alone
}

// gap is the id of "..." in a cue's words; noWord is that of a word of a
// text that no phrase has.
const (
	gap    = 0
	noWord = ^uint32(0)
)

// cue is a phrase: one of what a phrase of the lists expands to.
type cue struct {
	source, words   uint32 // its phrase in m.sources, where its word ids start in m.ids
	nWords, variant uint16 // variant: which of the phrase's expansions (see variant)
	class           Class
	flags           cueFlags
}

// source is a phrase as written in a list.
type source struct {
	text          uint32 // where it starts in m.text
	textLen, lang uint16 // lang: index in m.langs
}

type cueFlags uint8

const (
	cueWhole  cueFlags = 1 << iota
	cueExcept          // an exception: see phrase.except
	cueStrict          // accents must agree (Vietnamese)
	cueExact           // its words as written follow its folded words in m.ids
	cueNumber          // a number alone: see phrase.number
)

// runCue is a phrase matched anywhere: the compact form of its text, and of
// its parts after "...".
type runCue struct {
	cue           uint32
	run           uint32 // where its first part starts in m.runText
	runLen, nRest uint16
	rest          uint32 // its other parts are m.restParts[rest:rest+nRest]
	next          uint32 // up to 4 bytes after its first letter (see next4): most are passed over on it
}

// next4 returns the first 4 bytes of s, or all if fewer, as a number.
func next4(s string) uint32 {
	var n uint32
	for i := range min(4, len(s)) {
		n |= uint32(s[i]) << (8 * i)
	}
	return n
}

// runSet holds phrases matched anywhere by their first letter.
type runSet map[rune][]runCue

// each calls fn for every place where a phrase of s matches run, in the
// order of the text.
func (m *Matcher) each(s runSet, run string, fn func(c uint32, start, end int)) {
	if len(s) == 0 {
		return
	}
	for i := 0; i < len(run); {
		r, size := utf8.DecodeRuneInString(run[i:])
		list := s[r]
		next := next4(run[i+size:])
		for k := range list {
			rc := &list[k]
			if n := int(rc.runLen) - size; n > 0 && (n < 4 && next&(1<<(8*n)-1) != rc.next || n >= 4 && next != rc.next) {
				continue
			}
			if strings.HasPrefix(run[i:], m.runText[rc.run:rc.run+uint32(rc.runLen)]) {
				if end := followRun(run, i+int(rc.runLen), m.restParts[rc.rest:rc.rest+uint32(rc.nRest)]); end >= 0 {
					fn(rc.cue, i, end)
				}
			}
		}
		i += size
	}
}

type wholeCue struct {
	cue   uint32
	words bool // matched against the words; else against the compact form
}

// cueIndex holds cues by their first word id (and, within it, the cues of
// one word or with a gap after it first, then the others by their second
// word), each group in the order the lists give them.
type cueIndex struct {
	start   []uint32 // cues of first word w are cues[start[w]:start[w+1]]
	cues    []uint32
	seconds []uint32 // beside cues, their second words (see second)
}

// builder holds what New needs only while it adds phrases.
type builder struct {
	m             *Matcher
	text, runText strings.Builder
	restAt        [][2]int          // where m.restParts start and end in runText
	texts         map[string]uint32 // one copy of each phrase as written
	src           uint32            // the phrase being added, in m.sources
	variant       int               // which of its expansions
	seen          map[string]bool   // word cues by class and words: the first of each wins
	key           []byte
	seenRuns      map[string]bool
	langs         map[language.Tag]uint16
	first, excpts []uint32
}

// New returns a matcher with the built-in lists and opt.Extra.
func New(opt Options) (*Matcher, error) {
	m := &Matcher{dict: map[string]uint32{}, whole: map[string]wholeCue{},
		runs: runSet{}, runExc: runSet{}, symbols: runSet{}, symbolExc: runSet{}}
	b := &builder{m: m, texts: map[string]uint32{}, seen: map[string]bool{}, seenRuns: map[string]bool{},
		langs: map[language.Tag]uint16{}}
	n, err := load(opt, b.add)
	if err != nil {
		return nil, err
	}
	if len(m.langs) > 1<<16 {
		return nil, fmt.Errorf("urgency phrases in %d languages: at most %d", len(m.langs), 1<<16)
	}
	m.nPhrases = n
	if !opt.NoDefaults && !opt.NoModel {
		if m.model, err = builtinModel(); err != nil {
			return nil, err
		}
	}
	m.text = strings.Clone(b.text.String())
	m.ids, m.cues = slices.Clone(m.ids), slices.Clone(m.cues) // without room to grow
	m.sources = slices.Clone(m.sources)
	m.dict = packed(m.dict)
	m.runText = strings.Clone(b.runText.String())
	for _, set := range []runSet{m.runs, m.runExc, m.symbols, m.symbolExc} {
		for r, list := range set {
			set[r] = slices.Clone(list)
		}
	}
	m.restParts = make([]string, len(b.restAt))
	for i, at := range b.restAt {
		m.restParts[i] = m.runText[at[0]:at[1]]
	}
	m.first = m.index(b.first)
	m.wordExc = m.index(b.excpts)
	return m, nil
}

// add adds the phrases s expands to.
func (b *builder) add(s string, ps []*phrase) {
	_, _, _, body, _ := header(s) // parsePhrase read it
	b.src = b.source(body, ps[0].lang)
	for k, p := range ps {
		b.variant = k
		b.addVariant(p)
	}
}

// source adds a phrase as written and returns its index.
func (b *builder) source(body string, tag language.Tag) uint32 {
	m := b.m
	off, ok := b.texts[body]
	if !ok {
		off = uint32(b.text.Len())
		b.text.WriteString(body)
		b.texts[body] = off
	}
	lang, ok := b.langs[tag]
	if !ok {
		lang = uint16(len(m.langs)) // New refuses more than 1<<16
		b.langs[tag] = lang
		m.langs = append(m.langs, tag)
	}
	m.sources = append(m.sources, source{text: off, textLen: uint16(len(body)), lang: lang})
	return uint32(len(m.sources) - 1)
}

func (b *builder) addVariant(p *phrase) {
	m := b.m
	if p.words == nil && !p.whole {
		b.addRun(p)
		return
	}
	var key string
	switch {
	case p.whole:
		key = p.run
		if p.words != nil {
			key = strings.Join(p.words, " ")
		}
		if _, dup := m.whole[key]; dup {
			return
		}
	case !p.masks():
		// The same cue twice, or in two languages: the first wins. The key
		// is the class and the word ids, 4 bytes each.
		b.key = append(b.key[:0], byte(p.class))
		for _, w := range p.words {
			b.key = binary.LittleEndian.AppendUint32(b.key, m.wordID(w))
		}
		if b.seen[string(b.key)] {
			return
		}
		b.seen[string(b.key)] = true
	}
	id := b.cue(p)
	switch {
	case p.whole:
		m.whole[key] = wholeCue{cue: id, words: p.words != nil}
	case p.masks():
		b.excpts = append(b.excpts, id)
	default:
		b.first = append(b.first, id)
	}
}

// addRun adds a phrase matched anywhere, unless it has it.
func (b *builder) addRun(p *phrase) {
	m := b.m
	key := fmt.Sprint(p.class, p.except, p.run, p.rest)
	if b.seenRuns[key] {
		return
	}
	b.seenRuns[key] = true
	// A run's text is kept as it is, not made from its phrase when found: in
	// the scripts without spaces every cue is a run, and there are few.
	src, k := b.src, b.variant
	b.src, b.variant = b.source(p.text, p.lang), 0
	c := b.cue(p)
	b.src, b.variant = src, k
	rc := runCue{cue: c, run: uint32(b.runText.Len()), runLen: uint16(len(p.run)),
		rest: uint32(len(b.restAt)), nRest: uint16(len(p.rest))}
	b.runText.WriteString(p.run)
	for _, part := range p.rest {
		b.restAt = append(b.restAt, [2]int{b.runText.Len(), b.runText.Len() + len(part)})
		b.runText.WriteString(part)
	}
	set := m.runs
	switch {
	case p.masks() && unspaced(p.run):
		set = m.runExc
	case p.masks():
		set = m.symbolExc
	case !unspaced(p.run):
		set = m.symbols
	}
	r, size := utf8.DecodeRuneInString(p.run)
	rc.next = next4(p.run[size:])
	set[r] = append(set[r], rc)
}

// cue stores p and returns its id.
func (b *builder) cue(p *phrase) uint32 {
	m := b.m
	c := cue{source: b.src, variant: uint16(b.variant), words: uint32(len(m.ids)),
		nWords: uint16(len(p.words)), class: p.class}
	for _, w := range p.words {
		m.ids = append(m.ids, m.wordID(w))
	}
	if p.exact != nil {
		c.flags |= cueExact
		for _, w := range p.exact {
			m.ids = append(m.ids, m.wordID(w))
		}
	}
	if p.whole {
		c.flags |= cueWhole
	}
	if p.except {
		c.flags |= cueExcept
	}
	if p.strict {
		c.flags |= cueStrict
	}
	if p.number() {
		c.flags |= cueNumber
	}
	m.cues = append(m.cues, c)
	return uint32(len(m.cues) - 1)
}

// wordID returns the id of a word of a phrase, giving it one if it has none.
func (m *Matcher) wordID(w string) uint32 {
	if w == "" {
		return gap
	}
	id, ok := m.dict[w]
	if !ok {
		id = uint32(len(m.dict)) + 1
		m.dict[w] = id
	}
	return id
}

// packed returns a copy of dict, its words in one string: the words New
// was given are parts of the phrases' texts, which they would keep alive.
func packed(dict map[string]uint32) map[string]uint32 {
	var all strings.Builder
	at := make(map[string]int, len(dict))
	for w := range dict {
		at[w] = all.Len()
		all.WriteString(w)
	}
	arena := all.String()
	out := make(map[string]uint32, len(dict))
	for w, id := range dict {
		out[arena[at[w]:at[w]+len(w)]] = id
	}
	return out
}

// lookup returns the id of a word of a text.
func (m *Matcher) lookup(w string) uint32 {
	if id, ok := m.dict[w]; ok {
		return id
	}
	return noWord
}

// second is the key of c within its first word's cues: its second word, or
// gap for a cue of one word or with a gap after the first.
func (m *Matcher) second(c uint32) uint32 {
	if m.cues[c].nWords < 2 {
		return gap
	}
	return m.ids[m.cues[c].words+1]
}

// index sorts cues by their first word, then by their second; cues of the
// same two keep the order given (the sort is stable).
func (m *Matcher) index(cues []uint32) cueIndex {
	firstOf := func(c uint32) uint32 { return m.ids[m.cues[c].words] }
	slices.SortStableFunc(cues, func(a, b uint32) int {
		if d := cmp.Compare(firstOf(a), firstOf(b)); d != 0 {
			return d
		}
		return cmp.Compare(m.second(a), m.second(b))
	})
	ix := cueIndex{start: make([]uint32, len(m.dict)+2), cues: slices.Clone(cues)}
	for _, c := range cues {
		ix.start[firstOf(c)+1]++
	}
	ix.seconds = make([]uint32, len(cues))
	for i, c := range ix.cues {
		ix.seconds[i] = m.second(c)
	}
	for w := 1; w < len(ix.start); w++ {
		ix.start[w] += ix.start[w-1]
	}
	return ix
}

// at returns the cues of ix that may match the words from i: those of the
// first word alone (or with a gap after it), then those of the first two.
// Only these can: matchAt fails at once on a cue whose second word is not
// the text's next, and a common first word has many cues ("now" begins
// more than a thousand Safe ones).
func (ix *cueIndex) at(ws []uint32, i int) (first, both []uint32) {
	if int(ws[i]) >= len(ix.start)-1 {
		return nil, nil
	}
	lo, hi := ix.start[ws[i]], ix.start[ws[i]+1]
	seconds := ix.seconds[lo:hi]
	n, _ := slices.BinarySearch(seconds, gap+1)
	first = ix.cues[lo : lo+uint32(n)]
	if i+1 >= len(ws) || ws[i+1] == noWord {
		return first, nil
	}
	from, found := slices.BinarySearch(seconds, ws[i+1])
	if !found {
		return first, nil
	}
	to := from + 1
	for to < len(seconds) && seconds[to] == ws[i+1] {
		to++
	}
	return first, ix.cues[lo+uint32(from) : lo+uint32(to)]
}

// atInOrder appends to buf the cues at returns, in one list in the order
// they were added.
func (ix *cueIndex) atInOrder(buf, ws []uint32, i int) []uint32 {
	first, both := ix.at(ws, i)
	return ascending(buf, first, both)
}

// ascending appends to buf the cues of a and b, two ascending lists, in
// ascending order: the order in which they were added, which index keeps
// for cues of one first and one second word.
func ascending(buf, a, b []uint32) []uint32 {
	for len(a) > 0 && len(b) > 0 {
		if a[0] < b[0] {
			buf, a = append(buf, a[0]), a[1:]
		} else {
			buf, b = append(buf, b[0]), b[1:]
		}
	}
	return append(append(buf, a...), b...)
}

// phrases returns cues as phrases to report: their text (made when asked
// for), language, class, and whether they are whole-message phrases.
func (m *Matcher) phrases(cues []uint32) []*phrase {
	if len(cues) == 0 {
		return nil
	}
	ps, out := make([]phrase, len(cues)), make([]*phrase, len(cues))
	for i, c := range cues {
		q := m.cues[c]
		src := m.sources[q.source]
		ps[i] = phrase{groups: m.text[src.text : src.text+uint32(src.textLen)], variant: int(q.variant),
			lang: m.langs[src.lang], class: q.class, whole: q.flags&cueWhole != 0, except: q.flags&cueExcept != 0}
		out[i] = &ps[i]
	}
	return out
}

// asWritten returns the phrase as written in the lists, its groups expanded.
func (p *phrase) asWritten() string {
	if p.groups != "" {
		return variant(p.groups, p.variant)
	}
	return p.text
}

var asciiSpace = [utf8.RuneSelf]bool{'\t': true, '\n': true, '\v': true, '\f': true, '\r': true, ' ': true}

// variant returns the k-th phrase that expand(body) makes, its spaces as
// parsePhrase leaves them (one between words). The first group is the most
// significant digit of k, as expand orders them.
func variant(body string, k int) string {
	n := 1 // how many phrases the groups from here make
	for rest := body; ; {
		open, closing := strings.IndexByte(rest, '('), strings.IndexByte(rest, ')')
		if open < 0 || closing < open {
			break
		}
		n *= strings.Count(rest[open:closing], "|") + 1
		rest = rest[closing+1:]
	}
	var room [128]byte
	b := room[:0]
	for rest := body; ; {
		open, closing := strings.IndexByte(rest, '('), strings.IndexByte(rest, ')')
		if open < 0 || closing < open {
			b = append(b, rest...)
			break
		}
		b = append(b, rest[:open]...)
		choices := rest[open+1 : closing]
		size := strings.Count(choices, "|") + 1
		n /= size
		for range k / n % size {
			choices = choices[strings.IndexByte(choices, '|')+1:]
		}
		if bar := strings.IndexByte(choices, '|'); bar >= 0 {
			choices = choices[:bar]
		}
		b = append(b, choices...)
		rest = rest[closing+1:]
	}
	// Spaces as strings.Fields and strings.Join leave them, in place.
	out, space := 0, false
	for i := 0; i < len(b); {
		size, isSpace := 1, false
		switch c := b[i]; {
		case c < utf8.RuneSelf:
			isSpace = asciiSpace[c]
		case c == 0xC2 || (c >= 0xE1 && c <= 0xE3): // the first bytes of U+0085 to U+3000
			var r rune
			r, size = utf8.DecodeRune(b[i:])
			isSpace = unicode.IsSpace(r)
		}
		if isSpace {
			space = true
		} else {
			if space && out > 0 {
				b[out] = ' '
				out++
			}
			space = false
			out += copy(b[out:], b[i:i+size])
		}
		i += size
	}
	if string(b[:out]) == body {
		return body // most phrases: a substring of m.text
	}
	return string(b[:out])
}

// tokens are the words of a text as ids, folded and as written; accented
// is whether any was written with accents.
type tokens struct {
	folded, written []uint32
	accented        bool
}

// tokens looks the words of a text up. buf is room for the ids of a short
// text.
func (m *Matcher) tokens(text string, ws, ex []string, buf []uint32) tokens {
	t := tokens{folded: buf[:0], accented: !isASCII(text) && !slices.Equal(ws, ex)}
	for _, w := range ws {
		t.folded = append(t.folded, m.lookup(w))
	}
	t.written = t.folded
	if t.accented {
		t.written = make([]uint32, len(ex))
		for i, w := range ex {
			if w == ws[i] {
				t.written[i] = t.folded[i]
			} else {
				t.written[i] = m.lookup(w)
			}
		}
	}
	return t
}

// matchAt matches c's words from k against the text's words from i, and
// returns the end of the match, or -1. A gap skips up to maxGap words.
// Masked words never match.
//
// A word matches as sameWord says, by ids: a word of a text that no phrase
// has is noWord, which equals no word of a phrase.
func (m *Matcher) matchAt(t *tokens, i int, c uint32, k int, masked []bool) int {
	q := &m.cues[c]
	if k == int(q.nWords) {
		return i
	}
	w := m.ids[q.words+uint32(k)]
	if w == gap {
		for skip := 0; skip <= maxGap && i+skip <= len(t.folded); skip++ {
			if skip > 0 && masked != nil && masked[i+skip-1] {
				return -1
			}
			if end := m.matchAt(t, i+skip, c, k+1, masked); end >= 0 {
				return end
			}
		}
		return -1
	}
	if i >= len(t.folded) || t.folded[i] != w || (masked != nil && masked[i]) {
		return -1
	}
	if q.flags&cueExact != 0 {
		pw, written := m.ids[q.words+uint32(q.nWords)+uint32(k)], t.written[i]
		strict := q.flags&cueStrict != 0 && t.accented
		if pw != w && written != pw && (written != t.folded[i] || strict) {
			return -1
		}
	}
	return m.matchAt(t, i+1, c, k+1, masked)
}

// find returns the cues in text, each phrase once, and whether the text is
// nothing but a call for help ("AYÚDENME x favor", "ช่วยหนูด้วย").
func (m *Matcher) find(text string) ([]*phrase, bool) {
	if len(text) > MaxText {
		text = text[:MaxText] // a cut rune is dropped by the folding
	}
	var seenBuf [16]uint32
	seen := seenBuf[:0] // the cues found, in order
	foundCue := func(c uint32) {
		if !slices.Contains(seen, c) {
			seen = append(seen, c)
		}
	}

	var ws, ex []string
	var joined []bool // numbers that are part of a longer one
	if hasWords(text) {
		ws, ex, joined = wordsJoined(text)
	}
	var buf [64]uint32
	tk := m.tokens(text, ws, ex, buf[:])
	t := &tk
	run := ""
	if !isASCII(text) { // nothing matched anywhere is ASCII: scripts and emoji
		run = compact(text)
	}
	if w, ok := m.whole[strings.Join(ws, " ")]; ok && len(ws) > 0 && w.words {
		foundCue(w.cue)
	}
	if w, ok := m.whole[run]; ok && run != "" && !w.words {
		foundCue(w.cue)
	}

	// Exceptions first ("not safe"), then Safe cues, which hide their words
	// from the others ("safe now" is no "now") but not from each other.
	var masked []bool
	var excBuf [64]uint32
	for i := range t.folded {
		for _, c := range m.wordExc.atInOrder(excBuf[:0], t.folded, i) {
			if m.cues[c].flags&cueExcept == 0 {
				continue
			}
			if end := m.matchAt(t, i, c, 0, nil); end > i {
				masked = mark(masked, len(ws), i, end)
			}
		}
	}
	exceptions := slices.Clone(masked)
	for i := range t.folded {
		if exceptions != nil && exceptions[i] {
			continue
		}
		// In the order they were added: the Safe cues found are reported
		// in it.
		for _, c := range m.wordExc.atInOrder(excBuf[:0], t.folded, i) {
			if m.cues[c].flags&cueExcept != 0 {
				continue
			}
			if end := m.matchAt(t, i, c, 0, exceptions); end > i {
				masked = mark(masked, len(ws), i, end)
				foundCue(c)
			}
		}
	}
	var cried []bool // words in calls for help
	for i, w := range t.folded {
		if masked != nil && masked[i] || w == noWord {
			continue
		}
		first, both := m.first.at(t.folded, i)
		for _, cs := range [2][]uint32{first, both} {
			for _, c := range cs {
				if m.cues[c].flags&cueNumber != 0 && joined != nil && joined[i] {
					continue
				}
				if end := m.matchAt(t, i, c, 0, masked); end > i {
					foundCue(c)
					if m.cues[c].class == Help {
						cried = mark(cried, len(ws), i, end)
					}
				}
			}
		}
	}

	cry := cried != nil && !slices.Contains(cried, false)
	runs, runExc := m.runs, m.runExc
	spaced := !unspaced(text)
	if spaced {
		runs, runExc = m.symbols, m.symbolExc
	}
	if run == "" || len(runs) == 0 {
		return m.phrases(seen), cry
	}
	var maskRun, exceptionRuns []bool
	m.each(runExc, run, func(c uint32, start, end int) {
		if m.cues[c].flags&cueExcept != 0 {
			maskRun = mark(maskRun, len(run), start, end)
		}
	})
	exceptionRuns = slices.Clone(maskRun)
	m.each(runExc, run, func(c uint32, start, end int) {
		if m.cues[c].flags&cueExcept == 0 && !anyMasked(exceptionRuns, start, end) {
			maskRun = mark(maskRun, len(run), start, end)
			foundCue(c)
		}
	})
	var criedRun []bool
	m.each(runs, run, func(c uint32, start, end int) {
		if anyMasked(maskRun, start, end) {
			return
		}
		foundCue(c)
		if m.cues[c].class == Help {
			criedRun = mark(criedRun, len(run), start, end)
		}
	})
	if spaced {
		return m.phrases(seen), cry
	}
	return m.phrases(seen), criedRun != nil && !slices.Contains(criedRun, false)
}
