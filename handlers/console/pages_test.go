package console

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hotline-org/hotline/crypto/seal"
	"github.com/hotline-org/hotline/gateway"
	"github.com/hotline-org/hotline/handlers"
	"github.com/hotline-org/hotline/handlers/officerapi"
)

// sealedCase seals report to a new identity and returns the identities and
// the tip as the gateway would list it, held by the stub's officer.
func sealedCase(t *testing.T, rep gateway.Report) (*seal.Identities, *officerapi.Listed) {
	t.Helper()
	g, err := seal.Generate(true)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "id.key")
	if err := seal.WriteIdentityFile(path, g, time.Now()); err != nil {
		t.Fatal(err)
	}
	ids, err := seal.LoadIdentities(path, io.Discard, "")
	if err != nil {
		t.Fatal(err)
	}
	rs, err := seal.ParseRecipients([]string{g.Recipient})
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := json.Marshal(rep)
	sealed, err := rs.Seal(plain)
	if err != nil {
		t.Fatal(err)
	}
	return ids, &officerapi.Listed{TipMeta: handlers.TipMeta{ID: rep.TipID, Case: rep.Case, Agency: "pe-lima",
		Channel: string(rep.Channel), Priority: "urgent", ReceivedAt: rep.ReceivedAt}, State: "held", Holder: "o1", Sealed: sealed}
}

func wav(samples int) []byte {
	var b bytes.Buffer
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, uint32(36+samples*2))
	b.WriteString("WAVEfmt ")
	binary.Write(&b, binary.LittleEndian, []any{uint32(16), uint16(1), uint16(1), uint32(8000), uint32(16000), uint16(2), uint16(16)})
	b.WriteString("data")
	binary.Write(&b, binary.LittleEndian, uint32(samples*2))
	for i := range samples {
		binary.Write(&b, binary.LittleEndian, int16(i*37))
	}
	return b.Bytes()
}

// TestCasePageHostileReportAndMedia: a reporter's text is shown as text
// (markup escaped, bidirectional and control characters neutralised); a
// photo and a voice recording are shown inline from per-session URLs, typed
// by their bytes and served byte-identical, never cached; an attachment of
// another type is not served at all.
func TestCasePageHostileReportAndMedia(t *testing.T) {
	var pic bytes.Buffer
	png.Encode(&pic, image.NewRGBA(image.Rect(0, 0, 4, 3)))
	voice := wav(4000)
	rep := gateway.Report{TipID: "tip1", Case: "CASE-1", Channel: "voice", ReceivedAt: time.Now().Add(-time.Minute),
		Text: "<script>alert(1)</script> call \u202e1234\u202c \x1b[31m", From: "+51 <i>900</i>",
		Media: []gateway.Media{{ContentType: "image/jpeg", Data: pic.Bytes()}, {ContentType: "audio/x-wav", Data: voice, DurationS: 12},
			{ContentType: "image/png", Data: []byte("<html><script>alert(2)</script></html>")}},
		Location: &gateway.ReportLocation{Lat: -12.0857, Lon: -76.9397, Source: "text", Match: "<b>La Molina</b>"},
		Routing:  gateway.Routing{Reason: "location <x>", Agencies: []string{"pe-lima"}}}
	ids, tip := sealedCase(t, rep)
	c, _ := newTestConsoleWith(t, &stubAPI{tip: tip}, ids)
	cookie, _ := login(t, c)
	w := c.serve(req{method: "GET", path: "/case/tip1", host: testHost, cookie: cookie})
	body := w.Body.String()
	if w.Code != 200 {
		t.Fatalf("case page: %d\n%s", w.Code, body)
	}
	for _, bad := range []string{"<script>alert", "\u202e", "\x1b", "<i>900", "<b>La Molina", "alert(2)"} {
		if strings.Contains(body, bad) {
			t.Errorf("the page carries %q raw", bad)
		}
	}
	for _, want := range []string{"&lt;script&gt;alert(1)&lt;/script&gt; call \uFFFD1234\uFFFD \uFFFD[31m", "Voice recording (12 s)", "location &lt;x&gt;"} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	img := regexp.MustCompile(`<img class="photo" src="/media/([A-Za-z0-9_-]{43})"`).FindStringSubmatch(body)
	aud := regexp.MustCompile(`<audio controls preload="metadata" src="/media/([A-Za-z0-9_-]{43})"`).FindStringSubmatch(body)
	if img == nil || aud == nil || strings.Count(body, "/media/") != 2 {
		t.Fatalf("want one photo and one recording inline, and nothing else served:\n%s", body)
	}
	for _, m := range []struct {
		key, ctype string
		data       []byte
	}{{img[1], "image/png", pic.Bytes()}, {aud[1], "audio/wave", voice}} {
		w := c.serve(req{method: "GET", path: "/media/" + m.key, host: testHost, cookie: cookie})
		if w.Code != 200 || w.Header().Get("Content-Type") != m.ctype || !bytes.Equal(w.Body.Bytes(), m.data) ||
			w.Header().Get("Cache-Control") != "no-store" {
			t.Errorf("media %s: %d %q no-store=%q identical=%t", m.ctype, w.Code, w.Header().Get("Content-Type"),
				w.Header().Get("Cache-Control"), bytes.Equal(w.Body.Bytes(), m.data))
		}
		// A range past the end is an error of http.ServeContent, which
		// drops Cache-Control: the console puts it back.
		if w := c.serve(req{method: "GET", path: "/media/" + m.key, host: testHost, cookie: cookie,
			hdr: map[string]string{"Range": "bytes=99999999-"}}); w.Code != http.StatusRequestedRangeNotSatisfiable ||
			w.Header().Get("Cache-Control") != "no-store" || w.Header().Get("Content-Security-Policy") != CSP {
			t.Errorf("media, range past the end: %d %v", w.Code, w.Header())
		}
		if w := c.serve(req{method: "GET", path: "/media/" + m.key, host: testHost}); w.Code != http.StatusForbidden {
			t.Errorf("media without the cookie: %d", w.Code)
		}
	}
}

