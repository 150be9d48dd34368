// Package gateway is the intake pipeline: a tip in clear comes in from a
// channel handler, is deduplicated, located, routed, sealed to each agency
// that receives it and queued; only then is the reporter told it arrived.
//
// The plaintext of a tip exists only in this package's memory, for the
// moment between receipt and sealing. Everything it logs or returns in clear
// is an id, an agency, a region id, a channel, a priority or a count.
package gateway

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/hotline-org/hotline/crypto/pseudonym"
	"github.com/hotline-org/hotline/gateway/fault"
	"github.com/hotline-org/hotline/queue"
)

// Sealer seals a report to an agency's recipients.
type Sealer interface {
	ToAgency(agency string, plaintext []byte) ([]byte, error)
}

// Publisher queues sealed tips durably and remembers provider messages.
type Publisher interface {
	Publish(ctx context.Context, e queue.Entry) error
	BeginDedupe(ctx context.Context, pseudonym string) (queue.Seen, error)
	FinishDedupe(ctx context.Context, pseudonym, caseRef string, ttl time.Duration) error
	AbortDedupe(ctx context.Context, pseudonym string) error
}

// Metrics observes the pipeline. Its methods take only typed values
// (channel, agency id, priority, durations, errors), never text of a tip.
type Metrics interface {
	TipQueued(channel Channel, agency string, priority queue.Priority)
	ObserveSeal(d time.Duration)
	ObserveIntake(channel Channel, d time.Duration, err error)
}

type noMetrics struct{}

func (noMetrics) TipQueued(Channel, string, queue.Priority)   {}
func (noMetrics) ObserveSeal(time.Duration)                   {}
func (noMetrics) ObserveIntake(Channel, time.Duration, error) {}

// Errors the handlers map to responses.
var (
	// ErrUnavailable: the tip could not be made durable; the reporter must
	// be told it was not sent (Twilio then tries its fallback URL).
	ErrUnavailable = fault.NewPublic(fault.Unavailable, "tip could not be queued", "temporarily unavailable, try again")
	// ErrInFlight: the same provider message is being queued by another
	// request right now.
	ErrInFlight = fault.NewPublic(fault.Unavailable, "the same message is being queued", "busy, try again")
	// ErrEmpty: nothing to report.
	ErrEmpty = fault.NewPublic(fault.Invalid, "empty tip", "empty message")
	// ErrTooLong: the text is longer than MaxTextBytes.
	ErrTooLong = fault.NewPublic(fault.TooLarge, "tip text too long", "message too long")
)

// MaxTextBytes bounds a tip's text. Twilio caps an SMS at 1600 characters
// and WhatsApp at 4096; the form allows a long account.
const MaxTextBytes = 32 << 10

// Options configures an Intake.
type Options struct {
	Sealer    Sealer
	Publisher Publisher
	Router    *Router
	Keyer     *pseudonym.Keyer
	Logger    *slog.Logger
	// DedupeTTL is how long a provider message id is remembered.
	DedupeTTL time.Duration
	// MaxSealing bounds concurrent sealing so that a flood cannot exhaust
	// memory or starve the process; extra requests wait their turn.
	MaxSealing int
	// Metrics observes the pipeline; nil records nothing.
	Metrics Metrics
	Now     func() time.Time
}

// Intake runs the pipeline.
type Intake struct {
	opt Options
	sem chan struct{}
}

