package officerapi

import (
	"context"
	"net/http"

	"github.com/hotline-org/hotline/crypto/seal"
	"github.com/hotline-org/hotline/gateway"
)

// ClaimTip leases the chosen tip, wherever it is in the queue. An *Error
// says why not: 409 when another officer holds it (the message names them
// and the lease's end) or it is closed (with its disposition), 404 when
// the agency has no such tip.
func (c *Client) ClaimTip(ctx context.Context, id string) (*Claimed, error) {
	var t Claimed
	if _, err := c.do(ctx, http.MethodPost, tipPath(id, "claim"), struct{}{}, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// NextID is Next for a chosen tip: the identities are checked first, the
// tip claimed and opened, and released at once if they cannot open it.
func (c *Client) NextID(ctx context.Context, ids *seal.Identities, id string) (*Claimed, *gateway.Report, error) {
	return c.claimOpen(ctx, ids, func(ctx context.Context) (*Claimed, error) { return c.ClaimTip(ctx, id) })
}
