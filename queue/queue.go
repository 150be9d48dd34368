// Package queue is the triage queue on Redis Streams.
//
// Each agency has one stream per priority, read through one consumer group
// whose consumers are the agency's officers. A claim is a stream delivery:
// the entry stays in the group's pending list, owned by the officer, until it
// is acknowledged or released, or until its lease lapses and another claim
// takes it over with XAUTOCLAIM. Every key of an agency carries the agency in
// a hash tag ({agency}), so every multi-key operation stays in one slot and
// the same code runs on Redis Cluster.
//
// Only clear metadata is stored next to the sealed tip: ids, agency, coarse
// region, channel, priority, times. Provider ids used for deduplication are
// stored as keyed pseudonyms, never as given.
package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hotline-org/hotline/gateway/fault"
	"github.com/redis/go-redis/v9"

	"github.com/hotline-org/hotline/gateway/breaker"
)

// Priority orders the queue: urgent tips are always claimed first.
type Priority string

// Priorities.
const (
	Urgent Priority = "urgent"
	Normal Priority = "normal"
)

// Priorities lists the priorities in claim order.
var Priorities = []Priority{Urgent, Normal}

// Valid reports whether p is a known priority.
func (p Priority) Valid() bool { return p == Urgent || p == Normal }

// Disposition is how an officer closed a tip.
type Disposition string

// Dispositions.
const (
	Dispatched  Disposition = "dispatched"
	Referred    Disposition = "referred"
	Duplicate   Disposition = "duplicate"
	NoAction    Disposition = "no_action"
	FalseReport Disposition = "false_report"
)

// Dispositions lists the valid dispositions.
var Dispositions = []Disposition{Dispatched, Referred, Duplicate, NoAction, FalseReport}

// Valid reports whether d is a known disposition.
func (d Disposition) Valid() bool {
	for _, v := range Dispositions {
		if d == v {
			return true
		}
	}
	return false
}

// Errors callers match on.
var (
	ErrEmpty       = errors.New("no tip waiting")
	ErrNotFound    = fault.New(fault.NotFound, "no such tip")
	ErrNotHeld     = fault.NewPublic(fault.Conflict, "tip is not held by this officer", "tip not held by you: claim it first")
	ErrInFlight    = fault.NewPublic(fault.Unavailable, "the same message is being processed", "busy, try again")
	ErrInvalid     = fault.NewPublic(fault.Invalid, "invalid entry", "bad request")
	ErrUnavailable = fault.NewPublic(fault.Unavailable, "queue unavailable", "temporarily unavailable, try again")
	// ErrNotHolder refuses access to a tip's sealed content (report, notes)
	// or a reply to someone who neither holds the tip nor is a supervisor.
	ErrNotHolder = fault.New(fault.Forbidden, "only the officer holding this tip, or a supervisor, may do this")
	// ErrLeaseLapsed refuses to renew a lease that already lapsed: the tip
	// may have been read by nobody for a while, and someone else may be
	// about to take it; the officer claims it again instead.
	ErrLeaseLapsed = fault.New(fault.Conflict, "lease lapsed: claim it again")
	// ErrNotesChanged refuses a transfer that does not carry every note of
	// the tip, re-sealed, so that notes never stay behind.
	ErrNotesChanged = fault.New(fault.Conflict, "the tip's notes changed: fetch them and transfer again")
	// ErrCaseMessages refuses a transfer that does not carry every message
	// of the case, re-sealed, so that no message stays behind.
	ErrCaseMessages = fault.New(fault.Conflict, "the case's messages changed: fetch them and transfer again")
)

// Entry is one sealed tip for one agency.
type Entry struct {
	TipID        string
	Case         string
	Agency       string
	Region       string
	Channel      string
	Priority     Priority
	ReceivedAt   time.Time
	ReplyCapable bool
	Sealed       []byte
	// NewCase is a hint: the case ref was made for this tip, so no item
	// of it is open unless a concurrent tip of the same case made it; the
	// publish then files the case with one command instead of two. A
	// wrong hint costs a command, never a second item.
	NewCase bool
	// Side is what the tip's channel needs applied once the tip is queued
	// (its reply handle, scrub job and thread), sealed to the gateway's own
	// key. It is never written to the stream: the channel writes it to
	// Redis itself, and the spool keeps it with a tip it holds, for the
	// drain to apply.
	Side []byte
	// SealSide, if set, makes Side when the entry is kept in a spool: the
	// seal is paid only by a tip that needs it.
	SealSide func() ([]byte, error)
	// Batch, if set, is written with the entry (see Batch); Publish
	// records there what became of it.
	Batch *Batch
	// Reach is opaque to the queue: sealed by the tip's channel to the
	// gateway's own key, it leads from the tip to what the channel keeps
	// elsewhere (the SMS channel: the sender's record, which holds the
	// reply handle). It is kept in the tip's clear metadata, never in the
	// stream, and follows the tip when it is transferred.
	Reach []byte `json:"-"`
}

