package urgency

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// trainCorpora are the corpora the model learns from: all but the blind
// ones, which it never sees. Cross-validation holds out each in turn. The
// model learns from the package's own examples too (tableExamples), which
// no fold holds out.
var trainCorpora = []string{"dev", "heldout", "second", "third", "fourth", "fifth", "hard", "varied", "plain"}

// tablesCorpus is the name of the package's own examples among the
// training examples.
const tablesCorpus = "tables"

// cueSet is what the lists found in a message: the classes and the rule's
// answer.
type cueSet struct {
	classes [numClasses]bool
	rule    bool
}

// example is a corpus message with its features.
type example struct {
	corpus, lang string
	line         int
	text         string
	now          bool
	feats        []uint32 // text features, table indices
	current      cueSet   // the lists of today
	// first is what the lists found when the corpus was new to them (see
	// testdata/firstcontact); for dev, written with the lists, today's.
	first cueSet
}

// loadExamples reads the training corpora and finds their features.
func loadExamples(t testing.TB, m *Matcher) []example {
	t.Helper()
	var out []example
	for _, c := range trainCorpora {
		for _, l := range corpusLangs {
			msgs, err := readCorpus(filepath.Join("testdata", c, l+".tsv"))
			if err != nil {
				t.Fatal(err)
			}
			first := map[int]cueSet{}
			if firstContact(c) {
				if first, err = readFirstContact(filepath.Join("testdata", "firstcontact", c, l+".tsv")); err != nil {
					t.Fatal(err)
				}
			}
			for _, msg := range msgs {
				e := newExample(m, c, l, msg.line, msg.text, msg.now)
				if firstContact(c) {
					f, ok := first[msg.line]
					if !ok {
						t.Fatalf("%s %s:%d has no first-contact line", c, l, msg.line)
					}
					e.first = f
				}
				out = append(out, e)
			}
		}
	}
	return append(out, tableExamples(m)...)
}

// newExample is a message with its features and the cues m's lists find
// in it, today's as its first contact's.
func newExample(m *Matcher, corpus, lang string, line int, text string, now bool) example {
	e := example{corpus: corpus, lang: lang, line: line, text: text, now: now}
	textFeatures(text, func(i uint32) { e.feats = append(e.feats, i) })
	slices.Sort(e.feats)
	e.feats = slices.Compact(e.feats) // each once, as probability counts them
	e.current = cuesOf(m, text)
	e.first = e.current
	return e
}

// cuesOf is what m's lists find in text.
func cuesOf(m *Matcher, text string) cueSet {
	var s cueSet
	cues, cry := m.find(text)
	for _, p := range cues {
		s.classes[p.class] = true
	}
	_, s.rule = decide(cues, cry)
	return s
}

// tableExamples are the package's own examples: the situations in every
// language, matchCases and everydayCases. They say what the package means
// by danger now in the cases its tests hold, and were written with the
// lists (so their cues at first contact are today's).
func tableExamples(m *Matcher) []example {
	var out []example
	add := func(lang, text string, now bool) {
		out = append(out, newExample(m, tablesCorpus, lang, len(out)+1, text, now))
	}
	for _, s := range situations {
		for _, l := range corpusLangs {
			if text, ok := s.text[l]; ok {
				add(l, text, s.now)
			}
		}
	}
	for _, c := range matchCases {
		add(c.lang, c.text, c.urgent)
	}
	for _, text := range everydayCases {
		add("", text, false)
	}
	return out
}

// firstContact reports whether corpus c has a file in testdata/firstcontact:
// dev was written with the lists, and the corpora written for the model
// (hard, varied, plain) are new to today's lists.
func firstContact(c string) bool {
	switch c {
	case "dev", "hard", "varied", "plain":
		return false
	}
	return true
}

// urgent is combine's answer for a message with cues s and probability p
// (with s.rule among the cues). The first-contact files do not say which
// phrases were whole-message ones nor whether a message was a cry: of the
// rule's urgent answers that stand whatever the model says, only an
// explicit emergency (class Urgent) is known here.
func urgent(s cueSet, p float64) bool {
	if s.rule {
		return s.classes[Urgent] || p >= overruleBelow
	}
	return !cancelled(s.classes) && p >= raiseAt[tierOf(s.classes)]
}

