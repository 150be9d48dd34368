package urgency

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// refMatcher is the matcher as it was before the compact one, kept to show
// that the compact one finds the same cues.
type refMatcher struct {
	first   map[string]*refWordIndex // word phrases by their first word, then their second
	wordExc map[string][]*phrase     // word exceptions and Safe phrases by their first word
	whole   map[string]*phrase       // whole-message phrases by normal form
	// Phrases matched anywhere, and their exceptions and Safe phrases: in
	// unspaced scripts, and in symbols (emoji), which are all a text in
	// Latin letters needs.
	runs, runExc, symbols, symbolExc refRunSet
	seenRuns                         map[string]bool
	words                            map[string]string // while New builds: one copy of each word
	nPhrases                         int
	model                            *model
}

// refWordIndex holds the word phrases of one first word: those of one word or
// with a gap after it, and the others by their second word, so that a common
// first word ("the", "no", "tidak") costs one lookup, not a try of each.
type refWordIndex struct {
	any  []*phrase
	next map[string][]*phrase
}

func (ix *refWordIndex) add(p *phrase) {
	second := ""
	if len(p.words) > 1 {
		second = p.words[1] // "" for a gap
	}
	list := ix.any
	if second != "" {
		list = ix.next[second]
	}
	for _, q := range list {
		if q.class == p.class && slices.Equal(q.words, p.words) {
			return // the same cue twice, or in two languages: first wins
		}
	}
	if second != "" {
		ix.next[second] = append(list, p)
	} else {
		ix.any = append(list, p)
	}
}

// at returns the phrases that may match the words from i: those of the
// first word alone, then those of the first two.
func (ix *refWordIndex) at(ws []string, i int) (first, both []*phrase) {
	if i+1 < len(ws) {
		both = ix.next[ws[i+1]]
	}
	return ix.any, both
}

// refRunSet holds phrases matched anywhere by their first letter.
type refRunSet map[rune][]*phrase

func (s refRunSet) add(p *phrase) {
	r, _ := utf8.DecodeRuneInString(p.run)
	s[r] = append(s[r], p)
}

// each calls fn for every place where a phrase of s matches run, in the
// order of the text.
func (s refRunSet) each(run string, fn func(p *phrase, start, end int)) {
	if len(s) == 0 {
		return
	}
	for i := 0; i < len(run); {
		r, size := utf8.DecodeRuneInString(run[i:])
		for _, p := range s[r] {
			if strings.HasPrefix(run[i:], p.run) {
				if end := followRun(run, i+len(p.run), p.rest); end >= 0 {
					fn(p, i, end)
				}
			}
		}
		i += size
	}
}

func (m *refMatcher) intern(w string) string {
	if m.words == nil {
		m.words = map[string]string{}
	}
	if c, ok := m.words[w]; ok {
		return c
	}
	m.words[w] = w
	return w
}

// newRef builds the matcher as it was before the compact one: a struct of
// strings and slices for each of the ~48k phrase variants (18 MB).
func newRef(opt Options) (*refMatcher, error) {
	m := &refMatcher{first: map[string]*refWordIndex{}, wordExc: map[string][]*phrase{}, whole: map[string]*phrase{},
		runs: refRunSet{}, runExc: refRunSet{}, symbols: refRunSet{}, symbolExc: refRunSet{}, seenRuns: map[string]bool{}}
	n, err := load(opt, func(_ string, ps []*phrase) {
		for _, p := range ps {
			m.add(p)
		}
	})
	if err != nil {
		return nil, err
	}
	m.nPhrases = n
	if !opt.NoDefaults && !opt.NoModel {
		if m.model, err = builtinModel(); err != nil {
			return nil, err
		}
	}
	m.words, m.seenRuns = nil, nil // only newRef adds phrases
	return m, nil
}

func (m *refMatcher) Match(text string) (Match, bool) {
	cues, cry := m.find(text)
	return m.model.combine(text, cues, cry)
}

func (m *refMatcher) All(text string) []Match {
	ps, _ := m.find(text)
	out := make([]Match, len(ps))
	for i, p := range ps {
		out[i] = Match{Phrase: p.text, Lang: p.lang, Class: p.class}
	}
	return out
}

func (m *refMatcher) add(p *phrase) {
	// One copy of each word for the tens of thousands of phrases.
	for i, w := range p.words {
		p.words[i] = m.intern(w)
	}
	for i, w := range p.exact {
		p.exact[i] = m.intern(w)
	}
	switch {
	case p.whole:
		key := p.run
		if p.words != nil {
			key = strings.Join(p.words, " ")
		}
		if _, dup := m.whole[key]; !dup {
			m.whole[key] = p
		}
	case p.words != nil && p.masks():
		m.wordExc[p.words[0]] = append(m.wordExc[p.words[0]], p)
	case p.words != nil:
		ix := m.first[p.words[0]]
		if ix == nil {
			ix = &refWordIndex{next: map[string][]*phrase{}}
			m.first[p.words[0]] = ix
		}
		ix.add(p)
	default:
		key := fmt.Sprint(p.class, p.except, p.run, p.rest)
		if m.seenRuns[key] {
			return
		}
		m.seenRuns[key] = true
		switch {
		case p.masks() && unspaced(p.run):
			m.runExc.add(p)
		case p.masks():
			m.symbolExc.add(p)
		case unspaced(p.run):
			m.runs.add(p)
		default:
			m.symbols.add(p)
		}
	}
}

