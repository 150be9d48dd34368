// Package sms is the SMS and WhatsApp channel: what happens to a message
// from a reporter's phone between Twilio's webhook and the intake, and what
// an officer's reply goes through on its way back.
//
// It is built for the person holding the phone, who may be watched: a
// reply only ever answers a message just received and is short and
// neutral; an exit word closes the conversation with no reply at all;
// after STOP nothing of any kind is sent until START; officers can reply
// only through a sealed reply handle and only soon after the reporter's
// last message; and once a tip is queued, Twilio's copy is erased.
package sms

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/hotline-org/hotline/crypto/pseudonym"
	"github.com/hotline-org/hotline/gateway"
	"github.com/hotline-org/hotline/gateway/conversation"
	"github.com/hotline-org/hotline/gateway/fault"
	"github.com/hotline-org/hotline/gateway/geo"
	"github.com/hotline-org/hotline/gateway/lang"
	"github.com/hotline-org/hotline/gateway/periodic"
	"github.com/hotline-org/hotline/gateway/ratelimit"
	"github.com/hotline-org/hotline/gateway/reply"
	"github.com/hotline-org/hotline/gateway/scrub"
	"github.com/hotline-org/hotline/gateway/twilioapi"
	"github.com/hotline-org/hotline/gateway/urgency"
	"github.com/hotline-org/hotline/queue"
	"golang.org/x/sync/errgroup"
	"golang.org/x/text/language"
)

// Intake queues a tip.
type Intake interface {
	Submit(ctx context.Context, t gateway.Tip) (gateway.Receipt, error)
}

// Router is an Intake that tells where a tip will go before it is
// submitted (gateway.Intake): a case opened before a download names its
// agencies.
type Router interface {
	Agencies(t gateway.Tip) []string
}

// Twilio is the provider's REST side; nil when not configured.
type Twilio interface {
	FetchMedia(ctx context.Context, url string) ([]byte, string, error)
	ParseMediaURL(raw string) (twilioapi.MediaURL, error)
	Send(ctx context.Context, from, to, body string) (string, error)
	Scrub(ctx context.Context, job twilioapi.ScrubJob) (twilioapi.ScrubJob, error)
}

// Limiter allows an event for a key, or not.
type Limiter interface {
	Allow(ctx context.Context, key string) bool
}

// Peeker is a Limiter that can tell whether a key is over its limit
// without counting an event (gateway/ratelimit's is).
type Peeker interface {
	Over(ctx context.Context, key string) bool
}

// Auditor records officers' actions.
type Auditor interface {
	Audit(ctx context.Context, agency, action, officer, tip, detail string) error
}

// Metrics counts what the channel does; nil counts nothing.
type Metrics interface {
	Reply(outcome string)
	ScrubOutcome(outcome string)
	RateLimited()
}

// Number is the policy of one of the hotline's numbers.
type Number struct {
	Reply reply.Number
	Scrub bool
}

// Options configures the channel.
type Options struct {
	Intake     Intake
	Store      *conversation.Store
	Keyer      *pseudonym.Keyer
	Detector   *lang.Detector
	Classifier *reply.Classifier
	Catalog    *reply.Catalog
	Urgency    *urgency.Matcher
	Twilio     Twilio // nil: no media download, no scrubbing, no officer replies
	Audit      Auditor
	// Numbers are the hotline's numbers by E.164 (without whatsapp:).
	Numbers map[string]Number
	// ThreadWindow: messages within it of the sender's last one join one
	// case. ReplyWindow: officers may reply within it of the sender's last
	// message. HandleTTL: how long a reply handle lives at most.
	ThreadWindow, ReplyWindow, HandleTTL time.Duration
	// MaxMedia is how many attachments of one message are fetched.
	MaxMedia int
	// DedupeTTL is how long a message's dedupe mark lasts (48 hours by
	// default), as gateway.Options.DedupeTTL.
	DedupeTTL time.Duration
	// Sender limits messages per sender pseudonym; ReplyDestination and
	// ReplyNumber limit officers' replies per reporter and per hotline
	// number (against SMS pumping).
	Sender, ReplyDestination, ReplyNumber Limiter
	Metrics                               Metrics
	Logger                                *slog.Logger
	Now                                   func() time.Time
}

// Channel is the SMS and WhatsApp channel.
type Channel struct {
	opt   Options
	turns turns // one message of a sender at a time
}

// New returns a channel.
func New(opt Options) *Channel {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.MaxMedia <= 0 {
		opt.MaxMedia = 5
	}
	if opt.DedupeTTL <= 0 {
		opt.DedupeTTL = 48 * time.Hour
	}
	return &Channel{opt: opt}
}

