package queue

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// Batch is what a channel writes to Redis together with a tip, so that an
// SMS costs one round trip to write: its dedupe mark, the sender's thread
// and limit, the reply handle, the scrub job. On a single Redis (or one
// managed by Sentinel) the ops run in the publish script itself, atomically
// with the tip; on a Cluster, where a script may touch one hash slot only,
// the tip is published first, then the ops run, grouped by slot, one
// script per slot in one pipeline.
//
// The ops run only when the tip is new: a tip already in the stream (by
// tip id) or a guard that finds its key (a dedupe mark) leaves them all
// undone.
type Batch struct {
	Ops []Op
	// Set by Publish.
	// Ran: the ops ran (Results holds each op's result).
	Ran     bool
	Results []int64
	// Seen is the value a guard op found (on a single Redis only): the
	// tip was not published, and no op ran.
	Seen string
	// Queued: the tip was in its stream already; no op ran.
	Queued bool
	// Found holds, by op index, what an op with Check answered when it
	// was not its Want (its result is then 0; 1 when it was).
	Found map[int]string
	// Carry holds field and value pairs that the tip's stream entry
	// carries, if the tip makes an entry of its own (not appended to its
	// case's item): a record of another part of the gateway that needs no
	// command of its own then (the SMS channel's scrub job). Carried reads
	// them back. An op with UnlessEntry writes it when there is no entry.
	Carry []string
	// Entered: the tip made an entry of its own, which carries Carry.
	Entered bool
}

// entryFields are the fields of a stream entry, which Carry may not use.
var entryFields = []string{"tip", "case", "agency", "region", "channel", "priority", "received", "reply", "sealed"}

// Failed counts the ops Redis refused (their result is OpFailed): the
// tip is queued all the same.
func (b *Batch) Failed() int {
	n := 0
	for _, r := range b.Results {
		if r == OpFailed {
			n++
		}
	}
	return n
}

// Results of ops that did not run (a condition not met, or the batch
// stopped) and of ops Redis refused (a key of another type, say): an op
// that fails does not fail the tip, which is queued by then.
const (
	OpNotRun int64 = -1
	OpFailed int64 = -2
)

// Op is one Redis command of a Batch. Cmd is the command and its
// arguments, its key second.
type Op struct {
	Cmd []any
	// Guard: run before the tip is published (single Redis only); a
	// result other than nil stops the script (Batch.Seen). For SET ... NX
	// GET: the mark is set unless it exists, and then it is returned.
	Guard bool
	// If > 0: run only if the result of op If (1-based) was IfEq (an op
	// not run has the result -1).
	If   int
	IfEq int64
	// UnlessEntry: run only when the tip made no entry of its own
	// (Batch.Entered is false), to write what Carry would have carried.
	UnlessEntry bool
	// Check: the op's answer is compared with Want ("" for nil), as a
	// SET ... GET that replaces the value read beforehand: its result is 1
	// when it was Want, else 0 and Batch.Found holds the answer, so that
	// the caller can merge what another writer wrote in between.
	Check bool
	Want  string
	// Mark, with Check and Guard, makes the op the guard of a record that
	// carries the message's dedupe mark (single Redis only): when its
	// answer is not Want, it is read as JSON, and if its "marks" hold
	// Mark (an object with a "case"), another delivery of the message
	// wrote it: the record is put back, and the batch stops (Batch.Seen
	// is "done " and that case).
	Mark string
}

// Key is the op's key.
func (o Op) Key() string {
	if len(o.Cmd) < 2 {
		return ""
	}
	s, _ := o.Cmd[1].(string)
	return s
}

