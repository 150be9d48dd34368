package handlers_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"html/template"
	"math/bits"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hotline-org/hotline/gateway"
	"github.com/hotline-org/hotline/gateway/followup"
	"github.com/hotline-org/hotline/gateway/gatewaytest"
	"github.com/hotline-org/hotline/gateway/photo/phototest"
	"github.com/hotline-org/hotline/gateway/web"
	"github.com/hotline-org/hotline/queue"
)

const onion = "http://hotlinexxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.onion"

var nonceRe = regexp.MustCompile(`<script\b[^>]*\bnonce="([^"]+)"`)

// TestWebHeaders checks the headers of every route, errors and 404s
// included: the strict defaults everywhere, no cookie ever, and on HTML
// pages a CSP whose nonce is the one on the page's only script tag.
func TestWebHeaders(t *testing.T) {
	h := newWebHarness(t, func(o *webConfig) { o.Web.OnionAddress = onion })
	form := func(kv ...string) (string, []byte) { return formOf(kv...).multipart() }
	for _, tc := range []struct {
		method, path string
		body         func() (string, []byte)
		status       int
		html         bool
	}{
		{"GET", "/report", nil, 200, true},
		{"HEAD", "/report", nil, 200, true},
		{"GET", "/report?lang=th", nil, 200, true},
		{"POST", "/report", func() (string, []byte) { return form("message", "help", "lang", "vi") }, 200, true},
		{"POST", "/report", func() (string, []byte) { return form("message", " ") }, 400, true},
		{"POST", "/report", func() (string, []byte) { return "text/plain", []byte("message=x") }, 400, true},
		{"POST", "/report", func() (string, []byte) { return form("message", strings.Repeat("x", gateway.MaxTextBytes+1)) }, 413, true},
		{"GET", "/followup", nil, 200, true},
		{"GET", "/followup?code=" + followup.NewCode(), nil, 404, true},
		{"POST", "/followup", func() (string, []byte) { return "application/x-www-form-urlencoded", []byte("code=AAAA") }, 400, true},
		{"GET", "/", nil, 303, false},
		{"GET", "/static/web.css", nil, 200, false},
		{"GET", "/static/web.js", nil, 200, false},
		{"GET", "/static/nope.png", nil, 404, false},
		{"GET", "/static/layout.html", nil, 404, false},
		{"GET", "/favicon.ico", nil, 204, false},
		{"GET", "/nope", nil, 404, false},
		{"GET", "/report/../etc/passwd", nil, 301, false}, // the router cleans the path
		{"DELETE", "/report", nil, 405, false},
		{"PUT", "/followup", nil, 405, false},
		{"GET", "/healthz", nil, 200, false},
		{"POST", "/twilio/sms", func() (string, []byte) { return "application/x-www-form-urlencoded", []byte("From=x") }, 403, false},
		{"GET", "/api/v1/me", nil, 401, false},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			var ctype string
			var body []byte
			if tc.body != nil {
				ctype, body = tc.body()
			}
			r := h.do(t, tc.method, tc.path, ctype, body)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d\n%s", r.status, tc.status, r.body)
			}
			for k, want := range map[string]string{
				"X-Content-Type-Options": "nosniff",
				"X-Frame-Options":        "DENY",
				"Referrer-Policy":        "no-referrer",
				"Cache-Control":          "no-store",
			} {
				if got := r.header.Get(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			csp := r.header.Get("Content-Security-Policy")
			if !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "unsafe-") || !strings.Contains(csp, "default-src 'none'") {
				t.Errorf("CSP %q", csp)
			}
			if c := r.header.Values("Set-Cookie"); len(c) > 0 {
				t.Errorf("sets a cookie: %v", c)
			}
			pp := r.header.Get("Permissions-Policy")
			if !tc.html {
				if strings.Contains(pp, "geolocation=(self)") {
					t.Errorf("Permissions-Policy %q allows geolocation outside the form", pp)
				}
				return
			}
			if !strings.Contains(pp, "geolocation=(self)") || !strings.Contains(pp, "camera=()") {
				t.Errorf("Permissions-Policy %q", pp)
			}
			if got := r.header.Get("Onion-Location"); got != onion+strings.SplitN(tc.path, "?", 2)[0] {
				t.Errorf("Onion-Location %q", got)
			}
			if !strings.HasPrefix(r.header.Get("Content-Type"), "text/html; charset=utf-8") {
				t.Errorf("Content-Type %q", r.header.Get("Content-Type"))
			}
			if tc.method == "HEAD" {
				return
			}
			scripts := strings.Count(r.body, "<script")
			m := nonceRe.FindAllStringSubmatch(r.body, -1)
			if scripts != 1 || len(m) != 1 || !strings.Contains(csp, "script-src 'nonce-"+m[0][1]+"'") || len(m[0][1]) < 22 {
				t.Errorf("script tags %d, nonces %v, CSP %q: want one script carrying the CSP's nonce", scripts, m, csp)
			}
			for _, attr := range []string{"onclick=", "onload=", "onerror=", "javascript:", "style="} {
				if strings.Contains(r.body, attr) {
					t.Errorf("page has inline %s, which the CSP forbids", attr)
				}
			}
		})
	}
	// Nonces differ between responses.
	a, b := h.do(t, "GET", "/report", "", nil), h.do(t, "GET", "/report", "", nil)
	if a.header.Get("Content-Security-Policy") == b.header.Get("Content-Security-Policy") {
		t.Error("the CSP nonce repeats")
	}
}

