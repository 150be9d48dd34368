package twilioapi

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// assertClean fails if err's text carries anything it must not: a phone
// number, the auth token, Twilio's own message, a signed URL.
func assertClean(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	s := err.Error()
	for _, bad := range []string{secretNumber, "60123450000", testToken, "Signature", "cdnsig", "unsubscribed", "not a valid phone", "upstream error", "http://", "https://"} {
		if strings.Contains(s, bad) {
			t.Errorf("error %q contains %q", s, bad)
		}
	}
}

func TestFetchMedia(t *testing.T) {
	jpeg := append([]byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00"), bytes.Repeat([]byte{7}, 1000)...)
	big := append([]byte("\xff\xd8\xff\xe0"), bytes.Repeat([]byte{1}, 2<<20)...)
	tests := []struct {
		name      string
		media     fakeMedia
		hops      int // -1: default (one redirect)
		url       func(f *fakeTwilio) string
		max       int64
		wantType  string
		wantErr   error
		wantCode  int
		retryable bool
		cdnHit    bool
	}{
		{name: "photo through the CDN", media: fakeMedia{ctype: "image/jpeg", body: jpeg}, hops: -1, wantType: "image/jpeg", cdnHit: true},
		{name: "voice note with parameters", media: fakeMedia{ctype: "audio/ogg; codecs=opus", body: []byte("OggS\x00\x02rest")}, hops: -1, wantType: "audio/ogg", cdnHit: true},
		{name: "pdf answered directly", media: fakeMedia{ctype: "application/pdf", body: []byte("%PDF-1.4 ...")}, hops: 0, wantType: "application/pdf"},
		{name: "url on the configured api host", media: fakeMedia{ctype: "image/png", body: []byte("\x89PNG\r\n\x1a\nrest")}, hops: -1, wantType: "image/png", cdnHit: true,
			url: func(f *fakeTwilio) string {
				return strings.Replace(f.mediaURL(mediaA), "https://api.twilio.com", f.api.URL, 1)
			}},
		{name: "too large by its length", media: fakeMedia{ctype: "image/jpeg", body: big}, hops: -1, max: 1 << 20, wantErr: ErrMediaTooLarge, cdnHit: true},
		{name: "too large without a length", media: fakeMedia{ctype: "image/jpeg", body: big, noLen: true}, hops: -1, max: 1 << 20, wantErr: ErrMediaTooLarge, cdnHit: true},
		{name: "exactly the limit", media: fakeMedia{ctype: "image/jpeg", body: big[:1<<20]}, hops: -1, max: 1 << 20, wantType: "image/jpeg", cdnHit: true},
		{name: "svg refused", media: fakeMedia{ctype: "image/svg+xml", body: []byte("<svg onload=alert(1)>")}, hops: -1, wantErr: ErrMediaType, cdnHit: true},
		{name: "html refused", media: fakeMedia{ctype: "text/html", body: []byte("<html>")}, hops: -1, wantErr: ErrMediaType, cdnHit: true},
		{name: "html dressed as a photo refused", media: fakeMedia{ctype: "image/jpeg", body: []byte("<!DOCTYPE html><html><script>x</script>")}, hops: -1, wantErr: ErrMediaType, cdnHit: true},
		{name: "no content type refused", media: fakeMedia{ctype: "", body: jpeg}, hops: -1, wantErr: ErrMediaType, cdnHit: true},
		{name: "gone", media: fakeMedia{status: CodeNotFound}, hops: -1, wantCode: 404},
		{name: "twilio failing is retryable", media: fakeMedia{status: 503}, hops: -1, wantCode: 503, retryable: true},
		{name: "redirect loop", media: fakeMedia{ctype: "image/jpeg", body: jpeg}, hops: 2, wantCode: 302, cdnHit: true},
		{name: "another account", media: fakeMedia{ctype: "image/jpeg", body: jpeg}, wantErr: ErrMediaURL,
			url: func(f *fakeTwilio) string {
				return strings.Replace(f.mediaURL(mediaA), testSID, "AC"+strings.Repeat("9", 32), 1)
			}},
		{name: "another host", media: fakeMedia{ctype: "image/jpeg", body: jpeg}, wantErr: ErrMediaURL,
			url: func(f *fakeTwilio) string {
				return strings.Replace(f.mediaURL(mediaA), "api.twilio.com", "evil.example.org", 1)
			}},
		{name: "plain http to twilio", media: fakeMedia{ctype: "image/jpeg", body: jpeg}, wantErr: ErrMediaURL,
			url: func(f *fakeTwilio) string { return strings.Replace(f.mediaURL(mediaA), "https://", "http://", 1) }},
		{name: "credentials in the url", media: fakeMedia{ctype: "image/jpeg", body: jpeg}, wantErr: ErrMediaURL,
			url: func(f *fakeTwilio) string { return strings.Replace(f.mediaURL(mediaA), "https://", "https://u:p@", 1) }},
		{name: "not a media path", media: fakeMedia{ctype: "image/jpeg", body: jpeg}, wantErr: ErrMediaURL,
			url: func(f *fakeTwilio) string { return strings.Replace(f.mediaURL(mediaA), "/Media/", "/Other/", 1) }},
		{name: "path traversal", media: fakeMedia{ctype: "image/jpeg", body: jpeg}, wantErr: ErrMediaURL,
			url: func(f *fakeTwilio) string { return f.mediaURL("../../../Calls") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeTwilio(t)
			f.media[mediaA] = tt.media
			if tt.hops >= 0 {
				f.mediaHops[mediaA] = tt.hops
			}
			c := f.client(t, func(o *Options) { o.MaxMediaBytes = tt.max })
			u := f.mediaURL(mediaA)
			if tt.url != nil {
				u = tt.url(f)
			}
			data, ctype, err := c.FetchMedia(context.Background(), u)
			assertClean(t, err)
			apiAuth, cdnAuth, requests := f.snapshot()
			switch {
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
			case tt.wantCode != 0:
				var ae *APIError
				if !errors.As(err, &ae) || ae.Status != tt.wantCode {
					t.Fatalf("err = %v, want status %d", err, tt.wantCode)
				}
			default:
				if err != nil {
					t.Fatal(err)
				}
				if ctype != tt.wantType || !bytes.Equal(data, tt.media.body) {
					t.Fatalf("got %s, %d bytes; want %s, %d bytes", ctype, len(data), tt.wantType, len(tt.media.body))
				}
			}
			if Retryable(err) != tt.retryable {
				t.Errorf("Retryable(%v) = %v", err, !tt.retryable)
			}
			if errors.Is(err, ErrMediaURL) {
				if requests != 0 {
					t.Fatalf("%d requests for a refused URL", requests)
				}
				return
			}
			// Twilio's API always got the credentials; the CDN never did.
			if len(apiAuth) == 0 || apiAuth[0] != "ok" {
				t.Errorf("API auth = %v", apiAuth)
			}
			if (len(cdnAuth) > 0) != tt.cdnHit {
				t.Errorf("CDN requests = %d, want hit %v", len(cdnAuth), tt.cdnHit)
			}
			for _, a := range cdnAuth {
				if a != "" {
					t.Errorf("CDN got Authorization %q", a)
				}
			}
		})
	}
}

func TestFetchMediaTimeout(t *testing.T) {
	f := newFakeTwilio(t)
	f.media[mediaA] = fakeMedia{ctype: "image/jpeg", body: []byte("\xff\xd8\xff")}
	f.cdnDelay = 5 * time.Second
	c := f.client(t, func(o *Options) { o.MediaTimeout = 200 * time.Millisecond })
	start := time.Now()
	_, _, err := c.FetchMedia(context.Background(), f.mediaURL(mediaA))
	if err == nil || !Retryable(err) {
		t.Fatalf("err = %v, want a retryable timeout", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("took %v", d)
	}
	assertClean(t, err)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := c.FetchMedia(ctx, f.mediaURL(mediaA)); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}

func TestRedact(t *testing.T) {
	f := newFakeTwilio(t)
	c := f.client(t, nil)
	if err := c.Redact(context.Background(), msgSID); err != nil {
		t.Fatal(err)
	}
	forms := f.updates[msgSID]
	if len(forms) != 1 {
		t.Fatalf("%d updates", len(forms))
	}
	// The form is exactly Body= (empty): that is what makes Twilio redact.
	if v, ok := forms[0]["Body"]; !ok || len(v) != 1 || v[0] != "" || len(forms[0]) != 1 {
		t.Fatalf("form = %v, want only an empty Body", forms[0])
	}
	if apiAuth, _, _ := f.snapshot(); apiAuth[0] != "ok" {
		t.Fatalf("auth %v", apiAuth)
	}
}

func TestRedactInProgress(t *testing.T) {
	f := newFakeTwilio(t)
	f.failNext("update", msgSID, CodeInProgress, CodeInProgress)
	c := f.client(t, nil)
	for i := 0; i < 2; i++ {
		err := c.Redact(context.Background(), msgSID)
		var ae *APIError
		if !errors.As(err, &ae) || ae.Code != CodeInProgress || !Retryable(err) {
			t.Fatalf("attempt %d: err = %v, want retryable 20009", i+1, err)
		}
		assertClean(t, err)
	}
	if err := c.Redact(context.Background(), msgSID); err != nil {
		t.Fatalf("third attempt: %v", err)
	}
	if len(f.updates[msgSID]) != 1 {
		t.Fatalf("updates %v", f.updates)
	}
}

func TestDeleteMedia(t *testing.T) {
	f := newFakeTwilio(t)
	c := f.client(t, nil)
	if err := c.DeleteMedia(context.Background(), msgSID, mediaA); err != nil {
		t.Fatal(err)
	}
	if len(f.deleted) != 1 || f.deleted[0] != msgSID+"/"+mediaA {
		t.Fatalf("deleted %v", f.deleted)
	}
	f.failNext("delete", mediaB, CodeNotFound)
	err := c.DeleteMedia(context.Background(), msgSID, mediaB)
	if !IsNotFound(err) || Retryable(err) {
		t.Fatalf("err = %v, want not found", err)
	}
}

func TestBadSIDs(t *testing.T) {
	f := newFakeTwilio(t)
	c := f.client(t, nil)
	for _, sid := range []string{"", "MM123", "../../Calls", "MM00000000000000000000000000000001/../x", "AC0123456789abcdef0123456789abcdef", "mm00000000000000000000000000000001"} {
		if err := c.Redact(context.Background(), sid); !errors.Is(err, ErrBadSID) || Retryable(err) {
			t.Errorf("Redact(%q) = %v", sid, err)
		}
		if err := c.DeleteMedia(context.Background(), msgSID, sid); !errors.Is(err, ErrBadSID) {
			t.Errorf("DeleteMedia(%q) = %v", sid, err)
		}
	}
	if _, _, n := f.snapshot(); n != 0 {
		t.Fatalf("%d requests made", n)
	}
}

func TestSend(t *testing.T) {
	tests := []struct {
		name, from, to, body string
		failWith             int
		wantErr              error
		optedOut, retryable  bool
	}{
		{name: "sms", from: "+15005550006", to: "+51987654321", body: "Gracias. ¿Está a salvo ahora?"},
		{name: "whatsapp", from: "whatsapp:+15005550006", to: "whatsapp:+60123456789", body: "Terima kasih. Awak selamat?"},
		{name: "thai", from: "+15005550006", to: "+66812345678", body: "ได้รับแล้ว ปลอดภัยไหม"},
		{name: "mixed channels", from: "+15005550006", to: "whatsapp:+60123456789", body: "x", wantErr: ErrBadAddress},
		{name: "not a number", from: "+15005550006", to: "hello", body: "x", wantErr: ErrBadAddress},
		{name: "empty body", from: "+15005550006", to: "+51987654321", body: " ", wantErr: ErrBadBody},
		{name: "long body", from: "+15005550006", to: "+51987654321", body: strings.Repeat("a", MaxBody+1), wantErr: ErrBadBody},
		{name: "opted out", from: "+15005550006", to: "+51987654321", body: "x", failWith: CodeOptedOut, optedOut: true},
		{name: "invalid number", from: "+15005550006", to: "+51987654321", body: "x", failWith: 21211},
		{name: "rate limited", from: "+15005550006", to: "+51987654321", body: "x", failWith: 429, retryable: true},
		{name: "twilio down", from: "+15005550006", to: "+51987654321", body: "x", failWith: 502, retryable: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeTwilio(t)
			c := f.client(t, nil)
			if tt.failWith != 0 {
				f.failNext("create", tt.to, tt.failWith)
			}
			sid, err := c.Send(context.Background(), tt.from, tt.to, tt.body)
			assertClean(t, err)
			if strings.Contains(errString(err), tt.to) || strings.Contains(errString(err), tt.body) && len(tt.body) > 3 {
				t.Errorf("error %v quotes the message", err)
			}
			if tt.wantErr != nil || tt.failWith != 0 {
				if err == nil || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if IsOptedOut(err) != tt.optedOut || Retryable(err) != tt.retryable {
					t.Fatalf("err = %v: opted out %v, retryable %v", err, IsOptedOut(err), Retryable(err))
				}
				if tt.wantErr != nil {
					if _, _, n := f.snapshot(); n != 0 {
						t.Fatalf("%d requests for a refused message", n)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !messageSID.MatchString(sid) || len(f.sent) != 1 {
				t.Fatalf("sid %q, sent %v", sid, f.sent)
			}
			got := f.sent[0]
			if got.Get("From") != tt.from || got.Get("To") != tt.to || got.Get("Body") != tt.body ||
				got.Get("StatusCallback") != "https://hotline.example.org/twilio/status" {
				t.Fatalf("form = %v", got)
			}
		})
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestTransport: every call goes to the configured API URL, whatever
// twilio-go's environment says, and a path prefix in the URL is kept.
func TestTransport(t *testing.T) {
	t.Setenv("TWILIO_EDGE", "sydney")
	t.Setenv("TWILIO_REGION", "au1")
	f := newFakeTwilio(t)
	var seen []string
	prefixed := httptest.NewServer(http.StripPrefix("/twilio", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.URL.Path)
		f.api.Config.Handler.ServeHTTP(w, r)
	})))
	defer prefixed.Close()
	c, err := New(Options{AccountSID: testSID, AuthToken: testToken, APIURL: prefixed.URL + "/twilio/"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Redact(context.Background(), msgSID); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 1 || seen[0] != "/2010-04-01/Accounts/"+testSID+"/Messages/"+msgSID+".json" {
		t.Fatalf("paths %v", seen)
	}
}

func TestUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there any more
	c, err := New(Options{AccountSID: testSID, AuthToken: testToken, APIURL: url, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	err = c.Redact(context.Background(), msgSID)
	if err == nil || !Retryable(err) {
		t.Fatalf("err = %v, want retryable", err)
	}
	assertClean(t, err)
}

func TestNew(t *testing.T) {
	good := Options{AccountSID: testSID, AuthToken: testToken}
	if c, err := New(good); err != nil || c.api.String() != DefaultAPIURL {
		t.Fatalf("New: %v", err)
	}
	for name, mod := range map[string]func(*Options){
		"no sid":           func(o *Options) { o.AccountSID = "" },
		"bad sid":          func(o *Options) { o.AccountSID = "AC123" },
		"no token":         func(o *Options) { o.AuthToken = "" },
		"token with space": func(o *Options) { o.AuthToken = "a b" },
		"ftp api":          func(o *Options) { o.APIURL = "ftp://x" },
		"api with creds":   func(o *Options) { o.APIURL = "https://u:p@api.twilio.com" },
		"bad callback":     func(o *Options) { o.StatusCallback = "/relative" },
	} {
		o := good
		mod(&o)
		_, err := New(o)
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if strings.Contains(err.Error(), testToken) {
			t.Errorf("%s: error quotes the token", name)
		}
	}
}
