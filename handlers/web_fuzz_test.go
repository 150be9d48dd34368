package handlers_test

import (
	"bytes"
	"html/template"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/hotline-org/hotline/crypto/pseudonym"
	"github.com/hotline-org/hotline/gateway/web"
	"github.com/hotline-org/hotline/handlers"
)

// FuzzWebReport feeds the form handler arbitrary fields and arbitrary raw
// bodies, multipart and URL-encoded: it must never panic or fail with a
// 5xx, answer only with the statuses of the form, and never put what was
// typed on the page unescaped.
func FuzzWebReport(f *testing.F) {
	f.Add("help <script>alert(1)</script>", "La Molina", "-12.08", "-76.93", "", false)
	f.Add("", "", "", "", "", false)
	f.Add("x", "y", "91", "abc", "", false)
	f.Add("\xff\xfe bad utf-8 \r\n", "\x00", "1,5", "2,5", "", false)
	f.Add("", "", "", "", "message=hi&lat=1&lon=2&urgent=1&website=", true)
	f.Add("", "", "", "", "message=%zz&message=%", true)
	f.Add("", "", "", "", "--b\r\nContent-Disposition: form-data; name=\"message\"\r\n\r\nhi\r\n--b--\r\n", false)
	f.Add("0000000&", "a&amp;b", "&lt;", "x&", "", false)
	f.Add("", "", "", "", "--b\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"a.jpg\"\r\n\r\n\xff\xd8\xff\xe1\r\n--b", false)
	k, _ := pseudonym.New(bytes.Repeat([]byte("fuzz-pepper-0123"), 2))
	h := handlers.New(handlers.Options{Intake: stubIntake{}, Triage: stubTriage{}, PublicURL: publicURL,
		AuthToken: []byte(authToken), Web: handlers.WebOptions{Channel: web.New(web.Options{Intake: stubIntake{},
			Keyer: k, MaxPhoto: 256 << 10, PoW: web.PoWOff,
			RateLimit: web.Rate{Count: 1 << 30, Period: time.Hour}, InvalidRateLimit: web.Rate{Count: 1 << 30, Period: time.Hour}})}})
	post := func(message, location, lat, lon, raw string, urlencoded bool) *httptest.ResponseRecorder {
		var body []byte
		var ctype string
		switch {
		case raw != "" && urlencoded:
			body, ctype = []byte(raw), "application/x-www-form-urlencoded"
		case raw != "":
			body, ctype = []byte(raw), "multipart/form-data; boundary=b"
		default:
			var buf bytes.Buffer
			mw := multipart.NewWriter(&buf)
			for _, kv := range [][2]string{{"message", message}, {"location", location}, {"lat", lat}, {"lon", lon}} {
				mw.WriteField(kv[0], kv[1])
			}
			mw.Close()
			body, ctype = buf.Bytes(), mw.FormDataContentType()
		}
		req := httptest.NewRequest(http.MethodPost, "/report", bytes.NewReader(body))
		req.Header.Set("Content-Type", ctype)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	f.Fuzz(func(t *testing.T, message, location, lat, lon, raw string, urlencoded bool) {
		rec := post(message, location, lat, lon, raw, urlencoded)
		switch rec.Code {
		case 200, 400, 413:
		default:
			t.Fatalf("status %d", rec.Code)
		}
		out := rec.Body.String()
		if !strings.HasPrefix(out, "<!doctype html>") {
			t.Fatalf("not a page: %.100q", out)
		}
		fields := []string{message, location, lat, lon}
		for i, typed := range fields {
			if len(typed) >= 4 && strings.ContainsAny(typed, `<>"`) && rawOnPage(out, typed) {
				// The page's own markup may hold the text ("ipt>" of
				// "</script>"): it is an echo only if the page has it more
				// often than the page for the same form with that field
				// made of letters instead.
				alt := slices.Clone(fields)
				alt[i] = strings.Repeat("z", utf8.RuneCountInString(typed))
				base := post(alt[0], alt[1], alt[2], alt[3], raw, urlencoded).Body.String()
				if rawCount(out, typed) > rawCount(base, typed) {
					t.Fatalf("%q is on the page unescaped", typed)
				}
			}
			if rec.Code == 200 && len(typed) >= 8 && strings.Contains(out, template.HTMLEscapeString(typed)) && !strings.Contains(out, "id=\"sent\"") {
				t.Fatalf("200 that is not the receipt echoes the input")
			}
		}
		if rec.Code == 200 && !strings.Contains(out, `id="sent"`) {
			t.Fatalf("200 without a receipt")
		}
		if rec.Header().Get("Set-Cookie") != "" {
			t.Fatal("sets a cookie")
		}
	})
}

// rawOnPage reports whether typed appears on the page as typed rather
// than escaped. A text may be a part of its own escaped form ("&amp;" of
// "&amp;amp;", "0&" of "0&amp;"): its escaped copies are taken out first.
// The fuzz target asks it only of texts with <, > or ", the characters
// that would make markup of a raw echo.
func rawOnPage(page, typed string) bool { return rawCount(page, typed) > 0 }

// rawCount is how many times typed appears on the page as typed, its
// escaped copies taken out first (see rawOnPage).
func rawCount(page, typed string) int {
	return strings.Count(strings.ReplaceAll(page, template.HTMLEscapeString(typed), "\x00"), typed)
}