// TestNoResponseSetsCookie walks a whole visit (form, error, report,
// follow-up, answer) with a cookie jar: it stays empty.
func TestNoResponseSetsCookie(t *testing.T) {
	h := newWebHarness(t)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	read := func(resp *http.Response, err error) string {
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var buf bytes.Buffer
		buf.ReadFrom(resp.Body)
		return buf.String()
	}
	get := func(path string) string { return read(c.Get(h.srv.URL + path)) }
	post := func(path string, v url.Values) string { return read(c.PostForm(h.srv.URL+path, v)) }
	get("/")
	get("/report?lang=es")
	post("/report", url.Values{"message": {""}})
	sent := post("/report", url.Values{"message": {"cookie walk"}, "lang": {"en"}})
	_, code := receipt(t, webResponse{status: 200, body: sent})
	get("/followup?code=" + code)
	post("/followup", url.Values{"code": {code}, "answer": {"an answer"}})
	get("/static/web.css")
	get("/nope")
	u, _ := url.Parse(h.srv.URL)
	if cs := jar.Cookies(u); len(cs) > 0 {
		t.Errorf("cookies were set: %v", cs)
	}
}

// TestWebErrorsKeepText: every failed submission renders the form again
// with the right status, a short message, and the witness's text in the
// textarea, HTML-escaped, and nowhere else on the page.
func TestWebErrorsKeepText(t *testing.T) {
	const message = `Nos tienen <b>encerrados</b> & "sin pago" canary-5e1f`
	escaped := template.HTMLEscapeString(message)
	photoBig := bytes.Repeat([]byte{0xff}, 1<<20+1) // MaxPhoto is 1 MiB in the harness
	long := strings.Repeat("palabra ", gateway.MaxTextBytes/8+1)
	for _, tc := range []struct {
		name    string
		opts    func(*webConfig)
		send    func(h *webHarness) webResponse
		status  int
		errText string
		keep    string // what the textarea must hold; message when empty
	}{
		{"empty message", nil, func(h *webHarness) webResponse {
			return h.post(t, formOf("lang", "en", "message", " \n ", "location", message))
		}, 400, "Please write what is happening.", "-"},
		{"message too long", nil, func(h *webHarness) webResponse {
			return h.post(t, formOf("lang", "en", "message", message+long))
		}, 413, "Your text is too long.", ""},
		{"message far too long", nil, func(h *webHarness) webResponse {
			return h.post(t, formOf("lang", "en", "message", message+strings.Repeat(long, 8)))
		}, 413, "Your text is too long.", ""},
		{"honeypot filled", nil, func(h *webHarness) webResponse {
			return h.post(t, formOf("lang", "en", "message", message, "website", "http://spam.example"))
		}, 400, "Something went wrong.", ""},
		{"bad coordinates", nil, func(h *webHarness) webResponse {
			return h.post(t, formOf("lang", "en", "message", message, "lat", "-12.1", "lon", "200"))
		}, 400, "We could not read this position. Write it like -12.0464, -77.0428", ""},
		{"position not understood", nil, func(h *webHarness) webResponse {
			return h.post(t, formOf("lang", "en", "message", message, "position", "near the market"))
		}, 400, "We could not read this position. Write it like -12.0464, -77.0428", ""},
		{"photo over the limit", nil, func(h *webHarness) webResponse {
			f := formOf("lang", "en", "message", message)
			f.photo = photoBig
			return h.post(t, f)
		}, 413, "The photo is too large.", ""},
		{"body declared over the limit", nil, func(h *webHarness) webResponse {
			f := formOf("lang", "en", "message", message)
			f.photo = bytes.Repeat([]byte{0xff}, 3<<20)
			return h.post(t, f)
		}, 413, "The photo is too large.", ""},
		{"not a photo", nil, func(h *webHarness) webResponse {
			f := formOf("lang", "en", "message", message)
			f.photo = []byte("MZ\x90\x00 an executable, say")
			return h.post(t, f)
		}, 400, "We cannot read this file.", ""},
		{"url-encoded body over the limit", nil, func(h *webHarness) webResponse {
			ct, b := formOf("lang", "en", "message", message+strings.Repeat(long, 20)).urlencoded()
			return h.do(t, "POST", "/report", ct, b)
		}, 413, "What you sent is too large.", ""},
		{"queue unavailable", func(o *webConfig) { o.Intake = failingIntake{} }, func(h *webHarness) webResponse {
			return h.post(t, formOf("lang", "en", "message", message))
		}, 503, "Not sent.", ""},
		{"rate limited", func(o *webConfig) { o.Channel.RateLimit = web.Rate{Count: 2, Period: time.Hour} }, func(h *webHarness) webResponse {
			for range 2 {
				if r := h.post(t, formOf("message", "fine")); r.status != 200 {
					t.Fatalf("status %d before the limit", r.status)
				}
			}
			return h.post(t, formOf("lang", "en", "message", message))
		}, 429, "Too many reports from your network.", ""},
		{"proof of work missing", func(o *webConfig) { o.Channel.PoW, o.Channel.PoWWait = web.PoWAlways, -1 }, func(h *webHarness) webResponse {
			return h.post(t, formOf("lang", "en", "message", message))
		}, 429, "Many reports are arriving right now. Please wait 30 seconds", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var opts []func(*webConfig)
			if tc.opts != nil {
				opts = append(opts, tc.opts)
			}
			h := newWebHarness(t, opts...)
			r := tc.send(h)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d\n%s", r.status, tc.status, r.body)
			}
			if !strings.Contains(r.body, `<p class="error" role="alert" id="error">`+tc.errText) {
				t.Errorf("no error %q in\n%s", tc.errText, r.body)
			}
			if (tc.status == 503 || tc.status == 429) && r.header.Get("Retry-After") == "" {
				t.Error("no Retry-After")
			}
			if strings.Contains(r.body, "<b>encerrados") {
				t.Error("the text is echoed unescaped")
			}
			ta := regexp.MustCompile(`(?s)<textarea id="message"[^>]*>\n(.*?)</textarea>`).FindStringSubmatch(r.body)
			if ta == nil {
				t.Fatal("no textarea")
			}
			switch tc.keep {
			case "-": // the message was empty; the location is kept instead
				if !strings.Contains(r.body, `value="`+escaped+`"`) {
					t.Error("the location was not kept")
				}
			case "":
				if !strings.HasPrefix(ta[1], escaped) {
					t.Errorf("textarea holds %.80q, want the text typed", ta[1])
				}
				if n := strings.Count(r.body, "canary-5e1f"); n != 1 {
					t.Errorf("the text appears %d times on the page, want once (in the textarea)", n)
				}
			}
			if _, err := h.Queue.Claim(context.Background(), gatewaytest.Lima, "o"); err != queue.ErrEmpty && tc.name != "rate limited" {
				t.Errorf("a failed submission queued a tip: %v", err)
			}
		})
	}
}