// Message is one inbound message as the webhook got it. It prints as
// [redacted].
type Message struct {
	SID             string
	From, To        string // as Twilio gives them: +E164 or whatsapp:+E164
	Body            string
	ProfileName     string
	Latitude        string
	Longitude       string
	Address         string // a WhatsApp pin's address or label
	NumberGeography map[string]string
	Media           []MediaRef
}

// MediaRef is an attachment as announced in the webhook.
type MediaRef struct {
	URL, ContentType string
}

// LogValue keeps a message out of logs.
func (Message) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// Outcome says what became of a message, for the handler's answer.
type Outcome int

// Outcomes.
const (
	Queued      Outcome = iota // queued as a tip
	Duplicate                  // a retry of a message already queued
	OptedOut                   // STOP: recorded, not a tip
	RateLimited                // over the sender's limit: queued all the same, without reply or media
	Empty                      // nothing to queue
)

// Result is what the webhook answers with.
type Result struct {
	Outcome Outcome
	Case    string
	// Reply is the automatic answer, or "" for none.
	Reply string
}

// Deduper is an Intake that can tell a retry of a message already queued
// before any work is done on it (gateway.Intake.Seen).
type Deduper interface {
	Seen(ctx context.Context, providerID string) (gateway.Receipt, error)
}

// Batcher is an Intake that writes a tip's batch with it (Tip.Batch), as
// gateway.Intake does: the channel then reads what it needs of a message
// in one round trip and writes what the message leaves with the tip.
type Batcher interface {
	WritesBatches() bool
}

// ReadLimiter is a Limiter that decides against a count read beforehand
// (gateway/ratelimit's is). The sender's count lives in the sender's
// record (gateway/conversation), written with the tip.
type ReadLimiter interface {
	AllowRead(ctx context.Context, key string, r ratelimit.Read) bool
	OverRead(ctx context.Context, key string, r ratelimit.Read) bool
	Period() time.Duration
}

// view is what the channel knows of a sender at a message: read in one
// round trip (batched) when the intake writes batches, else asked of
// each part in turn.
type view struct {
	c       *Channel
	sender  string
	batched bool
	mark    string // the message's dedupe mark (batched)
	state   conversation.Sender
	rate    ratelimit.Read
	rl      ReadLimiter // nil: the Sender limiter is asked
}

func (c *Channel) view(ctx context.Context, m Message, sender string) *view {
	v := &view{c: c, sender: sender}
	if b, ok := c.opt.Intake.(Batcher); !ok || !b.WritesBatches() || m.SID == "" {
		return v
	}
	v.batched = true
	v.mark = c.opt.Keyer.Of(pseudonym.DomainProvider, m.SID)
	v.state = c.opt.Store.ReadSender(ctx, sender, v.mark)
	if rl, ok := c.opt.Sender.(ReadLimiter); ok {
		v.rl = rl
		v.rate = ratelimit.Read{Failed: v.state.Err != nil}
		if r := v.state.Rate; r != nil {
			v.rate.Count = r.Count
		}
	}
	if v.state.Err != nil {
		c.opt.Logger.Warn("sender state unavailable", "err", v.state.Err)
	}
	return v
}

// seen reports a retry of a message already queued.
func (v *view) seen(ctx context.Context, sid string) (gateway.Receipt, error) {
	if v.batched {
		if v.state.Seen == "" {
			return gateway.Receipt{}, nil
		}
		seen, err := queue.ParseSeen(v.state.Seen)
		if err != nil {
			return gateway.Receipt{}, gateway.ErrInFlight
		}
		return gateway.Receipt{Case: seen.Case, Duplicate: true}, nil
	}
	if d, ok := v.c.opt.Intake.(Deduper); ok && sid != "" {
		return d.Seen(ctx, sid)
	}
	return gateway.Receipt{}, nil
}

// over reports whether the sender is past the limit, without counting.
func (v *view) over(ctx context.Context) bool {
	if v.rl != nil {
		return v.rl.OverRead(ctx, v.sender, v.rate)
	}
	p, ok := v.c.opt.Sender.(Peeker)
	return ok && p.Over(ctx, v.sender)
}

// allow counts the message against the sender's limit; when the count was
// read beforehand, rate is the count to write in the sender's record with
// the tip (nil when the read failed: the in-memory limiter answered). Its
// window is on the wall clock, as the record's other times and Redis's.
func (v *view) allow(ctx context.Context, now time.Time) (bool, *conversation.Rate) {
	if v.rl == nil {
		return v.c.opt.Sender == nil || v.c.opt.Sender.Allow(ctx, v.sender), nil
	}
	ok := v.rl.AllowRead(ctx, v.sender, v.rate)
	if v.rate.Failed {
		return ok, nil
	}
	if r := v.state.Rate; r != nil {
		return ok, &conversation.Rate{Count: r.Count + 1, Until: r.Until}
	}
	return ok, &conversation.Rate{Count: 1, Until: now.Add(v.rl.Period()).UnixMilli()}
}

