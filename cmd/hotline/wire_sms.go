package main

import (
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/hotline-org/hotline/crypto/pseudonym"
	"github.com/hotline-org/hotline/gateway/config"
	"github.com/hotline-org/hotline/gateway/conversation"
	"github.com/hotline-org/hotline/gateway/lang"
	"github.com/hotline-org/hotline/gateway/metrics"
	"github.com/hotline-org/hotline/gateway/ratelimit"
	"github.com/hotline-org/hotline/gateway/reply"
	"github.com/hotline-org/hotline/gateway/sms"
	"github.com/hotline-org/hotline/gateway/twilioapi"
	"github.com/hotline-org/hotline/gateway/urgency"
	"github.com/hotline-org/hotline/queue"
	"github.com/redis/go-redis/v9"
	"golang.org/x/text/language"
)

// hourly is a limiter of n events an hour per key on Redis; its falls
// back to memory are counted.
func hourly(c *config.Config, rdb redis.UniversalClient, m *metrics.Metrics, name string, n int) *ratelimit.Limiter {
	l := ratelimit.New(rdb, c.Redis.Prefix, name, int64(n), time.Hour)
	l.FailedOpen = func() { m.RateLimitFailOpen(name) }
	return l
}

// smsMetrics adapts the gateway's metrics to the small interface of the
// channel of route.
type smsMetrics struct {
	m     *metrics.Metrics
	route metrics.Route
}

func (a smsMetrics) Reply(outcome string) { a.m.Reply(outcome) }
func (a smsMetrics) RateLimited()         { a.m.Rejected(a.route, metrics.RateLimited) }
func (a smsMetrics) ScrubOutcome(o string) {
	switch o {
	case "deleted":
		a.m.ScrubJob(metrics.ScrubDeleted)
	case "retry":
		a.m.ScrubJob(metrics.ScrubRetry)
	case "unreadable":
		a.m.ScrubJob(metrics.ScrubUnreadable)
	default:
		a.m.ScrubJob(metrics.ScrubFailed)
	}
}

// twilioClient builds the REST client, or nil (with the reason logged) when
// the account is not configured: the gateway still takes tips, but does not
// fetch media, scrub Twilio's copies or send officers' replies.
func twilioClient(c *config.Config, log *slog.Logger) *twilioapi.Client {
	if c.Twilio.AccountSID == "" {
		log.Warn("twilio.account_sid not set: media, scrubbing and officer replies are off")
		return nil
	}
	cl, err := twilioapi.New(twilioapi.Options{
		AccountSID: c.Twilio.AccountSID, AuthToken: string(c.Twilio.AuthToken.Value()), APIURL: c.Twilio.APIURL,
		StatusCallback: strings.TrimRight(c.PublicURL, "/") + "/twilio/status",
		MaxMediaBytes:  c.Channel.Media.MaxBytes, MediaTypes: c.Channel.Media.Types,
	})
	if err != nil {
		log.Warn("twilio REST client disabled: media, scrubbing and officer replies are off", "err", err)
		return nil
	}
	return cl
}

// smsChannel wires the SMS and WhatsApp channel.
func smsChannel(c *config.Config, rdb redis.UniversalClient, keyer *pseudonym.Keyer, intake sms.Intake,
	q *queue.Queue, tw *twilioapi.Client, m *metrics.Metrics, log *slog.Logger) (*sms.Channel, *conversation.Store, error) {
	replyKey, err := c.ReplyIdentity()
	if err != nil {
		return nil, nil, err
	}
	store := conversation.NewWith(rdb, c.Redis.Prefix, c.Redis.Timeout, replyKey, c.Crypto.UseFastX25519())
	// A message reads its sender's state, then publishes: one line of
	// batches for both halves the round trips under load (measured with
	// hotline-load: about 3.9 calls a batch instead of 2.8).
	store.ShareBatches(q.Coalescer())
	var langs []language.Tag
	for _, l := range c.Channel.Languages {
		langs = append(langs, language.Make(l))
	}
	detector, err := lang.NewDetector(langs)
	if err != nil {
		return nil, nil, fmt.Errorf("channel.languages: %w", err)
	}
	classifier, err := reply.NewClassifier(c.Channel.ExitWords)
	if err != nil {
		return nil, nil, fmt.Errorf("channel.exit_words: %w", err)
	}
	catalog, err := reply.NewCatalog()
	if err != nil {
		return nil, nil, err
	}
	extra := map[language.Tag][]string{}
	for l, phrases := range c.Channel.Urgency {
		extra[language.Make(l)] = phrases
	}
	matcher, err := urgency.New(urgency.Options{Extra: extra})
	if err != nil {
		return nil, nil, fmt.Errorf("channel.urgency: %w", err)
	}
	numbers := map[string]sms.Number{}
	for e, v := range c.Twilio.ByE164() {
		policy := sms.Number{Scrub: v.ScrubOn(), Reply: reply.Number{Off: v.RepliesOff(), Text: v.AckText()}}
		if v.Language != "" {
			policy.Reply.Default = language.Make(v.Language)
		}
		for l, t := range v.Texts {
			if policy.Reply.Texts == nil {
				policy.Reply.Texts = map[language.Tag]string{}
			}
			policy.Reply.Texts[language.Make(l)] = t
		}
		numbers[e] = policy
	}
	limiter := func(name string, n int) *ratelimit.Limiter { return hourly(c, rdb, m, name, n) }
	var twilio sms.Twilio
	if tw != nil {
		twilio = tw
	}
	ch := sms.New(sms.Options{
		Intake: intake, Store: store, Keyer: keyer, Detector: detector, Classifier: classifier,
		Catalog: catalog, Urgency: matcher, Twilio: twilio, Audit: q, Numbers: numbers,
		ThreadWindow: c.Channel.ThreadWindow, ReplyWindow: c.Channel.ReplyWindow, HandleTTL: c.Retention.Closed,
		MaxMedia:         c.Channel.Media.MaxItems,
		Sender:           limiter("sender", c.Channel.Limits.SenderPerHour),
		ReplyDestination: limiter("reply_destination", c.Channel.Limits.RepliesPerDestination),
		ReplyNumber:      limiter("reply_number", c.Channel.Limits.RepliesPerHotlineNumber),
		Metrics:          smsMetrics{m, metrics.RouteMessaging}, Logger: log,
	})
	return ch, store, nil
}