// TestLanguageSwitchAndSupervisor: the switch works without script, and a
// supervisor's screen shows the chain's verification and the officers
// (names escaped), with when each token was last used.
func TestLanguageSwitchAndSupervisor(t *testing.T) {
	c, _ := newTestConsoleWith(t, &stubAPI{role: "supervisor", list: []officerapi.Listed{{TipMeta: handlers.TipMeta{ID: "t9", Case: "C-9",
		Priority: "normal", ReceivedAt: time.Now()}, State: "held", Holder: "o2"}}}, nil)
	cookie, form := login(t, c)
	w := c.serve(req{method: "POST", path: "/lang", host: testHost, cookie: cookie,
		hdr: map[string]string{"Origin": "http://" + testHost}, form: url.Values{"form": {form}, "lang": {"ms"}}})
	if w.Code != http.StatusSeeOther {
		t.Fatalf("switch: %d", w.Code)
	}
	w = c.serve(req{method: "GET", path: "/", host: testHost, cookie: cookie})
	if !strings.Contains(w.Body.String(), "Ambil kes seterusnya") || !strings.Contains(w.Body.String(), `<html lang="ms">`) {
		t.Fatalf("not in Malay:\n%s", w.Body.String())
	}
	c.hub.refresh(context.Background())
	if body := c.serve(req{method: "GET", path: "/", host: testHost, cookie: cookie}).Body.String(); !strings.Contains(body, "<td>Other (o2)</td>") {
		t.Fatalf("the supervisor's queue does not name the holder:\n%s", body)
	}
	w = c.serve(req{method: "GET", path: "/supervisor", host: testHost, cookie: cookie})
	body := w.Body.String()
	if w.Code != 200 || !strings.Contains(body, "Utuh: 7 entri") || !strings.Contains(body, "&lt;b&gt;Demo&lt;/b&gt;") ||
		!strings.Contains(body, "revoked") {
		t.Fatalf("supervisor screen: %d\n%s", w.Code, body)
	}
	used := time.Date(2026, 3, 2, 23, 59, 0, 0, time.UTC).Local().Format("2006-01-02 15:04:05")
	if !strings.Contains(body, "<th>Terakhir digunakan</th>") || !strings.Contains(body, "<td>tidak pernah</td>") ||
		!strings.Contains(body, "<td>"+used+"</td>") {
		t.Fatalf("supervisor screen without when the tokens were last used (%s, and never):\n%s", used, body)
	}
}

// claimerAPI is a gateway that claims a chosen case.
type claimerAPI struct {
	*stubAPI
	chosen string
}

