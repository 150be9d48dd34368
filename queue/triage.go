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
	// MessageCount is how many messages the case has, LastAt when the
	// last one arrived; Messages (Open only) lists them in order.
	MessageCount int
	LastAt       time.Time
	Messages     []Message
}

// Closure is how a tip was closed.
type Closure struct {
	Disposition Disposition
	Officer     string
	At          time.Time
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
var escalateScript = redis.NewScript(auditPrelude + heldCheck + bigLua + `
local f = redis.call('XRANGE', KEYS[3], ARGV[12], ARGV[12])
if #f == 0 then return 'NOTPENDING' end
local fields = f[1][2]
for i = 1, #fields, 2 do
  if fields[i] == 'priority' then fields[i+1] = 'urgent' end
end
local id = redis.call('XADD', KEYS[4], '*', unpack(fields))
markBig(KEYS[7], KEYS[8], 'urgent', id, fields, 1)
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
	ctx, cancel := q.calls.Context(ctx)
	defer cancel()
	tipID, stream, id, err := q.find(ctx, agency, tipID)
	if err != nil {
		return err
	}
	if err := q.ensureGroup(ctx, q.stream(agency, Urgent)); err != nil {
		return err
	}
	return q.runHeld(ctx, escalateScript, agency, AuditEscalate, officer, tipID, reason,
		[]string{stream, q.stream(agency, Urgent), q.index(agency), q.escalated(agency), q.bigKey(agency), q.carriedKey(agency)},
		group, id, officer, tipID, officer+" "+strconv.FormatInt(time.Now().UnixMilli(), 10))
}

// Transfer hands a held tip to another agency: the officer's client has
// re-sealed the report and every note to the target's recipients (the
// gateway cannot). The notes are stored for the target first, then the copy
// is queued for the target, and the original closed as referred: a target
// officer who claims the tip finds its notes. A case of several messages
// needs TransferCase.
func (q *Queue) Transfer(ctx context.Context, agency, tipID, officer, target string, resealed []byte, notes [][]byte) error {
	return q.TransferCase(ctx, agency, tipID, officer, target, [][]byte{resealed}, notes)
}

// TransferCase is Transfer for a whole case: resealed holds every message
// of the case re-sealed, in order (as a claim or Open gives them). The
// later messages are queued for the target after the first, so that they
// join its item there. A case whose messages are not all there (one
// arrived meanwhile) is refused (ErrCaseMessages), as are changed notes.
func (q *Queue) TransferCase(ctx context.Context, agency, tipID, officer, target string, resealed [][]byte, notes [][]byte) error {
	if target == agency || target == "" || len(resealed) == 0 {
		return fmt.Errorf("%w: bad transfer", ErrInvalid)
	}
	for _, r := range resealed {
		if len(r) == 0 {
			return fmt.Errorf("%w: bad transfer", ErrInvalid)
		}
	}
	for _, n := range notes {
		if len(n) == 0 || len(n) > maxNoteSize {
			return fmt.Errorf("%w: note size", ErrInvalid)
		}
	}
	l, err := q.Meta(ctx, agency, tipID)
	if err != nil {
		return err
	}
	if l.State != StateHeld || l.Holder != officer {
		return ErrNotHeld
	}
	tipID = l.TipID
	cctx, cancel := q.calls.Context(ctx)
	msgs, err := q.messages(cctx, agency, tipID, l.Entry, false)
	cancel()
	if err != nil {
		return err
	}
	if len(msgs) != len(resealed) {
		return ErrCaseMessages
	}
	old, err := q.rawNotes(ctx, agency, tipID)
	if err != nil {
		return err
	}
	if len(old) != len(notes) {
		return ErrNotesChanged
	}
	cctx, cancel = q.calls.Context(ctx)
	_, err = q.rdb.TxPipelined(cctx, func(p redis.Pipeliner) error {
		key := q.notes(target, tipID)
		p.Del(cctx, key)
		for i, n := range old {
			b, _ := json.Marshal(Note{Officer: n.Officer, At: n.At, Sealed: notes[i]})
			p.RPush(cctx, key, b)
		}
		return nil
	})
	cancel()
	if err != nil {
		return q.calls.Fail("store the transferred notes", err)
	}
	e := l.Entry
	e.Agency, e.Region, e.Sealed = target, "", resealed[0]
	if err := q.Publish(ctx, e); err != nil {
		return err
	}
	for i, m := range msgs[1:] {
		later := Entry{TipID: m.TipID, Case: l.Case, Agency: target, Channel: m.Channel, Priority: m.Priority,
			ReceivedAt: m.ReceivedAt, ReplyCapable: l.ReplyCapable, Sealed: resealed[i+1]}
		if !later.Priority.Valid() {
			later.Priority = Normal
		}
		if err := q.Publish(ctx, later); err != nil {
			return err
		}
	}
	if err := q.Audit(ctx, target, AuditTransferIn, "", tipID, agency); err != nil {
		return err
	}
	cctx, cancel = q.calls.Context(ctx)
	defer cancel()
	stream, id, err := q.locate(cctx, agency, tipID)
	if err != nil {
		return err
	}
	record := string(Referred) + " " + officer + " " + strconv.FormatInt(time.Now().UnixMilli(), 10)
	return q.runHeld(cctx, ackScript, agency, AuditTransferOut, officer, tipID, target,
		[]string{stream, q.closed(agency), q.openSet(agency), q.cases(agency), q.meta(agency)}, group, id, officer, tipID, record)
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

// noteScript appends a note (ARGV[16]) to KEYS[4] with its audit entry,
// for the officer ARGV[13] holding entry ARGV[12] of stream KEYS[3] under a
// lease that has not lapsed (idle below ARGV[14] ms), or for a supervisor
// (ARGV[15] is '1').
var noteScript = redis.NewScript(auditPrelude + `
if ARGV[15] ~= '1' then
  local p = redis.pcall('XPENDING', KEYS[3], ARGV[11], ARGV[12], ARGV[12], 1)
  if p.err or #p == 0 or p[1][2] ~= ARGV[13] then return 'NOTHOLDER' end
  if tonumber(p[1][3]) >= tonumber(ARGV[14]) then return 'LAPSED' end
end
redis.call('RPUSH', KEYS[4], ARGV[16])
audit()
return 'OK'
`)

// AddNote stores a sealed note on a tip, for the officer holding it or a
// supervisor; the note and its audit entry are written together.
func (q *Queue) AddNote(ctx context.Context, agency, tipID, officer string, supervisor bool, sealed []byte) error {
	if len(sealed) == 0 || len(sealed) > maxNoteSize {
		return fmt.Errorf("%w: note size", ErrInvalid)
	}
	ctx, cancel := q.calls.Context(ctx)
	defer cancel()
	tipID, stream, id, err := q.find(ctx, agency, tipID)
	if err != nil {
		return err
	}
	b, _ := json.Marshal(Note{Officer: officer, At: time.Now().UTC(), Sealed: sealed})
	sup := "0"
	if supervisor {
		sup = "1"
	}
	res, err := q.runAudited(ctx, noteScript, agency, AuditNote, officer, tipID, "",
		[]string{stream, q.notes(agency, tipID)}, group, id, officer, q.opt.Lease.Milliseconds(), sup, b)
	if err == nil && res == "NOTPENDING" {
		return ErrNotHolder
	}
	return q.scriptResult(res, err)
}

// Notes returns a tip's notes, oldest first, to the officer holding it or
// to a supervisor; a supervisor's read of a tip they do not hold is
// audited first.
func (q *Queue) Notes(ctx context.Context, agency, tipID, officer string, supervisor bool) ([]Note, error) {
	item, err := q.mayRead(ctx, agency, tipID, officer, supervisor, "notes")
	if err != nil {
		return nil, err
	}
	return q.rawNotes(ctx, agency, item)
}

func (q *Queue) rawNotes(ctx context.Context, agency, tipID string) ([]Note, error) {
	ctx, cancel := q.calls.Context(ctx)
	defer cancel()
	raw, err := q.rdb.LRange(ctx, q.notes(agency, tipID), 0, -1).Result()
	if err != nil {
		return nil, q.calls.Fail("", err)
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

// ErrNotClosed is returned when purging a tip that is still open.
var ErrNotClosed = errors.New("tip is not closed")

// MarkOnce sets a per-agency marker if it is not set yet and reports
// whether this call set it: several gateways share the work of paging, and
// only one of them may page for the same event.
func (q *Queue) MarkOnce(ctx context.Context, agency, name string, ttl time.Duration) (bool, error) {
	ctx, cancel := q.calls.Context(ctx)
	defer cancel()
	ok, err := q.rdb.SetNX(ctx, q.opt.Prefix+":{"+agency+"}:mark:"+name, "1", ttl).Result()
	if err != nil {
		return false, q.calls.Fail("", err)
	}
	return ok, nil
}

// Unmark removes a marker set by MarkOnce, so that what it guarded is done
// again: a page that reached nobody is tried at the next check.
func (q *Queue) Unmark(ctx context.Context, agency, name string) error {
	ctx, cancel := q.calls.Context(ctx)
	defer cancel()
	if err := q.rdb.Del(ctx, q.opt.Prefix+":{"+agency+"}:mark:"+name).Err(); err != nil {
		return q.calls.Fail("unmark", err)
	}
	return nil
}
