package urgency

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
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

// matchCases are short messages with their priority, and a class of cue
// the lists must find in each. The model learns from them too (see
// tableExamples).
var matchCases = []struct {
	lang   string
	text   string
	urgent bool
	class  string // a class among the cues found; "" for none in particular
}{
	// English
	{"en", "help us we are locked in the house", true, "confinement"},
	{"en", "We're LOCKED IN!!", true, "confinement"},
	{"en", "they took our passports and wont give back", false, "documents"}, // a condition, no danger now
	{"en", "they took our passports and wont let us leave", true, "confinement"},
	{"en", "the agent took my passport, please help", true, "documents"},
	{"en", "we escaped last night", true, "escape"},
	{"en", "we escaped", false, "escape"},
	{"en", "Boss beat us yesterday", true, "violence"},
	{"en", "there are children working at night", true, "children"},
	{"en", "they can't let us... we cant leave", true, "confinement"},
	{"en", "we can’t leave the farm", true, "confinement"},
	{"en", "HELP", true, "help"},
	{"en", "help!!!", true, "help"},
	{"en", "HELPPPP", true, "help"},
	{"en", "SOS", true, "urgent"},
	{"en", "s.o.s", true, "urgent"},
	{"en", "🆘🆘", true, "urgent"},
	{"en", "the guard has a gun", true, "weapon"},
	{"en", "my sister works in a nail salon, no pay", false, "labour"},
	{"en", "the door is unlocked inside", false, ""},
	{"en", "can you help with my visa question", false, ""},
	{"en", "ok thank you", false, ""},
	{"en", "he helped us find work", false, ""},
	{"en", "childcare centre", false, ""},
	{"en", "I passed the passport office", false, ""},
	{"en", "he beat me 3 years ago, I am safe now and want to report him", false, "safe"},
	{"en", "he beat me 3 years ago and now he is back and hits me again", true, "violence"},
	{"en", "I have been locked in this house since last year", true, "confinement"},
	{"es", "estoy encerrada en esta casa desde el año pasado", true, "confinement"},
	{"ms", "sy dikurung dlm rumah ni sejak tahun lepas", true, "confinement"},
	{"id", "saya dikurung di rumah ini sejak tahun lalu", true, "confinement"},
	{"fil", "nakakulong ako dito mula pa 2 taon na ang nakalipas", true, "confinement"},
	{"vi", "em bị nhốt trong nhà này từ năm trước", true, "confinement"},
	{"th", "หนูถูกขังในบ้านนี้ตั้งแต่ปีที่แล้ว", true, "confinement"},
	{"zh", "我从去年开始就被关在这个房子里", true, "confinement"},
	{"en", "they say they will kill my family back home if I leave", true, "violence"},
	{"th", "นายจ้างไม่ให้กลับบ้านแล้ว", true, "confinement"},
	{"zh", "他们不让我回家了", true, "confinement"},
	// Spanish
	{"es", "ayuda nos tienen encerrados", true, "confinement"},
	{"es", "AYÚDENME x favor", true, "help"},
	{"es", "nos tienen encerrados en la chacra", true, "confinement"},
	{"es", "nos quitaron los pasaportes", false, "documents"},
	{"es", "nos quitaron los pasaportes y no nos pagan", true, "labour"},
	{"es", "no nos dejan salir de la casa", true, "confinement"},
	{"es", "hay niñas trabajando en el bar", true, "children"},
	{"es", "hay ninas trabajando en el bar", true, "children"},
	{"es", "me escapé anoche", true, "escape"},
	{"es", "el patrón nos pega", true, "violence"},
	{"es", "quiero denunciar a mi empleador", false, ""},
	{"es", "el ayudante de cocina no cobra", false, ""},
	{"es", "trabajo en un taller de costura", false, ""},
	{"es", "gracias", false, ""},
	// Malay
	{"ms", "tolong kami dikurung dalam rumah ni", true, "confinement"},
	{"ms", "Tolong!!", true, "help"},
	{"ms", "tolong tolong", true, "help"},
	{"ms", "majikan ambil pasport saya", false, "documents"},
	{"ms", "tolong kami, majikan ambil pasport saya", true, "help"},
	{"ms", "kami kena pukul kalau lambat", true, "violence"},
	{"ms", "kami tak boleh keluar, pintu berkunci", true, "confinement"},
	{"ms", "ada budak-budak kerja kat kilang", true, "children"},
	{"ms", "kanak-kanak pun ada", false, "children"},
	{"ms", "tolong hantar dokumen esok", false, ""},
	{"ms", "semangat tolong-menolong kami kuat", false, ""},
	{"ms", "tolong menolong", false, ""},
	{"ms", "boleh tolong balas bila senang", false, ""},
	{"ms", "terima kasih", false, ""},
	{"ms", "kami dah keluar, sekarang selamat", false, "safe"},
	// Indonesian
	{"id", "kami disekap di rumah ini", true, "confinement"},
	{"id", "tolong saya tidak bisa keluar", true, "confinement"},
	{"id", "paspor kami ditahan agen", false, "documents"},
	{"id", "paspor ditahan majikan dan gaji tidak dibayar", true, "labour"},
	{"id", "saya dipukuli majikan tiap hari", true, "violence"},
	{"id", "kami kabur semalam", true, "escape"},
	{"id", "ada anak-anak kerja di pabrik itu", true, "children"},
	{"id", "tolongin dong", true, "help"},
	{"id", "tolong kirim alamatnya", false, ""},
	{"id", "fotonya kabur", false, ""},
	{"id", "gaji belum dibayar", false, "labour"},
	// Filipino
	{"fil", "tulungan niyo po kami", true, "help"},
	{"fil", "tulong po nakakulong kami", true, "confinement"},
	{"fil", "kinuha ng amo ko ang passport ko", false, "documents"},
	{"fil", "kinuha ng amo ko ang passport ko at walang sahod", true, "labour"},
	{"fil", "hindi kami pinapalabas ng bahay", true, "confinement"},
	{"fil", "binubugbog po kami", true, "violence"},
	{"fil", "may mga bata dito", false, "children"},
	{"fil", "parang wala pa sahod", false, ""},
	{"fil", "salamat po", false, ""},
	{"fil", "sige po hihintayin ko", false, ""},
	// Chinese
	{"zh", "救命 我们被关起来了", true, "confinement"},
	{"zh", "救 命", true, "help"},
	{"zh", "他们把我们的护照收走了", false, "documents"},
	{"zh", "护照被老板扣了", false, "documents"},
	{"zh", "護照被老闆扣了 還不給工資", true, "labour"},
	{"zh", "有小孩在工厂里干活", true, "children"},
	{"zh", "我逃出来了 他们在找我", true, "escape"},
	{"zh", "他们打我", true, "violence"},
	{"zh", "他打我电话", false, ""},
	{"zh", "谢谢", false, ""},
	{"zh", "你们什么时候到", false, ""},
	{"zh", "我在菜市场买菜", false, ""},
	// Thai
	{"th", "ช่วยด้วย", true, "help"},
	{"th", "ช่วย ด้วย", true, "help"},
	{"th", "ช่วยด้วยยยย", true, "help"},
	{"th", "พวกเราถูกขังอยู่ในบ้าน", true, "confinement"},
	{"th", "นายจ้างยึดพาสปอร์ตไป", false, "documents"},
	{"th", "นายจ้างยึดพาสปอร์ตไป ไม่จ่ายเงินเดือน", true, "labour"},
	{"th", "มีเด็กทำงานในโรงงาน", true, "children"},
	{"th", "ด่วนมาก", true, "urgent"},
	{"th", "อยู่ใกล้ทางด่วน", false, ""},
	{"th", "ช่วยส่งที่อยู่ให้หน่อย", false, ""},
	{"th", "ขอบคุณค่ะ", false, ""},
	// Vietnamese
	{"vi", "cứu chúng tôi", true, "help"},
	{"vi", "cuu toi voi", true, "help"},
	{"vi", "CỨU!!!", true, "help"},
	{"vi", "chúng tôi bị nhốt trong nhà", true, "confinement"},
	{"vi", "họ giữ hộ chiếu của chúng tôi", false, "documents"},
	{"vi", "có trẻ em làm việc trong xưởng", true, "children"},
	{"vi", "ho danh chung toi moi ngay", true, "violence"},
	{"vi", "bạn em làm nhà hàng", false, ""}, // "bắn em" is "shoot me"; the accents tell
	{"vi", "tôi làm nghiên cứu", false, ""},
	{"vi", "nghiên cứu chúng tôi", false, ""},
	{"vi", "dạo này em khỏe", false, ""},
	{"vi", "bổ sung giấy tờ", false, ""},
	{"vi", "cảm ơn", false, ""},
}

