package main

import (
	"log/slog"

	"github.com/hotline-org/hotline/crypto/pseudonym"
	"github.com/hotline-org/hotline/gateway/config"
	"github.com/hotline-org/hotline/gateway/conversation"
	"github.com/hotline-org/hotline/gateway/metrics"
	"github.com/hotline-org/hotline/gateway/twilioapi"
	"github.com/hotline-org/hotline/gateway/voice"
	"github.com/redis/go-redis/v9"
	"golang.org/x/text/language"
)

// voiceChannel wires the voice channel on the SMS channel's store, whose
// scrub queue (run by the SMS channel's scrubber) deletes the recordings
// and calls too.
func voiceChannel(c *config.Config, rdb redis.UniversalClient, keyer *pseudonym.Keyer, intake voice.Intake,
	tw *twilioapi.Client, conv *conversation.Store, m *metrics.Metrics, log *slog.Logger) (*voice.Channel, error) {
	replyKey, err := c.ReplyIdentity()
	if err != nil {
		return nil, err
	}
	numbers := map[string]voice.Number{}
	for e, v := range c.Twilio.ByE164() {
		n := voice.Number{Scrub: v.ScrubOn(), SMSReplies: c.Channel.Voice.SMSReplies && !v.RepliesOff()}
		if v.Language != "" {
			n.Language = language.Make(v.Language)
		}
		numbers[e] = n
	}
	var twilio voice.Twilio
	if tw != nil {
		twilio = tw
	}
	return voice.New(voice.Options{
		Intake: intake, Store: conv, Calls: voice.NewCalls(rdb, c.Redis.Prefix, c.Redis.Timeout, replyKey, keyer),
		Keyer: keyer, Twilio: twilio, Numbers: numbers, PublicURL: c.PublicURL,
		MaxSeconds: c.Channel.Voice.MaxSeconds, MaxBytes: c.Channel.Voice.MaxBytes, AskUrgent: c.Channel.Voice.AskUrgentOn(),
		HandleTTL: c.Retention.Closed, Logger: log,
		// A bucket of its own, under the sender's pseudonym: a caller who
		// also wrote is not refused a download for the texts.
		Caller: hourly(c, rdb, m, "caller", c.Channel.Limits.CallerPerHour), Metrics: smsMetrics{m, metrics.RouteVoice},
	})
}
