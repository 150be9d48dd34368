package termsafe

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// checkVisible fails when out could act on a terminal.
func checkVisible(t *testing.T, in, out string, newlines bool) {
	t.Helper()
	for i := 0; i < len(out); i++ {
		c := out[i]
		if c == '\n' && newlines {
			continue
		}
		if c < 0x20 || c == 0x7f {
			t.Fatalf("String(%q) = %q: raw control byte %#x", in, out, c)
		}
	}
	if !utf8.ValidString(out) {
		t.Fatalf("String(%q) = %q: not UTF-8", in, out)
	}
	for _, r := range out {
		if r >= 0x80 && r <= 0x9f || r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 ||
			r >= 0x200b && r <= 0x200f || r == 0x2028 || r == 0x2029 || r == 0xfeff || r == 0x061c {
			t.Fatalf("String(%q) = %q: raw %U", in, out, r)
		}
	}
}

func TestString(t *testing.T) {
	for in, want := range map[string]string{
		"hola":                          "hola",
		"línea":                         "línea",
		"\x1b[2J\x1b[HCase: X":          `\x1b[2J\x1b[HCase: X`,
		"\x1b]52;c;ZXZpbA==\a":          `\x1b]52;c;ZXZpbA==\x07`,
		"a\nb\tc\r":                     `a\nb\tc\r`,
		"\u202eevil\u2066\u200b\u2028x": `\u202eevil\u2066\u200b\u2028x`,
		"\u009b31m\x7f":                 `\u009b31m\x7f`,
		"\x9b31m":                       `\x9b31m`,
		"\U000e0041":                    `\U000e0041`,
	} {
		if got := String(in); got != want {
			t.Errorf("String(%q) = %q, want %q", in, got, want)
		}
		checkVisible(t, in, String(in), false)
	}
	var b bytes.Buffer
	Block(&b, "message  ", "first\nCase: FAKE\r\nlast\x1b[1A")
	if got := b.String(); got != "message  first\n         Case: FAKE\n         last\\x1b[1A\n" {
		t.Fatalf("Block = %q", got)
	}
}

func TestWriteJSONStaysExact(t *testing.T) {
	in := map[string]string{"text": "a\x1b[2J\a\x7f\u0085\u202e\u2028\U000e0041 \"ok\" <b> é"}
	var b bytes.Buffer
	if err := JSON(&b, in, true); err != nil {
		t.Fatal(err)
	}
	checkVisible(t, in["text"], b.String(), true)
	var back map[string]string
	if err := json.Unmarshal(b.Bytes(), &back); err != nil || back["text"] != in["text"] {
		t.Fatalf("round trip: %q, %v", back["text"], err)
	}
}

func FuzzString(f *testing.F) {
	for _, s := range []string{"hola", "\x1b[2J", "\u202e", "a\nb", "\xc2\x9b", "\xff\xfe", "\U000e0041", "\u2028"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkVisible(t, s, String(s), false)
		var b bytes.Buffer
		Block(&b, "message  ", s)
		out := b.String()
		checkVisible(t, s, out, true)
		for i, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
			if i > 0 && !strings.HasPrefix(l, "         ") {
				t.Fatalf("continuation line %q is not indented", l)
			}
		}
		var j bytes.Buffer
		if err := JSON(&j, s, false); err != nil {
			t.Fatal(err)
		}
		checkVisible(t, s, strings.TrimSuffix(j.String(), "\n"), false)
		var back string
		if err := json.Unmarshal(j.Bytes(), &back); err != nil || (utf8.ValidString(s) && back != s) {
			t.Fatalf("JSON of %q = %s, back %q, %v", s, j.String(), back, err)
		}
	})
}
