package urgency

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzMatch: any text is searched without a panic, the same way twice; Match
// agrees with All; and for plain ASCII, case and extra punctuation between
// words change nothing.
func FuzzMatch(f *testing.F) {
	for _, s := range []string{
		"help us we are locked in", "tolong kami", "Tolong!!", "tolong-menolong", "救命", "ช่วย ด้วย",
		"cuu toi voi", "nghiên cứu", "took all of my passport", "🆘", "", "\xff\xfe", "... ...", "=", "!tolong",
		"อยู่ใกล้ทางด่วน ด่วน",
	} {
		f.Add(s)
	}
	m, err := New(Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, text string) {
		got, ok := m.Match(text)
		all := m.All(text)
		if ok != (len(all) > 0) {
			t.Fatalf("Match ok=%v but All has %d", ok, len(all))
		}
		if ok && (all[0] != got || got.Phrase == "") {
			t.Fatalf("Match = %q, All[0] = %q", got.Phrase, all[0].Phrase)
		}
		if again, ok2 := m.Match(text); again != got || ok2 != ok {
			t.Fatal("not deterministic")
		}
		if !isPrintableASCII(text) {
			return
		}
		if _, okUp := m.Match(strings.ToUpper(text)); okUp != ok {
			t.Fatalf("upper case changes the answer: %v vs %v", ok, okUp)
		}
		spaced := strings.ReplaceAll(text, " ", " , ")
		if _, okP := m.Match(spaced); okP != ok && !strings.ContainsAny(text, "'") {
			t.Fatalf("punctuation between words changes the answer: %q %v vs %q %v", text, ok, spaced, okP)
		}
	})
}

func isPrintableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
