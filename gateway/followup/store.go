// Package followup keeps the conversation between officers and a witness who
// reported on the web form, without the gateway being able to read it.
//
// A witness is told a receipt code (see NewCode) and nothing else identifies
// them. From the code the gateway derives two things:
//
//   - the handle, a keyed HMAC of the code under the pepper (domain
//     "followup"). It names the Redis keys and travels, sealed, inside the
//     tip so that officers can address questions to the witness. Knowing a
//     handle does not let anyone read the conversation.
//   - the secret that locks the thread's key, a keyed HMAC of the code
//     under the pepper (domain "followup-key"). When a thread is created the
//     gateway makes a fresh post-quantum hybrid key pair for it, keeps the
//     public half in clear, and keeps the private half only locked with that
//     secret (seal.NewThreadKey: HKDF-SHA-256 with a salt per thread, then
//     ChaCha20-Poly1305). The code has 80 random bits, so no slow key
//     derivation is needed: without the pepper a guess cannot even be
//     tried, and with it the handle already tests a guess for one HMAC.
//     Threads created before were locked to an age scrypt recipient of the
//     code; they still open.
//
// Officers' questions (and the witness's own answers, so the page can show
// the thread) are sealed to the thread's public key. The gateway can write to
// a thread at any time but can read it only while a witness holds the code
// out to it on /followup. Redis holds ciphertext, a case reference and agency
// ids, all with a TTL.
//
// The secret cannot be used directly for each message: sealing with it
// needs the code, which the gateway must not keep between the witness's
// visits. Locking a key pair with it gives the same guarantee (only the
// code opens the messages) with the gateway holding only public keys.
package followup

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hotline-org/hotline/crypto/pseudonym"
	"github.com/hotline-org/hotline/crypto/seal"
	"github.com/hotline-org/hotline/gateway/breaker"
	"github.com/hotline-org/hotline/gateway/fault"
	"github.com/hotline-org/hotline/queue"
	"github.com/redis/go-redis/v9"
)

// Domain separates the pepper's use for receipt codes from its other uses.
// It is defined here, next to its only user, rather than in crypto/pseudonym.
const Domain = "followup"

// keyDomain separates the secret that locks a thread's key from the handle.
const keyDomain = "followup-key"

// Defaults, with their reasons.
const (
	// DefaultTTL is how long a thread lives after its last message: long
	// enough for an investigation to need the witness again, short enough
	// that a forgotten thread does not stay in Redis for ever.
	DefaultTTL = 90 * 24 * time.Hour
	// DefaultWorkFactor is the largest scrypt work factor (log2 N) accepted
	// when opening a thread created before thread keys were locked with
	// HKDF: those releases wrapped every thread's key at 12 (4 MiB, a few
	// milliseconds). New threads need no scrypt.
	DefaultWorkFactor = 12
	// DefaultMaxMessages bounds a thread: a conversation longer than this
	// belongs on the phone or in person.
	DefaultMaxMessages = 100
	// MaxMessageChars bounds one question or answer, in characters, so
	// that a witness writing Thai or Chinese may say as much as one
	// writing English. MaxMessageBytes follows: no text of that many
	// characters is longer in UTF-8.
	MaxMessageChars = 8 << 10
	MaxMessageBytes = 4 * MaxMessageChars
	// DefaultMaxOpening bounds concurrent openings of thread keys (an
	// scrypt each for threads of earlier releases), so that a burst of
	// /followup visits cannot exhaust memory.
	DefaultMaxOpening = 8
)

// Errors callers match on.
var (
	ErrNotFound    = fault.New(fault.NotFound, "no follow-up thread for this code")
	ErrBadHandle   = fault.New(fault.Invalid, "malformed follow-up handle")
	ErrTooLong     = fault.New(fault.TooLarge, "message too long")
	ErrEmpty       = fault.New(fault.Invalid, "empty message")
	ErrFull        = fault.New(fault.Conflict, "follow-up thread is full")
	ErrUnavailable = fault.NewPublic(fault.Unavailable, "follow-up store unavailable", "temporarily unavailable, try again")
)

// Author says who wrote a message.
type Author string

// Authors.
const (
	Officer Author = "officer"
	Witness Author = "witness"
)

// Message is one entry of a thread, as the witness sees it.
type Message struct {
	From Author    `json:"from"`
	Text string    `json:"text"`
	At   time.Time `json:"at"`
}