func TestMatch(t *testing.T) {
	m := mustMatcher(t, Options{})
	for _, tt := range matchCases {
		t.Run(tt.lang+"/"+tt.text, func(t *testing.T) {
			got, ok := m.Match(tt.text)
			all := m.All(tt.text)
			if ok != tt.urgent {
				t.Errorf("Match(%q) = %q, %v; want urgent %v (cues: %v)", tt.text, got.Phrase, ok, tt.urgent, cueList(all))
			}
			if ok && got.Phrase == "" {
				t.Errorf("Match(%q): urgent with no phrase", tt.text)
			}
			if tt.class != "" && !slices.ContainsFunc(all, func(c Match) bool { return c.Class.String() == tt.class }) {
				t.Errorf("Match(%q): no %s cue among %v", tt.text, tt.class, cueList(all))
			}
		})
	}
}

// cueList names the cues found, for test failures only.
func cueList(ms []Match) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Class.String()+":"+m.Phrase)
	}
	return out
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
	if !ok || got.Lang != language.Filipino || got.Class != Help {
		t.Fatalf("Match = %v %v %v, %v", got.Phrase, got.Lang, got.Class, ok)
	}
	all := m.All("help us, they beat us and took our passports 救命")
	for _, want := range []string{"help us", "beat us", "took ... passports", "救命"} {
		if !containsPhrase(all, want) {
			t.Errorf("All = %v, want %q among them", phrases(all), want)
		}
	}
	if len(m.All("nothing here")) != 0 {
		t.Error("All found something in nothing")
	}
	got, ok = m.Match("help us, they took our passports")
	if !ok || got.Phrase != "help us + took ... passports" || got.Class != Help {
		t.Errorf("Match = %q %v, %v; want the call for help and the danger", got.Phrase, got.Class, ok)
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
		{"=救 ... 命", ErrBadGap},
		{"救 ... ... 命", ErrBadGap},
		{"[nosuch] help", ErrBadClass},
		{"[help help", ErrBadClass},
		{"(a|b", ErrBadGroup},
		{"a|b)", ErrBadGroup},
		{"((a|b)|c)", ErrBadGroup},
		{"(a|b|c|d|e|f|g|h|i) (a|b|c|d|e|f|g|h|i)", ErrBadGroup}, // 81 phrases
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
	for _, everyday := range everydayCases {
		if got, ok := m.Match(everyday); ok {
			t.Errorf("Match(%q) = %q", everyday, got.Phrase)
		}
	}
}

