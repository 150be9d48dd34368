package handlers_test

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hotline-org/hotline/gateway/gatewaytest"
	"github.com/hotline-org/hotline/gateway/photo/phototest"
	"github.com/hotline-org/hotline/handlers"
	"github.com/hotline-org/hotline/queue/queuetest"
)

// TestWebUploadMemoryBounded: connections that each post the largest
// photos, slowly, made the gateway hold all of them at once (twelve such
// clients took it from 52 MiB to 790 MiB, past the Kubernetes limit).
// The photos being read now share a budget: here room for one. While a
// slow upload holds it, another witness's report still goes at once,
// without its photo and saying so; the slow one then goes whole; and
// nothing stays held.
func TestWebUploadMemoryBounded(t *testing.T) {
	const maxPhoto = 256 << 10
	h := newWebHarness(t, func(o *webConfig) {
		o.Channel.MaxPhoto = maxPhoto
		o.Web.UploadMemory = maxPhoto + 1
		o.Web.UploadWait = 300 * time.Millisecond
	})
	srv := h.handler.(*handlers.Server)
	img := phototest.JPEG(64, 64, phototest.EXIF{})

	// The slow witness: the photo's first bytes, then nothing for a while.
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	resume := make(chan struct{})
	go func() {
		mw.WriteField("lang", "en")
		mw.WriteField("message", "slow link: they keep twelve people in the back house")
		w, _ := mw.CreateFormFile("photo", "IMG_0001.jpg")
		w.Write(img[:100])
		<-resume
		w.Write(img[100:])
		mw.Close()
		pw.Close()
	}()
	req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/report", pr)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	slow := make(chan webResponse, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
			slow <- webResponse{}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		slow <- webResponse{resp.StatusCode, resp.Header, string(b)}
	}()
	queuetest.WaitUntil(t, 10*time.Second, "the slow upload holds the memory", func() error {
		if handlers.UploadsFree(srv) {
			return io.ErrNoProgress
		}
		return nil
	})

	// Another witness meanwhile: sent at once, without the photo, told so.
	f := formOf("lang", "en", "message", "I saw them too, from the bus stop")
	f.photo = img
	r := h.post(t, f)
	receipt(t, r)
	if !strings.Contains(r.body, `id="notice"`) || !strings.Contains(r.body, "without the photo") {
		t.Fatalf("no notice that the photo was not attached:\n%s", r.body)
	}
	_, rep := h.claimOne(t, gatewaytest.Lima)
	if len(rep.Media) != 0 || !strings.HasPrefix(rep.Text, "I saw them too") || !strings.Contains(rep.Text, "too busy to read it") {
		t.Fatalf("the second report: %d media, text %q", len(rep.Media), rep.Text)
	}

	// The slow one goes whole.
	close(resume)
	rs := <-slow
	receipt(t, rs)
	if strings.Contains(rs.body, `id="notice"`) {
		t.Fatalf("the slow report lost its photo:\n%s", rs.body)
	}
	_, rep = h.claimOne(t, gatewaytest.Lima)
	if len(rep.Media) != 1 || !strings.HasPrefix(rep.Text, "slow link") {
		t.Fatalf("the slow report: %d media, text %q", len(rep.Media), rep.Text)
	}
	if !handlers.UploadsFree(srv) {
		t.Fatal("memory still held after both reports")
	}
	// A photo over the limit, and a body cut short, give back what they
	// took too.
	f = formOf("lang", "en", "message", "too big")
	f.photo = bytes.Repeat([]byte{0xff}, maxPhoto+10)
	if r := h.post(t, f); r.status != http.StatusRequestEntityTooLarge {
		t.Fatalf("photo over the limit: %d", r.status)
	}
	ct, body := f.multipart()
	cut := h.do(t, http.MethodPost, "/report", ct, body[:len(body)/2])
	if cut.status < 400 {
		t.Fatalf("a body cut short: %d", cut.status)
	}
	if !handlers.UploadsFree(srv) {
		t.Fatal("memory still held after refused reports")
	}
}