// Claimed is an entry held by an officer.
type Claimed struct {
	Entry
	StreamID string
	// Messages are the case's messages in order, the first included.
	Messages   []Message
	Deliveries int64     // how many times it was handed out, this claim included
	LeaseUntil time.Time // when it goes back to the queue without a heartbeat
}

// Options configures a Queue.
type Options struct {
	// Prefix starts every key; tests use their own so they never see each
	// other's keys.
	Prefix string
	// Lease is how long a claim lasts without a heartbeat.
	Lease time.Duration
	// Timeout is the deadline of one Redis call.
	Timeout time.Duration
	// AuditKey keys the audit chain's MACs (derived from the pepper).
	AuditKey []byte
	// Replicas is how many replicas must confirm each published entry: 0
	// (the default) waits for the replicas the master reports connected,
	// NoReplicas never waits. A master with no replica costs no WAIT.
	Replicas int
	// ReplicaWait bounds the wait for the replicas (DefaultReplicaWait).
	// It must be shorter than Timeout and the client's read timeout.
	ReplicaWait time.Duration
	// ReplicaRefresh is how often the replicas are counted again
	// (DefaultReplicaRefresh).
	ReplicaRefresh time.Duration
}

// Queue is the triage queue. It is safe for concurrent use.
type Queue struct {
	rdb      redis.UniversalClient
	co       *Coalescer // the publishes of concurrent intakes
	opt      Options
	calls    breaker.Calls // no breaker: a tip must not go to the spool while Redis would take it
	replicas replicaCounts
	scanned  sync.Map // agency -> the index's length at its last full backfill (backfillMeta)
}

// group is the consumer group every agency stream is read through.
const group = "triage"

// New returns a queue over rdb.
func New(rdb redis.UniversalClient, opt Options) *Queue {
	if opt.Prefix == "" {
		opt.Prefix = "hl"
	}
	if opt.Lease <= 0 {
		opt.Lease = 5 * time.Minute
	}
	if opt.Timeout <= 0 {
		opt.Timeout = 2 * time.Second
	}
	if opt.ReplicaWait <= 0 {
		opt.ReplicaWait = DefaultReplicaWait
	}
	if opt.ReplicaRefresh <= 0 {
		opt.ReplicaRefresh = DefaultReplicaRefresh
	}
	if len(opt.AuditKey) == 0 {
		// Tests and tools that do not hold the pepper; the gateway always
		// passes a key derived from it.
		opt.AuditKey = []byte("hotline-audit-unkeyed")
	}
	return &Queue{rdb: rdb, opt: opt, co: NewCoalescer(opt.Timeout), calls: breaker.Calls{Timeout: opt.Timeout, Unavailable: ErrUnavailable}}
}

// Coalescer is how the queue sends concurrent calls to Redis: a reader of
// the same client may send its calls in the same batches
// (conversation.Store.ShareBatches).
func (q *Queue) Coalescer() *Coalescer { return q.co }

// Keyspace returns the queue's client, key prefix and call deadline, for
// the stores that keep their keys beside the queue's (queue/officer).
func (q *Queue) Keyspace() (rdb redis.UniversalClient, prefix string, timeout time.Duration) {
	return q.rdb, q.opt.Prefix, q.opt.Timeout
}

// ScanKeys returns the keys matching match, from every master of a Redis
// Cluster or from the one server.
func ScanKeys(ctx context.Context, rdb redis.UniversalClient, match string) ([]string, error) {
	var keys []string
	var mu sync.Mutex
	scan := func(ctx context.Context, c redis.UniversalClient) error {
		iter := c.Scan(ctx, 0, match, 1000).Iterator()
		for iter.Next(ctx) {
			mu.Lock()
			keys = append(keys, iter.Val())
			mu.Unlock()
		}
		return iter.Err()
	}
	if cc, ok := rdb.(*redis.ClusterClient); ok {
		err := cc.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error { return scan(ctx, n) })
		return keys, err
	}
	return keys, scan(ctx, rdb)
}

// Lease reports the lease duration.
func (q *Queue) Lease() time.Duration { return q.opt.Lease }

// Keys of one agency; all share the {agency} hash tag.
func (q *Queue) stream(agency string, p Priority) string {
	return q.opt.Prefix + ":{" + agency + "}:tips:" + string(p)
}
func (q *Queue) index(agency string) string { return q.opt.Prefix + ":{" + agency + "}:index" }

