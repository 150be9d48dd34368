// Package conversation keeps the state of the SMS and WhatsApp
// conversations with reporters: which case a sender's messages join, who
// asked for no messages at all, and how to text a reporter back.
//
// It protects the reporter against whoever can read Redis: senders are
// known only by their keyed pseudonym; the number to text back (the reply
// handle) is sealed with the gateway's own reply key and dies with
// the case; every key has a TTL. The jobs erasing Twilio's copies are in
// gateway/scrub; the store feeds them from spooled tips' side records.
package conversation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hotline-org/hotline/crypto/seal"
	"github.com/hotline-org/hotline/gateway/breaker"
	"github.com/hotline-org/hotline/gateway/fault"
	"github.com/hotline-org/hotline/gateway/scrub"
	"github.com/hotline-org/hotline/queue"
	"github.com/redis/go-redis/v9"
)

// ErrNoHandle is returned when there is no way to reach the reporter: the
// case came from the web form, the handle expired, or the reporter closed
// the conversation.
var ErrNoHandle = errors.New("no reply handle for this case")

// ErrUnavailable wraps Redis failures.
var ErrUnavailable = fault.NewPublic(fault.Unavailable, "conversation store unavailable", "temporarily unavailable, try again")

// optOutTTL keeps an opt-out for a year after the sender's last message:
// long enough that nobody is texted against their wish, and bounded.
const optOutTTL = 365 * 24 * time.Hour

// Thread is an open conversation with one sender.
type Thread struct {
	Case     string    `json:"case"`
	Agencies []string  `json:"agencies"`
	Seq      int       `json:"seq"`  // messages so far
	Last     time.Time `json:"last"` // the sender's last message
}

// Handle is how to text a reporter back. It is stored sealed.
type Handle struct {
	From    string `json:"from"`    // the reporter's address (+E164 or whatsapp:+E164)
	To      string `json:"to"`      // the hotline number they wrote to
	Channel string `json:"channel"` // sms or whatsapp
	Sender  string `json:"sender"`  // the sender's pseudonym, for opt-out checks
}

// Delivery is one status report of an officer's reply.
type Delivery struct {
	Status string    `json:"status"`
	Code   string    `json:"code,omitempty"`
	At     time.Time `json:"at"`
}

// Store is the conversation state in Redis.
type Store struct {
	rdb     redis.UniversalClient
	prefix  string
	timeout time.Duration
	key     *seal.ReplyKey // nil: no handles
	// calls skips calls for a few seconds after Redis failed (its
	// breaker): this state only helps, and a tip on its way to the spool
	// must not wait for it.
	calls  *breaker.Calls
	scrubs *scrub.Queue
	co     *queue.Coalescer // the reads of concurrent messages
	// tips reads tips' clear metadata, whose Reach leads to the record
	// that holds a case's handle (reach).
	tips *queue.Queue
}

// New returns a store. key may be nil, and then no reply handles are kept.
func New(rdb redis.UniversalClient, prefix string, timeout time.Duration, key *seal.ReplyKey) *Store {
	return NewWith(rdb, prefix, timeout, key, false)
}

// NewWith is New with the sealing options of the gateway. The reply key's
// records need no X25519 any more (seal.ReplyKey), so fast changes nothing
// today.
func NewWith(rdb redis.UniversalClient, prefix string, timeout time.Duration, key *seal.ReplyKey, fast bool) *Store {
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	if key != nil {
		key = key.WithOptions(seal.Options{FastX25519: fast})
	}
	down := &breaker.Breaker{Cooldown: 5 * time.Second}
	return &Store{rdb: rdb, prefix: prefix, timeout: timeout, key: key,
		calls:  &breaker.Calls{Timeout: timeout, Unavailable: ErrUnavailable, Breaker: down},
		scrubs: scrub.New(rdb, prefix, timeout, key, down), co: queue.NewCoalescer(timeout),
		tips: queue.New(rdb, queue.Options{Prefix: prefix, Timeout: timeout})}
}

