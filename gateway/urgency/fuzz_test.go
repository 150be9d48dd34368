package urgency

import (
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// FuzzMatch: any text is searched without a panic, the same way twice; an
// urgent text has cues and its Match names phrases found, after
// modelPhrase if the model decided; only the model makes a text with no cue
// urgent; and for plain ASCII, case and extra punctuation
// between words change nothing.
func FuzzMatch(f *testing.F) {
	for _, s := range []string{
		"help us we are locked in", "tolong kami", "Tolong!!", "tolong-menolong", "救命", "ช่วย ด้วย",
		"cuu toi voi", "nghiên cứu", "took all of my passport", "🆘", "", "\xff\xfe", "... ...", "=", "!tolong",
		"อยู่ใกล้ทางด่วน ด่วน", "they took my passport and dont pay us", "I was locked in years ago, safe now",
		"现在已经很安全", "HELPPPP", "bạn em", "bắn em", "AYÚDENME x favor", "ช่วยด้วยยยยค่ะ",
		"nó khoá cửa", "quý", "khoẻ", "o\u0301a", "uý", "oá\xff",
		"locked in call 081 555 1234", "locked in 555", "12/555 - 5555555, 1.555", "ขังอยู่ โทร 089 555 7788",
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
		byModel := strings.HasPrefix(got.Phrase, modelPhrase)
		if ok && len(all) == 0 && !byModel {
			t.Fatalf("urgent with no cue: %q", got.Phrase)
		}
		if ok {
			found := strings.Split(got.Phrase, " + ")
			if byModel {
				found = found[1:] // the cues the model had beside the text, if any
			}
			for _, p := range found {
				if !containsPhrase(all, p) {
					t.Fatalf("Match = %q, not among the cues %v", got.Phrase, phrases(all))
				}
			}
		}
		if !ok && got != (Match{}) {
			t.Fatal("not urgent, but a match")
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

// FuzzToneFirst: moving a Vietnamese tone to the first vowel keeps the word
// the same when folded, once done changes nothing more, and never makes
// invalid UTF-8 of valid.
func FuzzToneFirst(f *testing.F) {
	for _, s := range []string{"khoá", "khóa", "hoà", "thuỷ", "quý", "hoàng", "á", "oá", "uý", "qú", "o\u0301", "\xffá", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, w string) {
		if !utf8.ValidString(w) {
			return
		}
		w = strings.ToLower(norm.NFC.String(w))
		got := toneFirst(w)
		if !utf8.ValidString(got) {
			t.Fatalf("toneFirst(%q) = %q, not UTF-8", w, got)
		}
		if foldLatin(got) != foldLatin(w) {
			t.Fatalf("toneFirst(%q) = %q folds to %q, not %q", w, got, foldLatin(got), foldLatin(w))
		}
		if again := toneFirst(got); again != got {
			t.Fatalf("toneFirst(%q) = %q, then %q", w, got, again)
		}
	})
}