// find returns the cues in text, each phrase once, and whether the text is
// nothing but a call for help ("AYÚDENME x favor", "ช่วยหนูด้วย").
func (m *refMatcher) find(text string) ([]*phrase, bool) {
	if len(text) > MaxText {
		text = text[:MaxText] // a cut rune is dropped by the folding
	}
	var out []*phrase
	found := func(p *phrase) {
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}

	var ws, ex []string
	var joined []bool // numbers that are part of a longer one
	if hasWords(text) {
		ws, ex, joined = wordsJoined(text)
	}
	t := &refTokens{folded: ws, written: ex, accented: !isASCII(text) && !slices.Equal(ws, ex)}
	run := ""
	if !isASCII(text) { // nothing matched anywhere is ASCII: scripts and emoji
		run = compact(text)
	}
	if p, ok := m.whole[strings.Join(ws, " ")]; ok && len(ws) > 0 && p.words != nil {
		found(p)
	}
	if p, ok := m.whole[run]; ok && run != "" && p.words == nil {
		found(p)
	}

	// Exceptions first ("not safe"), then Safe cues, which hide their words
	// from the others ("safe now" is no "now") but not from each other.
	var masked []bool
	for i, w := range ws {
		for _, p := range m.wordExc[w] {
			if end := refMatchAt(t, i, p, 0, nil); p.except && end > i {
				masked = mark(masked, len(ws), i, end)
			}
		}
	}
	exceptions := slices.Clone(masked)
	for i, w := range ws {
		for _, p := range m.wordExc[w] {
			if p.except || (exceptions != nil && exceptions[i]) {
				continue
			}
			if end := refMatchAt(t, i, p, 0, exceptions); end > i {
				masked = mark(masked, len(ws), i, end)
				found(p)
			}
		}
	}
	var cried []bool // words in calls for help
	for i, w := range ws {
		if masked != nil && masked[i] {
			continue
		}
		ix := m.first[w]
		if ix == nil {
			continue
		}
		first, both := ix.at(ws, i)
		for _, ps := range [2][]*phrase{first, both} {
			for _, p := range ps {
				if p.number() && joined != nil && joined[i] {
					continue
				}
				if end := refMatchAt(t, i, p, 0, masked); end > i {
					found(p)
					if p.class == Help {
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
		return out, cry
	}
	var maskRun, exceptionRuns []bool
	runExc.each(run, func(p *phrase, start, end int) {
		if p.except {
			maskRun = mark(maskRun, len(run), start, end)
		}
	})
	exceptionRuns = slices.Clone(maskRun)
	runExc.each(run, func(p *phrase, start, end int) {
		if !p.except && !anyMasked(exceptionRuns, start, end) {
			maskRun = mark(maskRun, len(run), start, end)
			found(p)
		}
	})
	var criedRun []bool
	runs.each(run, func(p *phrase, start, end int) {
		if anyMasked(maskRun, start, end) {
			return
		}
		found(p)
		if p.class == Help {
			criedRun = mark(criedRun, len(run), start, end)
		}
	})
	if spaced {
		return out, cry
	}
	return out, criedRun != nil && !slices.Contains(criedRun, false)
}

// followRun returns the end of rest matched in order from at, each part

// refTokens are the words of a text, folded and as written; accented is
// whether any was written with accents.
type refTokens struct {
	folded, written []string
	accented        bool
}

// refMatchAt matches p's words from k against the text's words from i, and
// returns the end of the match, or -1. A "" in p.words skips up to maxGap
// words. Masked words never match.
func refMatchAt(t *refTokens, i int, p *phrase, k int, masked []bool) int {
	if k == len(p.words) {
		return i
	}
	if p.words[k] == "" {
		for skip := 0; skip <= maxGap && i+skip <= len(t.folded); skip++ {
			if skip > 0 && masked != nil && masked[i+skip-1] {
				return -1
			}
			if end := refMatchAt(t, i+skip, p, k+1, masked); end >= 0 {
				return end
			}
		}
		return -1
	}
	if i >= len(t.folded) || !sameWord(t.folded[i], t.written[i], p.words[k], p.written(k), p.strict && t.accented) ||
		(masked != nil && masked[i]) {
		return -1
	}
	return refMatchAt(t, i+1, p, k+1, masked)
}

// DefaultPhrases returns the built-in lists by language, each phrase with
