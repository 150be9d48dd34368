package officerapi

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// ErrStreamClosed means the gateway ended the event stream.
var ErrStreamClosed = errors.New("the gateway closed the stream")

// Watch follows the agency's event stream, calling fn with each event,
// until ctx ends (nil), fn returns false (nil), or the stream fails.
func (c *Client) Watch(ctx context.Context, fn func(Event) bool) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.server+"/api/v1/events", nil)
	if err != nil {
		return fmt.Errorf("bad server URL: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "text/event-stream")
	// No overall timeout: the stream lasts as long as the watch; the
	// gateway sends an update every few seconds.
	hc := *c.http
	hc.Timeout = 0
	resp, err := hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("cannot reach the gateway: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("gateway answered %d", resp.StatusCode)
	}
	sc := bufio.NewScanner(io.LimitReader(resp.Body, maxStream))
	name := ""
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "event: "); ok {
			name = v
		} else if v, ok := strings.CutPrefix(line, "data: "); ok {
			if !fn(Event{Name: name, Data: []byte(v)}) {
				return nil
			}
		}
	}
	if ctx.Err() != nil {
		return nil
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("watch: %w", err)
	}
	return ErrStreamClosed
}
