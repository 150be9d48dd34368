package urgency

import (
	_ "embed"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// The model is a logistic regression over hashed features of the text
// alone, trained on the corpora of testdata and the package's own examples
// (see train_test.go). It does not see what the lists found: it is a second
// opinion, made apart from theirs, and combine weighs the two. It hears what
// the lists miss in the words of a new writer; the lists keep what they are
// sure of.
//
//go:generate go test -run=TestModelIsTrained -update-model .
//go:embed model/urgency.model
var modelFile []byte

// modelBits is the size of the model's feature table: 1<<modelBits weights
// of one byte each.
const modelBits = 18

// modelText bounds the part of a text the model reads, in bytes: an SMS is
// 160 characters; the lists read the rest of a long web report.
const modelText = 4 << 10

// modelPhrase is the first part of a Match the model decided, before the
// cues found (if any): " + " joins them as it joins phrases.
const modelPhrase = "[model]"

// model is the parsed model file.
type model struct {
	weights []byte  // int8 each, 1<<modelBits
	scale   float64 // a weight is scale times its byte
	bias    float64
}

var errModelFile = errors.New("urgency model file is malformed")

// parseModel reads the model file: "#" lines that say how it was made, a
// line "bits B scale S bias X", then 1<<B bytes of weights.
func parseModel(data []byte) (*model, error) {
	rest := data
	for len(rest) > 0 && rest[0] == '#' {
		nl := strings.IndexByte(string(rest), '\n')
		if nl < 0 {
			return nil, errModelFile
		}
		rest = rest[nl+1:]
	}
	nl := strings.IndexByte(string(rest), '\n')
	if nl < 0 {
		return nil, errModelFile
	}
	var md model
	var bits int
	if _, err := fmt.Sscanf(string(rest[:nl]), "bits %d scale %g bias %g",
		&bits, &md.scale, &md.bias); err != nil || bits != modelBits {
		return nil, errModelFile
	}
	md.weights = rest[nl+1:]
	if len(md.weights) != 1<<modelBits {
		return nil, errModelFile
	}
	return &md, nil
}

// builtinModel is the embedded model, parsed once.
var builtinModel = sync.OnceValues(func() (*model, error) { return parseModel(modelFile) })

// combine decides from the cues found and the text. The rule's urgent
// answer stands unless the model gives the message less than
// overruleBelow (an explicit emergency, a whole-message phrase or a cry
// stand whatever it says: see stands). A message the rule left aside the
// model raises when its probability reaches raiseAt for the tier of the
// cues found (see tierOf), unless the message is a joke, a story or a
// danger past (see cancelled). A Match the model raised is modelPhrase and
// the cues found, if any.
func (md *model) combine(text string, cues []*phrase, cry bool) (Match, bool) {
	got, rule := decide(cues, cry)
	if md == nil {
		return got, rule
	}
	var present [numClasses]bool
	for _, p := range cues {
		present[p.class] = true
	}
	if rule {
		if stands(present, cues, cry) || md.probability(text) >= overruleBelow {
			return got, true
		}
		return Match{}, false
	}
	if cancelled(present) || md.probability(text) < raiseAt[tierOf(present)] {
		return Match{}, false
	}
	texts := make([]string, 1, 1+len(cues))
	texts[0] = modelPhrase
	for _, p := range cues {
		texts = append(texts, p.asWritten())
	}
	return Match{Phrase: strings.Join(texts, " + "), Class: Urgent}, true
}

// overruleBelow is the probability under which the model sets aside the
// rule's urgent answer, where it does not stand: a danger told as past in
// words the lists do not know as past, a worker "not let out before 6" who
// may quit any time. Chosen with raiseAt (see there).
const overruleBelow = 0.25

// Tiers of a message the rule left aside, by the strongest cue found in it.
const (
	tierLead = iota // escape, a threat, being moved, exploitation: danger in most messages
	tierCond        // a condition (work, documents, children) and no cue that leads
	tierWeak        // only "now", fear or a call for help
	tierNone        // no cue
	numTiers
)

// raiseAt is the probability from which the model raises a message the
// rule left aside, by tier. The thresholds are searched (TestCrossValidation
// checks these are the ones searchThresholds picks, in steps of 0.05): the
// most danger found on corpora the model did not learn from, with no more
// false alarms than the lists alone at first contact, and every example of
// the package's tests right (the passports taken and nothing else, the song
// stuck in one's head, the bus "tối nay"). With the corpora of 2026-12-05:
// 2089 of 2149 danger-now messages found (97.2%) and 166 false alarms of
// 2191 (7.6%), against 1556 and 170 for the lists alone.
var raiseAt = [numTiers]float64{tierLead: 0.4, tierCond: 0.3, tierWeak: 0.55, tierNone: 0.4}

// tierOf is the tier of a message with the classes of cue found.
func tierOf(classes [numClasses]bool) int {
	switch {
	case classes[Escape] || classes[Threat] || classes[Moved] || classes[Exploit]:
		return tierLead
	case classes[Labour] || classes[Documents] || classes[Children]:
		return tierCond
	}
	for _, c := range classes {
		if c {
			return tierWeak
		}
	}
	return tierNone
}

// cancelled reports whether the classes found make a message no danger now
// whatever else it says: a joke or a story, or a danger past or over with no
// "right now" beside it. The rule's answer stands there.
func cancelled(classes [numClasses]bool) bool {
	return classes[Joke] || classes[Safe] && !classes[Now]
}

// stands reports whether the rule's urgent answer stands whatever the
// model says: an explicit emergency ("SOS", "emergency", a configured phrase
// without a class), a whole-message phrase, or a message of nothing but
// calls for help. The corpora have few of them; the model could not learn
// their worth.
func stands(classes [numClasses]bool, cues []*phrase, cry bool) bool {
	if classes[Urgent] || cry {
		return true
	}
	for _, p := range cues {
		if p.whole {
			return true
		}
	}
	return false
}

// probability is the model's probability that text speaks of danger now.
func (md *model) probability(text string) float64 {
	seen := seenPool.Get().(*featureSet)
	var room [1024]uint32
	distinct := room[:0]
	var sum float64
	textFeatures(text, func(i uint32) {
		if seen[i>>6]&(1<<(i&63)) == 0 {
			seen[i>>6] |= 1 << (i & 63)
			distinct = append(distinct, i)
			sum += float64(int8(md.weights[i]))
		}
	})
	for _, i := range distinct {
		seen[i>>6] = 0
	}
	seenPool.Put(seen)
	z := md.bias + md.scale*sum*textWeight(len(distinct))
	return 1 / (1 + math.Exp(-z))
}

// featureSet holds a bit for each entry of the model's table: the features
// of a text are counted once each, so that a text said twice says no more.
type featureSet [1 << (modelBits - 6)]uint64

// seenPool keeps featureSets, all bits clear, for probability.
var seenPool = sync.Pool{New: func() any { return new(featureSet) }}

// minFeatures is the fewest features a text is weighed as having: the
// words of a short text count as much as they would in one of this many
// (some 20 letters), not more, so that a few words are not taken for strong
// evidence. Cross-validation found it neutral; the corpora have few texts
// that short.
const minFeatures = 60

// textWeight is the value of each of a text's n distinct features.
func textWeight(n int) float64 { return 1 / math.Sqrt(float64(max(n, minFeatures))) }

// FNV-1a, 32 bits: features are hashed into the table.
const (
	fnvOffset = 2166136261
	fnvPrime  = 16777619
	tableMask = 1<<modelBits - 1
)

func mix(h uint32, r rune) uint32 {
	for v := uint32(r); ; v >>= 8 {
		h = (h ^ (v & 0xff)) * fnvPrime
		if v < 0x100 {
			return h
		}
	}
}

// Feature kinds, hashed first so that a word and a letter n-gram of the
// same letters are two features.
const (
	kindGram = 'g' // letters
	kindWord = 'w'
	kindPair = 'p' // two words in a row
)

// maxGram is the length of the longest letter n-grams: they are 2 to 6
// letters long, and single Chinese characters, each a word. In
// cross-validation with the thresholds searched, n-grams of up to four
// letters found 2069 danger-now messages, five 2086, six 2089, at 165 to
// 167 false alarms.
const maxGram = 6

// modelRunes writes text as the model reads it into buf: lower case,
// Latin accents folded as the lists fold them, apostrophes dropped, every
// run of other signs one space, a letter said three times or more twice,
// with a space at each end.
func modelRunes(text string, buf []rune) []rune {
	if len(text) > modelText {
		text = text[:modelText]
	}
	folds := latinFolds()
	out := append(buf[:0], ' ')
	put := func(r rune) {
		n := len(out)
		if r == ' ' && out[n-1] == ' ' || r != ' ' && n >= 2 && out[n-1] == r && out[n-2] == r {
			return
		}
		out = append(out, r)
	}
	for _, r := range text {
		switch {
		case r < utf8.RuneSelf:
			switch {
			case r == '\'':
				continue
			case 'A' <= r && r <= 'Z':
				r += 'a' - 'A'
			case !('a' <= r && r <= 'z' || '0' <= r && r <= '9'):
				r = ' '
			}
		case isApostrophe(r):
			continue
		default:
			if f, ok := folds[r]; ok {
				for _, fr := range f {
					put(fr)
				}
				continue
			}
			if unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r) {
				r = unicode.ToLower(r)
			} else {
				r = ' '
			}
		}
		put(r)
	}
	put(' ')
	return out
}

// textFeatures calls fn with the table index of each feature of text: its
// letter n-grams, its words and pairs of words, in order, repeats and all.
func textFeatures(text string, fn func(uint32)) {
	var room [512]rune
	rs := modelRunes(text, room[:0])
	for i := range rs {
		// Each n-gram's hash goes on from the one a letter shorter.
		h := mix(mix(fnvOffset, kindGram), rs[i])
		if rs[i] >= 0x2E80 && unicode.Is(unicode.Han, rs[i]) {
			fn(h & tableMask)
		}
		for k := 2; k <= maxGram && i+k <= len(rs); k++ {
			h = mix(h, rs[i+k-1])
			fn(h & tableMask)
		}
	}
	// Words and pairs: the runs between spaces.
	prev := uint32(0)
	for start := 1; start < len(rs); {
		end := start
		for end < len(rs) && rs[end] != ' ' {
			end++
		}
		if end == start {
			break
		}
		h := mix(fnvOffset, kindWord)
		for _, r := range rs[start:end] {
			h = mix(h, r)
		}
		fn(h & tableMask)
		if prev != 0 {
			fn((mix(mix(mix(fnvOffset, kindPair), rune(prev)), rune(h))) & tableMask)
		}
		prev, start = h, end+1
	}
}
