package queue

import (
	"context"
	"fmt"
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
// by Carried and kept (Advance).
func (q *Queue) carriedKey(agency string) string { return q.opt.Prefix + ":{" + agency + "}:carried" }

// nextIDLua defines after(id): the first stream id after id.
const nextIDLua = `
local function after(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  if not ms then return '0-1' end
  return ms .. '-' .. string.format('%d', tonumber(seq) + 1)
end
`

// carriedScript reads, for each stream KEYS[k] (k >= 2, priority
// ARGV[k+2]), the entries after its cursor (field ARGV[1], a space and the
// priority, of KEYS[1]), one at a time, until it has read ARGV[2] of them
// or ARGV[3] bytes: an entry holds its sealed report, up to megabytes
// with attachments, and a page must not hold many such at once. It
// returns per stream the id of the last entry read (empty when none),
// then the tip id and value of each entry that carries field ARGV[1].
var carriedScript = redis.NewScript(nextIDLua + `
local out = {}
for k = 2, #KEYS do
  local c = redis.call('HGET', KEYS[1], ARGV[1] .. ' ' .. ARGV[k+2]) or '0-0'
  local page = {''}
  local n, size = 0, 0
  while n < tonumber(ARGV[2]) and size < tonumber(ARGV[3]) do
    local es = redis.call('XRANGE', KEYS[k], after(c), '+', 'COUNT', 1)
    if #es == 0 then break end
    local e = es[1]
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
  out[#out+1] = page
end
return out
`)

// carriedBytes bounds what one page reads of each stream (the entries'
// values), whatever n.
const carriedBytes = 4 << 20

// advanceScript moves each cursor (field ARGV[2k-1] of KEYS[1]) to id
// ARGV[2k] unless it is there or past it already.
var advanceScript = redis.NewScript(`
local function parse(id)
  local ms, seq = string.match(id or '', '^(%d+)-(%d+)$')
  return tonumber(ms or '-1'), tonumber(seq or '-1')
end
for k = 1, #ARGV, 2 do
  local cm, cs = parse(redis.call('HGET', KEYS[1], ARGV[k]))
  local nm, ns = parse(ARGV[k+1])
  if nm > cm or (nm == cm and ns > cs) then redis.call('HSET', KEYS[1], ARGV[k], ARGV[k+1]) end
end
return 1
`)

// Carried reads up to n entries of each of the agency's streams past
// where Advance left field (fewer when they are large), and returns the
// values they carry in it.
func (q *Queue) Carried(ctx context.Context, agency, field string, n int) (*Carried, error) {
	if agency == "" || field == "" || strings.Contains(field, " ") || n <= 0 {
		return nil, ErrInvalid
	}
	ctx, cancel := q.calls.Context(ctx)
	defer cancel()
	keys := []string{q.carriedKey(agency)}
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
			args = append(args, c.Field+" "+string(p), id)
		}
	}
	if err := advanceScript.Run(ctx, q.rdb, []string{q.carriedKey(c.Agency)}, args...).Err(); err != nil {
		return q.calls.Fail("", err)
	}
	return nil
}
