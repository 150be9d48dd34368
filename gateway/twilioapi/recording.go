package twilioapi

import (
	"context"
	"errors"
	"regexp"
	"strings"
)

// Voice: a call to one of the hotline's numbers leaves two records at
// Twilio, the call (with the caller's number) and its recording (the
// reporter's voice). The recording is fetched like a message's media, with
// the account's credentials and only from Twilio's API host, and both are
// deleted once the tip is durable (ScrubJob.RecordingSIDs, ScrubJob.CallSID).

var (
	callSID      = regexp.MustCompile(`^CA[0-9a-f]{32}$`)
	recordingSID = regexp.MustCompile(`^RE[0-9a-f]{32}$`)
)

// ValidCallSID reports whether s has the shape of a call's SID.
func ValidCallSID(s string) bool { return callSID.MatchString(s) }

// ValidRecordingSID reports whether s has the shape of a recording's SID.
func ValidRecordingSID(s string) bool { return recordingSID.MatchString(s) }

// ValidAccountSID reports whether s has the shape of an account's SID.
func ValidAccountSID(s string) bool { return accountSID.MatchString(s) }

// RecordingTypes are what a recording is fetched as: Twilio serves every
// recording as WAV, or as MP3 when ".mp3" is asked for.
var RecordingTypes = []string{"audio/mpeg", "audio/wav", "audio/x-wav"}

// ErrRecordingURL: a recording URL that is not a recording of this account
// on Twilio's API host (or the configured API URL). Nothing was fetched.
var ErrRecordingURL = errors.New("not a Twilio recording URL of this account")

// ErrCallInProgress: the call is not over yet, so Twilio would refuse to
// delete it; the scrub job tries again later.
var ErrCallInProgress = errors.New("call not completed yet")

// ParseRecordingURL checks that raw is a recording of this account on
// Twilio's API host (https://api.twilio.com/2010-04-01/Accounts/AC.../Recordings/RE...,
// optionally with .json, .wav or .mp3, or the same path on the configured
// API URL) and returns its SID. Only such a recording is ever fetched with
// the account's credentials.
func (c *Client) ParseRecordingURL(raw string) (string, error) {
	for _, ext := range []string{".wav", ".mp3"} {
		if strings.HasSuffix(raw, ext) {
			raw = strings.TrimSuffix(raw, ext)
			break
		}
	}
	parts, ok := c.apiPath(raw)
	// /2010-04-01/Accounts/{AC}/Recordings/{RE}
	if !ok || len(parts) != 6 || parts[4] != "Recordings" || !recordingSID.MatchString(parts[5]) {
		return "", ErrRecordingURL
	}
	return parts[5], nil
}

// FetchRecording downloads a recording named in a recording status
// callback, as MP3, within maxBytes (Options.MaxMediaBytes if 0) and
// Options.MediaTimeout, and returns its bytes and content type. The request
// is built from the recording's SID alone and carries the account's
// credentials to Twilio's API host only.
func (c *Client) FetchRecording(ctx context.Context, recordingURL string, maxBytes int64) ([]byte, string, error) {
	sid, err := c.ParseRecordingURL(recordingURL)
	if err != nil {
		return nil, "", &APIError{Op: "fetch recording", Err: err}
	}
	if maxBytes <= 0 {
		maxBytes = c.opt.MaxMediaBytes
	}
	types := map[string]bool{}
	for _, t := range RecordingTypes {
		types[t] = true
	}
	target := "https://" + apiHost + "/2010-04-01/Accounts/" + c.opt.AccountSID + "/Recordings/" + sid + ".mp3"
	return c.fetch(ctx, "fetch recording", target, types, maxBytes)
}

// DeleteRecording deletes a recording at Twilio.
func (c *Client) DeleteRecording(ctx context.Context, sid string) error {
	if !recordingSID.MatchString(sid) {
		return &APIError{Op: "delete recording", Err: ErrBadSID}
	}
	ctx, cancel := context.WithTimeout(ctx, c.opt.Timeout)
	defer cancel()
	return wrap("delete recording", c.apiFor(ctx).DeleteRecording(sid, nil))
}

// endedCall are the statuses of a call that is over.
var endedCall = map[string]bool{"completed": true, "busy": true, "failed": true, "no-answer": true, "canceled": true}

// DeleteCall deletes the record of a call at Twilio (its numbers, times and
// price), once the call is over: while it is not, it returns a Retryable
// error wrapping ErrCallInProgress and deletes nothing.
func (c *Client) DeleteCall(ctx context.Context, sid string) error {
	if !callSID.MatchString(sid) {
		return &APIError{Op: "delete call", Err: ErrBadSID}
	}
	ctx, cancel := context.WithTimeout(ctx, c.opt.Timeout)
	defer cancel()
	api := c.apiFor(ctx)
	call, err := api.FetchCall(sid, nil)
	if err != nil {
		return wrap("fetch call", err)
	}
	if call == nil || call.Status == nil || !endedCall[*call.Status] {
		return &APIError{Op: "delete call", Err: ErrCallInProgress}
	}
	return wrap("delete call", api.DeleteCall(sid, nil))
}