// meta holds each tip's clear metadata (tip id -> JSON), and open the ids
// of the tips not yet closed: lists and counts read these, never the
// streams, whose entries carry the sealed reports.
func (q *Queue) meta(agency string) string    { return q.opt.Prefix + ":{" + agency + "}:meta" }
func (q *Queue) openSet(agency string) string { return q.opt.Prefix + ":{" + agency + "}:open" }

// cases maps each case with an open item to the item's tip id (a tip with
// no case ref files under "#" and its tip id); msgs holds what later tips
// of a case appended to its item (see publishScript).
func (q *Queue) cases(agency string) string { return q.opt.Prefix + ":{" + agency + "}:cases" }
func (q *Queue) msgs(agency string) string  { return q.opt.Prefix + ":{" + agency + "}:msgs" }
func (q *Queue) closed(agency string) string {
	return q.opt.Prefix + ":{" + agency + "}:closed"
}
func (q *Queue) dedupeKey(pseudonym string) string { return DedupeKey(q.opt.Prefix, pseudonym) }

// DedupeKey is the key of the dedupe mark of a provider message (by its
// pseudonym) under prefix.
func DedupeKey(prefix, pseudonym string) string { return prefix + ":dedupe:{" + pseudonym + "}" }

// Ping checks that Redis answers.
func (q *Queue) Ping(ctx context.Context) error {
	ctx, cancel := q.calls.Context(ctx)
	defer cancel()
	if err := q.rdb.Ping(ctx).Err(); err != nil {
		return q.calls.Fail("", err)
	}
	return nil
}

// Ensure creates the consumer groups of the agencies' streams, and the
// clear metadata of tips queued before it was kept apart.
func (q *Queue) Ensure(ctx context.Context, agencies ...string) error {
	// The publish script on every master (a Cluster client loads it on
	// each), so that no tip pays a NOSCRIPT and a second round trip. A
	// failure costs only that.
	lctx, cancel := q.calls.Context(ctx)
	publishScript.Load(lctx, q.rdb)
	cancel()
	for _, a := range agencies {
		for _, p := range Priorities {
			if err := q.ensureGroup(ctx, q.stream(a, p)); err != nil {
				return err
			}
		}
		if err := q.backfillMeta(ctx, a); err != nil {
			return err
		}
	}
	return nil
}

func (q *Queue) ensureGroup(ctx context.Context, stream string) error {
	ctx, cancel := q.calls.Context(ctx)
	defer cancel()
	err := q.rdb.XGroupCreateMkStream(ctx, stream, group, "0").Err()
	if err != nil && !strings.HasPrefix(err.Error(), "BUSYGROUP") {
		return q.calls.Fail("create consumer group", err)
	}
	return nil
}

// Publish appends e to its agency's stream. It returns only once Redis has
// taken the entry (and, with AOF, written it) and, where the master has
// replicas, once they confirm it; and it is idempotent by tip id.
//
// An error that matches ErrNotReplicated means the master took the entry
// but the replicas did not confirm it within ReplicaWait: it is queued, but
// a failover now would lose it. Publishing it again is confirmed only once
// the replicas hold it.
func (q *Queue) Publish(ctx context.Context, e Entry) error {
	if e.TipID == "" || e.Agency == "" || !e.Priority.Valid() || len(e.Sealed) == 0 {
		return ErrInvalid
	}
	b := e.Batch
	var all []int
	if b != nil {
		if err := b.valid(); err != nil {
			return err
		}
		for i := range b.Ops {
			all = append(all, i)
		}
	}
	ctx, cancel := q.calls.Context(ctx)
	defer cancel()
	stream := q.stream(e.Agency, e.Priority)
	// On a Cluster the publish script runs the ops of the stream's slot;
	// the others follow once the tip is queued.
	_, cluster := q.rdb.(*redis.ClusterClient)
	here, later := all, []int(nil)
	if cluster {
		here = nil
		for _, i := range all {
			if HashTag(b.Ops[i].Key()) == e.Agency {
				here = append(here, i)
			} else {
				later = append(later, i)
			}
		}
	}
	sc := q.scriptCall(e, true, b, here, !cluster)
	var c redis.Cmdable = q.rdb
	var node string
	want := 0
	if q.opt.Replicas != NoReplicas {
		var err error
		if c, node, err = q.masterFor(ctx, stream); err != nil {
			return q.calls.Fail("publish", err)
		}
		want = q.wanted(ctx, c, node)
	}
	v, acked, err := q.runScript(ctx, c, want, sc)
	if err != nil {
		q.forget(node)
		return q.calls.Fail("publish", err)
	}
	isNew, err := sc.result(b, v)
	if err != nil {
		return err
	}
	if acked < want {
		q.forget(node)
		return &NotReplicatedError{TipID: e.TipID, Acked: acked, Wants: want}
	}
	if isNew && b != nil && b.Entered {
		// What an op would have written, the entry carries.
		if b.Results == nil {
			b.Results = make([]int64, len(b.Ops))
		}
		later = slices.DeleteFunc(later, func(i int) bool {
			if b.Ops[i].UnlessEntry {
				b.Results[i] = OpNotRun
				return true
			}
			return false
		})
	}
	if isNew && len(later) > 0 {
		if err := q.runOps(ctx, b, later); err != nil {
			return q.calls.Fail("publish", err)
		}
	}
	return nil
}

