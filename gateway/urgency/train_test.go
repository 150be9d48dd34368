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
// one, which it never sees.
var trainCorpora = []string{"dev", "heldout", "second", "third", "fourth", "fifth", "hard"}

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
				e := example{corpus: c, lang: l, line: msg.line, text: msg.text, now: msg.now}
				textFeatures(msg.text, func(i uint32) { e.feats = append(e.feats, i) })
				slices.Sort(e.feats)
				e.feats = slices.Compact(e.feats) // each once, as probability counts them
				cues, cry := m.find(msg.text)
				for _, p := range cues {
					e.current.classes[p.class] = true
				}
				_, e.current.rule = decide(cues, cry)
				e.first = e.current
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
	return out
}

// firstContact reports whether corpus c has a file in testdata/firstcontact:
// dev was written with the lists, and hard is new to today's lists.
func firstContact(c string) bool { return c != "dev" && c != "hard" }

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

// trainOptions choose what the model learns from and how.
type trainOptions struct {
	cues    bool // learn from the cue features too
	epochs  int
	rate    float64 // AdaGrad's step
	l2      float64
	onFirst bool // cue features from first contact (else today's lists)
}

var defaultTraining = trainOptions{cues: true, epochs: 12, rate: 0.3, l2: 1e-4, onFirst: true}

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
	var cue []uint32
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
			cue = e.cueFeats(cue[:0], o)
			x := textWeight(len(e.feats))
			z := bias
			for _, i := range e.feats {
				z += float64(w[i] * x)
			}
			for _, i := range cue {
				z += w[i]
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
			for _, i := range cue {
				step(i, 1)
			}
			biasG2 += float64(g * g)
			bias -= float64(o.rate * g / math.Sqrt(biasG2+1e-8))
		}
	}
	return w, bias
}

// cueFeats appends e's cue features, if the options use them.
func (e *example) cueFeats(buf []uint32, o trainOptions) []uint32 {
	if !o.cues {
		return buf
	}
	s := e.current
	if o.onFirst {
		s = e.first
	}
	cueFeatures(s.classes, s.rule, func(i uint32) { buf = append(buf, i) })
	return buf
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

// score is the model's probability for e, with the cues as the lists
// found them then (first) or now.
func (md *model) score(e *example, s cueSet, cues bool) float64 {
	var sum float64
	for _, i := range e.feats {
		sum += float64(int8(md.weights[i]))
	}
	var cue float64
	if cues {
		cueFeatures(s.classes, s.rule, func(i uint32) { cue += float64(int8(md.weights[i])) })
	}
	z := md.bias + md.scale*(cue+sum*textWeight(len(e.feats)))
	return 1 / (1 + math.Exp(-z))
}

var updateModel = flag.Bool("update-model", false, "train the model and write model/urgency.model")

// modelHeader says how the model file was made.
const modelHeader = `# urgency model: a logistic regression over hashed features (model.go), a signed byte a weight.
# Made by "go generate ./gateway/urgency/" (go test -run=TestModelIsTrained -update-model), deterministic:
# trained on testdata/{dev,heldout,second,third,fourth,fifth,hard}, never on testdata/blind, with the cues of
# each corpus as the lists found them at first contact (testdata/firstcontact; dev and hard: today's lists), each
# feature of a text once, 12 epochs of AdaGrad (step 0.3, L2 1e-4) in a fixed order. The thresholds of combine
# (model.go) were chosen by leave-one-corpus-out cross-validation.
# TestModelIsTrained trains again and checks that this file is what it makes.
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
		if p, q := md.probability(e.text, e.current.classes, e.current.rule), md.score(e, e.current, true); p != q {
			t.Fatalf("%s %s:%d: probability %v, %v from the training features", e.corpus, e.lang, e.line, p, q)
		}
	}
}

// The figures of the rule with the model, by leave-one-corpus-out
// cross-validation, on the cues as the lists found them at first contact:
// an estimate of what a new writer gets. Raise them when a change lifts
// them.
const (
	cvMinFound  = 1105 // of 1229 danger-now messages
	cvMaxAlarms = 100  // of 1351 others (the lists alone: 1001 found, 105 false alarms)
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
	for _, fold := range trainCorpora {
		var train []example
		for _, e := range exs {
			if e.corpus != fold {
				train = append(train, e)
			}
		}
		md := trainModel(train)
		for i := range exs {
			e := &exs[i]
			if e.corpus != fold {
				continue
			}
			for _, by := range []struct {
				rows map[string]*row
				cues cueSet
			}{{first, e.first}, {today, e.current}} {
				urgent := urgent(by.cues, md.score(e, by.cues, true))
				for _, k := range []string{fold, e.lang, "all"} {
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
}

// BenchmarkModel is what the model adds to Match: its probability for the
// texts BenchmarkMatch searches.
func BenchmarkModel(b *testing.B) {
	md, err := builtinModel()
	if err != nil {
		b.Fatal(err)
	}
	var classes [numClasses]bool
	for _, c := range benchTexts {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				md.probability(c.text, classes, false)
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
