// Package twilioapi is the hotline's side of Twilio's REST API: fetching the
// media of a message or the recording of a call, scrubbing them at Twilio
// once their tip is safely queued (the body redacted, the media deleted; the
// recording deleted, then the call), and sending an officer's reply.
//
// Every message Twilio keeps is a copy of a tip outside the agency's control;
// the scrubbing is how the gateway keeps that copy short-lived. It protects
// against three mistakes as well: the account's credentials go only to
// Twilio's API host (never to the media CDN a download is redirected to, nor
// to any URL a request names), a media download is bounded in size, type and
// time, and no error or log line carries a message's text, a phone number, or
// a signed media URL.
//
// Calls go through github.com/twilio/twilio-go, whose base URL is fixed:
// the client's transport sends requests for api.twilio.com to the configured
// API URL instead (config twilio.api_url), which is how tests use a fake.
package twilioapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	twilioclient "github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"
)

// Defaults, with their reasons.
const (
	// DefaultAPIURL is Twilio's REST API.
	DefaultAPIURL = "https://api.twilio.com"
	// DefaultTimeout bounds one REST call: Twilio answers in well under a
	// second; past this the scrub job is retried later.
	DefaultTimeout = 10 * time.Second
	// DefaultMediaTimeout bounds one media download, redirect included: a
	// 5 MiB item over a slow link to the CDN.
	DefaultMediaTimeout = 30 * time.Second
	// DefaultMaxMediaBytes bounds one media item. MMS carries at most 5 MB
	// in all; WhatsApp allows larger videos and documents, which the
	// operator may allow with media.max_bytes.
	DefaultMaxMediaBytes = 5 << 20
	// MaxBody is Twilio's limit on a message body, in characters.
	MaxBody = 1600
	// apiHost is where twilio-go sends every request.
	apiHost = "api.twilio.com"
	// maxRedirects bounds the hops of a media download (Twilio uses one).
	maxRedirects = 3
)

// DefaultMediaTypes are what a reporter's phone sends and an officer can
// open safely: photos, voice notes, short videos, PDF. SVG and HTML are left
// out on purpose: they can carry scripts.
var DefaultMediaTypes = []string{
	"image/jpeg", "image/png", "image/gif", "image/webp", "image/heic", "image/heif",
	"audio/ogg", "audio/amr", "audio/mpeg", "audio/mp4", "audio/aac", "audio/3gpp", "audio/wav", "audio/x-wav",
	"video/mp4", "video/3gpp", "video/quicktime",
	"application/pdf",
}

// Options configure a Client.
type Options struct {
	AccountSID string
	AuthToken  string
	// APIURL is where REST calls go; DefaultAPIURL if empty.
	APIURL string
	// StatusCallback is the URL Twilio reports the delivery of sent
	// messages to; none if empty.
	StatusCallback string
	// Timeout bounds one REST call; DefaultTimeout if zero.
	Timeout time.Duration
	// MediaTimeout bounds one media download; DefaultMediaTimeout if zero.
	MediaTimeout time.Duration
	// MaxMediaBytes bounds one media item; DefaultMaxMediaBytes if zero.
	MaxMediaBytes int64
	// MediaTypes are the content types accepted (parameters such as
	// "; codecs=opus" aside); DefaultMediaTypes if nil.
	MediaTypes []string
	// Transport carries the requests (after the rewrite to APIURL); a
	// clone of http.DefaultTransport if nil.
	Transport http.RoundTripper
}

// Client calls Twilio's REST API. It is safe for concurrent use.
type Client struct {
	opt   Options
	api   *url.URL
	rt    http.RoundTripper
	types map[string]bool
}

// Errors.
var (
	// ErrMediaURL: a media URL that is not a media item of this account on
	// Twilio's API host. Nothing was fetched.
	ErrMediaURL = errors.New("not a Twilio media URL of this account")
	// ErrMediaTooLarge: the item is over Options.MaxMediaBytes.
	ErrMediaTooLarge = errors.New("media item too large")
	// ErrMediaType: the item's content type is not allowed.
	ErrMediaType = errors.New("media type not allowed")
	// ErrBadSID: a message or media SID that is not one.
	ErrBadSID = errors.New("malformed Twilio SID")
	// ErrBadAddress: a From/To pair that is not two phone numbers or two
	// WhatsApp addresses.
	ErrBadAddress = errors.New("from and to must both be phone numbers or both whatsapp: addresses")
	// ErrBadBody: an empty or over-long message body.
	ErrBadBody = fmt.Errorf("message body must have 1 to %d characters", MaxBody)
)