// thread is the sender's open thread.
func (v *view) thread(ctx context.Context) (conversation.Thread, bool, error) {
	if v.batched {
		return v.state.Thread, v.state.InThread, v.state.Err
	}
	return v.c.opt.Store.Thread(ctx, v.sender)
}

// optedOut reports whether the sender said STOP (yes when it cannot tell).
func (v *view) optedOut(ctx context.Context) bool {
	if v.batched {
		return v.state.OptedOut
	}
	out, err := v.c.opt.Store.OptedOut(ctx, v.sender)
	return out || err != nil
}

// Receive takes one inbound message. It returns an error only when the
// message could not be made durable: the webhook then answers 5xx and
// Twilio tries its fallback URL.
//
// The order is what keeps the promises at the edges: a retry of a message
// already queued is answered first (never counted, never dropped); STOP,
// START and exit words then take effect whatever the limits; only then is
// the sender's limit counted, and over it the message is still queued
// (folded into its thread), with no automatic reply and no media download,
// so that a flood from one sender stays cheap and loses nothing.
//
// A sender's messages take turns (turns): the next reads the thread the
// one before it opened.
//
// With an intake that writes batches (gateway.Intake), a message costs
// Redis two round trips: one read of all the channel needs (the dedupe
// mark, the thread, the opt-out, the limiter's count), and the tip's
// publish, which writes with it the dedupe mark, the limiter's count, the
// thread, the reply handle and the scrub job (queue.Batch).
func (c *Channel) Receive(ctx context.Context, m Message) (Result, error) {
	sender := c.opt.Keyer.Sender(m.From)
	defer c.turns.take(ctx, sender)()
	kind := c.opt.Classifier.Classify(m.Body)
	num := c.opt.Numbers[strings.TrimPrefix(m.To, "whatsapp:")]
	v := c.view(ctx, m, sender)
	seen, err := v.seen(ctx, m.SID)
	if err != nil {
		return Result{}, err
	}
	if seen.Duplicate {
		// An exit word is applied again: its first delivery may have
		// been answered with an error because it could not be.
		if kind == reply.Exit {
			if err := c.exit(ctx, sender, c.opt.Now()); err != nil {
				return Result{}, err
			}
		}
		// The same answer as the first time (Twilio never got it): none
		// while the sender is over the limit, as the first time was.
		if v.over(ctx) {
			return Result{Outcome: Duplicate, Case: seen.Case}, nil
		}
		e164, _ := pseudonym.NormalizeE164(m.From)
		detected, _ := c.opt.Detector.Detect(strings.TrimSpace(m.Body), e164)
		return Result{Outcome: Duplicate, Case: seen.Case, Reply: c.ack(ctx, v, kind, num, detected, seen.Case)}, nil
	}
	switch kind {
	case reply.OptOut:
		// Not a tip: the reporter asked for silence. Twilio confirms STOP
		// on SMS itself; on WhatsApp nothing is sent.
		// If it cannot be recorded, the webhook fails and Twilio sends it
		// again: a STOP is never answered as if it were taken.
		if err := c.opt.Store.SetOptOut(ctx, sender, true); err != nil {
			return Result{}, fmt.Errorf("%w: opt-out not recorded: %w", gateway.ErrUnavailable, err)
		}
		return Result{Outcome: OptedOut}, nil
	case reply.OptIn:
		if err := c.opt.Store.SetOptOut(ctx, sender, false); err != nil {
			return Result{}, fmt.Errorf("%w: opt-in not recorded: %w", gateway.ErrUnavailable, err)
		}
		v.state.OptedOut = false
	}
	body := strings.TrimSpace(m.Body)
	if m.Address != "" {
		body = strings.TrimSpace(body + "\n" + m.Address)
	}
	if body == "" && m.Latitude == "" && len(m.Media) == 0 {
		return Result{Outcome: Empty}, nil
	}
	allowed, rate := v.allow(ctx, time.Now())
	limited := !allowed
	if limited && c.opt.Metrics != nil {
		c.opt.Metrics.RateLimited()
	}

	thread, inThread, err := v.thread(ctx)
	if err != nil {
		// Without the thread the message is still a tip of its own.
		c.opt.Logger.Warn("thread state unavailable", "err", err)
	}
	now := c.opt.Now()
	tip := gateway.Tip{
		Channel: gateway.ChannelSMS, ProviderID: m.SID, From: m.From, To: m.To, Text: body,
		NumberGeography: m.NumberGeography, ReceivedAt: now, Seq: 1, Kind: kindName(kind),
	}
	if strings.HasPrefix(m.From, "whatsapp:") {
		tip.Channel = gateway.ChannelWhatsApp
		tip.ProfileName = m.ProfileName
		tip.Hints = geo.Hints{Latitude: m.Latitude, Longitude: m.Longitude, Source: geo.SourcePin}
	}
	if inThread {
		tip.Case, tip.ThreadAgencies, tip.Seq = thread.Case, thread.Agencies, thread.Seq+1
	}
	e164, _ := pseudonym.NormalizeE164(m.From)
	detected, _ := c.opt.Detector.Detect(body, e164)
	if detected != language.Und {
		tip.Language = detected.String()
	}
	if match, ok := c.opt.Urgency.Match(body); ok {
		tip.Urgent, tip.UrgentPhrase = true, match.Phrase
	}
	if v.batched && !inThread && !limited && len(m.Media) > 0 && c.opt.Twilio != nil && kind != reply.Exit {
		// The photo is downloaded before its tip is written: its case is
		// opened first, for the sender's next messages (the location pin
		// sent with it) to join, whichever gateway they reach.
		ref := gateway.NewCaseRef()
		var agencies []string
		if r, ok := c.opt.Intake.(Router); ok {
			agencies = r.Agencies(tip)
		}
		switch mine, err := c.opt.Store.Announce(ctx, sender, &v.state, conversation.Thread{Case: ref, Agencies: agencies}, c.opt.ThreadWindow); {
		case err != nil:
			c.opt.Logger.Warn("case not opened before the media download", "err", err)
		case mine:
			tip.Case = ref
		case v.state.InThread:
			thread, inThread = v.state.Thread, true
			tip.Case, tip.ThreadAgencies, tip.Seq = thread.Case, thread.Agencies, thread.Seq+1
		}
	}
	var mediaSIDs []string
	if limited {
		for _, ref := range m.Media {
			tip.Media = append(tip.Media, gateway.Media{URL: ref.URL, ContentType: ref.ContentType,
				Error: "not fetched: the sender is over channel.limits.sender_per_hour"})
		}
	} else {
		mediaSIDs = c.fetchMedia(ctx, m.Media, &tip)
	}
	h := conversation.Handle{From: m.From, To: m.To, Channel: string(tip.Channel), Sender: sender}
	var scrub *twilioapi.ScrubJob
	if num.Scrub && c.opt.Twilio != nil && c.opt.Store.CanReply() {
		scrub = &twilioapi.ScrubJob{MessageSID: m.SID, MediaSIDs: mediaSIDs}
	}
	// Twilio refuses to redact a message whose webhook has not been
	// answered yet: the first try waits a little.
	scrubDue := now.Add(twilioapi.ScrubSchedule.Delay(0))
	// Sealed once, and only if a copy of the tip goes to the spool.
	var spooled atomic.Bool
	sealSide := sync.OnceValues(func() ([]byte, error) {
		return c.side(sender, kind, now, tip.Seq, thread.Agencies, inThread, h, scrub, scrubDue)
	})
	tip.SealSide = func() ([]byte, error) {
		b, err := sealSide()
		spooled.Store(err == nil && b != nil)
		return b, err
	}
	var batch *queue.Batch
	var touched conversation.Touched
	if v.batched {
		tip.Batch = func(tipID, caseRef string, agencies []string) (*queue.Batch, error) {
			batch = &queue.Batch{}
			msg := conversation.Message{Read: v.state, Rate: rate,
				Mark: v.mark, DedupeTTL: c.opt.DedupeTTL, Sender: sender, Case: caseRef, Agencies: union(thread.Agencies, agencies),
				ThreadAgencies: thread.Agencies, InThread: inThread, Seq: tip.Seq, Last: now,
				OptedOut: v.state.OptedOut && v.state.Err == nil, ThreadWindow: c.opt.ThreadWindow,
				HandleTTL: c.opt.HandleTTL, TipID: tipID, Scrub: scrub, ScrubDue: scrubDue}
			if kind != reply.Exit {
				msg.Handle = &h
			}
			var err error
			touched, err = c.opt.Store.Ops(batch, msg, kind != reply.Exit)
			return batch, err
		}
		if kind != reply.Exit {
			// The batch keeps the reply handle in the sender's record:
			// the tip leads there.
			reach, err := c.opt.Store.Reach(sender)
			if err != nil {
				return Result{}, fmt.Errorf("%w: %w", gateway.ErrUnavailable, err)
			}
			tip.Reach = reach
		}
	}

	rcpt, err := c.opt.Intake.Submit(ctx, tip)
	clearMedia(tip.Media)
	if err != nil {
		return Result{}, err
	}
	ack := func() string {
		if limited {
			return ""
		}
		return c.ack(ctx, v, kind, num, detected, rcpt.Case)
	}
	if rcpt.Duplicate {
		if kind == reply.Exit {
			if err := c.exit(ctx, sender, now); err != nil {
				return Result{}, err
			}
		}
		return Result{Outcome: Duplicate, Case: rcpt.Case, Reply: ack()}, nil
	}
	// The tip is durable: what follows only helps, and a failure is logged,
	// never answered with an error (Twilio would send the tip again), but
	// for an exit word that nothing else would apply. A tip that went to
	// the spool carries the same in its side record, applied when the spool
	// drains.
	if kind == reply.Exit {
		if err := c.exit(ctx, sender, now); err != nil {
			if !spooled.Load() {
				// Nothing else would close the conversations: Twilio sends
				// the message again (or to the fallback gateway), and the
				// retry, a duplicate, applies the exit word.
				return Result{}, err
			}
			// The spooled side record closes them when the spool drains.
			c.opt.Logger.Warn("exit word: conversations not closed yet", "case", rcpt.Case, "err", err)
		}
	}
	switch {
	case batch != nil && batch.Ran:
		if n := batch.Failed(); n > 0 {
			c.opt.Logger.Warn("some of what the message leaves (thread, limit, reply handle, scrub job) was not written", "case", rcpt.Case, "refused", n)
		}
		// Another message of the sender wrote its record in between: what
		// it listed is taken back in.
		if found, ok := touched.Found(batch); ok {
			if err := c.opt.Store.Merge(ctx, sender, found); err != nil {
				c.opt.Logger.Warn("sender record not merged", "case", rcpt.Case, "err", err)
			}
		}
		// Written with the tip, but for a handle found gone meanwhile.
		for _, a := range touched.Missing(batch) {
			if err := c.opt.Store.SaveHandle(ctx, a, rcpt.Case, h, now, c.opt.HandleTTL); err != nil {
				c.opt.Logger.Warn("reply handle not saved", "case", rcpt.Case, "agency", a, "err", err)
			}
		}
	default:
		c.writeAfter(ctx, kind, sender, rcpt, thread, inThread, tip.Seq, h, now, scrub, scrubDue)
	}
	outcome := Queued
	if limited {
		outcome = RateLimited
	}
	return Result{Outcome: outcome, Case: rcpt.Case, Reply: ack()}, nil
}

