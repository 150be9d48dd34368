package console

import (
	"embed"
	"fmt"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
	"golang.org/x/text/language"

	"github.com/hotline-org/hotline/gateway/i18n"
)

// The console speaks English, Spanish and Malay, from message files like the
// reporter's (gateway/i18n): TOML, one per language, embedded, and checked
// complete at start so that a missing text fails the build's tests, not an
// officer at 3 a.m.

//go:embed locales/*.toml
var localeFiles embed.FS

// languages are the console's, in the order the switch shows them.
var languages = []string{"en", "es", "ms"}

type translations struct {
	msgs    map[string]map[string]string
	matcher language.Matcher
}

func loadTranslations() (*translations, error) {
	t := &translations{msgs: map[string]map[string]string{}}
	var tags []language.Tag
	for _, l := range languages {
		b, err := localeFiles.ReadFile("locales/console." + l + ".toml")
		if err != nil {
			return nil, fmt.Errorf("console messages %s: %w", l, err)
		}
		m := map[string]string{}
		if err := toml.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("console messages %s: %w", l, err)
		}
		t.msgs[l] = m
		tags = append(tags, language.Make(l))
	}
	for _, l := range languages[1:] {
		for k := range t.msgs["en"] {
			if t.msgs[l][k] == "" {
				return nil, fmt.Errorf("console messages %s: %s is missing", l, k)
			}
		}
		for k := range t.msgs[l] {
			if _, ok := t.msgs["en"][k]; !ok {
				return nil, fmt.Errorf("console messages %s: %s is not in English", l, k)
			}
		}
	}
	t.matcher = language.NewMatcher(tags)
	return t, nil
}

// pick chooses a language from the browser's Accept-Language.
func (t *translations) pick(accept string) string {
	prefs := i18n.ParseAccept(accept)
	if len(prefs) == 0 {
		return "en"
	}
	_, i, conf := t.matcher.Match(prefs...)
	if conf == language.No {
		return "en"
	}
	return languages[i]
}

func (t *translations) known(l string) bool { return slices.Contains(languages, l) }

// text is one message in a language, with {{.N}} replaced by n.
func (t *translations) text(l, key string, n ...any) string {
	s, ok := t.msgs[l][key]
	if !ok {
		s, ok = t.msgs["en"][key]
	}
	if !ok {
		return key
	}
	if len(n) > 0 {
		s = strings.ReplaceAll(s, "{{.N}}", fmt.Sprint(n[0]))
	}
	return s
}
