package queue

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Audit actions.
const (
	AuditClaim       = "claim"
	AuditLeaseLapsed = "lease_lapsed"
	AuditAck         = "ack"
	AuditRelease     = "release"
	AuditEscalate    = "escalate"
	AuditTransferIn  = "transfer_in"
	AuditTransferOut = "transfer_out"
	AuditReply       = "reply"
	AuditNote        = "note"
	AuditTokenAdd    = "token_add"
	AuditTokenRevoke = "token_revoke"
	AuditRetention   = "retention_delete"
	AuditPage        = "page"
	// AuditRead is a supervisor opening the sealed report or notes of a tip
	// they do not hold (detail "report" or "notes").
	AuditRead = "read"
)

// AuditEntry is one line of an agency's audit trail. It carries ids and
// actions only: never the content of a tip, a note or a reply.
type AuditEntry struct {
	ID      string    `json:"id"` // stream id
	Seq     int64     `json:"seq"`
	At      time.Time `json:"at"`
	Action  string    `json:"action"`
	Officer string    `json:"officer,omitempty"`
	Tip     string    `json:"tip,omitempty"`
	Detail  string    `json:"detail,omitempty"`
	Prev    string    `json:"prev"`
	MAC     string    `json:"mac"`
}

// ErrAuditBroken is returned by VerifyAudit for a chain that does not hold.
var ErrAuditBroken = errors.New("audit chain broken")

// AuditBreak names the first entry where the chain does not hold.
type AuditBreak struct {
	Agency string
	ID     string // stream id of the first bad entry, or "end" for missing entries
	Seq    int64
	Reason string
}

func (b *AuditBreak) Error() string {
	return fmt.Sprintf("audit chain of %s broken at entry %s (seq %d): %s", b.Agency, b.ID, b.Seq, b.Reason)
}

func (b *AuditBreak) Unwrap() error { return ErrAuditBroken }

func (q *Queue) auditKey(agency string) string { return q.opt.Prefix + ":{" + agency + "}:audit" }
func (q *Queue) auditHead(agency string) string {
	return q.opt.Prefix + ":{" + agency + "}:audit:head"
}

// auditMAC chains an entry to the previous one under the audit key, so that
// someone who can write to Redis but does not hold the gateway's pepper
// cannot alter, insert or remove an entry without VerifyAudit noticing.
func (q *Queue) auditMAC(agency string, e AuditEntry) string {
	m := hmac.New(sha256.New, q.opt.AuditKey)
	fmt.Fprintf(m, "hotline-audit-v1\n%s\n%d\n%d\n%s\n%s\n%s\n%s\n%s",
		agency, e.Seq, e.At.UnixMilli(), e.Action, e.Officer, e.Tip, e.Detail, e.Prev)
	return hex.EncodeToString(m.Sum(nil))
}

// AuditLog returns up to count entries after the stream id from ("" for
// the start), oldest first.
func (q *Queue) AuditLog(ctx context.Context, agency, from string, count int64) ([]AuditEntry, error) {
	ctx, cancel := q.calls.Context(ctx)
	defer cancel()
	start := "-"
	if from != "" {
		start = "(" + from
	}
	msgs, err := q.rdb.XRangeN(ctx, q.auditKey(agency), start, "+", count).Result()
	if err != nil {
		return nil, q.calls.Fail("", err)
	}
	out := make([]AuditEntry, 0, len(msgs))
	for _, m := range msgs {
		out = append(out, auditFrom(m))
	}
	return out, nil
}

func auditFrom(m redis.XMessage) AuditEntry {
	str := func(k string) string { s, _ := m.Values[k].(string); return s }
	seq, _ := strconv.ParseInt(str("seq"), 10, 64)
	at, _ := strconv.ParseInt(str("at"), 10, 64)
	return AuditEntry{ID: m.ID, Seq: seq, At: time.UnixMilli(at).UTC(), Action: str("action"), Officer: str("officer"),
		Tip: str("tip"), Detail: str("detail"), Prev: str("prev"), MAC: str("mac")}
}

// VerifyAudit walks the agency's chain from the start and returns the
// number of entries checked, or an *AuditBreak naming the first bad entry.
func (q *Queue) VerifyAudit(ctx context.Context, agency string) (int64, error) {
	prev := "genesis"
	var seq int64
	from := ""
	for {
		page, err := q.AuditLog(ctx, agency, from, 1000)
		if err != nil {
			return seq, err
		}
		for _, e := range page {
			switch {
			case e.Seq != seq+1:
				return seq, &AuditBreak{Agency: agency, ID: e.ID, Seq: e.Seq, Reason: fmt.Sprintf("sequence %d follows %d", e.Seq, seq)}
			case e.Prev != prev:
				return seq, &AuditBreak{Agency: agency, ID: e.ID, Seq: e.Seq, Reason: "does not chain to the previous entry"}
			case !hmac.Equal([]byte(e.MAC), []byte(q.auditMAC(agency, e))):
				return seq, &AuditBreak{Agency: agency, ID: e.ID, Seq: e.Seq, Reason: "content altered (MAC mismatch)"}
			}
			prev, seq, from = e.MAC, e.Seq, e.ID
		}
		if len(page) < 1000 {
			break
		}
	}
	cctx, cancel := q.calls.Context(ctx)
	defer cancel()
	head, err := q.rdb.Get(cctx, q.auditHead(agency)).Result()
	switch {
	case errors.Is(err, redis.Nil):
		if seq != 0 {
			return seq, &AuditBreak{Agency: agency, ID: "head", Seq: seq, Reason: "head record missing"}
		}
	case err != nil:
		return seq, q.calls.Fail("", err)
	case head != strconv.FormatInt(seq, 10)+" "+prev:
		return seq, &AuditBreak{Agency: agency, ID: "end", Seq: seq + 1, Reason: "entries after the last one found are missing"}
	}
	return seq, nil
}