// exit applies an exit word to the sender's conversations.
func (c *Channel) exit(ctx context.Context, sender string, at time.Time) error {
	if err := c.opt.Store.Exit(ctx, sender, at, c.opt.HandleTTL); err != nil {
		return fmt.Errorf("%w: exit word not applied: %w", gateway.ErrUnavailable, err)
	}
	return nil
}

// writeAfter writes what a queued message leaves, one call each, when no
// batch wrote it with the tip.
func (c *Channel) writeAfter(ctx context.Context, kind reply.Kind, sender string, rcpt gateway.Receipt, thread conversation.Thread,
	inThread bool, seq int, h conversation.Handle, now time.Time, scrub *twilioapi.ScrubJob, scrubDue time.Time) {
	agencies := union(thread.Agencies, rcpt.Agencies)
	if kind != reply.Exit { // an exit word is applied by Receive
		if err := c.opt.Store.SaveThread(ctx, sender, conversation.Thread{Case: rcpt.Case, Agencies: agencies, Seq: seq, Last: now}, c.opt.ThreadWindow); err != nil {
			c.opt.Logger.Warn("thread not saved", "case", rcpt.Case, "err", err)
		}
		var touched []string
		for _, a := range agencies {
			if inThread && slices.Contains(thread.Agencies, a) {
				// The same sender, the same case: the sealed handle is
				// already there; only the time of the last message moves.
				if ok, err := c.opt.Store.TouchHandle(ctx, a, rcpt.Case, now, c.opt.HandleTTL); ok && err == nil {
					touched = append(touched, a)
					continue
				}
			}
			if err := c.opt.Store.SaveHandle(ctx, a, rcpt.Case, h, now, c.opt.HandleTTL); err != nil {
				c.opt.Logger.Warn("reply handle not saved", "case", rcpt.Case, "agency", a, "err", err)
			}
		}
		if len(touched) > 0 {
			if err := c.opt.Store.KeepIndex(ctx, sender, touched, rcpt.Case, now, c.opt.HandleTTL); err != nil {
				c.opt.Logger.Warn("reply handle index not kept", "case", rcpt.Case, "err", err)
			}
		}
	}
	if scrub != nil {
		if err := c.opt.Store.Scrubs().EnqueueOnce(ctx, rcpt.TipID, *scrub, scrubDue); err != nil {
			c.opt.Logger.Warn("scrub job not queued", "case", rcpt.Case, "err", err)
		}
	}
}

