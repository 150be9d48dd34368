package handlers_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/storage"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/hotline-org/hotline/crypto/seal"
	"github.com/hotline-org/hotline/gateway"
	"github.com/hotline-org/hotline/gateway/gatewaytest"
	"github.com/hotline-org/hotline/gateway/web"
	"github.com/hotline-org/hotline/handlers"
	"github.com/hotline-org/hotline/handlers/internal/browsertest"
	"github.com/hotline-org/hotline/queue/officer"
)

// The web form in a real browser: Debian's chromium driven by chromedp,
// with JavaScript on and off. Under CI=true a missing chromium is a
// failure; on a laptop without it these tests skip.

// newBrowser starts one headless chromium for a test; tabs are opened with
// newTab. The machine has no internet: every background fetch is off.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	return newBrowserFor(t, 90*time.Second)
}

// newBrowserFor is newBrowser for a test that needs more than 90 seconds.
func newBrowserFor(t *testing.T, limit time.Duration) context.Context {
	t.Helper()
	return browsertest.New(t, limit)
}

// newTab opens a tab of the browser, with JavaScript on or off, in a
// viewport of w x h (mobile emulation below 600 px).
func newTab(t *testing.T, browser context.Context, js bool, w, h int64) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser)
	t.Cleanup(cancel)
	var vp []chromedp.EmulateViewportOption
	if w < 600 {
		vp = append(vp, chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulateScale(2))
	}
	err := chromedp.Do(ctx,
		chromedp.EmulateViewport(w, h, vp...),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: !js})
			return err
		}))
	if err != nil {
		t.Fatalf("open tab: %v", err)
	}
	return ctx
}