// Claim hands the officer the oldest waiting tip, urgent before normal. A tip
// whose lease lapsed is taken over before new tips of the same priority.
func (q *Queue) Claim(ctx context.Context, agency, officer string) (*Claimed, error) {
	for _, p := range Priorities {
		c, err := q.claimFrom(ctx, agency, officer, p)
		if err == nil {
			return c, nil
		}
		if !errors.Is(err, ErrEmpty) {
			return nil, err
		}
	}
	return nil, ErrEmpty
}

// maxReclaimScan bounds the pending entries one claim inspects for lapsed
// leases (XAUTOCLAIM scans at most ten times COUNT per call).
const maxReclaimScan = 10

func (q *Queue) claimFrom(ctx context.Context, agency, officer string, p Priority) (*Claimed, error) {
	stream := q.stream(agency, p)
	cctx, cancel := q.calls.Context(ctx)
	defer cancel()
	// Who held the oldest lapsed entry, so that the lapse can be recorded
	// against them. XAUTOCLAIM below takes that same entry unless another
	// claim races it; then the lapse is recorded with no name.
	var lapsedID, lapsedOwner string
	if pend, err := q.rdb.XPendingExt(cctx, &redis.XPendingExtArgs{
		Stream: stream, Group: group, Idle: q.opt.Lease, Start: "-", End: "+", Count: 1,
	}).Result(); err == nil && len(pend) == 1 {
		lapsedID, lapsedOwner = pend[0].ID, pend[0].Consumer
	}
	start := "0-0"
	for range maxReclaimScan {
		msgs, next, err := q.rdb.XAutoClaim(cctx, &redis.XAutoClaimArgs{
			Stream: stream, Group: group, Consumer: officer,
			MinIdle: q.opt.Lease, Start: start, Count: 1,
		}).Result()
		if err != nil {
			if isNoGroup(err) {
				if err := q.ensureGroup(ctx, stream); err != nil {
					return nil, err
				}
				break
			}
			return nil, q.calls.Fail("reclaim", err)
		}
		if len(msgs) > 0 {
			owner := ""
			if msgs[0].ID == lapsedID {
				owner = lapsedOwner
			}
			return q.claimed(cctx, agency, stream, officer, msgs[0], owner, true)
		}
		if next == "0-0" || next == "" {
			break
		}
		start = next
	}
	if p == Urgent {
		// A lapsed case that an urgent message raised while it was held
		// is a lapsed urgent case, though its entry is in the normal
		// stream: it is taken over before new urgent cases.
		if c, err := q.claimRaisedLapsed(cctx, agency, officer); !errors.Is(err, ErrEmpty) {
			return c, err
		}
	}
	res, err := q.rdb.XReadGroup(cctx, &redis.XReadGroupArgs{
		Group: group, Consumer: officer, Streams: []string{stream, ">"}, Count: 1, Block: -1,
	}).Result()
	switch {
	case errors.Is(err, redis.Nil):
		return nil, ErrEmpty
	case err != nil && isNoGroup(err):
		if err := q.ensureGroup(ctx, stream); err != nil {
			return nil, err
		}
		return nil, ErrEmpty
	case err != nil:
		return nil, q.calls.Fail("claim", err)
	}
	if len(res) == 0 || len(res[0].Messages) == 0 {
		return nil, ErrEmpty
	}
	return q.claimed(cctx, agency, stream, officer, res[0].Messages[0], "", false)
}

