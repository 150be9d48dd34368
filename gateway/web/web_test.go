package web_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/hotline-org/hotline/crypto/pseudonym"
	"github.com/hotline-org/hotline/gateway"
	"github.com/hotline-org/hotline/gateway/fault"
	"github.com/hotline-org/hotline/gateway/followup"
	"github.com/hotline-org/hotline/gateway/web"
	"github.com/hotline-org/hotline/queue/queuetest"
	"github.com/redis/go-redis/v9"
)

// recordingIntake keeps the tips it is given; err, when set, refuses them.
type recordingIntake struct {
	tips []gateway.Tip
	err  error
}

func (r *recordingIntake) Submit(_ context.Context, t gateway.Tip) (gateway.Receipt, error) {
	if r.err != nil {
		return gateway.Receipt{}, r.err
	}
	r.tips = append(r.tips, t)
	return gateway.Receipt{TipID: "t1", Case: "HL-TEST", Agencies: []string{"pe-callao", "pe-lima"}}, nil
}

func newChannel(t *testing.T, in web.Intake, o func(*web.Options)) *web.Channel {
	t.Helper()
	k, err := pseudonym.New(bytes.Repeat([]byte("web-channel-test"), 2))
	if err != nil {
		t.Fatal(err)
	}
	opt := web.Options{Intake: in, Keyer: k, PoW: web.PoWOff}
	if o != nil {
		o(&opt)
	}
	return web.New(opt)
}

var witness = web.Origin{IP: net.ParseIP("203.0.113.7")}

// TestSubmitRefusals: each refusal is of the kind its answer needs, and
// nothing refused reaches the intake.
func TestSubmitRefusals(t *testing.T) {
	in := &recordingIntake{}
	ch := newChannel(t, in, nil)
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		r    web.Report
		want error
		kind fault.Kind
	}{
		{"honeypot", web.Report{Message: "hola", Honeypot: "http://spam"}, web.ErrHoneypot, fault.Invalid},
		{"blank", web.Report{Message: " \n "}, gateway.ErrEmpty, fault.Invalid},
		{"too long", web.Report{Message: strings.Repeat("x", gateway.MaxTextBytes+1)}, gateway.ErrTooLong, fault.TooLarge},
		{"location makes it too long", web.Report{Message: strings.Repeat("x", gateway.MaxTextBytes-5), Location: "Callao"}, gateway.ErrTooLong, fault.TooLarge},
		{"bad position", web.Report{Message: "hola", Position: "somewhere"}, web.ErrCoords, fault.Invalid},
		{"one coordinate", web.Report{Message: "hola", Lat: "-12"}, web.ErrCoords, fault.Invalid},
		{"latitude out of range", web.Report{Message: "hola", Lat: "91", Lon: "0"}, web.ErrCoords, fault.Invalid},
	} {
		_, err := ch.Submit(ctx, witness, tc.r, "es")
		if !errors.Is(err, tc.want) || !errors.Is(err, tc.kind) {
			t.Errorf("%s: %v, want %v of kind %v", tc.name, err, tc.want, tc.kind)
		}
	}
	if len(in.tips) != 0 {
		t.Errorf("%d refused reports reached the intake", len(in.tips))
	}
}

// TestSubmitQueuesTheReport: the tip carries the text, the location text
// and the position; the receipt names the emergency number of the first
// agency that has one, for an urgent report only.
func TestSubmitQueuesTheReport(t *testing.T) {
	in := &recordingIntake{}
	ch := newChannel(t, in, func(o *web.Options) { o.Emergency = map[string]string{"pe-lima": "105"} })
	r := web.Report{Message: "Nos tienen encerrados\n", Location: "Callao", Position: "-12.05, -77.1", Urgent: true}
	rcpt, err := ch.Submit(context.Background(), witness, r, "es")
	if err != nil {
		t.Fatal(err)
	}
	if rcpt.Case != "HL-TEST" || rcpt.Emergency != "105" || !rcpt.Urgent || rcpt.Code != "" {
		t.Errorf("receipt %+v", rcpt)
	}
	tip := in.tips[0]
	if tip.Text != "Nos tienen encerrados\n\nLocation: Callao" || tip.Channel != gateway.ChannelWeb || tip.Language != "es" || !tip.Urgent {
		t.Errorf("tip %q %v %q urgent %v", tip.Text, tip.Channel, tip.Language, tip.Urgent)
	}
	if tip.Hints.Latitude != "-12.05" || tip.Hints.Longitude != "-77.1" {
		t.Errorf("hints %+v", tip.Hints)
	}
	r.Urgent = false
	if rcpt, err := ch.Submit(context.Background(), witness, r, "es"); err != nil || rcpt.Emergency != "" {
		t.Errorf("not urgent: %+v %v, want no emergency number", rcpt, err)
	}
}