// everydayCases are everyday messages, none urgent: words of the lists in
// everyday sentences, or a condition with "now" or fear only. The model
// learns from them too (see tableExamples).
var everydayCases = []string{
	"hello, what time do you open?", "terima kasih banyak", "gracias por todo", "salamat po sa inyo",
	"谢谢你们的帮助", "ขอบคุณมากค่ะ", "cảm ơn anh nhiều", "ok", "123", "", "😀",
	"saya mau tanya soal visa", "¿cuánto cuesta el pasaje?", "magandang umaga po",
	// Words of the lists in everyday sentences, or a condition with "now" or fear only.
	"my kids are at home, can you help me with my visa?", "is it safe to send my passport by post?",
	"the police station is closed now", "I lost my passport yesterday, what should I do now",
	"my employer still hasn't paid me, I am scared to ask", "I am stuck in traffic, will call later",
	"the kids are playing with a toy gun", "he hit the jackpot", "quick question, how do I renew my permit",
	"can you help us, we want to donate", "help! my phone is broken",
	"hay niños jugando en el parque ahora", "perdí mi pasaporte ayer, qué hago ahora",
	"tengo miedo de perder mi trabajo, no me pagan horas extra",
	"anak saya sakit, boleh tolong bagitahu klinik terdekat", "saya takut majikan marah kalau minta cuti",
	"paspor saya hilang, sekarang bagaimana", "tolong saya nak tanya pasal permit kerja",
	"我现在在工厂工作 老板没发工资", "我的孩子在学校 我想问签证", "护照丢了 现在怎么办",
	"ตอนนี้ทำงานอยู่โรงงาน นายจ้างไม่จ่ายเงินเดือน", "ลูกของฉันอยู่ที่บ้าน อยากถามเรื่องวีซ่า",
	"tôi đang làm việc ở nhà máy, chủ chưa trả lương", "con em đang đi học, em muốn hỏi visa",
	"takot ako mawalan ng trabaho, hindi pa binabayaran", "nawala passport ko kahapon, ano gagawin ko ngayon",
}