// Info is what may be known of a thread without its code: the case it
// belongs to and the agencies that received the tip.
type Info struct {
	Case     string
	Agencies []string
	// Urgent: the first report was marked urgent. The witness's answers
	// stay urgent (a priority, like the queue's, may be kept in clear).
	Urgent bool
}

// Thread is an opened conversation.
type Thread struct {
	Handle   string
	Info     Info
	Messages []Message
}

// Options configures a Store.
type Options struct {
	Prefix      string        // Redis key prefix, as the queue's
	TTL         time.Duration // DefaultTTL when zero
	Timeout     time.Duration // deadline of one Redis call; 2s when zero
	WorkFactor  int           // largest scrypt factor of earlier threads; DefaultWorkFactor when zero
	MaxMessages int           // DefaultMaxMessages when zero
	MaxOpening  int           // DefaultMaxOpening when zero
	Now         func() time.Time
}

// Store keeps follow-up threads in Redis. It is safe for concurrent use.
type Store struct {
	rdb   redis.UniversalClient
	keyer *pseudonym.Keyer
	opt   Options
	sem   chan struct{}
	calls *breaker.Calls // per-call deadline and ErrUnavailable
}

// New returns a Store.
func New(rdb redis.UniversalClient, keyer *pseudonym.Keyer, opt Options) *Store {
	if opt.Prefix == "" {
		opt.Prefix = "hl"
	}
	opt.TTL = positiveOr(opt.TTL, DefaultTTL)
	opt.Timeout = positiveOr(opt.Timeout, 2*time.Second)
	opt.WorkFactor = positiveOr(opt.WorkFactor, DefaultWorkFactor)
	opt.MaxMessages = positiveOr(opt.MaxMessages, DefaultMaxMessages)
	opt.MaxOpening = positiveOr(opt.MaxOpening, DefaultMaxOpening)
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Store{rdb: rdb, keyer: keyer, opt: opt, sem: make(chan struct{}, opt.MaxOpening),
		calls: &breaker.Calls{Timeout: opt.Timeout, Unavailable: ErrUnavailable}}
}

// positiveOr returns v, or def when v is zero or negative.
func positiveOr[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// handlePattern is what Keyer.Of returns: 26 lowercase base32 characters.
var handlePattern = regexp.MustCompile(`^[a-z2-7]{26}$`)

// Handle returns the lookup handle of a receipt code.
func (s *Store) Handle(code string) (string, error) {
	c, err := NormalizeCode(code)
	if err != nil {
		return "", err
	}
	return s.keyer.Of(Domain, c), nil
}

// Keys of one thread share the handle as hash tag, so that the same code
// runs on Redis Cluster.
func (s *Store) key(handle string) string  { return s.opt.Prefix + ":followup:{" + handle + "}" }
func (s *Store) msgs(handle string) string { return s.key(handle) + ":msgs" }

func (s *Store) ctx(ctx context.Context) (context.Context, context.CancelFunc) {
	return s.calls.Context(ctx)
}

// Create makes the thread of a new tip and returns its handle. caseRef is
// the tip's case reference.
func (s *Store) Create(ctx context.Context, code, caseRef string) (string, error) {
	handle, fields, err := s.newThread(code, caseRef)
	if err != nil {
		return "", err
	}
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	// The case finds its thread when it is purged, so that the receipt code
	// dies with the case. The index is written first: the thread and the
	// index hash to different slots on Redis Cluster, so one transaction
	// cannot hold both, and an index without its thread is harmless (it
	// expires, and deleting the case deletes nothing more).
	if err := s.rdb.Set(ctx, s.caseIndex(caseRef), handle, s.opt.TTL).Err(); err != nil {
		return "", s.calls.Fail("create thread", err)
	}
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, s.key(handle), fields...)
		p.Expire(ctx, s.key(handle), s.opt.TTL)
		return nil
	})
	if err != nil {
		return "", s.calls.Fail("create thread", err)
	}
	return handle, nil
}

// newThread makes a new thread's handle and fields (its case, and its key
// locked to the code).
func (s *Store) newThread(code, caseRef string) (string, []any, error) {
	c, err := NormalizeCode(code)
	if err != nil {
		return "", nil, err
	}
	handle := s.keyer.Of(Domain, c)
	secret := s.keyer.Sum(keyDomain, c)
	defer clear(secret)
	recipient, wrapped, err := seal.NewThreadKey(secret)
	if err != nil {
		return "", nil, fmt.Errorf("failed to make thread key: %w", err)
	}
	return handle, []any{"case", caseRef, "recipient", recipient, "key", wrapped, "created", s.opt.Now().Unix()}, nil
}

