// Package gatewaytest builds a complete intake pipeline for tests: real
// Redis (through queuetest), real age keys for two agencies, and regions
// drawn around Lima and Kuala Lumpur.
package gatewaytest

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/hotline-org/hotline/crypto/pseudonym"
	"github.com/hotline-org/hotline/crypto/seal"
	"github.com/hotline-org/hotline/gateway"
	"github.com/hotline-org/hotline/gateway/conversation"
	"github.com/hotline-org/hotline/gateway/geo"
	"github.com/hotline-org/hotline/gateway/lang"
	"github.com/hotline-org/hotline/gateway/reply"
	"github.com/hotline-org/hotline/gateway/sms"
	"github.com/hotline-org/hotline/gateway/urgency"
	"github.com/hotline-org/hotline/queue"
	"github.com/hotline-org/hotline/queue/queuetest"
	"github.com/redis/go-redis/v9"
	"golang.org/x/text/language"
)

// Agencies of the test stack.
const (
	Lima = "pe-lima"
	KL   = "my-kl"
	// Overlap is an agency whose region overlaps Lima's, to test copies.
	Overlap = "pe-east"
)

// Hotline numbers of the test stack.
const (
	NumberLima = "+15005550006" // default region lima
	NumberNone = "+15005550007" // no default region
)

// Stack is a running pipeline.
type Stack struct {
	Redis      *queuetest.Redis
	Queue      *queue.Queue
	Intake     *gateway.Intake
	Keyer      *pseudonym.Keyer
	Identities map[string]seal.Identity // X25519
	Log        *queuetest.SyncBuffer
	Logger     *slog.Logger
	Pepper     []byte
}

// Regions are boxes of our own drawing: Lima, an overlapping east Lima, and
// Kuala Lumpur.
var Regions = []geo.RegionSpec{
	{ID: "lima", Polygon: [][][2]float64{{{-77.2, -12.4}, {-76.7, -12.4}, {-76.7, -11.7}, {-77.2, -11.7}}}},
	{ID: "lima-east", Polygon: [][][2]float64{{{-77.0, -12.2}, {-76.7, -12.2}, {-76.7, -11.9}, {-77.0, -11.9}}}},
	{ID: "kuala-lumpur", Polygon: [][][2]float64{{{101.6, 3.0}, {101.8, 3.0}, {101.8, 3.3}, {101.6, 3.3}}}},
	{ID: "nowhere", Polygon: [][][2]float64{{{10, 10}, {11, 10}, {11, 11}, {10, 11}}}},
}

