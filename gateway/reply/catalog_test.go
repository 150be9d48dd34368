package reply

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf16"

	"golang.org/x/text/language"

	"github.com/hotline-org/hotline/gateway/lang"
)

func mustCatalog(t testing.TB) *Catalog {
	t.Helper()
	c, err := NewCatalog()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

const ref = "7KQ2-M9XD"

func TestAck(t *testing.T) {
	c := mustCatalog(t)
	tests := []struct {
		tag  string
		want string
	}{
		{"en", "Received. Ref 7KQ2-M9XD"},
		{"es", "Recibido. Ref. 7KQ2-M9XD"},
		{"es-PE", "Recibido. Ref. 7KQ2-M9XD"},
		{"ms", "Mesej diterima. No. rujukan 7KQ2-M9XD"},
		{"id", "Pesan diterima. No. referensi 7KQ2-M9XD"},
		{"zh-Hans", "已收到。编号 7KQ2-M9XD"},
		{"zh-TW", "已收到。编号 7KQ2-M9XD"},
		{"fil", "Natanggap na. Ref 7KQ2-M9XD"},
		{"tl", "Natanggap na. Ref 7KQ2-M9XD"},
		{"th", "ได้รับข้อความแล้ว รหัส 7KQ2-M9XD"},
		{"vi", "Đã nhận tin. Mã số 7KQ2-M9XD"},
		{"pt", "Received. Ref 7KQ2-M9XD"},
		{"und", "Received. Ref 7KQ2-M9XD"},
	}
	for _, tt := range tests {
		if got := c.Ack(language.MustParse(tt.tag), ref); got != tt.want {
			t.Errorf("Ack(%s) = %q, want %q", tt.tag, got, tt.want)
		}
	}
	if len(c.Languages()) != 8 {
		t.Errorf("Languages() = %v", c.Languages())
	}
}

// TestAcksDiffer: every language has its own text (a catalog copied from
// English by mistake would pass the other tests).
func TestAcksDiffer(t *testing.T) {
	c := mustCatalog(t)
	seen := map[string]language.Tag{}
	for _, l := range lang.Supported() {
		s := c.Ack(l, ref)
		if other, dup := seen[s]; dup {
			t.Errorf("%v and %v say the same: %q", l, other, s)
		}
		seen[s] = l
		if !strings.Contains(s, ref) {
			t.Errorf("%v: %q has no case reference", l, s)
		}
	}
}

// TellTaleWords must never appear in a built-in reply: they tell whoever
// reads the reporter's phone what the message was about or who reads it.
var tellTaleWords = []string{
	"traffick", "trafic", "tráfico", "trata", "perdagangan", "pemerdagangan", "pemerdagangan orang",
	"human", "forced", "forzoso", "paksa", "slave", "esclav", "abuse", "abuso", "exploit", "explota",
	"police", "polic", "polis", "polisi", "pulis", "pulisya", "policía", "policia", "guardia", "carabinero",
	"công an", "cong an", "cảnh sát", "canh sat", "警察", "公安", "报警", "拐卖", "贩卖", "人口", "ตำรวจ",
	"ค้ามนุษย์", "แรงงานบังคับ", "buôn người", "buon nguoi", "victim", "víctima", "mangsa", "korban",
	"biktima", "nạn nhân", "受害", "ผู้เสียหาย", "rescue", "rescate", "hotline", "línea", "report",
	"denuncia", "laporan", "aduan", "ulat", "举报", "แจ้ง", "tố cáo", "help", "ayuda", "tolong", "tulong",
	"emergency", "urgent", "agency", "agencia", "ngo", "ong ",
}

func TestNoTellTaleWords(t *testing.T) {
	c := mustCatalog(t)
	for _, l := range lang.Supported() {
		s := strings.ToLower(c.Ack(l, ref))
		folded := foldWord(s)
		for _, w := range tellTaleWords {
			if strings.Contains(s, strings.ToLower(w)) || strings.Contains(folded, foldWord(w)) {
				t.Errorf("%v reply %q contains %q", l, s, w)
			}
		}
	}
}

// TestAckFitsOneSMS: every acknowledgement is one SMS segment: 160 GSM
// characters, or 70 UTF-16 units when it needs Unicode (Thai, Chinese,
// Vietnamese).
func TestAckFitsOneSMS(t *testing.T) {
	c := mustCatalog(t)
	for _, l := range lang.Supported() {
		s := c.Ack(l, ref)
		limit, n := 160, len(s)
		if !isGSM7(s) {
			limit, n = 70, len(utf16.Encode([]rune(s)))
		}
		if n > limit {
			t.Errorf("%v: %q is %d units, over %d", l, s, n, limit)
		}
	}
}

func isGSM7(s string) bool {
	const basic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
	for _, r := range s {
		if !strings.ContainsRune(basic, r) {
			return false
		}
	}
	return true
}

func TestAckFor(t *testing.T) {
	c := mustCatalog(t)
	es := language.Spanish
	tests := []struct {
		name     string
		number   Number
		detected language.Tag
		caseRef  string
		want     string
		wantLang language.Tag
	}{
		{"detected", Number{}, language.Malay, ref, "Mesej diterima. No. rujukan " + ref, language.Malay},
		{"unknown falls back to the number's language", Number{Default: es}, language.Und, ref, "Recibido. Ref. " + ref, es},
		{"unsupported falls back to the number's language", Number{Default: language.MustParse("es-PE")}, language.Japanese, ref, "Recibido. Ref. " + ref, es},
		{"no default: english", Number{}, language.Und, ref, "Received. Ref " + ref, language.English},
		{"unsupported default: english", Number{Default: language.German}, language.Und, ref, "Received. Ref " + ref, language.English},
		{"off", Number{Off: true, Text: "x"}, language.English, ref, "", language.Und},
		{"no case, no reply", Number{}, language.English, "", "", language.Und},
		{"operator text", Number{Text: "Gracias. Caso {case}."}, language.Thai, ref, "Gracias. Caso " + ref + ".", language.Thai},
		{"operator text twice", Number{Text: "{case} / {case}"}, language.Thai, ref, ref + " / " + ref, language.Thai},
		{"operator text per language", Number{Text: "Thanks {case}", Texts: map[language.Tag]string{language.Thai: "ขอบคุณ {case}"}}, language.Thai, ref, "ขอบคุณ " + ref, language.Thai},
		{"operator text per language, other language", Number{Text: "Thanks {case}", Texts: map[language.Tag]string{language.Thai: "ขอบคุณ {case}"}}, language.Vietnamese, ref, "Thanks " + ref, language.Vietnamese},
		{"per language only", Number{Texts: map[language.Tag]string{language.Spanish: "Listo {case}"}}, language.English, ref, "Received. Ref " + ref, language.English},
		{"per language by region", Number{Texts: map[language.Tag]string{language.MustParse("es-MX"): "Listo {case}"}}, es, ref, "Listo " + ref, es},
		{"per language on the default", Number{Default: es, Texts: map[language.Tag]string{es: "Listo {case}"}}, language.Und, ref, "Listo " + ref, es},
		{"operator may name the police", Number{Text: "Policía: caso {case}"}, es, ref, "Policía: caso " + ref, es},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, gotLang := c.AckFor(tt.number, tt.detected, tt.caseRef)
			if got != tt.want || gotLang != tt.wantLang {
				t.Errorf("AckFor = %q, %v; want %q, %v", got, gotLang, tt.want, tt.wantLang)
			}
		})
	}
}

func TestValidateOverride(t *testing.T) {
	tests := []struct {
		text string
		want error
	}{
		{"Received {case}", nil},
		{"Recibido. Caso {case}", nil},
		{"No reference at all", nil},
		{"", ErrOverrideEmpty},
		{"  ", ErrOverrideEmpty},
		{"Ref {Case}", ErrOverridePlaceholder},
		{"Ref {{.Case}}", ErrOverridePlaceholder},
		{"Ref {ref}", ErrOverridePlaceholder},
		{"Ref {case", nil}, // not a placeholder, printed as it is
		{strings.Repeat("a", MaxOverride+1), ErrOverrideTooLong},
		{"bad \xff", ErrOverrideEncoding},
	}
	for _, tt := range tests {
		err := ValidateOverride(tt.text)
		if !errors.Is(err, tt.want) {
			t.Errorf("ValidateOverride(%q) = %v, want %v", tt.text, err, tt.want)
		}
		if err != nil && tt.text != "" && strings.TrimSpace(tt.text) != "" && strings.Contains(err.Error(), tt.text) {
			t.Errorf("error quotes the text: %v", err)
		}
	}
}