// CreateOps are the ops that make the thread of a new tip, with the
// agencies it went to and its urgency, written with the tip (its
// queue.Batch): on a single Redis atomically with it, so that a queued
// tip's thread exists from the start with all it needs, and a tip that was
// not queued (spooled, refused) leaves no thread behind. The case index
// comes first, as in Create.
func (s *Store) CreateOps(code, caseRef string, agencies []string, urgent bool) ([]queue.Op, error) {
	handle, fields, err := s.newThread(code, caseRef)
	if err != nil {
		return nil, err
	}
	ttl := s.opt.TTL.Milliseconds()
	thread := append([]any{"hset", s.key(handle)}, fields...)
	thread = append(thread, "agencies", strings.Join(agencies, " "))
	if urgent {
		thread = append(thread, "urgent", "1")
	}
	return []queue.Op{
		{Cmd: []any{"set", s.caseIndex(caseRef), handle, "px", ttl}},
		{Cmd: thread},
		{Cmd: []any{"pexpire", s.key(handle), ttl}},
	}, nil
}

// SetAgencies records which agencies received the tip: a witness's answer
// goes to them, and only their officers may ask questions.
func (s *Store) SetAgencies(ctx context.Context, handle string, agencies []string) error {
	return s.setField(ctx, handle, "agencies", strings.Join(agencies, " "), "record agencies")
}

// MarkUrgent records that the thread's report was urgent, so that the
// witness's answers are queued as urgent too.
func (s *Store) MarkUrgent(ctx context.Context, handle string) error {
	return s.setField(ctx, handle, "urgent", "1", "record urgency")
}

// setFieldScript sets a field of a thread that exists, in one step: a
// thread that expired meanwhile is not brought back without its TTL.
var setFieldScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
`)

func (s *Store) setField(ctx context.Context, handle, field, value, op string) error {
	if !handlePattern.MatchString(handle) {
		return ErrBadHandle
	}
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	n, err := setFieldScript.Run(ctx, s.rdb, []string{s.key(handle)}, field, value).Int()
	if err != nil {
		return s.calls.Fail(op, err)
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// Info returns the case and agencies of a thread. The officer API uses it to
// check that an officer's agency received the tip before PostQuestion.
func (s *Store) Info(ctx context.Context, handle string) (Info, error) {
	if !handlePattern.MatchString(handle) {
		return Info{}, ErrBadHandle
	}
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	v, err := s.rdb.HMGet(ctx, s.key(handle), "case", "agencies", "urgent").Result()
	if err != nil {
		return Info{}, s.calls.Fail("read thread", err)
	}
	caseRef, _ := v[0].(string)
	if caseRef == "" {
		return Info{}, ErrNotFound
	}
	agencies, _ := v[1].(string)
	urgent, _ := v[2].(string)
	return Info{Case: caseRef, Agencies: strings.Fields(agencies), Urgent: urgent == "1"}, nil
}

// PostQuestion adds an officer's message to the thread of handle (the
// "followup" field of a web tip's sealed report). The text is sealed to the
// thread's public key before it reaches Redis; the gateway cannot read it
// back. The witness sees it the next time they open /followup with their
// code: nothing is ever pushed to them.
//
// The caller (the officer API) must check with Info that the officer's
// agency is among the thread's agencies.
func (s *Store) PostQuestion(ctx context.Context, handle, text string) error {
	return s.add(ctx, handle, Message{From: Officer, Text: text})
}

// AddAnswer records the witness's own answer in the thread, so that the page
// shows the conversation. (The answer also reaches the agencies as a sealed
// tip of the same case; that is the caller's job.)
func (s *Store) AddAnswer(ctx context.Context, handle, text string) error {
	return s.add(ctx, handle, Message{From: Witness, Text: text})
}

func (s *Store) add(ctx context.Context, handle string, m Message) error {
	switch {
	case !handlePattern.MatchString(handle):
		return ErrBadHandle
	case strings.TrimSpace(m.Text) == "":
		return ErrEmpty
	case len(m.Text) > MaxMessageBytes, utf8.RuneCountInString(m.Text) > MaxMessageChars:
		return ErrTooLong
	case !utf8.ValidString(m.Text):
		m.Text = strings.ToValidUTF8(m.Text, "\uFFFD")
	}
	m.At = s.opt.Now().UTC().Truncate(time.Minute) // no finer than the page shows
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	v, err := s.rdb.HGet(ctx, s.key(handle), "recipient").Result()
	switch {
	case errors.Is(err, redis.Nil):
		return ErrNotFound
	case err != nil:
		return s.calls.Fail("read thread", err)
	}
	r, err := seal.ParsePostQuantumRecipient(v)
	if err != nil {
		return fmt.Errorf("thread %s: stored recipient unreadable: %w", handle, err)
	}
	sealed, err := r.SealJSON(m)
	if err != nil {
		return fmt.Errorf("failed to seal message: %w", err)
	}
	res, err := addScript.Run(ctx, s.rdb, []string{s.key(handle), s.msgs(handle)},
		sealed, s.opt.MaxMessages, s.opt.TTL.Milliseconds()).Int()
	switch {
	case err != nil:
		return s.calls.Fail("add message", err)
	case res == 0:
		return ErrNotFound
	case res < 0:
		return ErrFull
	}
	return nil
}

// addScript appends a sealed message if the thread exists and is not full,
// and renews the TTL of both keys: a thread lives TTL after its last message.
var addScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('LLEN', KEYS[2]) >= tonumber(ARGV[2]) then return -1 end
redis.call('RPUSH', KEYS[2], ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
`)

