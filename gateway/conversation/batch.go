package conversation

import (
	"context"
	"fmt"
	"maps"
	"time"

	"github.com/hotline-org/hotline/gateway/twilioapi"
	"github.com/hotline-org/hotline/queue"
	"github.com/redis/go-redis/v9"
)

// Sender is what the gateway knows of a sender when a message comes, read
// in one round trip (ReadSender).
type Sender struct {
	Thread   Thread
	InThread bool
	// OptedOut: the sender said STOP, or the state could not be read
	// (not texting is the safe failure).
	OptedOut bool
	// Seen is the message's dedupe mark ("" for none).
	Seen string
	// Rate is the sender's count in the limiter's current window (nil for
	// none).
	Rate *Rate
	// Read is the sender's record as read ("" for none), for the batch
	// that writes it in its place (Message.Read) and for Merge.
	Read string
	rec  record // Read, parsed
	// Extra holds the values of the extra keys (nil for a missing one).
	Extra []*string
	// Err: the state could not be read; the rest is the safe default.
	Err error
}

// ReadSender reads in one round trip the sender's record and opt-out,
// the dedupe mark of the message (markID: the pseudonym of the provider's
// message id, "" for none; the mark is in the record, or under a key of
// its own from an earlier release) and the values of extra keys. On a single Redis it is one
// MGET; on a Cluster, one MGET per hash slot, in one pipeline. A failure
// is reported in Sender.Err, with the safe answers: no thread, opted out,
// not seen.
func (s *Store) ReadSender(ctx context.Context, sender, markID string, extra ...string) Sender {
	out := Sender{OptedOut: true, Extra: make([]*string, len(extra))}
	dedupe := ""
	if markID != "" {
		dedupe = s.DedupeKey(markID) // an earlier release's mark
	}
	keys := append([]string{s.threadKey(sender), s.optOutKey(sender), dedupe}, extra...)
	if dedupe == "" {
		keys[2] = s.threadKey(sender) // read twice, ignored
	}
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	vals, err := s.mget(ctx, keys)
	if err != nil {
		out.Err = s.fail(err)
		return out
	}
	str := func(v any) (string, bool) { x, ok := v.(string); return x, ok }
	out.OptedOut = false
	// Each message refreshes the opt-out's year: the batch written with
	// the tip does (Ops).
	_, out.OptedOut = str(vals[1])
	if v, ok := str(vals[0]); ok {
		r := parseRecord(v)
		now := time.Now()
		out.Read, out.rec = v, r
		out.Thread, out.InThread = r.thread(now)
		out.Rate = r.rate(now)
		out.Seen = r.seen(markID, now)
	}
	if v, ok := str(vals[2]); ok && dedupe != "" {
		out.Seen = v
	}
	for i := range extra {
		if v, ok := str(vals[3+i]); ok {
			out.Extra[i] = &v
		}
	}
	return out
}

// mget reads keys in one round trip: one MGET on a single Redis, one per
// hash slot on a Cluster, sent with the reads of concurrent messages
// (queue.Coalescer).
func (s *Store) mget(ctx context.Context, keys []string) ([]any, error) {
	if _, ok := s.rdb.(*redis.ClusterClient); !ok {
		var cmd *redis.SliceCmd
		if _, err := s.co.Do(ctx, s.rdb, 0, 0, func(p redis.Pipeliner) { cmd = p.MGet(ctx, keys...) }); err != nil {
			return nil, err
		}
		return cmd.Result()
	}
	groups := map[string][]int{}
	var order []string
	for i, k := range keys {
		t := queue.HashTag(k)
		if _, ok := groups[t]; !ok {
			order = append(order, t)
		}
		groups[t] = append(groups[t], i)
	}
	cmds := make([]*redis.SliceCmd, len(order))
	_, err := s.co.Do(ctx, s.rdb, 0, 0, func(p redis.Pipeliner) {
		for n, t := range order {
			ks := make([]string, 0, len(groups[t]))
			for _, i := range groups[t] {
				ks = append(ks, keys[i])
			}
			cmds[n] = p.MGet(ctx, ks...)
		}
	})
	if err != nil {
		return nil, err
	}
	out := make([]any, len(keys))
	for n, t := range order {
		if err := cmds[n].Err(); err != nil {
			return nil, err
		}
		for j, i := range groups[t] {
			if j < len(cmds[n].Val()) {
				out[i] = cmds[n].Val()[j]
			}
		}
	}
	return out, nil
}