func (c *claimerAPI) NextID(_ context.Context, _ *seal.Identities, id string) (*officerapi.Claimed, *gateway.Report, error) {
	c.chosen = id
	return &officerapi.Claimed{TipMeta: handlers.TipMeta{ID: id, Case: "CASE-2"}}, &gateway.Report{}, nil
}

// TestClaimChosenCase: with a client that can claim a chosen case, each
// waiting row has its claim button (without script), and it claims that
// case; without one, no row offers it.
func TestClaimChosenCase(t *testing.T) {
	list := []officerapi.Listed{{TipMeta: handlers.TipMeta{ID: "tipw", Case: "CASE-2", Priority: "normal", ReceivedAt: time.Now()}, State: "waiting"},
		{TipMeta: handlers.TipMeta{ID: "tiph", Case: "CASE-3", Priority: "urgent", ReceivedAt: time.Now()}, State: "held", Holder: "o9"}}
	api := &claimerAPI{stubAPI: &stubAPI{list: list}}
	c, err := New(context.Background(), Options{API: api})
	if err != nil {
		t.Fatal(err)
	}
	c.SetHost(testHost)
	c.hub.refresh(context.Background())
	cookie, form := login(t, c)
	body := c.serve(req{method: "GET", path: "/", host: testHost, cookie: cookie}).Body.String()
	if strings.Count(body, `class="claim-one"`) != 1 || !strings.Contains(body, `action="/case/tipw/claim"`) {
		t.Fatalf("want one claim button, on the waiting case:\n%s", body)
	}
	w := c.serve(req{method: "POST", path: "/case/tipw/claim", host: testHost, cookie: cookie,
		hdr: map[string]string{"Origin": "http://" + testHost}, form: url.Values{"form": {form}}})
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/case/tipw" || api.chosen != "tipw" {
		t.Fatalf("claim: %d %q chosen %q", w.Code, w.Header().Get("Location"), api.chosen)
	}

	plain, _ := newTestConsoleWith(t, &stubAPI{list: list}, nil)
	plain.hub.refresh(context.Background())
	cookie, _ = login(t, plain)
	if body := plain.serve(req{method: "GET", path: "/", host: testHost, cookie: cookie}).Body.String(); strings.Contains(body, "claim-one") {
		t.Fatal("a claim button without a client that can claim a chosen case")
	}
}

// TestReplyWindowShown: an SMS case shows the reply window counting down
// from its last message, then closed, with the override reasons.
func TestReplyWindowShown(t *testing.T) {
	received := time.Now().Add(-5 * time.Minute)
	ids, tip := sealedCase(t, gateway.Report{TipID: "tip1", Case: "CASE-1", Channel: "sms", ReceivedAt: received, Text: "DEMO"})
	c, _ := newTestConsoleWith(t, &stubAPI{tip: tip}, ids)
	c.opt.ReplyWindow = 15 * time.Minute
	cookie, _ := login(t, c)
	body := c.serve(req{method: "GET", path: "/case/tip1", host: testHost, cookie: cookie}).Body.String()
	until := received.Add(15 * time.Minute).UnixMilli()
	if !strings.Contains(body, fmt.Sprintf(`id="window" data-until="%d"`, until)) || !strings.Contains(body, "Reply window: 10m0s left") ||
		!strings.Contains(body, `<option value="life_at_risk">`) {
		t.Fatalf("no open window:\n%s", body)
	}
	c.opt.Now = func() time.Time { return received.Add(16 * time.Minute) }
	body = c.serve(req{method: "GET", path: "/case/tip1", host: testHost, cookie: cookie}).Body.String()
	if !strings.Contains(body, "The reply window is closed") {
		t.Fatalf("no closed window:\n%s", body)
	}
}

