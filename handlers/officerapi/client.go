// Package officerapi is the officer's client of the gateway's API
// (/api/v1), used on the officer's own machine by `hotline triage` and the
// console, with the types of its requests and answers.
//
// Reports and notes travel sealed: this package never opens them (that is
// crypto/seal's, with the officer's identities, on the officer's machine),
// so the gateway and anyone between never see a tip in clear. The token goes
// only in the Authorization header; every call has a deadline and every
// answer a size limit, so a broken or hostile gateway cannot hang the
// client or fill its memory.
package officerapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultTimeout bounds one API call.
const DefaultTimeout = 30 * time.Second

// MaxAnswer bounds what the client reads of one answer: a sealed report
// with its photos is at most a few tens of MB.
const MaxAnswer = 80 << 20

// maxStream bounds what a watch reads of the event stream in all.
const maxStream = 1 << 30

// Client calls one gateway's API with one officer's token.
type Client struct {
	server string
	token  string
	http   *http.Client
}

// New returns a client of the gateway at server (its base URL) with the
// officer's token. A nil hc means a client with DefaultTimeout.
func New(server, token string, hc *http.Client) *Client {
	if hc == nil {
		hc = &http.Client{Timeout: DefaultTimeout}
	}
	return &Client{server: strings.TrimRight(server, "/"), token: token, http: hc}
}

// Error is an answer of the gateway that is not a success.
type Error struct {
	Status int
	// Message is the gateway's own text: shown to an officer only made
	// safe for a terminal.
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("gateway answered %d: %q", e.Status, e.Message) }

// do sends one call. A 204 leaves out untouched and reports no error.
func (c *Client) do(ctx context.Context, method, path string, body, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, fmt.Errorf("failed to encode the request: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.server+path, rd)
	if err != nil {
		return 0, fmt.Errorf("bad server URL: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, fmt.Errorf("cannot reach the gateway: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxAnswer))
	if err != nil {
		return resp.StatusCode, fmt.Errorf("failed to read the answer: %w", err)
	}
	if resp.StatusCode == http.StatusNoContent {
		return resp.StatusCode, nil
	}
	if resp.StatusCode >= 300 {
		return resp.StatusCode, errorOf(resp.StatusCode, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, fmt.Errorf("unexpected answer from the gateway: %w", err)
		}
	}
	return resp.StatusCode, nil
}

// errorOf is the *Error of an answer that is not a success.
func errorOf(status int, data []byte) error {
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(data, &e) != nil || e.Error == "" {
		e.Error = http.StatusText(status)
	}
	return &Error{Status: status, Message: e.Error}
}

func tipPath(id, action string) string {
	p := "/api/v1/tips/" + url.PathEscape(id)
	if action != "" {
		p += "/" + action
	}
	return p
}

// Me says who the token belongs to.
func (c *Client) Me(ctx context.Context) (Officer, error) {
	var o Officer
	_, err := c.do(ctx, http.MethodGet, "/api/v1/me", nil, &o)
	return o, err
}

// Agencies lists the agencies and their public recipients.
func (c *Client) Agencies(ctx context.Context) ([]Agency, error) {
	var l struct {
		Agencies []Agency `json:"agencies"`
	}
	_, err := c.do(ctx, http.MethodGet, "/api/v1/agencies", nil, &l)
	return l.Agencies, err
}

// Claim leases the oldest waiting tip of the officer's agency, the most
// urgent first; nil when none is waiting.
func (c *Client) Claim(ctx context.Context) (*Claimed, error) {
	var t Claimed
	status, err := c.do(ctx, http.MethodPost, "/api/v1/tips/claim", struct{}{}, &t)
	if err != nil || status == http.StatusNoContent {
		return nil, err
	}
	return &t, nil
}

// List lists the agency's open tips.
func (c *Client) List(ctx context.Context) ([]Listed, error) {
	var l struct {
		Tips []Listed `json:"tips"`
	}
	_, err := c.do(ctx, http.MethodGet, "/api/v1/tips", nil, &l)
	return l.Tips, err
}

// Tip gets one tip with its sealed report.
func (c *Client) Tip(ctx context.Context, id string) (Listed, error) {
	var t Listed
	_, err := c.do(ctx, http.MethodGet, tipPath(id, ""), nil, &t)
	return t, err
}

// Notes lists a tip's sealed notes.
func (c *Client) Notes(ctx context.Context, id string) ([]Note, error) {
	var l struct {
		Notes []Note `json:"notes"`
	}
	_, err := c.do(ctx, http.MethodGet, tipPath(id, "notes"), nil, &l)
	return l.Notes, err
}

func (c *Client) act(ctx context.Context, id, action string, body any) (Answer, error) {
	var out Answer
	_, err := c.do(ctx, http.MethodPost, tipPath(id, action), body, &out)
	return out, err
}

// Ack closes a held tip with a disposition.
func (c *Client) Ack(ctx context.Context, id, disposition string) (Answer, error) {
	return c.act(ctx, id, "ack", map[string]string{"disposition": disposition})
}

// Release hands a held tip back to the queue.
func (c *Client) Release(ctx context.Context, id string) (Answer, error) {
	return c.act(ctx, id, "release", struct{}{})
}

// Renew extends the lease on a held tip.
func (c *Client) Renew(ctx context.Context, id string) (Answer, error) {
	return c.act(ctx, id, "renew", struct{}{})
}

// Escalate makes a tip urgent and hands it back for a colleague or a
// supervisor; reason is urgent, supervisor or other.
func (c *Client) Escalate(ctx context.Context, id, reason string) (Answer, error) {
	return c.act(ctx, id, "escalate", map[string]string{"reason": reason})
}

// AddNote adds a note sealed to the agency.
func (c *Client) AddNote(ctx context.Context, id string, sealed []byte) (Answer, error) {
	return c.act(ctx, id, "notes", map[string][]byte{"sealed": sealed})
}

// Transfer hands a held tip, re-sealed, to another agency.
func (c *Client) Transfer(ctx context.Context, id string, t Transfer) (Answer, error) {
	return c.act(ctx, id, "transfer", t)
}

// Reply sends a message to the reporter through the tip's channel.
func (c *Client) Reply(ctx context.Context, id string, r Reply) (Answer, error) {
	return c.act(ctx, id, "reply", r)
}
