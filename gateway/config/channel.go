package config

import (
	"fmt"
	"strings"
	"time"

	"github.com/hotline-org/hotline/crypto/pseudonym"
	"github.com/hotline-org/hotline/crypto/seal"
	"github.com/hotline-org/hotline/gateway/urgency"
	"golang.org/x/text/language"
)

// Defaults of the SMS and WhatsApp channel, chosen for victims.
const (
	// DefaultThreadWindow: messages from one sender within 30 minutes of
	// the last join one case.
	DefaultThreadWindow = 30 * time.Minute
	// DefaultReplyWindow: an officer may reply only within 15 minutes of
	// the sender's last message, when the phone is likely still in the
	// reporter's hands; later needs an override reason, which is audited.
	DefaultReplyWindow = 15 * time.Minute
	// Rate limits no real reporter would hit.
	DefaultSenderPerHour = 60
	// DefaultCallerPerHour: calls from one caller an hour whose recordings
	// are fetched. Twenty is a call every three minutes for an hour, more
	// than a caller cut off again and again makes; past it calls are still
	// recorded and queued, the recordings left at Twilio.
	DefaultCallerPerHour      = 20
	DefaultRepliesPerDestHour = 10
	DefaultRepliesPerNumHour  = 300
	DefaultMediaMaxItems      = 5
	DefaultMediaMaxBytes      = 5 << 20
)

// Channel configures the SMS and WhatsApp channel.
type Channel struct {
	ThreadWindow time.Duration `yaml:"thread_window" json:"thread_window"`
	ReplyWindow  time.Duration `yaml:"reply_window" json:"reply_window"`
	// Languages restrict language detection (BCP 47); empty means the
	// eight the replies speak.
	Languages []string `yaml:"languages" json:"languages,omitempty"`
	// ExitWords are added to the built-in ones (EXIT, SALIR, KELUAR, ...).
	ExitWords []string `yaml:"exit_words" json:"exit_words,omitempty"`
	// Urgency adds phrases that mark a tip urgent, by language.
	Urgency map[string][]string `yaml:"urgency" json:"urgency,omitempty"`
	Media   Media               `yaml:"media" json:"media"`
	Limits  ChannelLimits       `yaml:"limits" json:"limits"`
	Voice   Voice               `yaml:"voice" json:"voice"`
}

// Defaults of the voice channel.
const (
	// DefaultVoiceMaxSeconds: five minutes is long enough to say where and
	// what, short enough for a phone that must be put away.
	DefaultVoiceMaxSeconds = 300
	// DefaultVoiceMaxBytes bounds a recording's download: Twilio's MP3 of
	// a call is about 4 kB a second (1.2 MB for five minutes), so the cap
	// is reached only by a recording far longer than max_seconds allows.
	DefaultVoiceMaxBytes = 10 << 20
	// MaxVoiceBytes keeps a sealed tip (the recording in base64, about
	// 4/3 of it) under what officers' clients open (crypto/seal's 64 MiB).
	MaxVoiceBytes = 40 << 20
	// MaxVoiceSeconds is Twilio's own limit on a <Record> (4 hours), far
	// above any sensible setting.
	MaxVoiceSeconds = 4 * 3600
)

// Voice configures the voice channel (POST /twilio/voice): calls to the
// hotline's numbers are recorded and queued as tips.
type Voice struct {
	// MaxSeconds is the longest recording (the <Record> maxLength).
	MaxSeconds int `yaml:"max_seconds" json:"max_seconds"`
	// MaxBytes bounds the download of one recording.
	MaxBytes int64 `yaml:"max_bytes" json:"max_bytes"`
	// AskUrgent offers "press 9 if someone is in danger now" before the
	// recording (default on).
	AskUrgent *bool `yaml:"ask_urgent" json:"ask_urgent,omitempty"`
	// SMSReplies lets officers reply by SMS, from the number called, to a
	// caller with a phone number, unless the number's replies are none.
	// Off by default: a caller chose not to write, and a text may be read
	// by whoever holds the phone.
	SMSReplies bool `yaml:"sms_replies" json:"sms_replies,omitempty"`
}

// AskUrgentOn reports whether callers are offered the urgent key.
func (v Voice) AskUrgentOn() bool { return v.AskUrgent == nil || *v.AskUrgent }