// side seals what the tip needs besides itself, for a tip that goes to the
// spool (nil without a reply key: there is nothing to seal it to).
func (c *Channel) side(sender string, kind reply.Kind, now time.Time, seq int, threadAgencies []string, inThread bool,
	h conversation.Handle, scrub *twilioapi.ScrubJob, scrubDue time.Time) ([]byte, error) {
	if !c.opt.Store.CanReply() {
		return nil, nil
	}
	sd := conversation.Side{Sender: sender, Last: now, Exit: kind == reply.Exit, Seq: seq,
		ThreadWindow: c.opt.ThreadWindow, HandleTTL: c.opt.HandleTTL, Scrub: scrub, ScrubDue: scrubDue}
	if inThread {
		sd.ThreadAgencies = threadAgencies
	}
	if !sd.Exit {
		sd.Handle = &h
	}
	return c.opt.Store.SealSide(sd)
}

// ack is the automatic answer: only for a plain message, never after STOP,
// never when the number's replies are off.
func (c *Channel) ack(ctx context.Context, v *view, kind reply.Kind, num Number, detected language.Tag, caseRef string) string {
	if !kind.Acknowledged() || num.Reply.Off {
		return ""
	}
	if v.optedOut(ctx) {
		return ""
	}
	text, _ := c.opt.Catalog.AckFor(num.Reply, detected, caseRef)
	return text
}

