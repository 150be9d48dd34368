package officerapi

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/hotline-org/hotline/handlers"
)

// MaxRegions bounds the regions document the client takes: the gateway
// simplifies an agency's regions to a few hundred KB.
const MaxRegions = 8 << 20

// The supervisor screen's answers, as the gateway's handlers define them.
type (
	// OfficerInfo is an officer and the state of its token
	// (GET /api/v1/officers); never the token or its hash.
	OfficerInfo = handlers.OfficerJSON
	// AuditVerification is the result of GET /api/v1/audit/verify: OK, or
	// the first entry that breaks the chain.
	AuditVerification = handlers.AuditVerification
)

// RegionMap is the agency's regions as a GeoJSON FeatureCollection, to
// draw its map (GET /api/v1/regions), with the tag to ask again.
type RegionMap struct {
	GeoJSON []byte
	ETag    string
}

// Regions gets the officer's agency's regions. Given the copy held (prev,
// or nil), it returns prev itself when the gateway says it is current.
func (c *Client) Regions(ctx context.Context, prev *RegionMap) (RegionMap, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.server+"/api/v1/regions", nil)
	if err != nil {
		return RegionMap{}, fmt.Errorf("bad server URL: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if prev != nil && prev.ETag != "" {
		req.Header.Set("If-None-Match", prev.ETag)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return RegionMap{}, fmt.Errorf("cannot reach the gateway: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxRegions+1))
	if err != nil {
		return RegionMap{}, fmt.Errorf("failed to read the answer: %w", err)
	}
	switch {
	case resp.StatusCode == http.StatusNotModified && prev != nil:
		return *prev, nil
	case resp.StatusCode != http.StatusOK:
		return RegionMap{}, errorOf(resp.StatusCode, data)
	case len(data) > MaxRegions:
		return RegionMap{}, fmt.Errorf("the regions are larger than %d bytes", MaxRegions)
	case !json.Valid(data):
		return RegionMap{}, fmt.Errorf("unexpected answer from the gateway: the regions are not JSON")
	}
	return RegionMap{GeoJSON: data, ETag: resp.Header.Get("ETag")}, nil
}

// Officers lists the agency's officers and the state of their tokens
// (supervisors only).
func (c *Client) Officers(ctx context.Context) ([]OfficerInfo, error) {
	var l struct {
		Officers []OfficerInfo `json:"officers"`
	}
	_, err := c.do(ctx, http.MethodGet, "/api/v1/officers", nil, &l)
	return l.Officers, err
}

// VerifyAudit has the gateway verify the agency's audit chain
// (supervisors only). A broken chain is not an error: it is an answer with
// OK false that names the first bad entry.
func (c *Client) VerifyAudit(ctx context.Context) (AuditVerification, error) {
	var v AuditVerification
	_, err := c.do(ctx, http.MethodGet, "/api/v1/audit/verify", nil, &v)
	return v, err
}