// DedupeKey is the key of the dedupe mark of a provider message (by its
// pseudonym), beside the queue's, where earlier releases kept it.
func (s *Store) DedupeKey(pseudonym string) string { return queue.DedupeKey(s.prefix, pseudonym) }

// Message is what a message that became a tip leaves in the conversation
// state (Ops).
type Message struct {
	Sender string
	Case   string
	// Agencies of the tip (after routing) and of the thread it joined
	// (nil for a new thread).
	Agencies, ThreadAgencies []string
	InThread                 bool
	Seq                      int
	Last                     time.Time
	// OptedOut: refresh the opt-out's year.
	OptedOut     bool
	ThreadWindow time.Duration
	// Read is the sender as ReadSender found them, whose record the
	// batch's replaces; Rate, if set, is the sender's count to write.
	Read Sender
	Rate *Rate
	// Mark is the message's dedupe mark (the pseudonym of the provider's
	// message id, "" for none), kept in the record for DedupeTTL: the
	// record's write is then the batch's guard.
	Mark      string
	DedupeTTL time.Duration
	// Handle to save (nil: none, as after an exit word) for HandleTTL.
	Handle    *Handle
	HandleTTL time.Duration
	// Scrub, if set, is queued under TipID, due at ScrubDue.
	TipID    string
	Scrub    *twilioapi.ScrubJob
	ScrubDue time.Time
}

// Touched is the batch's record of the handles it only touched (the same
// sender, the same case): Missing lists those it found gone, for which
// a sealed handle must be saved after all (SaveHandle).
type Touched struct {
	ops      map[string]int // agency -> index of its PEXPIRE op
	Agencies []string
	// SenderOp is the index of the op that writes the sender's record
	// (-1: none).
	SenderOp int
}

// Found is what another message wrote in the sender's record between the
// batch's read and its write, to Merge; ok is false when nothing did.
func (t Touched) Found(b *queue.Batch) (found string, ok bool) {
	if t.SenderOp < 0 || !b.Ran {
		return "", false
	}
	found, ok = b.Found[t.SenderOp]
	return found, ok
}

// Missing returns the agencies whose handle the batch b did not find.
func (t Touched) Missing(b *queue.Batch) []string {
	var out []string
	for _, a := range t.Agencies {
		if i, ok := t.ops[a]; ok && b.Ran && i < len(b.Results) && b.Results[i] != 1 {
			out = append(out, a)
		}
	}
	return out
}

