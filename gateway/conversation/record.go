package conversation

// One record per sender: what the gateway keeps of a sender lives under
// one key in the sender's slot, so that a message writes it with one SET
// (with the tip, queue.Batch): the open thread, the reply handles saved
// for the sender (the index an exit word reads, and the sealed handles
// written with their tips), the dedupe marks of the sender's latest
// messages and the sender's count against
// channel.limits.sender_per_hour. Each part carries its own end; the key
// lives as long as the longest.
//
// Earlier releases kept the thread alone under this key (for the thread
// window) and the handle index and the count under keys of their own: such
// a thread is read as open while its key lives, and an exit word still
// reads the old index. A count under the old key is not carried over: a
// sender's first hour after the upgrade starts a new window.

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/hotline-org/hotline/queue"
	"github.com/redis/go-redis/v9"
)

// Rate is a sender's count in the limiter's current window.
type Rate struct {
	Count int64 `json:"n"`
	Until int64 `json:"until"` // the window's end, Unix ms
}

// record is a sender's record.
type record struct {
	Case     string    `json:"case,omitempty"`
	Agencies []string  `json:"agencies,omitempty"`
	Seq      int       `json:"seq,omitempty"`
	Last     time.Time `json:"last,omitzero"`
	// Open is when the thread closes (Unix ms); 0 for an earlier
	// release's thread, open while its key lives.
	Open int64 `json:"open,omitempty"`
	// Handles: "agency case" -> the sender's last message on the case and
	// until when its handle may live. A handle holds the sealed handle
	// alone, so that it is written once per case: the time of the last
	// message, which the reply window counts from, moves here.
	Handles map[string]handleEntry `json:"handles,omitempty"`
	Rate    *Rate                  `json:"rate,omitempty"`
	// Marks are the dedupe marks of the sender's messages queued lately:
	// the pseudonym of the provider's message id -> its case, until when
	// (queue.Op.Mark reads them).
	Marks map[string]mark `json:"marks,omitempty"`
}

// mark is a message's dedupe mark.
type mark struct {
	Case  string `json:"case"`
	Until int64  `json:"until"`
}

// maxMarks bounds the marks a record keeps, the latest: a retry comes
// within minutes of its message (Twilio's fallback, a gateway's own
// retry), so only a sender of more messages than this in that time could
// see a retry queued again, as a second copy, never lost.
const maxMarks = 64

// seen is the dedupe mark of a message, as ParseSeen reads it ("" for
// none).
func (r record) seen(id string, now time.Time) string {
	if m, ok := r.Marks[id]; ok && m.Until > now.UnixMilli() {
		return "done " + m.Case
	}
	return ""
}

// addMark marks a message queued as caseRef, until until.
func (r *record) addMark(id, caseRef string, until time.Time) {
	if r.Marks == nil {
		r.Marks = map[string]mark{}
	}
	r.Marks[id] = mark{Case: caseRef, Until: max(r.Marks[id].Until, until.UnixMilli())}
}

// handleEntry is a handle as the sender's record lists it (Unix ms), and
// the handle itself, sealed to the gateway's reply key, for a handle
// written with its tip (Store.Ops): the record is written with every
// message anyway, so the handle costs no command of its own, and an exit
// word that rewrites the record destroys it. Handles of earlier releases,
// and those saved one call each (SaveHandle), have a key of their own and
// no Sealed here.
type handleEntry struct {
	Last   int64  `json:"last"`
	Until  int64  `json:"until"`
	Sealed []byte `json:"h,omitempty"`
}

// parseRecord reads a record ("" for none). A value that is not one reads
// as an empty record: the state only helps, and the next write replaces it.
func parseRecord(v string) record {
	var r record
	if v != "" && json.Unmarshal([]byte(v), &r) != nil {
		return record{}
	}
	return r
}

func (r record) encode() string {
	b, _ := json.Marshal(r)
	return string(b)
}

// thread is the record's thread, if open at now.
func (r record) thread(now time.Time) (Thread, bool) {
	if r.Case == "" || (r.Open != 0 && now.UnixMilli() >= r.Open) {
		return Thread{}, false
	}
	return Thread{Case: r.Case, Agencies: r.Agencies, Seq: r.Seq, Last: r.Last}, true
}

