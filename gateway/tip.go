package gateway

import (
	"log/slog"
	"time"

	"github.com/hotline-org/hotline/gateway/geo"
	"github.com/hotline-org/hotline/queue"
)

// Channel is how a tip arrived.
type Channel string

// Channels.
const (
	ChannelSMS      Channel = "sms"
	ChannelWhatsApp Channel = "whatsapp"
	ChannelWeb      Channel = "web"
	// ChannelVoice is a call to one of the hotline's numbers: the tip is
	// its recording (gateway/voice).
	ChannelVoice Channel = "voice"
)

// Tip is a report as received, in clear, before sealing. It lives only in
// memory for the moment of intake; it prints as [redacted] everywhere.
type Tip struct {
	Channel    Channel
	ProviderID string // Twilio's MessageSid: used, keyed, for deduplication
	From       string // the sender's address as given (phone number, whatsapp:+...)
	To         string // the hotline number it was sent to
	Text       string
	// NumberGeography is what Twilio says about the sender's number
	// (FromCity, FromCountry, ...). It describes the phone, not the person,
	// and is never used for routing.
	NumberGeography map[string]string
	ProfileName     string    // WhatsApp display name
	Hints           geo.Hints // a WhatsApp pin or the form's coordinates
	Urgent          bool      // the reporter said so (web form checkbox)
	Contact         string    // web form: how the witness may be reached
	Media           []Media   // attachments (MMS, WhatsApp)
	Language        string
	ReceivedAt      time.Time
	// Case, when set, files the tip under an existing case reference (a
	// witness's answer on /followup) instead of a new one.
	Case string
	// Agencies, when set, routes the tip to these agencies instead of by
	// location: the answer of a follow-up goes to those working the case.
	Agencies []string
	// ThreadAgencies are the agencies that received the earlier messages of
	// the sender's thread: a follow-up message with no location of its own
	// goes to them rather than to the number's region or the default.
	ThreadAgencies []string
	// Seq is the message's place in its thread (1 for the first).
	Seq int
	// Kind is what the message asked of the gateway besides being a tip:
	// "exit" (close the thread), "opt_in", "help"; empty for a plain message.
	Kind string
	// SealSide seals the channel's side record to the gateway's own key. It
	// goes with every queued copy (queue.Entry.SealSide) and is called only
	// for a copy that goes to the spool, so that a spooled tip still gets
	// its reply handle and scrub job; a tip Redis takes pays no seal for it.
	// Never in the report.
	SealSide func() ([]byte, error)
	// Batch, if set, makes what the channel writes to Redis with the tip
	// (queue.Batch), once its ids and agencies are known; it carries the
	// message's dedupe mark as a guard, and Submit then neither begins nor
	// finishes deduplication itself. The batch goes with the first
	// agency's copy. Never in the report.
	Batch func(tipID, caseRef string, agencies []string) (*queue.Batch, error)
	// Reach, sealed by the channel to the gateway's own key, goes with
	// every queued copy into its clear metadata (queue.Entry.Reach). Never
	// in the report.
	Reach []byte
	// UrgentPhrase is the phrase that made the tip urgent; sealed only.
	UrgentPhrase string
	// Followup is the handle of the witness's follow-up thread
	// (gateway/followup), sealed into the report so officers can ask.
	Followup string
	// NoReply: officers cannot reply to this tip's reporter (a call to a
	// number whose voice callers get no SMS replies).
	NoReply bool
}

// LogValue keeps every field of a tip out of logs.
func (Tip) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// String keeps every field of a tip out of formatted output.
func (Tip) String() string { return "[redacted]" }

// Report is the sealed document an officer opens. Everything that could
// identify or locate a person is here and nowhere else.
type Report struct {
	Version         int               `json:"v"`
	TipID           string            `json:"tip"`
	Case            string            `json:"case"`
	Channel         Channel           `json:"channel"`
	ReceivedAt      time.Time         `json:"received_at"`
	Text            string            `json:"text"`
	From            string            `json:"from,omitempty"`
	To              string            `json:"to,omitempty"`
	ProfileName     string            `json:"profile_name,omitempty"`
	Contact         string            `json:"contact,omitempty"`
	Language        string            `json:"language,omitempty"`
	Urgent          bool              `json:"urgent,omitempty"`
	NumberGeography map[string]string `json:"number_geography,omitempty"`
	Media           []Media           `json:"media,omitempty"`
	Location        *ReportLocation   `json:"location,omitempty"`
	Routing         Routing           `json:"routing"`
	Followup        string            `json:"followup,omitempty"` // handle for followup.Store.PostQuestion
	Seq             int               `json:"seq,omitempty"`
	Kind            string            `json:"kind,omitempty"`
	UrgentPhrase    string            `json:"urgent_phrase,omitempty"`
}

// Media is an attachment. URL is the provider's link (it needs the
// account's credentials); Data holds the content once fetched.
type Media struct {
	URL         string `json:"url,omitempty"`
	ContentType string `json:"content_type,omitempty"`
	Data        []byte `json:"data,omitempty"`
	// Error says why Data is missing (too large, type refused, not
	// reachable); the item then stays at the provider for the officer.
	Error string `json:"error,omitempty"`
	// DurationS is the length of a recording in seconds, as the provider
	// gives it (voice).
	DurationS int `json:"duration_s,omitempty"`
}

// ReportLocation is where the tip says the people are.
type ReportLocation struct {
	Lat    float64    `json:"lat,omitempty"`
	Lon    float64    `json:"lon,omitempty"`
	Source geo.Source `json:"source"`
	Match  string     `json:"match,omitempty"`
	Region string     `json:"region,omitempty"`
	// RadiusM is how far from the point the place may extend (a named
	// place or a coarse code), in metres; 0 for a precise point.
	RadiusM float64 `json:"radius_m,omitempty"`
	// Candidates are the places an ambiguous name could mean.
	Candidates []string `json:"candidates,omitempty"`
}

// Routing explains why the tip went where it went.
type Routing struct {
	Reason   string   `json:"reason"`
	Regions  []string `json:"regions,omitempty"`
	Agencies []string `json:"agencies"`
}

// LogValue keeps a report out of logs.
func (Report) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// Receipt is what the reporter is told.
type Receipt struct {
	TipID     string
	Case      string
	Agencies  []string
	Duplicate bool // a retry of a message already queued
}
