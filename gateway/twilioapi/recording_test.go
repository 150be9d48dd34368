package twilioapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
)

const (
	callA = "CA000000000000000000000000000000c1"
	recA  = "RE000000000000000000000000000000a1"
)

// fakeVoice is the fake's side of calls and recordings.
type fakeVoice struct {
	recordings map[string][]byte // RE -> MP3 bytes
	calls      map[string]string // CA -> status
	fetched    []string          // "RE.ext"
	deleted    []string          // RE or CA
	fetchCall  int               // GET of a call
}

func (f *fakeTwilio) voiceRoutes(mux *http.ServeMux) {
	f.voice = &fakeVoice{recordings: map[string][]byte{}, calls: map[string]string{}}
	mux.HandleFunc("GET /2010-04-01/Accounts/{ac}/Recordings/{re}", func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("re")
		sid, ext, _ := strings.Cut(name, ".")
		f.mu.Lock()
		data, ok := f.voice.recordings[sid]
		f.voice.fetched = append(f.voice.fetched, name)
		f.mu.Unlock()
		if !ok {
			twilioError(w, http.StatusNotFound, CodeNotFound, "not found")
			return
		}
		ctype := "audio/x-wav"
		if ext == "mp3" {
			ctype = "audio/mpeg"
		}
		serveMedia(w, fakeMedia{ctype: ctype, body: data})
	})
	mux.HandleFunc("DELETE /2010-04-01/Accounts/{ac}/Recordings/{re}", func(w http.ResponseWriter, r *http.Request) {
		sid := strings.TrimSuffix(r.PathValue("re"), ".json")
		if code := f.takeError("delete", sid); code != 0 {
			answerError(w, code)
			return
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		if _, ok := f.voice.recordings[sid]; !ok {
			twilioError(w, http.StatusNotFound, CodeNotFound, "not found")
			return
		}
		delete(f.voice.recordings, sid)
		f.voice.deleted = append(f.voice.deleted, sid)
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /2010-04-01/Accounts/{ac}/Calls/{ca}", func(w http.ResponseWriter, r *http.Request) {
		sid := strings.TrimSuffix(r.PathValue("ca"), ".json")
		f.mu.Lock()
		status, ok := f.voice.calls[sid]
		f.voice.fetchCall++
		f.mu.Unlock()
		if !ok {
			twilioError(w, http.StatusNotFound, CodeNotFound, "not found")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"sid": sid, "status": status, "from": secretNumber})
	})
	mux.HandleFunc("DELETE /2010-04-01/Accounts/{ac}/Calls/{ca}", func(w http.ResponseWriter, r *http.Request) {
		sid := strings.TrimSuffix(r.PathValue("ca"), ".json")
		f.mu.Lock()
		defer f.mu.Unlock()
		if s, ok := f.voice.calls[sid]; !ok || s == "in-progress" {
			twilioError(w, http.StatusNotFound, CodeNotFound, "not found")
			return
		}
		delete(f.voice.calls, sid)
		f.voice.deleted = append(f.voice.deleted, sid)
		w.WriteHeader(http.StatusNoContent)
	})
}

func (f *fakeTwilio) recordingURL(re string) string {
	return "https://api.twilio.com/2010-04-01/Accounts/" + testSID + "/Recordings/" + re
}