// rate is the count of the window open at now, if any.
func (r record) rate(now time.Time) *Rate {
	if r.Rate == nil || now.UnixMilli() >= r.Rate.Until {
		return nil
	}
	return r.Rate
}

// setThread makes t the record's thread, open for window from now.
func (r *record) setThread(t Thread, now time.Time, window time.Duration) {
	r.Case, r.Agencies, r.Seq, r.Last = t.Case, t.Agencies, t.Seq, t.Last
	r.Open = now.Add(window).UnixMilli()
}

// closeThread drops the thread.
func (r *record) closeThread() {
	r.Case, r.Agencies, r.Seq, r.Last, r.Open = "", nil, 0, time.Time{}, 0
}

// addHandle lists the agency's handle for a case, with the sender's last
// message on it, until until.
func (r *record) addHandle(agency, caseRef string, last, until time.Time) {
	r.mergeHandle(agency+" "+caseRef, handleEntry{Last: last.UnixMilli(), Until: until.UnixMilli()})
}

// mergeHandle keeps the later of each time, and e's sealed handle, or
// the one listed if e has none.
func (r *record) mergeHandle(k string, e handleEntry) {
	if r.Handles == nil {
		r.Handles = map[string]handleEntry{}
	}
	o := r.Handles[k]
	sealed := e.Sealed
	if len(sealed) == 0 {
		sealed = o.Sealed
	}
	r.Handles[k] = handleEntry{Last: max(o.Last, e.Last), Until: max(o.Until, e.Until), Sealed: sealed}
}

// sealedHandle is the agency's handle for a case that the record holds,
// if it lives at now.
func (r record) sealedHandle(agency, caseRef string, now time.Time) (handleEntry, bool) {
	e, ok := r.Handles[agency+" "+caseRef]
	return e, ok && len(e.Sealed) > 0 && e.Until > now.UnixMilli()
}

// handleLast is the sender's last message on the agency's case, as the
// record lists it (zero for none).
func (r record) handleLast(agency, caseRef string) time.Time {
	if e, ok := r.Handles[agency+" "+caseRef]; ok && e.Last > 0 {
		return time.UnixMilli(e.Last)
	}
	return time.Time{}
}

// absorb takes into r what another writer left in o, the record it
// replaced: o's handles (an exit word must find them all), its marks, and
// the messages it counted that r has not (a message's mark says it was
// counted), so that messages racing each other are each counted once,
// however their reads and merges interleave; r's thread stands, or o's if
// r has none; the same thread in both keeps the agencies of both and the
// later message's number.
func (r *record) absorb(o record, now time.Time) {
	unseen := 0
	for id := range o.Marks {
		if _, ok := r.Marks[id]; !ok {
			unseen++
		}
	}
	switch {
	case r.Case == "" && o.Case != "":
		r.Case, r.Agencies, r.Seq, r.Last, r.Open = o.Case, o.Agencies, o.Seq, o.Last, o.Open
	case r.Case != "" && r.Case == o.Case:
		for _, a := range o.Agencies {
			if !slices.Contains(r.Agencies, a) {
				r.Agencies = append(r.Agencies, a)
			}
		}
		r.Seq = max(r.Seq, o.Seq)
		if o.Last.After(r.Last) {
			r.Last = o.Last
		}
		r.Open = max(r.Open, o.Open)
	}
	for k, e := range o.Handles {
		r.mergeHandle(k, e)
	}
	for id, m := range o.Marks {
		r.addMark(id, m.Case, time.UnixMilli(m.Until))
	}
	switch {
	case o.Rate == nil:
	case r.Rate == nil:
		c := *o.Rate
		r.Rate = &c
	default:
		// Windows started by racing first messages end a few
		// milliseconds apart: the earliest is the window.
		r.Rate.Count += int64(unseen)
		r.Rate.Until = min(r.Rate.Until, o.Rate.Until)
	}
	r.prune(now)
}