func kindName(k reply.Kind) string {
	switch k {
	case reply.Exit:
		return "exit"
	case reply.OptIn:
		return "opt_in"
	case reply.Help:
		return "help"
	default:
		return ""
	}
}

// fetchMedia downloads the attachments into the tip and returns the SIDs
// of those fetched: only they may be deleted at Twilio afterwards.
func (c *Channel) fetchMedia(ctx context.Context, refs []MediaRef, tip *gateway.Tip) []string {
	var sids []string
	for i, ref := range refs {
		item := gateway.Media{URL: ref.URL, ContentType: ref.ContentType}
		switch {
		case c.opt.Twilio == nil:
			item.Error = "not fetched: Twilio REST is not configured"
		case i >= c.opt.MaxMedia:
			item.Error = "not fetched: more attachments than channel.media.max_items"
		default:
			data, ctype, err := c.opt.Twilio.FetchMedia(ctx, ref.URL)
			if err != nil {
				item.Error = "not fetched: " + mediaError(err)
				break
			}
			item.Data, item.ContentType = data, ctype
			if mu, err := c.opt.Twilio.ParseMediaURL(ref.URL); err == nil {
				sids = append(sids, mu.MediaSID)
			}
		}
		tip.Media = append(tip.Media, item)
	}
	return sids
}

func mediaError(err error) string {
	switch {
	case errors.Is(err, twilioapi.ErrMediaTooLarge):
		return "too large"
	case errors.Is(err, twilioapi.ErrMediaType):
		return "type not allowed"
	case errors.Is(err, twilioapi.ErrMediaURL):
		return "not a media item of this account"
	default:
		return "download failed"
	}
}

func clearMedia(items []gateway.Media) {
	for i := range items {
		clear(items[i].Data)
	}
}