func TestFetchRecording(t *testing.T) {
	f := newFakeTwilio(t)
	c := f.client(t, nil)
	audio := append([]byte("ID3\x04\x00"), bytes.Repeat([]byte{0xff, 0xfb, 0x90, 0x44}, 1000)...)
	f.voice.recordings[recA] = audio
	data, ctype, err := c.FetchRecording(context.Background(), f.recordingURL(recA), 0)
	if err != nil || ctype != "audio/mpeg" || !bytes.Equal(data, audio) {
		t.Fatalf("fetch: %v %q %d bytes", err, ctype, len(data))
	}
	apiAuth, _, _ := f.snapshot()
	if len(apiAuth) != 1 || apiAuth[0] != "ok" || len(f.voice.fetched) != 1 || f.voice.fetched[0] != recA+".mp3" {
		t.Fatalf("auth %v, fetched %v: want one MP3 request with the account's credentials", apiAuth, f.voice.fetched)
	}
	// Over the cap: refused, not returned in part.
	if _, _, err := c.FetchRecording(context.Background(), f.recordingURL(recA), 100); !errors.Is(err, ErrMediaTooLarge) {
		t.Fatalf("over the cap: %v", err)
	}
	// Any URL that is not a recording of this account on Twilio's API host
	// (or the configured one) is refused before any request.
	_, _, before := f.snapshot()
	for _, u := range []string{
		"https://evil.example.org/2010-04-01/Accounts/" + testSID + "/Recordings/" + recA,
		"http://api.twilio.com/2010-04-01/Accounts/" + testSID + "/Recordings/" + recA,
		"https://api.twilio.com/2010-04-01/Accounts/AC11111111111111111111111111111111/Recordings/" + recA,
		"https://api.twilio.com/2010-04-01/Accounts/" + testSID + "/Recordings/" + recA + "?x=1",
		"https://user:pw@api.twilio.com/2010-04-01/Accounts/" + testSID + "/Recordings/" + recA,
		"https://api.twilio.com/2010-04-01/Accounts/" + testSID + "/Recordings/RE1",
		"https://api.twilio.com/2010-04-01/Accounts/" + testSID + "/Recordings/" + recA + "/../../Messages",
		"https://api.twilio.com.evil.org/2010-04-01/Accounts/" + testSID + "/Recordings/" + recA,
	} {
		if _, _, err := c.FetchRecording(context.Background(), u, 0); !errors.Is(err, ErrRecordingURL) || Retryable(err) {
			t.Errorf("%s: %v, want ErrRecordingURL", u, err)
		}
	}
	if _, _, after := f.snapshot(); after != before {
		t.Fatalf("%d requests for refused URLs", after-before)
	}
	// The configured API URL's own host is Twilio's for this client.
	if sid, err := c.ParseRecordingURL(f.api.URL + "/2010-04-01/Accounts/" + testSID + "/Recordings/" + recA + ".wav"); err != nil || sid != recA {
		t.Fatalf("configured host: %q %v", sid, err)
	}
}

func TestScrubCall(t *testing.T) {
	f := newFakeTwilio(t)
	c := f.client(t, nil)
	f.voice.recordings[recA] = []byte("mp3")
	f.voice.calls[callA] = "in-progress"
	job := ScrubJob{RecordingSIDs: []string{recA}, CallSID: callA}
	// The call is not over: the recording goes, the call waits.
	job, err := c.Scrub(context.Background(), job)
	if !errors.Is(err, ErrCallInProgress) || !Retryable(err) || job.Done() || len(job.RecordingSIDs) != 0 || job.CallSID != callA {
		t.Fatalf("run 1: %+v %v", job, err)
	}
	if len(f.voice.deleted) != 1 || f.voice.deleted[0] != recA {
		t.Fatalf("deleted %v", f.voice.deleted)
	}
	if strings.Contains(err.Error(), secretNumber) {
		t.Fatalf("error quotes the caller: %v", err)
	}
	f.mu.Lock()
	f.voice.calls[callA] = "completed"
	f.mu.Unlock()
	job, err = c.Scrub(context.Background(), job)
	if err != nil || !job.Done() || len(f.voice.deleted) != 2 || f.voice.deleted[1] != callA {
		t.Fatalf("run 2: %+v %v, deleted %v", job, err, f.voice.deleted)
	}
	// Already gone at Twilio: done.
	job, err = c.Scrub(context.Background(), ScrubJob{RecordingSIDs: []string{recA}, CallSID: callA})
	if err != nil || !job.Done() {
		t.Fatalf("gone: %+v %v", job, err)
	}
	// A recording Twilio fails to delete keeps the call for later.
	f.voice.recordings[recA] = []byte("mp3")
	f.voice.calls[callA] = "completed"
	f.failNext("delete", recA, 503)
	job, err = c.Scrub(context.Background(), ScrubJob{RecordingSIDs: []string{recA}, CallSID: callA})
	if !Retryable(err) || job.CallSID != callA || len(job.RecordingSIDs) != 1 {
		t.Fatalf("recording failing: %+v %v", job, err)
	}
	if err := c.DeleteCall(context.Background(), "CA1"); !errors.Is(err, ErrBadSID) {
		t.Fatalf("bad call SID: %v", err)
	}
	if err := c.DeleteRecording(context.Background(), callA); !errors.Is(err, ErrBadSID) {
		t.Fatalf("bad recording SID: %v", err)
	}
}
