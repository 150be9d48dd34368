package urgency

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The corpora: testdata/dev is what the lists were developed on;
// testdata/heldout was written apart from it and from the lists (see its
// README) and is never tuned on line by line; testdata/second was written
// independently after the lists were final (see its README); testdata/third
// was written blind after the second round and read in the third;
// testdata/fourth was written blind after the third round and read in the
// fourth; testdata/fifth was written blind after round four and read in
// the fifth; testdata/hard (see its README), hard cases written apart
// after round five (harmless messages with "now", "tonight" or danger words,
// short plain dangers), is training data for the model only: no bar holds
// it, and the lists were not tuned on it; testdata/varied and plain,
// written apart on 2026-12-05 (see their READMEs), are training data for
// the model too: messages of every form and writer, and dangers told
// plainly, without the words of a list. testdata/blind, blind2, blind3,
// blind4 and blind5 were each written by a helper that read nothing of the
// project, and none is tuned on (see TestBlindCorporaNoWorse and
// TestNewBlindCorpora). A file is one
// language, a line is "now" or "not", a tab, and a message; "#" starts a
// comment line.
var corpusLangs = []string{"en", "es", "ms", "id", "zh-Hans", "th", "vi", "fil"}

// The bar a corpus must clear, per language and overall.
const (
	minRecall     = 0.95 // of the danger-now messages, the share found urgent
	maxFalseAlarm = 0.10 // of the others, the share found urgent
)

type labelled struct {
	now  bool
	text string
	line int
}

func readCorpus(file string) ([]labelled, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var out []labelled
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		label, text, ok := strings.Cut(line, "\t")
		if !ok || (label != "now" && label != "not") || strings.TrimSpace(text) == "" {
			return nil, fmt.Errorf("%s:%d: want now|not, a tab, and a message", file, n)
		}
		out = append(out, labelled{now: label == "now", text: text, line: n})
	}
	return out, sc.Err()
}

// figures are the counts of one language, or of all.
type figures struct {
	messages, now, found, not, alarms int
	missed, alarmed                   []labelled
}

func (f *figures) add(g figures) {
	f.messages += g.messages
	f.now += g.now
	f.found += g.found
	f.not += g.not
	f.alarms += g.alarms
}

func (f figures) recall() float64 {
	if f.now == 0 {
		return 1
	}
	return float64(f.found) / float64(f.now)
}

func (f figures) falseAlarms() float64 {
	if f.not == 0 {
		return 0
	}
	return float64(f.alarms) / float64(f.not)
}

func (f figures) String() string {
	return fmt.Sprintf("%4d messages  recall %3d/%-3d %6.1f%%  false alarms %2d/%-3d %5.1f%%",
		f.messages, f.found, f.now, 100*f.recall(), f.alarms, f.not, 100*f.falseAlarms())
}

type corpusReport struct {
	byLang map[string]figures
	total  figures
	err    error
}

func measure(m *Matcher, dir string) corpusReport {
	r := corpusReport{byLang: map[string]figures{}}
	for _, l := range corpusLangs {
		msgs, err := readCorpus(filepath.Join(dir, l+".tsv"))
		if err != nil {
			r.err = err
			return r
		}
		var f figures
		for _, msg := range msgs {
			_, urgent := m.Match(msg.text)
			f.messages++
			switch {
			case msg.now:
				f.now++
				if urgent {
					f.found++
				} else {
					f.missed = append(f.missed, msg)
				}
			default:
				f.not++
				if urgent {
					f.alarms++
					f.alarmed = append(f.alarmed, msg)
				}
			}
		}
		r.byLang[l] = f
		r.total.add(f)
	}
	return r
}

func (r corpusReport) table(name string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "urgency corpus %s (the issue's bar: recall >= %.0f%%, false alarms <= %.0f%%):\n", name, 100*minRecall, 100*maxFalseAlarm)
	for _, l := range corpusLangs {
		fmt.Fprintf(&b, "  %-8s %v\n", l, r.byLang[l])
	}
	fmt.Fprintf(&b, "  %-8s %v\n", "all", r.total)
	return b.String()
}

var corpora = map[string]corpusReport{}

