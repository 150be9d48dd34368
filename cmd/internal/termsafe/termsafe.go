// Package termsafe renders text that came from outside (a reporter's
// message and fields, notes, ids and messages from the gateway) for an
// officer's terminal, so that it cannot act on the terminal.
package termsafe

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// String renders text that came from outside (a reporter's message and
// fields, notes, ids and messages from the gateway) for a terminal: every
// control character and every invisible formatting character is shown as
// an escape instead of acting on the terminal. It protects the officer
// against a report that clears the screen, moves the cursor to forge
// fields, writes the clipboard (OSC 52), rings the bell, or reorders what
// is shown with bidirectional overrides.
//
// Shown as \xNN: C0 controls (\n, \r and \t as those two-character escapes), DEL,
// and bytes that are not UTF-8 (a lone 0x9b is CSI to some terminals).
// Shown as \uNNNN: C1 controls, format characters (bidi embeddings,
// overrides and isolates, zero-width characters, the BOM...) and the line
// and paragraph separators.
func String(s string) string {
	if isPlain(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size <= 1 {
			fmt.Fprintf(&b, `\x%02x`, s[i])
			i++
			continue
		}
		i += size
		switch {
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case hidden(r) && r > 0xffff:
			fmt.Fprintf(&b, `\U%08x`, r)
		case hidden(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// hidden reports runes beyond ASCII that a terminal would act on or not
// show: C1 controls, format characters (Cf) and the separators of lines
// and paragraphs.
func hidden(r rune) bool {
	return r >= 0x80 && r <= 0x9f || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp)
}

func isPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}

// Lines renders a multi-line text (a report's message, a note) as
// lines made visible one by one, so that its own line breaks stay readable.
// The caller prints every line with an indent, so that a line such as
// "Case: X" in a report can never look like one of the CLI's fields.
func Lines(s string) []string {
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	for i, l := range lines {
		lines[i] = String(l)
	}
	return lines
}

// Message renders an error for the terminal: its own lines (the
// hint lines) are kept, and anything else in it made visible, since errors
// may quote what the gateway answered.
func Message(err error) string {
	return strings.Join(Lines(err.Error()), "\n")
}

// Block prints text under a label: the first line after it, every
// other line indented to the label's width.
func Block(w io.Writer, label, text string) {
	indent := strings.Repeat(" ", len(label))
	for i, l := range Lines(text) {
		if i == 0 {
			fmt.Fprintf(w, "%s%s\n", label, l)
		} else {
			fmt.Fprintf(w, "%s%s\n", indent, l)
		}
	}
}

// JSON prints v as JSON. encoding/json already escapes C0 controls,
// U+2028 and U+2029; DEL, C1 controls and other format characters are
// escaped here too (as \uNNNN, still the same JSON value), so that a
// --json output shown on a terminal cannot act on it either.
func JSON(w io.Writer, v any, indent bool) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	if indent {
		enc.SetIndent("", "  ")
	}
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write(escapeJSON(buf.Bytes()))
	return err
}

// escapeJSON escapes, as \uNNNN, the runes of encoded JSON that hidden or
// DEL match. They can only occur inside strings (JSON's own syntax is
// ASCII), where \uNNNN means the same rune.
func escapeJSON(b []byte) []byte {
	var out []byte
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r != 0x7f && (r < 0x80 || !hidden(r)) {
			if out != nil {
				out = append(out, b[i:i+size]...)
			}
			i += size
			continue
		}
		if out == nil {
			out = append(make([]byte, 0, len(b)+16), b[:i]...)
		}
		if r > 0xffff {
			hi, lo := utf16Pair(r)
			out = fmt.Appendf(out, `\u%04x\u%04x`, hi, lo)
		} else {
			out = fmt.Appendf(out, `\u%04x`, r)
		}
		i += size
	}
	if out == nil {
		return b
	}
	return out
}

func utf16Pair(r rune) (rune, rune) {
	r -= 0x10000
	return 0xd800 + (r>>10)&0x3ff, 0xdc00 + r&0x3ff
}