// New builds a stack on a fresh key prefix. Options may adjust the intake.
func New(t testing.TB, opts ...func(*gateway.Options)) *Stack {
	t.Helper()
	r := queuetest.New(t)
	s := &Stack{Redis: r, Identities: map[string]seal.Identity{}, Log: &queuetest.SyncBuffer{}}
	s.Logger = slog.New(slog.NewJSONHandler(s.Log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s.Queue = queue.New(r.Client, queue.Options{Prefix: r.Prefix})
	recipients := map[string]*seal.Recipients{}
	for _, a := range []string{Lima, KL, Overlap} {
		g, err := seal.Generate(true)
		if err != nil {
			t.Fatal(err)
		}
		ids, err := seal.ParseIdentities(bytes.NewReader([]byte(g.Identity)), nil)
		if err != nil {
			t.Fatal(err)
		}
		rs, err := seal.ParseRecipients([]string{g.Recipient})
		if err != nil {
			t.Fatal(err)
		}
		recipients[a] = rs
		s.Identities[a] = ids[0]
	}
	ix, err := geo.Load(Regions)
	if err != nil {
		t.Fatal(err)
	}
	router := gateway.NewRouter(ix, geo.NewLocator(ix), []gateway.AgencyArea{
		{ID: Lima, Regions: []string{"lima"}},
		{ID: Overlap, Regions: []string{"lima-east"}},
		{ID: KL, Regions: []string{"kuala-lumpur"}},
	}, map[string]string{NumberLima: "lima"}, Lima)
	s.Pepper = bytes.Repeat([]byte("pepper-for-tests-only!"), 2)
	s.Keyer, err = pseudonym.New(s.Pepper)
	if err != nil {
		t.Fatal(err)
	}
	o := gateway.Options{
		Sealer: seal.NewKeyring(recipients), Publisher: s.Queue, Router: router,
		Keyer: s.Keyer, Logger: s.Logger,
	}
	for _, f := range opts {
		f(&o)
	}
	s.Intake = gateway.NewIntake(o)
	return s
}

// Open decrypts a claimed entry with the agency's identity.
func (s *Stack) Open(t testing.TB, c *queue.Claimed) gateway.Report {
	t.Helper()
	plain, err := seal.Open(c.Sealed, s.Identities[c.Agency])
	if err != nil {
		t.Fatalf("open tip %s for %s: %v", c.TipID, c.Agency, err)
	}
	var rep gateway.Report
	if err := json.Unmarshal(plain, &rep); err != nil {
		t.Fatalf("decode report: %v", err)
	}
	return rep
}

// OpenAll opens every message of a claimed case, in order.
func (s *Stack) OpenAll(t testing.TB, c *queue.Claimed) []gateway.Report {
	t.Helper()
	if len(c.Messages) == 0 {
		return []gateway.Report{s.Open(t, c)}
	}
	out := make([]gateway.Report, 0, len(c.Messages))
	for _, m := range c.Messages {
		one := *c
		one.TipID, one.Sealed = m.TipID, m.Sealed
		out = append(out, s.Open(t, &one))
	}
	return out
}

// Channel is the real SMS and WhatsApp channel over the stack, with a
// fresh reply key. tw may be nil (no Twilio REST: no media, scrubbing or
// officer replies); now may be nil (the real clock). NumberLima replies in
// Spanish by default and scrubs; NumberNone sends no replies.
// opts adjust the channel's options (limits, for instance) before it is made.
func (s *Stack) Channel(t testing.TB, tw sms.Twilio, now func() time.Time, opts ...func(*sms.Options)) (*sms.Channel, *conversation.Store) {
	t.Helper()
	store := s.Store(t, s.Redis.Client)
	det, err1 := lang.NewDetector(nil)
	cls, err2 := reply.NewClassifier(nil)
	cat, err3 := reply.NewCatalog()
	urg, err4 := urgency.New(urgency.Options{})
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		t.Fatal(err)
	}
	o := sms.Options{
		Intake: s.Intake, Store: store, Keyer: s.Keyer, Detector: det, Classifier: cls, Catalog: cat,
		Urgency: urg, Twilio: tw, Audit: s.Queue,
		Numbers: map[string]sms.Number{
			NumberLima: {Scrub: true, Reply: reply.Number{Default: language.Spanish}},
			NumberNone: {Scrub: false, Reply: reply.Number{Off: true}},
		},
		ThreadWindow: 30 * time.Minute, ReplyWindow: 15 * time.Minute, HandleTTL: time.Hour, MaxMedia: 3,
		Logger: s.Logger, Now: now,
	}
	for _, f := range opts {
		f(&o)
	}
	return sms.New(o), store
}

// Store is a conversation store with a fresh reply key, on rdb (the
// stack's Redis, or a client of the test's own to it) under the stack's
// prefix.
func (s *Stack) Store(t testing.TB, rdb redis.UniversalClient) *conversation.Store {
	t.Helper()
	key, err := seal.GenerateReplyKey()
	if err != nil {
		t.Fatal(err)
	}
	store := conversation.New(rdb, s.Redis.Prefix, time.Second, key)
	// As the gateway: tips' entries carry their scrub jobs.
	store.Scrubs().FromEntries(queue.New(rdb, queue.Options{Prefix: s.Redis.Prefix}), []string{Lima, KL, Overlap})
	return store
}
