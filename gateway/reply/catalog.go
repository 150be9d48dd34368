// Package reply holds what the hotline says back to a reporter by SMS or
// WhatsApp, and how it reads the few words that are commands rather than
// reports.
//
// Whoever holds the reporter's phone may read a reply: an employer, a guard,
// a trafficker checking the phone. So the built-in acknowledgement says only
// that something arrived and its case reference, in the reporter's language;
// it never names the subject, the hotline or who will read the report
// (TestNoTellTaleWords). Operators may configure other words per number, and
// then own them.
//
// The built-in texts come from gateway/i18n (locales/reply.TAG.toml there),
// chosen by the same rules as the web form's.
package reply

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/language"

	"github.com/hotline-org/hotline/gateway/i18n"
)

// MessageAck is the acknowledgement's id in the catalogs.
const MessageAck = "Ack"

// CasePlaceholder is replaced by the case reference in an operator's text.
const CasePlaceholder = "{case}"

// MaxOverride bounds an operator's text in bytes: two SMS segments of
// non-Latin text, and far more than an acknowledgement needs.
const MaxOverride = 280

// Catalog holds the built-in replies. It is safe for concurrent use.
type Catalog struct {
	texts *i18n.Catalog
}

// NewCatalog loads the embedded catalogs. A missing language or message is
// an error, so that a broken build fails at start and not at the first tip.
func NewCatalog() (*Catalog, error) {
	texts, err := i18n.New()
	if err != nil {
		return nil, fmt.Errorf("failed to load reply catalogs: %w", err)
	}
	return &Catalog{texts: texts}, nil
}

// Languages returns the languages the catalog speaks.
func (c *Catalog) Languages() []language.Tag { return c.texts.Languages() }

// Has reports whether the catalog speaks the language of tag (any region or
// script of it: zh-TW is answered in Simplified Chinese, tl in Filipino).
func (c *Catalog) Has(tag language.Tag) bool {
	_, ok := c.texts.Match(tag)
	return ok
}

// Ack returns the built-in acknowledgement of a message, in the language of
// tag, or in English when the catalog does not speak it.
func (c *Catalog) Ack(tag language.Tag, caseRef string) string {
	s, err := c.texts.Localizer(tag).Message(MessageAck, map[string]any{"Case": caseRef})
	if err != nil {
		// i18n.New checked every language: this cannot happen short of
		// memory corruption, and a reporter is still owed an answer.
		return "Received. Ref " + caseRef
	}
	return s
}

// Number is the operator's reply policy for one of the hotline's numbers.
type Number struct {
	// Off turns every automatic reply off (config: reply: none).
	Off bool
	// Default is the number's language: used when the message's language is
	// unknown or not in the catalog. Und means English.
	Default language.Tag
	// Text, when set, replaces the built-in acknowledgement in every
	// language that Texts does not name. CasePlaceholder in it is replaced by
	// the case reference.
	Text string
	// Texts are the operator's acknowledgements by language.
	Texts map[language.Tag]string
}

// AckFor returns the acknowledgement to send for a message in language
// detected (Und when unknown) that was queued as caseRef, on a number with
// policy n, and the language chosen. It returns "" when nothing is to be
// sent.
func (c *Catalog) AckFor(n Number, detected language.Tag, caseRef string) (string, language.Tag) {
	if n.Off || caseRef == "" {
		return "", language.Und
	}
	t := c.texts.Negotiate(detected, n.Default)
	if s, ok := c.lookupOverride(n.Texts, t); ok {
		return fill(s, caseRef), t
	}
	if n.Text != "" {
		return fill(n.Text, caseRef), t
	}
	return c.Ack(t, caseRef), t
}

func (c *Catalog) lookupOverride(texts map[language.Tag]string, t language.Tag) (string, bool) {
	if s := texts[t]; s != "" {
		return s, true
	}
	// zh-CN, tl, es-PE...: the first in a stable order.
	keys := make([]language.Tag, 0, len(texts))
	for k := range texts {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b language.Tag) int { return strings.Compare(a.String(), b.String()) })
	for _, k := range keys {
		if m, ok := c.texts.Match(k); ok && m == t && texts[k] != "" {
			return texts[k], true
		}
	}
	return "", false
}

func fill(s, caseRef string) string { return strings.ReplaceAll(s, CasePlaceholder, caseRef) }

// placeholderLike finds what an operator may have meant as a placeholder.
var placeholderLike = regexp.MustCompile(`\{\{?[^{}]*\}?\}`)

// Errors of ValidateOverride.
var (
	ErrOverrideEmpty       = errors.New("reply text is empty")
	ErrOverrideTooLong     = fmt.Errorf("reply text is longer than %d bytes", MaxOverride)
	ErrOverridePlaceholder = errors.New("reply text has an unknown placeholder; only {case} is replaced")
	ErrOverrideEncoding    = errors.New("reply text is not valid UTF-8")
)

// ValidateOverride checks an operator's reply text. The error never quotes
// the text (configuration problems are printed and logged).
func ValidateOverride(s string) error {
	switch {
	case strings.TrimSpace(s) == "":
		return ErrOverrideEmpty
	case !utf8.ValidString(s):
		return ErrOverrideEncoding
	case len(s) > MaxOverride:
		return ErrOverrideTooLong
	}
	for _, m := range placeholderLike.FindAllString(s, -1) {
		if m != CasePlaceholder {
			return ErrOverridePlaceholder
		}
	}
	return nil
}