// TestWebReport sends a full report, photo included, and opens it as the
// agency: the text, contact and urgency are sealed in, the photo lost its
// metadata but its position was used because the witness asked.
func TestWebReport(t *testing.T) {
	h := newWebHarness(t)
	f := formOf("lang", "id", "message", "Pekerja dikurung\r\ndi gudang", "contact", "Signal +62 812 0000", "urgent", "1", "photo_location", "1")
	// Taken in Kuala Lumpur: the photo's position routes the tip there.
	f.photo = phototest.JPEG(120, 80, phototest.EXIF{Lat: 3.139, Lon: 101.6869, Make: "CanaryPhoneMake", Orientation: 6})
	caseRef, code := receipt(t, h.post(t, f))
	c, rep := h.claimOne(t, gatewaytest.KL)
	if c.Case != caseRef || c.Priority != queue.Urgent || c.Channel != "web" {
		t.Errorf("entry %+v", c.Entry)
	}
	if rep.Text != "Pekerja dikurung\ndi gudang" || rep.Contact != "Signal +62 812 0000" || rep.Language != "id" || !rep.Urgent {
		t.Errorf("report %+v", rep)
	}
	if rep.Location == nil || rep.Location.Source != "photo_exif" || rep.Location.Lat < 3.13 || rep.Location.Lat > 3.14 {
		t.Errorf("location %+v, want the photo's", rep.Location)
	}
	if len(rep.Media) != 1 || rep.Media[0].ContentType != "image/jpeg" || bytes.Contains(rep.Media[0].Data, []byte("CanaryPhoneMake")) || bytes.Contains(rep.Media[0].Data, []byte("Exif")) {
		t.Errorf("media not cleaned: %d items", len(rep.Media))
	}
	if handle, _ := h.followups.Handle(code); rep.Followup != handle {
		t.Errorf("followup %q, want %q", rep.Followup, handle)
	}

	// Without the box ticked, the photo's position is dropped with the rest.
	f = formOf("message", "otra foto")
	f.photo = phototest.JPEG(20, 20, phototest.EXIF{Lat: 3.139, Lon: 101.6869})
	receipt(t, h.post(t, f))
	_, rep = h.claimOne(t, gatewaytest.Lima) // the default agency: no location
	if rep.Location != nil || len(rep.Media) != 1 {
		t.Errorf("location %+v media %d: the photo's position must not be used unasked", rep.Location, len(rep.Media))
	}
}