// NewIntake returns an intake pipeline.
func NewIntake(opt Options) *Intake {
	if opt.DedupeTTL <= 0 {
		opt.DedupeTTL = 48 * time.Hour
	}
	if opt.MaxSealing <= 0 {
		opt.MaxSealing = 64
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Metrics == nil {
		opt.Metrics = noMetrics{}
	}
	return &Intake{opt: opt, sem: make(chan struct{}, opt.MaxSealing)}
}

// Submit queues a tip and returns its receipt. It returns nil error only
// once every agency's sealed copy is durable.
func (in *Intake) Submit(ctx context.Context, t Tip) (Receipt, error) {
	start := time.Now()
	rcpt, err := in.submit(ctx, t)
	in.opt.Metrics.ObserveIntake(t.Channel, time.Since(start), err)
	return rcpt, err
}

func (in *Intake) submit(ctx context.Context, t Tip) (Receipt, error) {
	if strings.TrimSpace(t.Text) == "" && t.Hints.Latitude == "" && len(t.Media) == 0 {
		return Receipt{}, ErrEmpty
	}
	if len(t.Text) > MaxTextBytes {
		return Receipt{}, ErrTooLong
	}
	if t.ReceivedAt.IsZero() {
		t.ReceivedAt = in.opt.Now()
	}
	t.ReceivedAt = t.ReceivedAt.UTC()

	var tipID, caseRef, dedupe string
	if t.ProviderID != "" {
		// Retries of one provider message get the same ids, so that a
		// partial failure followed by a retry never queues a tip twice.
		dedupe = in.opt.Keyer.Of(pseudonym.DomainProvider, t.ProviderID)
		if t.Batch != nil {
			// The batch's guard marks the message with the tip.
			dedupe = ""
		}
		seen, err := in.beginDedupe(ctx, dedupe)
		switch {
		case errors.Is(err, queue.ErrInFlight):
			return Receipt{}, ErrInFlight
		case err != nil:
			return Receipt{}, fmt.Errorf("%w: %w", ErrUnavailable, err)
		case seen.Done:
			return Receipt{Case: seen.Case, Duplicate: true}, nil
		}
		sum := in.opt.Keyer.Sum(pseudonym.DomainProvider+"/ids", t.ProviderID)
		tipID, caseRef = encodeTipID(sum[:16]), encodeCase(sum[16:21])
	} else {
		b := make([]byte, 21)
		rand.Read(b)
		tipID, caseRef = encodeTipID(b[:16]), encodeCase(b[16:21])
	}
	if t.Case != "" {
		if !ValidCaseRef(t.Case) {
			return Receipt{}, ErrBadCase
		}
		caseRef = t.Case
	}

	rcpt, err := in.queue(ctx, t, tipID, caseRef)
	if err != nil {
		if dedupe != "" {
			// Best effort: if this fails too, the pending mark expires
			// after two minutes and the retry goes through then.
			_ = in.opt.Publisher.AbortDedupe(context.WithoutCancel(ctx), dedupe)
		}
		return Receipt{}, err
	}
	if dedupe != "" {
		if err := in.opt.Publisher.FinishDedupe(context.WithoutCancel(ctx), dedupe, caseRef, in.opt.DedupeTTL); err != nil {
			// The tip is durable; a retry would be recognised by tip id in
			// each agency's index and not queued twice.
			in.opt.Logger.Warn("dedupe mark not stored", "tip", tipID, "err", err)
		}
	}
	return rcpt, nil
}

func (in *Intake) beginDedupe(ctx context.Context, dedupe string) (queue.Seen, error) {
	if dedupe == "" {
		return queue.Seen{}, nil
	}
	return in.opt.Publisher.BeginDedupe(ctx, dedupe)
}

// DedupePeeker is a Publisher that can tell, without marking anything,
// what deduplication knows of a provider message.
type DedupePeeker interface {
	PeekDedupe(ctx context.Context, pseudonym string) (queue.Seen, error)
}

// Seen reports what is known of a provider message before any work is
// done on it: Duplicate (with its case) for one already queued, ErrInFlight
// for one being queued right now, nothing for a new one. It marks nothing
// and counts nothing, so that a channel can answer Twilio's retries before
// its limits. A publisher that cannot tell, or a Redis that does not
// answer, makes the message new: Submit still deduplicates.
func (in *Intake) Seen(ctx context.Context, providerID string) (Receipt, error) {
	p, ok := in.opt.Publisher.(DedupePeeker)
	if !ok || providerID == "" {
		return Receipt{}, nil
	}
	seen, err := p.PeekDedupe(ctx, in.opt.Keyer.Of(pseudonym.DomainProvider, providerID))
	switch {
	case errors.Is(err, queue.ErrInFlight):
		return Receipt{}, ErrInFlight
	case err != nil:
		return Receipt{}, nil
	case seen.Done:
		return Receipt{Case: seen.Case, Duplicate: true}, nil
	}
	return Receipt{}, nil
}

// Agencies returns the agencies Submit would queue t to, for a channel
// that must know them first (a case opened before a download).
func (in *Intake) Agencies(t Tip) []string { return in.route(t).Agencies }

// route decides where t goes.
func (in *Intake) route(t Tip) Decision {
	d := in.opt.Router.Route(t.Text, t.Hints, t.To)
	switch {
	case len(t.Agencies) > 0:
		d.Agencies, d.Reason = t.Agencies, ReasonCase
	case len(t.ThreadAgencies) > 0 && d.Reason != ReasonLocation:
		// A follow-up with no location of its own stays with the agencies
		// already working the case.
		d.Agencies, d.Reason = t.ThreadAgencies, ReasonThread
		d.Region = map[string]string{}
	}
	return d
}

func (in *Intake) queue(ctx context.Context, t Tip, tipID, caseRef string) (Receipt, error) {
	d := in.route(t)
	priority := queue.Normal
	if t.Urgent {
		priority = queue.Urgent
	}
	rep := Report{
		Version: 1, TipID: tipID, Case: caseRef, Channel: t.Channel, ReceivedAt: t.ReceivedAt,
		Text: t.Text, From: t.From, To: t.To, ProfileName: t.ProfileName, Contact: t.Contact,
		Language: t.Language, Urgent: t.Urgent, NumberGeography: t.NumberGeography, Media: t.Media,
		Routing:  Routing{Reason: d.Reason, Regions: d.Regions, Agencies: d.Agencies},
		Followup: t.Followup, Seq: t.Seq, Kind: t.Kind, UrgentPhrase: t.UrgentPhrase,
	}
	if d.Location != nil {
		rep.Location = &ReportLocation{Source: d.Location.Source, Match: d.Location.Match, Region: d.Location.Region,
			RadiusM: d.Location.Radius, Candidates: d.Location.Candidates}
		if d.Location.HasPoint {
			rep.Location.Lat, rep.Location.Lon = d.Location.Point.Lat, d.Location.Point.Lon
		}
	}
	plaintext, err := json.Marshal(rep)
	if err != nil {
		return Receipt{}, fmt.Errorf("failed to encode report: %w", err)
	}
	defer clear(plaintext)

	select {
	case in.sem <- struct{}{}:
	case <-ctx.Done():
		return Receipt{}, fmt.Errorf("%w: %w", ErrUnavailable, ctx.Err())
	}
	entries := make([]queue.Entry, 0, len(d.Agencies))
	for _, agency := range d.Agencies {
		start := time.Now()
		sealed, err := in.opt.Sealer.ToAgency(agency, plaintext)
		in.opt.Metrics.ObserveSeal(time.Since(start))
		if err != nil {
			<-in.sem
			return Receipt{}, fmt.Errorf("%w: agency %s: %w", ErrUnavailable, agency, err)
		}
		entries = append(entries, queue.Entry{
			TipID: tipID, Case: caseRef, Agency: agency, Region: d.Region[agency],
			Channel: string(t.Channel), Priority: priority, ReceivedAt: t.ReceivedAt,
			ReplyCapable: t.Channel != ChannelWeb && !t.NoReply, Sealed: sealed, SealSide: t.SealSide,
			NewCase: t.Case == "", Reach: t.Reach,
		})
	}
	<-in.sem
	if t.Batch != nil && len(entries) > 0 {
		b, err := t.Batch(tipID, caseRef, d.Agencies)
		if err != nil {
			return Receipt{}, err
		}
		entries[0].Batch = b
	}
	for _, e := range entries {
		if err := in.opt.Publisher.Publish(ctx, e); err != nil {
			return Receipt{}, fmt.Errorf("%w: agency %s: %w", ErrUnavailable, e.Agency, err)
		}
		if b := e.Batch; b != nil && b.Seen != "" {
			// The message was queued already (or is being queued): its
			// retry is answered as the first time was.
			seen, err := queue.ParseSeen(b.Seen)
			if err != nil {
				return Receipt{}, ErrInFlight
			}
			return Receipt{Case: seen.Case, Duplicate: true}, nil
		}
		in.opt.Metrics.TipQueued(t.Channel, e.Agency, e.Priority)
	}
	in.opt.Logger.Info("tip queued", "tip", tipID, "channel", string(t.Channel),
		"priority", string(priority), "agencies", d.Agencies)
	return Receipt{TipID: tipID, Case: caseRef, Agencies: d.Agencies}, nil
}

var tipEnc = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

func encodeTipID(b []byte) string { return tipEnc.EncodeToString(b) }

// caseAlphabet leaves out 0, 1, I and O, which are misread on a small screen.
const caseAlphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"

// encodeCase makes a short reference a reporter can read out: XXXX-XXXX
// (40 bits from 5 bytes).
func encodeCase(b []byte) string {
	var v uint64
	for _, x := range b[:5] {
		v = v<<8 | uint64(x)
	}
	out := make([]byte, 0, 9)
	for i := 0; i < 8; i++ {
		if i == 4 {
			out = append(out, '-')
		}
		out = append(out, caseAlphabet[(v>>(35-5*i))&31])
	}
	return string(out)
}

// WritesBatches reports that Submit writes a tip's batch (Tip.Batch) with
// it.
func (in *Intake) WritesBatches() bool { return true }
