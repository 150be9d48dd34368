package handlers

import (
	"golang.org/x/text/language"

	"github.com/hotline-org/hotline/gateway/i18n"
)

// The form speaks the languages of the SMS channel, from the same catalogs
// (gateway/i18n, locales/web.TAG.toml there) and by the same rules: an
// explicit choice first, then the browser's languages, then English.

// catalog is one language's messages.
type catalog struct {
	l *i18n.Localizer
}

// T returns the message of key; a missing key shows the key itself, which
// i18n.New rules out.
func (c *catalog) T(key string) string { return c.F(key, nil) }

// F returns the message of key with its one value n ({{.N}} in the
// catalogs).
func (c *catalog) F(key string, n any) string {
	var data map[string]any
	if n != nil {
		data = map[string]any{"N": n}
	}
	s, err := c.l.Message(key, data)
	if err != nil {
		return key
	}
	return s
}

type locales struct {
	texts *i18n.Catalog
	order []string // as the selector shows them
	cats  map[string]*catalog
}

func mustLoadLocales() *locales {
	texts, err := i18n.New()
	if err != nil {
		panic("handlers: " + err.Error())
	}
	ls := &locales{texts: texts, cats: map[string]*catalog{}}
	for _, t := range texts.Languages() {
		ls.cats[t.String()] = &catalog{l: texts.Localizer(t)}
		ls.order = append(ls.order, t.String())
	}
	return ls
}

func (ls *locales) get(tag string) *catalog { return ls.cats[tag] }

// exact returns the supported language named by s (as the selector and the
// lang field send it, in any case, or another region or script of it).
func (ls *locales) exact(s string) (string, bool) {
	m, ok := ls.texts.Match(i18n.ParseChoice(s))
	if !ok {
		return "", false
	}
	return m.String(), true
}

// pick chooses the page's language: an explicit choice (?lang= or the form's
// lang field) first, then the languages of Accept-Language in order (zh-TW
// gets the Simplified Chinese page, which its readers mostly read, rather
// than English), then English.
func (ls *locales) pick(explicit, acceptLanguage string) string {
	prefs := append([]language.Tag{i18n.ParseChoice(explicit)}, i18n.ParseAccept(acceptLanguage)...)
	return ls.texts.Negotiate(prefs...).String()
}