// TestWebLanguage: the page's language from ?lang, then Accept-Language by
// base language, then English.
func TestWebLanguage(t *testing.T) {
	h := newWebHarness(t)
	for _, tc := range []struct {
		query, accept, want, title string
	}{
		{"", "", "en", "Report forced labour"},
		{"", "es-PE,es;q=0.9,en;q=0.8", "es", "Denunciar trabajo forzoso"},
		{"", "fr-FR, ms;q=0.5", "ms", "Laporkan buruh paksa"},
		{"", "zh-TW,zh;q=0.9", "zh-Hans", "举报强迫劳动"},
		{"", "zh-CN", "zh-Hans", "举报强迫劳动"},
		{"", "tl-PH", "fil", "Mag-ulat ng sapilitang paggawa"},
		{"", "id-ID", "id", "Laporkan kerja paksa"},
		{"", "th-TH", "th", "แจ้งเรื่องการบังคับใช้แรงงาน"},
		{"", "en;q=0, vi", "vi", "Báo cáo lao động cưỡng bức"},
		{"", "*", "en", "Report forced labour"},
		{"", "de, fr", "en", "Report forced labour"},
		{"", strings.Repeat("x-", 2000), "en", "Report forced labour"},
		{"th", "es", "th", "แจ้งเรื่องการบังคับใช้แรงงาน"},
		{"ZH-hans", "", "zh-Hans", "举报强迫劳动"},
		{"klingon", "es", "es", "Denunciar trabajo forzoso"},
		{"es-" + strings.Repeat("abcdefgh-", 5000), "th", "th", "แจ้งเรื่องการบังคับใช้แรงงาน"}, // not a language, not parsed
	} {
		r := h.do(t, "GET", "/report?lang="+url.QueryEscape(tc.query), "", nil, "Accept-Language", tc.accept)
		if !strings.Contains(r.body, `<html lang="`+tc.want+`">`) || !strings.Contains(r.body, "<h1>"+tc.title+"</h1>") || r.header.Get("Content-Language") != tc.want {
			t.Errorf("lang=%q Accept-Language %q: want %s (%s)", tc.query, tc.accept, tc.want, tc.title)
		}
	}
	// The form's lang field decides the answer page's language.
	r := h.post(t, formOf("lang", "vi", "message", "xin giúp đỡ"), "Accept-Language", "en")
	if !strings.Contains(r.body, "Đã gửi. Cảm ơn bạn.") {
		t.Errorf("receipt page not in Vietnamese:\n%s", r.body)
	}
}

