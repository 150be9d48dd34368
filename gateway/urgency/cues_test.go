package urgency

import (
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"golang.org/x/text/language"
)

// agree fails t unless the compact matcher and the reference one give text
// the same answer and the same cues, in the same order.
func agree(t testing.TB, m *Matcher, ref *refMatcher, text string) {
	t.Helper()
	got, ok := m.Match(text)
	want, wantOK := ref.Match(text)
	if got != want || ok != wantOK {
		t.Fatalf("%q: Match = %v %q %v %v, reference %v %q %v %v", text, ok, got.Phrase, got.Lang, got.Class,
			wantOK, want.Phrase, want.Lang, want.Class)
	}
	if all, wantAll := m.All(text), ref.All(text); !slices.Equal(all, wantAll) {
		t.Fatalf("%q: All = %v, reference %v", text, cueList(all), cueList(wantAll))
	}
}

// corpusTexts are the messages of every corpus, and each phrase of the
// lists written out (groups taken in turn, "..." as one word) in a
// sentence, as is and in upper case.
func corpusTexts(t testing.TB) []string {
	var texts []string
	files, _ := filepath.Glob(filepath.Join("testdata", "*", "*.tsv"))
	if len(files) < 40 {
		t.Fatalf("only %d corpus files", len(files))
	}
	for _, f := range files {
		msgs, err := readCorpus(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, msg := range msgs {
			texts = append(texts, msg.text)
		}
	}
	def, err := DefaultPhrases()
	if err != nil {
		t.Fatal(err)
	}
	for tag, list := range def {
		for i, s := range list {
			ps, err := parsePhrase(s, tag, builtin)
			if err != nil {
				t.Fatal(err)
			}
			p := ps[i%len(ps)]
			text := strings.ReplaceAll(strings.TrimLeft(p.text, "=!"), "...", " x ")
			texts = append(texts, text, "so "+text+" ok", strings.ToUpper(text)+"!!")
		}
	}
	return texts
}

// TestCompactAgrees: the compact matcher finds what the one it replaced
// finds, on every corpus message, every phrase of the lists, two messages
// run together, and with configured phrases.
func TestCompactAgrees(t *testing.T) {
	for _, opt := range []Options{{}, {Extra: map[language.Tag][]string{
		language.Malay:   {"[confinement] kurungan", "tolong (kami|saya) ... segera", "!bukan kurungan"},
		language.Burmese: {"ကယ်ပါ", "🆘🆘"},
		language.Und:     {"=mayday", "[weapon] (gun|pistol)", "[safe] all (good|fine)"},
	}}} {
		m := mustMatcher(t, opt)
		ref, err := newRef(opt)
		if err != nil {
			t.Fatal(err)
		}
		if m.Len() != ref.nPhrases {
			t.Fatalf("Len = %d, reference %d", m.Len(), ref.nPhrases)
		}
		texts := corpusTexts(t)
		for i, text := range texts {
			agree(t, m, ref, text)
			agree(t, m, ref, text+" "+texts[(i*7919)%len(texts)])
		}
		agree(t, m, ref, "mayday")
		agree(t, m, ref, "tolong kami di sini segera, kurungan")
	}
}

// FuzzCompactAgrees: on any text the compact matcher and the reference one
// agree.
func FuzzCompactAgrees(f *testing.F) {
	for _, s := range []string{"help us we are locked in", "tolong-menolong", "bắn em", "bạn em", "现在已经很安全",
		"ช่วยด้วยยยยค่ะ", "I was locked in years ago, safe now", "they took my passport and dont pay us", "🆘", "\xff",
		"locked in call 081 555 1234", "ขังอยู่ โทร 089-555-7788 5555555", "99/５５５ room 555,"} {
		f.Add(s)
	}
	msgs, err := readCorpus(filepath.Join("testdata", "dev", "vi.tsv"))
	if err != nil {
		f.Fatal(err)
	}
	for _, msg := range msgs {
		f.Add(msg.text)
	}
	m := mustMatcher(f, Options{})
	ref, err := newRef(Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, text string) { agree(t, m, ref, text) })
}

// heapOf returns the bytes of heap in use that build's result holds.
func heapOf(t testing.TB, build func() any) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	v := build()
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(v)
	if after.HeapInuse < before.HeapInuse {
		t.Fatal("heap shrank while building")
	}
	return after.HeapInuse - before.HeapInuse
}

// TestMatcherHeap: the built-in lists take at most a quarter of the heap the
// matcher of strings and slices took (issue 16: peak RSS under load).
func TestMatcherHeap(t *testing.T) {
	if testing.Short() || os.Getenv("GOGC") == "off" {
		t.Skip("measures the heap after a GC")
	}
	compact := heapOf(t, func() any { return mustMatcher(t, Options{}) })
	ref := heapOf(t, func() any {
		m, err := newRef(Options{})
		if err != nil {
			t.Fatal(err)
		}
		return m
	})
	t.Logf("heap in use after building the matcher (HeapInuse): %.1f MB, the matcher it replaced %.1f MB (%.1fx)",
		float64(compact)/1e6, float64(ref)/1e6, float64(ref)/float64(compact))
	if compact*4 > ref {
		t.Errorf("the matcher holds %d bytes, more than a quarter of %d", compact, ref)
	}
}

// TestVariant: the k-th phrase a phrase of the lists expands to is made
// again as parsePhrase made it.
func TestVariant(t *testing.T) {
	def, err := DefaultPhrases()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for tag, list := range def {
		for _, s := range list {
			ps, err := parsePhrase(s, tag, builtin)
			if err != nil {
				t.Fatal(err)
			}
			_, _, _, body, _ := header(s)
			for k, p := range ps {
				if got := variant(body, k); got != p.text {
					t.Fatalf("%q: variant %d = %q, want %q", s, k, got, p.text)
				}
				n++
			}
		}
	}
	if n < 10000 {
		t.Fatalf("only %d phrases", n)
	}
}

// FuzzVariant: variant makes each phrase expand makes, of any phrase.
func FuzzVariant(f *testing.F) {
	for _, s := range []string{"(a|b) c (d|e|)", "x\u3000(y| z\u00a0)", "(|the )police", "a\xff(b|\xfe c)", "( | )"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		vs, err := expand(body, maxVariants)
		if err != nil {
			return
		}
		for k, v := range vs {
			if got, want := variant(body, k), strings.Join(strings.Fields(v), " "); got != want {
				t.Fatalf("variant(%q, %d) = %q, want %q", body, k, got, want)
			}
		}
	})
}

// BenchmarkMatchReference is BenchmarkMatch with the matcher the compact
// one replaced, to compare them in one run.
func BenchmarkMatchReference(b *testing.B) {
	ref, err := newRef(Options{})
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range benchTexts {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				ref.Match(c.text)
			}
		})
	}
}

// BenchmarkNew reports the heap the built matcher holds (HeapInuse after a
// GC, as TestMatcherHeap measures it).
func BenchmarkNew(b *testing.B) {
	var m *Matcher
	for b.Loop() {
		m = mustMatcher(b, Options{})
	}
	b.ReportMetric(float64(heapOf(b, func() any { return mustMatcher(b, Options{}) })), "heap-bytes")
	runtime.KeepAlive(m)
}
