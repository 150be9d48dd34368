package twilioapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	testSID   = "AC0123456789abcdef0123456789abcdef"
	testToken = "s3cr3tT0kenABCDEF0123456789abcdef"
	msgSID    = "MM00000000000000000000000000000001"
	smsSID    = "SM00000000000000000000000000000002"
	mediaA    = "ME0000000000000000000000000000000a"
	mediaB    = "ME0000000000000000000000000000000b"
	// secretNumber appears in the fake's error messages, as Twilio's own
	// do: it must never reach an error of ours.
	secretNumber = "+60123450000"
)

// fakeTwilio is an httptest fake of the parts of Twilio's REST API the
// gateway uses, and of its media CDN.
type fakeTwilio struct {
	t   *testing.T
	api *httptest.Server
	cdn *httptest.Server

	mu        sync.Mutex
	updates   map[string][]url.Values // message SID -> forms of UpdateMessage
	deleted   []string                // "MM/ME"
	sent      []url.Values
	apiAuth   []string // "ok", "missing", "wrong" per API request
	cdnAuth   []string // Authorization headers the CDN saw
	cdnQuery  []string
	requests  int
	errors    map[string][]int // "op sid" -> Twilio error codes to answer, in turn
	media     map[string]fakeMedia
	cdnDelay  time.Duration
	mediaHops map[string]int // media SID -> redirects before the CDN (default 1)
	voice     *fakeVoice     // recordings and calls (recording_test.go)
}

type fakeMedia struct {
	ctype  string
	body   []byte
	noLen  bool // chunked: no Content-Length
	status int  // API status instead of a redirect
}

func newFakeTwilio(t *testing.T) *fakeTwilio {
	f := &fakeTwilio{t: t, updates: map[string][]url.Values{}, errors: map[string][]int{}, media: map[string]fakeMedia{}, mediaHops: map[string]int{}}
	f.cdn = httptest.NewServer(http.HandlerFunc(f.serveCDN))
	mux := http.NewServeMux()
	mux.HandleFunc("POST /2010-04-01/Accounts/{ac}/Messages/{sid}", f.update)
	mux.HandleFunc("POST /2010-04-01/Accounts/{ac}/Messages.json", f.create)
	mux.HandleFunc("DELETE /2010-04-01/Accounts/{ac}/Messages/{mm}/Media/{me}", f.deleteMedia)
	mux.HandleFunc("GET /2010-04-01/Accounts/{ac}/Messages/{mm}/Media/{me}", f.getMedia)
	f.voiceRoutes(mux)
	f.api = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.requests++
		user, pass, ok := r.BasicAuth()
		switch {
		case !ok:
			f.apiAuth = append(f.apiAuth, "missing")
		case user == testSID && pass == testToken:
			f.apiAuth = append(f.apiAuth, "ok")
		default:
			f.apiAuth = append(f.apiAuth, "wrong")
		}
		f.mu.Unlock()
		if !ok || user != testSID || pass != testToken {
			twilioError(w, http.StatusUnauthorized, 20003, "Authenticate")
			return
		}
		if !strings.HasPrefix(r.URL.Path, "/2010-04-01/Accounts/"+testSID+"/") {
			twilioError(w, http.StatusNotFound, CodeNotFound, "not found")
			return
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(func() { f.api.Close(); f.cdn.Close() })
	return f
}

func (f *fakeTwilio) client(t *testing.T, mod func(*Options)) *Client {
	t.Helper()
	opt := Options{AccountSID: testSID, AuthToken: testToken, APIURL: f.api.URL, StatusCallback: "https://hotline.example.org/twilio/status"}
	if mod != nil {
		mod(&opt)
	}
	c, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// failNext makes the fake answer the next calls of op on sid with codes.
func (f *fakeTwilio) failNext(op, sid string, codes ...int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errors[op+" "+sid] = append(f.errors[op+" "+sid], codes...)
}

func (f *fakeTwilio) takeError(op, sid string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	q := f.errors[op+" "+sid]
	if len(q) == 0 {
		return 0
	}
	f.errors[op+" "+sid] = q[1:]
	return q[0]
}

// answerError writes Twilio's answer for one of its error codes.
func answerError(w http.ResponseWriter, code int) {
	switch code {
	case CodeInProgress:
		twilioError(w, http.StatusConflict, code, "Cannot delete this resource before it is complete")
	case CodeNotFound:
		twilioError(w, http.StatusNotFound, code, "The requested resource was not found")
	case CodeOptedOut:
		twilioError(w, http.StatusBadRequest, code, "Attempt to send to unsubscribed recipient "+secretNumber)
	case 500, 502, 503:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(code)
		fmt.Fprint(w, "<html>upstream error for "+secretNumber+"</html>")
	case 429:
		twilioError(w, 429, 20429, "Too Many Requests")
	default:
		twilioError(w, http.StatusBadRequest, code, "The 'To' number "+secretNumber+" is not a valid phone number.")
	}
}

func twilioError(w http.ResponseWriter, status, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"code": code, "message": msg, "more_info": fmt.Sprintf("https://www.twilio.com/docs/errors/%d", code), "status": status,
	})
}

