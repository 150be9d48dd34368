package sms_test

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hotline-org/hotline/crypto/pseudonym"
	"github.com/hotline-org/hotline/gateway"
	"github.com/hotline-org/hotline/gateway/conversation"
	"github.com/hotline-org/hotline/gateway/gatewaytest"
	"github.com/hotline-org/hotline/gateway/ratelimit"
	"github.com/hotline-org/hotline/gateway/sms"
	"github.com/redis/go-redis/v9"
)

// TestReceiveBatched drives the channel over the real intake, queue and
// limiter, where a message is read in one round trip and written with its
// tip (queue.Batch): a retry is answered as the first time and counts
// nothing; a message over the sender's limit is still queued, without a
// reply; a thread keeps its case and moves its handle's last message; a
// handle gone meanwhile is saved again; state written by the code before
// (raw keys, as it laid them out) is honoured: a STOP silences, a dedupe
// mark answers the retry, an in-progress mark refuses it for now, a thread
// goes on.
func TestReceiveBatched(t *testing.T) {
	ctx := context.Background()
	stack := gatewaytest.New(t)
	tw := &fakeTwilio{}
	limit := ratelimit.New(stack.Redis.Client, stack.Redis.Prefix, "sender", 2, time.Hour)
	ch, store := stack.Channel(t, tw, nil, func(o *sms.Options) { o.Sender = limit })
	queued := func() int64 {
		// Every message queued, its case's first (a stream entry) or
		// appended to it, has its clear metadata.
		return stack.Redis.Client.HLen(ctx, stack.Redis.Prefix+":{"+gatewaytest.Lima+"}:meta").Val()
	}
	receive := func(sid, from, body string) sms.Result {
		t.Helper()
		res, err := ch.Receive(ctx, sms1(sid, from, body))
		if err != nil {
			t.Fatalf("%s: %v", sid, err)
		}
		return res
	}
	sender := stack.Keyer.Sender(reporter)
	count := func() string { return senderCount(t, stack, sender) }

	first := receive("SMb1", reporter, "somos muchos en una casa")
	if first.Outcome != sms.Queued || first.Reply == "" || queued() != 1 || count() != "1" {
		t.Fatalf("first message: %+v, %d queued, count %q", first, queued(), count())
	}
	h, last, err := store.Handle(ctx, gatewaytest.Lima, first.Case)
	if err != nil || h.From != reporter || h.Sender != sender {
		t.Fatalf("handle after the first message: %+v %v", h, err)
	}
	if n, err := store.Scrubs().Pending(ctx); err != nil || n != 1 {
		t.Errorf("scrub jobs = %d, %v; want 1", n, err)
	}

	retry := receive("SMb1", reporter, "somos muchos en una casa")
	if retry.Outcome != sms.Duplicate || retry.Case != first.Case || retry.Reply != first.Reply || queued() != 1 || count() != "1" {
		t.Fatalf("retry: %+v, %d queued, count %q; want the first answer, nothing queued or counted", retry, queued(), count())
	}

	time.Sleep(5 * time.Millisecond) // the handle's last message moves
	second := receive("SMb2", reporter, "ahora mismo")
	if second.Outcome != sms.Queued || second.Case != first.Case || queued() != 2 || count() != "2" {
		t.Fatalf("second message: %+v, %d queued, count %q", second, queued(), count())
	}
	if _, last2, err := store.Handle(ctx, gatewaytest.Lima, first.Case); err != nil || !last2.After(last) {
		t.Errorf("handle's last message %v -> %v (%v); want it moved", last, last2, err)
	}
	thread, ok, err := store.Thread(ctx, sender)
	if err != nil || !ok || thread.Case != first.Case || thread.Seq != 2 {
		t.Errorf("thread = %+v %v %v", thread, ok, err)
	}

	// Over the limit: queued all the same, no reply.
	over := receive("SMb3", reporter, "por favor")
	if over.Outcome != sms.RateLimited || over.Reply != "" || queued() != 3 {
		t.Fatalf("over the limit: %+v, %d queued", over, queued())
	}

	// A handle gone while the thread is open is sealed and saved again.
	if err := store.DeleteHandle(ctx, gatewaytest.Lima, first.Case); err != nil {
		t.Fatal(err)
	}
	receive("SMb4", reporter, "sigo aqui")
	if h, _, err := store.Handle(ctx, gatewaytest.Lima, first.Case); err != nil || h.From != reporter {
		t.Errorf("handle after it was lost: %+v %v", h, err)
	}

	// State as the code before wrote it, key by key (the layout is the
	// same): a STOP,
	if err := stack.Redis.Client.Set(ctx, stack.Redis.Prefix+":optout:{"+stack.Keyer.Sender(other)+"}", "1", time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	if res := receive("SMb5", other, "ayuda"); res.Outcome != sms.Queued || res.Reply != "" {
		t.Errorf("after STOP: %+v; want queued without a reply", res)
	}
	if n := len(tw.sent); n != 0 {
		t.Errorf("%d messages sent", n)
	}
	// a dedupe mark of a message queued, and of one in progress,
	third := "+51955555555"
	done := stack.Keyer.Of(pseudonym.DomainProvider, "SMold1")
	if err := stack.Redis.Client.Set(ctx, stack.Redis.Prefix+":dedupe:{"+done+"}", "done OLD1-CASE", time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	if res := receive("SMold1", third, "hola"); res.Outcome != sms.Duplicate || res.Case != "OLD1-CASE" {
		t.Errorf("retry of a message marked by the code before: %+v", res)
	}
	if err := stack.Redis.Client.Set(ctx, stack.Redis.Prefix+":dedupe:{"+stack.Keyer.Of(pseudonym.DomainProvider, "SMold2")+"}", "pending", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := ch.Receive(ctx, sms1("SMold2", third, "hola")); !errors.Is(err, gateway.ErrInFlight) {
		t.Errorf("a message in progress: %v, want ErrInFlight", err)
	}
	// and a thread.
	fourth := "+51966666666"
	old := `{"case":"K7F3-Q9P2","agencies":["` + gatewaytest.Lima + `"],"seq":3,"last":"` + time.Now().UTC().Format(time.RFC3339Nano) + `"}`
	if err := stack.Redis.Client.Set(ctx, stack.Redis.Prefix+":thread:{"+stack.Keyer.Sender(fourth)+"}", old, time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	if res := receive("SMold3", fourth, "otra vez"); res.Outcome != sms.Queued || res.Case != "K7F3-Q9P2" {
		t.Errorf("a message in a thread the code before saved: %+v", res)
	}
	if th, ok, err := store.Thread(ctx, stack.Keyer.Sender(fourth)); err != nil || !ok || th.Seq != 4 {
		t.Errorf("thread = %+v %v %v; want its fourth message", th, ok, err)
	}
	if queued() != 6 {
		t.Errorf("%d queued, want 6", queued())
	}
}

// TestReceiveBatchedConcurrentRetries: deliveries of one message racing
// each other (Twilio retrying on a second gateway while the first is
// still at work) queue one tip, count the sender once, and all answer
// with its case.
func TestReceiveBatchedConcurrentRetries(t *testing.T) {
	ctx := context.Background()
	stack := gatewaytest.New(t)
	limit := ratelimit.New(stack.Redis.Client, stack.Redis.Prefix, "sender", 10, time.Hour)
	ch, _ := stack.Channel(t, &fakeTwilio{}, nil, func(o *sms.Options) { o.Sender = limit })
	const n = 8
	results := make(chan sms.Result, n)
	errs := make(chan error, n)
	for range n {
		go func() {
			res, err := ch.Receive(ctx, sms1("SMrace", reporter, "somos muchos en una casa"))
			results <- res
			errs <- err
		}()
	}
	cases := map[string]int{}
	for range n {
		if err := <-errs; err != nil && !errors.Is(err, gateway.ErrInFlight) {
			t.Errorf("a delivery failed: %v", err)
		}
		if res := <-results; res.Case != "" {
			cases[res.Case]++
		}
	}
	entries := 0 // in either stream: the urgency model may raise the message
	for _, p := range []string{"normal", "urgent"} {
		entries += len(stack.Redis.Client.XRange(ctx, stack.Redis.Prefix+":{"+gatewaytest.Lima+"}:tips:"+p, "-", "+").Val())
	}
	if entries != 1 || len(cases) != 1 {
		t.Fatalf("%d tips queued, cases %v; want one tip, one case", entries, cases)
	}
	if v := senderCount(t, stack, stack.Keyer.Sender(reporter)); v != "1" {
		t.Errorf("sender counted %q times, want 1", v)
	}
}

// senderCount is the sender's count against its limit, as its record in
// Redis holds it ("" for none).
func senderCount(t *testing.T, stack *gatewaytest.Stack, sender string) string {
	t.Helper()
	v, err := stack.Redis.Client.Get(context.Background(), stack.Redis.Prefix+":thread:{"+sender+"}").Result()
	if errors.Is(err, redis.Nil) {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	var rec struct {
		Rate *struct {
			N int64 `json:"n"`
		} `json:"rate"`
	}
	if err := json.Unmarshal([]byte(v), &rec); err != nil {
		t.Fatalf("sender record %q: %v", v, err)
	}
	if rec.Rate == nil {
		return ""
	}
	return strconv.FormatInt(rec.Rate.N, 10)
}

// TestReceiveRacingMessagesOneCase: a victim on WhatsApp sends a photo of
// the house, then at once the location pin. The pin comes while the photo
// is downloaded, before the photo's tip (and the thread it opens) is
// written: it must join the photo's case, not open a case of its own that
// an officer would work apart, maybe at another agency.
func TestReceiveRacingMessagesOneCase(t *testing.T) {
	for _, gateways := range []int{1, 2} {
		t.Run(strconv.Itoa(gateways)+" gateways", func(t *testing.T) { racingMessagesOneCase(t, gateways) })
	}
}

// racingMessagesOneCase sends the photo to one gateway and the pin to the
// other of gateways: the same (they take turns) or another of the same
// deployment (the photo's case is opened before its download).
func racingMessagesOneCase(t *testing.T, gateways int) {
	ctx := context.Background()
	stack := gatewaytest.New(t)
	limit := ratelimit.New(stack.Redis.Client, stack.Redis.Prefix, "sender", 100, time.Hour)
	var opt sms.Options
	tw := &fakeTwilio{slow: 300 * time.Millisecond, fetching: make(chan struct{}, 1)}
	ch, _ := stack.Channel(t, tw, nil, func(o *sms.Options) { o.Sender = limit; opt = *o })
	other := ch
	if gateways == 2 {
		other = sms.New(opt)
	}
	const from = "whatsapp:" + reporter
	photo := sms1("SMrace1", from, "")
	photo.Media = []sms.MediaRef{{URL: mediaURL("SMrace1", "ME001"), ContentType: "image/jpeg"}}
	pin := sms1("SMrace2", from, "")
	pin.Latitude, pin.Longitude = "-12.0464", "-77.0428" // Lima's centre
	var first sms.Result
	var err1 error
	done := make(chan struct{})
	go func() {
		defer close(done)
		first, err1 = ch.Receive(ctx, photo)
	}()
	<-tw.fetching // the photo is being downloaded
	second, err2 := other.Receive(ctx, pin)
	<-done
	if err1 != nil || err2 != nil || first.Outcome != sms.Queued || second.Outcome != sms.Queued {
		t.Fatalf("photo %+v %v, pin %+v %v", first, err1, second, err2)
	}
	if first.Case != second.Case {
		t.Fatalf("the photo opened case %s and the pin sent with it case %s: one report, two cases", first.Case, second.Case)
	}
	cases := stack.Redis.Client.HLen(ctx, stack.Redis.Prefix+":{"+gatewaytest.Lima+"}:cases").Val()
	if cases != 1 {
		t.Fatalf("%d cases open at %s, want 1", cases, gatewaytest.Lima)
	}
	// Each counted once; the thread knows both, and the next message
	// comes third in the case.
	sender := stack.Keyer.Sender(from)
	if c := senderCount(t, stack, sender); c != "2" {
		t.Fatalf("sender counted %s times, want 2", c)
	}
	var rec struct {
		Case     string
		Seq      int
		Agencies []string
	}
	json.Unmarshal([]byte(stack.Redis.Client.Get(ctx, stack.Redis.Prefix+":thread:{"+sender+"}").Val()), &rec)
	if rec.Case != first.Case || rec.Seq != 2 || len(rec.Agencies) != 1 || rec.Agencies[0] != gatewaytest.Lima {
		t.Fatalf("the sender's thread after the race: %+v, want case %s, message 2, at %s", rec, first.Case, gatewaytest.Lima)
	}
	if res, err := ch.Receive(ctx, sms1("SMrace3", from, "estamos en la casa de la foto")); err != nil || res.Case != first.Case {
		t.Fatalf("the next message: %+v %v, want case %s", res, err, first.Case)
	}
}

// slowIntake is the intake, slow to queue (a loaded Redis, a slow seal).
type slowIntake struct {
	*gateway.Intake
	took time.Duration
}

func (s slowIntake) Submit(ctx context.Context, t gateway.Tip) (gateway.Receipt, error) {
	time.Sleep(s.took)
	return s.Intake.Submit(ctx, t)
}

// TestReceiveTakesTurns: two texts of a new sender reach one gateway at
// once, while the intake is slow: the second waits for the first, reads
// the thread it opened and joins its case (TestTurns: past the wait, a
// message goes on without its turn).
func TestReceiveTakesTurns(t *testing.T) {
	ctx := context.Background()
	stack := gatewaytest.New(t)
	ch, _ := stack.Channel(t, &fakeTwilio{}, nil, func(o *sms.Options) { o.Intake = slowIntake{stack.Intake, 300 * time.Millisecond} })
	results := make(chan sms.Result, 2)
	for i, text := range []string{"hola, necesito ayuda", "estamos encerrados en una casa"} {
		go func() {
			res, err := ch.Receive(ctx, sms1("SMturn"+strconv.Itoa(i), reporter, text))
			if err != nil {
				t.Error(err)
			}
			results <- res
		}()
	}
	a, b := <-results, <-results
	if a.Case == "" || a.Case != b.Case {
		t.Fatalf("two texts at once: cases %q and %q, want one", a.Case, b.Case)
	}
}

// TestReceiveRacingJoinsThePhotosAgencies: the photo carries a pin in
// Kuala Lumpur; a text with no place of its own, sent during the photo's
// download, reaches another gateway. It joins the photo's case where the
// photo goes (Kuala Lumpur), not where the number would send it (Lima):
// one case at one agency, and the next message follows it there.
func TestReceiveRacingJoinsThePhotosAgencies(t *testing.T) {
	ctx := context.Background()
	stack := gatewaytest.New(t)
	var opt sms.Options
	tw := &fakeTwilio{slow: 300 * time.Millisecond, fetching: make(chan struct{}, 1)}
	ch, _ := stack.Channel(t, tw, nil, func(o *sms.Options) { opt = *o })
	other := sms.New(opt)
	const from = "whatsapp:" + reporter
	photo := sms1("SMkl1", from, "")
	photo.Media = []sms.MediaRef{{URL: mediaURL("SMkl1", "ME001"), ContentType: "image/jpeg"}}
	photo.Latitude, photo.Longitude = "3.1390", "101.6869"
	done := make(chan sms.Result, 1)
	go func() {
		res, err := ch.Receive(ctx, photo)
		if err != nil {
			t.Error(err)
		}
		done <- res
	}()
	<-tw.fetching // the photo is being downloaded
	text, err := other.Receive(ctx, sms1("SMkl2", from, "somos cinco, nos quitaron los pasaportes"))
	first := <-done
	if err != nil || first.Case == "" || text.Case != first.Case {
		t.Fatalf("photo %+v, text %+v %v: want one case", first, text, err)
	}
	if _, err := ch.Receive(ctx, sms1("SMkl3", from, "por favor vengan")); err != nil {
		t.Fatal(err)
	}
	count := func(agency string) int64 {
		return stack.Redis.Client.HLen(ctx, stack.Redis.Prefix+":{"+agency+"}:meta").Val()
	}
	if kl, lima := count(gatewaytest.KL), count(gatewaytest.Lima); kl != 3 || lima != 0 {
		t.Fatalf("messages at %s %d, at %s %d; want all 3 where the photo went", gatewaytest.KL, kl, gatewaytest.Lima, lima)
	}
}

// TestReceiveBatchedConcurrentSender: new messages of one new sender
// racing each other through gateways that share the Redis (each reads the
// sender's record before any is written, and may start a case of its own:
// within one gateway they take turns) leave a record that lists every
// case's reply handle, so that the exit word that follows destroys them
// all, and counts each message once; no message is lost.
func TestReceiveBatchedConcurrentSender(t *testing.T) {
	ctx := context.Background()
	stack := gatewaytest.New(t)
	limit := ratelimit.New(stack.Redis.Client, stack.Redis.Prefix, "sender", 100, time.Hour)
	var opt sms.Options
	ch, store := stack.Channel(t, &fakeTwilio{}, nil, func(o *sms.Options) { o.Sender = limit; opt = *o })
	const n = 8
	type result struct {
		res sms.Result
		err error
	}
	results := make(chan result, n)
	// Gateways of one deployment: the same Redis and reply key.
	gws := []*sms.Channel{ch}
	for len(gws) < n {
		gws = append(gws, sms.New(opt))
	}
	for i, gw := range gws {
		go func() {
			res, err := gw.Receive(ctx, sms1("SMcs"+strconv.Itoa(i), reporter, "quiero contar algo que vi en el mercado"))
			results <- result{res, err}
		}()
	}
	cases := map[string]bool{}
	for range n {
		r := <-results
		if r.err != nil || r.res.Outcome != sms.Queued {
			t.Fatalf("a message: %+v %v", r.res, r.err)
		}
		cases[r.res.Case] = true
	}
	queued := stack.Redis.Client.HLen(ctx, stack.Redis.Prefix+":{"+gatewaytest.Lima+"}:meta").Val()
	if queued != n {
		t.Fatalf("%d messages queued, want %d", queued, n)
	}
	t.Logf("%d messages in %d cases", n, len(cases))
	if c := senderCount(t, stack, stack.Keyer.Sender(reporter)); c != strconv.Itoa(n) {
		t.Fatalf("sender counted %s times, want %d: racing messages must each count", c, n)
	}
	for c := range cases {
		if _, _, err := store.Handle(ctx, gatewaytest.Lima, c); err != nil {
			t.Fatalf("handle of case %s before the exit word: %v", c, err)
		}
	}
	if res, err := ch.Receive(ctx, sms1("SMcsexit", reporter, "SALIR")); err != nil || res.Reply != "" {
		t.Fatalf("exit word: %+v %v", res, err)
	}
	for _, k := range stack.Redis.Keys(t) {
		if strings.Contains(k, ":handle:") {
			t.Fatalf("a reply handle outlived the exit word: %s (of %d cases)", k, len(cases))
		}
		// A handle written with its tip is sealed in the sender's record.
		if strings.Contains(k, ":thread:") && strings.Contains(stack.Redis.Client.Get(ctx, k).Val(), `"h":`) {
			t.Fatalf("a sealed reply handle outlived the exit word in %s (of %d cases)", k, len(cases))
		}
	}
	for c := range cases {
		if _, _, err := store.Handle(ctx, gatewaytest.Lima, c); !errors.Is(err, conversation.ErrNoHandle) {
			t.Fatalf("handle of case %s after the exit word: %v", c, err)
		}
	}
}
