package twilioapi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"testing"
	"time"
)

func TestScrub(t *testing.T) {
	f := newFakeTwilio(t)
	c := f.client(t, nil)
	// First run: Twilio is still processing the message, and one media
	// delete fails on Twilio's side.
	f.failNext("update", msgSID, CodeInProgress)
	f.failNext("delete", mediaB, 500)
	job := ScrubJob{MessageSID: msgSID, MediaSIDs: []string{mediaA, mediaB}}
	job, err := c.Scrub(context.Background(), job)
	if !Retryable(err) || job.Done() || job.Redacted || len(job.MediaSIDs) != 1 || job.MediaSIDs[0] != mediaB || job.Attempt != 1 {
		t.Fatalf("after run 1: %+v, %v", job, err)
	}
	assertClean(t, err)
	wait, ok := ScrubSchedule.Next(job.Attempt)
	if !ok || wait < 54*time.Second || wait > 66*time.Second {
		t.Fatalf("next wait %v %v", wait, ok)
	}
	// Second run finishes.
	job, err = c.Scrub(context.Background(), job)
	if err != nil || !job.Done() || job.Attempt != 2 {
		t.Fatalf("after run 2: %+v, %v", job, err)
	}
	if len(f.updates[msgSID]) != 1 || len(f.deleted) != 2 {
		t.Fatalf("updates %v, deleted %v", f.updates, f.deleted)
	}
	// A done job makes no call.
	_, _, before := f.snapshot()
	if _, err := c.Scrub(context.Background(), job); err != nil {
		t.Fatal(err)
	}
	if _, _, after := f.snapshot(); after != before {
		t.Fatalf("%d calls for a done job", after-before)
	}
}

func TestScrubGone(t *testing.T) {
	f := newFakeTwilio(t)
	c := f.client(t, nil)
	f.failNext("update", msgSID, CodeNotFound)
	f.failNext("delete", mediaA, CodeNotFound)
	job, err := c.Scrub(context.Background(), ScrubJob{MessageSID: msgSID, MediaSIDs: []string{mediaA}})
	if err != nil || !job.Done() {
		t.Fatalf("%+v, %v: what Twilio no longer has is erased", job, err)
	}
}

func TestScrubPermanent(t *testing.T) {
	f := newFakeTwilio(t)
	c := f.client(t, nil)
	f.failNext("update", msgSID, 20003)
	job, err := c.Scrub(context.Background(), ScrubJob{MessageSID: msgSID})
	if err == nil || Retryable(err) || job.Done() {
		t.Fatalf("%+v, %v", job, err)
	}
}

func TestRetryable(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{nil, false},
		{&APIError{Op: "redact", Status: 409, Code: CodeInProgress}, true},
		{&APIError{Op: "redact", Status: 400, Code: CodeInProgress}, true},
		{&APIError{Op: "send", Status: 429, Code: 20429}, true},
		{&APIError{Op: "send", Status: 500}, true},
		{&APIError{Op: "send", Status: 503}, true},
		{&APIError{Op: "send", Status: 400, Code: 21211}, false},
		{&APIError{Op: "send", Status: 400, Code: CodeOptedOut}, false},
		{&APIError{Op: "redact", Status: 404, Code: CodeNotFound}, false},
		{&APIError{Op: "redact", Status: 401, Code: 20003}, false},
		{&APIError{Op: "redact", Err: context.DeadlineExceeded}, true},
		{&APIError{Op: "redact", Err: context.Canceled}, true},
		{&APIError{Op: "redact", Err: &net.OpError{Op: "dial", Err: os.ErrDeadlineExceeded}}, true},
		{&APIError{Op: "redact", Err: ErrBadSID}, false},
		{&APIError{Op: "fetch media", Err: ErrMediaTooLarge}, false},
		{&APIError{Op: "fetch media", Err: ErrMediaType}, false},
		{&APIError{Op: "fetch media", Err: ErrMediaURL}, false},
		{&APIError{Op: "send"}, false},
		{fmt.Errorf("job: %w", &APIError{Op: "redact", Code: CodeInProgress, Status: 409}), true},
		{errors.New("something else"), false},
	}
	for _, tt := range tests {
		if got := Retryable(tt.err); got != tt.want {
			t.Errorf("Retryable(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

func TestSchedule(t *testing.T) {
	s := ScrubSchedule
	want := []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 16 * time.Minute, 32 * time.Minute, time.Hour, time.Hour}
	for i, w := range want {
		if got := s.Delay(i + 1); got != w {
			t.Errorf("Delay(%d) = %v, want %v", i+1, got, w)
		}
	}
	var total time.Duration
	attempt := 1
	for ; ; attempt++ {
		d, ok := s.Next(attempt)
		if !ok {
			break
		}
		lo, hi := time.Duration(float64(s.Delay(attempt))*0.9), time.Duration(float64(s.Delay(attempt))*1.1)
		if d < lo || d > hi {
			t.Fatalf("Next(%d) = %v, outside [%v, %v]", attempt, d, lo, hi)
		}
		total += s.Delay(attempt)
		if attempt > 1000 {
			t.Fatal("never gives up")
		}
	}
	if total > s.GiveUpAfter || total < s.GiveUpAfter-time.Hour {
		t.Errorf("gives up after %v of waiting (%d attempts), want about %v", total, attempt-1, s.GiveUpAfter)
	}
	if _, ok := s.Next(1 << 30); ok {
		t.Error("Next(huge) retries")
	}
	if _, ok := (Schedule{}).Next(1); ok {
		t.Error("zero schedule retries")
	}
	if d := (Schedule{Initial: time.Second, Factor: 3, Max: time.Hour, GiveUpAfter: time.Hour}).Delay(0); d != time.Second {
		t.Errorf("Delay(0) = %v", d)
	}
}

func TestParseMediaURL(t *testing.T) {
	f := newFakeTwilio(t)
	c := f.client(t, nil)
	got, err := c.ParseMediaURL(f.mediaURL(mediaB))
	if err != nil || got.MessageSID != msgSID || got.MediaSID != mediaB {
		t.Fatalf("ParseMediaURL = %+v, %v", got, err)
	}
	if got, err := c.ParseMediaURL(f.mediaURL(mediaB) + ".json"); err != nil || got.MediaSID != mediaB {
		t.Fatalf(".json: %+v, %v", got, err)
	}
	for _, bad := range []string{
		"", ":", "https://api.twilio.com/", f.mediaURL(mediaB) + "?x=1", f.mediaURL(mediaB) + "#f",
		f.mediaURL(mediaB) + "/more", "https://api.twilio.com.evil.org/2010-04-01/Accounts/" + testSID + "/Messages/" + msgSID + "/Media/" + mediaB,
		"https://API.TWILIO.COM:8443/2010-04-01/Accounts/" + testSID + "/Messages/" + msgSID + "/Media/" + mediaB,
	} {
		if _, err := c.ParseMediaURL(bad); !errors.Is(err, ErrMediaURL) {
			t.Errorf("ParseMediaURL(%q) = %v", bad, err)
		}
	}
}