// prune drops what has ended.
func (r *record) prune(now time.Time) {
	ms := now.UnixMilli()
	for k, e := range r.Handles {
		if e.Until <= ms {
			delete(r.Handles, k)
		}
	}
	if r.Rate != nil && r.Rate.Until <= ms {
		r.Rate = nil
	}
	for id, m := range r.Marks {
		if m.Until <= ms {
			delete(r.Marks, id)
		}
	}
	if len(r.Marks) > maxMarks {
		ids := slices.SortedFunc(maps.Keys(r.Marks), func(a, b string) int { return cmp.Compare(r.Marks[b].Until, r.Marks[a].Until) })
		for _, id := range ids[maxMarks:] {
			delete(r.Marks, id)
		}
	}
	if r.Open != 0 && r.Open <= ms {
		r.closeThread()
	}
}

// endLegacy gives an earlier release's thread (Open 0, open while its key
// lived) the end its key had, left from now: once the record lives on for
// its other parts, the thread must still close on time.
func (r *record) endLegacy(now time.Time, left time.Duration) {
	if r.Case != "" && r.Open == 0 {
		r.Open = now.Add(max(left, time.Millisecond)).UnixMilli()
	}
}

// ttl is how long the record must live from now: as long as its longest
// part (0: nothing left to keep).
func (r record) ttl(now time.Time) time.Duration {
	end := r.Open
	for _, e := range r.Handles {
		end = max(end, e.Until)
	}
	if r.Rate != nil {
		end = max(end, r.Rate.Until)
	}
	for _, m := range r.Marks {
		end = max(end, m.Until)
	}
	return time.Duration(end-now.UnixMilli()) * time.Millisecond
}

// senderOp is the batch op that writes the sender's record rec in place of
// read, the value ReadSender found: one SET ... GET, checked, so that a
// record another message wrote in between is merged back after (Merge).
// With markID (the message's dedupe mark, in rec) it is the batch's guard:
// a record another delivery of the same message wrote in between stops the
// batch (queue.Op.Mark).
func (s *Store) senderOp(sender, read, markID string, rec record, now time.Time) queue.Op {
	ttl := rec.ttl(now)
	return queue.Op{Cmd: []any{"set", s.threadKey(sender), rec.encode(), "px", max(ttl.Milliseconds(), 1), "get"},
		Check: true, Want: read, Guard: markID != "", Mark: markID}
}

// maxUpdateTries bounds the optimistic retries of updateSender: messages
// of one sender racing each other merge one after another.
const maxUpdateTries = 32

// errContended is returned when a sender's record changed under every try.
var errContended = errors.New("sender record changed under every try")

// updateSender changes the sender's record with f, atomically (WATCH): f
// gets the record as it is, pruned, and changes it; the record is then
// written for as long as its parts live, or deleted when nothing is left.
func (s *Store) updateSender(ctx context.Context, sender string, f func(r *record, now time.Time)) error {
	key := s.threadKey(sender)
	for range maxUpdateTries {
		err := s.rdb.Watch(ctx, func(tx *redis.Tx) error {
			var get *redis.StringCmd
			var pttl *redis.DurationCmd
			if _, err := tx.Pipelined(ctx, func(p redis.Pipeliner) error {
				get = p.Get(ctx, key)
				pttl = p.PTTL(ctx, key)
				return nil
			}); err != nil && !errors.Is(err, redis.Nil) {
				return err
			}
			now := time.Now()
			r := parseRecord(get.Val())
			r.endLegacy(now, pttl.Val())
			r.prune(now)
			f(&r, now)
			ttl := r.ttl(now)
			_, err := tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				if ttl <= 0 {
					p.Del(ctx, key)
				} else {
					p.Set(ctx, key, r.encode(), ttl)
				}
				return nil
			})
			return err
		}, key)
		if !errors.Is(err, redis.TxFailedErr) {
			return err
		}
	}
	return errContended
}

// Merge takes into the sender's record what another message wrote there
// between a batch's read and its write (found, Touched.Found): the
// handles it listed, its dedupe marks and what it counted.
func (s *Store) Merge(ctx context.Context, sender, found string) error {
	o := parseRecord(found)
	if len(o.Handles) == 0 && len(o.Marks) == 0 && o.Rate == nil && o.Case == "" {
		return nil
	}
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	if err := s.updateSender(ctx, sender, func(r *record, now time.Time) { r.absorb(o, now) }); err != nil {
		return s.fail(fmt.Errorf("sender record not merged: %w", err))
	}
	return nil
}