// claimRaisedLapsed takes over the oldest lapsed entry of the normal
// stream whose case an urgent message raised while it was held (the "!"
// field of the agency's msgs hash), among the first maxReclaimScan lapsed
// ones. XCLAIM with the lease as its minimum idle time lets only one claim
// take it. It answers ErrEmpty when there is none.
func (q *Queue) claimRaisedLapsed(ctx context.Context, agency, officer string) (*Claimed, error) {
	stream := q.stream(agency, Normal)
	pend, err := q.rdb.XPendingExt(ctx, &redis.XPendingExtArgs{
		Stream: stream, Group: group, Idle: q.opt.Lease, Start: "-", End: "+", Count: maxReclaimScan,
	}).Result()
	if isNoGroup(err) || err == nil && len(pend) == 0 {
		return nil, ErrEmpty
	}
	if err != nil {
		return nil, q.calls.Fail("reclaim", err)
	}
	for _, pe := range pend {
		if pe.Consumer == releasedConsumer {
			continue // a released raised case went back to the urgent stream
		}
		entries, err := q.rdb.XRange(ctx, stream, pe.ID, pe.ID).Result()
		if err != nil {
			return nil, q.calls.Fail("reclaim", err)
		}
		if len(entries) == 0 {
			continue
		}
		tip, _ := entries[0].Values["tip"].(string)
		if raised, err := q.rdb.HExists(ctx, q.msgs(agency), tip+"!").Result(); err != nil {
			return nil, q.calls.Fail("reclaim", err)
		} else if !raised {
			continue
		}
		got, err := q.rdb.XClaim(ctx, &redis.XClaimArgs{
			Stream: stream, Group: group, Consumer: officer, MinIdle: q.opt.Lease, Messages: []string{pe.ID},
		}).Result()
		if err != nil {
			return nil, q.calls.Fail("reclaim", err)
		}
		if len(got) == 0 {
			continue // another claim took it first
		}
		c, err := q.claimed(ctx, agency, stream, officer, got[0], pe.Consumer, true)
		if err == nil {
			c.Priority = Urgent
		}
		return c, err
	}
	return nil, ErrEmpty
}

// claimed completes a claim: it reads the delivery count and records the
// claim (and a lapsed lease it took over) in the audit chain. If the audit
// cannot be written the claim is handed back, so that no tip is worked on
// without a trace.
func (q *Queue) claimed(ctx context.Context, agency, stream, officer string, m redis.XMessage, prevOwner string, reclaimed bool) (*Claimed, error) {
	e, err := entryFrom(m.Values)
	if err != nil {
		return nil, err
	}
	if reclaimed && prevOwner != releasedConsumer {
		if err := q.Audit(ctx, agency, AuditLeaseLapsed, prevOwner, e.TipID, ""); err != nil {
			return nil, q.undoClaim(stream, m.ID, err)
		}
	}
	if err := q.Audit(ctx, agency, AuditClaim, officer, e.TipID, string(e.Priority)); err != nil {
		return nil, q.undoClaim(stream, m.ID, err)
	}
	c := &Claimed{Entry: e, StreamID: m.ID, Deliveries: 1, LeaseUntil: time.Now().Add(q.opt.Lease)}
	if c.Messages, err = q.messages(ctx, agency, e.TipID, e, true); err != nil {
		return nil, q.undoClaim(stream, m.ID, err)
	}
	// The case's priority is its stream's (an urgent message moves a
	// case there); its first message keeps its own.
	c.Priority = streamPriority(stream)
	q.deliveries(ctx, stream, officer, c)
	return c, nil
}

// streamPriority is the priority of an agency's stream, from its key.
func streamPriority(stream string) Priority {
	return Priority(stream[strings.LastIndexByte(stream, ':')+1:])
}

// deliveries reads how many times c was handed out; c keeps its count if
// Redis does not say.
func (q *Queue) deliveries(ctx context.Context, stream, officer string, c *Claimed) {
	pend, err := q.rdb.XPendingExt(ctx, &redis.XPendingExtArgs{
		Stream: stream, Group: group, Start: c.StreamID, End: c.StreamID, Count: 1, Consumer: officer,
	}).Result()
	if err == nil && len(pend) == 1 {
		c.Deliveries = pend[0].RetryCount
	}
}

func (q *Queue) undoClaim(stream, id string, cause error) error {
	ctx, cancel := q.calls.Context(context.Background())
	defer cancel()
	idle := q.opt.Lease + time.Second
	if err := q.rdb.Do(ctx, "XCLAIM", stream, group, releasedConsumer, 0, id, "IDLE", idle.Milliseconds(), "JUSTID").Err(); err != nil {
		// The tip is not lost: it stays claimed by this officer until
		// its lease lapses, and is then reclaimed like any other.
		return errors.Join(cause, fmt.Errorf("%w: the claim was not handed back (it returns when its lease lapses): %w", ErrUnavailable, err))
	}
	return cause
}