// TestGatewayDeadlinesShown: the reply window and paging deadlines the
// console shows are the ones the gateway says in /me, not the defaults.
func TestGatewayDeadlinesShown(t *testing.T) {
	received := time.Now().Add(-5 * time.Minute)
	ids, tip := sealedCase(t, gateway.Report{TipID: "tip1", Case: "CASE-1", Channel: "sms", ReceivedAt: received, Text: "DEMO"})
	me := &officerapi.Officer{ID: "o1", Agency: "pe-lima", Name: "Demo", Role: "officer",
		ReplyWindowS: 3600, PageAfterS: 300, PageSupervisorAfterS: 1200}
	c, _ := newTestConsoleWith(t, &stubAPI{tip: tip, me: me}, ids)
	cookie, _ := login(t, c)
	body := c.serve(req{method: "GET", path: "/case/tip1", host: testHost, cookie: cookie}).Body.String()
	if until := received.Add(time.Hour).UnixMilli(); !strings.Contains(body, fmt.Sprintf(`id="window" data-until="%d"`, until)) {
		t.Fatalf("the reply window is not the gateway's hour:\n%s", body)
	}
	if body := c.serve(req{method: "GET", path: "/", host: testHost, cookie: cookie}).Body.String(); !strings.Contains(body, "after 5m0s / 20m0s") {
		t.Fatalf("the paging deadlines are not the gateway's:\n%s", body)
	}
}

// served serves a console made with opt on a test server, and logs in
// through its one-time URL.
func served(t *testing.T, opt Options) (*Console, *httptest.Server, *http.Cookie) {
	t.Helper()
	c, err := New(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(c.Handler())
	t.Cleanup(srv.Close)
	c.SetHost(strings.TrimPrefix(srv.URL, "http://"))
	u, _ := url.Parse(c.OneTimeURL())
	client := &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(srv.URL + "/?" + u.RawQuery)
	if err != nil || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %v %v", resp, err)
	}
	resp.Body.Close()
	return c, srv, resp.Cookies()[0]
}

// TestCasePageRenewsWhileOpen: while a case page's event stream is
// connected, the console renews that case's lease, and tells the page; once
// the page is gone, it stops.
func TestCasePageRenewsWhileOpen(t *testing.T) {
	api := &stubAPI{}
	_, srv, cookie := served(t, Options{API: api, RenewEvery: 50 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/events?case=tip1", nil)
	req.AddCookie(cookie)
	req.Header.Set("Sec-Fetch-Site", "same-origin") // as a browser sends it for the console's page
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("events: %v %v", resp, err)
	}
	sc := bufio.NewScanner(resp.Body)
	renewEvents := 0
	for renewEvents < 3 && sc.Scan() {
		if sc.Text() == `data: {"ok":true}` {
			renewEvents++
		}
	}
	cancel()
	resp.Body.Close()
	if renewEvents < 3 {
		t.Fatalf("%d renew events", renewEvents)
	}
	time.Sleep(200 * time.Millisecond) // the handler notices the page is gone
	n := len(api.renewedIDs())
	time.Sleep(300 * time.Millisecond)
	got := api.renewedIDs()
	if len(got) < 3 || len(got) != n || slices.ContainsFunc(got, func(id string) bool { return id != "tip1" }) {
		t.Fatalf("renewed %q (then %d more after the page left)", got, len(got)-n)
	}
}

// appendingAPI is a gateway whose event stream tells, again and again, of a
// message appended to the officer's held case tip1 (with fields the pages
// must not get), and of one whose id is too long to be a case's.
type appendingAPI struct{ stubAPI }

func (a *appendingAPI) Watch(ctx context.Context, fn func(officerapi.Event) bool) error {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if !fn(officerapi.Event{Name: "appended", Data: []byte(`{"id":"` + strings.Repeat("x", 65) + `"}`)}) ||
			!fn(officerapi.Event{Name: "appended", Data: []byte(`{"id":"tip1","case":"CASE-1","tip":"<b>m2</b>\ndata: x"}`)}) {
			return nil
		}
	}
}

// TestAppendedReachesThePage: a message appended to a case the officer
// holds (the gateway's "appended" event) reaches the console's pages as an
// "appended" event naming the case only, which the case page shows.
func TestAppendedReachesThePage(t *testing.T) {
	c, srv, cookie := served(t, Options{API: &appendingAPI{}})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	go c.hub.run(ctx)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/events?case=tip1", nil)
	req.AddCookie(cookie)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("events: %v %v", resp, err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if n := len(lines); n >= 2 && lines[n-2] == "event: appended" {
			if lines[n-1] != `data: {"id":"tip1"}` {
				t.Fatalf("appended event: %q", lines[n-1])
			}
			return
		}
	}
	t.Fatalf("no appended event reached the page: %q", lines)
}

