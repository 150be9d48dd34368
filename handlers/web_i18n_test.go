package handlers

import (
	"bytes"
	"crypto/sha256"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hotline-org/hotline/gateway/followup"
	"github.com/hotline-org/hotline/gateway/reply"
	"github.com/hotline-org/hotline/gateway/web"
)

var update = flag.Bool("update", false, "rewrite testdata/i18n from the current catalogs and templates")

// sampleArgs are what the messages with a value are rendered with in
// testdata/i18n/messages.TAG.txt.
var sampleArgs = map[string]any{
	"photo_hint": 8, "err_busy": 30, "sent_urgent": "105",
	"ago_minutes": 5, "ago_hours": 3, "ago_days": 4,
}

// TestWebMessagesGolden: every message of every language renders as
// testdata/i18n/messages.TAG.txt says, one "key<TAB>text" a line. The files
// were written from the catalogs before they moved to go-i18n: a change of
// mechanism must not change a word a witness reads.
func TestWebMessagesGolden(t *testing.T) {
	ls := mustLoadLocales()
	for _, tag := range ls.order {
		c := ls.get(tag)
		name := "testdata/i18n/messages." + tag + ".txt"
		if *update {
			var b strings.Builder
			for _, k := range webKeys(ls) {
				fmt.Fprintf(&b, "%s\t%s\n", k, render(c, k))
			}
			if err := os.WriteFile(name, []byte(b.String()), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(string(want), "\n"), "\n")
		if got := len(webKeys(ls)); got != len(lines) {
			t.Errorf("%s: %d messages, %s has %d", tag, got, name, len(lines))
		}
		for _, line := range lines {
			k, text, _ := strings.Cut(line, "\t")
			if got := render(c, k); got != text {
				t.Errorf("%s %s:\n got %q\nwant %q", tag, k, got, text)
			}
		}
	}
}

func render(c *catalog, key string) string {
	if arg, ok := sampleArgs[key]; ok {
		return c.F(key, arg)
	}
	return c.T(key)
}

// TestWebPagesGolden: each page in each language renders byte for byte as
// it did when testdata/i18n/pages.sha256 was written (sha256sum's format,
// one line a page and language), with every optional part shown.
func TestWebPagesGolden(t *testing.T) {
	ls := mustLoadLocales()
	pages := mustParsePages()
	now := time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)
	name := "testdata/i18n/pages.sha256"
	want := map[string]string{}
	if !*update {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			sum, file, _ := strings.Cut(line, "  ")
			want[file] = sum
		}
	}
	var sums strings.Builder
	for _, tag := range ls.order {
		for _, page := range []string{"report", "sent", "followup", "message"} {
			p := &pageData{L: ls.get(tag), Lang: tag, Nonce: "NONCE", ExitURL: "https://exit.example", Path: "/" + page,
				MaxPhoto: 8, Followup: true}
			p.setLangs(ls)
			switch page {
			case "report":
				p.Error = p.L.F("err_busy", 30)
				p.PhotoAgain = true
				p.Form = reportForm{Report: web.Report{Urgent: true, PhotoLocation: true}}
			case "sent":
				p.Receipt = &receiptView{Case: "7KQ2-M9XD", Code: "ABCD-EFGH", CodeGroups: []string{"ABCD", "EFGH"},
					Urgent: true, Emergency: "105", PhotoDropped: true}
			case "followup":
				p.Notice = p.L.T("fu_sent")
				p.Code = "ABCD-EFGH"
				info := followup.Info{Case: "7KQ2-M9XD", Urgent: true}
				var msgs []followup.Message
				for i, d := range []time.Duration{30 * time.Second, 5 * time.Minute, 3 * time.Hour, 100 * time.Hour} {
					msgs = append(msgs, followup.Message{From: []followup.Author{followup.Officer, followup.Witness}[i%2],
						Text: "text " + strconv.Itoa(i), At: now.Add(-d)})
				}
				p.Thread = threadOf(&followup.Thread{Info: info, Messages: msgs}, p.L, now)
			case "message":
				p.Error = p.L.T("err_unavailable")
			}
			var got bytes.Buffer
			if err := pages[page].ExecuteTemplate(&got, "layout", p); err != nil {
				t.Fatalf("%s %s: %v", page, tag, err)
			}
			file := page + "." + tag + ".html"
			sum := fmt.Sprintf("%x", sha256.Sum256(got.Bytes()))
			fmt.Fprintf(&sums, "%s  %s\n", sum, file)
			if !*update && sum != want[file] {
				t.Errorf("%s in %s differs from %s:\n%s", page, tag, name, got.Bytes())
			}
		}
	}
	if *update {
		if err := os.WriteFile(name, []byte(sums.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// webKeys lists the web form's message ids, sorted.
func webKeys(ls *locales) []string {
	var keys []string
	for _, id := range ls.texts.IDs() {
		if id != reply.MessageAck && !strings.HasPrefix(id, "Voice") {
			keys = append(keys, id)
		}
	}
	return keys
}

// TestTemplateKeys: every message a template uses exists.
func TestTemplateKeys(t *testing.T) {
	ids := map[string]bool{}
	for _, id := range mustLoadLocales().texts.IDs() {
		ids[id] = true
	}
	for _, name := range []string{"layout", "report", "sent", "followup", "message"} {
		b, err := webFS.ReadFile("web/templates/" + name + ".html")
		if err != nil {
			t.Fatal(err)
		}
		for _, use := range strings.Split(string(b), ".L.")[1:] {
			key, _, _ := strings.Cut(use[min(len(use), 3):], `"`)
			if !ids[key] {
				t.Errorf("%s.html uses unknown key %q", name, key)
			}
		}
	}
}
