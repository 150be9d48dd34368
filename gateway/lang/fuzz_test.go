package lang

import (
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/language"
)

// FuzzDetect: any text and any sender give a configured language or Und,
// never a panic; the same input gives the same answer; confident answers name
// a language; a text of Han characters only is Chinese.
func FuzzDetect(f *testing.F) {
	for _, s := range []struct{ text, sender string }{
		{"tolong kami dikurung", "+60123456789"}, {"救命", ""}, {"ช่วยด้วย", "+66"},
		{"cứu chúng tôi", "whatsapp:+84 912"}, {"ayuda", "0051"}, {"", ""}, {"\xff\xfe", "+\xff"},
		{"ok", "+6591234567"}, {"c\u01b0\u0301u", ""}, {"ﾀｽｹﾃ", ""}, {"'’'", "whatsapp:"},
	} {
		f.Add(s.text, s.sender)
	}
	all, err := NewDetector(nil)
	if err != nil {
		f.Fatal(err)
	}
	some, err := NewDetector([]language.Tag{Malay, English})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, text, sender string) {
		for _, d := range []*Detector{all, some} {
			got, confident := d.Detect(text, sender)
			again, confident2 := d.Detect(text, sender)
			if got != again || confident != confident2 {
				t.Fatalf("not deterministic: %v %v then %v %v", got, confident, again, confident2)
			}
			if got == language.Und {
				if confident {
					t.Fatal("confident about nothing")
				}
				continue
			}
			ok := false
			for _, l := range d.Languages() {
				ok = ok || l == got
			}
			if !ok {
				t.Fatalf("%v is not configured (%v)", got, d.Languages())
			}
		}
		if utf8.ValidString(text) && text != "" && len(text) < maxScan && onlyHan(text) {
			if got, confident := all.Detect(text, sender); got != Chinese || !confident {
				t.Fatalf("Han text gave %v, %v", got, confident)
			}
		}
	})
}

func onlyHan(s string) bool {
	for _, r := range s {
		if !unicode.Is(unicode.Han, r) {
			return false
		}
	}
	return true
}
