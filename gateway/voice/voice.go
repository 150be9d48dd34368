// Package voice is the voice channel: a call to one of the hotline's
// numbers is answered with a short neutral greeting in the caller's
// language, an optional keypad choice that marks the call urgent, and a
// recording; the recording is fetched from Twilio, sealed into a tip as an
// audio item, and Twilio's copies (the recording, then the call's record)
// are deleted once the tip is durable.
//
// It is built for a caller who may not be able to type, or may be
// overheard: what the line says names no subject and no reader; the
// caller's number and choices are never in clear outside the sealed tip (a
// short-lived call record sealed to the gateway's reply key, keyed by a
// pseudonym of the CallSid, carries them from the first webhook to the
// recording callback); the recording is fetched only from Twilio's API host
// with the account's credentials, and only within the size and length
// limits. A caller over the hourly call limit (Options.Caller, under the
// caller's sender pseudonym) is answered, recorded and queued all the
// same, but the recording is left at Twilio unfetched, as SMS media over
// the sender limit is: a flood from one number stays cheap, and no caller
// is ever silenced. The channel never calls a caller back, and texts one
// only where the operator allows it (channel.voice.sms_replies).
package voice

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hotline-org/hotline/crypto/pseudonym"
	"github.com/hotline-org/hotline/gateway"
	"github.com/hotline-org/hotline/gateway/conversation"
	"github.com/hotline-org/hotline/gateway/fault"
	"github.com/hotline-org/hotline/gateway/i18n"
	"github.com/hotline-org/hotline/gateway/lang"
	"github.com/hotline-org/hotline/gateway/twilioapi"
	"github.com/twilio/twilio-go/twiml"
	"golang.org/x/text/language"
)

// Defaults, with their reasons.
const (
	// DefaultMaxSeconds is the longest recording: five minutes.
	DefaultMaxSeconds = 300
	// DefaultMaxBytes bounds a recording's download (see config).
	DefaultMaxBytes = 10 << 20
	// GatherTimeout is how long the line waits for the urgent key, in
	// seconds: a caller who does not press it is recorded soon after.
	GatherTimeout = 4
	// UrgentDigit is the key that marks a call urgent.
	UrgentDigit = "9"
	// recordMargin is how long past the recording's maximum length a call
	// record is kept: Twilio posts the recording callback within seconds
	// of the end, and retries for a while.
	recordMargin = time.Hour
	// durationSlack is how far a recording may run over MaxSeconds
	// (Twilio's rounding) before it is not fetched.
	durationSlack = 5
)

// Routes the channel names in its TwiML. They are the handlers' routes;
// step is a query parameter of /twilio/voice.
const (
	PathVoice     = "/twilio/voice"
	PathRecording = "/twilio/voice/recording"
	StepChoice    = "choice"
	StepDone      = "done"
	// QueryLimited=1 marks the webhooks of a call over its caller's limit.
	QueryLimited = "limited"
)

// Intake queues a tip.
type Intake interface {
	Submit(ctx context.Context, t gateway.Tip) (gateway.Receipt, error)
}

// Deduper can tell a retry of a recording already queued before any work
// is done on it (gateway.Intake.Seen).
type Deduper interface {
	Seen(ctx context.Context, providerID string) (gateway.Receipt, error)
}

// Limiter allows an event for a key, or not (gateway/ratelimit's does,
// falling back to memory when Redis fails).
type Limiter interface {
	Allow(ctx context.Context, key string) bool
}

// Metrics counts what the channel does; nil counts nothing.
type Metrics interface {
	// RateLimited counts a call over its caller's limit.
	RateLimited()
}

// Twilio is the provider's REST side; nil when not configured.
type Twilio interface {
	ParseRecordingURL(raw string) (string, error)
	FetchRecording(ctx context.Context, recordingURL string, maxBytes int64) ([]byte, string, error)
}