// ShareBatches sends the store's reads in co's batches: co is the queue's
// (queue.Queue.Coalescer) over the same Redis client, so that under load
// one message's read goes to Redis with other messages' publishes, not in
// a round trip of its own. Call it before the store is used.
func (s *Store) ShareBatches(co *queue.Coalescer) { s.co = co }

// Where the records the store seals belong (seal.ReplyKey): a tip's
// Reach is sealed before the tip has an id, so it names its kind alone; a
// reply handle names its case, so that one moved to another case, in the
// sender's record or under a key of its own, does not open.
const placeReach = "reach"

func placeHandle(caseRef string) string { return "handle " + caseRef }

// reachRecord is what a tip's Reach holds, sealed to the reply key: the
// sender whose record holds the tip's reply handle.
type reachRecord struct {
	Sender string `json:"s"`
}

// Reach seals the way from a tip to the sender's record, where Ops keeps
// the tip's reply handle (gateway.Tip.Reach): the tip's metadata holds it
// in clear, so it is sealed like the handle (nil without a reply key).
func (s *Store) Reach(sender string) ([]byte, error) {
	if s.key == nil {
		return nil, nil
	}
	b, err := s.key.SealJSON(placeReach, reachRecord{Sender: sender})
	if err != nil {
		return nil, fmt.Errorf("failed to seal the way to the reply handle: %w", err)
	}
	return b, nil
}

// reach finds the sender whose record holds the agency's handle for a
// case, through the Reach of a tip of the case: tipIDs' if given (their
// metadata outlives the case's closing), else the case's open item's. ""
// when no tip of the case has one.
func (s *Store) reach(ctx context.Context, agency, caseRef string, tipIDs ...string) (string, error) {
	for _, id := range slices.Concat(tipIDs, []string{caseRef}) {
		if id == "" {
			continue
		}
		l, err := s.tips.Meta(ctx, agency, id)
		if errors.Is(err, queue.ErrNotFound) {
			continue
		}
		if err != nil {
			return "", s.fail(err)
		}
		if l.Case != caseRef || len(l.Reach) == 0 {
			continue
		}
		var r reachRecord
		if err := s.key.OpenJSON(placeReach, l.Reach, &r); err != nil {
			return "", fmt.Errorf("the way to the reply handle of case %s cannot be opened: %w", caseRef, err)
		}
		return r.Sender, nil
	}
	return "", nil
}

// recordHandle returns the agency's handle for a case that the sender's
// record holds (Ops), and the record; sealed is nil when none lives.
func (s *Store) recordHandle(ctx context.Context, agency, caseRef, tipID string) (sealed []byte, r record, err error) {
	sender, err := s.reach(ctx, agency, caseRef, tipID)
	if err != nil || sender == "" {
		return nil, record{}, err
	}
	if r, err = s.record(ctx, sender); err != nil {
		return nil, record{}, err
	}
	e, ok := r.sealedHandle(agency, caseRef, time.Now())
	if !ok {
		return nil, r, nil
	}
	return e.Sealed, r, nil
}

// CanReply reports whether the store keeps reply handles.
func (s *Store) CanReply() bool { return s.key != nil }

// Scrubs is the queue of jobs erasing Twilio's copies, on the same Redis,
// reply key and breaker: side records feed it (ApplySide).
func (s *Store) Scrubs() *scrub.Queue { return s.scrubs }

func (s *Store) ctx(ctx context.Context) (context.Context, context.CancelFunc) {
	return s.calls.Context(ctx)
}

// fail records a Redis failure and wraps it.
func (s *Store) fail(err error) error { return s.calls.Fail("", err) }

// threadKey is the key of the sender's record (record.go), named for the
// thread it held alone in earlier releases.
func (s *Store) threadKey(sender string) string { return s.prefix + ":thread:{" + sender + "}" }
func (s *Store) optOutKey(sender string) string { return s.prefix + ":optout:{" + sender + "}" }

