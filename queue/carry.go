package queue

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// Carried is a page of the values that the agency's stream entries carry
// in one field (Batch.Carry), read from where the last Advance of that
// field left off: Advance moves past them once the caller has kept them.
//
// Every entry added to a stream is read once, whatever its id: an entry
// moved to the urgent stream is added to it anew and is read again there
// (its value may then be kept twice). Readers on several gateways may
// read the same page; the cursor only moves forward.
type Carried struct {
	Agency, Field string
	Items         []CarriedItem
	// next is where each stream's page ended (its last entry), by priority.
	next map[Priority]string
}

// More reports whether the page read entries (whether they carried the
// field or not), so that more may follow it: the next page is read after
// Advance.
func (c *Carried) More() bool { return len(c.next) > 0 }

// CarriedItem is one carried value and the tip id of its entry.
type CarriedItem struct {
	TipID, Value string
}

// carriedKey holds, per field and priority, the id of the last entry read
// by Carried and kept (Advance), and per priority ("marked <priority>")
// the id up to which the stream's large entries are not marked (entries
// added before the reader first met the stream).
func (q *Queue) carriedKey(agency string) string { return q.opt.Prefix + ":{" + agency + "}:carried" }

// bigKey marks the agency's large stream entries (markBig): members
// "<priority> <padded id>" (idLua), all of score 0, in the order of their
// ids.
func (q *Queue) bigKey(agency string) string { return q.opt.Prefix + ":{" + agency + "}:big" }

// idLua defines after(id), the first stream id after id; before(a, b),
// whether id a comes before id b; pad(id), id as a string whose order is
// the ids' (each part zero-padded to 20 digits), and unpad, its inverse.
const idLua = `
local function parts(id)
  local ms, seq = string.match(id or '', '^(%d+)-(%d+)$')
  return ms, seq
end
local function after(id)
  local ms, seq = parts(id)
  if not ms then return '0-1' end
  return ms .. '-' .. string.format('%d', tonumber(seq) + 1)
end
local function pad(id)
  local ms, seq = parts(id)
  if not ms then ms, seq = '0', '0' end
  return string.rep('0', 20 - #ms) .. ms .. '-' .. string.rep('0', 20 - #seq) .. seq
end
local function unpad(x)
  local ms, seq = parts(x)
  return string.match(ms, '^0*(%d+)$') .. '-' .. string.match(seq, '^0*(%d+)$')
end
local function before(a, b)
  return pad(a) < pad(b)
end
`

// carriedScript reads, for each stream KEYS[k] (k >= 3, priority
// ARGV[k+1]), the entries after its cursor (field ARGV[1], a space and the
// priority, of KEYS[1]), until it has read ARGV[2] of them or ARGV[3]
// bytes: an entry holds its sealed report, up to megabytes with
// attachments, and a page must not hold many such at once. A large entry
// (over bigEntry: markBig marks it in KEYS[2]) is read alone; the entries
// between two large ones as many at a time as the bytes left allow. The
// entries a stream held when it was first read here (by an earlier
// release, unmarked) are read one at a time. It returns per stream the id
// of the last entry read (empty when none), then the tip id and value of
// each entry that carries field ARGV[1].
var carriedScript = redis.NewScript(idLua + bigLua + `
local out = {}
local want, budget = tonumber(ARGV[2]), tonumber(ARGV[3])
for k = 3, #KEYS do
  local p = ARGV[k+1]
  local c = redis.call('HGET', KEYS[1], ARGV[1] .. ' ' .. p) or '0-0'
  local marked = redis.call('HGET', KEYS[1], 'marked ' .. p)
  if not marked then
    local info = redis.pcall('XINFO', 'STREAM', KEYS[k])
    marked = '0-0'
    if type(info) == 'table' and not info.err then
      for j = 1, #info - 1, 2 do
        if info[j] == 'last-generated-id' then marked = info[j+1] end
      end
    end
    redis.call('HSET', KEYS[1], 'marked ' .. p, marked)
  end
  local page = {''}
  local n, size = 0, 0
  -- The next large entries past c, a few at a time.
  local bigs, b = {}, 1
  local more = true
  local function nextBig()
    while bigs[b] and not before(c, bigs[b]) do b = b + 1 end
    if not bigs[b] and more then
      local m = redis.call('ZRANGEBYLEX', KEYS[2], '(' .. p .. ' ' .. pad(c), '[' .. p .. ' ~', 'LIMIT', 0, 16)
      more = #m == 16
      bigs, b = {}, 1
      for j, v in ipairs(m) do bigs[j] = unpad(string.sub(v, #p + 2)) end
    end
    return bigs[b]
  end
  while n < want and size < budget do
    local count, upto = 1, '+'
    if not before(c, marked) then
      count = math.max(1, math.min(want - n, math.floor((budget - size) / bigEntry)))
      local nb = nextBig()
      if nb then upto = '(' .. nb end
    end
    local es = redis.call('XRANGE', KEYS[k], after(c), upto, 'COUNT', count)
    -- The next entry is the large one: it is read alone.
    if #es == 0 and upto ~= '+' then es = redis.call('XRANGE', KEYS[k], after(c), '+', 'COUNT', 1) end
    if #es == 0 then break end
    for _, e in ipairs(es) do
      c = e[1]
      page[1] = c
      n = n + 1
      local tip, v
      for j = 1, #e[2], 2 do
        size = size + #e[2][j+1]
        if e[2][j] == 'tip' then tip = e[2][j+1] elseif e[2][j] == ARGV[1] then v = e[2][j+1] end
      end
      if tip and v then page[#page+1] = tip; page[#page+1] = v end
    end
  end
  out[#out+1] = page
end
return out
`)