func entryFrom(v map[string]any) (Entry, error) {
	str := func(k string) string { s, _ := v[k].(string); return s }
	ms, err := strconv.ParseInt(str("received"), 10, 64)
	if err != nil || str("tip") == "" || str("sealed") == "" {
		return Entry{}, fmt.Errorf("%w: missing fields", ErrInvalid)
	}
	return Entry{
		TipID: str("tip"), Case: str("case"), Agency: str("agency"), Region: str("region"),
		Channel: str("channel"), Priority: Priority(str("priority")),
		ReceivedAt: time.UnixMilli(ms).UTC(), ReplyCapable: str("reply") == "1",
		Sealed: []byte(str("sealed")),
	}, nil
}

func isNoGroup(err error) bool { return err != nil && strings.HasPrefix(err.Error(), "NOGROUP") }

// locate finds the stream and entry id of a tip's queue item from the
// agency's index (see find).
func (q *Queue) locate(ctx context.Context, agency, tipID string) (stream, id string, err error) {
	_, stream, id, err = q.find(ctx, agency, tipID)
	return stream, id, err
}

// find resolves id, the tip id of any message of a case, the case ref of
// an open case, or the item's own tip id, to the case's queue item: its
// tip id, stream and entry id. It costs one round trip, two for a tip
// appended to a case or a case ref.
func (q *Queue) find(ctx context.Context, agency, id string) (item, stream, sid string, err error) {
	if id == "" {
		return "", "", "", ErrNotFound
	}
	var ref, meta, open *redis.StringCmd
	_, err = q.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		ref = p.HGet(ctx, q.index(agency), id)
		meta = p.HGet(ctx, q.meta(agency), id)
		open = p.HGet(ctx, q.cases(agency), id)
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return "", "", "", q.calls.Fail("", err)
	}
	item = id
	r := itemRef(ref.Val(), meta.Val())
	if r == "" {
		var m tipMeta
		switch {
		case json.Unmarshal([]byte(meta.Val()), &m) == nil && m.Item != "":
			item = m.Item
		case open.Val() != "":
			item = open.Val()
		default:
			return "", "", "", ErrNotFound
		}
		_, err = q.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			ref = p.HGet(ctx, q.index(agency), item)
			meta = p.HGet(ctx, q.meta(agency), item)
			return nil
		})
		if err != nil && !errors.Is(err, redis.Nil) {
			return "", "", "", q.calls.Fail("", err)
		}
		if r = itemRef(ref.Val(), meta.Val()); r == "" {
			return "", "", "", ErrNotFound
		}
	}
	p, sid, ok := strings.Cut(r, " ")
	if !ok || !Priority(p).Valid() {
		return "", "", "", ErrNotFound
	}
	return item, q.stream(agency, Priority(p)), sid, nil
}

// auditPrelude starts every audited action script. KEYS[1] and KEYS[2]
// are the audit stream and its head; ARGV[1] is the head the caller read,
// ARGV[2] the new head, ARGV[3..10] the entry. If another gateway appended
// in between, the script does nothing and asks for a retry; otherwise the
// action and its audit entry happen together or not at all.
const auditPrelude = `
local function audit()
  redis.call('XADD', KEYS[1], '*', 'seq', ARGV[3], 'at', ARGV[4], 'action', ARGV[5], 'officer', ARGV[6],
    'tip', ARGV[7], 'detail', ARGV[8], 'prev', ARGV[9], 'mac', ARGV[10])
  redis.call('SET', KEYS[2], ARGV[2])
end
if (redis.call('GET', KEYS[2]) or '') ~= ARGV[1] then return 'RETRY' end
`

// heldCheck returns early unless the entry ARGV[12] of stream KEYS[3] in
// group ARGV[11] is held by officer ARGV[13]. A lease that lapsed (idle
// ARGV[16] ms or more) and that nobody took over yet is 'LAPSED' unless
// ARGV[17] is '1': the lapse is then already in the audit trail.
const heldCheck = `
local p = redis.call('XPENDING', KEYS[3], ARGV[11], ARGV[12], ARGV[12], 1)
if #p == 0 then return 'NOTPENDING' end
if p[1][2] ~= ARGV[13] then return 'NOTHELD' end
if ARGV[17] ~= '1' and tonumber(p[1][3]) >= tonumber(ARGV[16]) then return 'LAPSED' end
`

// ackScript acknowledges an entry only for the officer that holds it and
// records the disposition (KEYS[4], tip ARGV[14], record ARGV[15]); the
// tip leaves the open set (KEYS[5]), and its case is closed (KEYS[6], by
// its case ref in the metadata KEYS[7]): the case's next message opens a
// new item.
var ackScript = redis.NewScript(auditPrelude + heldCheck + `
redis.call('XACK', KEYS[3], ARGV[11], ARGV[12])
redis.call('HSET', KEYS[4], ARGV[14], ARGV[15])
redis.call('SREM', KEYS[5], ARGV[14])
local cf = '#' .. ARGV[14]
local ok, m = pcall(cjson.decode, redis.call('HGET', KEYS[7], ARGV[14]) or '')
if ok and type(m) == 'table' and type(m.case) == 'string' and m.case ~= '' then cf = m.case end
if redis.call('HGET', KEYS[6], cf) == ARGV[14] then redis.call('HDEL', KEYS[6], cf) end
audit()
return 'OK'
`)