// publishScript adds a tip to an agency's stream unless the same tip id is
// already there (its clear metadata, written only for a new tip, says so),
// so that a retried intake never queues a tip twice, and runs a batch of
// ops with it (see Batch). A tip already there is written
// again unchanged: a WAIT that follows on this connection then covers the
// first write too, made on another connection (WAIT counts from the
// connection's own last write), so a republished tip is confirmed only
// once the replicas hold it.
//
// The case is the unit of triage: the first tip of a case (or the first
// after the case was closed) makes its queue item, a stream entry, and
// files the case as open (cases: case ref -> the item's tip id). A later
// tip of a case whose item is open makes no entry: it is appended to the
// item (msgs: item#n -> its tip id, its tip id -> its sealed report,
// item@ -> "received-ms tip-id" of the last one), and its clear metadata
// names the item. An item's ref ("priority stream-id") is in its
// metadata; the index holds the refs of entries that moved since (to the
// urgent stream), which stand over it, and those of items queued by
// earlier releases. An urgent tip makes a waiting item urgent (its entry
// moves to the urgent stream) and marks a held one urgent (item!).
//
// KEYS: the stream, index, meta, cases, the urgent and the normal stream,
// msgs (when ARGV[1] is '1', or 'N' for a tip whose case ref was made
// for it, see Entry.NewCase), the big and the carried key (markBig), then
// the ops'
// keys. ARGV[2..11]: the entry;
// ARGV[12]: the lease in ms. ARGV[13]: the number of Carry's arguments
// (nc), then those; ARGV[14+nc]: the number of ops, then per op: guard
// ('1'/'0', 'C' for an op with Check, 'M' for a guard with Check and
// Mark), if (-1: UnlessEntry), ifEq, the index of its key in KEYS, the
// number of arguments after the key, the command, the arguments, for 'C'
// and 'M' the value wanted, and for 'M' the mark.
// It returns {status, ref, results..., then for each checked op that
// found another value: its index and the value}: status 'OK', 'ENTERED'
// (OK, and the tip made an entry of its own), 'QUEUED' (already in the
// stream) or 'SEEN' (a guard found its key, whose value is second).
var publishScript = redis.NewScript(refOfLua + bigLua + `
local ops = {}
local nc = tonumber(ARGV[13])
local i = 15 + nc
for o = 1, tonumber(ARGV[14 + nc]) do
  local n = tonumber(ARGV[i+4])
  local call = {ARGV[i+5], KEYS[tonumber(ARGV[i+3])]}
  for j = 1, n do call[j+2] = ARGV[i+5+j] end
  local kind = ARGV[i]
  ops[o] = {guard = kind == '1' or kind == 'M', ref = tonumber(ARGV[i+1]), eq = tonumber(ARGV[i+2]), call = call}
  i = i + 6 + n
  if kind == 'C' or kind == 'M' then ops[o].want = ARGV[i]; i = i + 1 end
  if kind == 'M' then ops[o].mark = ARGV[i]; i = i + 1 end
end
local res = {}
local found = {}
-- What the guards changed, to put back if the tip is not published: a
-- mark is deleted, a record that held a mark gets its old value back.
local marked = {}
local function unmark()
  for _, m in ipairs(marked) do
    if m[2] then redis.call('SET', m[1], m[2], 'KEEPTTL') else redis.call('DEL', m[1]) end
  end
end
-- A checked op's answer: 1 if it was the value read, else 0, and the
-- answer is returned to the caller.
local function check(o, r)
  if (r or '') == ops[o].want then return 1 end
  found[#found+1] = o
  found[#found+1] = r or ''
  return 0
end
-- Takes back entry id, just added to stream s and read by nobody: the
-- stream's counts are put back as they were, so that its groups' lag stays
-- known (Redis cannot count it past a deleted entry a group has not read).
local function unadd(s, id)
  local info = redis.call('XINFO', 'STREAM', s)
  local f = {}
  for k = 1, #info, 2 do f[info[k]] = info[k+1] end
  redis.call('XDEL', s, id)
  -- (The demo's in-process Redis counts neither.)
  if not f['entries-added'] then return end
  -- XSETID leaves a deleted id of 0-0 unset: 0-1, before any entry,
  -- means none as well.
  local del = f['max-deleted-entry-id']
  if del == '0-0' then del = '0-1' end
  redis.call('XSETID', s, f['last-generated-id'], 'ENTRIESADDED', f['entries-added'] - 1, 'MAXDELETEDID', del)
end
for o, op in ipairs(ops) do
  res[o] = -1
  if op.guard and op.mark then
    -- A record written in place of the one read: if another delivery of
    -- the same message wrote it in between, its marks say so.
    local r = redis.call(unpack(op.call))
    marked[#marked+1] = {op.call[2], r}
    if (r or '') ~= op.want then
      local ok, d = pcall(cjson.decode, r or '')
      local m = ok and type(d) == 'table' and type(d.marks) == 'table' and d.marks[op.mark]
      if type(m) == 'table' and type(m.case) == 'string' then
        unmark()
        return {'SEEN', 'done ' .. m.case}
      end
    end
    res[o] = check(o, r)
  elseif op.guard then
    local r = redis.call(unpack(op.call))
    if r then
      unmark()
      return {'SEEN', r}
    end
    res[o] = 0
    marked[#marked+1] = {op.call[2], false}
  end
end
local ref = ''
local entered = false
if ARGV[1] ~= '0' then
  local cfield = ARGV[3]
  if cfield == '' then cfield = '#' .. ARGV[2] end
  -- A case ref made for this tip (ARGV[1] 'N') is filed with one command;
  -- another finds its open item, if any, first.
  local item, fresh
  if ARGV[1] == 'N' then
    item = redis.pcall('HSETNX', KEYS[4], cfield, ARGV[2])
    if item == 1 then item, fresh = ARGV[2], true
    elseif item == 0 then item = redis.call('HGET', KEYS[4], cfield) end
  else
    item = redis.pcall('HGET', KEYS[4], cfield)
  end
  if type(item) == 'table' and item.err then
    unmark()
    return item
  end
  -- The case's item as filed: this very tip if it is in already.
  local filed = not fresh and item
  if not item then item = ARGV[2] end
  local meta = ARGV[11]
  -- The tip is in already (a retry): its metadata is written again
  -- unchanged (see above), and its item's ref answered.
  local function queued()
    if fresh then redis.call('HDEL', KEYS[4], cfield) end
    local m = redis.call('HGET', KEYS[3], ARGV[2])
    redis.call('HSET', KEYS[3], ARGV[2], m)
    local ok, d = pcall(cjson.decode, m)
    local it = ARGV[2]
    if ok and type(d) == 'table' and type(d.item) == 'string' then it = d.item end
    return {'QUEUED', refOf(KEYS[2], KEYS[3], it) or ''}
  end
  if filed == ARGV[2] then return queued() end
  if item ~= ARGV[2] then
    -- Appended to the case's open item.
    meta = string.sub(meta, 1, -2) .. ',"item":' .. cjson.encode(item) .. '}'
    if redis.call('HSETNX', KEYS[3], ARGV[2], meta) == 0 then return queued() end
    local n = redis.call('HINCRBY', KEYS[7], item .. '#', 1)
    redis.call('HSET', KEYS[7], item .. '#' .. n, ARGV[2], ARGV[2], ARGV[10], item .. '@', ARGV[8] .. ' ' .. ARGV[2])
    if ARGV[7] == 'urgent' then ref = refOf(KEYS[2], KEYS[3], item) or '' end
    if string.sub(ref, 1, 7) == 'normal ' then
      local sid = string.sub(ref, 8)
      local p = redis.pcall('XPENDING', KEYS[6], 'triage', sid, sid, 1)
      if p.err then p = {} end
      if #p == 1 and p[1][2] ~= 'released' and tonumber(p[1][3]) < tonumber(ARGV[12]) then
        redis.call('HSET', KEYS[7], item .. '!', '1')
      else
        -- The entry keeps its message's own priority: the stream it is
        -- in is the case's.
        local f = redis.call('XRANGE', KEYS[6], sid, sid)
        if #f == 1 then
          local id = redis.call('XADD', KEYS[5], '*', unpack(f[1][2]))
          markBig(KEYS[8], KEYS[9], 'urgent', id, f[1][2], 1)
          ref = 'urgent ' .. id
          redis.call('HSET', KEYS[2], item, ref)
          if #p == 1 then redis.call('XACK', KEYS[6], 'triage', sid) end
          redis.call('XDEL', KEYS[6], sid)
        end
      end
    end
  else
    local add = {'XADD', KEYS[1], '*',
      'tip', ARGV[2], 'case', ARGV[3], 'agency', ARGV[4], 'region', ARGV[5],
      'channel', ARGV[6], 'priority', ARGV[7], 'received', ARGV[8], 'reply', ARGV[9],
      'sealed', ARGV[10]}
    for k = 1, nc do add[#add+1] = ARGV[13+k] end
    local id = redis.pcall(unpack(add))
    if type(id) == 'table' and id.err then
      -- Not queued: the marks set above must not answer its retry.
      if fresh then redis.call('HDEL', KEYS[4], cfield) end
      unmark()
      return id
    end
    ref = ARGV[7] .. ' ' .. id
    -- The item's ref goes in its metadata, written only if the tip is new:
    -- one command files the tip and keeps it from being queued twice. A
    -- tip already in gets here only if its case was closed since (and is
    -- not filed any more): the entry just added is taken back.
    local e = redis.pcall('HSETNX', KEYS[3], ARGV[2], string.sub(meta, 1, -2) .. ',"ref":' .. cjson.encode(ref) .. '}')
    if e ~= 1 then
      unadd(KEYS[1], id)
      if e == 0 then return queued() end
      -- A key of another type (WRONGTYPE) must not leave the tip half
      -- published: in the stream but not filed, answered as refused.
      if fresh then redis.call('HDEL', KEYS[4], cfield) end
      unmark()
      return e
    end
    if not fresh then
      e = redis.pcall('HSET', KEYS[4], cfield, ARGV[2])
      if type(e) == 'table' and e.err then
        unadd(KEYS[1], id)
        redis.call('HDEL', KEYS[3], ARGV[2])
        unmark()
        return e
      end
    end
    markBig(KEYS[8], KEYS[9], ARGV[7], id, add, 4)
    entered = true
  end
end
for o, op in ipairs(ops) do
  if not op.guard and (op.ref == 0 or (op.ref == -1 and not entered) or res[op.ref] == op.eq) then
    local r = redis.pcall(unpack(op.call))
    if type(r) == 'table' and r.err then res[o] = -2
    elseif op.want then res[o] = check(o, r)
    elseif type(r) == 'number' then res[o] = r
    elseif r then res[o] = 1 else res[o] = 0 end
  end
end
local out = {'OK', ref, unpack(res)}
if entered then out[1] = 'ENTERED' end
for _, v in ipairs(found) do out[#out+1] = v end
return out
`)