// listAPI is a gateway whose queue lists tip1 with a number of messages
// the test changes, and no event stream.
type listAPI struct {
	stubAPI
	mu       sync.Mutex
	messages int
}

func (a *listAPI) List(context.Context) ([]officerapi.Listed, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	l := officerapi.Listed{State: "held", Holder: "o1", MessageCount: a.messages}
	l.ID = "tip1"
	return []officerapi.Listed{l}, nil
}

func (a *listAPI) set(n int) {
	a.mu.Lock()
	a.messages = n
	a.mu.Unlock()
}

// caseEvents opens a case page's event stream and returns a function that
// reads the next event's name and data, skipping comments and renewals.
func caseEvents(t *testing.T, srv *httptest.Server, cookie *http.Cookie, query string) func() (string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/events?"+query, nil)
	req.AddCookie(cookie)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("events: %v %v", resp, err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	sc := bufio.NewScanner(resp.Body)
	return func() (string, string) {
		var name string
		for sc.Scan() {
			switch line := sc.Text(); {
			case strings.HasPrefix(line, "event: "):
				name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: ") && name != "" && name != "renew":
				return name, strings.TrimPrefix(line, "data: ")
			}
		}
		t.Fatalf("the stream ended: %v", sc.Err())
		return "", ""
	}
}

// TestAppendedBeforeThePageListened: a message appended to a case between
// the rendering of its page and the opening of the page's event stream
// (the gateway's "appended" event went to no one) is told to the page as
// soon as the stream opens, or at the next change of the list; a page that
// shows every message is told nothing.
func TestAppendedBeforeThePageListened(t *testing.T) {
	api := &listAPI{messages: 2}
	c, srv, cookie := served(t, Options{API: api, RenewEvery: 20 * time.Millisecond})
	c.hub.refresh(context.Background())

	next := caseEvents(t, srv, cookie, "case=tip1&seen=1")
	if name, data := next(); name != "appended" || data != `{"id":"tip1"}` {
		t.Fatalf("a page showing 1 of 2 messages: first event %s %s, want appended", name, data)
	}

	// A page that shows both: nothing, until a third message is listed.
	next = caseEvents(t, srv, cookie, "case=tip1&seen=2")
	api.set(3)
	c.hub.refresh(context.Background())
	if name, _ := next(); name != "queue" {
		t.Fatalf("a page showing 2 of 2 messages, then a third listed: first event %s, want queue", name)
	}
	if name, data := next(); name != "appended" || data != `{"id":"tip1"}` {
		t.Fatalf("after the list changed: %s %s, want appended", name, data)
	}

	for _, bad := range []string{"case=tip1&seen=-1", "case=tip1&seen=x", "case=tip1&seen=99999999"} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/events?"+bad, nil)
		req.AddCookie(cookie)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", bad, resp.StatusCode)
		}
	}
}

// floodAPI is a gateway whose list takes a while (a flood's queue) and
// whose event stream never stops (a tip a millisecond).
type floodAPI struct {
	*stubAPI
	took  time.Duration
	lists atomic.Int32
}

func (a *floodAPI) List(context.Context) ([]officerapi.Listed, error) {
	a.lists.Add(1)
	time.Sleep(a.took)
	return nil, nil
}

func (a *floodAPI) Watch(ctx context.Context, fn func(officerapi.Event) bool) error {
	for ctx.Err() == nil {
		fn(officerapi.Event{Name: "queued"})
		time.Sleep(time.Millisecond)
	}
	return nil
}

// TestHubPacesSlowLists: during a flood every event asked for a list at
// once, and a list of a large queue takes long: each console listed the
// queue back to back. A list of 50 ms now waits 200 ms before the next
// (four times as long), so two seconds of events make about 8 lists, not
// 40; and they still come on events, not only on the poll's ticks.
func TestHubPacesSlowLists(t *testing.T) {
	api := &floodAPI{stubAPI: &stubAPI{}, took: 50 * time.Millisecond}
	c, err := New(context.Background(), Options{API: api, PollEvery: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	c.hub.run(ctx)
	// At most 2 s / 250 ms; at least two even on a loaded machine, where
	// a list takes longer than 50 ms, and so the rest after it.
	if n := api.lists.Load(); n < 2 || n > 9 {
		t.Fatalf("%d lists of 50 ms in two seconds of events; want 2 to 9", n)
	}
}