// carriedBytes bounds what one page reads of each stream (the entries'
// values), whatever n, give or take one large entry.
const carriedBytes = 4 << 20

// bigEntry is the size (of its values) over which an entry is large: the
// scripts that add entries to a tip stream mark each large one (markBig),
// so that Carried reads it alone and reads the others carriedBytes/bigEntry
// at a time. A text tip is a few KB; one with photos, or a very long text,
// is large.
const bigEntry = 16 << 10

// bigLua defines bigEntry and markBig(big, carried, priority, id, list,
// from): the entry id just added to the stream of priority, whose fields
// and values are list[from], list[from+1], ..., is marked in the agency's
// big key if it is large and a reader of carried values met that stream
// (its "marked" field in the agency's carried key): the reader reads every
// entry, and forgets a mark once it is past (Advance); with no reader,
// nothing would. Every script that adds an entry to a tip stream calls it.
var bigLua = "local bigEntry = " + strconv.Itoa(bigEntry) + `
local function markBig(big, carried, priority, id, list, from)
  local size = 0
  for j = from, #list - 1, 2 do size = size + #list[j+1] end
  if size > bigEntry and redis.call('HEXISTS', carried, 'marked ' .. priority) == 1 then
    local ms, seq = string.match(id, '^(%d+)-(%d+)$')
    redis.call('ZADD', big, 0, priority .. ' ' .. string.rep('0', 20 - #ms) .. ms .. '-' .. string.rep('0', 20 - #seq) .. seq)
  end
end
`

// advanceScript moves each cursor (field ARGV[3k-2] and a space and
// priority ARGV[3k-1] of KEYS[1]) to id ARGV[3k] unless it is there or
// past it already, then forgets the large entries (KEYS[2]) of that
// priority that every cursor of it is past.
var advanceScript = redis.NewScript(idLua + `
for k = 1, #ARGV, 3 do
  local f, p, id = ARGV[k] .. ' ' .. ARGV[k+1], ARGV[k+1], ARGV[k+2]
  local c = redis.call('HGET', KEYS[1], f)
  if not c or before(c, id) then redis.call('HSET', KEYS[1], f, id) end
  local least
  local all = redis.call('HGETALL', KEYS[1])
  for j = 1, #all - 1, 2 do
    local name, prio = string.match(all[j], '^(%S+) (%S+)$')
    if prio == p and name ~= 'marked' and (not least or before(all[j+1], least)) then least = all[j+1] end
  end
  if least then redis.call('ZREMRANGEBYLEX', KEYS[2], '[' .. p .. ' ', '[' .. p .. ' ' .. pad(least)) end
end
return 1
`)

// Carried reads up to n entries of each of the agency's streams past
// where Advance left field (fewer when they are large), and returns the
// values they carry in it.
func (q *Queue) Carried(ctx context.Context, agency, field string, n int) (*Carried, error) {
	if agency == "" || field == "" || field == "marked" || strings.Contains(field, " ") || n <= 0 {
		return nil, ErrInvalid
	}
	ctx, cancel := q.calls.Context(ctx)
	defer cancel()
	keys := []string{q.carriedKey(agency), q.bigKey(agency)}
	args := []any{field, n, carriedBytes}
	for _, p := range Priorities {
		keys = append(keys, q.stream(agency, p))
		args = append(args, string(p))
	}
	res, err := carriedScript.Run(ctx, q.rdb, keys, args...).Slice()
	if err != nil {
		return nil, q.calls.Fail("", err)
	}
	c := &Carried{Agency: agency, Field: field, next: map[Priority]string{}}
	for k, v := range res {
		page, ok := v.([]any)
		if !ok || len(page) == 0 || k >= len(Priorities) {
			return nil, fmt.Errorf("%w: carried values answered %T", ErrUnavailable, v)
		}
		if last, _ := page[0].(string); last != "" {
			c.next[Priorities[k]] = last
		}
		for i := 1; i+1 < len(page); i += 2 {
			tip, _ := page[i].(string)
			val, _ := page[i+1].(string)
			c.Items = append(c.Items, CarriedItem{TipID: tip, Value: val})
		}
	}
	return c, nil
}

// Advance moves field's cursors past the page c, whose values the caller
// has kept.
func (q *Queue) Advance(ctx context.Context, c *Carried) error {
	if c == nil || !c.More() {
		return nil
	}
	ctx, cancel := q.calls.Context(ctx)
	defer cancel()
	var args []any
	for _, p := range Priorities {
		if id, ok := c.next[p]; ok {
			args = append(args, c.Field, string(p), id)
		}
	}
	if err := advanceScript.Run(ctx, q.rdb, []string{q.carriedKey(c.Agency), q.bigKey(c.Agency)}, args...).Err(); err != nil {
		return q.calls.Fail("", err)
	}
	return nil
}