// TestRefusedPostsSpendTheirOwnBucket: junk over the refused bucket is
// answered ErrRateLimited, and a witness on the same network still gets
// through; the accepted bucket then limits reports.
func TestRefusedPostsSpendTheirOwnBucket(t *testing.T) {
	in := &recordingIntake{}
	ch := newChannel(t, in, func(o *web.Options) {
		o.RateLimit = web.Rate{Count: 1, Period: time.Hour}
		o.InvalidRateLimit = web.Rate{Count: 2, Period: time.Hour}
	})
	ctx := context.Background()
	for i, want := range []error{gateway.ErrEmpty, gateway.ErrEmpty, web.ErrRateLimited} {
		if _, err := ch.Submit(ctx, witness, web.Report{}, "es"); !errors.Is(err, want) {
			t.Errorf("junk %d: %v, want %v", i, err, want)
		}
	}
	if err := ch.Refuse(ctx, witness, errors.New("unreadable")); !errors.Is(err, web.ErrRateLimited) {
		t.Errorf("unreadable post over the refused bucket: %v, want ErrRateLimited", err)
	}
	if _, err := ch.Submit(ctx, witness, web.Report{Message: "hola"}, "es"); err != nil {
		t.Errorf("the witness after the junk: %v", err)
	}
	if _, err := ch.Submit(ctx, witness, web.Report{Message: "hola"}, "es"); !errors.Is(err, web.ErrRateLimited) || !errors.Is(err, fault.RateLimited) {
		t.Errorf("a second report over the accepted bucket: %v, want ErrRateLimited", err)
	}
	other := web.Origin{IP: net.ParseIP("198.51.100.9")}
	if _, err := ch.Submit(ctx, other, web.Report{Message: "hola"}, "es"); err != nil {
		t.Errorf("another network: %v", err)
	}
}

// TestIntakeFailureIsTheIntakes: a report the intake cannot make durable is
// not answered with a receipt, and the error keeps its kind.
func TestIntakeFailureIsTheIntakes(t *testing.T) {
	ch := newChannel(t, &recordingIntake{err: gateway.ErrUnavailable}, nil)
	rcpt, err := ch.Submit(context.Background(), witness, web.Report{Message: "hola"}, "es")
	if rcpt != nil || !errors.Is(err, fault.Unavailable) {
		t.Errorf("%+v %v, want no receipt and an unavailable error", rcpt, err)
	}
}

func TestFollowupWithoutThreads(t *testing.T) {
	ch := newChannel(t, &recordingIntake{}, nil)
	if ch.Followups() {
		t.Error("Followups() with no store")
	}
	if _, err := ch.Followup(context.Background(), witness, "ABCD", "", "es"); !errors.Is(err, followup.ErrNotFound) {
		t.Errorf("Followup with no store: %v, want ErrNotFound", err)
	}
}

// batchingIntake is an intake that writes a tip's batch with it, as
// gateway.Intake does: it runs the batch's ops on rdb, unless spool is
// set (the tip went to the spool: its batch never runs).
type batchingIntake struct {
	rdb   redis.UniversalClient
	spool bool
	tips  []gateway.Tip
}

func (b *batchingIntake) WritesBatches() bool { return true }

