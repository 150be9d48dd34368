package handlers_test

import (
	"context"
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/hotline-org/hotline/gateway"
	"github.com/hotline-org/hotline/gateway/followup"
	"github.com/hotline-org/hotline/gateway/gatewaytest"
	"github.com/hotline-org/hotline/gateway/photo/phototest"
	"github.com/hotline-org/hotline/gateway/web"
	"github.com/hotline-org/hotline/queue"
)

// The witness on a cheap phone (issue 13): nothing left behind, nothing
// lost, help when it is urgent. The browser's side is in
// web_browser_test.go; these check what the server sends.

var (
	controlRe = regexp.MustCompile(`<(form|input|textarea|select)\b[^>]*>`)
	langAttr  = regexp.MustCompile(`<html lang="([^"]+)">`)
)

// TestWebNothingRestorable: every form and every control of the witness's
// pages opts out of autofill and form restoration, the pages are never
// stored, and each carries the short safety note in its language.
func TestWebNothingRestorable(t *testing.T) {
	h := newWebHarness(t)
	_, code := receipt(t, h.post(t, formOf("message", "restorable?", "urgent", "1")))
	pages := map[string]webResponse{
		"report":             h.do(t, "GET", "/report?lang=th", "", nil),
		"report with error":  h.post(t, formOf("lang", "th", "message", "x", "position", "nowhere")),
		"followup code form": h.do(t, "GET", "/followup?lang=th", "", nil),
		"followup thread": h.do(t, "POST", "/followup", "application/x-www-form-urlencoded",
			[]byte(url.Values{"code": {code}, "lang": {"th"}}.Encode())),
		"sent": h.post(t, formOf("lang", "th", "message", "sent page")),
	}
	for name, r := range pages {
		if got := r.header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("%s: Cache-Control %q, want no-store", name, got)
		}
		if !strings.Contains(r.body, "Tor Browser") || !strings.Contains(r.body, "หน้าต่างส่วนตัว") {
			t.Errorf("%s: no safety note in Thai", name)
		}
		for _, tag := range controlRe.FindAllString(r.body, -1) {
			if !strings.Contains(tag, `autocomplete="off"`) {
				t.Errorf("%s: %s can be restored or autofilled", name, tag)
			}
		}
	}
	if n := len(controlRe.FindAllString(pages["report"].body, -1)); n < 10 {
		t.Errorf("the form has %d controls: the check above saw too little", n)
	}
}

// longest returns the longest text of phrase repeated that is at most
// maxBytes long in UTF-8 and maxChars characters, ending in a letter.
func longest(phrase string, maxBytes, maxChars int) string {
	var b strings.Builder
	n := 0
	for {
		for _, r := range phrase {
			if b.Len()+utf8.RuneLen(r) > maxBytes || n+1 > maxChars {
				return strings.TrimRight(b.String(), " ")
			}
			b.WriteRune(r)
			n++
		}
	}
}

var scripts = []struct{ lang, phrase string }{
	{"th", "คนงานถูกขังอยู่ในโรงงานริมแม่น้ำ "},
	{"zh-Hans", "工人被锁在河边的工厂里"},
	{"vi", "Người lao động bị nhốt trong xưởng cạnh sông "},
}

