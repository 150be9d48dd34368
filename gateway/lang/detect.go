// Package lang tells which of the hotline's languages a short message is
// written in, so that the automatic reply can be in the same language.
//
// Detection is restricted to the configured languages and made for the texts a
// tip line receives: a few words, no accents, abbreviations, a number, a
// mixture of two languages. It works in three steps:
//
//  1. Script. Han and Thai letters decide at once (Chinese, Thai): that is
//     exact. A message in a script no configured language uses (Burmese,
//     Khmer, Arabic, Cyrillic, Japanese kana...) is undetermined.
//  2. Latin script. Letters only Vietnamese uses (ơ, ư, đ, ạ...) and only
//     Spanish uses (ñ, ¿, ¡) count heavily; then each word is looked up in hand
//     written word lists (words/) and a word shared by several languages counts
//     for each of them in proportion; unknown words count a little by their
//     affixes (Malay/Indonesian me-, ber-, -kan; Tagalog nag-, mag-, -um-;
//     Spanish -ción, -amos...).
//  3. Tie-break. When the text leaves two or more languages close (Malay and
//     Indonesian share most of their everyday words; "ok" is every language),
//     the country calling code of the sender's number picks among them: +60
//     Malay, +62 Indonesian, +63 Filipino, and so on. It never overrides a
//     clear text: an Indonesian worker in Malaysia writing "tidak bisa keluar"
//     from a +60 number is Indonesian.
//
// The detector embeds its word lists (about 20 KB) and needs no model files;
// see the package tests for its accuracy and the reasons it was preferred to
// github.com/pemistahl/lingua-go.
//
// The text and the number are only read; nothing is logged or kept.
package lang

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/language"
)

// The languages the detector knows, in the form it returns them.
var (
	English    = language.English
	Spanish    = language.Spanish
	Malay      = language.Malay
	Chinese    = language.SimplifiedChinese
	Indonesian = language.Indonesian
	Filipino   = language.Filipino
	Thai       = language.Thai
	Vietnamese = language.Vietnamese
)

// langID indexes the fixed set of supported languages.
type langID uint8

const (
	en langID = iota
	es
	ms
	zh
	id
	fil
	th
	vi
	numLangs
)

var tags = [numLangs]language.Tag{en: English, es: Spanish, ms: Malay, zh: Chinese, id: Indonesian, fil: Filipino, th: Thai, vi: Vietnamese}

// latinLangs are the languages scored on words.
var latinLangs = []langID{en, es, ms, id, fil, vi}

// Supported returns the languages the detector knows.
func Supported() []language.Tag { return append([]language.Tag(nil), tags[:]...) }

// ErrUnsupported is returned for a configured language the detector does not
// know.
var ErrUnsupported = errors.New("language not supported")

// Match returns the supported language that tag denotes (zh-CN, zh-TW and
// zh-Hant are all Chinese; tl is Filipino; in is Indonesian; a region such as
// es-PE is ignored), and whether there is one.
func Match(tag language.Tag) (language.Tag, bool) {
	i, ok := idOf(tag)
	if !ok {
		return language.Und, false
	}
	return tags[i], true
}

func idOf(tag language.Tag) (langID, bool) {
	b, conf := tag.Base()
	if conf == language.No || tag == language.Und {
		return 0, false
	}
	switch b.String() {
	case "en":
		return en, true
	case "es":
		return es, true
	case "ms", "zsm":
		return ms, true
	case "zh", "cmn":
		return zh, true
	case "id":
		return id, true
	case "fil", "tl":
		return fil, true
	case "th":
		return th, true
	case "vi":
		return vi, true
	}
	return 0, false
}

// Detector detects the language of short messages among a fixed set. It is
// safe for concurrent use.
type Detector struct {
	enabled [numLangs]bool
	order   []langID // configured order: the last resort among equals
	lex     lexicon
}

// NewDetector returns a detector restricted to langs; none means all
// supported languages. An unsupported language is an error.
func NewDetector(langs []language.Tag) (*Detector, error) {
	d := &Detector{}
	if len(langs) == 0 {
		langs = tags[:]
	}
	var bad []string
	for _, t := range langs {
		i, ok := idOf(t)
		if !ok {
			bad = append(bad, t.String())
			continue
		}
		if !d.enabled[i] {
			d.enabled[i] = true
			d.order = append(d.order, i)
		}
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("%w: %s (supported: en, es, ms, zh-Hans, id, fil, th, vi)", ErrUnsupported, strings.Join(bad, ", "))
	}
	lex, err := loadLexicon()
	if err != nil {
		return nil, err
	}
	d.lex = lex
	return d, nil
}

// Languages returns the configured languages in their configured order.
func (d *Detector) Languages() []language.Tag {
	out := make([]language.Tag, len(d.order))
	for i, l := range d.order {
		out[i] = tags[l]
	}
	return out
}

