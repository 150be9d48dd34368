package console_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/hotline-org/hotline/crypto/seal"
	"github.com/hotline-org/hotline/gateway/config"
	"github.com/hotline-org/hotline/handlers/console"
	"github.com/hotline-org/hotline/handlers/internal/browsertest"
	"github.com/hotline-org/hotline/handlers/officerapi"
	"github.com/hotline-org/hotline/queue/queuetest"
)

// demoGateway is `hotline demo` run as its own process: a real gateway on
// a real Redis, with throwaway keys and a demo officer.
type demoGateway struct {
	bin, server, token, identity, config, redisURL string
}

func startDemo(t *testing.T) demoGateway {
	t.Helper()
	r := queuetest.New(t)
	if r.URL == "" {
		t.Skipf("the demo needs one Redis by URL, not a %s", r.Kind)
	}
	bin := filepath.Join(t.TempDir(), "hotline")
	build := exec.Command("go", "build", "-o", bin, "github.com/hotline-org/hotline/cmd/hotline")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	port := queuetest.FreePort(t)
	cmd := exec.Command(bin, "demo", "--listen", fmt.Sprintf("127.0.0.1:%d", port))
	cmd.Env = append(os.Environ(), "REDIS_URL="+r.URL)
	var out queuetest.SyncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(out.String(), "Press Ctrl-C") {
		if time.Now().After(deadline) {
			t.Fatalf("demo did not start:\n%s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	s := out.String()
	d := demoGateway{bin: bin, server: fmt.Sprintf("http://127.0.0.1:%d", port), redisURL: r.URL,
		token:    regexp.MustCompile(`--token (\S+)`).FindStringSubmatch(s)[1],
		identity: regexp.MustCompile(`--identity (\S+)`).FindStringSubmatch(s)[1],
		config:   regexp.MustCompile(`--config (\S+)`).FindStringSubmatch(s)[1]}
	return d
}

// startConsole runs the console in this process against the gateway, as
// `hotline console` does, and returns its one-time URL.
func startConsole(t *testing.T, d demoGateway) string {
	t.Helper()
	return startConsoleAs(t, d, d.token)
}

func startConsoleAs(t *testing.T, d demoGateway, token string) string {
	t.Helper()
	ids, err := seal.LoadIdentities(d.identity, io.Discard, "")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	api := officerapi.New(d.server, token, nil)
	c, err := console.New(ctx, console.Options{API: api, Identities: ids, Regions: api.Regions,
		ReplyWindow: config.DefaultReplyWindow, PageAfter: config.DefaultPageAfter, PageSupervisorAfter: config.DefaultPageSupervisorAfter})
	if err != nil {
		t.Fatal(err)
	}
	l, err := console.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	urls := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- c.Serve(ctx, l, func(u string) { urls <- u }) }()
	t.Cleanup(func() { cancel(); <-done })
	return <-urls
}

// demoPhoto is an obviously made-up picture: grey and red stripes.
func demoPhoto(t *testing.T) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 480, 300))
	for y := 0; y < 300; y++ {
		for x := 0; x < 480; x++ {
			c := color.RGBA{90, 90, 90, 255}
			if (x+y)/30%2 == 0 {
				c = color.RGBA{170, 40, 40, 255}
			}
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// postWitness sends the web form with a photo, as a witness's browser would.
func postWitness(t *testing.T, server, message string, photo []byte) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range map[string]string{"lang": "en", "message": message, "lat": "-12.0857", "lon": "-76.9397", "urgent": "on"} {
		mw.WriteField(k, v)
	}
	w, _ := mw.CreateFormFile("photo", "DEMO.png")
	w.Write(photo)
	mw.Close()
	resp, err := (&http.Client{Timeout: time.Minute}).Post(server+"/report", mw.FormDataContentType(), &buf)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Contains(b, []byte(`id="sent"`)) {
		t.Fatalf("web form: %d", resp.StatusCode)
	}
}

// pageProblems collects what must not happen in a page: a script error, a
// console error, a CSP violation.
type pageProblems struct {
	mu   sync.Mutex
	list []string
}

func (p *pageProblems) add(s string) {
	p.mu.Lock()
	p.list = append(p.list, s)
	p.mu.Unlock()
}

func (p *pageProblems) check(t *testing.T, tab context.Context, step string) {
	t.Helper()
	csp, err := chromedp.Run(tab, chromedp.Evaluate[[]string](`window.__csp || []`))
	if err != nil {
		t.Fatalf("%s: %v", step, err)
	}
	for _, v := range csp {
		p.add("CSP violation: " + v)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.list) > 0 {
		t.Fatalf("%s: the page had errors:\n%s", step, strings.Join(p.list, "\n"))
	}
}

func watchProblems(t *testing.T, tab context.Context) *pageProblems {
	p := &pageProblems{}
	messages := chromedp.Console(tab)
	// Registered by the browser before any page script runs (and not
	// subject to the page's CSP): every violation is recorded.
	err := chromedp.Do(tab, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		if _, err := cdp.Call(ctx, tg, runtime.Enable, cdp.Empty{}); err != nil {
			return err
		}
		if _, err := cdp.Call(ctx, tg, cdplog.Enable, cdp.Empty{}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: `window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) { window.__csp.push(e.violatedDirective + " " + e.blockedURI); });`})
		return err
	}))
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleException {
				p.add(m.String())
			}
		}
	}()
	return p
}