// releaseScript hands a held entry back to the queue at once: it is given
// to nobody ("released") with an idle time past the lease (ARGV[15]), so
// the next claim takes it over.
//
// A normal case that an urgent message reached while it was held (msgs
// KEYS[4] has its "!" field) goes back as urgent: its entry moves to the
// urgent stream KEYS[5] (index KEYS[6]; a large entry is marked in
// KEYS[7] for the reader of KEYS[8], see markBig), undelivered.
var releaseScript = redis.NewScript(auditPrelude + heldCheck + bigLua + `
local f = redis.call('XRANGE', KEYS[3], ARGV[12], ARGV[12])
local tip
if #f == 1 then
  for k = 1, #f[1][2], 2 do if f[1][2][k] == 'tip' then tip = f[1][2][k+1] end end
end
if tip and KEYS[3] ~= KEYS[5] and redis.call('HGET', KEYS[4], tip .. '!') then
  local id = redis.call('XADD', KEYS[5], '*', unpack(f[1][2]))
  markBig(KEYS[7], KEYS[8], 'urgent', id, f[1][2], 1)
  redis.call('HSET', KEYS[6], tip, 'urgent ' .. id)
  redis.call('HDEL', KEYS[4], tip .. '!')
  redis.call('XACK', KEYS[3], ARGV[11], ARGV[12])
  redis.call('XDEL', KEYS[3], ARGV[12])
else
  redis.call('XCLAIM', KEYS[3], ARGV[11], ARGV[14], 0, ARGV[12], 'IDLE', ARGV[15], 'JUSTID')
end
audit()
return 'OK'
`)

// auditOnlyScript appends an entry with no other action.
var auditOnlyScript = redis.NewScript(auditPrelude + `
audit()
return 'OK'
`)

// renewScript resets the idle time of a held entry: the officer's
// heartbeat. It is not audited: it changes nothing but the lease. A lease
// that already lapsed (idle ARGV[4] ms or more) is not renewed.
var renewScript = redis.NewScript(`
local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1)
if #p == 0 then return 'NOTPENDING' end
if p[1][2] ~= ARGV[3] then return 'NOTHELD' end
if tonumber(p[1][3]) >= tonumber(ARGV[4]) then return 'LAPSED' end
redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[3], 0, ARGV[2], 'JUSTID')
return 'OK'
`)

// runAudited runs an action script with its audit entry, retrying when
// another writer moved the chain's head in between.
func (q *Queue) runAudited(ctx context.Context, s *redis.Script, agency, action, officer, tip, detail string, keys []string, args ...any) (string, error) {
	head := q.auditHead(agency)
	for attempt := range 50 {
		expected, err := q.rdb.Get(ctx, head).Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			return "", q.calls.Fail("", err)
		}
		e := AuditEntry{Seq: 1, At: time.Now().UTC(), Action: action, Officer: officer, Tip: tip, Detail: detail, Prev: "genesis"}
		if expected != "" {
			seqText, prev, ok := strings.Cut(expected, " ")
			n, perr := strconv.ParseInt(seqText, 10, 64)
			if !ok || perr != nil {
				return "", fmt.Errorf("%w: malformed audit head", ErrAuditBroken)
			}
			e.Seq, e.Prev = n+1, prev
		}
		e.MAC = q.auditMAC(agency, e)
		all := append([]any{expected, strconv.FormatInt(e.Seq, 10) + " " + e.MAC,
			e.Seq, e.At.UnixMilli(), e.Action, e.Officer, e.Tip, e.Detail, e.Prev, e.MAC}, args...)
		res, err := s.Run(ctx, q.rdb, append([]string{q.auditKey(agency), head}, keys...), all...).Text()
		if err != nil {
			return "", q.calls.Fail("", err)
		}
		if res != "RETRY" {
			return res, nil
		}
		// Another writer moved the head: back off a little, at random, so
		// that concurrent writers do not keep colliding.
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("%w: %w", ErrUnavailable, ctx.Err())
		case <-time.After(time.Duration(1+mrand.IntN(4*(attempt+1))) * time.Millisecond):
		}
	}
	return "", fmt.Errorf("%w: audit: too much contention", ErrUnavailable)
}

