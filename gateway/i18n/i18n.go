// Package i18n holds every text the hotline shows a reporter: the automatic
// replies by SMS or WhatsApp (locales/reply.TAG.toml) and the web form
// (locales/web.TAG.toml), go-i18n message files embedded in the binary, in
// the eight languages of the channels (gateway/lang).
//
// It protects the reporter from words that are not theirs. Both channels
// choose a language by one rule (Negotiate: the first preference whose
// language the catalog speaks, any region or script of it, else English),
// and a message is only ever answered in the chosen language: New refuses a
// catalog where a language lacks a message English has, has one English
// lacks, or has a template that does not run, so that a broken build fails
// at start and not in front of a reporter, and go-i18n's fallback from one
// language to another (Malay answered in Indonesian, or in English) never
// happens in silence.
package i18n

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"sync"

	"github.com/BurntSushi/toml"
	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"

	"github.com/hotline-org/hotline/gateway/lang"
)

//go:embed locales/*.toml
var localeFiles embed.FS

// maxAcceptLanguage bounds the Accept-Language header read: a browser sends
// a few dozen bytes; the rest of a longer one is not parsed.
const maxAcceptLanguage = 512

// maxChoice bounds a language named by a reporter (a form field, a query
// parameter): language.Parse takes seconds over a megabyte, and a tag the
// catalog speaks is a few bytes.
const maxChoice = 35

// Catalog holds the messages of every language. It is safe for concurrent
// use.
type Catalog struct {
	langs []language.Tag
	ids   []string
	locs  map[language.Tag]*Localizer
}

// New returns the catalog of the embedded message files, every message in
// every language checked. It is loaded once: a catalog never changes, so the
// replies, the web form and the voice line share one (each loading its own
// held three copies, 1.5 MB).
func New() (*Catalog, error) { return shared() }

var shared = sync.OnceValues(load)

func load() (*Catalog, error) {
	b := i18n.NewBundle(language.English)
	b.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	files, err := fs.Glob(localeFiles, "locales/*.toml")
	if err != nil {
		return nil, fmt.Errorf("failed to list message files: %w", err)
	}
	ids := map[language.Tag]map[string]bool{}
	for _, f := range files {
		mf, err := b.LoadMessageFileFS(localeFiles, f)
		if err != nil {
			return nil, fmt.Errorf("failed to load message file %s: %w", f, err)
		}
		if ids[mf.Tag] == nil {
			ids[mf.Tag] = map[string]bool{}
		}
		for _, m := range mf.Messages {
			if ids[mf.Tag][m.ID] {
				return nil, fmt.Errorf("message %s of %v is in two files", m.ID, mf.Tag)
			}
			ids[mf.Tag][m.ID] = true
		}
	}
	c := &Catalog{langs: lang.Supported(), locs: map[language.Tag]*Localizer{}}
	for id := range ids[language.English] {
		c.ids = append(c.ids, id)
	}
	slices.Sort(c.ids)
	for _, tag := range c.langs {
		have := ids[tag]
		if have == nil {
			return nil, fmt.Errorf("messages for %v are missing", tag)
		}
		for id := range have {
			if !ids[language.English][id] {
				return nil, fmt.Errorf("message %s of %v has no English", id, tag)
			}
		}
		// The tag is one of the bundle's own, so go-i18n's matcher picks
		// it exactly.
		l := &Localizer{tag: tag, loc: i18n.NewLocalizer(b, tag.String())}
		for _, id := range c.ids {
			if _, err := l.Message(id, map[string]any{}); err != nil {
				return nil, err
			}
		}
		c.locs[tag] = l
	}
	return c, nil
}

// Languages returns the languages of the catalog, in the order a language
// selector shows them.
func (c *Catalog) Languages() []language.Tag { return slices.Clone(c.langs) }

// IDs returns the ids of every message, sorted.
func (c *Catalog) IDs() []string { return slices.Clone(c.ids) }

// Match returns the catalog's language that tag denotes (zh-TW and zh-Hant
// are Chinese, tl is Filipino, es-PE is Spanish), and whether there is one.
func (c *Catalog) Match(tag language.Tag) (language.Tag, bool) { return lang.Match(tag) }

// Negotiate returns the catalog's language of the first of prefs it speaks,
// in order of preference, or English.
func (c *Catalog) Negotiate(prefs ...language.Tag) language.Tag {
	for _, p := range prefs {
		if t, ok := c.Match(p); ok {
			return t
		}
	}
	return language.English
}

// Localizer returns the messages in the language Negotiate chooses for tag.
func (c *Catalog) Localizer(tag language.Tag) *Localizer { return c.locs[c.Negotiate(tag)] }

// ParseAccept returns the languages of an Accept-Language header, most wanted
// first, without those the header refuses (q=0). A header that does not parse
// names none.
func ParseAccept(header string) []language.Tag {
	if len(header) > maxAcceptLanguage {
		header = header[:maxAcceptLanguage]
	}
	tags, qs, _ := language.ParseAcceptLanguage(header)
	var out []language.Tag
	for i, t := range tags {
		if qs[i] > 0 {
			out = append(out, t)
		}
	}
	return out
}

// ParseChoice returns the language a reporter chose (the web form's lang
// field or parameter), or Und for anything that is not a short language tag.
func ParseChoice(s string) language.Tag {
	if len(s) > maxChoice {
		return language.Und
	}
	t, err := language.Parse(s)
	if err != nil {
		return language.Und
	}
	return t
}

// ErrOtherLanguage is returned for a message the catalog would answer in
// another language than the one asked for. New rules it out.
var ErrOtherLanguage = errors.New("message is not in the language asked for")

// Localizer gives the messages of one language.
type Localizer struct {
	tag language.Tag
	loc *i18n.Localizer
}

// Tag returns the localizer's language.
func (l *Localizer) Tag() language.Tag { return l.tag }

// Message returns message id in the localizer's language, its template run
// with data (nil for a message without values).
func (l *Localizer) Message(id string, data map[string]any) (string, error) {
	s, got, err := l.loc.LocalizeWithTag(&i18n.LocalizeConfig{MessageID: id, TemplateData: data})
	if err != nil {
		return "", fmt.Errorf("message %s in %v: %w", id, l.tag, err)
	}
	if got != l.tag {
		return "", fmt.Errorf("message %s in %v: %w (%v)", id, l.tag, ErrOtherLanguage, got)
	}
	return s, nil
}
