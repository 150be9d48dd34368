package lang

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"testing"

	"golang.org/x/text/language"
)

type sample struct {
	want   language.Tag
	sender string
	text   string
	line   int
}

// eachLine calls f with each line of a testdata file that is neither empty
// nor a # comment, and its number.
func eachLine(t testing.TB, path string, f func(n int, line string)) {
	t.Helper()
	file, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	sc := bufio.NewScanner(file)
	for n := 1; sc.Scan(); n++ {
		if line := sc.Text(); line != "" && line[0] != '#' {
			f(n, line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func readSamples(t testing.TB, path string) []sample {
	t.Helper()
	var out []sample
	eachLine(t, path, func(n int, line string) {
		p := strings.SplitN(line, " ", 3)
		if len(p) != 3 {
			t.Fatalf("%s:%d: want LANGUAGE SENDER TEXT", path, n)
		}
		tag := language.MustParse(p[0])
		if p[1] == "-" {
			p[1] = ""
		}
		out = append(out, sample{want: tag, sender: p[1], text: p[2], line: n})
	})
	return out
}

// accuracy runs the detector over a corpus, with and without the senders'
// numbers, and returns the per-language table.
func accuracy(t testing.TB, d *Detector, path string, verbose bool) (rows map[language.Tag][3]int, total [3]int) {
	rows = map[language.Tag][3]int{}
	for _, s := range readSamples(t, path) {
		got, _ := d.Detect(s.text, s.sender)
		textOnly, _ := d.Detect(s.text, "")
		r := rows[s.want]
		r[0]++
		total[0]++
		if textOnly == s.want {
			r[1]++
			total[1]++
		}
		if got == s.want {
			r[2]++
			total[2]++
		} else if verbose {
			res := d.detect(s.text, s.sender)
			t.Logf("%s:%d want %v got %v (%s) %v %q", path, s.line, s.want, got, res.by, fmtScores(res.scores), s.text)
		}
		rows[s.want] = r
	}
	return rows, total
}

func fmtScores(s [numLangs]float64) string {
	var b strings.Builder
	for l, v := range s {
		if v > 0 {
			fmt.Fprintf(&b, "%s=%.2f ", tags[l], v)
		}
	}
	return b.String()
}

// TestAccuracy measures the detector on short messages in the style of the
// hotline's reporters (testdata/dev.txt, testdata/heldout.txt). Run with -v
// for the table. The thresholds are below the measured figures so that a
// change to the word lists that loses accuracy fails.
func TestAccuracy(t *testing.T) {
	d, err := NewDetector(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		file        string
		minOverall  float64
		minLanguage float64
	}{
		{"testdata/dev.txt", 0.95, 0.85},
		{"testdata/heldout.txt", 0.95, 0.80},
		{"testdata/hard.txt", 0.85, 0.60},
	} {
		rows, total := accuracy(t, d, c.file, testing.Verbose())
		t.Logf("%s: language  n  text-only  with-number", c.file)
		for _, l := range tags {
			r := rows[l]
			t.Logf("  %-8s %3d  %3d (%3.0f%%)  %3d (%3.0f%%)", l, r[0], r[1], pct(r[1], r[0]), r[2], pct(r[2], r[0]))
			if pct(r[2], r[0]) < 100*c.minLanguage {
				t.Errorf("%s: %v accuracy %.0f%% under %.0f%%", c.file, l, pct(r[2], r[0]), 100*c.minLanguage)
			}
		}
		t.Logf("  %-8s %3d  %3d (%3.0f%%)  %3d (%3.0f%%)", "all", total[0], total[1], pct(total[1], total[0]), total[2], pct(total[2], total[0]))
		if pct(total[2], total[0]) < 100*c.minOverall {
			t.Errorf("%s: accuracy %.0f%% under %.0f%%", c.file, pct(total[2], total[0]), 100*c.minOverall)
		}
	}
}

func pct(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return 100 * float64(a) / float64(b)
}
