package twilioapi

import (
	"context"
	"errors"
)

// ScrubJob is what is left to erase at Twilio of one message (its body and
// its media items) or of one call (its recordings, then the call itself). It holds only SIDs (random ids), so it may be stored in
// clear, in Redis, until done.
//
// A job is queued once the message's tip is durably queued, and run by Scrub
// until Done; after a Retryable error it is tried again after
// ScrubSchedule.Next(job.Attempt), and abandoned (and counted) when the
// schedule gives up.
type ScrubJob struct {
	MessageSID string   `json:"message"`
	Redacted   bool     `json:"redacted,omitempty"`
	MediaSIDs  []string `json:"media,omitempty"` // items not yet deleted
	Attempt    int      `json:"attempt,omitempty"`
	// RecordingSIDs are a call's recordings not yet deleted; CallSID is a
	// call whose record is still to delete once it is over ("" when done,
	// or for a message). A job of a call has no MessageSID.
	RecordingSIDs []string `json:"recordings,omitempty"`
	CallSID       string   `json:"call,omitempty"`
}

// Done reports whether nothing is left to erase.
func (j ScrubJob) Done() bool {
	return (j.Redacted || j.MessageSID == "") && len(j.MediaSIDs) == 0 && len(j.RecordingSIDs) == 0 && j.CallSID == ""
}

// Scrub does what is left of job: redacts the body (the text is what
// identifies most), then deletes each remaining media item; for a call,
// deletes each recording, then the call once it is over. It returns the
// job with what is still to do, its Attempt counted, and an error when
// something is left: a Retryable one when any part may succeed later. A
// message or item that Twilio no longer has counts as erased.
func (c *Client) Scrub(ctx context.Context, job ScrubJob) (ScrubJob, error) {
	job.Attempt++
	var errs []error
	if !job.Redacted && job.MessageSID != "" {
		if err := c.Redact(ctx, job.MessageSID); err != nil && !IsNotFound(err) {
			errs = append(errs, err)
		} else {
			job.Redacted = true
		}
	}
	left := job.MediaSIDs[:0:0]
	for _, me := range job.MediaSIDs {
		if err := c.DeleteMedia(ctx, job.MessageSID, me); err != nil && !IsNotFound(err) {
			left = append(left, me)
			errs = append(errs, err)
		}
	}
	job.MediaSIDs = left
	recordings := job.RecordingSIDs[:0:0]
	for _, re := range job.RecordingSIDs {
		if err := c.DeleteRecording(ctx, re); err != nil && !IsNotFound(err) {
			recordings = append(recordings, re)
			errs = append(errs, err)
		}
	}
	job.RecordingSIDs = recordings
	// The call goes last: its record is what leads from the recording to
	// the caller, and Twilio deletes it only once the call is over.
	if job.CallSID != "" && len(job.RecordingSIDs) == 0 {
		if err := c.DeleteCall(ctx, job.CallSID); err != nil && !IsNotFound(err) {
			errs = append(errs, err)
		} else {
			job.CallSID = ""
		}
	}
	if len(errs) == 0 {
		return job, nil
	}
	for _, err := range errs {
		if Retryable(err) {
			return job, err
		}
	}
	return job, errors.Join(errs...)
}
