package urgency

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"golang.org/x/text/language"
)

func mustMatcher(t testing.TB, opt Options) *Matcher {
	t.Helper()
	m, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestMatch(t *testing.T) {
	m := mustMatcher(t, Options{})
	tests := []struct {
		lang   string
		text   string
		phrase string // "" when the text must not be urgent
	}{
		// English
		{"en", "help us we are locked in the house", "help us"},
		{"en", "We're LOCKED IN!!", "locked in"},
		{"en", "they took our passports and wont give back", "took ... passports"},
		{"en", "the agent took my passport", "took ... passport"},
		{"en", "we escaped last night", "we escaped"},
		{"en", "Boss beat us yesterday", "beat us"},
		{"en", "there are children working at night", "children"},
		{"en", "they can't let us... we cant leave", "cant leave"},
		{"en", "we can’t leave the farm", "cant leave"},
		{"en", "HELP", "help"},
		{"en", "help!!!", "help"},
		{"en", "SOS", "sos"},
		{"en", "s.o.s", "s o s"},
		{"en", "🆘🆘", "🆘"},
		{"en", "the guard has a gun", "gun"},
		{"en", "my sister works in a nail salon, no pay", ""},
		{"en", "the door is unlocked inside", ""},
		{"en", "can you help with my visa question", ""},
		{"en", "ok thank you", ""},
		{"en", "he helped us find work", ""},
		{"en", "childcare centre", ""},
		{"en", "I passed the passport office", ""},
		// Spanish
		{"es", "ayuda nos tienen encerrados", "ayuda"},
		{"es", "AYÚDENME x favor", "ayudenme"},
		{"es", "nos tienen encerrados en la chacra", "encerrados"},
		{"es", "nos quitaron los pasaportes", "quitaron ... pasaportes"},
		{"es", "no nos dejan salir de la casa", "no nos dejan salir"},
		{"es", "hay niñas trabajando en el bar", "niñas"},
		{"es", "hay ninas trabajando en el bar", "niñas"},
		{"es", "me escapé anoche", "me escape"},
		{"es", "el patrón nos pega", "nos pega"},
		{"es", "quiero denunciar a mi empleador", ""},
		{"es", "el ayudante de cocina no cobra", ""},
		{"es", "trabajo en un taller de costura", ""},
		{"es", "gracias", ""},
		// Malay
		{"ms", "tolong kami dikurung dalam rumah ni", "tolong kami"},
		{"ms", "Tolong!!", "tolong"},
		{"ms", "tolong tolong", "tolong tolong"},
		{"ms", "majikan ambil pasport saya", "ambil pasport"},
		{"ms", "kami kena pukul kalau lambat", "kena pukul"},
		{"ms", "kami tak boleh keluar, pintu berkunci", "tak boleh keluar"},
		{"ms", "ada budak-budak kerja kat kilang", "budak budak"},
		{"ms", "kanak-kanak pun ada", "kanak kanak"},
		{"ms", "tolong hantar dokumen esok", ""},
		{"ms", "semangat tolong-menolong kami kuat", ""},
		{"ms", "tolong menolong", ""},
		{"ms", "boleh tolong balas bila senang", ""},
		{"ms", "terima kasih", ""},
		{"ms", "kami dah keluar, sekarang selamat", ""},
		// Indonesian
		{"id", "kami disekap di rumah ini", "disekap"},
		{"id", "tolong saya tidak bisa keluar", "tolong saya"},
		{"id", "paspor kami ditahan agen", ""}, // "ditahan" alone is "held": see next
		{"id", "paspor ditahan majikan", "paspor ditahan"},
		{"id", "saya dipukuli majikan tiap hari", "dipukuli"},
		{"id", "kami kabur semalam", "kami kabur"},
		{"id", "ada anak-anak kerja di pabrik itu", "anak anak"},
		{"id", "tolongin dong", "tolongin"},
		{"id", "tolong kirim alamatnya", ""},
		{"id", "fotonya kabur", ""},
		{"id", "gaji belum dibayar", ""},
		// Filipino
		{"fil", "tulungan niyo po kami", "tulungan"},
		{"fil", "tulong po nakakulong kami", "tulong"},
		{"fil", "kinuha ng amo ko ang passport ko", "kinuha ... passport"},
		{"fil", "hindi kami pinapalabas ng bahay", "hindi ... pinapalabas"},
		{"fil", "binubugbog po kami", "binubugbog"},
		{"fil", "may mga bata dito", "mga bata"},
		{"fil", "parang wala pa sahod", ""},
		{"fil", "salamat po", ""},
		{"fil", "sige po hihintayin ko", ""},
		// Chinese
		{"zh", "救命 我们被关起来了", "救命"},
		{"zh", "救 命", "救命"},
		{"zh", "他们把我们的护照收走了", ""}, // 收走了护照 is listed, not this order: see next
		{"zh", "护照被老板扣了", "护照被"},
		{"zh", "護照被老闆扣了", "護照被"},
		{"zh", "有小孩在工厂里干活", "小孩"},
		{"zh", "我逃出来了", "逃出来"},
		{"zh", "他们打我", "打我"},
		{"zh", "谢谢", ""},
		{"zh", "你们什么时候到", ""},
		{"zh", "我在菜市场买菜", ""},
		// Thai
		{"th", "ช่วยด้วย", "ช่วยด้วย"},
		{"th", "ช่วย ด้วย", "ช่วยด้วย"},
		{"th", "พวกเราถูกขังอยู่ในบ้าน", "ถูกขัง"},
		{"th", "นายจ้างยึดพาสปอร์ตไป", "ยึดพาสปอร์ต"},
		{"th", "มีเด็กทำงานในโรงงาน", "เด็ก"},
		{"th", "ด่วนมาก", "ด่วน"},
		{"th", "อยู่ใกล้ทางด่วน", ""},
		{"th", "ช่วยส่งที่อยู่ให้หน่อย", ""},
		{"th", "ขอบคุณค่ะ", ""},
		// Vietnamese
		{"vi", "cứu chúng tôi", "cứu chúng tôi"},
		{"vi", "cuu toi voi", "cứu tôi"},
		{"vi", "CỨU!!!", "cứu"},
		{"vi", "chúng tôi bị nhốt trong nhà", "bị nhốt"},
		{"vi", "họ giữ hộ chiếu của chúng tôi", "giữ hộ chiếu"},
		{"vi", "có trẻ em làm việc trong xưởng", "trẻ em"},
		{"vi", "ho danh chung toi moi ngay", "đánh chúng tôi"},
		{"vi", "tôi làm nghiên cứu", ""},
		{"vi", "nghiên cứu chúng tôi", ""},
		{"vi", "dạo này em khỏe", ""},
		{"vi", "bổ sung giấy tờ", ""},
		{"vi", "cảm ơn", ""},
	}
	for _, tt := range tests {
		t.Run(tt.lang+"/"+tt.text, func(t *testing.T) {
			got, ok := m.Match(tt.text)
			if tt.phrase == "" {
				if ok {
					t.Fatalf("Match(%q) = %q (%v), want no match", tt.text, got.Phrase, got.Lang)
				}
				return
			}
			if !ok {
				t.Fatalf("Match(%q): no match, want %q", tt.text, tt.phrase)
			}
			if got.Phrase != tt.phrase && !containsPhrase(m.All(tt.text), tt.phrase) {
				t.Fatalf("Match(%q) = %q, want %q (all: %v)", tt.text, got.Phrase, tt.phrase, phrases(m.All(tt.text)))
			}
		})
	}
}

func containsPhrase(ms []Match, p string) bool {
	for _, m := range ms {
		if m.Phrase == p {
			return true
		}
	}
	return false
}

func phrases(ms []Match) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Phrase)
	}
	return out
}

