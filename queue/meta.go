package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// tipMeta is the clear metadata of a tip kept beside its stream entry, so
// that lists and counts never read a sealed report. Priority and stream id
// live in the index, which escalation updates.
type tipMeta struct {
	Case     string `json:"case"`
	Agency   string `json:"agency"`
	Region   string `json:"region,omitempty"`
	Channel  string `json:"channel"`
	Received int64  `json:"received"`
	Reply    bool   `json:"reply,omitempty"`
	// Priority is an appended message's own (an item's is in the index).
	Priority Priority `json:"priority,omitempty"`
	// Item is the tip id of the case's queue item a message was appended
	// to (set by publishScript); empty for the item's own first message.
	Item string `json:"item,omitempty"`
	// Ref is an item's "priority stream-id", as publishScript queued it;
	// the index's, if any, stands over it (an entry that moved, an item
	// queued by an earlier release, which kept it there only).
	Ref string `json:"ref,omitempty"`
	// Reach is the entry's (Entry.Reach).
	Reach []byte `json:"reach,omitempty"`
}

// itemRef is the ref of an item from what the index (idx, "" for none)
// and its metadata (raw) hold; refOfLua is the same in the scripts.
func itemRef(idx, raw string) string {
	if idx != "" {
		return idx
	}
	var m tipMeta
	if json.Unmarshal([]byte(raw), &m) != nil || m.Item != "" {
		return ""
	}
	return m.Ref
}

func metaOf(e Entry) string {
	b, _ := json.Marshal(tipMeta{Case: e.Case, Agency: e.Agency, Region: e.Region, Channel: e.Channel,
		Received: e.ReceivedAt.UnixMilli(), Reply: e.ReplyCapable, Priority: e.Priority, Reach: e.Reach})
	return string(b)
}

func (m tipMeta) entry(tipID string, p Priority) Entry {
	return Entry{TipID: tipID, Case: m.Case, Agency: m.Agency, Region: m.Region, Channel: m.Channel,
		Priority: p, ReceivedAt: time.UnixMilli(m.Received).UTC(), ReplyCapable: m.Reply, Reach: m.Reach}
}

// maxList bounds a list call.
const maxList = 1000

// maxPending bounds the pending entries read per priority for a list.
const maxPending = 10000

// List returns the agency's tips that are not closed, urgent first, oldest
// first, at most limit of them. It reads the clear metadata only.
func (q *Queue) List(ctx context.Context, agency string, limit int) ([]Listed, error) {
	if limit <= 0 || limit > maxList {
		limit = maxList
	}
	return q.list(ctx, agency, limit)
}

