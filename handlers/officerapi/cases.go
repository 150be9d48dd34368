package officerapi

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/hotline-org/hotline/crypto/seal"
	"github.com/hotline-org/hotline/gateway"
)

// OpenCase opens every message of a case, in the order received. A gateway
// that does not list a case's messages sends the tip's own report: it is
// then the case's one message. A message the identities cannot open, or
// that belongs to another case, is an error: the officer must not read half
// a case believing it whole.
func OpenCase(ids *seal.Identities, t Listed) ([]*gateway.Report, error) {
	if len(t.Messages) == 0 {
		rep, err := OpenReport(ids, t.Sealed, t.ID, t.Case)
		if err != nil {
			return nil, err
		}
		return []*gateway.Report{rep}, nil
	}
	ms, err := OpenMessages(ids, t.Case, t.Messages, nil)
	if err != nil {
		return nil, err
	}
	out := make([]*gateway.Report, 0, len(ms))
	for _, m := range ms {
		out = append(out, m.Report)
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
