package reply

import (
	"strings"
	"testing"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		text string
		want Kind
	}{
		// Twilio's opt-out keywords, in any case, trimmed.
		{"STOP", OptOut}, {"stop", OptOut}, {" Stop. ", OptOut}, {"STOPALL", OptOut}, {"unsubscribe", OptOut},
		{"Cancel", OptOut}, {"END", OptOut}, {"quit!", OptOut}, {"REVOKE", OptOut}, {"optout", OptOut},
		{"ＳＴＯＰ", OptOut}, {"stop\u200b", OptOut}, {"\tSTOP\n", OptOut}, {"stop 🙏", OptOut},
		// Opt-in and help.
		{"START", OptIn}, {"unstop", OptIn}, {"Yes", OptIn}, {"yes!", OptIn},
		{"HELP", Help}, {"help!!!", Help}, {"info", Help},
		// Exit words in every language, with and without accents.
		{"EXIT", Exit}, {"exit", Exit}, {"SALIR", Exit}, {"salir.", Exit}, {"SALÍR", Exit},
		{"KELUAR", Exit}, {"keluar", Exit}, {"退出", Exit}, {"退出。", Exit}, {"ออก", Exit},
		{"THOÁT", Exit}, {"thoát", Exit}, {"thoat", Exit}, {"THOAT!", Exit}, {"LABAS", Exit}, {"labas", Exit},
		// Anything more is a report.
		{"STOP hitting us", Normal}, {"please stop", Normal}, {"stop stop", Normal}, {"STOP ALL", Normal},
		{"help us", Normal}, {"yes we are locked in", Normal}, {"exit is locked", Normal},
		{"keluar tak boleh", Normal}, {"我想退出这里", Normal}, {"ออกไม่ได้", Normal}, {"stopp", Normal},
		{"s t o p", Normal}, {"", Normal}, {"   ", Normal}, {"!!!", Normal}, {"🙏", Normal},
		{"ayuda", Normal}, {"tolong", Normal}, {strings.Repeat("stop ", 100), Normal},
		{strings.Repeat("x", 10000), Normal}, {"\xff", Normal},
	}
	for _, tt := range tests {
		if got := Classify(tt.text); got != tt.want {
			t.Errorf("Classify(%q) = %v, want %v", tt.text, got, tt.want)
		}
	}
}

func TestNewClassifier(t *testing.T) {
	c, err := NewClassifier([]string{"BASTA", "selesai", "  Fin  "})
	if err != nil {
		t.Fatal(err)
	}
	for text, want := range map[string]Kind{"basta": Exit, "SELESAI": Exit, "fin": Exit, "EXIT": Exit, "STOP": OptOut, "hola": Normal} {
		if got := c.Classify(text); got != want {
			t.Errorf("Classify(%q) = %v, want %v", text, got, want)
		}
	}
	// The default classifier does not learn the operator's words.
	if got := Classify("basta"); got != Normal {
		t.Errorf("Classify(basta) = %v", got)
	}
	for _, bad := range [][]string{{"STOP"}, {"yes"}, {"info"}, {""}, {"!!"}, {strings.Repeat("a", 33)}} {
		if _, err := NewClassifier(bad); err == nil {
			t.Errorf("NewClassifier(%q) accepted", bad)
		} else if strings.Contains(err.Error(), bad[0]) && bad[0] != "" {
			t.Errorf("error %q quotes the word", err)
		}
	}
}

func TestKind(t *testing.T) {
	for k, want := range map[Kind]bool{Normal: true, Exit: false, OptOut: false, OptIn: false, Help: false} {
		if k.Acknowledged() != want {
			t.Errorf("%v.Acknowledged() = %v", k, !want)
		}
		if k.String() == "" || strings.HasPrefix(k.String(), "Kind(") {
			t.Errorf("%d has no name", k)
		}
	}
	if Kind(42).String() != "Kind(42)" {
		t.Error(Kind(42).String())
	}
}

// TestExitWordsAreNotTwilioKeywords: an exit word Twilio acted on would
// never reach the gateway, and the lists must not overlap.
func TestExitWordsAreNotTwilioKeywords(t *testing.T) {
	twilio := map[string]bool{}
	for _, l := range [][]string{OptOutWords, OptInWords, HelpWords} {
		for _, w := range l {
			twilio[foldWord(w)] = true
		}
	}
	for tag, ws := range ExitWords() {
		if len(ws) == 0 {
			t.Errorf("%v has no exit word", tag)
		}
		for _, w := range ws {
			if twilio[foldWord(w)] {
				t.Errorf("exit word %q of %v is a Twilio keyword", w, tag)
			}
		}
	}
}

// TestFoldsToLetter: every rune that lettersOver counts folds to at
// least one letter or digit, which its shortcut needs; and a text just
// over the bound of letters is a report whichever way it is decided.
func TestFoldsToLetter(t *testing.T) {
	n := 0
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if !foldsToLetter(r) {
			continue
		}
		n++
		if !strings.ContainsFunc(norm.NFKD.String(string(r)), func(c rune) bool {
			return (unicode.IsLetter(c) || unicode.IsDigit(c)) && !unicode.Is(unicode.Mn, c) && !unicode.Is(unicode.Cf, c)
		}) {
			t.Errorf("%U %q folds to no letter or digit: %q", r, r, norm.NFKD.String(string(r)))
		}
	}
	if n < 20000 {
		t.Fatalf("%d runes counted", n)
	}
	for _, text := range []string{strings.Repeat("ệ", maxKeyword), strings.Repeat("ออ", maxKeyword/2), strings.Repeat("退出", maxKeyword/2), strings.Repeat("s", maxKeyword), strings.Repeat("é", maxKeyword)} {
		if lettersOver(text, maxKeyword) {
			t.Errorf("%q: over %d letters", text, maxKeyword)
		}
		if over := text + "x"; !lettersOver(over, maxKeyword) || len(foldWord(over)) <= maxKeyword || Classify(over) != Normal {
			t.Errorf("%q: not over %d letters, or folds to %d bytes", over, maxKeyword, len(foldWord(over)))
		}
	}
	// Full-width letters are not counted: the fold decides.
	if wide := strings.Repeat("ＳＴＯＰ ", maxKeyword/4) + "x"; lettersOver(wide, maxKeyword) || Classify(wide) != Normal {
		t.Errorf("%q: counted, or not a report", wide)
	}
}
