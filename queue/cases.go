package queue

import (
	"context"
	"encoding/json"
	"maps"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Message is one message of a case: the first one, whose stream entry is
// the case's queue item, or one appended to it later (see publishScript).
// Sealed is set only where the reader may read it (Open, a claim).
type Message struct {
	TipID      string
	Channel    string
	Priority   Priority
	ReceivedAt time.Time
	Sealed     []byte
}

// caseFields are the fields of msgs that describe an item as a whole: how
// many messages were appended, the last one ("received-ms tip-id"), and
// whether an urgent one arrived while it was held.
func caseFields(item string) []string { return []string{item + "#", item + "@", item + "!"} }

// applyCase sets the case's message count, last message and urgency on l
// from the values of caseFields.
func applyCase(l *Listed, vals []any) {
	l.MessageCount, l.LastAt = 1, l.ReceivedAt
	if len(vals) != 3 {
		return
	}
	if s, _ := vals[0].(string); s != "" {
		n, _ := strconv.Atoi(s)
		l.MessageCount += n
	}
	if s, _ := vals[1].(string); s != "" {
		ms, _, _ := strings.Cut(s, " ")
		if v, err := strconv.ParseInt(ms, 10, 64); err == nil {
			l.LastAt = time.UnixMilli(v).UTC()
		}
	}
	if s, _ := vals[2].(string); s != "" && l.State != StateClosed {
		l.Priority = Urgent
	}
}

// maxMessages bounds the messages of a case read at once.
const maxMessages = 10000

// messages returns the messages of item in order, first the item's own
// (from first), with their sealed reports when sealed is set.
func (q *Queue) messages(ctx context.Context, agency, item string, first Entry, sealed bool) ([]Message, error) {
	out := []Message{{TipID: first.TipID, Channel: first.Channel, Priority: first.Priority, ReceivedAt: first.ReceivedAt}}
	if sealed {
		out[0].Sealed = first.Sealed
	}
	n, err := q.rdb.HGet(ctx, q.msgs(agency), item+"#").Int()
	if err != nil && err != redis.Nil {
		return nil, q.calls.Fail("", err)
	}
	if n <= 0 {
		return out, nil
	}
	n = min(n, maxMessages)
	fields := make([]string, n)
	for i := range fields {
		fields[i] = item + "#" + strconv.Itoa(i+1)
	}
	ids, err := q.rdb.HMGet(ctx, q.msgs(agency), fields...).Result()
	if err != nil {
		return nil, q.calls.Fail("", err)
	}
	tips := make([]string, 0, n)
	for _, v := range ids {
		if s, _ := v.(string); s != "" {
			tips = append(tips, s)
		}
	}
	if len(tips) == 0 {
		return out, nil
	}
	var metas, bodies *redis.SliceCmd
	_, err = q.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		metas = p.HMGet(ctx, q.meta(agency), tips...)
		if sealed {
			bodies = p.HMGet(ctx, q.msgs(agency), tips...)
		}
		return nil
	})
	if err != nil {
		return nil, q.calls.Fail("", err)
	}
	for i, t := range tips {
		var m tipMeta
		raw, _ := metas.Val()[i].(string)
		if json.Unmarshal([]byte(raw), &m) != nil {
			continue
		}
		msg := Message{TipID: t, Channel: m.Channel, Priority: m.Priority, ReceivedAt: time.UnixMilli(m.Received).UTC()}
		if sealed {
			b, _ := bodies.Val()[i].(string)
			msg.Sealed = []byte(b)
		}
		out = append(out, msg)
	}
	return out, nil
}

// Appended is a message appended to a held case: Item is the case's item,
// Tip the new message, Holder who holds the case, Priority the case's.
type Appended struct {
	Item, Case, Tip, Holder string
	Priority                Priority
}

// Watch returns the agency's counts and the messages appended to held
// cases since the last call with the same seen (item -> message count, as
// the call left it; "" marks it filled): the holders are told of them.
// The first call only fills seen, and a case is told of from the call
// after the one that first saw it (a case opened, claimed and appended to
// between two calls shows that message when shown, untold). It is
// Snapshot then Appended: watchers of one agency may share the snapshot.
func (q *Queue) Watch(ctx context.Context, agency string, seen map[string]int) (Counts, []Appended, error) {
	snap, err := q.Snapshot(ctx, agency)
	if err != nil {
		return Counts{}, nil, err
	}
	told, err := q.Appended(ctx, agency, snap, seen)
	return snap.Counts, told, err
}

// Snapshot is an agency's open items as one walk read them: their counts,
// and what Appended tells from. Read only once made: any number of
// watchers may share one.
type Snapshot struct {
	Counts Counts
	items  map[string]watched
}

// watched is what a Snapshot keeps of an open item.
type watched struct {
	Case, Holder string
	Priority     Priority
	State        string
	Messages     int
}

// Snapshot walks the agency's open items once (never holding their
// metadata whole, nor sorting them).
func (q *Queue) Snapshot(ctx context.Context, agency string) (*Snapshot, error) {
	s := &Snapshot{Counts: newCounts(), items: map[string]watched{}}
	err := q.eachOpen(ctx, agency, func(l Listed) {
		s.Counts.add(l)
		s.items[l.TipID] = watched{Case: l.Case, Holder: l.Holder, Priority: l.Priority, State: l.State, Messages: l.MessageCount}
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Appended is Watch's second half for one watcher: the messages appended
// to held cases since its last call with seen, as snap shows the items.
func (q *Queue) Appended(ctx context.Context, agency string, snap *Snapshot, seen map[string]int) ([]Appended, error) {
	first := seen[""] == 0
	type want struct {
		id   string
		it   watched
		from int
	}
	var wants []want
	var fields []string
	next := make(map[string]int, len(snap.items)+1)
	for id, it := range snap.items {
		before, ok := seen[id]
		next[id] = it.Messages
		if first || !ok || it.State != StateHeld {
			// Counts of waiting cases are kept too, so that a message
			// appended right after a claim is still told.
			continue
		}
		for n := max(before, 1); n < it.Messages; n++ {
			wants = append(wants, want{id, it, n})
			fields = append(fields, id+"#"+strconv.Itoa(n))
		}
	}
	clear(seen)
	maps.Copy(seen, next)
	seen[""] = 1
	if len(fields) == 0 {
		return nil, nil
	}
	ctx, cancel := q.calls.Context(ctx)
	defer cancel()
	tips, err := q.rdb.HMGet(ctx, q.msgs(agency), fields...).Result()
	if err != nil {
		return nil, q.calls.Fail("", err)
	}
	out := make([]Appended, 0, len(fields))
	for i, w := range wants {
		if t, _ := tips[i].(string); t != "" {
			out = append(out, Appended{Item: w.id, Case: w.it.Case, Tip: t, Holder: w.it.Holder, Priority: w.it.Priority})
		}
	}
	return out, nil
}