// TestWebFollowup: an officer's question reaches the witness's page only
// with the code; the witness's answer is queued under the same case to the
// agencies of the first tip, even though it names no place.
func TestWebFollowup(t *testing.T) {
	h := newWebHarness(t)
	ctx := context.Background()
	caseRef, code := receipt(t, h.post(t, formOf("message", "Workers locked in at 3.1390, 101.6869")))
	_, rep := h.claimOne(t, gatewaytest.KL)
	if err := h.followups.PostQuestion(ctx, rep.Followup, "How many <people>?"); err != nil {
		t.Fatal(err)
	}
	info, err := h.followups.Info(ctx, rep.Followup)
	if err != nil || info.Case != caseRef || strings.Join(info.Agencies, ",") != gatewaytest.KL {
		t.Fatalf("Info = %+v, %v", info, err)
	}

	for _, tc := range []struct {
		name   string
		method string
		code   string
		status int
		want   string
	}{
		{"code form", "GET", "", 200, `id="code-form"`},
		{"link with the code", "GET", code, 200, "How many &lt;people&gt;?"},
		{"code typed loosely", "POST", strings.ToLower(strings.ReplaceAll(code, "-", " ")), 200, "How many &lt;people&gt;?"},
		{"code read with O for 0, l for 1", "POST", strings.NewReplacer("0", "O", "1", "l").Replace(code), 200, "How many &lt;people&gt;?"},
		{"code missing a character", "POST", code[:len(code)-1], 400, "This code is not right."},
		{"code with a letter not in the alphabet", "POST", code[:len(code)-1] + "U", 400, "This code is not right."},
		{"unknown code", "POST", followup.NewCode(), 404, "We found nothing for this code."},
	} {
		var r webResponse
		if tc.method == "GET" {
			r = h.do(t, "GET", "/followup?code="+url.QueryEscape(tc.code), "", nil)
		} else {
			r = h.do(t, "POST", "/followup", "application/x-www-form-urlencoded", []byte(url.Values{"code": {tc.code}}.Encode()))
		}
		if r.status != tc.status || !strings.Contains(r.body, tc.want) {
			t.Errorf("%s: status %d, want %d with %q\n%s", tc.name, r.status, tc.status, tc.want, r.body)
		}
		if strings.Contains(tc.name, "code") && tc.status != 200 && !strings.Contains(r.body, `value="`+template.HTMLEscapeString(tc.code)+`"`) {
			t.Errorf("%s: the code typed is not kept in the form", tc.name)
		}
	}

	r := h.do(t, "POST", "/followup", "application/x-www-form-urlencoded",
		[]byte(url.Values{"code": {code}, "answer": {"Twelve, and two children"}, "lang": {"en"}}.Encode()))
	if r.status != 200 || !strings.Contains(r.body, "Your answer was sent.") || !strings.Contains(r.body, "Twelve, and two children") {
		t.Fatalf("answer: %d\n%s", r.status, r.body)
	}
	c, _, ans := h.appended(t, gatewaytest.KL, caseRef)
	if c.Case != caseRef || ans.Text != "Twelve, and two children" || ans.Followup != rep.Followup || ans.Routing.Reason != gateway.ReasonCase {
		t.Errorf("answer tip case %s report %+v", c.Case, ans)
	}
	th, err := h.followups.Open(ctx, code)
	if err != nil || len(th.Messages) != 2 || th.Messages[1].From != followup.Witness {
		t.Errorf("thread after the answer: %+v, %v", th, err)
	}

	// An answer too long comes back to be shortened.
	r = h.do(t, "POST", "/followup", "application/x-www-form-urlencoded",
		[]byte(url.Values{"code": {code}, "answer": {strings.Repeat("x", followup.MaxMessageBytes+1)}, "lang": {"en"}}.Encode()))
	if r.status != 413 || !strings.Contains(r.body, "Your text is too long.") || !strings.Contains(r.body, strings.Repeat("x", 100)) {
		t.Errorf("long answer: %d", r.status)
	}
}