// New returns a client. It checks the options but makes no call.
func New(opt Options) (*Client, error) {
	if opt.APIURL == "" {
		opt.APIURL = DefaultAPIURL
	}
	if opt.Timeout <= 0 {
		opt.Timeout = DefaultTimeout
	}
	if opt.MediaTimeout <= 0 {
		opt.MediaTimeout = DefaultMediaTimeout
	}
	if opt.MaxMediaBytes <= 0 {
		opt.MaxMediaBytes = DefaultMaxMediaBytes
	}
	if opt.MediaTypes == nil {
		opt.MediaTypes = DefaultMediaTypes
	}
	var errs []error
	if !accountSID.MatchString(opt.AccountSID) {
		errs = append(errs, errors.New("twilio account SID must be AC and 32 hex digits"))
	}
	if opt.AuthToken == "" || !alnum.MatchString(opt.AuthToken) {
		// twilio-go refuses anything else at the first call; say so now.
		errs = append(errs, errors.New("twilio auth token must be letters and digits"))
	}
	api, err := url.Parse(opt.APIURL)
	if err != nil || (api.Scheme != "https" && api.Scheme != "http") || api.Host == "" || api.RawQuery != "" || api.User != nil {
		errs = append(errs, errors.New("twilio api_url must be an http(s) URL without query or credentials"))
	}
	if opt.StatusCallback != "" {
		if u, err := url.Parse(opt.StatusCallback); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			errs = append(errs, errors.New("status callback must be an http(s) URL"))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	c := &Client{opt: opt, api: api, types: map[string]bool{}}
	for _, t := range opt.MediaTypes {
		c.types[strings.ToLower(strings.TrimSpace(t))] = true
	}
	base := opt.Transport
	if base == nil {
		base = http.DefaultTransport.(*http.Transport).Clone()
	}
	c.rt = &rewriter{api: api, base: base}
	return c, nil
}

var (
	accountSID = regexp.MustCompile(`^AC[0-9a-f]{32}$`)
	messageSID = regexp.MustCompile(`^(SM|MM)[0-9a-f]{32}$`)
	mediaSID   = regexp.MustCompile(`^ME[0-9a-f]{32}$`)
	alnum      = regexp.MustCompile(`^[A-Za-z0-9]+$`)
)

// rewriter sends requests for Twilio's API host to the configured API URL.
// Other hosts (the media CDN) pass unchanged.
type rewriter struct {
	api  *url.URL
	base http.RoundTripper
}

func (rw *rewriter) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Host != apiHost || (rw.api.Host == apiHost && rw.api.Scheme == "https" && rw.api.Path == "") {
		return rw.base.RoundTrip(req)
	}
	r := req.Clone(req.Context())
	r.URL.Scheme = rw.api.Scheme
	r.URL.Host = rw.api.Host
	r.URL.Path = strings.TrimSuffix(rw.api.Path, "/") + req.URL.Path
	if req.URL.RawPath != "" {
		r.URL.RawPath = strings.TrimSuffix(rw.api.EscapedPath(), "/") + req.URL.RawPath
	}
	r.Host = ""
	return rw.base.RoundTrip(r)
}

// ctxTransport binds a call's context to twilio-go's requests, which the
// library makes with context.Background().
type ctxTransport struct {
	ctx  context.Context
	base http.RoundTripper
}

func (t ctxTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	return t.base.RoundTrip(req.WithContext(t.ctx))
}

// api returns twilio-go's API service for one call, bound to ctx and the
// REST timeout.
func (c *Client) apiFor(ctx context.Context) *openapi.ApiService {
	tc := &twilioclient.Client{
		Credentials: twilioclient.NewCredentials(c.opt.AccountSID, c.opt.AuthToken),
		HTTPClient: &http.Client{
			Transport: ctxTransport{ctx: ctx, base: c.rt},
			Timeout:   c.opt.Timeout,
			// Twilio's REST calls do not redirect; never follow one with the
			// credentials.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
	tc.SetAccountSid(c.opt.AccountSID)
	rh := twilioclient.NewRequestHandler(tc)
	// twilio-go reads TWILIO_EDGE and TWILIO_REGION from the environment and
	// would change the host; the configured API URL decides alone.
	rh.Edge, rh.Region = "", ""
	return openapi.NewApiService(rh)
}

// Redact empties the body of a message at Twilio (UpdateMessage with an
// empty Body). Twilio refuses while the message is still being processed
// (error 20009): Retryable reports such an error.
func (c *Client) Redact(ctx context.Context, messageSid string) error {
	if !messageSID.MatchString(messageSid) {
		return &APIError{Op: "redact", Err: ErrBadSID}
	}
	ctx, cancel := context.WithTimeout(ctx, c.opt.Timeout)
	defer cancel()
	body := ""
	_, err := c.apiFor(ctx).UpdateMessage(messageSid, &openapi.UpdateMessageParams{Body: &body})
	return wrap("redact", err)
}

// DeleteMedia deletes one media item of a message at Twilio.
func (c *Client) DeleteMedia(ctx context.Context, messageSid, mediaSid string) error {
	if !messageSID.MatchString(messageSid) || !mediaSID.MatchString(mediaSid) {
		return &APIError{Op: "delete media", Err: ErrBadSID}
	}
	ctx, cancel := context.WithTimeout(ctx, c.opt.Timeout)
	defer cancel()
	return wrap("delete media", c.apiFor(ctx).DeleteMedia(messageSid, mediaSid, nil))
}

// Send sends body from one of the hotline's numbers to a reporter and
// returns the new message's SID. from and to are both E.164 numbers (SMS) or
// both whatsapp: addresses. Delivery is reported to Options.StatusCallback.
func (c *Client) Send(ctx context.Context, from, to, body string) (string, error) {
	if strings.HasPrefix(from, "whatsapp:") != strings.HasPrefix(to, "whatsapp:") || !address(from) || !address(to) {
		return "", &APIError{Op: "send", Err: ErrBadAddress}
	}
	if n := len([]rune(body)); n == 0 || n > MaxBody || strings.TrimSpace(body) == "" {
		return "", &APIError{Op: "send", Err: ErrBadBody}
	}
	ctx, cancel := context.WithTimeout(ctx, c.opt.Timeout)
	defer cancel()
	p := (&openapi.CreateMessageParams{}).SetFrom(from).SetTo(to).SetBody(body)
	if c.opt.StatusCallback != "" {
		p.SetStatusCallback(c.opt.StatusCallback)
	}
	m, err := c.apiFor(ctx).CreateMessage(p)
	if err != nil {
		return "", wrap("send", err)
	}
	if m == nil || m.Sid == nil || !messageSID.MatchString(*m.Sid) {
		return "", &APIError{Op: "send", Err: errors.New("no message SID in Twilio's answer")}
	}
	return *m.Sid, nil
}

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{7,14}$`)

func address(s string) bool { return e164.MatchString(strings.TrimPrefix(s, "whatsapp:")) }
