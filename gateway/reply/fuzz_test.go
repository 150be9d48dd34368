package reply

import (
	"strings"
	"testing"
	"unicode"
)

// FuzzClassify: any text classifies without a panic, the same way twice;
// a keyword stays a keyword whatever the case and the punctuation around it;
// a message with a letter or digit beyond a keyword is a report.
func FuzzClassify(f *testing.F) {
	for _, s := range []string{"STOP", "stop.", "thoát", "退出", "ออก", "stop me", "", "\xff", "ＳＴＯＰ", "s\u0301top", "EXIT 🙏", " \u200b"} {
		f.Add(s)
	}
	words := map[string]Kind{}
	for w, k := range defaultClassifier.words {
		words[w] = k
	}
	f.Fuzz(func(t *testing.T, text string) {
		k := Classify(text)
		if k != Classify(text) {
			t.Fatal("not deterministic")
		}
		if k < Normal || k > Help {
			t.Fatalf("kind %d", k)
		}
		if k != Normal {
			if _, ok := words[foldWord(text)]; !ok {
				t.Fatalf("%q classified %v but folds to %q", text, k, foldWord(text))
			}
		}
		// Decorating a keyword with punctuation, symbols and spaces keeps
		// its kind.
		if len(text) > 8 || strings.ContainsFunc(text, func(r rune) bool {
			return !(unicode.IsPunct(r) || unicode.IsSymbol(r) || unicode.IsSpace(r)) || foldWord(string(r)) != ""
		}) {
			return
		}
		for w, want := range words {
			if got := Classify(text + strings.ToUpper(w) + text); got != want {
				t.Fatalf("Classify(%q) = %v, want %v", text+strings.ToUpper(w)+text, got, want)
			}
		}
	})
}