// Media bounds the attachments fetched from Twilio and sealed into a tip.
type Media struct {
	MaxItems int      `yaml:"max_items" json:"max_items"`
	MaxBytes int64    `yaml:"max_bytes" json:"max_bytes"`
	Types    []string `yaml:"types" json:"types,omitempty"`
}

// ChannelLimits are per hour. Over a limit a message gets no reply and is
// counted, never a 5xx.
type ChannelLimits struct {
	SenderPerHour int `yaml:"sender_per_hour" json:"sender_per_hour"`
	// CallerPerHour limits voice calls per caller (the same pseudonym as
	// the sender limit, a bucket of its own): over it a call is still
	// answered and queued, its recording not fetched.
	CallerPerHour           int `yaml:"caller_per_hour" json:"caller_per_hour"`
	RepliesPerDestination   int `yaml:"replies_per_destination" json:"replies_per_destination"`
	RepliesPerHotlineNumber int `yaml:"replies_per_hotline_number" json:"replies_per_hotline_number"`
}

func (c *Config) applyChannelDefaults() {
	ch := &c.Channel
	orDefault(&ch.ThreadWindow, DefaultThreadWindow)
	orDefault(&ch.ReplyWindow, DefaultReplyWindow)
	orDefault(&ch.Media.MaxItems, DefaultMediaMaxItems)
	orDefault(&ch.Media.MaxBytes, DefaultMediaMaxBytes)
	orDefault(&ch.Limits.SenderPerHour, DefaultSenderPerHour)
	orDefault(&ch.Limits.CallerPerHour, DefaultCallerPerHour)
	orDefault(&ch.Limits.RepliesPerDestination, DefaultRepliesPerDestHour)
	orDefault(&ch.Limits.RepliesPerHotlineNumber, DefaultRepliesPerNumHour)
	orDefault(&ch.Voice.MaxSeconds, DefaultVoiceMaxSeconds)
	orDefault(&ch.Voice.MaxBytes, DefaultVoiceMaxBytes)
}

// ScrubOn reports whether messages to number n are redacted at Twilio.
func (n Number) ScrubOn() bool { return n.Scrub == nil || *n.Scrub }

// RepliesNone, as a number's reply or replies, turns its automatic
// replies off.
const RepliesNone = "none"

// RepliesOff reports whether number n sends no automatic reply.
func (n Number) RepliesOff() bool { return n.Replies == RepliesNone || n.Reply == RepliesNone }

// AckText is the number's own acknowledgement: "" for the built-in
// neutral one, and when its replies are off.
func (n Number) AckText() string {
	if n.Reply == RepliesNone {
		return ""
	}
	return n.Reply
}

// ByE164 lists the hotline's numbers by their E.164 form: a number written
// whatsapp:+... is the same number, and Twilio's whatsapp: addresses find
// it once the prefix is cut. A number not in E.164 form is left out
// (Validate reports it).
func (t Twilio) ByE164() map[string]Number {
	out := make(map[string]Number, len(t.Numbers))
	for num, n := range t.Numbers {
		if e, err := pseudonym.NormalizeE164(num); err == nil {
			out[e] = n
		}
	}
	return out
}

// NumberRegions maps the hotline's numbers (E.164) that have a default
// region to it.
func (t Twilio) NumberRegions() map[string]string {
	out := map[string]string{}
	for e, n := range t.ByE164() {
		if n.Region != "" {
			out[e] = n.Region
		}
	}
	return out
}

