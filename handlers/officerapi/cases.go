package officerapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/hotline-org/hotline/crypto/seal"
	"github.com/hotline-org/hotline/gateway"
)

// Message is one message of a case as the gateway lists it with the case
// (GET /api/v1/tips/{id}, POST /api/v1/tips/claim): clear metadata and the
// message's own sealed report.
type Message struct {
	ID         string    `json:"id"`
	Channel    string    `json:"channel"`
	Priority   string    `json:"priority"`
	ReceivedAt time.Time `json:"received_at"`
	Sealed     []byte    `json:"sealed"`
}

// CaseTip is a tip with the messages of its case. A gateway that does not
// list messages yet leaves Messages empty: the tip's own report is then the
// case's one message.
type CaseTip struct {
	Listed
	Messages []Message `json:"messages"`
}

// Case gets a tip with its case's sealed messages.
func (c *Client) Case(ctx context.Context, id string) (CaseTip, error) {
	var t CaseTip
	_, err := c.do(ctx, http.MethodGet, tipPath(id, ""), nil, &t)
	return t, err
}

// OpenCase opens every message of a case, in the order received. A message
// the identities cannot open, or that belongs to another case, is an error:
// the officer must not read half a case believing it whole.
func OpenCase(ids *seal.Identities, t CaseTip) ([]*gateway.Report, error) {
	if len(t.Messages) == 0 {
		rep, err := OpenReport(ids, t.Sealed, t.ID, t.Case)
		if err != nil {
			return nil, err
		}
		return []*gateway.Report{rep}, nil
	}
	out := make([]*gateway.Report, 0, len(t.Messages))
	for _, m := range t.Messages {
		rep, err := OpenReport(ids, m.Sealed, m.ID, t.Case)
		var oe *OpenError
		if errors.As(err, &oe) && errors.Is(err, ErrOtherTip) {
			// A message's report may name the case's first tip: it is
			// the case's own when the case matches.
			rep, err = OpenReport(ids, m.Sealed, t.ID, t.Case)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, rep)
	}
	return out, nil
}

// AuditEntry is one entry of the agency's audit trail, as the gateway
// sends it (fields kept as they came).
type AuditEntry map[string]any

// Audit lists the agency's audit trail (supervisors only), up to count
// entries after the stream id after ("" from the start).
func (c *Client) Audit(ctx context.Context, after string, count int) ([]AuditEntry, error) {
	var l struct {
		Entries []AuditEntry `json:"entries"`
	}
	p := fmt.Sprintf("/api/v1/audit?count=%d", count)
	if after != "" {
		p += "&after=" + url.QueryEscape(after)
	}
	_, err := c.do(ctx, http.MethodGet, p, nil, &l)
	return l.Entries, err
}

// Counts gets the agency's tips per priority, waiting and held.
func (c *Client) Counts(ctx context.Context) (Counts, error) {
	var out Counts
	_, err := c.do(ctx, http.MethodGet, "/api/v1/counts", nil, &out)
	return out, err
}
