package queue

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/hotline-org/hotline/gateway/fault"
	"github.com/redis/go-redis/v9"
)

// claimWindow bounds the tips ahead of a chosen one in its queue: those
// waiting, which a chosen claim delivers and hands back at once inside one
// script, and those pending (held or handed back). A claim looks for
// handed-back tips among the first maxReclaimScan times ten pending
// entries (XAUTOCLAIM scans ten per call of COUNT 1): within the window
// every tip handed back is found by the next claims, before new ones. The
// pending entries before them only get fewer: deliveries come after them.
const claimWindow = maxReclaimScan * 10

// HeldError refuses a chosen claim of a tip that another officer holds
// under a lease that has not lapsed.
type HeldError struct {
	TipID  string
	Holder string    // the holder's officer id
	Until  time.Time // when the lease lapses without a heartbeat
}

func (e *HeldError) Error() string {
	return fmt.Sprintf("tip %s is held by %s until %s", e.TipID, e.Holder, e.Until.UTC().Format(time.RFC3339))
}

// Unwrap makes it a Conflict whose public text names the holder and the
// lease (ids and a time only) and says what to do.
func (e *HeldError) Unwrap() error {
	return fault.NewPublic(fault.Conflict, e.Error(), fmt.Sprintf(
		"held by %s until %s: nothing was claimed; ask them to release it, or claim it after its lease lapses",
		e.Holder, e.Until.UTC().Format(time.RFC3339)))
}

// ClosedError refuses a chosen claim of a tip that was acknowledged.
type ClosedError struct {
	TipID  string
	Closed *Closure // nil when the closure record is unreadable
}

func (e *ClosedError) Error() string { return "tip " + e.TipID + " is " + e.state() }

func (e *ClosedError) state() string {
	if e.Closed == nil {
		return "closed"
	}
	return fmt.Sprintf("closed as %s by %s at %s", e.Closed.Disposition, e.Closed.Officer, e.Closed.At.Format(time.RFC3339))
}

// Unwrap makes it a Conflict whose public text gives the disposition.
func (e *ClosedError) Unwrap() error {
	return fault.NewPublic(fault.Conflict, e.Error(), e.state()+": nothing was claimed; a closed tip takes no more actions")
}

// TooFarError refuses a chosen claim of a tip with more than claimWindow
// tips ahead of it in its queue, rather than pass over them all.
type TooFarError struct {
	TipID string
	Ahead int // at least this many tips (waiting or held) are ahead of it
}

func (e *TooFarError) Error() string {
	return fmt.Sprintf("tip %s has %d or more tips ahead of it", e.TipID, e.Ahead)
}

// Unwrap makes it a Conflict that says what to do.
func (e *TooFarError) Unwrap() error {
	return fault.NewPublic(fault.Conflict, e.Error(), fmt.Sprintf(
		"more than %d tips are ahead of it in the queue (waiting or held): nothing was claimed; claim from the head of the queue, or ask a supervisor", claimWindow))
}

// errNotOpen is an entry that is neither waiting, held nor recorded as
// closed: acknowledged without a closure record. No action of this
// package leaves one; it is refused rather than handed out again.
var errNotOpen = fault.New(fault.Conflict, "tip is not open: nothing was claimed")

// claimTipScript claims one chosen tip, atomically, whatever its state.
// KEYS[1] is the agency's index, KEYS[2] its closure records, KEYS[3..]
// its streams, one per priority named in ARGV[8..] in the same order, and
// last its metadata (the tip's ref is there unless the index has one).
// ARGV[1] is the group, ARGV[2] the tip, ARGV[3] the officer, ARGV[4] the
// lease (ms), ARGV[5] the released consumer, ARGV[6] its idle time (ms),
// ARGV[7] claimWindow.
//
// A tip never delivered is reached by delivering the stream in order up
// to it; the tips passed over go back at once, in one XCLAIM, to the
// released consumer, idle past the lease and with no delivery counted, so
// that the next claims of anyone take them first, in their order.
var claimTipScript = redis.NewScript(refOfLua + `
local ref = refOf(KEYS[1], KEYS[#KEYS], ARGV[2])
if not ref then return {'NOTFOUND'} end
local prio, id = string.match(ref, '^(%S+) (%S+)$')
local stream
for i = 8, #ARGV do
  if ARGV[i] == prio then stream = KEYS[i - 5] end
end
if not stream then return {'NOTFOUND'} end
local closed = redis.call('HGET', KEYS[2], ARGV[2])
if closed then return {'CLOSED', closed} end
local f = redis.call('XRANGE', stream, id, id)
if #f == 0 then return {'NOTFOUND'} end
local lease = tonumber(ARGV[4])
local p = redis.call('XPENDING', stream, ARGV[1], id, id, 1)
if #p == 1 then
  local owner, idle = p[1][2], tonumber(p[1][3])
  if owner == ARGV[3] and idle < lease then
    redis.call('XCLAIM', stream, ARGV[1], ARGV[3], 0, id, 'JUSTID')
    return {'MINE', id, f[1][2], stream}
  end
  if owner ~= ARGV[5] and idle < lease then return {'HELD', owner, tostring(idle)} end
  local minIdle = lease
  if owner == ARGV[5] then minIdle = 0 end
  local c = redis.call('XCLAIM', stream, ARGV[1], ARGV[3], minIdle, id)
  if #c == 0 or type(c[1]) ~= 'table' then return {'NOTFOUND'} end
  return {'TAKEN', id, c[1][2], stream, owner}
end
local last
for _, g in ipairs(redis.call('XINFO', 'GROUPS', stream)) do
  local m = {}
  for j = 1, #g, 2 do m[g[j]] = g[j + 1] end
  if m['name'] == ARGV[1] then last = m['last-delivered-id'] end
end
local function after(a, b)
  local am, as = string.match(a, '^(%d+)-(%d+)$')
  local bm, bs = string.match(b, '^(%d+)-(%d+)$')
  am, as, bm, bs = tonumber(am), tonumber(as), tonumber(bm), tonumber(bs)
  return am > bm or (am == bm and as > bs)
end
if not last or not after(id, last) then return {'NOTOPEN'} end
local limit = tonumber(ARGV[7])
local before = #redis.call('XPENDING', stream, ARGV[1], '-', '(' .. id, limit + 1)
if before > limit then return {'FAR', tostring(before)} end
local ahead = redis.call('XRANGE', stream, '(' .. last, '(' .. id, 'COUNT', limit + 1 - before)
if before + #ahead > limit then return {'FAR', tostring(before + #ahead)} end
local r = redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[3], 'COUNT', #ahead + 1, 'STREAMS', stream, '>')
if not r then return {'NOTOPEN'} end
local got = r[1][2]
local back = {stream, ARGV[1], ARGV[5], 0}
for i = 1, #got do
  if got[i][1] ~= id then back[#back + 1] = got[i][1] end
end
local skipped = #back - 4
if skipped > 0 then
  for _, a in ipairs({'IDLE', ARGV[6], 'RETRYCOUNT', 0, 'JUSTID'}) do back[#back + 1] = a end
  redis.call('XCLAIM', unpack(back))
end
if got[#got][1] ~= id then return {'NOTOPEN'} end
return {'CLAIMED', id, got[#got][2], stream, tostring(skipped)}
`)