func (f *fakeTwilio) update(w http.ResponseWriter, r *http.Request) {
	sid := strings.TrimSuffix(r.PathValue("sid"), ".json")
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", 400)
		return
	}
	if code := f.takeError("update", sid); code != 0 {
		answerError(w, code)
		return
	}
	f.mu.Lock()
	f.updates[sid] = append(f.updates[sid], r.PostForm)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"sid": sid, "body": r.PostForm.Get("Body"), "status": "received"})
}

func (f *fakeTwilio) create(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", 400)
		return
	}
	if code := f.takeError("create", r.PostForm.Get("To")); code != 0 {
		answerError(w, code)
		return
	}
	f.mu.Lock()
	f.sent = append(f.sent, r.PostForm)
	n := len(f.sent)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(map[string]any{"sid": fmt.Sprintf("SM%032x", n), "status": "queued"})
}

func (f *fakeTwilio) deleteMedia(w http.ResponseWriter, r *http.Request) {
	me := strings.TrimSuffix(r.PathValue("me"), ".json")
	if code := f.takeError("delete", me); code != 0 {
		answerError(w, code)
		return
	}
	f.mu.Lock()
	f.deleted = append(f.deleted, r.PathValue("mm")+"/"+me)
	f.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (f *fakeTwilio) getMedia(w http.ResponseWriter, r *http.Request) {
	me := r.PathValue("me")
	f.mu.Lock()
	m, ok := f.media[me]
	hops, set := f.mediaHops[me]
	f.mu.Unlock()
	if !ok {
		twilioError(w, http.StatusNotFound, CodeNotFound, "not found")
		return
	}
	if m.status != 0 {
		answerError(w, m.status)
		return
	}
	if set && hops == 0 {
		serveMedia(w, m) // answered directly, no CDN
		return
	}
	if !set {
		hops = 1
	}
	// Twilio redirects to a signed, short-lived CDN URL; hops > 1 sends the
	// client into a redirect loop on the CDN.
	target := f.cdn.URL + "/media/" + me + "?Signature=cdnsig123&Expires=99"
	if hops > 1 {
		target = f.cdn.URL + "/loop"
	}
	http.Redirect(w, r, target, http.StatusTemporaryRedirect)
}

func (f *fakeTwilio) serveCDN(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.cdnAuth = append(f.cdnAuth, r.Header.Get("Authorization"))
	f.cdnQuery = append(f.cdnQuery, r.URL.RawQuery)
	m, ok := f.media[strings.TrimPrefix(r.URL.Path, "/media/")]
	delay := f.cdnDelay
	f.mu.Unlock()
	if r.URL.Path == "/loop" {
		http.Redirect(w, r, "/loop", http.StatusFound)
		return
	}
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	if !ok || r.URL.Query().Get("Signature") != "cdnsig123" {
		http.Error(w, "AccessDenied", http.StatusForbidden)
		return
	}
	serveMedia(w, m)
}

func serveMedia(w http.ResponseWriter, m fakeMedia) {
	w.Header().Set("Content-Type", m.ctype)
	if m.noLen {
		w.WriteHeader(http.StatusOK)
		for i := 0; i < len(m.body); i += 1 << 16 {
			_, _ = w.Write(m.body[i:min(i+1<<16, len(m.body))])
			w.(http.Flusher).Flush()
		}
		return
	}
	w.Header().Set("Content-Length", fmt.Sprint(len(m.body)))
	_, _ = w.Write(m.body)
}

func (f *fakeTwilio) mediaURL(me string) string {
	return "https://api.twilio.com/2010-04-01/Accounts/" + testSID + "/Messages/" + msgSID + "/Media/" + me
}

func (f *fakeTwilio) snapshot() (apiAuth, cdnAuth []string, requests int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.apiAuth...), append([]string(nil), f.cdnAuth...), f.requests
}
