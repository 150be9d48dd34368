package i18n_test

import (
	"slices"
	"testing"

	"github.com/hotline-org/hotline/gateway/i18n"
	"golang.org/x/text/language"
)

// FuzzNegotiate feeds the two language inputs a reporter controls, the
// Accept-Language header and the web form's lang choice: they never panic,
// a refused or malformed preference is dropped, and the catalog always
// answers in one of its own languages with a localizer for it.
func FuzzNegotiate(f *testing.F) {
	c, err := i18n.New()
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range [][2]string{
		{"es-PE,es;q=0.9,en;q=0.8", "th"},
		{"*;q=0,zh-TW", "tl"},
		{"x-klingon;q=2, ;;,,q=", "es-419-u-nu-thai"},
		{"", "zh-Hans-SG"},
		{"ms;q=0", "\xff\xfe"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, header, choice string) {
		prefs := append([]language.Tag{i18n.ParseChoice(choice)}, i18n.ParseAccept(header)...)
		got := c.Negotiate(prefs...)
		if !slices.Contains(c.Languages(), got) {
			t.Fatalf("negotiated %v, not one of the catalog's %v", got, c.Languages())
		}
		if l := c.Localizer(got); l == nil || l.Tag() != got {
			t.Fatalf("no localizer for %v", got)
		}
	})
}
