package lang

import (
	"errors"
	"runtime"
	"slices"
	"strings"
	"testing"

	"golang.org/x/text/language"
)

func mustDetector(t testing.TB, langs ...language.Tag) *Detector {
	t.Helper()
	d, err := NewDetector(langs)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestDetect(t *testing.T) {
	all := mustDetector(t)
	tests := []struct {
		name      string
		text      string
		sender    string
		want      language.Tag
		confident bool
		by        string
	}{
		// Script decides, whatever the number.
		{"han", "救命 我们被关起来了", "+60123456789", Chinese, true, "script"},
		{"traditional han", "護照被老闆扣了", "", Chinese, true, "script"},
		{"han with latin loanword", "在KTV上班 不能回家", "+6212345678", Chinese, true, "script"},
		{"one han character", "救", "", Chinese, true, "script"},
		{"thai", "ช่วยด้วย", "+60123456789", Thai, true, "script"},
		{"thai with ok", "ok ค่ะ", "", Thai, true, "script"},
		{"english with one han word", "we are in 西港 building, locked in, please help us now", "", English, true, "text"},
		{"japanese is not chinese", "助けて 閉じ込められた", "+8612345678", language.Und, false, "none"},
		{"korean", "도와주세요", "+60123456789", language.Und, false, "none"},
		{"burmese", "ကူညီပါ", "+9512345678", language.Und, false, "none"},
		{"cyrillic", "помогите нам", "+60123456789", language.Und, false, "none"},

		// Text decides.
		{"spanish", "ayuda nos tienen encerrados", "", Spanish, true, "text"},
		{"spanish from a malaysian number", "nos quitaron los pasaportes", "+60123456789", Spanish, true, "text"},
		{"spanish without accents", "no se donde estoy", "", Spanish, true, "text"},
		{"vietnamese", "cứu chúng tôi", "", Vietnamese, true, "text"},
		{"vietnamese without accents", "cuu chung toi voi", "", Vietnamese, true, "text"},
		{"vietnamese decomposed", "c\u01b0\u0301u chu\u0301ng to\u0302i", "", Vietnamese, true, "text"},
		{"filipino", "tulungan niyo po kami", "", Filipino, true, "text"},
		{"taglish", "please po help kami hindi makalabas sa bahay", "", Filipino, true, "text"},
		{"english", "they took our passports", "+6212345678", English, true, "text"},
		{"indonesian markers from a malaysian number", "tolong saya tidak bisa keluar", "+60123456789", Indonesian, true, "text"},
		{"malay markers from an indonesian number", "kami tak boleh keluar, pintu berkunci", "+6281234567", Malay, true, "text"},
		{"indonesian slang", "udah 3 bulan gak digaji", "", Indonesian, true, "text"},
		{"malay slang", "gaji tak bayar dah 4 bulan", "", Malay, true, "text"},

		// Malay or Indonesian: the number breaks the tie.
		{"ambiguous from malaysia", "tolong kami dikurung", "+60123456789", Malay, false, "calling-code"},
		{"ambiguous from indonesia", "tolong kami dikurung", "+6281234567", Indonesian, false, "calling-code"},
		{"ambiguous from brunei", "tolong kami dikurung", "+6731234567", Malay, false, "calling-code"},
		{"ambiguous from hong kong", "tolong kami dikurung", "+85212345678", Indonesian, false, "calling-code"},
		{"ambiguous on whatsapp", "tolong kami dikurung", "whatsapp:+62 812-3456-7890", Indonesian, false, "calling-code"},
		{"ambiguous without a number", "tolong kami", "", Malay, false, "guess"},
		{"ambiguous with a number from elsewhere", "tolong kami", "+4412345678", Malay, false, "guess"},

		// Nothing in the text: the number alone.
		{"digits only", "12345", "+51987654321", Spanish, false, "calling-code"},
		{"emoji only", "🙏🙏", "+66812345678", Thai, false, "calling-code"},
		{"empty", "", "+84912345678", Vietnamese, false, "calling-code"},
		{"ok", "ok", "+63912345678", Filipino, false, "calling-code"},
		{"ok from singapore is not chinese", "ok", "+6591234567", English, false, "calling-code"},
		{"puerto rico", "ok", "+17875551234", Spanish, false, "calling-code"},
		{"nothing at all", "123", "", language.Und, false, "none"},
		{"no hint from myanmar", "123", "+9512345678", language.Und, false, "none"},
		{"not a number", "ok", "someone@example.org", English, false, "guess"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, confident := all.Detect(tt.text, tt.sender)
			if got != tt.want || confident != tt.confident {
				r := all.detect(tt.text, tt.sender)
				t.Fatalf("Detect(%q, %q) = %v, %v (%s, %s); want %v, %v", tt.text, tt.sender, got, confident, r.by, fmtScores(r.scores), tt.want, tt.confident)
			}
			if r := all.detect(tt.text, tt.sender); r.by != tt.by {
				t.Errorf("decided by %s, want %s", r.by, tt.by)
			}
		})
	}
}

