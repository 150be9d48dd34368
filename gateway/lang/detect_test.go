package lang

import (
	"errors"
	"runtime"
	"slices"
	"strconv"
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

// detectCase is a line of testdata/detect.txt.
type detectCase struct {
	name, text, sender string
	want               language.Tag
	confident          bool
	by                 string
}

func readDetectCases(t testing.TB, path string) []detectCase {
	t.Helper()
	var out []detectCase
	eachLine(t, path, func(n int, line string) {
		f := strings.Split(line, " | ")
		if len(f) != 6 || (f[2] != "sure" && f[2] != "unsure") {
			t.Fatalf("%s:%d: want NAME | WANT | sure or unsure | BY | SENDER | \"TEXT\"", path, n)
		}
		want, err := language.Parse(f[1])
		if err != nil {
			t.Fatalf("%s:%d: %v", path, n, err)
		}
		text, err := strconv.Unquote(f[5])
		if err != nil {
			t.Fatalf("%s:%d: text: %v", path, n, err)
		}
		if f[4] == "-" {
			f[4] = ""
		}
		out = append(out, detectCase{name: f[0], want: want, confident: f[2] == "sure", by: f[3], sender: f[4], text: text})
	})
	return out
}

func TestDetect(t *testing.T) {
	all := mustDetector(t)
	tests := readDetectCases(t, "testdata/detect.txt")
	if len(tests) < 40 {
		t.Fatalf("%d cases in testdata/detect.txt, want at least 40", len(tests))
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

// TestLetterListsHaveNoASCII: scoreLatin skips its letter count for ASCII
// text, which holds only while no letter it counts is ASCII, in either
// case; and a text with one of them is counted, in capitals too.
func TestLetterListsHaveNoASCII(t *testing.T) {
	for _, list := range []string{vietnameseOnly, spanishOnly, spanishAccents} {
		for _, r := range list + strings.ToUpper(list) {
			if r < 0x80 {
				t.Errorf("%q counts ASCII %q", list, r)
			}
		}
	}
	if nonASCIILower("Ayuda, nos tienen encerrados en La Molina") != "" {
		t.Error("ASCII text composed and lowered")
	}
	if got := nonASCIILower("AÑO Ĩ"); got != "año ĩ" {
		t.Errorf("nonASCIILower = %q", got)
	}
}