// refOfLua defines refOf(index, meta, item): the ref ("priority
// stream-id") of an item's entry, the index's if it has one (the entry
// moved, or an earlier release queued it), else its metadata's; false if
// neither has one. The scripts' counterpart of itemRef.
const refOfLua = `
local function refOf(index, meta, it)
  local r = redis.call('HGET', index, it)
  if r then return r end
  local ok, d = pcall(cjson.decode, redis.call('HGET', meta, it) or '')
  if ok and type(d) == 'table' and d.item == nil and type(d.ref) == 'string' then return d.ref end
  return false
end
`

// scriptCall is one run of publishScript.
type scriptCall struct {
	keys []string
	args []any
	ops  []int // the batch's indexes of the ops it runs
}

// call makes the script's keys and arguments: the entry's publish when pub
// is set, and the ops at idx of b (the op indexes of the script are
// renumbered for them).
func (q *Queue) scriptCall(e Entry, pub bool, b *Batch, idx []int, keepGuards bool) scriptCall {
	c := scriptCall{ops: idx}
	if pub {
		reply := "0"
		if e.ReplyCapable {
			reply = "1"
		}
		c.keys = []string{q.stream(e.Agency, e.Priority), q.index(e.Agency), q.meta(e.Agency), q.cases(e.Agency),
			q.stream(e.Agency, Urgent), q.stream(e.Agency, Normal), q.msgs(e.Agency), q.bigKey(e.Agency), q.carriedKey(e.Agency)}
		pub := "1"
		if e.NewCase {
			pub = "N"
		}
		c.args = []any{pub, e.TipID, e.Case, e.Agency, e.Region, e.Channel, string(e.Priority),
			strconv.FormatInt(e.ReceivedAt.UnixMilli(), 10), reply, e.Sealed, metaOf(e), q.opt.Lease.Milliseconds()}
	} else {
		c.args = []any{"0", "", "", "", "", "", "", "", "", "", "", ""}
	}
	if pub && b != nil {
		c.args = append(c.args, len(b.Carry))
		for _, v := range b.Carry {
			c.args = append(c.args, v)
		}
	} else {
		c.args = append(c.args, 0)
	}
	c.args = append(c.args, len(idx))
	local := map[int]int{}
	for n, k := range idx {
		local[k+1] = n + 1
	}
	for _, k := range idx {
		op := b.Ops[k]
		guard := "0"
		if op.Guard && keepGuards {
			guard = "1"
		}
		ref := 0
		switch {
		case op.UnlessEntry:
			// In a script with no publish (a Cluster's ops that follow
			// it), Publish left out the op if the tip made an entry.
			ref = -1
		case op.If > 0:
			// An op whose condition is in another script of a Cluster's
			// pipeline runs whatever it was.
			ref = local[op.If]
		}
		switch {
		case op.Check && op.Mark != "" && op.Guard && keepGuards:
			guard = "M"
		case op.Check:
			guard = "C"
		}
		c.keys = append(c.keys, op.Key())
		c.args = append(c.args, guard, ref, op.IfEq, len(c.keys), len(op.Cmd)-2, op.Cmd[0])
		c.args = append(c.args, op.Cmd[2:]...)
		if op.Check {
			c.args = append(c.args, op.Want)
		}
		if guard == "M" {
			c.args = append(c.args, op.Mark)
		}
	}
	return c
}