// Detect returns the language of text among the configured ones. e164 is the
// sender's number ("+60...", "whatsapp:+60...", or empty), used only to
// break a tie that the text leaves open.
//
// confident reports that the text alone decided. When it is false, tag came
// from the calling code among the languages the text left open, or is the
// text's best guess, or is language.Und when neither the text nor the number
// says anything (numbers only, emoji, a script no configured language uses):
// the caller then uses the number's default language.
func (d *Detector) Detect(text, e164 string) (tag language.Tag, confident bool) {
	r := d.detect(text, e164)
	if !r.found {
		return language.Und, false
	}
	return tags[r.lang], r.confident
}

// maxScan bounds the part of a message that is read: the first few hundred
// words say all there is to say about its language.
const maxScan = 2048

// minEvidence is the least score that counts as a language having been seen
// at all: about one word of it, or two shared with one other language.
const minEvidence = 0.75

// result is the detail of one decision, for tests.
type result struct {
	lang      langID
	found     bool
	confident bool
	by        string // "script", "text", "calling-code", "guess", "none"
	scores    [numLangs]float64
}

func (d *Detector) detect(text, e164 string) result {
	if len(text) > maxScan {
		i := maxScan
		for i > 0 && !utf8.RuneStart(text[i]) {
			i-- // do not cut a rune in two
		}
		text = text[:i]
	}
	hint, tie := hintFor(e164)

	sc := countScripts(text)
	switch sc.dominant() {
	case scriptHan:
		if d.enabled[zh] {
			return result{lang: zh, found: true, confident: true, by: "script"}
		}
		return result{by: "none"}
	case scriptThai:
		if d.enabled[th] {
			return result{lang: th, found: true, confident: true, by: "script"}
		}
		return result{by: "none"}
	case scriptOther:
		return result{by: "none"}
	case scriptNone:
		return d.fromHint(hint, nil, result{by: "none"})
	}

	var r result
	d.scoreLatin(text, &r.scores)
	top, topScore := langID(0), -1.0
	for _, l := range d.order {
		if r.scores[l] > topScore {
			top, topScore = l, r.scores[l]
		}
	}
	if topScore < minEvidence {
		// Too little text to go on ("ok", a name): the number decides among
		// the languages written in Latin letters, and failing it the weak
		// guess stands.
		return d.fromHint(hint, latinLangs, result{lang: top, found: topScore > 0, by: "guess", scores: r.scores})
	}
	// Languages close to the top are what the text cannot tell apart.
	margin := max(0.6, 0.15*topScore)
	var open []langID
	for _, l := range d.order {
		if r.scores[l] > 0 && topScore-r.scores[l] < margin {
			open = append(open, l)
		}
	}
	r.lang, r.found = top, true
	if len(open) == 1 {
		r.confident, r.by = true, "text"
		return r
	}
	r.by = "guess"
	return d.fromHint(tie, open, r)
}

// fromHint picks the first language of hint that is configured and, when
// open is not nil, among open. Otherwise it returns fallback.
func (d *Detector) fromHint(hint []langID, open []langID, fallback result) result {
	for _, h := range hint {
		if !d.enabled[h] || (open != nil && !contains(open, h)) {
			continue
		}
		fallback.lang, fallback.found, fallback.confident, fallback.by = h, true, false, "calling-code"
		return fallback
	}
	fallback.confident = false
	return fallback
}

func contains(s []langID, l langID) bool {
	for _, x := range s {
		if x == l {
			return true
		}
	}
	return false
}

type script uint8

const (
	scriptNone script = iota // no letters at all
	scriptLatin
	scriptHan
	scriptThai
	scriptOther
)

type scriptCount struct{ latin, han, thai, kana, other int }

func countScripts(s string) scriptCount {
	var c scriptCount
	for _, r := range s {
		switch {
		case r < utf8.RuneSelf:
			if 'a' <= r|0x20 && r|0x20 <= 'z' {
				c.latin++
			}
		case unicode.Is(unicode.Han, r):
			c.han++
		case unicode.Is(unicode.Thai, r):
			c.thai++
		case unicode.Is(unicode.Hiragana, r) || unicode.Is(unicode.Katakana, r):
			c.kana++
		case unicode.Is(unicode.Latin, r):
			c.latin++
		case unicode.IsLetter(r):
			c.other++
		}
	}
	return c
}

// dominant decides the script of a message. A Han character carries about as
// much as a short Latin word, so it counts double; Latin loanwords in a
// Chinese or Thai message ("KTV", "ok", "passport") do not outweigh it, and
// any kana makes Han Japanese.
func (c scriptCount) dominant() script {
	han := 2 * c.han
	if c.kana > 0 {
		c.other += c.kana + c.han
		han = 0
	}
	best := max(han, c.thai)
	switch {
	case c.latin == 0 && best == 0 && c.other == 0:
		return scriptNone
	case c.other > best && 2*c.other >= c.latin:
		return scriptOther
	case best > 0 && 2*best >= c.latin:
		if han >= c.thai {
			return scriptHan
		}
		return scriptThai
	case c.latin > 0:
		return scriptLatin
	}
	return scriptOther
}
