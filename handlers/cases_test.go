package handlers_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hotline-org/hotline/crypto/seal"
	"github.com/hotline-org/hotline/gateway"
	"github.com/hotline-org/hotline/gateway/gatewaytest"
	"github.com/hotline-org/hotline/handlers"
	"github.com/hotline-org/hotline/queue"
)

// openMessage opens one message of a case as the officer's client would.
func (h *harness) openMessage(t *testing.T, agency string, m handlers.MessageJSON) gateway.Report {
	t.Helper()
	plain, err := seal.Open(m.Sealed, h.Identities[agency])
	if err != nil {
		t.Fatalf("open message %s: %v", m.ID, err)
	}
	var rep gateway.Report
	if err := json.Unmarshal(plain, &rep); err != nil {
		t.Fatal(err)
	}
	return rep
}

// sealTo seals plain to the recipient of id, as an officer's client
// re-seals a report for another agency.
func sealTo(t *testing.T, id seal.Identity, plain []byte) []byte {
	t.Helper()
	r, ok := seal.RecipientOf(id)
	if !ok {
		t.Fatal("test identities are X25519")
	}
	rs, err := seal.ParseRecipients([]string{r})
	if err != nil {
		t.Fatal(err)
	}
	out, err := rs.Seal(plain)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestThreeSMSOneCase: three SMS from one sender inside the thread window,
// through the real webhook with Twilio-signed requests, make one queue
// item; claiming it gives all three, in order, and each opens; the list
// shows one row of three messages; the case answers by any message's id
// and by its ref, under /tips and /cases.
func TestThreeSMSOneCase(t *testing.T) {
	h := newHarnessChannel(t, nil, nil)
	texts := []string{"nos tienen encerrados", "somos doce", "en la fábrica de la avenida"}
	for i, text := range texts {
		if s, b := h.postSMS(t, smsForm("SMcase"+string(rune('a'+i)), "+51911112222", text), addValidSignature); s != 200 {
			t.Fatalf("webhook %d: %d %s", i, s, b)
		}
	}
	tok := h.officer(t, gatewaytest.Lima)
	s, b := h.api(t, "GET", "/api/v1/tips", tok, "")
	var list struct{ Tips []handlers.ListedJSON }
	if err := json.Unmarshal([]byte(b), &list); s != 200 || err != nil || len(list.Tips) != 1 || list.Tips[0].MessageCount != 3 {
		t.Fatalf("list: %d %s", s, b)
	}
	if l := list.Tips[0]; l.LastAt.Before(l.ReceivedAt) || l.Messages != nil {
		t.Fatalf("list row: last_at %v before received_at %v, or messages listed", l.LastAt, l.ReceivedAt)
	}
	c, body := h.claimTipBody(t, tok)
	if len(c.Messages) != 3 || c.Messages[0].ID != c.ID {
		t.Fatalf("claim: %d messages\n%s", len(c.Messages), body)
	}
	for i, m := range c.Messages {
		rep := h.openMessage(t, gatewaytest.Lima, m)
		if rep.Text != texts[i] || rep.TipID != m.ID || rep.Case != c.Case || m.Channel != "sms" {
			t.Fatalf("message %d: %q (tip %s, case %s), want %q", i, rep.Text, rep.TipID, rep.Case, texts[i])
		}
		if i > 0 && m.ReceivedAt.Before(c.Messages[i-1].ReceivedAt) {
			t.Fatalf("message %d out of order", i)
		}
	}
	if s, b := h.api(t, "POST", "/api/v1/tips/claim", h.officer(t, gatewaytest.Lima), "{}"); s != http.StatusNoContent {
		t.Fatalf("a second claim got something: %d %s", s, b)
	}
	for _, path := range []string{"/api/v1/tips/" + c.Messages[2].ID, "/api/v1/cases/" + c.Case, "/api/v1/agencies/pe-lima/cases/" + c.Messages[1].ID} {
		s, b := h.api(t, "GET", path, tok, "")
		var shown handlers.ListedJSON
		if err := json.Unmarshal([]byte(b), &shown); s != 200 || err != nil || shown.ID != c.ID || len(shown.Messages) != 3 || len(shown.Messages[2].Sealed) == 0 {
			t.Fatalf("GET %s: %d %s", path, s, b)
		}
	}
	// Ack by the case ref closes every message of it.
	if s, b := h.api(t, "POST", "/api/v1/cases/"+c.Case+"/ack", tok, `{"disposition":"dispatched"}`); s != 200 {
		t.Fatalf("ack: %d %s", s, b)
	}
	for _, m := range c.Messages {
		if l, err := h.Queue.Meta(context.Background(), gatewaytest.Lima, m.ID); err != nil || l.State != "closed" {
			t.Fatalf("message %s after ack: %v %+v", m.ID, err, l)
		}
	}
}

// TestAppendedToHeldCase: a message arriving on a held case stays with
// its holder, who is told over the event stream; nobody else gets an item.
func TestAppendedToHeldCase(t *testing.T) {
	h := newHarnessChannel(t, func(_ *gatewaytest.Stack, o *handlers.Options) { o.EventInterval = 50 * time.Millisecond }, nil)
	from := "+51911113333"
	if s, b := h.postSMS(t, smsForm("SMheld1", from, "ayuda por favor"), addValidSignature); s != 200 {
		t.Fatalf("webhook: %d %s", s, b)
	}
	tok, other := h.officer(t, gatewaytest.Lima), h.officer(t, gatewaytest.Lima)
	c := h.claimTip(t, tok)
	events := func(token string) (*bufio.Scanner, context.CancelFunc) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		resp, err := h.openEvents(ctx, token)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		sc := bufio.NewScanner(resp.Body)
		// The first counts: the stream has seen the case.
		for sc.Scan() && !strings.HasPrefix(sc.Text(), "data: {\"waiting\"") {
		}
		return sc, cancel
	}
	mine, cancel := events(tok)
	defer cancel()
	theirs, cancelTheirs := events(other)
	defer cancelTheirs()
	if s, b := h.postSMS(t, smsForm("SMheld2", from, "nos mueven esta noche"), addValidSignature); s != 200 {
		t.Fatalf("webhook: %d %s", s, b)
	}
	var got map[string]string
	for mine.Scan() {
		if mine.Text() != "event: appended" {
			continue
		}
		mine.Scan()
		if err := json.Unmarshal([]byte(strings.TrimPrefix(mine.Text(), "data: ")), &got); err != nil {
			t.Fatalf("appended event %q: %v", mine.Text(), err)
		}
		break
	}
	if got["id"] != c.ID || got["case"] != c.Case || got["tip"] == "" || got["tip"] == c.ID || got["priority"] != c.Priority {
		t.Fatalf("appended event %v, want case %s (%s)", got, c.Case, c.ID)
	}
	s, b := h.api(t, "GET", "/api/v1/tips/"+got["tip"], tok, "")
	var shown handlers.ListedJSON
	if err := json.Unmarshal([]byte(b), &shown); s != 200 || err != nil || len(shown.Messages) != 2 || shown.Messages[1].ID != got["tip"] {
		t.Fatalf("show after the append: %d %s", s, b)
	}
	if rep := h.openMessage(t, gatewaytest.Lima, shown.Messages[1]); rep.Text != "nos mueven esta noche" {
		t.Fatalf("appended message %q", rep.Text)
	}
	if s, b := h.api(t, "POST", "/api/v1/tips/claim", other, "{}"); s != http.StatusNoContent {
		t.Fatalf("another officer got an item: %d %s", s, b)
	}
	if s, _ := h.api(t, "GET", "/api/v1/tips/"+got["tip"], other, ""); s != http.StatusForbidden {
		t.Fatalf("another officer read the appended message: %d", s)
	}
	// The other officer's stream tells nothing of it: a few updates pass
	// without an appended event.
	for n := 0; n < 3 && theirs.Scan(); {
		if theirs.Text() == "event: appended" {
			t.Fatal("the appended event went to an officer who does not hold the case")
		}
		if strings.HasPrefix(theirs.Text(), "event: counts") {
			n++
		}
	}
}