// Number is the voice policy of one of the hotline's numbers.
type Number struct {
	// Language is what the line speaks; Und: from the caller's calling
	// code, else English.
	Language language.Tag
	// Scrub deletes the recording and the call at Twilio once the tip is
	// durable.
	Scrub bool
	// SMSReplies keeps a reply handle, so that officers may answer a
	// caller with a phone number by SMS from this number.
	SMSReplies bool
}

// Options configures the channel.
type Options struct {
	Intake Intake
	// Store holds the scrub queue and seals side records for the spool;
	// nil, or without a reply key: nothing is deleted at Twilio.
	Store  *conversation.Store
	Calls  *Calls
	Keyer  *pseudonym.Keyer
	Twilio Twilio // nil: recordings are not fetched
	// Numbers are the hotline's numbers by E.164.
	Numbers map[string]Number
	// PublicURL is the base URL Twilio calls (config public_url).
	PublicURL string
	// MaxSeconds is the longest recording; MaxBytes bounds its download.
	MaxSeconds int
	MaxBytes   int64
	// AskUrgent offers the urgent key before the recording.
	AskUrgent bool
	// HandleTTL is how long a reply handle lives at most (numbers with
	// SMSReplies only).
	HandleTTL time.Duration
	// Caller limits calls per caller, keyed by the caller's sender
	// pseudonym (Keyer.Sender, as the SMS sender limit): over it a call is
	// still answered, recorded and queued, but its recording is not
	// fetched (it stays at Twilio). nil: no limit.
	Caller  Limiter
	Metrics Metrics
	Logger  *slog.Logger
	Now     func() time.Time
}

// Channel is the voice channel.
type Channel struct {
	opt   Options
	texts *i18n.Catalog
}

// New returns a channel. It fails only if the built-in texts are broken.
func New(opt Options) (*Channel, error) {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.MaxSeconds <= 0 {
		opt.MaxSeconds = DefaultMaxSeconds
	}
	if opt.MaxBytes <= 0 {
		opt.MaxBytes = DefaultMaxBytes
	}
	opt.PublicURL = strings.TrimRight(opt.PublicURL, "/")
	texts, err := i18n.New()
	if err != nil {
		return nil, fmt.Errorf("failed to load voice texts: %w", err)
	}
	return &Channel{opt: opt, texts: texts}, nil
}

// Call is a voice webhook's call, as Twilio gives it. It prints as
// [redacted].
type Call struct {
	SID      string
	From, To string
	// Limited: the webhook's URL says the first webhook found the caller
	// over the limit (the URL is the channel's own, covered by Twilio's
	// signature).
	Limited bool
}

// LogValue keeps a call out of logs.
func (Call) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// Recording is a recording status callback. It prints as [redacted].
type Recording struct {
	CallSID, SID string
	URL          string
	DurationS    int
	Status       string
	// Urgent: the callback URL says the caller pressed the urgent key
	// (the URL is the channel's own, covered by Twilio's signature).
	Urgent bool
	// Limited: the callback URL says the caller was over the limit.
	Limited bool
}

// LogValue keeps a recording out of logs.
func (Recording) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// sayLanguages are the <Say> language codes of the catalog's languages.
// Which voice reads them is set per language in Twilio's console.
var sayLanguages = map[language.Tag]string{
	language.English: "en-US", language.Spanish: "es-MX", language.Malay: "ms-MY",
	language.SimplifiedChinese: "cmn-CN", language.Indonesian: "id-ID", language.Filipino: "fil-PH",
	language.Thai: "th-TH", language.Vietnamese: "vi-VN",
}

// language is what the line speaks to a caller of number to: the number's
// language, else the first language the caller's calling code suggests
// that the catalog speaks, else English.
func (c *Channel) language(from, to string) *i18n.Localizer {
	if n, ok := c.opt.Numbers[normal(to)]; ok && n.Language != language.Und {
		return c.texts.Localizer(n.Language)
	}
	return c.texts.Localizer(c.texts.Negotiate(lang.CallingCodeHint(normal(from))...))
}