// TestWebCanary sends unique strings through every field, the follow-up
// and a photo's metadata, then reads every key and value in Redis and every
// log line: none may appear, nor the client's address.
func TestWebCanary(t *testing.T) {
	h := newWebHarness(t)
	ctx := context.Background()
	tag := fmt.Sprintf("%x", time.Now().UnixNano())
	canaries := map[string]string{
		"message": "canarymsg" + tag, "location": "canaryloc" + tag, "contact": "canarycontact" + tag,
		"question": "canaryq" + tag, "answer": "canaryans" + tag, "make": "CanaryMake" + tag,
	}
	f := formOf("message", canaries["message"]+" -12.0857, -76.9397", "location", canaries["location"], "contact", canaries["contact"], "photo_location", "1")
	f.photo = phototest.JPEG(32, 32, phototest.EXIF{Lat: -12.0857, Lon: -76.9397, Make: canaries["make"]})
	_, code := receipt(t, h.post(t, f))
	_, rep := h.claimOne(t, gatewaytest.Lima)
	if err := h.followups.PostQuestion(ctx, rep.Followup, canaries["question"]); err != nil {
		t.Fatal(err)
	}
	r := h.do(t, "POST", "/followup", "application/x-www-form-urlencoded", []byte(url.Values{"code": {code}, "answer": {canaries["answer"]}}.Encode()))
	if r.status != 200 {
		t.Fatalf("answer: %d", r.status)
	}
	h.post(t, formOf("message", canaries["message"], "website", "x")) // a honeypot hit

	dump := dumpRedis(t, h.Redis)
	logs := h.Log.Bytes()
	if len(dump) < 200 || !bytes.Contains(logs, []byte(`"route":"/report"`)) {
		t.Fatal("the test is not reading what the gateway wrote")
	}
	canaries["code"] = code
	canaries["code (raw)"] = strings.ReplaceAll(code, "-", "")
	canaries["address"] = "127.0.0.1"
	canaries["coordinates"] = "-12.0857"
	for name, c := range canaries {
		if bytes.Contains(dump, []byte(c)) {
			t.Errorf("%s %q found in Redis", name, c)
		}
		if bytes.Contains(logs, []byte(c)) {
			t.Errorf("%s %q found in the logs", name, c)
		}
	}
}