// TestWebLongestText: the longest text allowed, in Thai, Chinese and
// Vietnamese, goes through /report (as the browser sends it and
// URL-encoded) and /followup and reaches the officer whole; an error page
// gives it back whole, with the code and the page's language.
func TestWebLongestText(t *testing.T) {
	h := newWebHarness(t)
	ctx := context.Background()
	for _, sc := range scripts {
		t.Run(sc.lang, func(t *testing.T) {
			report := longest(sc.phrase, gateway.MaxTextBytes, 1<<20)
			answer := longest(sc.phrase, followup.MaxMessageBytes, followup.MaxMessageChars)
			if utf8.RuneCountInString(answer) < followup.MaxMessageChars-1 {
				t.Fatalf("answer of %d characters: the test does not reach the limit", utf8.RuneCountInString(answer))
			}

			// A report with an error first: the page gives the whole text back.
			r := h.post(t, formOf("lang", sc.lang, "message", report, "position", "by the river"))
			if r.status != 400 || !strings.Contains(r.body, ">\n"+html.EscapeString(report)+"</textarea>") {
				t.Fatalf("error page %d does not hold the whole text", r.status)
			}
			if m := langAttr.FindStringSubmatch(r.body); m == nil || m[1] != sc.lang {
				t.Errorf("error page in %v, want %s", m, sc.lang)
			}

			ct, body := formOf("lang", sc.lang, "message", report).urlencoded()
			for _, send := range []func() webResponse{
				func() webResponse { return h.post(t, formOf("lang", sc.lang, "message", report)) },
				func() webResponse { return h.do(t, "POST", "/report", ct, body) },
			} {
				receipt(t, send())
				_, rep := h.claimOne(t, gatewaytest.Lima)
				if rep.Text != report {
					t.Fatalf("officer got %d of %d bytes", len(rep.Text), len(report))
				}
			}
			caseRef, code := receipt(t, h.post(t, formOf("lang", sc.lang, "message", report)))
			h.claimOne(t, gatewaytest.Lima)

			// The answer on /followup, as the page's form sends it.
			post := func(code, answer string) webResponse {
				return h.do(t, "POST", "/followup", "application/x-www-form-urlencoded",
					[]byte(url.Values{"lang": {sc.lang}, "code": {code}, "answer": {answer}}.Encode()))
			}
			wrong := followup.NewCode()
			for name, tc := range map[string]struct {
				r    webResponse
				sent string
			}{
				"unknown code": {post(wrong, answer), answer},
				"too long":     {post(code, answer+"ก"), answer + "ก"},
			} {
				r := tc.r
				if r.status < 400 || !strings.Contains(r.body, ">\n"+html.EscapeString(tc.sent)+"</textarea>") {
					t.Errorf("%s: status %d, the answer is not given back whole", name, r.status)
				}
				if !strings.Contains(r.body, `name="code" type="text" value="`+wrong+`"`) && !strings.Contains(r.body, `name="code" value="`+code+`"`) {
					t.Errorf("%s: the code is not kept", name)
				}
				if m := langAttr.FindStringSubmatch(r.body); m == nil || m[1] != sc.lang {
					t.Errorf("%s: page in %v, want %s", name, m, sc.lang)
				}
			}
			// A body over the cap, fields in the page's order (as browsers
			// send them): cut, and the page keeps the code, the language and
			// the start of the text.
			huge := strings.Repeat(answer, 3)
			r = h.do(t, "POST", "/followup", "application/x-www-form-urlencoded",
				[]byte("lang="+url.QueryEscape(sc.lang)+"&code="+url.QueryEscape(code)+"&answer="+url.QueryEscape(huge)))
			if r.status != 413 || !strings.Contains(r.body, `name="code" value="`+code+`"`) || !strings.Contains(r.body, ">\n"+html.EscapeString(answer)) {
				t.Errorf("body over the cap: status %d, the code or the text is not kept", r.status)
			}
			if m := langAttr.FindStringSubmatch(r.body); m == nil || m[1] != sc.lang {
				t.Errorf("body over the cap: page in %v, want %s", m, sc.lang)
			}
			r = post(code, answer)
			if r.status != 200 || !strings.Contains(r.body, `id="notice"`) {
				t.Fatalf("longest answer: status %d", r.status)
			}
			_, _, ans := h.appended(t, gatewaytest.Lima, caseRef)
			if ans.Text != answer {
				t.Fatalf("officer got %d of %d bytes of the answer", len(ans.Text), len(answer))
			}
			th, err := h.followups.Open(ctx, code)
			if err != nil || len(th.Messages) != 1 || th.Messages[0].Text != answer {
				t.Errorf("the witness's copy of the answer is not whole: %v", err)
			}
		})
	}
}