// TestDetectRestricted: only configured languages are ever returned, and the
// configured ones take what the others would have had.
func TestDetectRestricted(t *testing.T) {
	tests := []struct {
		name   string
		langs  []language.Tag
		text   string
		sender string
		want   language.Tag
	}{
		{"no indonesian configured", []language.Tag{English, Malay}, "tolong saya tidak bisa keluar", "+6281234567", Malay},
		{"no malay configured", []language.Tag{English, Indonesian}, "kami tak boleh keluar", "+60123456789", Indonesian},
		{"no chinese configured", []language.Tag{English, Spanish}, "救命", "+8612345678", language.Und},
		{"no thai configured", []language.Tag{English}, "ช่วยด้วย", "", language.Und},
		{"hint not configured", []language.Tag{English, Spanish}, "123", "+60123456789", English},
		{"hint not configured at all", []language.Tag{Spanish}, "123", "+6281234567", language.Und},
		{"malay text with english and spanish only", []language.Tag{English, Spanish}, "kami dikurung dalam rumah", "+51987654321", Spanish},
		{"aliases", []language.Tag{language.MustParse("tl"), language.MustParse("zh-TW")}, "tulungan niyo po kami", "", Filipino},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := mustDetector(t, tt.langs...)
			got, _ := d.Detect(tt.text, tt.sender)
			if got != tt.want {
				r := d.detect(tt.text, tt.sender)
				t.Fatalf("Detect(%q, %q) = %v (%s %s); want %v", tt.text, tt.sender, got, r.by, fmtScores(r.scores), tt.want)
			}
			if got != language.Und {
				found := false
				for _, l := range d.Languages() {
					found = found || l == got
				}
				if !found {
					t.Fatalf("%v is not among the configured %v", got, d.Languages())
				}
			}
		})
	}
}

func TestNewDetector(t *testing.T) {
	tests := []struct {
		langs   []string
		want    []language.Tag
		wantErr bool
	}{
		{nil, Supported(), false},
		{[]string{"en", "es-PE", "ms-MY", "zh-CN", "in", "tl", "th", "vi"}, Supported(), false},
		{[]string{"zh-Hant", "zh", "fil"}, []language.Tag{Chinese, Filipino}, false},
		{[]string{"en", "pt", "ja"}, nil, true},
		{[]string{"und"}, nil, true},
	}
	for _, tt := range tests {
		var tags []language.Tag
		for _, s := range tt.langs {
			tags = append(tags, language.MustParse(s))
		}
		d, err := NewDetector(tags)
		if tt.wantErr {
			if !errors.Is(err, ErrUnsupported) {
				t.Errorf("NewDetector(%v) error = %v, want ErrUnsupported", tt.langs, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("NewDetector(%v): %v", tt.langs, err)
		}
		if got := d.Languages(); !slices.Equal(got, tt.want) {
			t.Errorf("NewDetector(%v).Languages() = %v, want %v", tt.langs, got, tt.want)
		}
	}
}

func TestCallingCodeHint(t *testing.T) {
	tests := []struct {
		number string
		want   []language.Tag
	}{
		{"+60123456789", []language.Tag{Malay, English, Chinese}},
		{"whatsapp:+6281234567", []language.Tag{Indonesian}},
		{"0063 912 345 678", []language.Tag{Filipino, English}},
		{"+17875551234", []language.Tag{Spanish, English}},
		{"+12125551234", []language.Tag{English, Spanish}},
		{"+8801712345678", nil},
		{"+85212345678", []language.Tag{Chinese, English}},
		{"+9661234567", nil}, // a tie-breaker only, see TestDetect
		{"60123456789", nil}, // no + or 00: not E.164
		{"", nil},
		{"+", nil},
	}
	for _, tt := range tests {
		if got := CallingCodeHint(tt.number); !slices.Equal(got, tt.want) {
			t.Errorf("CallingCodeHint(%q) = %v, want %v", tt.number, got, tt.want)
		}
	}
}

func TestMatch(t *testing.T) {
	for in, want := range map[string]language.Tag{
		"zh-TW": Chinese, "zh-Hans-CN": Chinese, "tl-PH": Filipino, "in": Indonesian, "es-419": Spanish,
		"en-GB": English, "ms-BN": Malay, "pt-BR": language.Und, "und": language.Und,
	} {
		got, ok := Match(language.MustParse(in))
		if got != want || ok != (want != language.Und) {
			t.Errorf("Match(%s) = %v, %v; want %v", in, got, ok, want)
		}
	}
}

// TestLongText: a long message is read only in part and never cut inside a
// character.
func TestLongText(t *testing.T) {
	d := mustDetector(t)
	text := strings.Repeat("nos tienen encerrados ", 10) + strings.Repeat("é", 2000)
	if got, ok := d.Detect(text, ""); got != Spanish || !ok {
		t.Fatalf("got %v, %v", got, ok)
	}
	for i := 0; i < 4; i++ {
		d.Detect(strings.Repeat("x", maxScan-i)+"ơơ", "") // must not panic
	}
}

func TestWordLists(t *testing.T) {
	lex, err := parseLexicon()
	if err != nil {
		t.Fatal(err)
	}
	per := map[langID]int{}
	for w, v := range lex {
		if w != fold(w) {
			t.Errorf("%q is not folded", w)
		}
		for l, x := range v {
			if x > 0 {
				per[langID(l)]++
			}
		}
	}
	for _, l := range latinLangs {
		if per[l] < 150 {
			t.Errorf("%v has only %d words", tags[l], per[l])
		}
	}
}

// TestMemory: the detector's tables stay small (lingua-go's low-accuracy
// mode needs about 5 MiB for the same eight languages, its high-accuracy
// mode about 88 MiB).
func TestMemory(t *testing.T) {
	before := heapInUse()
	lex, err := parseLexicon()
	if err != nil {
		t.Fatal(err)
	}
	after := heapInUse()
	runtime.KeepAlive(lex)
	used := int64(after) - int64(before)
	t.Logf("heap held by the word lists: %d KiB", used>>10)
	if used > 2<<20 {
		t.Errorf("detector uses %d KiB", used>>10)
	}
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