// waitFor evaluates expr until it is true, for at most d; it returns how
// long that took.
func waitFor(t *testing.T, tab context.Context, d time.Duration, what, expr string) time.Duration {
	t.Helper()
	start := time.Now()
	var last error
	for {
		ctx, cancel := context.WithTimeout(tab, time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		cancel()
		if err == nil && ok {
			return time.Since(start)
		}
		last = err
		if time.Since(start) > d {
			ctx, cancel := context.WithTimeout(tab, 2*time.Second)
			html, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + "\n" + document.body.outerHTML`))
			cancel()
			t.Fatalf("%s: not within %s (last error: %v)\n%s", what, d, last, html)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func screenshot(t *testing.T, tab context.Context, name string) {
	t.Helper()
	dir := os.Getenv("HOTLINE_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join("testdata", "artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// Just after a navigation the page may not be laid out yet ("0
	// width"): try again for a moment.
	var b []byte
	var err error
	for range 20 {
		if b, err = chromedp.Run(tab, chromedp.FullScreenshot(100)); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestConsoleInBrowser: a real gateway (`hotline demo`) and Redis, the
// console, and chromium. A witness's report with a photo shows in the
// queue within 2 s without a reload, as does an SMS (and two more from its
// sender join its case); the officer claims with the n key, reads the
// decrypted text, sees the photo and the map, adds a note, replies and
// closes the case, which leaves the queue; the SMS case shows its three
// messages in order. With JavaScript off, a second console closes that
// case; a supervisor's console shows the verified audit chain and the
// officers. Any script error, console error or CSP violation fails the
// test.
// jsReady holds once the console's script listens for the shortcuts: a key
// pressed before that (the deferred script not yet run on a loaded machine)
// is lost, and the text typed after it lands nowhere.
const jsReady = `document.documentElement.getAttribute("data-js") === "ready"`

func TestConsoleInBrowser(t *testing.T) {
	browser := browsertest.New(t, 3*time.Minute)
	d := startDemo(t)
	url := startConsole(t, d)
	tab, cancel := chromedp.NewContext(browser)
	defer cancel()
	problems := watchProblems(t, tab)
	if err := chromedp.Do(tab, chromedp.EmulateViewport(1280, 900), chromedp.Navigate(url)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, tab, 5*time.Second, "the queue, empty and live",
		`location.search === "" && !!document.querySelector("#rows tr.empty") && !document.getElementById("live").hidden`)
	problems.check(t, tab, "queue")

	const text = "DEMO (made-up test data): twelve workers locked in a warehouse on Calle Falsa 123; they took our passports."
	postWitness(t, d.server, text, demoPhoto(t))
	took := waitFor(t, tab, 2*time.Second, "the witness's report in the queue", `document.querySelectorAll("#rows tr.tip").length === 1`)
	t.Logf("the web report showed in the queue %s after it was sent", took.Round(time.Millisecond))
	smsBodies := []string{"DEMO test message 1: nos tienen encerrados, ayuda", "DEMO test message 2: somos 12", "DEMO test message 3: en un almacén"}
	sendSMS := func(body string) {
		sms := exec.Command(d.bin, "simulate", "sms", "--config", d.config, "--from", "+51900000000", "--body", body)
		if out, err := sms.CombinedOutput(); err != nil {
			t.Fatalf("simulate sms: %v\n%s", err, out)
		}
	}
	sendSMS(smsBodies[0])
	took = waitFor(t, tab, 2*time.Second, "the SMS in the queue", `document.querySelectorAll("#rows tr.tip").length === 2`)
	t.Logf("the SMS showed in the queue %s after the gateway answered Twilio", took.Round(time.Millisecond))
	// Two more from the same sender join its case: one row, three messages.
	sendSMS(smsBodies[1])
	sendSMS(smsBodies[2])
	waitFor(t, tab, 3*time.Second, "the SMS case with its three messages",
		`document.querySelectorAll("#rows tr.tip").length === 2 && /3/.test(document.querySelectorAll("#rows tr.tip")[1].querySelector(".ref").textContent)`)
	problems.check(t, tab, "live queue")
	screenshot(t, tab, "console-queue.png")

	attr, err := chromedp.Run(tab, chromedp.AttributeValue(chromedp.CSS("#rows tr.tip"), "data-id"))
	if err != nil {
		t.Fatal(err)
	}
	webID := attr.Value
	if err := chromedp.Do(tab, chromedp.KeyEvent("n")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, tab, 10*time.Second, "the claimed case", `location.pathname === "/case/`+webID+`" && !!document.querySelector(".message .text") && `+jsReady)
	shown, err := chromedp.Run(tab, chromedp.Text(chromedp.CSS(".message .text")))
	if err != nil {
		t.Fatal(err)
	}
	if shown != text {
		t.Fatalf("decrypted text %q, want %q", shown, text)
	}
	waitFor(t, tab, 5*time.Second, "the photo, decoded", `(function () { var i = document.querySelector("img.photo"); return !!i && i.complete && i.naturalWidth === 480; })()`)
	waitFor(t, tab, 5*time.Second, "the map with the point", `!!document.querySelector("#map svg")`)
	routing, err := chromedp.Run(tab, chromedp.Text(chromedp.CSS(".routing")))
	if err != nil || !strings.Contains(routing, "pe-lima") {
		t.Fatalf("routing %q: %v", routing, err)
	}
	problems.check(t, tab, "case")

	// A note, sealed to the agency here and opened here.
	if err := chromedp.Do(tab, chromedp.KeyEvent("t"), chromedp.KeyEvent("DEMO note: <b>called</b> the unit"),
		chromedp.Click(chromedp.CSS("#note-add"))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, tab, 10*time.Second, "the note, opened", `Array.from(document.querySelectorAll(".note")).some(function (n) { return / DEMO note: <b>called<\/b> the unit$/.test(n.textContent); }) && `+jsReady)
	problems.check(t, tab, "note")

	if err := chromedp.Do(tab, chromedp.KeyEvent("r"), chromedp.KeyEvent("DEMO reply: we received your report."),
		chromedp.Click(chromedp.CSS("#reply-send"))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, tab, 10*time.Second, "the reply's answer", `!!document.querySelector("#flash.ok") && document.querySelector("#flash").textContent.indexOf("follow-up page") >= 0`)
	problems.check(t, tab, "reply")
	screenshot(t, tab, "console-case.png")

	if err := chromedp.Do(tab, chromedp.SetValue(chromedp.CSS("#disposition"), "dispatched"),
		chromedp.Click(chromedp.CSS("#ack"))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, tab, 10*time.Second, "back on the queue, the case closed",
		`location.pathname === "/" && document.querySelector("#flash").textContent.indexOf("Case closed") >= 0`)
	waitFor(t, tab, 5*time.Second, "the case gone from the queue",
		`!document.querySelector('#rows tr[data-id="`+webID+`"]') && document.querySelectorAll("#rows tr.tip").length === 1`)
	problems.check(t, tab, "ack")

	// The SMS case: claimed with the button, its three messages in order.
	if err := chromedp.Do(tab, chromedp.Click(chromedp.CSS("#claim"))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, tab, 10*time.Second, "the SMS case", `document.querySelectorAll(".message .text").length === 3`)
	texts, err := chromedp.Run(tab, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll(".message .text"), function (e) { return e.textContent; })`))
	if err != nil || strings.Join(texts, "|") != strings.Join(smsBodies, "|") {
		t.Fatalf("the case's messages %q (%v), want %q", texts, err, smsBodies)
	}
	problems.check(t, tab, "SMS case")

	// Without JavaScript the actions work the same: a second console
	// (its own one-time URL) opens the SMS case from the queue and closes it.
	plain, cancelPlain := chromedp.NewContext(browser)
	defer cancelPlain()
	err = chromedp.Do(plain, chromedp.EmulateViewport(1280, 900), chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		return err
	}), chromedp.Navigate(startConsole(t, d)), chromedp.Click(chromedp.CSS("#rows a.open")))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, plain, 10*time.Second, "without script, the SMS case with its three messages", `document.querySelectorAll(".message .text").length === 3`)
	err = chromedp.Do(plain, chromedp.SetValue(chromedp.CSS("#disposition"), "referred"), chromedp.Click(chromedp.CSS("#ack")))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, plain, 10*time.Second, "without script, the case closed and the queue empty",
		`location.pathname === "/" && /Case closed/.test(document.getElementById("flash").textContent) && !!document.querySelector("#rows tr.empty")`)

	// A supervisor's console: the audit chain verified by the gateway, the
	// agency's officers, the trail of what the officer just did.
	add := exec.Command(d.bin, "officer", "add", "--config", d.config, "--agency", "pe-lima", "--name", "DEMO Supervisor", "--role", "supervisor")
	add.Env = append(os.Environ(), "REDIS_URL="+d.redisURL)
	out, err := add.Output()
	if err != nil {
		t.Fatalf("officer add: %v", err)
	}
	supURL := startConsoleAs(t, d, strings.TrimSpace(string(out)))
	sup, cancelSup := chromedp.NewContext(browser)
	defer cancelSup()
	supProblems := watchProblems(t, sup)
	if err := chromedp.Do(sup, chromedp.EmulateViewport(1280, 900), chromedp.Navigate(supURL)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, sup, 5*time.Second, "the supervisor's link", `!!document.getElementById("nav-supervisor")`)
	if err := chromedp.Do(sup, chromedp.Click(chromedp.CSS("#nav-supervisor"))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, sup, 10*time.Second, "the supervisor screen",
		`!!document.querySelector("#chain.ok") && /DEMO Supervisor/.test(document.querySelector("table.officers").textContent) && document.querySelectorAll("table.audit tr").length >= 4`)
	supProblems.check(t, sup, "supervisor")
	screenshot(t, sup, "console-supervisor.png")
}