// Ops appends to b what Channel.Receive used to write after the tip, one
// call each (SaveThread, TouchHandle or SaveHandle, KeepIndex, the scrub
// job), as ops written with the tip: the sender's record (the thread, the
// handles it lists, each agency's new reply handle, sealed, and the count)
// in one checked SET; a handle of the thread's under a key of its own is
// touched (PEXPIRE), not sealed again; the opt-out's year; the scrub job
// (carried by the tip's entry, see scrub.Queue.BatchOps). The tip's Reach
// (Store.Reach) must lead to the sender's record. The op at SenderOp is
// the record's: when another message wrote the record in between,
// Batch.Found holds what it wrote, for Merge.
func (s *Store) Ops(b *queue.Batch, m Message, thread bool) (Touched, error) {
	add := func(op queue.Op) int {
		b.Ops = append(b.Ops, op)
		return len(b.Ops)
	}
	cmd := func(args ...any) queue.Op { return queue.Op{Cmd: args} }
	if m.OptedOut {
		add(cmd("pexpire", s.optOutKey(m.Sender), optOutTTL.Milliseconds()))
	}
	now := time.Now()
	rec := m.Read.rec
	rec.Handles, rec.Marks = maps.Clone(rec.Handles), maps.Clone(rec.Marks) // the read stays as read
	// An earlier release's thread lived at most the window: the record
	// may live on, the thread must not.
	rec.endLegacy(now, m.ThreadWindow)
	if thread {
		rec.setThread(Thread{Case: m.Case, Agencies: m.Agencies, Seq: m.Seq, Last: m.Last}, now, m.ThreadWindow)
	}
	if m.Rate != nil {
		rate := *m.Rate
		rec.Rate = &rate
	}
	if m.Mark != "" {
		rec.addMark(m.Mark, m.Case, now.Add(m.DedupeTTL))
	}
	touched := Touched{ops: map[string]int{}, SenderOp: -1}
	var handles []queue.Op
	sealedHere := false
	if s.key != nil && m.Handle != nil {
		ttl := m.HandleTTL.Milliseconds()
		var sealed []byte
		for _, a := range m.Agencies {
			// The time of the last message moves in the record.
			rec.addHandle(a, m.Case, m.Last, m.Last.Add(m.HandleTTL))
			if m.InThread && contains(m.ThreadAgencies, a) {
				e, inRecord := rec.sealedHandle(a, m.Case, now)
				if inRecord && s.key.Placed(placeHandle(m.Case), e.Sealed) {
					// The record holds it: it lives as the record says.
					sealedHere = true
					continue
				}
				if !inRecord {
					// A handle under a key of its own: PEXPIRE says whether
					// it is there (TouchHandle).
					handles = append(handles, cmd("pexpire", s.handleKey(a, m.Case), ttl))
					touched.ops[a] = len(b.Ops) + len(handles) - 1
					touched.Agencies = append(touched.Agencies, a)
					continue
				}
				// An earlier release's, which names no case: sealed again.
			}
			if sealed == nil {
				var err error
				if sealed, err = s.key.SealJSON(placeHandle(m.Case), *m.Handle); err != nil {
					return touched, fmt.Errorf("failed to seal reply handle: %w", err)
				}
			}
			// In the record, which the tip's Reach leads to (Reach).
			rec.mergeHandle(a+" "+m.Case, handleEntry{Sealed: sealed})
			sealedHere = true
		}
	}
	if thread || m.Rate != nil || m.Mark != "" || len(handles) > 0 || sealedHere {
		// The record first: a handle that exists is always one an exit
		// word can find (one it holds, an exit word's write destroys).
		rec.prune(now)
		if rec.ttl(now) > 0 {
			touched.SenderOp = add(s.senderOp(m.Sender, m.Read.Read, m.Mark, rec, now)) - 1
			for k := range touched.ops {
				touched.ops[k]++
			}
		}
	}
	b.Ops = append(b.Ops, handles...)
	if m.Scrub != nil {
		if err := s.scrubs.BatchOps(b, m.TipID, *m.Scrub, m.ScrubDue); err != nil {
			return touched, err
		}
	}
	return touched, nil
}

func contains(list []string, x string) bool {
	for _, v := range list {
		if v == x {
			return true
		}
	}
	return false
}

// announceScript writes the sender's record (ARGV[2], for ARGV[3] ms) if
// it is still ARGV[1] ("" for none); else it returns the record as it is.
var announceScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if (v or '') ~= ARGV[1] then return {0, v or ''} end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return {1, ''}
`)

// Announce opens the sender's thread t (its case, and the agencies its
// first message goes to) before the message that opens it is queued, when
// that takes long (a photo is downloaded first): the sender's next
// messages, which may reach another gateway meanwhile, then join its case,
// at its agencies, instead of opening their own. st is the sender as
// ReadSender read them, whose record must still be there unchanged: it
// then becomes the record written, which the message's batch replaces
// with the tip, and Announce reports true. A record another message wrote
// since is left alone (the batch merges it, as ever): if it holds an open
// thread, st takes that thread, for the message to join.
func (s *Store) Announce(ctx context.Context, sender string, st *Sender, t Thread, window time.Duration) (bool, error) {
	if st.Err != nil || st.InThread {
		return false, nil
	}
	now := time.Now()
	rec := st.rec
	rec.Handles, rec.Marks = maps.Clone(rec.Handles), maps.Clone(rec.Marks) // the read stays as read
	rec.endLegacy(now, window)
	rec.setThread(Thread{Case: t.Case, Agencies: t.Agencies, Seq: 1, Last: now}, now, window)
	rec.prune(now)
	val := rec.encode()
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	res, err := announceScript.Run(ctx, s.rdb, []string{s.threadKey(sender)}, st.Read, val, max(rec.ttl(now).Milliseconds(), 1)).Slice()
	if err != nil {
		return false, s.fail(err)
	}
	if len(res) != 2 {
		return false, s.fail(fmt.Errorf("announce: an answer of %d values, want 2", len(res)))
	}
	if n, _ := res[0].(int64); n == 1 {
		st.Read, st.rec = val, rec
		return true, nil
	}
	if found, _ := res[1].(string); found != "" {
		st.Thread, st.InThread = parseRecord(found).thread(time.Now())
	}
	return false, nil
}
