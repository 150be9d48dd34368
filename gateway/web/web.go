// Package web is the witness web form's channel: what happens to a report
// typed into /report, and to an answer typed into /followup, between the
// HTTP handler that read the form and the intake.
//
// It protects two things. The witness: the report is taken without
// learning who sent it (the rate limits and the proof of work key on an
// HMAC of the network, never the address), a photo loses its metadata
// before it is sealed, and a report is answered with a receipt only once
// the intake made it durable. And the gateway: a flood of posts is slowed
// by per-network rate limits and proof of work, and bounded by intake slots
// and a process-wide photo-decoding budget, so that it cannot starve the
// SMS webhook.
//
// HTTP (reading the form, the client's address behind proxies, pages and
// their languages) stays in handlers.
package web

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"runtime"
	"time"
	"unicode/utf8"

	"github.com/hotline-org/hotline/crypto/pseudonym"
	"github.com/hotline-org/hotline/gateway"
	"github.com/hotline-org/hotline/gateway/fault"
	"github.com/hotline-org/hotline/gateway/followup"
	"github.com/hotline-org/hotline/gateway/photo"
	"github.com/hotline-org/hotline/queue"
	"github.com/redis/go-redis/v9"
)

// Intake queues a tip.
type Intake interface {
	Submit(ctx context.Context, t gateway.Tip) (gateway.Receipt, error)
}

// Followups keeps the witnesses' follow-up threads (gateway/followup.Store).
type Followups interface {
	Handle(code string) (string, error)
	CreateOps(code, caseRef string, agencies []string, urgent bool) ([]queue.Op, error)
	Create(ctx context.Context, code, caseRef string) (string, error)
	SetAgencies(ctx context.Context, handle string, agencies []string) error
	Open(ctx context.Context, code string) (*followup.Thread, error)
	AddAnswer(ctx context.Context, handle, text string) error
	MarkUrgent(ctx context.Context, handle string) error
	Delete(ctx context.Context, handle string) error
}

// Batcher is an Intake that writes a tip's batch with it (Tip.Batch), as
// gateway.Intake does: the follow-up thread is then made with the tip, in
// the same round trip.
type Batcher interface {
	WritesBatches() bool
}

// Metrics counts checks that could not be made and were answered the safe
// way (gateway/metrics.Metrics); nil counts nothing.
type Metrics interface {
	CheckFailedSafe(check string)
}

// CheckFlood is the flood check: unknown counts as a flood, so the form
// asks for proof of work.
const CheckFlood = "web_flood"

// Rate is a number of requests per period.
type Rate struct {
	Count  int64
	Period time.Duration
}

// PoW modes.
const (
	PoWOff    = "off"
	PoWFlood  = "flood"
	PoWAlways = "always"
)

// MaxPhotos is how many photos one report may carry.
const MaxPhotos = 5

// Options configures the channel. Intake and Keyer are required.
type Options struct {
	Intake Intake
	// Followups keeps follow-up threads; nil turns receipt codes and the
	// follow-up page off.
	Followups Followups
	// Keyer makes the network pseudonyms of the rate limit and the
	// proof-of-work key.
	Keyer *pseudonym.Keyer
	// Redis shares rate limits, the flood counter and spent challenges
	// between gateway instances; nil keeps them in memory (one instance,
	// tests).
	Redis  redis.UniversalClient
	Prefix string
	// RateLimit is per network for accepted reports and follow-up
	// openings; InvalidRateLimit, per network too, for refused posts
	// (invalid, empty, failed proof of work), so that junk from a network
	// cannot spend the bucket of a witness there. The onion ones are the
	// same for all requests that came through the onion listener together.
	RateLimit             Rate
	OnionRateLimit        Rate
	InvalidRateLimit      Rate
	OnionInvalidRateLimit Rate
	// PoW is PoWOff, PoWFlood or PoWAlways; PoWBits the work; PoWFlood the
	// submissions a minute that make a flood; PoWWait the age at which a
	// challenge passes without work (for browsers without JavaScript; zero
	// or less: never).
	PoW      string
	PoWBits  int
	PoWFlood int
	PoWWait  time.Duration
	// MaxPhoto bounds one uploaded photo, in bytes.
	MaxPhoto int64
	// PhotoBudget is the memory all photo decoding of the process may hold
	// at once (gateway/photo.Budget); nil gives the channel one of
	// photo.DefaultBudget.
	PhotoBudget *photo.Budget
	// PhotoWait is how long a photo waits for its share of PhotoBudget
	// before the report is sent without it (default 60s).
	PhotoWait time.Duration
	// Emergency maps an agency id to its emergency number
	// (agencies[].emergency), shown to a witness whose urgent report the
	// agency receives.
	Emergency map[string]string
	Metrics   Metrics
	Logger    *slog.Logger
	Now       func() time.Time
}