func (b *batchingIntake) Submit(ctx context.Context, t gateway.Tip) (gateway.Receipt, error) {
	b.tips = append(b.tips, t)
	agencies := []string{"pe-callao", "pe-lima"}
	batch, err := t.Batch("t1", "CASE-2345", agencies)
	if err != nil {
		return gateway.Receipt{}, err
	}
	if batch != nil && !b.spool {
		for _, op := range batch.Ops {
			if err := b.rdb.Do(ctx, op.Cmd...).Err(); err != nil {
				return gateway.Receipt{}, err
			}
		}
		batch.Ran = true
	}
	return gateway.Receipt{TipID: "t1", Case: "CASE-2345", Agencies: agencies}, nil
}

// TestFollowupWrittenWithTheTip: with an intake that writes batches, the
// witness's follow-up thread is made in the tip's batch, with the case,
// the agencies and the urgency from the start, and the receipt carries
// its code; a tip that went to the spool (its batch never ran) is
// answered without a code, and leaves no thread behind.
func TestFollowupWrittenWithTheTip(t *testing.T) {
	r := queuetest.New(t)
	k, err := pseudonym.New(bytes.Repeat([]byte("web-channel-test"), 2))
	if err != nil {
		t.Fatal(err)
	}
	fu := followup.New(r.Client, k, followup.Options{Prefix: r.Prefix})
	ctx := context.Background()
	in := &batchingIntake{rdb: r.Client}
	ch := newChannel(t, in, func(o *web.Options) { o.Followups = fu })
	rcpt, err := ch.Submit(ctx, witness, web.Report{Message: "nos tienen encerrados", Urgent: true}, "es")
	if err != nil || rcpt.Code == "" || rcpt.Case != "CASE-2345" {
		t.Fatalf("receipt = %+v, %v; want one with a code", rcpt, err)
	}
	th, err := fu.Open(ctx, rcpt.Code)
	if err != nil {
		t.Fatal(err)
	}
	if th.Info.Case != "CASE-2345" || strings.Join(th.Info.Agencies, " ") != "pe-callao pe-lima" || !th.Info.Urgent ||
		in.tips[0].Followup != th.Handle || in.tips[0].Case != "" {
		t.Fatalf("thread = %+v, tip's follow-up %q case %q", th.Info, in.tips[0].Followup, in.tips[0].Case)
	}
	for _, k := range r.Keys(t) {
		if ttl := r.Client.PTTL(ctx, k).Val(); ttl <= 0 {
			t.Errorf("%s has no TTL", k)
		}
	}

	spooled := &batchingIntake{rdb: r.Client, spool: true}
	ch = newChannel(t, spooled, func(o *web.Options) { o.Followups = fu })
	before := len(r.Keys(t))
	rcpt, err = ch.Submit(ctx, witness, web.Report{Message: "nos tienen encerrados"}, "es")
	if err != nil || rcpt.Code != "" || rcpt.Case != "CASE-2345" {
		t.Fatalf("spooled: receipt = %+v, %v; want one without a code", rcpt, err)
	}
	if after := len(r.Keys(t)); after != before {
		t.Fatalf("a spooled report left %d keys", after-before)
	}
}

// TestPhotoNotReadNoteFits: the longest message accepted with a photo the
// form had no memory to read still fits the intake's limit once the note
// that says so is added (the intake would refuse it, after the upload).
func TestPhotoNotReadNoteFits(t *testing.T) {
	in := &recordingIntake{}
	ch := newChannel(t, in, nil)
	for n := gateway.MaxTextBytes; n > 0; n-- {
		r := web.Report{Message: strings.Repeat("x", n), PhotosNotRead: 1}
		if _, err := ch.Submit(context.Background(), witness, r, "es"); errors.Is(err, gateway.ErrTooLong) {
			continue
		} else if err != nil {
			t.Fatal(err)
		}
		text := in.tips[0].Text
		if len(text) > gateway.MaxTextBytes || !strings.Contains(text, "too busy to read it") {
			t.Fatalf("a %d-byte message became a %d-byte text (limit %d)", n, len(text), gateway.MaxTextBytes)
		}
		return
	}
	t.Fatal("no message was accepted")
}