// list is List with any limit (0: all open tips).
func (q *Queue) list(ctx context.Context, agency string, limit int) ([]Listed, error) {
	order := func(a, b Listed) int {
		if a.Priority != b.Priority {
			return slices.Index(Priorities, a.Priority) - slices.Index(Priorities, b.Priority)
		}
		return compareStreamIDs(a.StreamID, b.StreamID)
	}
	var out []Listed
	err := q.eachOpen(ctx, agency, func(l Listed) {
		out = append(out, l)
		// Cut to the limit as it goes: a list of a flood's queue holds
		// twice the limit at most, not every open item.
		if limit > 0 && len(out) >= 2*limit {
			slices.SortFunc(out, order)
			out = out[:limit]
		}
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, order)
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// openChunk is how many open items eachOpen reads at a time: a flood's
// queue (tens of thousands of cases) is counted in bounded memory, and no
// single reply holds Redis long.
const openChunk = 512

// eachOpen calls fn for each of the agency's open items, in no order, from
// the clear metadata only. It reads their metadata openChunk at a time.
func (q *Queue) eachOpen(ctx context.Context, agency string, fn func(Listed)) error {
	if err := q.backfillMeta(ctx, agency); err != nil {
		return err
	}
	// The open items: those of the cases open, and those filed in the
	// open set by a gateway older than cases.
	var legacy *redis.StringSliceCmd
	var items *redis.MapStringStringCmd
	cctx, cancel := q.calls.Context(ctx)
	_, err := q.rdb.Pipelined(cctx, func(p redis.Pipeliner) error {
		legacy = p.SMembers(cctx, q.openSet(agency))
		items = p.HGetAll(cctx, q.cases(agency))
		return nil
	})
	cancel()
	if err != nil {
		return q.calls.Fail("", err)
	}
	ids := legacy.Val()
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		seen[id] = true
	}
	for _, id := range items.Val() {
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	return q.eachItem(ctx, agency, ids, true, fn)
}

// caseOpen reports whether the agency has an open item of caseRef: the
// item the cases hash files the case under, or one that a gateway older
// than cases filed in the open set (each of those is read). Its cost does
// not grow with the open queue: retention asks it of every tip it purges.
func (q *Queue) caseOpen(ctx context.Context, agency, caseRef string) (bool, error) {
	if err := q.backfillMeta(ctx, agency); err != nil {
		return false, err
	}
	var legacy *redis.StringSliceCmd
	var filed *redis.StringCmd
	cctx, cancel := q.calls.Context(ctx)
	_, err := q.rdb.Pipelined(cctx, func(p redis.Pipeliner) error {
		legacy = p.SMembers(cctx, q.openSet(agency))
		filed = p.HGet(cctx, q.cases(agency), caseRef)
		return nil
	})
	cancel()
	if err != nil && !errors.Is(err, redis.Nil) {
		return false, q.calls.Fail("", err)
	}
	ids := legacy.Val()
	if id := filed.Val(); id != "" && !slices.Contains(ids, id) {
		ids = append(ids, id)
	}
	open := false
	err = q.eachItem(ctx, agency, ids, false, func(l Listed) { open = open || l.Case == caseRef })
	return open, err
}

// eachItem calls fn for each of the items ids that is open, reading their
// metadata openChunk at a time; with pending, their deliveries and holder
// too (else each is Waiting).
func (q *Queue) eachItem(ctx context.Context, agency string, ids []string, pending bool, fn func(Listed)) error {
	if len(ids) == 0 {
		return nil
	}
	held := map[string]redis.XPendingExt{}
	for _, p := range Priorities {
		if !pending {
			break
		}
		// Each round trip has the deadline of one call, not the whole
		// walk: a flood's queue takes many chunks.
		cctx, cancel := q.calls.Context(ctx)
		pend, err := q.rdb.XPendingExt(cctx, &redis.XPendingExtArgs{Stream: q.stream(agency, p), Group: group, Start: "-", End: "+", Count: maxPending}).Result()
		cancel()
		if err != nil && !isNoGroup(err) {
			return q.calls.Fail("", err)
		}
		for _, pe := range pend {
			held[string(p)+" "+pe.ID] = pe
		}
	}
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), openChunk)]
		ids = ids[len(chunk):]
		var refs, metas, closed, escalated, cases *redis.SliceCmd
		fields := make([]string, 0, 3*len(chunk))
		for _, id := range chunk {
			fields = append(fields, caseFields(id)...)
		}
		cctx, cancel := q.calls.Context(ctx)
		_, err := q.rdb.Pipelined(cctx, func(p redis.Pipeliner) error {
			refs = p.HMGet(cctx, q.index(agency), chunk...)
			metas = p.HMGet(cctx, q.meta(agency), chunk...)
			closed = p.HMGet(cctx, q.closed(agency), chunk...)
			escalated = p.HMGet(cctx, q.escalated(agency), chunk...)
			cases = p.HMGet(cctx, q.msgs(agency), fields...)
			return nil
		})
		cancel()
		if err != nil {
			return q.calls.Fail("", err)
		}
		for i, id := range chunk {
			idx, _ := refs.Val()[i].(string)
			raw, _ := metas.Val()[i].(string)
			if c, _ := closed.Val()[i].(string); c != "" || raw == "" {
				continue
			}
			// Decoded once: the ref is itemRef's.
			var m tipMeta
			if json.Unmarshal([]byte(raw), &m) != nil {
				continue
			}
			ref := idx
			if ref == "" && m.Item == "" {
				ref = m.Ref
			}
			p, sid, ok := strings.Cut(ref, " ")
			if !ok || !Priority(p).Valid() {
				continue
			}
			esc, _ := escalated.Val()[i].(string)
			l := Listed{Entry: m.entry(id, Priority(p)), StreamID: sid, State: StateWaiting, Escalated: esc != ""}
			if pe, ok := held[ref]; ok {
				q.applyPending(&l, pe)
			}
			applyCase(&l, cases.Val()[3*i:3*i+3])
			fn(l)
		}
	}
	return nil
}

func (q *Queue) applyPending(l *Listed, pe redis.XPendingExt) {
	l.Deliveries = pe.RetryCount
	if pe.Consumer != releasedConsumer && pe.Idle < q.opt.Lease {
		l.State, l.Holder = StateHeld, pe.Consumer
		l.LeaseUntil = time.Now().Add(q.opt.Lease - pe.Idle)
	}
}