// TestWebUrgent: an urgent report's answer page gives the emergency number
// of the agency it went to and says what happens next; without a number it
// still says what happens next; the witness's answers stay urgent.
func TestWebUrgent(t *testing.T) {
	h := newWebHarness(t, func(o *webConfig) {
		o.Channel.Emergency = map[string]string{gatewaytest.Lima: "105"}
	})
	next := "What happens next: a police officer for that area reads your report."
	for _, tc := range []struct {
		name, position string
		urgent         bool
		agency         string
		want, notWant  []string
	}{
		{"urgent in Lima", "-12.0464, -77.0428", true, gatewaytest.Lima,
			[]string{"If someone is in danger right now, call 105.", `href="tel:105"`, next}, nil},
		{"urgent in Kuala Lumpur, no number", "3.1390, 101.6869", true, gatewaytest.KL,
			[]string{"You marked this as urgent: it goes first in the officers' list.", next}, []string{"tel:", "danger right now"}},
		{"not urgent", "-12.0464, -77.0428", false, gatewaytest.Lima,
			[]string{next}, []string{"tel:", "urgent"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := formOf("lang", "en", "message", "people locked in", "position", tc.position)
			if tc.urgent {
				f.fields = append(f.fields, [2]string{"urgent", "1"})
			}
			r := h.post(t, f)
			caseRef, code := receipt(t, r)
			for _, w := range tc.want {
				if !strings.Contains(html.UnescapeString(r.body), w) {
					t.Errorf("answer page lacks %q", w)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(html.UnescapeString(r.body), w) {
					t.Errorf("answer page holds %q", w)
				}
			}
			c, _ := h.claimOne(t, tc.agency)
			if (c.Priority == queue.Urgent) != tc.urgent {
				t.Errorf("report priority %s", c.Priority)
			}
			r = h.do(t, "POST", "/followup", "application/x-www-form-urlencoded",
				[]byte(url.Values{"lang": {"en"}, "code": {code}, "answer": {"still here"}}.Encode()))
			if r.status != 200 {
				t.Fatalf("answer: %d", r.status)
			}
			if strings.Contains(r.body, `id="fu-urgent"`) != tc.urgent {
				t.Errorf("follow-up page: urgent note shown %v, want %v", !tc.urgent, tc.urgent)
			}
			l, m, ans := h.appended(t, tc.agency, caseRef)
			if ans.Text != "still here" || (m.Priority == queue.Urgent) != tc.urgent || (l.Priority == queue.Urgent) != tc.urgent {
				t.Errorf("answer on the case: priority %s (case %s), want urgent=%v", m.Priority, l.Priority, tc.urgent)
			}
		})
	}
	// The Spanish page says it in Spanish.
	r := h.post(t, formOf("lang", "es", "message", "urgente", "urgent", "1"))
	if !strings.Contains(r.body, "llame al 105") || !strings.Contains(r.body, "Qué pasa ahora") {
		t.Errorf("Spanish answer page lacks the number or what happens next")
	}
}

// TestWebPhotos: up to five photos go, each cleaned; when the form comes
// back with an error the page says plainly, in the witness's language,
// that the photos must be chosen again.
func TestWebPhotos(t *testing.T) {
	h := newWebHarness(t)
	pic := func(i int) []byte { return phototest.JPEG(16+i, 16, phototest.EXIF{Make: "CanaryMake"}) }
	f := formOf("lang", "es", "message", "cinco fotos")
	f.photo = pic(0)
	for i := 1; i < 5; i++ {
		f.photos = append(f.photos, pic(i))
	}
	receipt(t, h.post(t, f))
	_, rep := h.claimOne(t, gatewaytest.Lima)
	if len(rep.Media) != 5 {
		t.Fatalf("%d photos reached the officer, want 5", len(rep.Media))
	}
	for _, m := range rep.Media {
		if strings.Contains(string(m.Data), "CanaryMake") {
			t.Error("a photo was not cleaned")
		}
	}

	six := f
	six.photos = append(append([][]byte{}, f.photos...), pic(6))
	bad := f
	bad.fields = append(append([][2]string{}, f.fields...), [2]string{"position", "junto al río"})
	for name, r := range map[string]webResponse{"six photos": h.post(t, six), "bad position": h.post(t, bad)} {
		if r.status < 400 || !strings.Contains(r.body, `id="photo-again"`) || !strings.Contains(r.body, "Vuelva a elegirlas antes de enviar") {
			t.Errorf("%s: status %d, no note in Spanish that the photos must be chosen again", name, r.status)
		}
		if !strings.Contains(r.body, "cinco fotos</textarea>") {
			t.Errorf("%s: the text is not kept", name)
		}
	}
	// Without photos there is nothing to choose again.
	if r := h.post(t, formOf("lang", "es", "message", "x", "position", "junto al río")); strings.Contains(r.body, `id="photo-again"`) {
		t.Error("photo note without a photo")
	}
}

// TestWebPosition: the exact position box takes what people paste; lat and
// lon fields (the external contract) still work; an error shows the format.
func TestWebPosition(t *testing.T) {
	h := newWebHarness(t)
	for _, tc := range []struct {
		fields   []string
		agency   string
		lat, lon float64
	}{
		{[]string{"position", "-12.05, -77.04"}, gatewaytest.Lima, -12.05, -77.04},
		{[]string{"position", "-12,05 -77,04"}, gatewaytest.Lima, -12.05, -77.04},
		{[]string{"position", "-12,05, -77,04"}, gatewaytest.Lima, -12.05, -77.04},
		{[]string{"position", `12°03'00"S 77°02'24"W`}, gatewaytest.Lima, -12.05, -77.04},
		{[]string{"position", `3°08'20"N 101°41'13"E`}, gatewaytest.KL, 3.1389, 101.6869},
		{[]string{"lat", "3.1390", "lon", "101.6869"}, gatewaytest.KL, 3.139, 101.6869},
	} {
		name := strings.Join(tc.fields, "=")
		receipt(t, h.post(t, formOf(append([]string{"message", "here"}, tc.fields...)...)))
		_, rep := h.claimOne(t, tc.agency)
		if rep.Location == nil || abs(rep.Location.Lat-tc.lat) > 1e-3 || abs(rep.Location.Lon-tc.lon) > 1e-3 {
			t.Errorf("%s: location %+v, want %v,%v", name, rep.Location, tc.lat, tc.lon)
		}
	}
	r := h.do(t, "GET", "/report?lang=vi", "", nil)
	if !strings.Contains(r.body, `id="position"`) || !strings.Contains(r.body, "ví dụ: 10.7769, 106.7009") {
		t.Error("the position box or its example is missing")
	}
	r = h.post(t, formOf("lang", "vi", "message", "x", "position", "gần chợ"))
	if r.status != 400 || !strings.Contains(r.body, "Hãy viết như 10.7769, 106.7009") || !strings.Contains(r.body, `value="gần chợ"`) {
		t.Errorf("position error: %d, want the format shown and the text kept", r.status)
	}
}

// TestWebPositionExamples: every example of a position the pages give, in
// each language (the box's hint, and the format an error asks for), is
// taken by the box as it is written there: a witness copies them.
func TestWebPositionExamples(t *testing.T) {
	h := newWebHarness(t, func(o *webConfig) { o.Channel.RateLimit = web.Rate{Count: 1000, Period: time.Hour} })
	hintRe := regexp.MustCompile(`id="position-hint">([^<]*)</p>`)
	errorRe := regexp.MustCompile(`id="error">([^<]*)</p>`)
	exampleRe := regexp.MustCompile(`-?\d+[.,]\d+, -?\d+[.,]\d+|\d+°\d+'\d+"[A-Z] \d+°\d+'\d+"[A-Z]`)
	for _, lang := range []string{"en", "es", "ms", "zh-Hans", "id", "fil", "th", "vi"} {
		hint := hintRe.FindStringSubmatch(h.do(t, "GET", "/report?lang="+lang, "", nil).body)
		bad := h.post(t, formOf("lang", lang, "message", "x", "position", "?"))
		shown := errorRe.FindStringSubmatch(bad.body)
		if hint == nil || shown == nil || bad.status != 400 {
			t.Fatalf("%s: no position hint, or no error for a position that is none (%d)", lang, bad.status)
		}
		examples := exampleRe.FindAllString(html.UnescapeString(hint[1]), -1)
		if len(examples) != 2 {
			t.Errorf("%s: hint %q gives %d examples, want a decimal one and one in degrees, minutes, seconds", lang, hint[1], len(examples))
		}
		inError := exampleRe.FindAllString(html.UnescapeString(shown[1]), -1)
		if len(inError) == 0 {
			t.Errorf("%s: the error %q shows no format", lang, shown[1])
		}
		for _, ex := range append(examples, inError...) {
			if r := h.post(t, formOf("lang", lang, "message", "x", "position", ex)); r.status != 200 {
				t.Errorf("%s: the example %q is refused (%d)", lang, ex, r.status)
			}
		}
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// TestWebReceiptCode: 16 symbols in four groups that never break, a
// sentence next to the reference, and a code typed as read opens the thread.
func TestWebReceiptCode(t *testing.T) {
	h := newWebHarness(t)
	r := h.post(t, formOf("lang", "fil", "message", "code"))
	_, code := receipt(t, r)
	if !regexp.MustCompile(`^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$`).MatchString(code) {
		t.Fatalf("code %q: want four groups of four from the unambiguous alphabet", code)
	}
	if n := strings.Count(r.body, `<span class="grp">`); n != 4 {
		t.Errorf("%d unbreakable groups, want 4", n)
	}
	if !strings.Contains(r.body, `id="ref-hint"`) || !strings.Contains(r.body, "Ang reperensiya ang pangalan ng iyong ulat") {
		t.Error("no sentence about the reference and the code, in Filipino")
	}
	css := h.do(t, "GET", "/static/web.css", "", nil).body
	if !strings.Contains(css, ".code .grp { white-space: nowrap; }") {
		t.Error("the groups may break")
	}
	typed := strings.ToLower(strings.NewReplacer("0", "O", "1", "I", "-", " ").Replace(code))
	r = h.do(t, "POST", "/followup", "application/x-www-form-urlencoded", []byte(url.Values{"code": {typed}}.Encode()))
	if r.status != 200 || !strings.Contains(r.body, `id="answer-form"`) {
		t.Errorf("code typed as read (%q): status %d", typed, r.status)
	}
}

// TestWebFollowupTimes: times are "N minutes ago" in the page's language,
// with the exact time for the page's script; never a UTC clock.
func TestWebFollowupTimes(t *testing.T) {
	h := newWebHarness(t)
	_, code := receipt(t, h.post(t, formOf("message", "times")))
	_, rep := h.claimOne(t, gatewaytest.Lima)
	if err := h.followups.PostQuestion(context.Background(), rep.Followup, "¿Cuántos?"); err != nil {
		t.Fatal(err)
	}
	for lang, want := range map[string]string{"en": "just now", "es": "hace un momento", "th": "เมื่อสักครู่"} {
		r := h.do(t, "POST", "/followup", "application/x-www-form-urlencoded", []byte(url.Values{"code": {code}, "lang": {lang}}.Encode()))
		if !regexp.MustCompile(`<time datetime="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ">` + regexp.QuoteMeta(want) + `</time>`).MatchString(r.body) {
			t.Errorf("%s: no %q with its datetime", lang, want)
		}
		if strings.Contains(r.body, " UTC<") {
			t.Errorf("%s: a UTC clock is shown", lang)
		}
	}
}

// TestWebFollowupGuessesLimited: attempts at /followup stay rate limited
// with the shorter receipt codes: past the network's allowance (the
// refused bucket's, which openings count in, so that they never spend the
// network's reports) a code is no longer even tried, and the page keeps
// the code, the answer and the language.
func TestWebFollowupGuessesLimited(t *testing.T) {
	h := newWebHarness(t, func(o *webConfig) { o.Channel.InvalidRateLimit = web.Rate{Count: 2, Period: time.Hour} })
	_, code := receipt(t, h.post(t, formOf("lang", "vi", "message", "một báo cáo")))
	try := func(code string) webResponse {
		return h.do(t, "POST", "/followup", "application/x-www-form-urlencoded",
			[]byte(url.Values{"lang": {"vi"}, "code": {code}, "answer": {"câu trả lời"}}.Encode()))
	}
	for i := range 2 {
		if r := try(followup.NewCode()); r.status != 404 {
			t.Fatalf("guess %d: status %d, want 404", i+1, r.status)
		}
	}
	r := try(code) // the right code, after the allowance is spent
	if r.status != 429 || !strings.Contains(r.body, `value="`+code+`"`) || !strings.Contains(r.body, "câu trả lời</textarea>") {
		t.Errorf("over the limit: status %d, want 429 with the code and the answer kept", r.status)
	}
	if m := langAttr.FindStringSubmatch(r.body); m == nil || m[1] != "vi" {
		t.Errorf("over the limit: page in %v, want vi", m)
	}
}