func TestMatchLanguageAndAll(t *testing.T) {
	m := mustMatcher(t, Options{})
	got, ok := m.Match("tulungan niyo po kami")
	if !ok || got.Lang != language.Filipino {
		t.Fatalf("Match = %v %v, %v", got.Phrase, got.Lang, ok)
	}
	all := m.All("help us, they beat us and took our passports 救命")
	want := []string{"help us", "beat us", "took ... passports", "救命"}
	if fmt.Sprint(phrases(all)) != fmt.Sprint(want) {
		t.Errorf("All = %v, want %v", phrases(all), want)
	}
	if len(m.All("nothing here")) != 0 {
		t.Error("All found something in nothing")
	}
}

func TestGap(t *testing.T) {
	m := mustMatcher(t, Options{NoDefaults: true, Extra: map[language.Tag][]string{language.English: {"took ... passport"}}})
	for text, want := range map[string]bool{
		"took passport":                      true,
		"took my passport":                   true,
		"took all of my passport":            true,
		"took all of their own my passport":  false, // five words between
		"passport took":                      false,
		"they took it. Passport office open": true, // punctuation does not stop a gap
	} {
		if _, ok := m.Match(text); ok != want {
			t.Errorf("Match(%q) = %v, want %v", text, ok, want)
		}
	}
}