// TestTransferWholeCase: a case of two messages moves to another agency
// only with both re-sealed; the receiving agency claims one item holding
// both, in order.
func TestTransferWholeCase(t *testing.T) {
	h := newHarness(t, withAgencies)
	lima, kl := h.officer(t, "pe-lima"), h.officer(t, "my-kl")
	for i, text := range []string{"estamos en un taller", "somos ocho"} {
		if s, b := h.postSMS(t, smsForm("SMtc"+string(rune('a'+i)), "+51987650002", text), addValidSignature); s != 200 {
			t.Fatalf("webhook: %d %s", s, b)
		}
	}
	c := h.claimTip(t, lima)
	if len(c.Messages) != 2 {
		t.Fatalf("claimed %d messages, want 2", len(c.Messages))
	}
	var resealed [][]byte
	for _, m := range c.Messages {
		plain, err := seal.Open(m.Sealed, h.Identities["pe-lima"])
		if err != nil {
			t.Fatal(err)
		}
		resealed = append(resealed, sealTo(t, h.Identities["my-kl"], plain))
	}
	short, _ := json.Marshal(map[string]any{"agency": "my-kl", "sealed": resealed[0], "notes": [][]byte{}})
	if s, b := h.api(t, "POST", "/api/v1/cases/"+c.Case+"/transfer", lima, string(short)); s != http.StatusConflict {
		t.Fatalf("transfer without the second message: %d %s, want 409", s, b)
	}
	body, _ := json.Marshal(map[string]any{"agency": "my-kl", "sealed": resealed[0], "messages": resealed[1:], "notes": [][]byte{}})
	if s, b := h.api(t, "POST", "/api/v1/cases/"+c.Case+"/transfer", lima, string(body)); s != 200 {
		t.Fatalf("transfer: %d %s", s, b)
	}
	got := h.claimTip(t, kl)
	if got.ID != c.ID || len(got.Messages) != 2 || got.Messages[1].ID != c.Messages[1].ID {
		t.Fatalf("KL claimed %s with %d messages", got.ID, len(got.Messages))
	}
	if rep := h.openMessage(t, "my-kl", got.Messages[1]); rep.Text != "somos ocho" {
		t.Fatalf("KL's second message: %q", rep.Text)
	}
}