// TestWebProofOfWork drives the challenge with a fake clock: refused
// without work, accepted with it, never twice, and (for browsers without
// JavaScript) accepted without work once it is PoWWait old.
func TestWebProofOfWork(t *testing.T) {
	clock := &fakeClock{time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	h := newWebHarness(t, func(o *webConfig) {
		o.Channel.PoW, o.Channel.PoWBits, o.Channel.PoWWait, o.Channel.Now = web.PoWAlways, 10, 30*time.Second, clock.now
	})
	tokenRe := regexp.MustCompile(`name="pow_token" value="([A-Za-z0-9_-]+)" data-bits="10"`)
	challenge := func() string {
		m := tokenRe.FindStringSubmatch(h.do(t, "GET", "/report", "", nil).body)
		if m == nil {
			t.Fatal("no challenge on the form")
		}
		return m[1]
	}
	solve := func(token string) string {
		for n := 0; ; n++ {
			sum := sha256.Sum256([]byte(token + ":" + fmt.Sprint(n)))
			z := 0
			for _, b := range sum {
				z += bits.LeadingZeros8(b)
				if b != 0 {
					break
				}
			}
			if z >= 10 {
				return fmt.Sprint(n)
			}
		}
	}
	send := func(token, nonce string) int {
		return h.post(t, formOf("message", "pow", "pow_token", token, "pow_nonce", nonce)).status
	}
	tok := challenge()
	nonce := solve(tok)
	forged := []byte(tok)
	forged[3] ^= 1
	for _, tc := range []struct {
		name         string
		advance      time.Duration
		token, nonce string
		want         int
	}{
		{"no challenge", 0, "", "", 429},
		{"unsolved", 0, tok, "1x", 429},
		{"forged token", 0, string(forged), nonce, 429},
		{"solved", 0, tok, nonce, 200},
		{"replayed", 0, tok, nonce, 429},
		{"unsolved but old enough (no JavaScript)", 31 * time.Second, challenge(), "", 200},
		{"expired", 3 * time.Hour, challenge(), "", 429},
	} {
		clock.advance(tc.advance)
		if got := send(tc.token, tc.nonce); got != tc.want {
			t.Errorf("%s: status %d, want %d", tc.name, got, tc.want)
		}
	}
}

// TestWebFlood: in flood mode the form asks for work only once the
// submissions of the last minute reach PoWFlood.
func TestWebFlood(t *testing.T) {
	clock := &fakeClock{time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	h := newWebHarness(t, func(o *webConfig) {
		o.Channel.PoW, o.Channel.PoWFlood, o.Channel.PoWWait, o.Channel.Now = web.PoWFlood, 3, -1, clock.now
	})
	hasChallenge := func() bool { return strings.Contains(h.do(t, "GET", "/report", "", nil).body, `name="pow_token"`) }
	if hasChallenge() {
		t.Fatal("challenge without a flood")
	}
	for i := range 3 {
		if s := h.post(t, formOf("message", "ok")).status; s != 200 {
			t.Fatalf("submission %d: %d", i, s)
		}
	}
	if s := h.post(t, formOf("message", "one too many")).status; s != 429 {
		t.Errorf("unsolved submission during a flood: %d", s)
	}
	if !hasChallenge() {
		t.Error("no challenge during a flood")
	}
	clock.advance(2 * time.Minute)
	if hasChallenge() {
		t.Error("challenge still asked two quiet minutes later")
	}
}