// ClaimTip hands the officer one chosen tip, or says why not: a HeldError
// while another officer's lease runs, a ClosedError once it was
// acknowledged, ErrNotFound for an unknown tip, a TooFarError when more
// than claimWindow tips are ahead of it. It is one script, so two
// claims of the same tip, or a claim racing Claim, never hand it to two
// officers.
//
// A tip that was released, or whose lease lapsed, is taken over as Claim
// takes it over, the lapse recorded in the audit trail. A tip the officer
// holds already is returned with its lease renewed, and is not audited
// again (nothing changed hands, as with Renew). A waiting tip behind
// others is claimed at once, and the tips it passed go back to the queue,
// to be claimed next by anyone, oldest first, as if it had never been in
// their way. The claim is audited as Claim audits it, and handed back if
// the audit cannot be written.
func (q *Queue) ClaimTip(ctx context.Context, agency, officer, tipID string) (*Claimed, error) {
	if agency == "" || officer == "" || tipID == "" {
		return nil, ErrNotFound
	}
	ctx, cancel := q.calls.Context(ctx)
	defer cancel()
	// Any message's tip id or the case ref names the case's item.
	item, _, _, err := q.find(ctx, agency, tipID)
	if err != nil {
		return nil, err
	}
	tipID = item
	keys := []string{q.index(agency), q.closed(agency)}
	args := []any{group, tipID, officer, q.opt.Lease.Milliseconds(), releasedConsumer,
		q.opt.Lease.Milliseconds() + 1000, claimWindow}
	for _, p := range Priorities {
		keys = append(keys, q.stream(agency, p))
		args = append(args, string(p))
	}
	keys = append(keys, q.meta(agency))
	v, err := claimTipScript.Run(ctx, q.rdb, keys, args...).Slice()
	if isNoGroup(err) {
		for _, p := range Priorities {
			if err := q.ensureGroup(ctx, q.stream(agency, p)); err != nil {
				return nil, err
			}
		}
		v, err = claimTipScript.Run(ctx, q.rdb, keys, args...).Slice()
	}
	if err != nil {
		return nil, q.calls.Fail("claim a chosen tip", err)
	}
	str := func(i int) string {
		if i < len(v) {
			s, _ := v[i].(string)
			return s
		}
		return ""
	}
	switch str(0) {
	case "NOTFOUND":
		return nil, ErrNotFound
	case "CLOSED":
		return nil, &ClosedError{TipID: tipID, Closed: parseClosure(str(1))}
	case "HELD":
		idle, _ := strconv.ParseInt(str(2), 10, 64)
		return nil, &HeldError{TipID: tipID, Holder: str(1), Until: time.Now().Add(q.opt.Lease - time.Duration(idle)*time.Millisecond)}
	case "FAR":
		n, _ := strconv.Atoi(str(1))
		return nil, &TooFarError{TipID: tipID, Ahead: n}
	case "NOTOPEN":
		return nil, errNotOpen
	}
	m := redis.XMessage{ID: str(1), Values: map[string]any{}}
	fields, _ := v[2].([]any)
	for i := 0; i+1 < len(fields); i += 2 {
		k, _ := fields[i].(string)
		m.Values[k] = fields[i+1]
	}
	stream := str(3)
	switch str(0) {
	case "MINE":
		e, err := entryFrom(m.Values)
		if err != nil {
			return nil, err
		}
		c := &Claimed{Entry: e, StreamID: m.ID, Deliveries: 1, LeaseUntil: time.Now().Add(q.opt.Lease)}
		if c.Messages, err = q.messages(ctx, agency, e.TipID, e, true); err != nil {
			return nil, err
		}
		c.Priority = streamPriority(stream)
		q.deliveries(ctx, stream, officer, c)
		return c, nil
	case "TAKEN":
		return q.claimed(ctx, agency, stream, officer, m, str(4), true)
	case "CLAIMED":
		return q.claimed(ctx, agency, stream, officer, m, "", false)
	}
	return nil, fmt.Errorf("%w: unexpected answer from the claim script", ErrUnavailable)
}