// TestUrgentFollowupRaisesCase: through the webhook, an urgent message on
// a waiting normal case makes the case urgent: it is claimed before an
// older normal case, with both its messages.
func TestUrgentFollowupRaisesCase(t *testing.T) {
	h := newHarnessChannel(t, nil, nil)
	for _, m := range []struct{ sid, from, text string }{
		{"SMold1", "+51911114444", "hola, tengo una pregunta"},
		{"SMnew1", "+51911115555", "hola, quiero información"},
		{"SMnew2", "+51911115555", "ayuda, nos tienen encerrados"},
	} {
		if s, b := h.postSMS(t, smsForm(m.sid, m.from, m.text), addValidSignature); s != 200 {
			t.Fatalf("webhook %s: %d %s", m.sid, s, b)
		}
	}
	tok := h.officer(t, gatewaytest.Lima)
	c := h.claimTip(t, tok)
	if c.Priority != "urgent" || len(c.Messages) != 2 || c.Messages[1].Priority != "urgent" || c.Messages[0].Priority != "normal" {
		t.Fatalf("claimed %s (%s) with %+v, want the raised case", c.ID, c.Priority, c.Messages)
	}
	if rep := h.openMessage(t, gatewaytest.Lima, c.Messages[0]); rep.Text != "hola, quiero información" {
		t.Fatalf("first message of the raised case: %q", rep.Text)
	}
}

