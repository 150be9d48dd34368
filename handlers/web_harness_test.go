package handlers_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/hotline-org/hotline/gateway"
	"github.com/hotline-org/hotline/gateway/followup"
	"github.com/hotline-org/hotline/gateway/gatewaytest"
	"github.com/hotline-org/hotline/gateway/web"
	"github.com/hotline-org/hotline/handlers"
	"github.com/hotline-org/hotline/queue"
	"github.com/hotline-org/hotline/queue/officer"
)

// webHarness is the gateway with the web form on real Redis.
type webHarness struct {
	*gatewaytest.Stack
	srv       *httptest.Server
	handler   http.Handler
	followups *followup.Store
}

// webConfig is what a web test may change: the handlers' options and the
// web channel's (whose Intake is the handlers' own).
type webConfig struct {
	handlers.Options
	Channel web.Options
}

func newWebHarness(t testing.TB, opts ...func(*webConfig)) *webHarness {
	t.Helper()
	s := gatewaytest.New(t)
	fu := followup.New(s.Redis.Client, s.Keyer, followup.Options{Prefix: s.Redis.Prefix})
	o := webConfig{
		Options: handlers.Options{
			Intake: s.Intake, Triage: s.Queue, Officers: officer.New(s.Queue), Ready: s.Queue.Ping, PublicURL: publicURL,
			AuthToken: []byte(authToken), MaxBody: 64 << 10, Logger: s.Logger,
			Web: handlers.WebOptions{ExitURL: "https://exit.example/"},
		},
		Channel: web.Options{
			Followups: fu, Keyer: s.Keyer, Redis: s.Redis.Client, Prefix: s.Redis.Prefix,
			MaxPhoto: 1 << 20, Logger: s.Logger,
		},
	}
	for _, f := range opts {
		f(&o)
	}
	o.Channel.Intake = o.Intake
	o.Web.Channel = web.New(o.Channel)
	hd := handlers.New(o.Options)
	srv := httptest.NewServer(hd)
	t.Cleanup(srv.Close)
	return &webHarness{Stack: s, srv: srv, handler: hd, followups: fu}
}

// webForm is a form as a browser posts it: multipart, fields in page order.
type webForm struct {
	fields [][2]string
	photo  []byte
	photos [][]byte // more photos, after photo
}

func formOf(kv ...string) webForm {
	var f webForm
	for i := 0; i+1 < len(kv); i += 2 {
		f.fields = append(f.fields, [2]string{kv[i], kv[i+1]})
	}
	return f
}

func (f webForm) multipart() (string, []byte) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, kv := range f.fields {
		mw.WriteField(kv[0], kv[1])
	}
	if f.photo != nil {
		w, _ := mw.CreateFormFile("photo", "IMG_0001.jpg")
		w.Write(f.photo)
	}
	for _, p := range f.photos {
		w, _ := mw.CreateFormFile("photo", "IMG_0002.jpg")
		w.Write(p)
	}
	mw.Close()
	return mw.FormDataContentType(), buf.Bytes()
}

func (f webForm) urlencoded() (string, []byte) {
	v := url.Values{}
	for _, kv := range f.fields {
		v.Add(kv[0], kv[1])
	}
	return "application/x-www-form-urlencoded", []byte(v.Encode())
}

type webResponse struct {
	status int
	header http.Header
	body   string
}

func (h *webHarness) do(t testing.TB, method, path, ctype string, body []byte, hdr ...string) webResponse {
	t.Helper()
	return h.doAt(t, h.srv.URL, method, path, ctype, body, hdr...)
}

// doAt sends a request to the server at base; a "Host" pair in hdr sets
// the request's Host.
func (h *webHarness) doAt(t testing.TB, base, method, path, ctype string, body []byte, hdr ...string) webResponse {
	t.Helper()
	req, err := http.NewRequest(method, base+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i] == "Host" {
			req.Host = hdr[i+1]
			continue
		}
		req.Header.Set(hdr[i], hdr[i+1])
	}
	// Never follow redirects: each response is checked as sent.
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return webResponse{resp.StatusCode, resp.Header, string(b)}
}

func (h *webHarness) post(t testing.TB, f webForm, hdr ...string) webResponse {
	t.Helper()
	ct, b := f.multipart()
	return h.do(t, http.MethodPost, "/report", ct, b, hdr...)
}

var (
	caseRe = regexp.MustCompile(`id="case">([2-9A-Z]{4}-[2-9A-Z]{4})<`)
	codeRe = regexp.MustCompile(`id="code" class="code">((?:<span class="sep">-</span>|<span class="grp">[0-9A-Z]{4}</span>){7})</dd>`)
	tagRe  = regexp.MustCompile(`<[^>]*>`)
)

// receipt returns the case reference and receipt code of a "sent" page.
func receipt(t testing.TB, r webResponse) (string, string) {
	t.Helper()
	c, k := caseRe.FindStringSubmatch(r.body), codeRe.FindStringSubmatch(r.body)
	if r.status != 200 || c == nil || k == nil {
		t.Fatalf("no receipt: status %d\n%s", r.status, r.body)
	}
	return c[1], tagRe.ReplaceAllString(k[1], "")
}

// claimOne claims the next tip of agency and opens it as the officer would.
func (h *webHarness) claimOne(t testing.TB, agency string) (*queue.Claimed, gateway.Report) {
	t.Helper()
	c, err := h.Queue.Claim(context.Background(), agency, "officer-1")
	if err != nil {
		t.Fatalf("claim %s: %v", agency, err)
	}
	return c, h.Open(t, c)
}

// appended checks that the last message of the held case named by id
// joined the case instead of making a new queue item, and opens it as its
// holder.
func (h *webHarness) appended(t testing.TB, agency, id string) (*queue.Listed, queue.Message, gateway.Report) {
	t.Helper()
	if c, err := h.Queue.Claim(context.Background(), agency, "officer-other"); !errors.Is(err, queue.ErrEmpty) {
		t.Fatalf("the message made a new item of %s: %v %v", agency, c, err)
	}
	held, err := h.Queue.Meta(context.Background(), agency, id)
	if err != nil || held.State != queue.StateHeld {
		t.Fatalf("the case %s at %s: %v (%+v)", id, agency, err, held)
	}
	l, _, err := h.Queue.Open(context.Background(), agency, id, held.Holder, false)
	if err != nil || len(l.Messages) < 2 {
		t.Fatalf("open the case %s at %s: %v (%d messages)", id, agency, err, len(l.Messages))
	}
	m := l.Messages[len(l.Messages)-1]
	return l, m, h.Open(t, &queue.Claimed{Entry: queue.Entry{TipID: m.TipID, Agency: agency, Sealed: m.Sealed}})
}

// failingIntake answers every tip as if Redis (and the spool) were down.
type failingIntake struct{}

func (failingIntake) Submit(ctx context.Context, t gateway.Tip) (gateway.Receipt, error) {
	return gateway.Receipt{}, gateway.ErrUnavailable
}

// fakeClock is a settable web.Options.Now.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }
