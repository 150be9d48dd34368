package i18n

import (
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"golang.org/x/text/language"
)

// loaded is the catalog the tests read, loaded once.
var loaded = sync.OnceValues(New)

// TestCatalogComplete: every language has every message, non-empty, with
// the English placeholders, without markup, and in its own words (an
// untranslated message would pass the other checks).
func TestCatalogComplete(t *testing.T) {
	c, err := loaded()
	if err != nil {
		t.Fatal(err)
	}
	if got := len(c.Languages()); got != 8 {
		t.Fatalf("%d languages, want the eight of the SMS channel", got)
	}
	sample := map[string]any{"N": 7, "Case": "7KQ2-M9XD"}
	placeholders := regexp.MustCompile(`\{\{[^}]*\}\}`)
	en := c.Localizer(language.English)
	for _, tag := range c.Languages() {
		l := c.Localizer(tag)
		if l.Tag() != tag {
			t.Fatalf("Localizer(%v) speaks %v", tag, l.Tag())
		}
		for _, id := range c.IDs() {
			raw, err := l.Message(id, sample)
			if err != nil {
				t.Errorf("%v: %v", tag, err)
				continue
			}
			want, _ := en.Message(id, sample)
			src := source(t, l, id)
			enSrc := source(t, en, id)
			switch {
			case strings.TrimSpace(raw) == "":
				t.Errorf("%v: %s is empty", tag, id)
			case !slices.Equal(placeholders.FindAllString(src, -1), placeholders.FindAllString(enSrc, -1)):
				t.Errorf("%v: %s has placeholders %v, English has %v", tag, id,
					placeholders.FindAllString(src, -1), placeholders.FindAllString(enSrc, -1))
			case strings.ContainsAny(raw, "<>"):
				t.Errorf("%v: %s holds markup; messages are plain text", tag, id)
			case tag != language.English && raw == want:
				t.Errorf("%v: %s is the English text", tag, id)
			}
		}
	}
}

// source returns message id with its placeholders shown as written.
func source(t *testing.T, l *Localizer, id string) string {
	t.Helper()
	s, err := l.Message(id, map[string]any{"N": "{{.N}}", "Case": "{{.Case}}"})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestNegotiate(t *testing.T) {
	c, err := loaded()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		prefs []string
		want  language.Tag
	}{
		{nil, language.English},
		{[]string{"und"}, language.English},
		{[]string{"pt", "de"}, language.English},
		{[]string{"es-PE"}, language.Spanish},
		{[]string{"zh-TW"}, language.SimplifiedChinese},
		{[]string{"zh-Hant"}, language.SimplifiedChinese},
		{[]string{"tl"}, language.Filipino},
		{[]string{"in"}, language.Indonesian},
		{[]string{"ms", "id"}, language.Malay},
		{[]string{"fr", "id", "ms"}, language.Indonesian},
		{[]string{"und", "th"}, language.Thai},
	} {
		var prefs []language.Tag
		for _, p := range tc.prefs {
			prefs = append(prefs, language.MustParse(p))
		}
		if got := c.Negotiate(prefs...); got != tc.want {
			t.Errorf("Negotiate(%v) = %v, want %v", tc.prefs, got, tc.want)
		}
	}
}

func TestParseAccept(t *testing.T) {
	for _, tc := range []struct {
		header string
		want   []string
	}{
		{"", nil},
		{"es-PE,es;q=0.9,en;q=0.8", []string{"es-PE", "es", "en"}},
		{"en;q=0, vi", []string{"vi"}},
		{"fr;q=0.1, ms;q=0.5", []string{"ms", "fr"}},
		{"%%%", nil},
		{strings.Repeat("x-", 2000), nil},
		{"th," + strings.Repeat(" ", maxAcceptLanguage) + "vi", []string{"th"}}, // vi is past the bound
	} {
		var got []string
		for _, t := range ParseAccept(tc.header) {
			got = append(got, t.String())
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("ParseAccept(%.40q) = %v, want %v", tc.header, got, tc.want)
		}
	}
}

// TestMessageUnknown: a message no catalog has is an error, not English or
// an empty string.
func TestMessageUnknown(t *testing.T) {
	c, err := loaded()
	if err != nil {
		t.Fatal(err)
	}
	l := c.Localizer(language.Thai)
	if s, err := l.Message("no_such_message", nil); err == nil {
		t.Errorf("unknown message = %q, no error", s)
	}
}

func TestParseChoice(t *testing.T) {
	for _, tc := range []struct {
		s    string
		want language.Tag
	}{
		{"th", language.Thai},
		{"ZH-hans", language.SimplifiedChinese},
		{"", language.Und},
		{"klingon", language.Und},
		{"es-" + strings.Repeat("abcdefgh-", 100000), language.Und}, // never parsed: seconds of CPU
	} {
		if got := ParseChoice(tc.s); got != tc.want {
			t.Errorf("ParseChoice(%.20q) = %v, want %v", tc.s, got, tc.want)
		}
	}
}

// TestNewShared: the channels share one catalog (issue 16: peak RSS).
func TestNewShared(t *testing.T) {
	a, err := New()
	if err != nil {
		t.Fatal(err)
	}
	b, err := New()
	if err != nil || a != b {
		t.Fatalf("New twice: %p and %p (%v)", a, b, err)
	}
}