// slowQueue is a queue whose walks of the open items (for counts and for
// lists) take a while, as a flood's do, and counts them.
type slowQueue struct {
	handlers.Triage
	took           time.Duration
	watches, lists atomic.Int32
}

func (s *slowQueue) Snapshot(ctx context.Context, agency string) (*queue.Snapshot, error) {
	s.watches.Add(1)
	time.Sleep(s.took)
	return s.Triage.Snapshot(ctx, agency)
}

func (s *slowQueue) List(ctx context.Context, agency string, limit int) ([]queue.Listed, error) {
	s.lists.Add(1)
	time.Sleep(s.took)
	return s.Triage.List(ctx, agency, limit)
}

// slowHarness is a harness whose queue walks take took (slowQueue), with
// event streams every interval (0: the default).
func slowHarness(t *testing.T, took, interval time.Duration) (*harness, *slowQueue) {
	slow := &slowQueue{took: took}
	h := newHarnessChannel(t, func(_ *gatewaytest.Stack, o *handlers.Options) {
		o.EventInterval = interval
		slow.Triage = o.Triage
		o.Triage = slow
	}, nil)
	return h, slow
}

// TestEventsPaceSlowCounts: the event stream counts the queue every
// interval (here 20 ms), but a count that took 100 ms waits until five
// times as long has passed: an open console costs the gateway a fifth of
// its time at most during a flood, not all of it. Counts still come.
func TestEventsPaceSlowCounts(t *testing.T) {
	h, slow := slowHarness(t, 100*time.Millisecond, 20*time.Millisecond)
	counts := countEvents(t, h, h.officer(t, gatewaytest.Lima), 2*time.Second)
	// At most 2 s / 500 ms (20 back to back); at least one, sent (a few
	// on an idle host: on a loaded one a walk takes longer, and so the
	// rest).
	if n := slow.watches.Load(); n < 1 || n > 5 || counts < 1 {
		t.Fatalf("%d counts of 100 ms in two seconds (%d sent); want 1 to 5", n, counts)
	}
}

// TestEventsOpenBeforeTheFirstWalk: a flood's walk of the queue takes
// long; the stream answers at once all the same, so that a console knows
// it is connected, and its first count follows the walk.
func TestEventsOpenBeforeTheFirstWalk(t *testing.T) {
	h, slow := slowHarness(t, 8*time.Second, 0)
	tok := h.officer(t, gatewaytest.Lima)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	answered := make(chan *http.Response, 1)
	go func() {
		resp, err := h.openEvents(ctx, tok)
		if err != nil {
			t.Error(err)
			resp = nil
		}
		answered <- resp
	}()
	select {
	case resp := <-answered:
		if resp == nil || resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
			t.Fatalf("events: %+v", resp)
		}
		resp.Body.Close()
		// Answered before the first walk (8 s) could end: it is under way
		// or about to begin.
		if n := slow.watches.Load(); n > 1 {
			t.Fatalf("%d walks begun when the stream opened, want the first at most", n)
		}
	case <-time.After(6 * time.Second):
		t.Fatal("the event stream answered only after its first walk of the queue")
	}
}