func normal(n string) string {
	if e, err := pseudonym.NormalizeE164(n); err == nil {
		return e
	}
	return n
}

func (c *Channel) say(l *i18n.Localizer, id string) twiml.Element {
	text, err := l.Message(id, nil)
	if err != nil {
		// i18n.New checked every message in every language.
		text, _ = c.texts.Localizer(language.English).Message(id, nil)
	}
	return &twiml.VoiceSay{Message: text, Language: sayLanguages[l.Tag()]}
}

// Answer is the first webhook of a call: it counts the call against its
// caller's limit, keeps the call record and answers with the greeting,
// then the urgent choice or the recording. Without a call record the call
// is still recorded: what the caller says matters more than their number.
// A caller over the limit hears the same and is recorded all the same:
// only the download of the recording is skipped, and the URLs of the
// following webhooks say so.
func (c *Channel) Answer(ctx context.Context, call Call) (string, error) {
	l := c.language(call.From, call.To)
	limited := c.begin(ctx, call, l)
	if !c.opt.AskUrgent {
		return c.record(l, false, limited, c.say(l, "VoiceGreeting"))
	}
	next := c.opt.PublicURL + PathVoice + "?step=" + StepChoice
	if limited {
		next += "&" + QueryLimited + "=1"
	}
	return twiml.Voice([]twiml.Element{
		&twiml.VoiceGather{
			Input: "dtmf", NumDigits: "1", Timeout: strconv.Itoa(GatherTimeout), Action: next, Method: "POST",
			InnerElements: []twiml.Element{c.say(l, "VoiceGreeting"), c.say(l, "VoiceUrgent")},
		},
		// No key pressed: Twilio goes on to the next verb.
		&twiml.VoiceRedirect{Url: next, Method: "POST"},
	})
}

// begin counts the call against its caller's limit and keeps its record,
// once per call: a first webhook that Twilio sends again (or to its
// fallback URL) finds the record and keeps what it says, uncounted. It
// reports whether the caller is over the limit.
func (c *Channel) begin(ctx context.Context, call Call, l *i18n.Localizer) bool {
	if c.opt.Calls != nil {
		if rec, err := c.opt.Calls.Get(ctx, call.SID); err == nil {
			return rec.Limited
		}
	}
	// The caller's pseudonym, never the number; a withheld number is one
	// caller as Twilio names it.
	limited := c.opt.Caller != nil && !c.opt.Caller.Allow(ctx, c.opt.Keyer.Sender(call.From))
	if limited && c.opt.Metrics != nil {
		c.opt.Metrics.RateLimited()
	}
	rec := CallRecord{From: call.From, To: call.To, Language: l.Tag().String(), Limited: limited, At: c.opt.Now().UTC()}
	ttl := time.Duration(c.opt.MaxSeconds)*time.Second + recordMargin
	if c.opt.Calls != nil {
		if err := c.opt.Calls.Save(ctx, call.SID, rec, ttl); err != nil {
			c.opt.Logger.Warn("call record not kept: the tip will not carry the caller's number", "err", err)
		}
	}
	return limited
}

// Choice takes the keypad choice (digits "" when none was pressed) and
// answers with the recording.
func (c *Channel) Choice(ctx context.Context, call Call, digits string) (string, error) {
	l := c.language(call.From, call.To)
	urgent := digits == UrgentDigit
	if urgent && c.opt.Calls != nil {
		if err := c.opt.Calls.MarkUrgent(ctx, call.SID); err != nil && !errors.Is(err, ErrNoKey) {
			// The recording callback's URL carries the choice too.
			c.opt.Logger.Warn("urgent choice not kept on the call record", "err", err)
		}
	}
	return c.record(l, urgent, call.Limited)
}

// record answers with before, then the <Record>, then the goodbye (which
// Twilio reaches when the recording is empty; otherwise it posts to the
// action, which says it).
func (c *Channel) record(l *i18n.Localizer, urgent, limited bool, before ...twiml.Element) (string, error) {
	var q []string
	if urgent {
		q = append(q, "urgent=1")
	}
	if limited {
		q = append(q, QueryLimited+"=1")
	}
	callback := c.opt.PublicURL + PathRecording
	if len(q) > 0 {
		callback += "?" + strings.Join(q, "&")
	}
	verbs := append(before,
		&twiml.VoiceRecord{
			Action: c.opt.PublicURL + PathVoice + "?step=" + StepDone, Method: "POST",
			MaxLength: strconv.Itoa(c.opt.MaxSeconds), PlayBeep: "true", Timeout: "10", Trim: "trim-silence",
			Transcribe:              "false",
			RecordingStatusCallback: callback, RecordingStatusCallbackMethod: "POST", RecordingStatusCallbackEvent: "completed",
		},
		c.say(l, "VoiceGoodbye"), &twiml.VoiceHangup{})
	return twiml.Voice(verbs)
}

// Goodbye ends the call after the recording.
func (c *Channel) Goodbye(ctx context.Context, call Call) (string, error) {
	l := c.language(call.From, call.To)
	return twiml.Voice([]twiml.Element{c.say(l, "VoiceGoodbye"), &twiml.VoiceHangup{}})
}

// Outcome says what became of a recording callback.
type Outcome int

// Outcomes.
const (
	Queued      Outcome = iota // queued as a tip
	Duplicate                  // a retry of a recording already queued
	Ignored                    // not a completed recording: nothing to queue
	RateLimited                // queued, the recording left at Twilio: the caller was over the limit
)

// NotFetchedLimited is the audio item's error of a call over its caller's
// limit.
const NotFetchedLimited = "not fetched: the caller is over channel.limits.caller_per_hour"

// ErrRecordingURL: the callback names a recording that is not one of this
// account on Twilio's API host, or not the one its RecordingSid names.
// Nothing was fetched.
var ErrRecordingURL = fault.New(fault.Invalid, "not a recording of this account")

// Recording takes a recording status callback: it fetches the recording,
// seals it into a tip with what the call record says, and queues it. It
// returns an error only when the tip could not be made durable (the
// webhook then answers 5xx), or for a recording URL it will not fetch.
func (c *Channel) Recording(ctx context.Context, r Recording) (Outcome, error) {
	if r.Status != "completed" {
		return Ignored, nil
	}
	if d, ok := c.opt.Intake.(Deduper); ok {
		seen, err := d.Seen(ctx, r.SID)
		if err != nil {
			return 0, err
		}
		if seen.Duplicate {
			return Duplicate, nil
		}
	}
	if c.opt.Twilio != nil {
		if sid, err := c.opt.Twilio.ParseRecordingURL(r.URL); err != nil || sid != r.SID {
			return 0, ErrRecordingURL
		}
	}
	now := c.opt.Now()
	rec, recErr := CallRecord{}, ErrNoCall
	if c.opt.Calls != nil {
		rec, recErr = c.opt.Calls.Get(ctx, r.CallSID)
	}
	if recErr != nil {
		c.opt.Logger.Warn("call record unavailable: the tip goes without the caller's number", "err", recErr)
		rec = CallRecord{At: now.UTC()}
	}
	item := gateway.Media{URL: r.URL, DurationS: r.DurationS}
	fetched, limited := false, r.Limited || rec.Limited
	switch {
	case c.opt.Twilio == nil:
		item.Error = "not fetched: Twilio REST is not configured"
	case limited:
		// As SMS media over the sender limit: the recording stays at
		// Twilio, where an officer can still hear it.
		item.Error = NotFetchedLimited
	case r.DurationS > c.opt.MaxSeconds+durationSlack:
		item.Error = "not fetched: longer than channel.voice.max_seconds"
	default:
		data, ctype, err := c.opt.Twilio.FetchRecording(ctx, r.URL, c.opt.MaxBytes)
		if err != nil {
			item.Error = "not fetched: " + fetchError(err)
			c.opt.Logger.Warn("recording not fetched: it stays at Twilio", "err", err)
			break
		}
		item.Data, item.ContentType, fetched = data, ctype, true
	}
	tip := gateway.Tip{
		Channel: gateway.ChannelVoice, ProviderID: r.SID, From: rec.From, To: rec.To, Language: rec.Language,
		Urgent: rec.Urgent || r.Urgent, Media: []gateway.Media{item}, ReceivedAt: rec.At,
	}
	if tip.ReceivedAt.IsZero() {
		tip.ReceivedAt = now
	}
	var job *twilioapi.ScrubJob
	num, known := c.opt.Numbers[normal(rec.To)]
	scrubOn := !known || num.Scrub
	keeps := c.opt.Store != nil && c.opt.Store.CanReply()
	if fetched && scrubOn && keeps {
		// Only what was fetched is deleted: a recording the gateway could
		// not fetch stays at Twilio for an operator to recover.
		job = &twilioapi.ScrubJob{RecordingSIDs: []string{r.SID}, CallSID: r.CallSID}
	}
	var handle *conversation.Handle
	if e164, err := pseudonym.NormalizeE164(rec.From); err == nil && known && num.SMSReplies && keeps && c.opt.HandleTTL > 0 {
		handle = &conversation.Handle{From: e164, To: normal(rec.To), Channel: string(gateway.ChannelSMS), Sender: c.opt.Keyer.Sender(e164)}
	}
	tip.NoReply = handle == nil
	scrubDue := now.Add(twilioapi.ScrubSchedule.Delay(0))
	if job != nil || handle != nil {
		sender := c.opt.Keyer.Of(domainCall, r.CallSID)
		if rec.From != "" {
			sender = c.opt.Keyer.Sender(rec.From)
		}
		// Sealed once, and only if a copy of the tip goes to the spool. No
		// thread: the scrub job and the reply handle, if any, ride along.
		tip.SealSide = sync.OnceValues(func() ([]byte, error) {
			return c.opt.Store.SealSide(conversation.Side{Sender: sender, Last: now, Handle: handle, HandleTTL: c.opt.HandleTTL,
				Scrub: job, ScrubDue: scrubDue})
		})
	}
	rcpt, err := c.opt.Intake.Submit(ctx, tip)
	clear(item.Data)
	if err != nil {
		return 0, err
	}
	if rcpt.Duplicate {
		return Duplicate, nil
	}
	// The tip is durable: what follows only helps; a failure is logged.
	if handle != nil {
		for _, a := range rcpt.Agencies {
			if err := c.opt.Store.SaveHandle(ctx, a, rcpt.Case, *handle, now, c.opt.HandleTTL); err != nil {
				c.opt.Logger.Warn("reply handle not saved", "case", rcpt.Case, "agency", a, "err", err)
			}
		}
	}
	if job != nil {
		if err := c.opt.Store.Scrubs().EnqueueOnce(ctx, rcpt.TipID, *job, scrubDue); err != nil {
			c.opt.Logger.Warn("scrub job not queued", "case", rcpt.Case, "err", err)
		}
	}
	if recErr == nil {
		if err := c.opt.Calls.Delete(ctx, r.CallSID); err != nil {
			c.opt.Logger.Warn("call record not deleted: it expires on its own", "case", rcpt.Case, "err", err)
		}
	}
	if limited {
		return RateLimited, nil
	}
	return Queued, nil
}

func fetchError(err error) string {
	switch {
	case errors.Is(err, twilioapi.ErrMediaTooLarge):
		return "larger than channel.voice.max_bytes"
	case errors.Is(err, twilioapi.ErrMediaType):
		return "type not allowed"
	default:
		return "download failed"
	}
}