func TestMatchIsRedacted(t *testing.T) {
	m := mustMatcher(t, Options{})
	got, ok := m.Match("help, we are locked in")
	if !ok {
		t.Fatal("no match")
	}
	var b strings.Builder
	slog.New(slog.NewTextHandler(&b, nil)).Info("urgent", "match", got)
	if s := fmt.Sprintf("%v %s %+v", got, got, got) + b.String(); strings.Contains(s, "locked") || strings.Contains(s, "help") {
		t.Errorf("phrase printed: %s", s)
	}
}

func TestLongText(t *testing.T) {
	m := mustMatcher(t, Options{})
	text := strings.Repeat("nothing to see here ", MaxText/20+1) + "we are locked in"
	if _, ok := m.Match(text); ok {
		t.Error("matched beyond MaxText")
	}
	if _, ok := m.Match("we are locked in " + strings.Repeat("x", 2*MaxText)); !ok {
		t.Error("no match at the start of a long text")
	}
}

// benchTexts are the texts BenchmarkMatch and BenchmarkMatchReference search.
var benchTexts = []struct{ name, text string }{
	{"none", "my sister works in a nail salon in the city and sends money home every month"},
	{"sms160", "hi, my cousin went to work in a factory in johor 3 months ago, we have not heard from her since last week and her phone is off. what should we do now pls"},
	// The SMS hotline-load sends (cmd/hotline-load, bench.go).
	{"es-load", "Ayuda, nos tienen encerrados en una casa en La Molina, -12.0857, -76.9397. Somos cuarenta, " +
		"hay menores, nos quitaron los documentos y no nos dejan salir. Por favor vengan pronto, tengan cuidado."},
	{"latin", "tolong kami dikurung dalam rumah ni"},
	{"thai", "พวกเราถูกขังอยู่ในบ้าน"},
	{"chinese", "他们把我们的护照收走了 每天干16个小时"},
	{"vietnamese", "họ giữ hộ chiếu của chúng tôi, không trả lương"},
	{"32KiB", strings.Repeat("the quick brown fox jumps over the lazy dog ", 32<<10/44)},
}

func BenchmarkMatch(b *testing.B) {
	m := mustMatcher(b, Options{})
	for _, c := range benchTexts {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				m.Match(c.text)
			}
		})
	}
}