// TestMain prints the corpus figures outside any test, so that they are in
// the output of a passing run, CI's included.
func TestMain(m *testing.M) {
	if matcher, err := New(Options{}); err == nil {
		for _, name := range []string{"dev", "heldout", "second", "third", "fourth", "fifth", "blind", "blind2", "blind3", "blind4", "blind5"} {
			corpora[name] = measure(matcher, filepath.Join("testdata", name))
			if corpora[name].err == nil {
				fmt.Print(corpora[name].table(name))
			}
		}
	}
	os.Exit(m.Run())
}

func checkCorpus(t *testing.T, name string) {
	r, ok := corpora[name]
	if !ok {
		t.Fatal("the built-in lists do not load")
	}
	if r.err != nil {
		t.Fatal(r.err)
	}
	t.Log("\n" + r.table(name))
	for _, l := range append(corpusLangs, "all") {
		f, ok := r.byLang[l]
		if l == "all" {
			f, ok = r.total, true
		}
		if !ok || f.now == 0 || f.not == 0 {
			t.Errorf("%s: %s has no danger-now or no other messages", name, l)
			continue
		}
		if f.recall() < minRecall || f.falseAlarms() > maxFalseAlarm {
			t.Errorf("%s %s: %v", name, l, f)
		}
	}
	r.logMisses(t, name)
}

// logMisses logs each missed danger-now message and each false alarm.
func (r corpusReport) logMisses(t *testing.T, name string) {
	t.Helper()
	for _, l := range corpusLangs {
		for _, msg := range r.byLang[l].missed {
			t.Logf("%s %s:%d missed: %s", name, l, msg.line, msg.text)
		}
		for _, msg := range r.byLang[l].alarmed {
			t.Logf("%s %s:%d false alarm: %s", name, l, msg.line, msg.text)
		}
	}
}

// TestDevCorpus: the development corpus clears the bar in every language.
func TestDevCorpus(t *testing.T) { checkCorpus(t, "dev") }

// TestHeldOutCorpus: so does the corpus written apart, which the lists were
// not tuned on.
func TestHeldOutCorpus(t *testing.T) { checkCorpus(t, "heldout") }

// TestSecondCorpus: so does the second corpus, written independently after
// the lists were final (see its README); read since to improve the lists, so
// no longer blind.
func TestSecondCorpus(t *testing.T) { checkCorpus(t, "second") }

// TestThirdCorpus: so does the third corpus, written blind after the second
// round of lists and measured once (83.9% recall, 6.0% false alarms), then
// read in the third round to improve them (see its README); no longer blind.
func TestThirdCorpus(t *testing.T) { checkCorpus(t, "third") }

// The fourth corpus (testdata/fourth, see its README) was written blind
// after the third round of lists and measured once (139/176 = 79.0% recall,
// 9/176 = 5.1% false alarms), then read in the fourth round to improve them;
// no longer blind. It is held to the bar in every language like the
// others, and overall at its figures once tuned: raise these when a change
// lifts them.
const (
	fourthMinFound  = 174 // of 176 danger-now messages, after round four
	fourthMaxAlarms = 0   // of 176 others, after round four
)

// TestFourthCorpus: the fourth corpus clears the bar in every language and
// stays at its tuned figures overall.
func TestFourthCorpus(t *testing.T) { checkTuned(t, "fourth", fourthMinFound, fourthMaxAlarms) }

// checkTuned holds a corpus that was read to tune the lists to the issue's
// bar in every language, and overall to the figures it reached.
func checkTuned(t *testing.T, name string, minFound, maxAlarms int) {
	t.Helper()
	checkCorpus(t, name)
	if r := corpora[name]; r.err == nil && (r.total.found < minFound || r.total.alarms > maxAlarms) {
		t.Errorf("%s corpus below its tuned figures: %v (held at %d found, at most %d false alarms)",
			name, r.total, minFound, maxAlarms)
	}
}

