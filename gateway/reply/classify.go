package reply

import (
	"fmt"
	"strings"
	"unicode"

	"golang.org/x/text/language"
	"golang.org/x/text/unicode/norm"
)

// Kind is what a message asks of the hotline.
type Kind int

// Kinds of message. Only the whole message counts: "STOP" is an opt-out,
// "stop hitting us" is a report.
const (
	// Normal is a report, or part of one.
	Normal Kind = iota
	// Exit closes the sender's thread with no reply at all: the reporter
	// may need the conversation to end without a trace of an answer.
	Exit
	// OptOut is one of Twilio's opt-out keywords: on SMS Twilio blocks every
	// further message to the sender and sends its own confirmation; on
	// WhatsApp nobody does, so the gateway must hold itself to the same.
	// No message of any kind goes to the sender until OptIn.
	OptOut
	// OptIn is one of Twilio's opt-in keywords, which lift an opt-out. On
	// SMS Twilio confirms it itself.
	OptIn
	// Help is one of Twilio's help keywords, which Twilio answers itself on
	// SMS. On a tip line "HELP" may also be a cry for help: treat the
	// message as a report too, and do not add a reply of ours to Twilio's.
	Help
)

func (k Kind) String() string {
	switch k {
	case Normal:
		return "normal"
	case Exit:
		return "exit"
	case OptOut:
		return "opt-out"
	case OptIn:
		return "opt-in"
	case Help:
		return "help"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Acknowledged reports whether a message of this kind gets the automatic
// acknowledgement. Only a report does: Twilio answers the keywords on SMS
// itself, an exit word gets silence, and an opted-out sender gets nothing.
func (k Kind) Acknowledged() bool { return k == Normal }

// Twilio's standard keywords (Programmable Messaging, long codes and
// toll-free numbers; Advanced Opt-Out can change them per Messaging Service).
// Twilio acts only on a message that is the keyword alone.
var (
	OptOutWords = []string{"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
	OptInWords  = []string{"START", "YES", "UNSTOP"}
	HelpWords   = []string{"HELP", "INFO"}
)

// defaultExitWords close a thread silently. Each is the plain word for
// "exit" or "leave" as a phone menu would say it, and EXIT works in every
// language. A word a reporter would write alone for another reason is not
// one: LABAS ("outside") is, as a whole message, far more likely to be the
// exit word a Filipino reporter was told than a report.
var defaultExitWords = map[language.Tag][]string{
	language.English:           {"EXIT"},
	language.Spanish:           {"SALIR"},
	language.Malay:             {"KELUAR"},
	language.Indonesian:        {"KELUAR"},
	language.SimplifiedChinese: {"退出"},
	language.Filipino:          {"LABAS"},
	language.Thai:              {"ออก"},
	language.Vietnamese:        {"THOÁT"},
}

// ExitWords returns the built-in exit words by language (for the operator's
// documentation and the reporter's instructions).
func ExitWords() map[language.Tag][]string {
	out := make(map[language.Tag][]string, len(defaultExitWords))
	for k, v := range defaultExitWords {
		out[k] = append([]string(nil), v...)
	}
	return out
}

// Classifier sorts messages into kinds. It is safe for concurrent use.
type Classifier struct {
	words map[string]Kind // folded word -> kind
}

// defaultClassifier is built once from the constant lists.
var defaultClassifier = mustClassifier(nil)

// Classify returns the kind of a message by the built-in word lists.
func Classify(text string) Kind { return defaultClassifier.Classify(text) }

// NewClassifier returns a classifier that knows the operator's extra exit
// words besides the built-in ones. An extra word that is empty, longer than
// 32 bytes, or one of Twilio's keywords is an error: Twilio would act on it
// before the gateway saw it.
func NewClassifier(extraExit []string) (*Classifier, error) {
	c := &Classifier{words: map[string]Kind{}}
	for _, ws := range defaultExitWords {
		for _, w := range ws {
			c.words[foldWord(w)] = Exit
		}
	}
	for k, ws := range map[Kind][]string{OptOut: OptOutWords, OptIn: OptInWords, Help: HelpWords} {
		for _, w := range ws {
			c.words[foldWord(w)] = k
		}
	}
	for i, w := range extraExit {
		f := foldWord(w)
		switch {
		case f == "" || len(w) > 32:
			return nil, fmt.Errorf("exit word %d: must be one short word", i+1)
		case c.words[f] != Normal && c.words[f] != Exit:
			return nil, fmt.Errorf("exit word %d: is one of Twilio's %s keywords", i+1, c.words[f])
		}
		c.words[f] = Exit
	}
	return c, nil
}

func mustClassifier(extra []string) *Classifier {
	c, err := NewClassifier(extra)
	if err != nil {
		panic(err)
	}
	return c
}

// maxKeyword bounds the text that can be a keyword at all; a longer message
// is a report and is not folded.
const maxKeyword = 64

// Classify returns the kind of a message: the whole text, trimmed of spaces,
// punctuation and symbols at either end ("Stop.", "exit 🙏"), compared
// without regard to case, accents or width ("thoat", "ＳＴＯＰ").
func (c *Classifier) Classify(text string) Kind {
	if len(text) > 4*maxKeyword || lettersOver(text, maxKeyword) {
		return Normal
	}
	f := foldWord(text)
	if f == "" || len(f) > maxKeyword {
		return Normal
	}
	return c.words[f]
}

// lettersOver reports whether s has more than n letters and digits of the
// scripts in foldsToLetter: each one folds to at least one letter or digit
// (TestFoldsToLetter), which the trim at the ends keeps, so such a
// message folds to more than n bytes, and the fold (most of the cost of a
// report) can be skipped.
func lettersOver(s string, n int) bool {
	for _, r := range s {
		if foldsToLetter(r) {
			if n--; n < 0 {
				return true
			}
		}
	}
	return false
}

// foldsToLetter: r is a letter or digit of Latin (with Vietnamese), Thai
// or the CJK ideographs. Not every letter folds to one: a few Arabic
// presentation forms and half-width kana fold to marks alone.
func foldsToLetter(r rune) bool {
	switch {
	case r < 0x250, 0x0E00 <= r && r < 0x0E80, 0x1E00 <= r && r < 0x1F00, 0x4E00 <= r && r < 0xA000:
		return unicode.IsLetter(r) || unicode.IsDigit(r)
	}
	return false
}

// foldWord normalises a message for keyword matching: compatibility forms
// (full-width letters), lower case, no accents or other combining marks, no
// invisible formatting characters, spaces collapsed, and no punctuation or
// symbols at either end.
func foldWord(s string) string {
	var b strings.Builder
	space := false
	for _, r := range norm.NFKD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r), unicode.Is(unicode.Cf, r):
			continue
		case r == 'đ' || r == 'Đ':
			r = 'd'
		case unicode.IsSpace(r):
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(unicode.ToLower(r))
	}
	return strings.TrimFunc(b.String(), func(r rune) bool {
		return unicode.IsPunct(r) || unicode.IsSymbol(r) || unicode.IsSpace(r)
	})
}