func TestExtraPhrases(t *testing.T) {
	burmese := language.MustParse("my")
	m := mustMatcher(t, Options{Extra: map[language.Tag][]string{
		language.Spanish: {"trata de personas", "=auxilio auxilio"},
		burmese:          {"ကယ်ပါ"},
		language.English: {"!help us find", "help us"},
	}})
	tests := map[string]string{
		"es trata de personas aquí":  "trata de personas",
		"ကယ်ပါ ကယ်ပါ":                "ကယ်ပါ",
		"please help us":             "help us",
		"can you help us find a job": "",
	}
	for text, want := range tests {
		got, ok := m.Match(text)
		if (want == "") == ok || (ok && !containsPhrase(m.All(text), want)) {
			t.Errorf("Match(%q) = %q, %v; want %q", text, got.Phrase, ok, want)
		}
	}
	if got, _ := m.Match("ကယ်ပါ"); got.Lang != burmese {
		t.Errorf("lang %v", got.Lang)
	}
	only := mustMatcher(t, Options{NoDefaults: true, Extra: map[language.Tag][]string{language.English: {"red code"}}})
	if _, ok := only.Match("help us"); ok {
		t.Error("NoDefaults still has the defaults")
	}
	if _, ok := only.Match("RED-CODE"); !ok {
		t.Error("extra phrase not matched")
	}
}

func TestBadPhrases(t *testing.T) {
	tests := []struct {
		phrase string
		want   error
	}{
		{"", ErrEmptyPhrase},
		{"  ", ErrEmptyPhrase},
		{"!!!", ErrEmptyPhrase},
		{"=", ErrEmptyPhrase},
		{"... passport", ErrBadGap},
		{"took ...", ErrBadGap},
		{"took ... ... passport", ErrBadGap},
		{"救 ... 命", ErrBadGap},
		{"=took ... passport", ErrBadGap},
		{strings.Repeat("a", MaxPhrase+1), ErrLongPhrase},
	}
	for _, tt := range tests {
		if err := ValidatePhrase(tt.phrase); !errors.Is(err, tt.want) {
			t.Errorf("ValidatePhrase(%q) = %v, want %v", tt.phrase, err, tt.want)
		}
	}
	_, err := New(Options{Extra: map[language.Tag][]string{language.Malay: {"ok phrase", "", "... x"}}})
	if err == nil || !strings.Contains(err.Error(), "phrase 2 of ms") || !strings.Contains(err.Error(), "phrase 3 of ms") {
		t.Errorf("New: %v", err)
	}
}

// TestDefaultLists: every built-in phrase parses, every language has a list,
// and no phrase is matched by a plain everyday message in any language.
func TestDefaultLists(t *testing.T) {
	def, err := DefaultPhrases()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{"en", "es", "ms", "id", "zh-Hans", "fil", "th", "vi", "und"} {
		if len(def[language.MustParse(l)]) == 0 {
			t.Errorf("no phrases for %s", l)
		}
	}
	m := mustMatcher(t, Options{})
	if m.Len() < 400 {
		t.Errorf("only %d phrases", m.Len())
	}
	for _, everyday := range []string{
		"hello, what time do you open?", "terima kasih banyak", "gracias por todo", "salamat po sa inyo",
		"谢谢你们的帮助", "ขอบคุณมากค่ะ", "cảm ơn anh nhiều", "ok", "123", "", "😀",
		"saya mau tanya soal visa", "¿cuánto cuesta el pasaje?", "magandang umaga po",
	} {
		if got, ok := m.Match(everyday); ok {
			t.Errorf("Match(%q) = %q", everyday, got.Phrase)
		}
	}
}

func TestMatchIsRedacted(t *testing.T) {
	m := mustMatcher(t, Options{})
	got, ok := m.Match("we escaped")
	if !ok {
		t.Fatal("no match")
	}
	var b strings.Builder
	slog.New(slog.NewTextHandler(&b, nil)).Info("urgent", "match", got)
	if s := fmt.Sprintf("%v %s %+v", got, got, got) + b.String(); strings.Contains(s, "escaped") {
		t.Errorf("phrase printed: %s", s)
	}
}

func TestLongText(t *testing.T) {
	m := mustMatcher(t, Options{})
	text := strings.Repeat("nothing to see here ", MaxText/20+1) + "we escaped"
	if _, ok := m.Match(text); ok {
		t.Error("matched beyond MaxText")
	}
	if _, ok := m.Match("we escaped " + strings.Repeat("x", 2*MaxText)); !ok {
		t.Error("no match at the start of a long text")
	}
}

func BenchmarkMatch(b *testing.B) {
	m := mustMatcher(b, Options{})
	for _, c := range []struct{ name, text string }{
		{"none", "my sister works in a nail salon in the city and sends money home every month"},
		{"latin", "tolong kami dikurung dalam rumah ni"},
		{"thai", "พวกเราถูกขังอยู่ในบ้าน"},
		{"32KiB", strings.Repeat("the quick brown fox jumps over the lazy dog ", 32<<10/44)},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				m.Match(c.text)
			}
		})
	}
}