// readFirstContact reads a file of testdata/firstcontact: the line of the
// message in its corpus, 1 if the lists of the time found it urgent, and
// the classes of the cues they found.
func readFirstContact(file string) (map[int]cueSet, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[int]cueSet{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), "\t")
		if len(fields) != 3 {
			return nil, fmt.Errorf("%s: want line, 0|1, classes", file)
		}
		line, err := strconv.Atoi(fields[0])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		s := cueSet{rule: fields[1] == "1"}
		for _, name := range strings.Split(fields[2], ",") {
			if name == "" {
				continue
			}
			c, err := ParseClass(name)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: %w", file, line, err)
			}
			s.classes[c] = true
		}
		out[line] = s
	}
	return out, sc.Err()
}

// trainOptions choose how the model learns.
type trainOptions struct {
	epochs int
	rate   float64 // AdaGrad's step
	l2     float64
}

var defaultTraining = trainOptions{epochs: 12, rate: 0.3, l2: 1e-4}

// weightsOf trains a logistic regression on exs by AdaGrad, in an order
// that depends on nothing but the examples, and returns its weights and
// bias. Products are converted before they are added so that no platform
// fuses them: training gives the same weights everywhere.
func weightsOf(exs []example, o trainOptions) ([]float64, float64) {
	w := make([]float64, 1<<modelBits)
	g2 := make([]float64, 1<<modelBits)
	var bias, biasG2 float64
	order := make([]int, len(exs))
	for i := range order {
		order[i] = i
	}
	state := uint64(0x9E3779B97F4A7C15)
	for range o.epochs {
		for i := len(order) - 1; i > 0; i-- { // Fisher-Yates on xorshift
			state ^= state << 13
			state ^= state >> 7
			state ^= state << 17
			j := int(state % uint64(i+1))
			order[i], order[j] = order[j], order[i]
		}
		for _, k := range order {
			e := &exs[k]
			x := textWeight(len(e.feats))
			z := bias
			for _, i := range e.feats {
				z += float64(w[i] * x)
			}
			y := 0.0
			if e.now {
				y = 1
			}
			g := 1/(1+math.Exp(-z)) - y
			step := func(i uint32, xi float64) {
				grad := float64(g*xi) + float64(o.l2*w[i])
				g2[i] += float64(grad * grad)
				w[i] -= float64(o.rate * grad / math.Sqrt(g2[i]+1e-8))
			}
			for _, i := range e.feats {
				step(i, x)
			}
			biasG2 += float64(g * g)
			bias -= float64(o.rate * g / math.Sqrt(biasG2+1e-8))
		}
	}
	return w, bias
}

// quantise makes a model of the weights, one byte each.
func quantise(w []float64, bias float64) *model {
	top := 0.0
	for _, v := range w {
		top = max(top, math.Abs(v))
	}
	md := &model{weights: make([]byte, len(w)), scale: top / 127, bias: bias}
	if top == 0 {
		md.scale = 1
	}
	for i, v := range w {
		md.weights[i] = byte(int8(math.Round(v / md.scale)))
	}
	return md
}

// score is the model's probability for e, from the features training saw.
func (md *model) score(e *example) float64 {
	var sum float64
	for _, i := range e.feats {
		sum += float64(int8(md.weights[i]))
	}
	z := md.bias + md.scale*sum*textWeight(len(e.feats))
	return 1 / (1 + math.Exp(-z))
}

var updateModel = flag.Bool("update-model", false, "train the model and write model/urgency.model")

// modelHeader says how the model file was made.
const modelHeader = `# urgency model: a logistic regression over hashed features of the text (model.go), a signed byte a weight.
# Made by "go generate ./gateway/urgency/" (go test -run=TestModelIsTrained -update-model), deterministic:
# trained on testdata/{dev,heldout,second,third,fourth,fifth,hard,varied,plain} and the examples of the package's
# tests (tableExamples), never on a blind corpus, each feature of a text once, 12 epochs of AdaGrad (step 0.3,
# L2 1e-4) in a fixed order. The thresholds of combine (model.go) were searched by leave-one-corpus-out
# cross-validation. TestModelIsTrained trains again and checks that this file is what it makes.
`

// trainModel trains the model on exs.
func trainModel(exs []example) *model {
	w, b := weightsOf(exs, defaultTraining)
	return quantise(w, b)
}

// file is md as the model file holds it.
func (md *model) file() []byte {
	var b bytes.Buffer
	b.WriteString(modelHeader)
	fmt.Fprintf(&b, "bits %d scale %s bias %s\n", modelBits, strconv.FormatFloat(md.scale, 'g', -1, 64),
		strconv.FormatFloat(md.bias, 'g', -1, 64))
	b.Write(md.weights)
	return b.Bytes()
}

