package handlers_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotline-org/hotline/gateway"
	"github.com/hotline-org/hotline/gateway/conversation"
	"github.com/hotline-org/hotline/gateway/gatewaytest"
	"github.com/hotline-org/hotline/gateway/sms"
	"github.com/hotline-org/hotline/gateway/twilioapi"
	"github.com/hotline-org/hotline/handlers"
	"github.com/hotline-org/hotline/queue"
	"github.com/hotline-org/hotline/queue/officer"
)

const (
	publicURL = "https://hotline.example.org"
	authToken = "twilio-auth-token-for-tests-0123"
)

// harness is the gateway's handlers over a real pipeline: Redis, age keys,
// the real SMS channel, and a fake of Twilio's REST API.
type harness struct {
	*gatewaytest.Stack
	srv   *httptest.Server
	h     *handlers.Server
	fake  *fakeTwilioREST
	ch    *sms.Channel
	store *conversation.Store
	clock *shiftClock
}

// shiftClock is the channel's clock, moved forward by tests.
type shiftClock struct {
	mu sync.Mutex
	d  time.Duration
}

func (c *shiftClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return time.Now().Add(c.d) }
func (c *shiftClock) add(d time.Duration) {
	c.mu.Lock()
	c.d += d
	c.mu.Unlock()
}

func newHarness(t testing.TB, opts ...func(*handlers.Options)) *harness {
	t.Helper()
	return newHarnessWith(t, func(_ *gatewaytest.Stack, o *handlers.Options) {
		for _, f := range opts {
			f(o)
		}
	})
}

// newHarnessWith lets the caller wire parts that need the stack.
func newHarnessWith(t testing.TB, wire func(*gatewaytest.Stack, *handlers.Options)) *harness {
	t.Helper()
	return newHarnessChannel(t, wire, nil)
}

// newHarnessLease is a harness whose queue hands out leases of d, and
// that queue.
func newHarnessLease(t testing.TB, d time.Duration) (*harness, *queue.Queue) {
	t.Helper()
	var q *queue.Queue
	h := newHarnessWith(t, func(s *gatewaytest.Stack, o *handlers.Options) {
		q = queue.New(s.Redis.Client, queue.Options{Prefix: s.Redis.Prefix, Lease: d})
		o.Triage = q
	})
	return h, q
}

// addNote seals text to agency and adds it to the tip as token's note; it
// returns the request body, for tests that send it again.
func (h *harness) addNote(t *testing.T, agency, token, tipID, text string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"sealed": sealNote(t, h.Identities[agency], text)})
	if s, b := h.api(t, "POST", "/api/v1/tips/"+tipID+"/notes", token, string(body)); s != http.StatusCreated {
		t.Fatalf("note: %d %s", s, b)
	}
	return string(body)
}

// newHarnessChannel also lets the caller adjust the SMS channel (limits),
// with the stack at hand.
func newHarnessChannel(t testing.TB, wire func(*gatewaytest.Stack, *handlers.Options), channel func(*gatewaytest.Stack, *sms.Options),
	stack ...func(*gateway.Options)) *harness {
	t.Helper()
	if wire == nil {
		wire = func(*gatewaytest.Stack, *handlers.Options) {}
	}
	s := gatewaytest.New(t, stack...)
	hs := &harness{Stack: s, fake: newFakeTwilioREST(t), clock: &shiftClock{}}
	tw, err := twilioapi.New(twilioapi.Options{AccountSID: fakeSID, AuthToken: fakeToken, APIURL: hs.fake.srv.URL,
		StatusCallback: publicURL + "/twilio/status"})
	if err != nil {
		t.Fatal(err)
	}
	hs.ch, hs.store = s.Channel(t, tw, hs.clock.now, func(o *sms.Options) {
		if channel != nil {
			channel(s, o)
		}
	})
	o := handlers.Options{
		Intake: s.Intake, Triage: s.Queue, Officers: officer.New(s.Queue), Ready: s.Queue.Ping, PublicURL: publicURL,
		AuthToken: []byte(authToken), AccountSID: fakeSID, MaxBody: 64 << 10, Logger: s.Logger, SMS: hs.ch, Handles: hs.store,
	}
	wire(s, &o)
	hs.h = handlers.New(o)
	hs.srv = httptest.NewServer(hs.h)
	t.Cleanup(hs.srv.Close)
	return hs
}

// smsForm is a Twilio Messaging webhook body. A sid that is not of
// Twilio's shape (SM or MM and 32 hex digits) is turned into one, so that
// tests may name messages briefly; twilioSID gives the SID used.
func smsForm(sid, from, body string) url.Values {
	sid = twilioSID(sid)
	return url.Values{
		"MessageSid": {sid}, "SmsSid": {sid}, "AccountSid": {fakeSID},
		"From": {from}, "To": {gatewaytest.NumberLima}, "Body": {body}, "NumMedia": {"0"},
		"FromCountry": {"PE"}, "FromCity": {"LIMA"}, "ApiVersion": {"2010-04-01"},
	}
}

// PrepRequest functions, in the style of courier's handler tests.
func addValidSignature(r *http.Request, form url.Values) {
	r.Header.Set("X-Twilio-Signature", handlers.TwilioSignature([]byte(authToken), publicURL+r.URL.RequestURI(), form))
}

func addInvalidSignature(r *http.Request, form url.Values) {
	r.Header.Set("X-Twilio-Signature", handlers.TwilioSignature([]byte("not-the-token"), publicURL+r.URL.RequestURI(), form))
}

func noSignature(r *http.Request, form url.Values) {}

// signedForHost signs for the URL the request claims in its Host header,
// which the gateway must ignore.
func signedForHost(r *http.Request, form url.Values) {
	r.Header.Set("X-Twilio-Signature", handlers.TwilioSignature([]byte(authToken), "http://"+r.Host+r.URL.RequestURI(), form))
}

func (h *harness) postSMS(t testing.TB, form url.Values, prep func(*http.Request, url.Values)) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.srv.URL+"/twilio/sms", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	prep(req, form)
	return do(t, req)
}

func do(t testing.TB, req *http.Request) (int, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (h *harness) api(t testing.TB, method, path, token, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, h.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	return do(t, req)
}

func (h *harness) officer(t testing.TB, agency string) string {
	t.Helper()
	token, _, err := officer.New(h.Queue).Add(context.Background(), agency, "Officer "+agency, "officer")
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// supervisor returns the token of a new supervisor of agency.
func (h *harness) supervisor(t testing.TB, agency string) string {
	t.Helper()
	token, _, err := officer.New(h.Queue).Add(context.Background(), agency, "Supervisor "+agency, officer.RoleSupervisor)
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// revokedOfficer returns the token of an officer of agency, revoked.
func (h *harness) revokedOfficer(t testing.TB, agency string) string {
	t.Helper()
	s := officer.New(h.Queue)
	token, o, err := s.Add(context.Background(), agency, "Officer "+agency, "officer")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Revoke(context.Background(), o.ID); err != nil {
		t.Fatal(err)
	}
	return token
}

var sidShape = regexp.MustCompile(`^(SM|MM)[0-9a-f]{32}$`)

// twilioSID maps a test's short message name to a SID of Twilio's shape.
func twilioSID(name string) string {
	if sidShape.MatchString(name) {
		return name
	}
	sum := sha256.Sum256([]byte(name))
	return "SM" + hex.EncodeToString(sum[:16])
}

func regexpMatch(pattern, s string) bool { return regexp.MustCompile(pattern).MatchString(s) }