func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, x := range b {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

// Override reasons for replying outside the window: a fixed set, because
// the audit trail is in clear.
var OverrideReasons = []string{"life_at_risk", "reporter_asked", "supervisor_approved"}

// Errors of officers' replies.
var (
	// ErrNotSent: Twilio refused the reply or could not be reached; the
	// officer may retry.
	ErrNotSent = fault.New(fault.Upstream, "not sent, you may retry")
	// ErrUnavailable: the gateway's state (the reply handle, the opt-out)
	// could not be read, so nothing was sent: not sending is the safe
	// answer when the gateway cannot tell whether the reporter said STOP.
	ErrUnavailable   = fault.New(fault.Unavailable, "not sent: the gateway cannot check the reporter's wishes right now, try again later")
	ErrNoHandle      = fault.New(fault.Conflict, "this reporter cannot be reached: the case came from the web, the reporter closed the conversation, or the handle expired")
	ErrOutsideWindow = fault.New(fault.Conflict, "the reporter's last message is too old to reply safely")
	ErrOptedOut      = fault.New(fault.Conflict, "the reporter asked for no messages (STOP)")
	ErrRateLimited   = fault.New(fault.RateLimited, "too many replies: wait before sending another")
	ErrBadReply      = fault.New(fault.Invalid, "a reply must be 1 to 1000 characters of text")
	ErrBadOverride   = fault.New(fault.Invalid, "unknown override reason: use life_at_risk, reporter_asked or supervisor_approved")
	ErrNoTwilio      = fault.New(fault.Conflict, "replies by SMS and WhatsApp are not configured")
)

// MaxReply bounds an officer's reply: short is safer on a shared phone.
const MaxReply = 1000

// Reply sends an officer's text to the reporter of a case, through the
// agency's reply handle. Outside the reply window it needs an override
// reason, which is audited. It never sends to a reporter who said STOP.
func (c *Channel) Reply(ctx context.Context, agency, caseRef, tipID, officer, text, override string) (err error) {
	outcome := "error"
	defer func() {
		if c.opt.Metrics != nil {
			c.opt.Metrics.Reply(outcome)
		}
	}()
	text = strings.TrimSpace(text)
	if text == "" || utf8.RuneCountInString(text) > MaxReply || !utf8.ValidString(text) {
		return ErrBadReply
	}
	if override != "" && !slices.Contains(OverrideReasons, override) {
		return ErrBadOverride
	}
	if c.opt.Twilio == nil {
		return ErrNoTwilio
	}
	h, last, err := c.opt.Store.HandleOf(ctx, agency, caseRef, tipID)
	switch {
	case errors.Is(err, conversation.ErrNoHandle):
		outcome = "refused_no_handle"
		return ErrNoHandle
	case errors.Is(err, conversation.ErrUnavailable):
		outcome = "unavailable"
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	case err != nil:
		return err
	}
	out, err := c.opt.Store.OptedOut(ctx, h.Sender)
	if err != nil {
		outcome = "unavailable"
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if out {
		outcome = "refused_opted_out"
		return ErrOptedOut
	}
	inWindow := c.opt.Now().Sub(last) <= c.opt.ReplyWindow
	if !inWindow && override == "" {
		outcome = "refused_window"
		return fmt.Errorf("%w: last message %s ago; reply window %s", ErrOutsideWindow,
			c.opt.Now().Sub(last).Round(time.Minute), c.opt.ReplyWindow)
	}
	if c.opt.ReplyDestination != nil && !c.opt.ReplyDestination.Allow(ctx, h.Sender) ||
		c.opt.ReplyNumber != nil && !c.opt.ReplyNumber.Allow(ctx, c.opt.Keyer.Sender(h.To)) {
		outcome = "rate_limited"
		return ErrRateLimited
	}
	detail := "in_window"
	if !inWindow {
		detail = "override:" + override
	}
	// The audit entry comes first: a reply that cannot be recorded is not
	// sent.
	if c.opt.Audit != nil {
		if err := c.opt.Audit.Audit(ctx, agency, "reply", officer, tipID, detail); err != nil {
			return err
		}
	}
	sid, err := c.opt.Twilio.Send(ctx, h.To, h.From, text)
	if err != nil {
		if twilioapi.IsOptedOut(err) {
			if err := c.opt.Store.SetOptOut(ctx, h.Sender, true); err != nil {
				// Twilio keeps refusing this number; only our own record
				// of it, which spares officers the refusal, is missing.
				c.opt.Logger.Warn("opt-out reported by Twilio not recorded", "err", err)
			}
			outcome = "refused_opted_out"
			return ErrOptedOut
		}
		outcome = "not_sent"
		return fmt.Errorf("%w: %w", ErrNotSent, err)
	}
	if err := c.opt.Store.RememberOutbound(ctx, c.opt.Keyer.Of(pseudonym.DomainProvider, sid), agency, caseRef, c.opt.HandleTTL); err != nil {
		c.opt.Logger.Warn("reply sent but its delivery will not be recorded", "case", caseRef, "err", err)
	}
	outcome = "sent"
	return nil
}

// DeliveryStatus records Twilio's status callback for a sent reply on its
// case, and once the status is final, queues erasing the reply at Twilio.
func (c *Channel) DeliveryStatus(ctx context.Context, sid, status, code string) error {
	agency, caseRef, err := c.opt.Store.Outbound(ctx, c.opt.Keyer.Of(pseudonym.DomainProvider, sid))
	if err != nil {
		return err
	}
	if !knownStatus[status] {
		status = "other"
	}
	if _, err := strconv.Atoi(code); code != "" && err != nil {
		code = ""
	}
	if err := c.opt.Store.RecordDelivery(ctx, agency, caseRef, conversation.Delivery{Status: status, Code: code, At: c.opt.Now().UTC()}, c.opt.HandleTTL); err != nil {
		return err
	}
	if finalStatus[status] && c.opt.Twilio != nil {
		if err := c.opt.Store.Scrubs().Enqueue(ctx, twilioapi.ScrubJob{MessageSID: sid}, c.opt.Now().Add(time.Minute)); err != nil {
			c.opt.Logger.Warn("reply scrub job not queued", "case", caseRef, "err", err)
		}
	}
	return nil
}

var knownStatus = map[string]bool{"accepted": true, "queued": true, "sending": true, "sent": true, "delivered": true,
	"undelivered": true, "failed": true, "read": true, "canceled": true, "scheduled": true}

var finalStatus = map[string]bool{"delivered": true, "undelivered": true, "failed": true, "read": true, "canceled": true}

// RunScrubber erases queued messages at Twilio until ctx ends, retrying
// with backoff (error 20009: not yet complete) and giving up after the
// schedule's limit, each outcome counted.
func (c *Channel) RunScrubber(ctx context.Context, every time.Duration) {
	if c.opt.Twilio == nil || !c.opt.Store.CanReply() {
		return
	}
	periodic.Run(ctx, every, c.ScrubDue)
}

// Scrub runs go through the due jobs in batches of scrubBatch, scrubWorkers
// Twilio calls at a time, for up to scrubFor a run: a flood of messages
// is erased at tens a second, not at the pace of one batch per run (the
// scrubber runs every 15 s), and a run leaves room before the next.
const (
	scrubBatch   = 20
	scrubWorkers = 8
	scrubFor     = 10 * time.Second
)

// ScrubDue runs the scrub jobs that are due.
func (c *Channel) ScrubDue(ctx context.Context) {
	scrubs := c.opt.Store.Scrubs()
	// The jobs that tips' entries carry first: a job moved is kept even if
	// the claim fails.
	if _, err := scrubs.Move(ctx); err != nil {
		c.opt.Logger.Warn("scrub jobs not moved from the tips' entries: they are moved on the next run", "err", err)
	}
	for start := time.Now(); ctx.Err() == nil && time.Since(start) < scrubFor; {
		jobs, err := scrubs.Claim(ctx, c.opt.Now(), scrubBatch)
		switch {
		case errors.Is(err, scrub.ErrUnreadable):
			c.count("unreadable")
			c.opt.Logger.Error("scrub jobs stay queued: the reply key cannot open them (was secrets.reply_key changed?); the provider still holds their messages", "err", err)
		case err != nil:
			c.opt.Logger.Warn("scrub jobs unavailable", "err", err)
			return
		}
		var g errgroup.Group
		g.SetLimit(scrubWorkers)
		var answered atomic.Int32
		for _, sc := range jobs {
			g.Go(func() error {
				if c.scrubOne(ctx, scrubs, sc) {
					answered.Add(1)
				}
				return nil
			})
		}
		g.Wait()
		// A short batch: no more are due. One with jobs the key cannot
		// open ends the run as well (said once a run; they come back
		// after their lease). So does one that Twilio answered none of
		// (down, or out of reach): the rest of the backlog waits for the
		// next run rather than each job failing at once and being
		// rescheduled.
		if len(jobs) < scrubBatch || err != nil || answered.Load() == 0 {
			return
		}
	}
}

// scrubOne asks Twilio to erase one claimed job's message, and finishes
// or reschedules the job by the answer. It reports whether Twilio
// answered (anything but a retryable failure: an outage, a timeout, a
// rate limit).
func (c *Channel) scrubOne(ctx context.Context, scrubs *scrub.Queue, sc scrub.Claimed) bool {
	job, err := c.opt.Twilio.Scrub(ctx, sc.Job)
	answered := err == nil || !twilioapi.Retryable(err)
	sc.Job = job
	switch {
	case err == nil && job.Done():
		c.count("deleted")
		c.finishScrub(ctx, scrubs, sc)
	case twilioapi.Retryable(err) || err == nil:
		delay, ok := twilioapi.ScrubSchedule.Next(job.Attempt)
		if !ok || c.opt.Now().Sub(sc.Started) > twilioapi.ScrubSchedule.GiveUpAfter {
			c.count("failed")
			c.opt.Logger.Error("scrub given up: Twilio still holds a message; an operator must delete it", "attempts", job.Attempt)
			c.finishScrub(ctx, scrubs, sc)
			return answered
		}
		c.count("retry")
		if err := scrubs.Reschedule(ctx, sc, c.opt.Now().Add(delay)); err != nil {
			// The job keeps its last saved state and comes back when
			// its lease ends.
			c.opt.Logger.Warn("scrub job not rescheduled: it runs again after its lease", "err", err)
		}
	default:
		c.count("failed")
		c.opt.Logger.Error("scrub failed: Twilio still holds a message; an operator must delete it", "err", err)
		c.finishScrub(ctx, scrubs, sc)
	}
	return answered
}

// finishScrub removes a job that is over. A job Redis did not remove is
// not lost: it comes back when its lease ends, and Twilio is asked again.
func (c *Channel) finishScrub(ctx context.Context, scrubs *scrub.Queue, sc scrub.Claimed) {
	if err := scrubs.Finish(ctx, sc); err != nil {
		c.opt.Logger.Warn("scrub job not finished: it runs again after its lease", "err", err)
	}
}

func (c *Channel) count(outcome string) {
	if c.opt.Metrics != nil {
		c.opt.Metrics.ScrubOutcome(outcome)
	}
}