// result records what a script run says about the batch. It reports
// whether the tip is new (its ops ran).
func (c scriptCall) result(b *Batch, v any) (bool, error) {
	res, ok := v.([]any)
	if !ok || len(res) < 2 {
		return false, fmt.Errorf("%w: publish script answered %T", ErrUnavailable, v)
	}
	status, _ := res[0].(string)
	switch status {
	case "SEEN":
		if b != nil {
			b.Seen, _ = res[1].(string)
		}
		return false, nil
	case "QUEUED":
		if b != nil {
			b.Queued = true
		}
		return false, nil
	case "OK":
	case "ENTERED":
		if b != nil {
			b.Entered = true
		}
	default:
		return false, fmt.Errorf("%w: publish script answered %q", ErrUnavailable, status)
	}
	if b != nil && len(c.ops) > 0 {
		if b.Results == nil {
			b.Results = make([]int64, len(b.Ops))
		}
		for n, k := range c.ops {
			if 2+n < len(res) {
				b.Results[k], _ = res[2+n].(int64)
			}
		}
		for i := 2 + len(c.ops); i+1 < len(res); i += 2 {
			n, _ := res[i].(int64)
			v, _ := res[i+1].(string)
			if n >= 1 && int(n) <= len(c.ops) {
				if b.Found == nil {
					b.Found = map[int]string{}
				}
				b.Found[c.ops[n-1]] = v
			}
		}
		b.Ran = true
	}
	return true, nil
}