// The handles saved for a sender by earlier releases ("agency case"
// members; the record lists them now) and the time of the sender's last
// exit word: in the sender's slot, with the handles' TTL.
func (s *Store) handleIndexKey(sender string) string { return s.prefix + ":handles:{" + sender + "}" }
func (s *Store) exitKey(sender string) string        { return s.prefix + ":exit:{" + sender + "}" }
func (s *Store) handleKey(agency, caseRef string) string {
	return s.prefix + ":{" + agency + "}:handle:" + caseRef
}
func (s *Store) deliveryKey(agency, caseRef string) string {
	return s.prefix + ":{" + agency + "}:delivery:" + caseRef
}

// Thread returns the sender's open thread, if any.
func (s *Store) Thread(ctx context.Context, sender string) (Thread, bool, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	return s.threadLocked(ctx, sender)
}

// threadLocked is Thread under a context already made by s.ctx.
func (s *Store) threadLocked(ctx context.Context, sender string) (Thread, bool, error) {
	r, err := s.record(ctx, sender)
	if err != nil {
		return Thread{}, false, err
	}
	t, ok := r.thread(time.Now())
	return t, ok, nil
}

// record reads the sender's record.
func (s *Store) record(ctx context.Context, sender string) (record, error) {
	v, err := s.rdb.Get(ctx, s.threadKey(sender)).Result()
	if errors.Is(err, redis.Nil) {
		return record{}, nil
	}
	if err != nil {
		return record{}, s.fail(err)
	}
	return parseRecord(v), nil
}

// SaveThread stores the sender's thread, open for window from now.
func (s *Store) SaveThread(ctx context.Context, sender string, t Thread, window time.Duration) error {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	if err := s.updateSender(ctx, sender, func(r *record, now time.Time) { r.setThread(t, now, window) }); err != nil {
		return s.fail(err)
	}
	return nil
}

// CloseThread ends the sender's thread and destroys the reply handles of
// its case: after an exit word nobody can text the reporter back.
func (s *Store) CloseThread(ctx context.Context, sender string) error {
	t, ok, err := s.Thread(ctx, sender)
	if err != nil {
		return err
	}
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	err = s.updateSender(ctx, sender, func(r *record, _ time.Time) {
		for _, a := range r.Agencies {
			delete(r.Handles, a+" "+r.Case)
		}
		r.closeThread()
	})
	if err != nil {
		return s.fail(err)
	}
	if !ok {
		return nil
	}
	for _, a := range t.Agencies {
		if err := s.rdb.Del(ctx, s.handleKey(a, t.Case)).Err(); err != nil {
			return s.fail(err)
		}
	}
	return nil
}

// SetOptOut records that the sender wants no message of any kind (STOP),
// or clears it (START).
func (s *Store) SetOptOut(ctx context.Context, sender string, out bool) error {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	var err error
	if out {
		err = s.rdb.Set(ctx, s.optOutKey(sender), "1", optOutTTL).Err()
	} else {
		err = s.rdb.Del(ctx, s.optOutKey(sender)).Err()
	}
	if err != nil {
		return s.fail(err)
	}
	return nil
}

// OptedOut reports whether the sender asked for no messages. When Redis
// cannot say, it answers true: not texting is the safe failure.
func (s *Store) OptedOut(ctx context.Context, sender string) (bool, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	n, err := s.rdb.Exists(ctx, s.optOutKey(sender)).Result()
	if err != nil {
		return true, s.fail(err)
	}
	if n > 0 {
		// Each message refreshes the year.
		s.rdb.Expire(ctx, s.optOutKey(sender), optOutTTL)
	}
	return n > 0, nil
}

// SaveHandle seals h to the gateway's reply key and keeps it for the
// agency's case, with the time of the sender's last message, for ttl.
func (s *Store) SaveHandle(ctx context.Context, agency, caseRef string, h Handle, last time.Time, ttl time.Duration) error {
	if s.key == nil {
		return nil
	}
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	return s.saveHandle(ctx, agency, caseRef, h, last, ttl, false)
}

