package twilioapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// MediaURL is a media item of a message, as Twilio names it in a webhook
// (MediaUrl0, MediaUrl1...).
type MediaURL struct {
	MessageSID string
	MediaSID   string
}

// ParseMediaURL checks that raw is a media item of this account on Twilio's
// API host (https://api.twilio.com/2010-04-01/Accounts/AC.../Messages/MM.../Media/ME...,
// or the same path on the configured API URL) and returns its SIDs. Only such
// a URL is ever fetched with the account's credentials.
func (c *Client) ParseMediaURL(raw string) (MediaURL, error) {
	parts, ok := c.apiPath(raw)
	// /2010-04-01/Accounts/{AC}/Messages/{MM}/Media/{ME}
	if !ok || len(parts) != 8 || parts[4] != "Messages" || parts[6] != "Media" ||
		!messageSID.MatchString(parts[5]) || !mediaSID.MatchString(parts[7]) {
		return MediaURL{}, ErrMediaURL
	}
	return MediaURL{MessageSID: parts[5], MediaSID: parts[7]}, nil
}

// apiPath checks that raw is a URL of this account on Twilio's API host
// (or the same path on the configured API URL) and returns its path split
// at "/", without a final ".json": "", "2010-04-01", "Accounts", AC, ...
func (c *Client) apiPath(raw string) ([]string, bool) {
	u, err := url.Parse(raw)
	if err != nil || u.User != nil || u.Fragment != "" || u.RawQuery != "" {
		return nil, false
	}
	official := u.Scheme == "https" && u.Host == apiHost
	configured := u.Scheme == c.api.Scheme && u.Host == c.api.Host
	if !official && !configured {
		return nil, false
	}
	p := u.Path
	if prefix := strings.TrimSuffix(c.api.Path, "/"); configured && !official && prefix != "" {
		if !strings.HasPrefix(p, prefix+"/") {
			return nil, false
		}
		p = p[len(prefix):]
	}
	parts := strings.Split(strings.TrimSuffix(p, ".json"), "/")
	if len(parts) < 4 || parts[0] != "" || parts[1] != "2010-04-01" || parts[2] != "Accounts" || parts[3] != c.opt.AccountSID {
		return nil, false
	}
	return parts, true
}

// FetchMedia downloads a media item named in a webhook and returns its bytes
// and content type. The request to Twilio carries the account's credentials;
// the redirect Twilio answers with, to its media CDN, is followed without
// them. The item must be at most Options.MaxMediaBytes and of an allowed
// type, and the whole download ends within Options.MediaTimeout.
func (c *Client) FetchMedia(ctx context.Context, mediaURL string) ([]byte, string, error) {
	m, err := c.ParseMediaURL(mediaURL)
	if err != nil {
		return nil, "", &APIError{Op: "fetch media", Err: err}
	}
	// The request is made from the SIDs alone, never from the text of the
	// URL given; the transport sends it to the configured API URL.
	target := "https://" + apiHost + "/2010-04-01/Accounts/" + c.opt.AccountSID + "/Messages/" + m.MessageSID + "/Media/" + m.MediaSID
	return c.fetch(ctx, "fetch media", target, c.types, c.opt.MaxMediaBytes)
}

// fetch downloads target from Twilio's API host with the account's
// credentials, follows Twilio's redirect to its CDN without them, and
// reads an answer of one of types and at most maxBytes.
func (c *Client) fetch(ctx context.Context, op, target string, types map[string]bool, maxBytes int64) ([]byte, string, error) {
	ctx, cancel := context.WithTimeout(ctx, c.opt.MediaTimeout)
	defer cancel()
	hc := &http.Client{
		Transport:     c.rt,
		Timeout:       c.opt.MediaTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	accept := make([]string, 0, len(types))
	for t := range types {
		accept = append(accept, t)
	}
	slices.Sort(accept)
	withAuth := true
	for hop := 0; ; hop++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
		if err != nil {
			return nil, "", &APIError{Op: op, Err: ErrMediaURL}
		}
		if withAuth {
			req.SetBasicAuth(c.opt.AccountSID, c.opt.AuthToken)
		}
		req.Header.Set("Accept", strings.Join(accept, ", "))
		resp, err := hc.Do(req)
		if err != nil {
			return nil, "", wrap(op, err)
		}
		switch {
		case resp.StatusCode >= 300 && resp.StatusCode < 400:
			loc, err := resp.Location()
			drain(resp)
			if err != nil || hop >= maxRedirects {
				return nil, "", &APIError{Op: op, Status: resp.StatusCode}
			}
			if loc.Scheme != "https" && !(loc.Scheme == "http" && c.api.Scheme == "http") {
				// Never downgrade: http only when the API itself is a
				// plain-http fake in a test.
				return nil, "", &APIError{Op: op, Status: resp.StatusCode, Err: errors.New("redirect to a non-https URL")}
			}
			// The CDN's URL is signed; it gets no credentials, whatever its
			// host.
			target, withAuth = loc.String(), false
			continue
		case resp.StatusCode != http.StatusOK:
			drain(resp)
			return nil, "", &APIError{Op: op, Status: resp.StatusCode}
		}
		defer resp.Body.Close()
		return readMedia(op, resp, types, maxBytes)
	}
}

func readMedia(op string, resp *http.Response, types map[string]bool, maxBytes int64) ([]byte, string, error) {
	ctype, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if err != nil || !types[strings.ToLower(ctype)] {
		return nil, "", &APIError{Op: op, Err: ErrMediaType}
	}
	if resp.ContentLength > maxBytes {
		return nil, "", &APIError{Op: op, Err: ErrMediaTooLarge}
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBytes+1))
	if err != nil {
		return nil, "", &APIError{Op: op, Err: fmt.Errorf("failed to read media: %w", err)}
	}
	if int64(len(data)) > maxBytes {
		return nil, "", &APIError{Op: op, Err: ErrMediaTooLarge}
	}
	// A page where a photo was announced (an error page, a script) is
	// refused: an officer's viewer must not be handed markup.
	if sniffed := http.DetectContentType(data); strings.HasPrefix(sniffed, "text/html") || strings.HasPrefix(sniffed, "text/xml") {
		return nil, "", &APIError{Op: op, Err: ErrMediaType}
	}
	return data, ctype, nil
}

// drain reads a little of a body that is not used, so that the connection
// can be reused, and closes it.
func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	resp.Body.Close()
}
