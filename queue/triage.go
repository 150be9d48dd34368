package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// State of a tip in the queue.
const (
	StateWaiting = "waiting" // nobody holds it
	StateHeld    = "held"    // an officer holds it under a lease
	StateClosed  = "closed"  // acknowledged with a disposition
)

// Listed is a tip's clear metadata, for lists and counts. It never carries
// the sealed report.
type Listed struct {
	Entry
	StreamID   string
	State      string
	Holder     string    // officer id, when held
	LeaseUntil time.Time // when held
	Deliveries int64
	Escalated  bool
	Closed     *Closure
}

// Closure is how a tip was closed.
type Closure struct {
	Disposition Disposition
	Officer     string
	At          time.Time
}

// maxList bounds a list call.
const maxList = 1000

// List returns the agency's tips that are not closed, urgent first, oldest
// first, at most limit of them.
func (q *Queue) List(ctx context.Context, agency string, limit int) ([]Listed, error) {
	if limit <= 0 || limit > maxList {
		limit = maxList
	}
	ctx, cancel := q.ctx(ctx)
	defer cancel()
	closed, err := q.rdb.HGetAll(ctx, q.closed(agency)).Result()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	escalated, err := q.rdb.HGetAll(ctx, q.escalated(agency)).Result()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	var out []Listed
	for _, p := range Priorities {
		stream := q.stream(agency, p)
		pending := map[string]redis.XPendingExt{}
		pend, err := q.rdb.XPendingExt(ctx, &redis.XPendingExtArgs{Stream: stream, Group: group, Start: "-", End: "+", Count: maxList}).Result()
		if err != nil && !isNoGroup(err) {
			return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
		for _, pe := range pend {
			pending[pe.ID] = pe
		}
		start := "-"
		for len(out) < limit {
			msgs, err := q.rdb.XRangeN(ctx, stream, start, "+", 200).Result()
			if err != nil {
				return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
			}
			for _, m := range msgs {
				e, err := entryFrom(m.Values)
				if err != nil || closed[e.TipID] != "" {
					continue
				}
				l := Listed{Entry: e, StreamID: m.ID, State: StateWaiting, Escalated: escalated[e.TipID] != ""}
				l.Sealed = nil
				if pe, ok := pending[m.ID]; ok {
					l.Deliveries = pe.RetryCount
					if pe.Consumer != releasedConsumer && pe.Idle < q.opt.Lease {
						l.State, l.Holder = StateHeld, pe.Consumer
						l.LeaseUntil = time.Now().Add(q.opt.Lease - pe.Idle)
					}
				}
				out = append(out, l)
				if len(out) == limit {
					break
				}
			}
			if len(msgs) < 200 {
				break
			}
			start = "(" + msgs[len(msgs)-1].ID
		}
	}
	return out, nil
}

// Counts are the number of open tips by priority and state.
type Counts struct {
	Waiting map[Priority]int `json:"waiting"`
	Held    map[Priority]int `json:"held"`
	// OldestWaiting is when the oldest waiting tip of each priority arrived.
	OldestWaiting map[Priority]time.Time `json:"oldest_waiting,omitempty"`
}

// Count returns the agency's open tips by priority and state.
func (q *Queue) Count(ctx context.Context, agency string) (Counts, error) {
	list, err := q.List(ctx, agency, maxList)
	if err != nil {
		return Counts{}, err
	}
	c := Counts{Waiting: map[Priority]int{}, Held: map[Priority]int{}, OldestWaiting: map[Priority]time.Time{}}
	for _, p := range Priorities {
		c.Waiting[p], c.Held[p] = 0, 0
	}
	for _, l := range list {
		if l.State == StateHeld {
			c.Held[l.Priority]++
			continue
		}
		c.Waiting[l.Priority]++
		if o, ok := c.OldestWaiting[l.Priority]; !ok || l.ReceivedAt.Before(o) {
			c.OldestWaiting[l.Priority] = l.ReceivedAt
		}
	}
	return c, nil
}

// Show returns one tip with its sealed report and its state.
func (q *Queue) Show(ctx context.Context, agency, tipID string) (*Listed, []byte, error) {
	ctx, cancel := q.ctx(ctx)
	defer cancel()
	stream, id, err := q.locate(ctx, agency, tipID)
	if err != nil {
		return nil, nil, err
	}
	msgs, err := q.rdb.XRange(ctx, stream, id, id).Result()
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if len(msgs) == 0 {
		return nil, nil, ErrNotFound
	}
	e, err := entryFrom(msgs[0].Values)
	if err != nil {
		return nil, nil, err
	}
	l := &Listed{Entry: e, StreamID: id, State: StateWaiting}
	sealed := e.Sealed
	l.Sealed = nil
	if v, err := q.rdb.HGet(ctx, q.closed(agency), tipID).Result(); err == nil {
		l.State, l.Closed = StateClosed, parseClosure(v)
	} else if pend, err := q.rdb.XPendingExt(ctx, &redis.XPendingExtArgs{Stream: stream, Group: group, Start: id, End: id, Count: 1}).Result(); err == nil && len(pend) == 1 {
		l.Deliveries = pend[0].RetryCount
		if pend[0].Consumer != releasedConsumer && pend[0].Idle < q.opt.Lease {
			l.State, l.Holder = StateHeld, pend[0].Consumer
			l.LeaseUntil = time.Now().Add(q.opt.Lease - pend[0].Idle)
		}
	}
	if v, _ := q.rdb.HGet(ctx, q.escalated(agency), tipID).Result(); v != "" {
		l.Escalated = true
	}
	return l, sealed, nil
}

func parseClosure(v string) *Closure {
	f := strings.Fields(v)
	if len(f) != 3 {
		return nil
	}
	ms, _ := strconv.ParseInt(f[2], 10, 64)
	return &Closure{Disposition: Disposition(f[0]), Officer: f[1], At: time.UnixMilli(ms).UTC()}
}

func (q *Queue) escalated(agency string) string { return q.opt.Prefix + ":{" + agency + "}:escalated" }
func (q *Queue) notes(agency, tipID string) string {
	return q.opt.Prefix + ":{" + agency + "}:notes:" + tipID
}

// escalateScript moves a held tip to the urgent stream, undelivered, so the
// next claim of any officer (or the on-call page) picks it up first. It keeps
// the tip id and its fields; the old entry is removed.
var escalateScript = redis.NewScript(auditPrelude + heldCheck + `
local f = redis.call('XRANGE', KEYS[3], ARGV[12], ARGV[12])
if #f == 0 then return 'NOTPENDING' end
local fields = f[1][2]
for i = 1, #fields, 2 do
  if fields[i] == 'priority' then fields[i+1] = 'urgent' end
end
local id = redis.call('XADD', KEYS[4], '*', unpack(fields))
redis.call('HSET', KEYS[5], ARGV[14], 'urgent ' .. id)
redis.call('HSET', KEYS[6], ARGV[14], ARGV[15])
redis.call('XACK', KEYS[3], ARGV[11], ARGV[12])
redis.call('XDEL', KEYS[3], ARGV[12])
audit()
return 'OK'
`)

// Escalation reasons: a fixed set, because the audit trail is in clear.
var EscalationReasons = []string{"urgent", "supervisor", "other"}

// Escalate makes a held tip urgent and hands it back to the queue, flagged
// for a supervisor.
func (q *Queue) Escalate(ctx context.Context, agency, tipID, officer, reason string) error {
	if !slices.Contains(EscalationReasons, reason) {
		return fmt.Errorf("%w: unknown escalation reason", ErrInvalid)
	}
	ctx, cancel := q.ctx(ctx)
	defer cancel()
	stream, id, err := q.locate(ctx, agency, tipID)
	if err != nil {
		return err
	}
	if err := q.ensureGroup(ctx, q.stream(agency, Urgent)); err != nil {
		return err
	}
	res, err := q.runAudited(ctx, escalateScript, agency, AuditEscalate, officer, tipID, reason,
		[]string{stream, q.stream(agency, Urgent), q.index(agency), q.escalated(agency)},
		group, id, officer, tipID, officer+" "+strconv.FormatInt(time.Now().UnixMilli(), 10))
	return scriptResult(res, err)
}

// Transfer hands a held tip to another agency: the officer's client has
// re-sealed the report to the target's recipients (the gateway cannot). The
// copy is queued for the target, and the original closed as referred.
func (q *Queue) Transfer(ctx context.Context, agency, tipID, officer, target string, resealed []byte) error {
	if target == agency || target == "" || len(resealed) == 0 {
		return fmt.Errorf("%w: bad transfer", ErrInvalid)
	}
	l, _, err := q.Show(ctx, agency, tipID)
	if err != nil {
		return err
	}
	if l.State != StateHeld || l.Holder != officer {
		return ErrNotHeld
	}
	e := l.Entry
	e.Agency, e.Region, e.Sealed = target, "", resealed
	if err := q.Publish(ctx, e); err != nil {
		return err
	}
	if err := q.Audit(ctx, target, AuditTransferIn, "", tipID, agency); err != nil {
		return err
	}
	cctx, cancel := q.ctx(ctx)
	defer cancel()
	stream, id, err := q.locate(cctx, agency, tipID)
	if err != nil {
		return err
	}
	record := string(Referred) + " " + officer + " " + strconv.FormatInt(time.Now().UnixMilli(), 10)
	res, err := q.runAudited(cctx, ackScript, agency, AuditTransferOut, officer, tipID, target,
		[]string{stream, q.closed(agency)}, group, id, officer, tipID, record)
	return scriptResult(res, err)
}

// Note is an officer's note on a tip, sealed by the officer's client to the
// agency's recipients.
type Note struct {
	Officer string    `json:"officer"`
	At      time.Time `json:"at"`
	Sealed  []byte    `json:"sealed"`
}

// maxNoteSize bounds a sealed note.
const maxNoteSize = 256 << 10

// AddNote stores a sealed note on a tip of the agency.
func (q *Queue) AddNote(ctx context.Context, agency, tipID, officer string, sealed []byte) error {
	if len(sealed) == 0 || len(sealed) > maxNoteSize {
		return fmt.Errorf("%w: note size", ErrInvalid)
	}
	ctx, cancel := q.ctx(ctx)
	defer cancel()
	if _, _, err := q.locate(ctx, agency, tipID); err != nil {
		return err
	}
	b, _ := json.Marshal(Note{Officer: officer, At: time.Now().UTC(), Sealed: sealed})
	if err := q.rdb.RPush(ctx, q.notes(agency, tipID), b).Err(); err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return q.Audit(ctx, agency, AuditNote, officer, tipID, "")
}

// Notes returns a tip's notes, oldest first.
func (q *Queue) Notes(ctx context.Context, agency, tipID string) ([]Note, error) {
	ctx, cancel := q.ctx(ctx)
	defer cancel()
	if _, _, err := q.locate(ctx, agency, tipID); err != nil {
		return nil, err
	}
	raw, err := q.rdb.LRange(ctx, q.notes(agency, tipID), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	out := make([]Note, 0, len(raw))
	for _, r := range raw {
		var n Note
		if json.Unmarshal([]byte(r), &n) == nil {
			out = append(out, n)
		}
	}
	return out, nil
}

// Officers lists the officers, of one agency or of all when agency is "".
func (q *Queue) Officers(ctx context.Context, agency string) ([]Officer, error) {
	ctx, cancel := q.ctx(ctx)
	defer cancel()
	var keys []string
	var mu sync.Mutex
	scan := func(ctx context.Context, c redis.UniversalClient) error {
		iter := c.Scan(ctx, 0, q.opt.Prefix+":officer:*", 500).Iterator()
		for iter.Next(ctx) {
			mu.Lock()
			keys = append(keys, iter.Val())
			mu.Unlock()
		}
		return iter.Err()
	}
	var err error
	if cc, ok := q.rdb.(*redis.ClusterClient); ok {
		err = cc.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error { return scan(ctx, n) })
	} else {
		err = scan(ctx, q.rdb)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	var out []Officer
	for _, k := range keys {
		v, err := q.rdb.HGetAll(ctx, k).Result()
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
		if agency != "" && v["agency"] != agency {
			continue
		}
		id := strings.TrimSuffix(strings.TrimPrefix(k, q.opt.Prefix+":officer:{"), "}")
		ms, _ := strconv.ParseInt(v["created"], 10, 64)
		out = append(out, Officer{ID: id, Agency: v["agency"], Name: v["name"], Role: v["role"],
			Created: time.UnixMilli(ms).UTC(), Revoked: v["revoked"] != ""})
	}
	slices.SortFunc(out, func(a, b Officer) int { return a.Created.Compare(b.Created) })
	return out, nil
}

// ErrNotClosed is returned when purging a tip that is still open.
var ErrNotClosed = errors.New("tip is not closed")

// MarkOnce sets a per-agency marker if it is not set yet and reports
// whether this call set it: several gateways share the work of paging, and
// only one of them may page for the same event.
func (q *Queue) MarkOnce(ctx context.Context, agency, name string, ttl time.Duration) (bool, error) {
	ctx, cancel := q.ctx(ctx)
	defer cancel()
	ok, err := q.rdb.SetNX(ctx, q.opt.Prefix+":{"+agency+"}:mark:"+name, "1", ttl).Result()
	if err != nil {
		return false, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return ok, nil
}
