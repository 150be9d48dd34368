package twilioapi

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"time"

	twilioclient "github.com/twilio/twilio-go/client"
)

// Twilio error codes the gateway acts on.
const (
	// CodeInProgress (20009, "Cannot delete this resource before it is
	// complete"): Twilio has not finished processing the message. Its advice:
	// wait a minute, then several minutes, and try again; rarely a record
	// takes days to become final.
	CodeInProgress = 20009
	// CodeNotFound (20404): the resource does not exist (already deleted,
	// or never of this account).
	CodeNotFound = 20404
	// CodeOptedOut (21610): the recipient replied STOP; Twilio refuses to
	// send to them.
	CodeOptedOut = 21610
)

// APIError is a failed call. It carries Twilio's HTTP status and error code
// but never Twilio's message, which can quote a phone number, nor a URL,
// which for media can be a signed link.
type APIError struct {
	Op     string // "redact", "delete media", "send", "fetch media"
	Status int    // HTTP status, 0 when there was no answer
	Code   int    // Twilio's error code, 0 when none
	Err    error  // the cause when there was no answer (timeout, refused, ErrBadSID...)
}

func (e *APIError) Error() string {
	switch {
	case e.Code != 0:
		return fmt.Sprintf("twilio: %s: status %d, error %d", e.Op, e.Status, e.Code)
	case e.Status != 0:
		return fmt.Sprintf("twilio: %s: status %d", e.Op, e.Status)
	case e.Err != nil:
		return fmt.Sprintf("twilio: %s: %v", e.Op, e.Err)
	}
	return "twilio: " + e.Op + ": failed"
}

func (e *APIError) Unwrap() error { return e.Err }

// decodeStatus finds the status in twilio-go's error for an error answer it
// could not decode (an HTML page from a proxy, say).
var decodeStatus = regexp.MustCompile(`HTTP error code: (\d{3})`)

// wrap turns twilio-go's errors into an APIError, dropping every text that
// came from Twilio or names a URL.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	var rest *twilioclient.TwilioRestError
	if errors.As(err, &rest) {
		return &APIError{Op: op, Status: rest.Status, Code: rest.Code}
	}
	var v1 *twilioclient.RestErrorV1
	if errors.As(err, &v1) {
		return &APIError{Op: op, Status: v1.HttpStatusCode, Code: v1.Code}
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return &APIError{Op: op, Err: ue.Err} // the cause, without the URL
	}
	if m := decodeStatus.FindStringSubmatch(err.Error()); m != nil {
		status, _ := strconv.Atoi(m[1])
		return &APIError{Op: op, Status: status}
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return err
	}
	// A success answer that could not be decoded: nothing of the answer is
	// quoted.
	return &APIError{Op: op, Err: errors.New("unreadable answer")}
}

// Retryable reports whether a failed call may succeed later, unchanged:
// Twilio still processing the message (20009), too many requests (429),
// Twilio's own failures (5xx), timeouts and network errors, and a call
// cancelled by shutdown. A refused request (other 4xx), a malformed SID, a
// media item too large or of a refused type will fail the same way again.
//
// Send is not idempotent: after a timeout the message may have gone out, so
// retrying a Send can reach the reporter twice.
func Retryable(err error) bool {
	if err == nil {
		return false
	}
	var ae *APIError
	if errors.As(err, &ae) {
		switch {
		case ae.Code == CodeInProgress, ae.Status == 429, ae.Status >= 500:
			return true
		case ae.Status != 0:
			return false
		}
		if ae.Err == nil {
			return false
		}
		err = ae.Err
	}
	for _, permanent := range []error{ErrBadSID, ErrMediaURL, ErrRecordingURL, ErrMediaTooLarge, ErrMediaType, ErrBadAddress, ErrBadBody} {
		if errors.Is(err, permanent) {
			return false
		}
	}
	if errors.Is(err, ErrCallInProgress) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne)
}

// IsNotFound reports Twilio's "not found": for a scrub job, the message or
// item is already gone, and the job is done.
func IsNotFound(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && (ae.Code == CodeNotFound || (ae.Code == 0 && ae.Status == 404))
}

// IsOptedOut reports that Twilio refused to send because the recipient
// replied STOP.
func IsOptedOut(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Code == CodeOptedOut
}

// Schedule is a retry schedule: Initial, then each wait Factor times the
// last, at most Max, until the waits add up to more than GiveUpAfter.
type Schedule struct {
	Initial     time.Duration
	Factor      float64
	Max         time.Duration
	GiveUpAfter time.Duration
	// Jitter spreads each wait by up to this fraction either way, so that
	// jobs that failed together do not all come back together.
	Jitter float64
}

// ScrubSchedule follows Twilio's advice for 20009 (wait at least a minute,
// then several): 1, 2, 4, 8, 16, 32 minutes, then hourly, and gives up after
// three days, when the job is counted as abandoned.
var ScrubSchedule = Schedule{Initial: time.Minute, Factor: 2, Max: time.Hour, GiveUpAfter: 72 * time.Hour, Jitter: 0.1}

// maxAttempts bounds the work of Next for any attempt number a stored job
// may carry.
const maxAttempts = 10000

// Delay returns the wait before retry number attempt (1 for the first retry,
// after the first failure), without jitter.
func (s Schedule) Delay(attempt int) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	d := float64(s.Initial)
	for i := 1; i < attempt && d < float64(s.Max); i++ {
		d *= max(s.Factor, 1)
	}
	return min(time.Duration(d), s.Max)
}

// Next returns the wait before retry number attempt, with jitter, and false
// when the schedule gives up: the waits before it already add up to
// GiveUpAfter.
func (s Schedule) Next(attempt int) (time.Duration, bool) {
	if s.Initial <= 0 || attempt > maxAttempts {
		return 0, false
	}
	var total time.Duration
	for i := 1; i < attempt; i++ {
		total += s.Delay(i)
		if total >= s.GiveUpAfter {
			return 0, false
		}
	}
	d := s.Delay(attempt)
	if total+d > s.GiveUpAfter {
		return 0, false
	}
	if s.Jitter > 0 {
		d += time.Duration((rand.Float64()*2 - 1) * s.Jitter * float64(d))
	}
	return d, true
}