// Ack closes a tip the officer holds, with a disposition.
func (q *Queue) Ack(ctx context.Context, agency, tipID, officer string, d Disposition) error {
	if !d.Valid() {
		return fmt.Errorf("%w: unknown disposition", ErrInvalid)
	}
	ctx, cancel := q.calls.Context(ctx)
	defer cancel()
	tipID, stream, id, err := q.find(ctx, agency, tipID)
	if err != nil {
		return err
	}
	record := string(d) + " " + officer + " " + strconv.FormatInt(time.Now().UnixMilli(), 10)
	return q.runHeld(ctx, ackScript, agency, AuditAck, officer, tipID, string(d),
		[]string{stream, q.closed(agency), q.openSet(agency), q.cases(agency), q.meta(agency)}, group, id, officer, tipID, record)
}

// runHeld runs an action of the tip's holder (ack, release). When the
// holder's lease lapsed and nobody took the tip over yet, the action still
// goes through, but only after the lapse is in the audit trail, so that
// the trail never shows a holder acting on a lease they no longer had.
func (q *Queue) runHeld(ctx context.Context, s *redis.Script, agency, action, officer, tipID, detail string, keys []string, args ...any) error {
	lease := q.opt.Lease.Milliseconds()
	res, err := q.runAudited(ctx, s, agency, action, officer, tipID, detail, keys, append(args, lease, "0")...)
	if err != nil || res != "LAPSED" {
		return q.scriptResult(res, err)
	}
	if err := q.Audit(ctx, agency, AuditLeaseLapsed, officer, tipID, action); err != nil {
		return err
	}
	res, err = q.runAudited(ctx, s, agency, action, officer, tipID, detail, keys, append(args, lease, "1")...)
	return q.scriptResult(res, err)
}

// Release hands a held tip back to the queue for another officer.
func (q *Queue) Release(ctx context.Context, agency, tipID, officer string) error {
	ctx, cancel := q.calls.Context(ctx)
	defer cancel()
	tipID, stream, id, err := q.find(ctx, agency, tipID)
	if err != nil {
		return err
	}
	idle := strconv.FormatInt(q.opt.Lease.Milliseconds()+1000, 10)
	if err := q.ensureGroup(ctx, q.stream(agency, Urgent)); err != nil {
		return err
	}
	return q.runHeld(ctx, releaseScript, agency, AuditRelease, officer, tipID, "",
		[]string{stream, q.msgs(agency), q.stream(agency, Urgent), q.index(agency), q.bigKey(agency), q.carriedKey(agency)}, group, id, officer, releasedConsumer, idle)
}

// releasedConsumer holds released tips until the next claim takes them.
const releasedConsumer = "released"

// Audit appends an entry to the agency's chain on its own.
func (q *Queue) Audit(ctx context.Context, agency, action, officer, tip, detail string) error {
	ctx, cancel := q.calls.Context(ctx)
	defer cancel()
	_, err := q.runAudited(ctx, auditOnlyScript, agency, action, officer, tip, detail, nil)
	return err
}

// Renew extends the lease of a held tip.
func (q *Queue) Renew(ctx context.Context, agency, tipID, officer string) (time.Time, error) {
	ctx, cancel := q.calls.Context(ctx)
	defer cancel()
	_, stream, id, err := q.find(ctx, agency, tipID)
	if err != nil {
		return time.Time{}, err
	}
	res, err := renewScript.Run(ctx, q.rdb, []string{stream}, group, id, officer, q.opt.Lease.Milliseconds()).Text()
	if err := q.scriptResult(res, err); err != nil {
		return time.Time{}, err
	}
	return time.Now().Add(q.opt.Lease), nil
}

func (q *Queue) scriptResult(res string, err error) error {
	switch {
	case err != nil:
		return q.calls.Fail("", err)
	case res == "OK":
		return nil
	case res == "NOTHELD":
		return ErrNotHeld
	case res == "LAPSED":
		return ErrLeaseLapsed
	case res == "NOTHOLDER":
		return ErrNotHolder
	default:
		return ErrNotHeld
	}
}

// Depth returns the number of tips of an agency not yet delivered to anyone
// and the number held or waiting to be reclaimed, per priority.
func (q *Queue) Depth(ctx context.Context, agency string) (map[Priority]int64, error) {
	ctx, cancel := q.calls.Context(ctx)
	defer cancel()
	out := map[Priority]int64{}
	for _, p := range Priorities {
		groups, err := q.rdb.XInfoGroups(ctx, q.stream(agency, p)).Result()
		if err != nil {
			if strings.Contains(err.Error(), "no such key") {
				continue
			}
			return nil, q.calls.Fail("", err)
		}
		for _, g := range groups {
			if g.Name == group {
				out[p] = g.Lag + g.Pending
			}
		}
	}
	return out, nil
}