// TestModelIsTrained: the embedded model is what training makes of the
// corpora (with -update-model, it writes it), and it scores a text as it
// scored the features training saw.
func TestModelIsTrained(t *testing.T) {
	m := mustMatcher(t, Options{NoModel: true})
	exs := loadExamples(t, m)
	trained := trainModel(exs).file()
	if *updateModel {
		if err := os.WriteFile(filepath.Join("model", "urgency.model"), trained, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !bytes.Equal(trained, modelFile) {
		t.Fatal("model/urgency.model is not what training makes: run go generate ./gateway/urgency/")
	}
	md, err := builtinModel()
	if err != nil {
		t.Fatal(err)
	}
	for i := range exs {
		e := &exs[i]
		if p, q := md.probability(e.text), md.score(e); p != q {
			t.Fatalf("%s %s:%d: probability %v, %v from the training features", e.corpus, e.lang, e.line, p, q)
		}
	}
}

// The figures of the rule with the model, by leave-one-corpus-out
// cross-validation, on the cues as the lists found them at first contact:
// an estimate of what a new writer gets. Raise them when a change lifts
// them.
const (
	cvMinFound  = 2089 // of 2149 danger-now messages
	cvMaxAlarms = 166  // of 2191 others (the lists alone: 1556 found, 170 false alarms)
)

// TestCrossValidation trains the model on six corpora and measures it on
// the seventh, for each, and logs the figures by corpus and by language: the
// lists alone and with the model, with the cues the lists found at first
// contact (an estimate for a new writer; dev was written with the lists)
// and today (the lists have read every corpus since). It holds the first
// contact figures with the model at their floors.
func TestCrossValidation(t *testing.T) {
	m := mustMatcher(t, Options{NoModel: true})
	exs := loadExamples(t, m)
	type row struct{ rule, model figures }
	first, today := map[string]*row{}, map[string]*row{}
	count := func(f *figures, now, urgent bool) {
		f.messages++
		switch {
		case now:
			f.now++
			if urgent {
				f.found++
			}
		default:
			f.not++
			if urgent {
				f.alarms++
			}
		}
	}
	cv := crossScores(exs)
	for i := range exs {
		e := &exs[i]
		if e.corpus == tablesCorpus {
			continue
		}
		for _, by := range []struct {
			rows map[string]*row
			cues cueSet
		}{{first, e.first}, {today, e.current}} {
			urgent := urgent(by.cues, cv[i])
			for _, k := range []string{e.corpus, e.lang, "all"} {
				r := by.rows[k]
				if r == nil {
					r = &row{}
					by.rows[k] = r
				}
				count(&r.rule, e.now, by.cues.rule)
				count(&r.model, e.now, urgent)
			}
		}
	}
	var b strings.Builder
	for _, by := range []struct {
		name string
		rows map[string]*row
	}{{"cues at first contact", first}, {"cues of today's lists", today}} {
		fmt.Fprintf(&b, "leave-one-corpus-out, %s:\n", by.name)
		for _, k := range append(append(slices.Clone(trainCorpora), corpusLangs...), "all") {
			fmt.Fprintf(&b, "  %-8s lists alone %v\n  %-8s with model  %v\n", k, by.rows[k].rule, "", by.rows[k].model)
		}
	}
	t.Log("\n" + b.String())
	if f := first["all"].model; f.found < cvMinFound || f.alarms > cvMaxAlarms {
		t.Errorf("cross-validation below its floors: %v (floors: %d found, at most %d false alarms)",
			f, cvMinFound, cvMaxAlarms)
	}
	// The thresholds are the ones the search picks, with at most as many
	// false alarms as the lists alone at first contact.
	full := trainModel(exs)
	ps := slices.Clone(cv)
	for i := range exs {
		if exs[i].corpus == tablesCorpus {
			ps[i] = full.score(&exs[i])
		}
	}
	got, found, alarms := searchThresholds(exs, ps, first["all"].rule.alarms)
	want := thresholds{overrule: overruleBelow, raise: raiseAt}
	t.Logf("thresholds searched: %v (%d found, %d false alarms); in use: %v", got, found, alarms, want)
	if got != want {
		t.Errorf("the thresholds of combine are %v, the search picks %v: set overruleBelow and raiseAt to it", want, got)
	}
}

// crossScores is the probability of each corpus message by a model trained
// without its corpus (the package's own examples get NaN).
func crossScores(exs []example) []float64 {
	ps := make([]float64, len(exs))
	for i := range ps {
		ps[i] = math.NaN()
	}
	for _, fold := range trainCorpora {
		var train []example
		for _, e := range exs {
			if e.corpus != fold {
				train = append(train, e)
			}
		}
		md := trainModel(train)
		for i := range exs {
			if exs[i].corpus == fold {
				ps[i] = md.score(&exs[i])
			}
		}
	}
	return ps
}

// thresholds are combine's: overruleBelow and raiseAt.
type thresholds struct {
	overrule float64
	raise    [numTiers]float64
}

func (th thresholds) String() string {
	return fmt.Sprintf("overrule below %g, raise at %v", th.overrule, th.raise)
}

// searchThresholds finds the thresholds, in steps of 0.05, that find the
// most danger-now corpus messages with probabilities ps (by models that did
// not learn them, with the cues of first contact) with at most maxAlarms
// false alarms, and that get every one of the package's own examples right
// (ps of the full model, today's cues): of equals, the fewest false alarms,
// then the highest thresholds. It returns them with what they find.
func searchThresholds(exs []example, ps []float64, maxAlarms int) (thresholds, int, int) {
	const steps = 20 // a threshold is k/steps, 0 < k < steps
	// Each group of messages is decided by one threshold: the rule's urgent
	// answers that may be set aside (group 0) and each tier (1 + tier).
	const groups = 1 + numTiers
	var found, alarms, wrong [groups][steps]int
	baseFound, baseAlarms, baseWrong := 0, 0, 0
	// tally counts e's answer: a package example wrong, or a corpus
	// message found or a false alarm.
	tally := func(e *example, urgent bool, found, alarms, wrong *int) {
		switch {
		case e.corpus == tablesCorpus:
			if urgent != e.now {
				*wrong++
			}
		case urgent && e.now:
			*found++
		case urgent:
			*alarms++
		}
	}
	for i := range exs {
		e := &exs[i]
		s := e.first
		if e.corpus == tablesCorpus {
			s = e.current
		}
		var g int
		switch {
		case s.rule && s.classes[Urgent], !s.rule && cancelled(s.classes):
			// No threshold decides: an explicit emergency stands, a joke
			// or a danger past stays aside.
			tally(e, s.rule, &baseFound, &baseAlarms, &baseWrong)
			continue
		case s.rule:
			g = 0
		default:
			g = 1 + tierOf(s.classes)
		}
		for k := 1; k < steps; k++ {
			tally(e, ps[i] >= float64(k)/steps, &found[g][k], &alarms[g][k], &wrong[g][k])
		}
	}
	var best thresholds
	bestFound, bestAlarms := -1, 0
	var ks [groups]int
	var walk func(g, f, a int)
	walk = func(g, f, a int) {
		if a > maxAlarms {
			return
		}
		if g == groups {
			if f > bestFound || f == bestFound && a < bestAlarms {
				bestFound, bestAlarms = f, a
				best.overrule = float64(ks[0]) / steps
				for t := range numTiers {
					best.raise[t] = float64(ks[1+t]) / steps
				}
			}
			return
		}
		for k := steps - 1; k >= 1; k-- { // from the highest, which wins ties
			if wrong[g][k] == 0 {
				ks[g] = k
				walk(g+1, f+found[g][k], a+alarms[g][k])
			}
		}
	}
	if baseWrong == 0 {
		walk(0, baseFound, baseAlarms)
	}
	return best, bestFound, bestAlarms
}

// BenchmarkModel is what the model adds to Match: its probability for the
// texts BenchmarkMatch searches.
func BenchmarkModel(b *testing.B) {
	md, err := builtinModel()
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range benchTexts {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				md.probability(c.text)
			}
		})
	}
}

// BenchmarkMatchCorpus is Match over every message of the training
// corpora, by message, with the model and by the rule alone.
func BenchmarkMatchCorpus(b *testing.B) {
	var texts []string
	for _, e := range loadExamples(b, mustMatcher(b, Options{NoModel: true})) {
		texts = append(texts, e.text)
	}
	for _, opt := range []struct {
		name string
		opt  Options
	}{{"model", Options{}}, {"rule", Options{NoModel: true}}} {
		m := mustMatcher(b, opt.opt)
		b.Run(opt.name, func(b *testing.B) {
			i := 0
			for b.Loop() {
				m.Match(texts[i%len(texts)])
				i++
			}
		})
	}
}