// openEvents opens the event stream as the officer of token tok, while
// ctx lasts.
func (h *harness) openEvents(ctx context.Context, tok string) (*http.Response, error) {
	req, _ := http.NewRequestWithContext(ctx, "GET", h.srv.URL+"/api/v1/events", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	return http.DefaultClient.Do(req)
}

// countEvents follows the event stream for d as the officer of token tok
// and returns how many counts it sent.
func countEvents(t *testing.T, h *harness, tok string, d time.Duration) int {
	return countEventsUntil(t, h, tok, d, 0)
}

// countEventsUntil is countEvents, ending early once the stream sent
// enough counts (0: no end but d).
func countEventsUntil(t *testing.T, h *harness, tok string, d time.Duration, enough int) int {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	resp, err := h.openEvents(ctx, tok)
	if err != nil {
		t.Error(err)
		return 0
	}
	defer resp.Body.Close()
	counts := 0
	for sc := bufio.NewScanner(resp.Body); sc.Scan(); {
		if sc.Text() == "event: counts" {
			if counts++; counts == enough {
				break
			}
		}
	}
	return counts
}

// TestEventsShareOneWalk: three consoles of one agency follow its events
// every 100 ms; each walked the queue itself (a walk for every count each
// stream sent), now they share one walk an interval, and each still gets
// its counts. How fast counts come depends on the host (a slow walk paces
// the streams), so each stream is followed until it has five, and the
// walks are compared with the counts.
func TestEventsShareOneWalk(t *testing.T) {
	h, slow := slowHarness(t, 20*time.Millisecond, 100*time.Millisecond)
	toks := []string{h.officer(t, gatewaytest.Lima), h.officer(t, gatewaytest.Lima), h.officer(t, gatewaytest.Lima)}
	counts := make([]int, len(toks))
	var wg sync.WaitGroup
	for i, tok := range toks {
		wg.Go(func() { counts[i] = countEventsUntil(t, h, tok, time.Minute, 5) })
	}
	wg.Wait()
	most, all := 0, 0
	for i, n := range counts {
		if n < 5 {
			t.Errorf("stream %d got %d counts in a minute at 100 ms", i, n)
		}
		most, all = max(most, n), all+n
	}
	t.Logf("%d walks for counts %v", slow.watches.Load(), counts)
	// Unshared, there are as many walks as counts (all); shared, about as
	// many as the busiest stream's counts, and never two thirds of all.
	if n := int(slow.watches.Load()); n > most*3/2+1 || 3*n >= 2*all {
		t.Fatalf("%d walks of the queue for 3 streams that sent %v counts; want about %d (one an interval)", n, counts, most)
	}
}

// TestListsShared: five consoles asking for the queue while it is read
// share that list (they read it five times over); an officer's action
// ends the sharing, so that the page after it shows what it did.
func TestListsShared(t *testing.T) {
	h, slow := slowHarness(t, 300*time.Millisecond, 0)
	if s, b := h.postSMS(t, smsForm("SMshared1", "+51911114444", "ayuda por favor"), addValidSignature); s != 200 {
		t.Fatalf("webhook: %d %s", s, b)
	}
	tok := h.officer(t, gatewaytest.Lima)
	list := func() []handlers.ListedJSON {
		s, b := h.api(t, "GET", "/api/v1/tips", tok, "")
		var l struct{ Tips []handlers.ListedJSON }
		if err := json.Unmarshal([]byte(b), &l); s != 200 || err != nil || len(l.Tips) != 1 {
			t.Errorf("list: %d %s (%v)", s, b, err)
			return nil
		}
		return l.Tips
	}
	var wg sync.WaitGroup
	for range 5 {
		wg.Go(func() { list() })
	}
	wg.Wait()
	// Unshared, five; shared, one (two, or on a loaded host three, when
	// some came after the first list was read).
	if n := slow.lists.Load(); n > 3 {
		t.Fatalf("five lists asked for at once read the queue %d times", n)
	}
	// A list under way when the claim is answered is not the one shown
	// after it.
	slow.lists.Store(0)
	before := make(chan []handlers.ListedJSON, 1)
	go func() { before <- list() }()
	for deadline := time.Now().Add(10 * time.Second); slow.lists.Load() == 0 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	h.claimTip(t, tok)
	after := list()
	<-before
	if n := slow.lists.Load(); n != 2 || len(after) != 1 || after[0].State != "held" {
		t.Fatalf("after the claim: %+v, %d lists read; want the tip held, from a list of its own", after, n)
	}
}