// TestSameSituationSamePriority: the development corpus says the same 25
// situations in each language, line for line; each gets one priority in
// every language.
func TestSameSituationSamePriority(t *testing.T) {
	m := mustMatcher(t, Options{})
	byLang := map[string][]labelled{}
	for _, l := range corpusLangs {
		msgs, err := readCorpus(filepath.Join("testdata", "dev", l+".tsv"))
		if err != nil {
			t.Fatal(err)
		}
		byLang[l] = msgs
	}
	for i, en := range byLang["en"] {
		_, want := m.Match(en.text)
		for _, l := range corpusLangs {
			if len(byLang[l]) != len(byLang["en"]) {
				t.Fatalf("%s has %d situations, en %d", l, len(byLang[l]), len(byLang["en"]))
			}
			msg := byLang[l][i]
			if msg.now != en.now {
				t.Errorf("situation %d is labelled %v in en, %v in %s", i+1, en.now, msg.now, l)
			}
			if _, got := m.Match(msg.text); got != want {
				t.Errorf("situation %d: urgent %v in en, %v in %s: %s", i+1, want, got, l, msg.text)
			}
		}
	}
}

// The fifth corpus (testdata/fifth, see its README) was written blind by a
// helper that read nothing of the project, after round four was final, and
// measured once (170/200 = 85.0% recall, 28/200 = 14.0% false alarms), then
// read in round five to improve the lists; no longer blind. It is held to
// the bar in every language and overall at its figures once tuned:
// raise these when a change lifts them.
const (
	fifthMinFound  = 200 // of 200 danger-now messages, after round five
	fifthMaxAlarms = 2   // of 200 others, after round five
)

// TestFifthCorpus: the fifth corpus clears the bar in every language and
// stays at its tuned figures overall.
func TestFifthCorpus(t *testing.T) { checkTuned(t, "fifth", fifthMinFound, fifthMaxAlarms) }

// The blind corpora, each written by a helper that read nothing of the
// project (see their READMEs), none tuned on. Their floors only catch a
// change that makes them worse. The first three fell short of the issue's
// bar when measured; blind, blind2 and blind3 have been read since (their
// misses were looked at while the model was designed), so their figures
// today, in the floors, are not a blind measure: blind4 and blind5 are
// (see TestNewBlindCorpora).
//   - blind, written after round five of the lists: lists alone 150/200
//     found and 33/200 false alarms at first contact (31 after two fixes);
//     with the model, 167/200 and 20/200.
//   - blind2, written after round five too: lists alone 202/256 and
//     20/256 at first contact; with the model 226/256 and 15/256 (a second
//     look: two other model designs were measured on it first).
//   - blind3, written while the model of the second session of
//     2026-12-05 was trained, measured once when it was final: lists alone
//     203/240 and 16/240, with that model 216/240 (90.0%) and 10/240
//     (4.2%).
//   - With the model of the third session (text only, thresholds
//     searched): blind 195/200 and 15/200, blind2 255/256 and 10/256,
//     blind3 237/240 and 12/240; blind4 240/240 and 13/240; blind5 240/240
//     and 10/240.
var blindFloors = []struct {
	name             string
	minFound, alarms int
}{
	{"blind", 195, 15},
	{"blind2", 255, 10},
	{"blind3", 237, 12},
	{"blind4", 240, 13},
	{"blind5", 240, 10},
}

// TestNewBlindCorpora: blind4 and blind5 clear the bar in every
// language. blind4 was written apart while the model of the third session
// of 2026-12-05 was designed, blind5 once it was final, from another brief
// (see their READMEs); each was measured once when the model was final:
//   - blind4: lists alone 202/240 (84.2%) found and 16/240 (6.7%) false
//     alarms; with the model 240/240 and 13/240 (5.4%), no language over 3
//     of 30;
//   - blind5: lists alone 196/240 (81.7%) and 3/240 (1.2%); with the model
//     240/240 and 10/240 (4.2%), no language over 3 of 30.
func TestNewBlindCorpora(t *testing.T) {
	for _, name := range []string{"blind4", "blind5"} {
		t.Run(name, func(t *testing.T) { checkCorpus(t, name) })
	}
}

// TestBlindCorporaNoWorse: the figures on the blind corpora, per language
// in the log, are no worse than when they were measured.
func TestBlindCorporaNoWorse(t *testing.T) {
	for _, f := range blindFloors {
		r, ok := corpora[f.name]
		if !ok || r.err != nil {
			t.Fatalf("corpus %s does not load: %v", f.name, r.err)
		}
		t.Log("\n" + r.table(f.name))
		if r.total.found < f.minFound || r.total.alarms > f.alarms {
			t.Errorf("%s worse than measured: %v (floors: %d found, at most %d false alarms)",
				f.name, r.total, f.minFound, f.alarms)
		}
	}
}
