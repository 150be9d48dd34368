package handlers

import (
	"encoding/json"
	"fmt"
	"path"
	"strings"

	"golang.org/x/text/language"
)

// The form speaks the languages of the SMS channel. Catalogs are flat JSON
// files of short plain sentences (web/locales/TAG.json), written by people
// who speak them; English is the reference every other catalog must match
// key for key (TestLocalesComplete).
//
// A small map is enough: there are no plurals to choose and no HTML in the
// messages, so a library for message formats would add weight and no safety.

// webLanguages in the order the selector shows them.
var webLanguages = []string{"en", "es", "ms", "zh-Hans", "id", "fil", "th", "vi"}

// catalog is one language's messages.
type catalog struct {
	tag string
	m   map[string]string
}

// T returns the message of key; a missing key shows the key itself, which a
// test rules out.
func (c *catalog) T(key string) string {
	if v, ok := c.m[key]; ok {
		return v
	}
	return key
}

// F formats the message of key with args (a %d for a number).
func (c *catalog) F(key string, args ...any) string { return fmt.Sprintf(c.T(key), args...) }

type locales struct {
	order []string
	cats  map[string]*catalog
	bases map[language.Base]string // base language -> tag
}

func mustLoadLocales() *locales {
	ls := &locales{cats: map[string]*catalog{}, bases: map[language.Base]string{}}
	for _, tag := range webLanguages {
		b, err := webFS.ReadFile(path.Join("web/locales", tag+".json"))
		if err != nil {
			panic("handlers: missing locale " + tag)
		}
		c := &catalog{tag: tag}
		if err := json.Unmarshal(b, &c.m); err != nil {
			panic("handlers: locale " + tag + ": " + err.Error())
		}
		ls.cats[tag] = c
		ls.order = append(ls.order, tag)
		base, _ := language.MustParse(tag).Base()
		ls.bases[base] = tag
	}
	// Tagalog is what many phones call Filipino.
	ls.bases[language.MustParseBase("tl")] = "fil"
	return ls
}

func (ls *locales) get(tag string) *catalog { return ls.cats[tag] }

// exact returns the supported tag named by s (as the selector and the lang
// field send it), case-insensitively.
func (ls *locales) exact(s string) (string, bool) {
	for _, tag := range ls.order {
		if strings.EqualFold(s, tag) {
			return tag, true
		}
	}
	return "", false
}

// pick chooses the page's language: an explicit choice (?lang= or the form's
// lang field) first, then the first language of Accept-Language whose base
// language we have (zh-TW gets the Simplified Chinese page, which its
// readers mostly read, rather than English), then English.
func (ls *locales) pick(explicit, acceptLanguage string) string {
	if tag, ok := ls.exact(explicit); ok {
		return tag
	}
	if len(acceptLanguage) > 512 {
		acceptLanguage = acceptLanguage[:512]
	}
	tags, qs, _ := language.ParseAcceptLanguage(acceptLanguage)
	for i, t := range tags {
		if base, conf := t.Base(); conf != language.No && qs[i] > 0 {
			if tag, ok := ls.bases[base]; ok {
				return tag
			}
		}
	}
	return "en"
}