// runScript runs one script call on c, with a WAIT for want replicas after
// it on the same connection when want > 0; it returns the script's answer
// and how many replicas confirmed. Concurrent calls go to Redis together
// (Coalescer), and then one WAIT ends the batch.
func (q *Queue) runScript(ctx context.Context, c redis.Cmdable, want int, sc scriptCall) (any, int, error) {
	run := func(eval bool) (any, int, error) {
		var script *redis.Cmd
		acked, err := q.co.Do(ctx, c, max(want, 0), q.opt.ReplicaWait, func(p redis.Pipeliner) {
			if eval {
				script = publishScript.Eval(ctx, p, sc.keys, sc.args...)
			} else {
				script = p.EvalSha(ctx, publishScript.Hash(), sc.keys, sc.args...)
			}
		})
		if err != nil {
			return nil, 0, err
		}
		if err := script.Err(); err != nil {
			return nil, 0, err
		}
		return script.Val(), acked, nil
	}
	v, n, err := run(false)
	if redis.HasErrorPrefix(err, "NOSCRIPT") {
		v, n, err = run(true)
	}
	return v, n, err
}

// runOps runs the ops of b at idx, grouped by hash slot, one script per
// slot, in one pipeline (a Cluster client sends each to its node).
func (q *Queue) runOps(ctx context.Context, b *Batch, idx []int) error {
	if len(idx) == 0 {
		return nil
	}
	var order []string
	groups := map[string][]int{}
	for _, k := range idx {
		s := HashTag(b.Ops[k].Key())
		if _, ok := groups[s]; !ok {
			order = append(order, s)
		}
		groups[s] = append(groups[s], k)
	}
	calls := make([]scriptCall, 0, len(order))
	for _, s := range order {
		calls = append(calls, q.scriptCall(Entry{}, false, b, groups[s], false))
	}
	// EVALSHA first; only the scripts a node did not know yet are sent
	// again (EVAL): the others ran.
	cmds := make([]*redis.Cmd, len(calls))
	todo := make([]int, len(calls))
	for i := range todo {
		todo[i] = i
	}
	for _, eval := range []bool{false, true} {
		_, err := q.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, i := range todo {
				if eval {
					cmds[i] = publishScript.Eval(ctx, p, calls[i].keys, calls[i].args...)
				} else {
					cmds[i] = p.EvalSha(ctx, publishScript.Hash(), calls[i].keys, calls[i].args...)
				}
			}
			return nil
		})
		var again []int
		for _, i := range todo {
			if redis.HasErrorPrefix(cmds[i].Err(), "NOSCRIPT") {
				again = append(again, i)
			}
		}
		if len(again) == 0 {
			if err != nil {
				return err
			}
			break
		}
		todo = again
	}
	for i, sc := range calls {
		if _, err := sc.result(b, cmds[i].Val()); err != nil {
			return err
		}
	}
	return nil
}