// saveHandle seals and stores h; ifAbsent leaves an existing handle as it
// is (the record keeps the later of the two last messages).
func (s *Store) saveHandle(ctx context.Context, agency, caseRef string, h Handle, last time.Time, ttl time.Duration, ifAbsent bool) error {
	sealed, err := s.key.SealJSON(placeHandle(caseRef), h)
	if err != nil {
		return fmt.Errorf("failed to seal reply handle: %w", err)
	}
	// The record first: a handle that exists is always one an exit word
	// can find, and its last message is known.
	if err := s.indexHandle(ctx, h.Sender, agency, caseRef, last, ttl); err != nil {
		return err
	}
	key := s.handleKey(agency, caseRef)
	if ifAbsent {
		err = s.rdb.SetNX(ctx, key, sealed, ttl).Err()
	} else {
		err = s.rdb.Set(ctx, key, sealed, ttl).Err()
	}
	if err != nil {
		return s.fail(err)
	}
	return nil
}

// indexHandle lists the agency's handle for a case in the sender's record,
// with the sender's last message on it, for as long as the handle lives.
func (s *Store) indexHandle(ctx context.Context, sender, agency, caseRef string, last time.Time, ttl time.Duration) error {
	if sender == "" {
		return nil
	}
	err := s.updateSender(ctx, sender, func(r *record, now time.Time) { r.addHandle(agency, caseRef, last, now.Add(ttl)) })
	if err != nil {
		return s.fail(err)
	}
	return nil
}

// KeepIndex moves the sender's last message on the agencies' handles of a
// case, in the sender's record, and keeps them listed as long as a message
// just made them live (TouchHandle).
func (s *Store) KeepIndex(ctx context.Context, sender string, agencies []string, caseRef string, last time.Time, ttl time.Duration) error {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	err := s.updateSender(ctx, sender, func(r *record, now time.Time) {
		for _, a := range agencies {
			r.addHandle(a, caseRef, last, now.Add(ttl))
		}
	})
	if err != nil {
		return s.fail(err)
	}
	return nil
}

// Exit closes every conversation with the sender (an exit word): the thread
// and every reply handle saved for the sender, however old, are destroyed,
// and a mark of the exit, kept as long as a handle may live, makes any
// handle from before it unusable on every gateway (one saved concurrently,
// one the index lost).
func (s *Store) Exit(ctx context.Context, sender string, at time.Time, ttl time.Duration) error {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	return s.exit(ctx, sender, at, ttl)
}

func (s *Store) exit(ctx context.Context, sender string, at time.Time, ttl time.Duration) error {
	if ttl <= 0 {
		ttl = optOutTTL
	}
	idx := s.handleIndexKey(sender)
	// The mark first: from now on Handle refuses the older handles even if
	// deleting them fails half way.
	if err := exitMarkScript.Run(ctx, s.rdb, []string{s.exitKey(sender)}, at.UnixMilli(), ttl.Milliseconds()).Err(); err != nil {
		return s.fail(err)
	}
	members, err := s.rdb.SMembers(ctx, idx).Result()
	if err != nil {
		return s.fail(err)
	}
	var keys []string
	r, err := s.record(ctx, sender)
	if err != nil {
		return err
	}
	for m := range r.Handles {
		members = append(members, m)
	}
	for _, a := range r.Agencies {
		members = append(members, a+" "+r.Case)
	}
	for _, m := range members {
		if agency, caseRef, ok := strings.Cut(m, " "); ok {
			keys = append(keys, s.handleKey(agency, caseRef), s.deliveryKey(agency, caseRef))
		}
	}
	// One key per call: the handles live in their agencies' slots.
	for _, k := range keys {
		if err := s.rdb.Del(ctx, k).Err(); err != nil {
			return s.fail(err)
		}
	}
	// The record keeps the sender's count: an exit word does not reset
	// the limit.
	err = s.updateSender(ctx, sender, func(r *record, _ time.Time) {
		r.closeThread()
		r.Handles = nil
	})
	if err != nil {
		return s.fail(err)
	}
	if err := s.rdb.Del(ctx, idx).Err(); err != nil {
		return s.fail(err)
	}
	return nil
}