// Open reads the thread of a receipt code: it unlocks the thread's key with
// the code and opens every message. ErrBadCode means a mistyped code,
// ErrNotFound an unknown or expired one.
func (s *Store) Open(ctx context.Context, code string) (*Thread, error) {
	c, err := NormalizeCode(code)
	if err != nil {
		return nil, err
	}
	handle := s.keyer.Of(Domain, c)
	rctx, cancel := s.ctx(ctx)
	defer cancel()
	fields, err := s.rdb.HGetAll(rctx, s.key(handle)).Result()
	if err != nil {
		return nil, s.calls.Fail("read thread", err)
	}
	if fields["case"] == "" || fields["key"] == "" {
		return nil, ErrNotFound
	}
	raw, err := s.rdb.LRange(rctx, s.msgs(handle), 0, -1).Result()
	if err != nil {
		return nil, s.calls.Fail("read messages", err)
	}

	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, ctx.Err())
	}
	// A key of an earlier release (scrypt) wrapped with a larger factor
	// than ours is refused: a tampered entry must not make the gateway burn
	// gigabytes of memory.
	secret := s.keyer.Sum(keyDomain, c)
	id, err := seal.OpenThreadKey([]byte(fields["key"]), secret, c, s.opt.WorkFactor)
	clear(secret)
	<-s.sem
	if err != nil {
		return nil, fmt.Errorf("thread %s: %w", handle, err)
	}
	t := &Thread{Handle: handle, Info: Info{Case: fields["case"], Agencies: strings.Fields(fields["agencies"]), Urgent: fields["urgent"] == "1"}}
	for i, sealed := range raw {
		var m Message
		if err := seal.OpenJSON([]byte(sealed), maxSealed, &m, id); err != nil {
			return nil, fmt.Errorf("thread %s: message %d: %w", handle, i, err)
		}
		t.Messages = append(t.Messages, m)
	}
	return t, nil
}

func (s *Store) caseIndex(caseRef string) string {
	return s.opt.Prefix + ":followup:case:{" + caseRef + "}"
}

// DeleteCase removes the thread of a case, if it has one: retention calls
// it when the case's tips are purged.
func (s *Store) DeleteCase(ctx context.Context, caseRef string) error {
	cctx, cancel := s.ctx(ctx)
	handle, err := s.rdb.Get(cctx, s.caseIndex(caseRef)).Result()
	cancel()
	if errors.Is(err, redis.Nil) {
		return nil
	}
	if err != nil {
		return s.calls.Fail("find thread", err)
	}
	if err := s.Delete(ctx, handle); err != nil && !errors.Is(err, ErrBadHandle) {
		return err
	}
	cctx, cancel = s.ctx(ctx)
	defer cancel()
	if err := s.rdb.Del(cctx, s.caseIndex(caseRef)).Err(); err != nil {
		return s.calls.Fail("delete thread", err)
	}
	return nil
}

// Delete removes a thread, for when its case is closed.
func (s *Store) Delete(ctx context.Context, handle string) error {
	if !handlePattern.MatchString(handle) {
		return ErrBadHandle
	}
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	if err := s.rdb.Del(ctx, s.key(handle), s.msgs(handle)).Err(); err != nil {
		return s.calls.Fail("delete thread", err)
	}
	return nil
}

// maxSealed bounds one sealed message. Its JSON is at most 6 bytes per
// character of MaxMessageChars (48 KiB, every character escaped), and a
// post-quantum header and the tags add about 2 KiB.
const maxSealed = 64 << 10