// HashTag is what Redis Cluster hashes of a key: its {tag}, or all of
// it. Keys of one tag share a slot (keys of two tags may too: they are
// then taken apart all the same).
func HashTag(key string) string {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			return key[i+1 : i+1+j]
		}
	}
	return key
}

// errNoKey is returned for an op with no key.
var errNoKey = errors.New("an op of a batch has no key")

// valid checks what Publish cannot write: an op with no key, a guard
// that depends on the entry, a carried field that is not a pair or that
// would overwrite a field of the entry.
func (b *Batch) valid() error {
	for _, op := range b.Ops {
		if op.Key() == "" {
			return fmt.Errorf("%w: %w", ErrInvalid, errNoKey)
		}
		if op.UnlessEntry && (op.Guard || op.If > 0) {
			return fmt.Errorf("%w: an op unless the tip makes an entry can be nothing else", ErrInvalid)
		}
	}
	if len(b.Carry)%2 != 0 {
		return fmt.Errorf("%w: carried fields come in pairs", ErrInvalid)
	}
	for i := 0; i < len(b.Carry); i += 2 {
		if b.Carry[i] == "" || slices.Contains(entryFields, b.Carry[i]) {
			return fmt.Errorf("%w: a carried field may not be %q", ErrInvalid, b.Carry[i])
		}
	}
	return nil
}