func compareStreamIDs(a, b string) int {
	am, as, _ := strings.Cut(a, "-")
	bm, bs, _ := strings.Cut(b, "-")
	x, _ := strconv.ParseUint(am, 10, 64)
	y, _ := strconv.ParseUint(bm, 10, 64)
	if x != y {
		if x < y {
			return -1
		}
		return 1
	}
	x, _ = strconv.ParseUint(as, 10, 64)
	y, _ = strconv.ParseUint(bs, 10, 64)
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// Counts are the number of open tips by priority and state.
type Counts struct {
	Waiting map[Priority]int `json:"waiting"`
	Held    map[Priority]int `json:"held"`
	// OldestWaiting is when the oldest waiting tip of each priority arrived.
	OldestWaiting map[Priority]time.Time `json:"oldest_waiting,omitempty"`
}

// Count returns the agency's open tips by priority and state, from the
// clear metadata only. It counts every open tip, not only a list's worth.
// It reads them a chunk at a time (eachOpen) and keeps none: the pager
// counts every interval (30 s by default), and a flood's queue must not
// make each check hold the whole queue's metadata (30,000 tips were 31 MB).
func (q *Queue) Count(ctx context.Context, agency string) (Counts, error) {
	c := newCounts()
	if err := q.eachOpen(ctx, agency, c.add); err != nil {
		return Counts{}, err
	}
	return c, nil
}

func newCounts() Counts {
	c := Counts{Waiting: map[Priority]int{}, Held: map[Priority]int{}, OldestWaiting: map[Priority]time.Time{}}
	for _, p := range Priorities {
		c.Waiting[p], c.Held[p] = 0, 0
	}
	return c
}

// add counts one open item (the maps are shared with c's copies).
func (c Counts) add(l Listed) {
	if l.State == StateHeld {
		c.Held[l.Priority]++
		return
	}
	c.Waiting[l.Priority]++
	if o, ok := c.OldestWaiting[l.Priority]; !ok || l.ReceivedAt.Before(o) {
		c.OldestWaiting[l.Priority] = l.ReceivedAt
	}
}

// Meta returns the clear metadata and state of a case's queue item, found
// by the tip id of any of its messages or by its case ref (see find),
// without its sealed reports.
func (q *Queue) Meta(ctx context.Context, agency, tipID string) (*Listed, error) {
	ctx, cancel := q.calls.Context(ctx)
	defer cancel()
	tipID, stream, id, err := q.find(ctx, agency, tipID)
	if err != nil {
		return nil, err
	}
	p := Priority(strings.TrimPrefix(stream, q.opt.Prefix+":{"+agency+"}:tips:"))
	var m tipMeta
	var raw, closed, esc *redis.StringCmd
	var cases *redis.SliceCmd
	_, err = q.rdb.Pipelined(ctx, func(pl redis.Pipeliner) error {
		raw = pl.HGet(ctx, q.meta(agency), tipID)
		closed = pl.HGet(ctx, q.closed(agency), tipID)
		esc = pl.HGet(ctx, q.escalated(agency), tipID)
		cases = pl.HMGet(ctx, q.msgs(agency), caseFields(tipID)...)
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, q.calls.Fail("", err)
	}
	switch {
	case errors.Is(raw.Err(), redis.Nil):
		// A tip queued before metadata was kept apart, and not yet
		// backfilled: read its entry once.
		e, err := q.entry(ctx, stream, id)
		if err != nil {
			return nil, err
		}
		m = tipMeta{Case: e.Case, Agency: e.Agency, Region: e.Region, Channel: e.Channel, Received: e.ReceivedAt.UnixMilli(), Reply: e.ReplyCapable}
	default:
		if json.Unmarshal([]byte(raw.Val()), &m) != nil {
			return nil, fmt.Errorf("%w: malformed metadata", ErrInvalid)
		}
	}
	l := &Listed{Entry: m.entry(tipID, p), StreamID: id, State: StateWaiting}
	if c := closed.Val(); c != "" {
		l.State, l.Closed = StateClosed, parseClosure(c)
	} else {
		pend, err := q.rdb.XPendingExt(ctx, &redis.XPendingExtArgs{Stream: stream, Group: group, Start: id, End: id, Count: 1}).Result()
		if err != nil && !isNoGroup(err) {
			return nil, q.calls.Fail("", err)
		}
		if len(pend) == 1 {
			q.applyPending(l, pend[0])
		}
	}
	l.Escalated = esc.Val() != ""
	applyCase(l, cases.Val())
	return l, nil
}

func (q *Queue) entry(ctx context.Context, stream, id string) (Entry, error) {
	msgs, err := q.rdb.XRange(ctx, stream, id, id).Result()
	if err != nil {
		return Entry{}, q.calls.Fail("", err)
	}
	if len(msgs) == 0 {
		return Entry{}, ErrNotFound
	}
	return entryFrom(msgs[0].Values)
}

// mayRead lets the officer holding a tip (under a lease that has not
// lapsed) read its sealed content, and a supervisor any tip of the agency
// once the read is in the audit trail.
// It returns the tip id of the case's item.
func (q *Queue) mayRead(ctx context.Context, agency, tipID, officer string, supervisor bool, what string) (string, error) {
	l, err := q.Meta(ctx, agency, tipID)
	if err != nil {
		return "", err
	}
	if l.State == StateHeld && l.Holder == officer {
		return l.TipID, nil
	}
	if !supervisor {
		return "", ErrNotHolder
	}
	return l.TipID, q.Audit(ctx, agency, AuditRead, officer, l.TipID, what)
}

// Open returns a case with the sealed reports of all its messages, in
// order (Listed.Messages; the first one's is also returned apart), to the
// officer holding it or to a supervisor (whose read of a case they do not
// hold is audited first).
func (q *Queue) Open(ctx context.Context, agency, tipID, officer string, supervisor bool) (*Listed, []byte, error) {
	if _, err := q.mayRead(ctx, agency, tipID, officer, supervisor, "report"); err != nil {
		return nil, nil, err
	}
	l, err := q.Meta(ctx, agency, tipID)
	if err != nil {
		return nil, nil, err
	}
	cctx, cancel := q.calls.Context(ctx)
	defer cancel()
	stream, id, err := q.locate(cctx, agency, l.TipID)
	if err != nil {
		return nil, nil, err
	}
	e, err := q.entry(cctx, stream, id)
	if err != nil {
		return nil, nil, err
	}
	if l.Messages, err = q.messages(cctx, agency, l.TipID, e, true); err != nil {
		return nil, nil, err
	}
	return l, e.Sealed, nil
}

// backfillMeta keeps the clear metadata of tips queued without it (by a
// gateway older than metadata, during a rolling upgrade): the index's
// entries whose tip has none are read, once each. The index is looked
// through whenever it names more tips than the metadata does, and also
// the first time on this process and whenever its length changed since
// (an entry moved, an older gateway queued a tip, a purge): this
// release keeps a new tip's ref in its metadata, not in the index, so the
// metadata may outnumber the index while older tips still lack theirs.
// Otherwise it costs two HLEN.
func (q *Queue) backfillMeta(ctx context.Context, agency string) error {
	cctx, cancel := q.calls.Context(ctx)
	var indexed, described *redis.IntCmd
	_, err := q.rdb.Pipelined(cctx, func(p redis.Pipeliner) error {
		indexed = p.HLen(cctx, q.index(agency))
		described = p.HLen(cctx, q.meta(agency))
		return nil
	})
	cancel()
	if err != nil {
		return q.calls.Fail("", err)
	}
	if last, ok := q.scanned.Load(agency); ok && indexed.Val() == last.(int64) && indexed.Val() <= described.Val() {
		return nil
	}
	var cursor uint64
	for {
		cctx, cancel := q.calls.Context(ctx)
		kv, next, err := q.rdb.HScan(cctx, q.index(agency), cursor, "*", 200).Result()
		if err != nil {
			cancel()
			return q.calls.Fail("", err)
		}
		// One round trip a page says which tips lack their metadata.
		has := make([]*redis.BoolCmd, 0, len(kv)/2)
		if _, err := q.rdb.Pipelined(cctx, func(p redis.Pipeliner) error {
			for i := 0; i+1 < len(kv); i += 2 {
				has = append(has, p.HExists(cctx, q.meta(agency), kv[i]))
			}
			return nil
		}); err != nil {
			cancel()
			return q.calls.Fail("", err)
		}
		for i := 0; i+1 < len(kv); i += 2 {
			tipID, ref := kv[i], kv[i+1]
			p, id, ok := strings.Cut(ref, " ")
			if !ok || !Priority(p).Valid() || has[i/2].Val() {
				continue
			}
			e, err := q.entry(cctx, q.stream(agency, Priority(p)), id)
			if err != nil {
				continue
			}
			q.rdb.HSetNX(cctx, q.meta(agency), tipID, metaOf(e))
			if c, _ := q.rdb.HExists(cctx, q.closed(agency), tipID).Result(); !c {
				q.rdb.SAdd(cctx, q.openSet(agency), tipID)
			}
		}
		cancel()
		if next == 0 {
			q.scanned.Store(agency, indexed.Val())
			return nil
		}
		cursor = next
	}
}