// artifactsDir is where screenshots are kept for review: $ARTIFACTS_DIR if
// set, else handlers/testdata/artifacts (ignored by git).
func artifactsDir(t *testing.T) string {
	dir := os.Getenv("ARTIFACTS_DIR")
	if dir == "" {
		dir = filepath.Join("testdata", "artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// fillAndSend types a report into the form and sends it. It uses only
// keyboard and mouse events (no script in the page), so it works the same
// with JavaScript off.
func fillAndSend(message, location string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.WaitReady(chromedp.ID("message")),
		chromedp.SendKeys(chromedp.ID("message"), message),
		chromedp.SendKeys(chromedp.ID("location"), location),
		chromedp.Click(chromedp.ID("urgent")),
		chromedp.Click(chromedp.ID("send")),
		chromedp.WaitReady(chromedp.ID("sent")),
	)
}

// officerOpens claims the next tip of agency through the officer API and
// opens it with an identity file, as `hotline triage next` does.
func officerOpens(t *testing.T, h *webHarness, agency string) (handlers.TipJSON, gateway.Report) {
	t.Helper()
	token, _, err := officer.New(h.Queue).Add(context.Background(), agency, "Officer", "officer")
	if err != nil {
		t.Fatal(err)
	}
	r := h.do(t, http.MethodPost, "/api/v1/tips/claim", "application/json", []byte("{}"), "Authorization", "Bearer "+token)
	if r.status != 200 {
		t.Fatalf("claim: %d %s", r.status, r.body)
	}
	var tip handlers.TipJSON
	if err := json.Unmarshal([]byte(r.body), &tip); err != nil {
		t.Fatal(err)
	}
	idFile := filepath.Join(t.TempDir(), "agency.key")
	if err := os.WriteFile(idFile, []byte(h.Identities[agency].(interface{ String() string }).String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ids, err := seal.LoadIdentityFile(idFile, nil)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := seal.Open(tip.Sealed, ids...)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	var rep gateway.Report
	if err := json.Unmarshal(plain, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.TipID != tip.ID || rep.Case != tip.Case {
		t.Fatalf("sealed report %s/%s does not belong to tip %s/%s", rep.TipID, rep.Case, tip.ID, tip.Case)
	}
	return tip, rep
}

func TestBrowserReport(t *testing.T) {
	browser := newBrowser(t)
	h := newWebHarness(t)
	for _, tc := range []struct {
		name string
		js   bool
		w, h int64
	}{
		{"javascript on, phone", true, 360, 640},
		{"javascript off, desktop", false, 1280, 800},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tab := newTab(t, browser, tc.js, tc.w, tc.h)
			message := "Vimos a 12 personas encerradas en un taller de Av. La Molina 123 <script>alert(1)</script> \"ayuda\" " + tc.name
			err := chromedp.Do(tab, chromedp.Navigate(h.srv.URL+"/report?lang=es"), fillAndSend(message, "La Molina, Lima"))
			if err != nil {
				t.Fatalf("fill and send: %v", err)
			}
			page, err := chromedp.Run(tab, chromedp.OuterHTML(chromedp.CSS("main")))
			if err != nil {
				t.Fatal(err)
			}
			caseRef, code := receipt(t, webResponse{status: 200, body: page})

			// "Use my location" is there only when JavaScript runs.
			_, err = chromedp.Run(tab, chromedp.Navigate(h.srv.URL+"/report")) // a fresh form
			if err != nil {
				t.Fatal(err)
			}
			geo, err := chromedp.Run(tab, chromedp.AttributeValue(chromedp.ID("geo"), "hidden"))
			if err != nil {
				t.Fatal(err)
			}
			if geo.Exists == tc.js {
				t.Errorf("geo button hidden=%v with javascript %v", geo.Exists, tc.js)
			}

			tip, rep := officerOpens(t, h, gatewaytest.Lima)
			if tip.Case != caseRef || tip.Priority != "urgent" || tip.Channel != "web" {
				t.Errorf("tip %+v; want case %s, urgent, web", tip, caseRef)
			}
			if !strings.HasPrefix(rep.Text, message) || !strings.Contains(rep.Text, "La Molina, Lima") || rep.Language != "es" {
				t.Errorf("report text %q (language %s); want the typed message and location in es", rep.Text, rep.Language)
			}
			if handle, _ := h.followups.Handle(code); rep.Followup == "" || rep.Followup != handle {
				t.Errorf("report followup %q, want the handle of the receipt code", rep.Followup)
			}
			if strings.Contains(string(tip.Sealed), code) || strings.Contains(rep.Text, code) {
				t.Error("the receipt code travels with the tip; only its handle may")
			}
		})
	}

	t.Run("no cookies", func(t *testing.T) {
		cookies, err := chromedp.Run(browser, func(ctx context.Context, tg *chromedp.Target) ([]string, error) {
			res, err := chromedp.CallBrowser(ctx, storage.GetCookies, storage.GetCookiesParams{})
			var names []string
			for _, c := range res.Cookies {
				names = append(names, c.Name)
			}
			return names, err
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(cookies) > 0 {
			t.Errorf("the browser holds cookies %v", cookies)
		}
	})
}

// TestBrowserQuickExit: the quick exit replaces the page and its history
// entry, so Back cannot lead to the form.
func TestBrowserQuickExit(t *testing.T) {
	browser := newBrowser(t)
	// The neutral site: another server on the same machine (same site, so
	// chromium keeps the tab in the same process for the test to follow).
	neutral := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("<!doctype html><title>Weather</title><p>Sunny"))
	}))
	t.Cleanup(neutral.Close)
	exitURL := neutral.URL + "/weather"
	h := newWebHarness(t, func(o *webConfig) { o.Web.ExitURL = exitURL })
	tab := newTab(t, browser, true, 360, 640)
	err := chromedp.Do(tab,
		chromedp.Navigate(h.srv.URL+"/report"),
		chromedp.SendKeys(chromedp.ID("message"), "something typed"),
		chromedp.Click(chromedp.ID("exit")),
	)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		hist, err := chromedp.Run(tab, chromedp.NavigationEntries())
		if err != nil {
			// The tab is between two pages: ask again.
			if time.Now().After(deadline) {
				t.Fatal(err)
			}
			time.Sleep(50 * time.Millisecond)
			continue
		}
		var urls []string
		for _, e := range hist.Entries {
			urls = append(urls, e.URL)
		}
		last := urls[len(urls)-1]
		if last == exitURL {
			for _, u := range urls {
				if strings.Contains(u, "/report") {
					t.Fatalf("history still holds the form: %v", urls)
				}
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("quick exit did not leave the page: history %v", urls)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestBrowserProofOfWork: with proof of work asked, the page's script
// solves the challenge before sending; without JavaScript the witness is
// told to wait and send again, with the text kept, and then it goes.
func TestBrowserProofOfWork(t *testing.T) {
	browser := newBrowser(t)
	const wait = 2 * time.Second
	h := newWebHarness(t, func(o *webConfig) {
		o.Channel.PoW, o.Channel.PoWBits, o.Channel.PoWWait = web.PoWAlways, 12, wait
	})

	t.Run("javascript solves it", func(t *testing.T) {
		// No waiting allowed here: only the work can pass.
		h := newWebHarness(t, func(o *webConfig) {
			o.Channel.PoW, o.Channel.PoWBits, o.Channel.PoWWait = web.PoWAlways, 12, -1
		})
		tab := newTab(t, browser, true, 360, 640)
		if err := chromedp.Do(tab, chromedp.Navigate(h.srv.URL+"/report"), fillAndSend("pow with javascript", "")); err != nil {
			t.Fatal(err)
		}
		if _, rep := officerOpens(t, h, gatewaytest.Lima); rep.Text != "pow with javascript" {
			t.Errorf("text %q", rep.Text)
		}
	})

	t.Run("without javascript: wait and send again", func(t *testing.T) {
		tab := newTab(t, browser, false, 360, 640)
		err := chromedp.Do(tab,
			chromedp.Navigate(h.srv.URL+"/report?lang=ms"),
			chromedp.SendKeys(chromedp.ID("message"), "pow without javascript"),
			chromedp.Click(chromedp.ID("send")),
			chromedp.WaitReady(chromedp.ID("error")),
		)
		if err != nil {
			t.Fatal(err)
		}
		msg, err := chromedp.Run(tab, chromedp.OuterHTML(chromedp.CSS("main")))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(msg, "Sila tunggu 2 saat") || !strings.Contains(msg, "pow without javascript</textarea>") {
			t.Fatalf("want the wait message in Malay and the text kept:\n%s", msg)
		}
		time.Sleep(wait)
		if err := chromedp.Do(tab, chromedp.Click(chromedp.ID("send")), chromedp.WaitReady(chromedp.ID("sent"))); err != nil {
			t.Fatal(err)
		}
		if _, rep := officerOpens(t, h, gatewaytest.Lima); rep.Text != "pow without javascript" {
			t.Errorf("text %q", rep.Text)
		}
	})
}

// TestBrowserFollowup: the witness opens the follow-up page with the
// receipt code, reads the officer's question, answers; the answer reaches
// the agency of the first tip under the same case.
func TestBrowserFollowup(t *testing.T) {
	browser := newBrowser(t)
	h := newWebHarness(t)
	tab := newTab(t, browser, true, 360, 640)
	// Coordinates in Kuala Lumpur route the tip to the KL agency.
	err := chromedp.Do(tab,
		chromedp.Navigate(h.srv.URL+"/report?lang=ms"),
		chromedp.SendKeys(chromedp.ID("position"), "3.1390, 101.6869"),
		fillAndSend("Pekerja dikurung di kilang", ""),
	)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := chromedp.Run(tab, chromedp.OuterHTML(chromedp.CSS("main")))
	caseRef, code := receipt(t, webResponse{status: 200, body: page})
	_, rep := officerOpens(t, h, gatewaytest.KL)
	if err := h.followups.PostQuestion(context.Background(), rep.Followup, "Berapa orang di sana?"); err != nil {
		t.Fatal(err)
	}

	// The witness is in Kuala Lumpur (UTC+8), the server in UTC.
	err = chromedp.Do(tab, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "Asia/Kuala_Lumpur"})
		return err
	}))
	if err != nil {
		t.Fatal(err)
	}
	// A link with the code: the page takes it out of the address bar.
	err = chromedp.Do(tab, chromedp.Navigate(h.srv.URL+"/followup?lang=ms&code="+strings.ToLower(code)), chromedp.WaitReady(chromedp.ID("thread")))
	if err != nil {
		t.Fatal(err)
	}
	loc, _ := chromedp.Run(tab, chromedp.Location())
	if strings.Contains(loc, "code=") {
		t.Errorf("the code stays in the address bar: %s", loc)
	}
	thread, _ := chromedp.Run(tab, chromedp.Text(chromedp.ID("thread")))
	if !strings.Contains(thread, "Berapa orang di sana?") || !strings.Contains(thread, "Polis") {
		t.Errorf("thread %q lacks the officer's question", thread)
	}
	// With JavaScript the time is the witness's local time, not "N minutes
	// ago" and not the server's UTC clock.
	when, _ := chromedp.Run(tab, chromedp.Text(chromedp.CSS("#thread time")))
	clock, err := chromedp.Run(tab, chromedp.Evaluate[map[string]string](`(() => {
  const at = new Date(document.querySelector('#thread time').getAttribute('datetime'));
  const f = (tz) => at.toLocaleString('ms', {dateStyle: 'medium', timeStyle: 'short', timeZone: tz});
  return {local: f('Asia/Kuala_Lumpur'), utc: f('UTC')};
})()`))
	if err != nil {
		t.Fatal(err)
	}
	if when != clock["local"] || when == clock["utc"] {
		t.Errorf("time shown %q, want the witness's local time %q (UTC: %q)", when, clock["local"], clock["utc"])
	}
	shoot(t, tab, "followup-ms-phone")
	err = chromedp.Do(tab,
		chromedp.SendKeys(chromedp.ID("answer"), "Kira-kira 20 orang"),
		chromedp.Click(chromedp.ID("send")),
		chromedp.WaitReady(chromedp.ID("notice")),
	)
	if err != nil {
		t.Fatal(err)
	}
	tip, _, ans := h.appended(t, gatewaytest.KL, caseRef)
	if tip.Case != caseRef || ans.Text != "Kira-kira 20 orang" || ans.Followup != rep.Followup || ans.Routing.Reason != gateway.ReasonCase {
		t.Errorf("answer tip %+v report %+v; want case %s, same thread, routed by case", tip, ans, caseRef)
	}
}