func (c *Config) validateChannel(add, warn func(string, string, string)) {
	ch := c.Channel
	if ch.ThreadWindow < time.Minute || ch.ThreadWindow > 7*24*time.Hour {
		add("channel.thread_window", "must be between 1m and 168h", "leave it unset for 30m")
	}
	if ch.ReplyWindow < time.Minute || ch.ReplyWindow > 24*time.Hour {
		add("channel.reply_window", "must be between 1m and 24h", "leave it unset for 15m")
	}
	for _, l := range ch.Languages {
		if _, err := language.Parse(l); err != nil {
			add("channel.languages", fmt.Sprintf("%q is not a language tag", l), "use BCP 47 tags such as en, es, ms, zh-Hans")
		}
	}
	for l, phrases := range ch.Urgency {
		if _, err := language.Parse(l); err != nil {
			add("channel.urgency", fmt.Sprintf("%q is not a language tag", l), "key the phrases by a BCP 47 tag such as es")
		}
		for i, p := range phrases {
			if err := urgency.ValidatePhrase(p); err != nil { // the error never quotes the phrase
				add("channel.urgency", fmt.Sprintf("phrase %d of %s: %v", i+1, l, err),
					"see the syntax in gateway/urgency/phrases/README.md, e.g. \"[confinement] nos tienen encerrados\"")
			}
		}
	}
	if ch.Media.MaxItems < 0 || ch.Media.MaxItems > 10 || ch.Media.MaxBytes < 0 || ch.Media.MaxBytes > 20<<20 {
		add("channel.media", "max_items must be 0 to 10 and max_bytes at most 20 MiB", "leave them unset for 5 items of 5 MiB")
	}
	if ch.Voice.MaxSeconds < 10 || ch.Voice.MaxSeconds > MaxVoiceSeconds {
		add("channel.voice.max_seconds", fmt.Sprintf("must be between 10 and %d", MaxVoiceSeconds), "leave it unset for 300 (five minutes)")
	}
	if ch.Voice.MaxBytes < 1<<20 || ch.Voice.MaxBytes > MaxVoiceBytes {
		add("channel.voice.max_bytes", "must be between 1 MiB and 40 MiB", "leave it unset for 10 MiB")
	}
	for _, l := range []struct {
		key string
		v   int
	}{{"sender_per_hour", ch.Limits.SenderPerHour}, {"caller_per_hour", ch.Limits.CallerPerHour},
		{"replies_per_destination", ch.Limits.RepliesPerDestination}, {"replies_per_hotline_number", ch.Limits.RepliesPerHotlineNumber}} {
		if l.v < 1 {
			add("channel.limits."+l.key, "must be positive", "leave it unset for the default")
		}
	}
	for num, n := range c.Twilio.Numbers {
		field := "twilio.numbers." + num
		switch n.Replies {
		case "", "auto", RepliesNone:
		default:
			add(field+".replies", fmt.Sprintf("unknown value %q", n.Replies), "use auto or none")
		}
		if n.Language != "" {
			if _, err := language.Parse(n.Language); err != nil {
				add(field+".language", "not a language tag", "use a BCP 47 tag such as es or ms")
			}
		}
		for l, text := range n.Texts {
			if _, err := language.Parse(l); err != nil {
				add(field+".texts", fmt.Sprintf("%q is not a language tag", l), "key the texts by a BCP 47 tag such as es")
			}
			if !strings.Contains(text, "{case}") {
				warn(field+".texts."+l, "has no {case}: the reporter gets no reference", "include {case} in the text")
			}
		}
		if t := strings.ToLower(n.Reply + " " + strings.Join(mapValues(n.Texts), " ")); strings.Contains(t, "police") || strings.Contains(t, "trafficking") || strings.Contains(t, "polic") || strings.Contains(t, "trata") {
			warn(field, "the reply names the police or trafficking: whoever holds the phone may read it", "keep replies neutral unless you are sure")
		}
	}
	if k := c.Secrets.ReplyKey.Value(); len(k) == 0 {
		warn("secrets.reply_key", "missing: officers cannot reply by SMS or WhatsApp, Twilio copies (messages, recordings, calls) are not scrubbed, and voice tips do not carry the caller's number",
			"run `hotline keygen --x25519 --out reply.key` on the gateway host and set secrets.reply_key: file:reply.key")
	} else if _, err := seal.ParseReplyKey(k); err != nil {
		add("secrets.reply_key", "not an X25519 age identity (AGE-SECRET-KEY-1...)", "generate it with `hotline keygen --x25519 --out reply.key`")
	}
}

func mapValues(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// ReplyIdentity parses the gateway's reply key; nil when none is set.
func (c *Config) ReplyIdentity() (*seal.ReplyKey, error) {
	k := c.Secrets.ReplyKey.Value()
	if len(k) == 0 {
		return nil, nil
	}
	key, err := seal.ParseReplyKey(k)
	if err != nil {
		return nil, fmt.Errorf("secrets.reply_key: %w", err)
	}
	return key, nil
}