// exitMarkScript moves the exit mark forward only: an older exit word
// drained from a spool late does not shorten a newer one.
var exitMarkScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v and tonumber(v) >= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`)

// exitedAfter reports whether the sender sent an exit word at or after
// last.
func (s *Store) exitedAfter(ctx context.Context, sender string, last time.Time) (bool, error) {
	v, err := s.rdb.Get(ctx, s.exitKey(sender)).Int64()
	if errors.Is(err, redis.Nil) {
		return false, nil
	}
	if err != nil {
		return false, s.fail(err)
	}
	return v >= last.UnixMilli(), nil
}

// TouchHandle keeps an existing handle (the same sender, the same case)
// alive for ttl without sealing it again; the time of the sender's last
// message moves in the sender's record (KeepIndex). It reports false when
// there is no handle to touch.
func (s *Store) TouchHandle(ctx context.Context, agency, caseRef string, last time.Time, ttl time.Duration) (bool, error) {
	if s.key == nil {
		return true, nil
	}
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	key := s.handleKey(agency, caseRef)
	n, err := s.rdb.PExpire(ctx, key, ttl).Result()
	if err != nil {
		return false, s.fail(err)
	}
	return n, nil
}

// Handle opens the agency's reply handle for a case, with the time of the
// sender's last message.
func (s *Store) Handle(ctx context.Context, agency, caseRef string) (Handle, time.Time, error) {
	return s.HandleOf(ctx, agency, caseRef, "")
}

// HandleOf is Handle, with the tip of the case an officer holds: a handle
// in the sender's record is found through that tip's Reach, else through
// the case's open item's.
func (s *Store) HandleOf(ctx context.Context, agency, caseRef, tipID string) (Handle, time.Time, error) {
	if s.key == nil {
		return Handle{}, time.Time{}, ErrNoHandle
	}
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	// A handle under a key of its own (SaveHandle, earlier releases)
	// first, then the record's.
	sealed, legacyLast, err := s.readHandle(ctx, s.handleKey(agency, caseRef))
	if err != nil {
		return Handle{}, time.Time{}, err
	}
	var r record
	inRecord := len(sealed) == 0
	if inRecord {
		if sealed, r, err = s.recordHandle(ctx, agency, caseRef, tipID); err != nil {
			return Handle{}, time.Time{}, err
		}
	}
	if len(sealed) == 0 {
		return Handle{}, time.Time{}, ErrNoHandle
	}
	var h Handle
	if err := s.key.OpenJSON(placeHandle(caseRef), sealed, &h); err != nil {
		return Handle{}, time.Time{}, fmt.Errorf("reply handle of case %s cannot be opened: %w", caseRef, err)
	}
	// The last message is in the sender's record (an earlier release's
	// handle held its own, which a later message moves in the record).
	if !inRecord {
		if r, err = s.record(ctx, h.Sender); err != nil {
			return Handle{}, time.Time{}, err
		}
	}
	last := r.handleLast(agency, caseRef)
	if legacyLast.After(last) {
		last = legacyLast
	}
	if last.IsZero() {
		// Nothing says when the reporter last wrote: no reply window.
		return Handle{}, time.Time{}, ErrNoHandle
	}
	exited, err := s.exitedAfter(ctx, h.Sender, last)
	if err != nil {
		return Handle{}, time.Time{}, err
	}
	if exited {
		// The reporter closed the conversation after this handle's last
		// message: it should not exist any more.
		s.rdb.Del(ctx, s.handleKey(agency, caseRef))
		return Handle{}, time.Time{}, ErrNoHandle
	}
	return h, last, nil
}

// readHandle reads a handle: the sealed handle, and for an earlier
// release's (a hash), the last message it held. A missing handle reads as
// nil.
func (s *Store) readHandle(ctx context.Context, key string) (sealed []byte, legacyLast time.Time, err error) {
	v, err := s.rdb.Get(ctx, key).Bytes()
	switch {
	case errors.Is(err, redis.Nil):
		return nil, time.Time{}, nil
	case err == nil:
		return v, time.Time{}, nil
	case !redis.HasErrorPrefix(err, "WRONGTYPE"):
		return nil, time.Time{}, s.fail(err)
	}
	h, err := s.rdb.HGetAll(ctx, key).Result()
	if err != nil {
		return nil, time.Time{}, s.fail(err)
	}
	if h["sealed"] == "" {
		return nil, time.Time{}, nil
	}
	ms, _ := strconv.ParseInt(h["last"], 10, 64)
	return []byte(h["sealed"]), time.UnixMilli(ms), nil
}

// DeleteHandle destroys the agency's reply handle for a case. A handle in
// the sender's record is found through the Reach of tipIDs or of the
// case's open item; once neither leads to it (a closed case whose tips
// are purged), its record lists it no longer than its TTL (HandleTTL, which
// retention waits for after the case closed), and nothing leads to it.
func (s *Store) DeleteHandle(ctx context.Context, agency, caseRef string, tipIDs ...string) error {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	if err := s.rdb.Del(ctx, s.handleKey(agency, caseRef), s.deliveryKey(agency, caseRef)).Err(); err != nil {
		return s.fail(err)
	}
	if s.key == nil {
		return nil
	}
	sender, err := s.reach(ctx, agency, caseRef, tipIDs...)
	if err != nil || sender == "" {
		return err
	}
	if err := s.updateSender(ctx, sender, func(r *record, _ time.Time) { delete(r.Handles, agency+" "+caseRef) }); err != nil {
		return s.fail(err)
	}
	return nil
}

// RecordDelivery appends a delivery status of a reply on the case.
func (s *Store) RecordDelivery(ctx context.Context, agency, caseRef string, d Delivery, ttl time.Duration) error {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	b, _ := json.Marshal(d)
	key := s.deliveryKey(agency, caseRef)
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.RPush(ctx, key, b)
		p.LTrim(ctx, key, -200, -1)
		p.Expire(ctx, key, ttl)
		return nil
	})
	if err != nil {
		return s.fail(err)
	}
	return nil
}

// Deliveries returns the delivery reports of a case's replies.
func (s *Store) Deliveries(ctx context.Context, agency, caseRef string) ([]Delivery, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	raw, err := s.rdb.LRange(ctx, s.deliveryKey(agency, caseRef), 0, -1).Result()
	if err != nil {
		return nil, s.fail(err)
	}
	out := make([]Delivery, 0, len(raw))
	for _, r := range raw {
		var d Delivery
		if json.Unmarshal([]byte(r), &d) == nil {
			out = append(out, d)
		}
	}
	return out, nil
}

func (s *Store) outboundKey(sidPseudonym string) string {
	return s.prefix + ":outbound:{" + sidPseudonym + "}"
}

// RememberOutbound maps a sent reply (by the pseudonym of its SID) to its
// case, so that Twilio's status callbacks can be recorded on it.
func (s *Store) RememberOutbound(ctx context.Context, sidPseudonym, agency, caseRef string, ttl time.Duration) error {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	if err := s.rdb.Set(ctx, s.outboundKey(sidPseudonym), agency+" "+caseRef, ttl).Err(); err != nil {
		return s.fail(err)
	}
	return nil
}

// ErrUnknownOutbound is returned for a status callback of a message the
// gateway did not send (or no longer remembers).
var ErrUnknownOutbound = errors.New("unknown outbound message")

// Outbound returns the agency and case of a sent reply.
func (s *Store) Outbound(ctx context.Context, sidPseudonym string) (agency, caseRef string, err error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	v, err := s.rdb.Get(ctx, s.outboundKey(sidPseudonym)).Result()
	if errors.Is(err, redis.Nil) {
		return "", "", ErrUnknownOutbound
	}
	if err != nil {
		return "", "", s.fail(err)
	}
	agency, caseRef, ok := strings.Cut(v, " ")
	if !ok {
		return "", "", ErrUnknownOutbound
	}
	return agency, caseRef, nil
}