func (o *Options) defaults() {
	if o.RateLimit.Count <= 0 {
		o.RateLimit = Rate{30, time.Hour}
	}
	if o.OnionRateLimit.Count <= 0 {
		o.OnionRateLimit = Rate{300, time.Hour}
	}
	if o.InvalidRateLimit.Count <= 0 {
		o.InvalidRateLimit = Rate{120, time.Hour}
	}
	if o.OnionInvalidRateLimit.Count <= 0 {
		o.OnionInvalidRateLimit = Rate{1200, time.Hour}
	}
	if o.PoW == "" {
		o.PoW = PoWFlood
	}
	if o.PoWBits <= 0 {
		o.PoWBits = 16
	}
	if o.PoWFlood <= 0 {
		o.PoWFlood = 60
	}
	if o.MaxPhoto <= 0 {
		o.MaxPhoto = 10 << 20
	}
	if o.Prefix == "" {
		o.Prefix = "hl"
	}
	if o.PhotoBudget == nil {
		o.PhotoBudget = photo.NewBudget(0)
	}
	if o.PhotoWait <= 0 {
		o.PhotoWait = time.Minute
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Channel is the web channel.
type Channel struct {
	opt   Options
	guard *guard
	// decoders bound the photos being decoded at once to half the CPUs,
	// so that a burst of large photos leaves the other half to the SMS
	// webhook, which must answer within seconds. (Memory is bounded apart,
	// by PhotoBudget.)
	decoders chan struct{}
	// slots bound the submissions being taken in at once. A submission
	// costs milliseconds of CPU (the follow-up key, sealing); a flood must
	// not starve the SMS webhook, whose requests hold none.
	slots chan struct{}
}

// slotWait is how long a submission waits for a slot before the witness is
// told to send again (with the text kept).
const slotWait = 3 * time.Second

// New returns the channel. It makes no call to Redis, so that a gateway
// started during an outage still starts.
func New(o Options) *Channel {
	o.defaults()
	return &Channel{opt: o, guard: newGuard(o),
		decoders: make(chan struct{}, max(1, runtime.GOMAXPROCS(0)/2)),
		slots:    make(chan struct{}, max(2, runtime.GOMAXPROCS(0)))}
}

// Origin is where a request came from, as the rate limits see it: the
// client's address (never stored or logged: only the HMAC of its network
// is used) or, for a request through the onion listener, that alone.
type Origin struct {
	IP    net.IP
	Onion bool
}

// MaxPhoto is the largest photo the channel takes, in bytes.
func (c *Channel) MaxPhoto() int64 { return c.opt.MaxPhoto }

// Followups reports whether reports get a receipt code and a follow-up
// page.
func (c *Channel) Followups() bool { return c.opt.Followups != nil }

// Now is the channel's clock.
func (c *Channel) Now() time.Time { return c.opt.Now() }

// WorkWait is how long a witness asked for proof of work should wait
// before sending the form again.
func (c *Channel) WorkWait() time.Duration {
	if c.opt.PoWWait > 0 {
		return c.opt.PoWWait
	}
	return 30 * time.Second // the work takes a moment; send again then
}

// ErrBusy: no intake slot came free in time, or the witness's browser went
// away. (The channel's errors are each of a kind, gateway/fault; reports
// also meet gateway.ErrEmpty and gateway.ErrTooLong, answers followup's.)
var ErrBusy = fault.New(fault.Unavailable, "busy, try again")

// takeSlot waits for one of the channel's intake slots; release gives it
// back.
func (c *Channel) takeSlot(ctx context.Context) error {
	t := time.NewTimer(slotWait)
	defer t.Stop()
	select {
	case c.slots <- struct{}{}:
		return nil
	case <-t.C:
		return ErrBusy
	case <-ctx.Done():
		return ErrBusy
	}
}

func (c *Channel) release() { <-c.slots }

// Challenge returns a proof-of-work challenge for the form, or nil when
// none is needed right now.
func (c *Channel) Challenge(ctx context.Context) *Challenge {
	if c.guard.powRequired(ctx) {
		return c.guard.newChallenge()
	}
	return nil
}

// Refuse counts a post that could not be read (err says why) in its
// network's refused bucket, and returns err, or ErrRateLimited once the
// network is over that bucket.
func (c *Channel) Refuse(ctx context.Context, from Origin, err error) error {
	c.guard.countSubmission(ctx)
	return c.refused(ctx, from, err)
}

func (c *Channel) refused(ctx context.Context, from Origin, err error) error {
	if !c.guard.allow(ctx, from, bucketRefused) {
		return ErrRateLimited
	}
	return err
}

// Followup opens the thread of a receipt code, counted in the network's
// refused bucket (opening a thread of an earlier release costs scrypt; a
// code that opens nothing, or a page a hostile site makes its visitors
// load, must not spend the network's reports), and, if answer is not
// blank, queues it (counted in the accepted bucket) as a tip of the same case, to the
// agencies that received the first one, urgent if the first one was. The thread is returned, with the
// answer added once queued, also when the answer is refused, so that the
// page can show it.
func (c *Channel) Followup(ctx context.Context, from Origin, code, answer, lang string) (*followup.Thread, error) {
	if c.opt.Followups == nil {
		return nil, followup.ErrNotFound
	}
	if !c.guard.allow(ctx, from, bucketRefused) {
		return nil, ErrRateLimited
	}
	// Opening a thread of an earlier release runs scrypt: it takes one of
	// the slots.
	if err := c.takeSlot(ctx); err != nil {
		return nil, err
	}
	defer c.release()
	t, err := c.opt.Followups.Open(ctx, code)
	if err != nil || answer == "" {
		return t, err
	}
	if len(answer) > followup.MaxMessageBytes || utf8.RuneCountInString(answer) > followup.MaxMessageChars {
		return t, followup.ErrTooLong
	}
	if !c.guard.allow(ctx, from, bucketAccepted) {
		return t, ErrRateLimited
	}
	now := c.opt.Now()
	tip := gateway.Tip{
		Channel: gateway.ChannelWeb, Text: answer, Case: t.Info.Case, Agencies: t.Info.Agencies,
		Followup: t.Handle, Language: lang, ReceivedAt: now, Urgent: t.Info.Urgent,
	}
	if _, err := c.opt.Intake.Submit(ctx, tip); err != nil {
		return t, err
	}
	if err := c.opt.Followups.AddAnswer(context.WithoutCancel(ctx), t.Handle, answer); err != nil && !errors.Is(err, followup.ErrFull) {
		// The answer reached the police; only the witness's copy is missing.
		c.opt.Logger.Warn("follow-up answer not kept for display", "err", err)
	}
	t.Messages = append(t.Messages, followup.Message{From: followup.Witness, Text: answer, At: now})
	return t, nil
}