// shoot saves a full-page screenshot of the tab for review.
func shoot(t *testing.T, tab context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(tab, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(artifactsDir(t), name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

// tapCheck lists the tappable elements of the page smaller than 44x44 CSS
// px (a checkbox counts with its label, which takes the tap too).
const tapCheck = `(() => {
  const bad = [];
  for (const el of document.querySelectorAll('a[href], button, input, textarea, select, summary')) {
    if (el.type === 'hidden' || el.closest('[aria-hidden="true"]') || el.hidden) continue;
    const box = (el.closest('label.check') || el).getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;
    if (box.width < 44 || box.height < 44) bad.push((el.id || el.tagName + ' ' + (el.textContent || el.name || '').trim().slice(0, 20)) + ' ' + Math.round(box.width) + 'x' + Math.round(box.height));
  }
  return bad;
})()`

// exitPlace says where the quick exit is: inside the content column (its
// edges within main's, on a desktop) and in the lower part of the screen
// (on a phone, where the thumb is).
const exitPlace = `(() => {
  const e = document.getElementById('exit').getBoundingClientRect();
  const m = document.querySelector('main').getBoundingClientRect();
  return {inColumn: e.left >= m.left - 1 && e.right <= m.right + 1, bottomHalf: e.top > window.innerHeight / 2, visible: e.bottom <= window.innerHeight && e.top >= 0};
})()`

// focusContrast focuses the page's text box (or else its first link) and
// returns the contrast ratio of its focus ring against the page.
const focusContrast = `(() => {
  const el = document.querySelector('#message, #answer, input#code') || document.querySelector('main a[href]');
  el.focus();
  const parse = (c) => c.match(/[\d.]+/g).slice(0, 3).map(Number).map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
  const lum = (c) => { const [r, g, b] = parse(c); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const st = getComputedStyle(el);
  if (st.outlineStyle === 'none' || parseFloat(st.outlineWidth) < 2) return 0;
  const a = lum(st.outlineColor), b = lum(getComputedStyle(document.body).backgroundColor);
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
})()`

type place struct {
	InColumn   bool `json:"inColumn"`
	BottomHalf bool `json:"bottomHalf"`
	Visible    bool `json:"visible"`
}

// checkPage runs the checks that a picture cannot show: no tappable element
// smaller than 44x44 px, no sideways scrolling, the quick exit in reach, a
// focus ring of at least 3:1.
func checkPage(t *testing.T, tab context.Context, name string, phone bool) {
	t.Helper()
	// The element a test waits for is there before the stylesheet is
	// applied: measure only the page as it is finally shown.
	if _, err := chromedp.Run(tab, chromedp.Poll[bool](`document.readyState === 'complete'`, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("%s: the page does not finish loading: %v", name, err)
	}
	bad, err := chromedp.Run(tab, chromedp.Evaluate[[]string](tapCheck))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if len(bad) > 0 {
		t.Errorf("%s: tap targets under 44x44 px: %v", name, bad)
	}
	wide, _ := chromedp.Run(tab, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`))
	if wide {
		t.Errorf("%s: the page is wider than the screen", name)
	}
	pl, err := chromedp.Run(tab, chromedp.Evaluate[place](exitPlace))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	switch {
	case !pl.Visible:
		t.Errorf("%s: the quick exit is not on screen", name)
	case phone && !pl.BottomHalf:
		t.Errorf("%s: the quick exit is out of the thumb's reach", name)
	case !phone && !pl.InColumn:
		t.Errorf("%s: the quick exit is outside the content column", name)
	}
	ratio, err := chromedp.Run(tab, chromedp.Evaluate[float64](focusContrast))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if ratio < 3 {
		t.Errorf("%s: focus ring contrast %.2f:1, want 3:1 or more", name, ratio)
	}
}

// TestBrowserScreenshots keeps pictures of the form, the answer page of an
// urgent report and the follow-up page in all eight languages, on a phone
// (360x740) and a desktop, plus an error, for people to look at (saved
// under testdata/artifacts, or $ARTIFACTS_DIR in CI). On each it checks
// what a picture cannot show (checkPage), and that every group of the
// receipt code stays on one line.
func TestBrowserScreenshots(t *testing.T) {
	browser := newBrowserFor(t, 5*time.Minute)
	h := newWebHarness(t, func(o *webConfig) {
		o.Channel.Emergency = map[string]string{gatewaytest.Lima: "105"}
		o.Channel.RateLimit = web.Rate{Count: 1000, Period: time.Hour} // 16 reports and 16 openings
	})
	langs := []string{"en", "es", "ms", "zh-Hans", "id", "fil", "th", "vi"}
	for _, vp := range []struct {
		name string
		w, h int64
	}{{"phone", 360, 740}, {"desktop", 1280, 800}} {
		phone := vp.w < 600
		tab := newTab(t, browser, true, vp.w, vp.h)
		for _, lang := range langs {
			name := lang + "-" + vp.name
			if err := chromedp.Do(tab, chromedp.Navigate(h.srv.URL+"/report?lang="+lang), chromedp.WaitVisible(chromedp.ID("geo"))); err != nil {
				t.Fatal(err)
			}
			checkPage(t, tab, "report-"+name, phone)
			shoot(t, tab, "report-"+name)

			if err := chromedp.Do(tab, fillAndSend("Screenshot "+lang, "Lima")); err != nil {
				t.Fatal(err)
			}
			checkPage(t, tab, "sent-"+name, phone)
			// Every group of the code on one line: each is as high as one.
			split, err := chromedp.Run(tab, chromedp.Evaluate[bool](`[...document.querySelectorAll('#code .grp')].some(g => g.getClientRects().length > 1)`))
			if err != nil || split {
				t.Errorf("sent-%s: a group of the receipt code is split over two lines (%v)", name, err)
			}
			page, _ := chromedp.Run(tab, chromedp.OuterHTML(chromedp.CSS("main")))
			if !strings.Contains(page, `href="tel:105"`) {
				t.Errorf("sent-%s: no emergency number on the urgent answer page", name)
			}
			shoot(t, tab, "sent-"+name)
			_, code := receipt(t, webResponse{status: 200, body: page})
			_, rep := officerOpens(t, h, gatewaytest.Lima)
			if err := h.followups.PostQuestion(context.Background(), rep.Followup, "¿Cuántas personas? / How many people?"); err != nil {
				t.Fatal(err)
			}
			if err := chromedp.Do(tab, chromedp.Navigate(h.srv.URL+"/followup?lang="+lang+"&code="+code), chromedp.WaitReady(chromedp.ID("thread"))); err != nil {
				t.Fatal(err)
			}
			checkPage(t, tab, "followup-"+name, phone)
			shoot(t, tab, "followup-"+name)
		}
	}
	tab := newTab(t, browser, false, 360, 740)
	err := chromedp.Do(tab, chromedp.Navigate(h.srv.URL+"/report?lang=es"),
		chromedp.SendKeys(chromedp.ID("message"), "Texto que se conserva tras el error"),
		chromedp.SendKeys(chromedp.ID("position"), "abc"),
		chromedp.Click(chromedp.ID("send")), chromedp.WaitReady(chromedp.ID("error")))
	if err != nil {
		t.Fatal(err)
	}
	checkPage(t, tab, "report-es-phone-error", true)
	shoot(t, tab, "report-es-phone-error")
	// The page that asks for the code, without JavaScript.
	if err := chromedp.Do(tab, chromedp.Navigate(h.srv.URL+"/followup?lang=fil"), chromedp.WaitReady(chromedp.ID("code-form"))); err != nil {
		t.Fatal(err)
	}
	checkPage(t, tab, "followup-code-fil-phone", true)
	shoot(t, tab, "followup-code-fil-phone")
}

// formState reads what the report form shows: the typed fields and the
// ticks. An empty result means nothing typed came back.
const formState = `(() => {
  const f = document.getElementById('report');
  if (!f) return '';
  const out = [];
  for (const id of ['message', 'location', 'position', 'contact']) { const el = document.getElementById(id); if (el && el.value.trim()) out.push(id + '=' + el.value.trim()); }
  for (const id of ['urgent', 'photo_location']) { const el = document.getElementById(id); if (el && el.checked) out.push(id + ' ticked'); }
  return out.join(', ');
})()`

// TestBrowserBackShowsNothing: after sending, after Quick exit (the button,
// and Esc with JavaScript), one or two presses of Back never show what was
// typed or ticked, with JavaScript on and off.
func TestBrowserBackShowsNothing(t *testing.T) {
	browser := newBrowserFor(t, 3*time.Minute)
	neutral := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("<!doctype html><title>Weather</title><p id=weather>Sunny"))
	}))
	t.Cleanup(neutral.Close)
	h := newWebHarness(t, func(o *webConfig) { o.Web.ExitURL = neutral.URL + "/weather" })
	typeAll := chromedp.Steps(
		chromedp.WaitReady(chromedp.ID("message")),
		chromedp.SendKeys(chromedp.ID("message"), "secret words typed"),
		chromedp.SendKeys(chromedp.ID("location"), "secret place"),
		chromedp.SendKeys(chromedp.ID("position"), "-12.05, -77.04"),
		chromedp.SendKeys(chromedp.ID("contact"), "secret contact"),
		chromedp.Click(chromedp.ID("urgent")),
	)
	// back presses Back up to twice, fails if a page it lands on shows
	// what was typed, and says whether it landed on the form at all.
	back := func(t *testing.T, tab context.Context) (sawForm bool) {
		t.Helper()
		for i := range 2 {
			if _, err := chromedp.Run(tab, chromedp.NavigateBack()); err != nil {
				break // nothing further back
			}
			chromedp.Run(tab, chromedp.WaitReady(chromedp.CSS("body")))
			time.Sleep(300 * time.Millisecond) // let a restoration happen, if the browser does one
			got, err := chromedp.Run(tab, chromedp.Evaluate[string](formState))
			if err != nil {
				t.Fatalf("back %d: %v", i+1, err)
			}
			if got != "" {
				loc, _ := chromedp.Run(tab, chromedp.Location())
				t.Fatalf("Back %d (%s) shows what was typed: %s", i+1, loc, got)
			}
			if form, _ := chromedp.Run(tab, chromedp.Evaluate[bool](`!!document.getElementById('report')`)); form {
				sawForm = true
			}
		}
		return sawForm
	}
	// Each case types everything, leaves the form by leave, waits for the
	// element landing of the page that follows and presses Back.
	type leaving struct {
		name, path    string
		js            bool
		width, height int64
		leave         chromedp.Action[chromedp.Void]
		landing       string
		sent          bool // an officer opens the tip before Back
		// toForm: Back leads to the form (empty), so the check above
		// looked at it; with JavaScript the exit leaves no way back to it.
		toForm bool
	}
	var cases []leaving
	for _, js := range []bool{true, false} {
		name := map[bool]string{true: "javascript on", false: "javascript off"}[js]
		cases = append(cases,
			leaving{name + ": after sending", "/report?lang=es", js, 360, 740, chromedp.Click(chromedp.ID("send")), "sent", true, true},
			leaving{name + ": after Quick exit", "/report?lang=th", js, 360, 740, chromedp.Click(chromedp.ID("exit")), "weather", false, !js})
	}
	cases = append(cases, leaving{"javascript on: Esc", "/report", true, 1280, 800, chromedp.KeyEvent(kb.Escape), "weather", false, false})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tab := newTab(t, browser, c.js, c.width, c.height)
			err := chromedp.Do(tab, chromedp.Navigate(h.srv.URL+c.path), typeAll, c.leave, chromedp.WaitReady(chromedp.ID(c.landing)))
			if err != nil {
				t.Fatal(err)
			}
			if c.sent {
				officerOpens(t, h, gatewaytest.Lima)
			}
			if sawForm := back(t, tab); sawForm != c.toForm {
				t.Errorf("Back reached the form: %v, want %v", sawForm, c.toForm)
			}
		})
	}
}
