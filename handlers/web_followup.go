package handlers

import (
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hotline-org/hotline/gateway/followup"
)

// Limits of a POST to /followup: a code and one answer, URL-encoded as the
// page's form sends it. The answer is kept up to twice its limit, so that an
// over-long one comes back to be shortened; a character takes at most 4
// bytes in UTF-8 and URL-encoding makes each byte up to 3. A larger body is
// cut there and what it held is shown again.
const (
	followupAnswerKeep = 2 * followup.MaxMessageBytes
	maxFollowupBody    = 3*followupAnswerKeep + 4<<10
)

// followupPage is the witness's side of the conversation. Without a code it
// asks for one. With a code (POSTed by its own form, which keeps the code out
// of the address bar and history; or given as ?code= for a link) it shows
// the officers' questions and an answer box. An answer is queued as a
// sealed tip of the same case, to the agencies that received the first one,
// urgent if the first one was. Every error shows the page again with the
// code and the answer in place, in the page's language.
func (w *webPages) followupPage(rw http.ResponseWriter, r *http.Request, p *pageData) error {
	ctx := r.Context()
	var code, answer string
	var bodyErr error
	if r.Method == http.MethodPost {
		var vals url.Values
		vals, bodyErr = readFollowupForm(rw, r)
		p.setLang(w.locales, vals.Get("lang"))
		code, answer = vals.Get("code"), strings.ReplaceAll(vals.Get("answer"), "\r\n", "\n")
	} else {
		code = r.URL.Query().Get("code")
	}
	code, _ = cut(strings.TrimSpace(code), 256)
	answer, _ = cut(answer, followupAnswerKeep)
	p.Code, p.Answer = code, answer
	fail := func(err error) error {
		w.renderError(rw, r, err, "followup", p)
		return nil
	}
	if code == "" {
		if bodyErr != nil {
			return fail(bodyErr)
		}
		w.render(rw, http.StatusOK, "followup", p)
		return nil
	}
	if crossSite(r) {
		// Another site's page tries a code: nothing is opened or counted.
		return fail(errCrossSite)
	}
	// The answer is sent only with a form that could be read whole.
	send := ""
	if r.Method == http.MethodPost && bodyErr == nil && strings.TrimSpace(answer) != "" {
		send = answer
	}
	t, err := w.ch.Followup(ctx, w.origin(r), code, send, p.Lang)
	if t != nil {
		norm, _ := followup.NormalizeCode(code)
		p.Code = norm
		p.Thread = threadOf(t, p.L, w.ch.Now())
	}
	switch {
	case err != nil:
		return fail(err)
	case bodyErr != nil:
		return fail(bodyErr)
	case send != "":
		p.Answer = ""
		p.Notice = p.L.T("fu_sent")
	}
	w.render(rw, http.StatusOK, "followup", p)
	return nil
}

// readFollowupForm reads the URL-encoded form of /followup. A body over
// maxFollowupBody is cut there and what can be decoded of it is returned,
// with errTooLarge: the code and language come first in the page's form,
// so they survive, and the answer comes back cut, to be shortened.
func readFollowupForm(rw http.ResponseWriter, r *http.Request) (url.Values, error) {
	ctype, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ctype != "application/x-www-form-urlencoded" {
		return url.Values{}, errBadRequest
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, maxFollowupBody+1))
	if err != nil {
		return url.Values{}, errBadRequest
	}
	var result error
	if len(b) > maxFollowupBody {
		b = cutEncoded(b[:maxFollowupBody])
		result = errTooLarge
	}
	vals, _ := url.ParseQuery(string(b)) // keeps every pair it could decode
	return vals, result
}

// cutEncoded drops a %-escape cut in half at the end of a URL-encoded body,
// so that the rest still decodes.
func cutEncoded(b []byte) []byte {
	for i := len(b) - 1; i >= 0 && i >= len(b)-2; i-- {
		if b[i] == '%' {
			return b[:i]
		}
	}
	return b
}

func threadOf(t *followup.Thread, l *catalog, now time.Time) *threadView {
	v := &threadView{Case: t.Info.Case, Urgent: t.Info.Urgent}
	for _, m := range t.Messages {
		v.Messages = append(v.Messages, messageOf(m, l, now))
	}
	return v
}

// messageOf shows a message's time as "N minutes ago" in the page's
// language: the server does not know the witness's time zone, and must not
// ask. With JavaScript the page shows the local time from Datetime.
func messageOf(m followup.Message, l *catalog, now time.Time) messageView {
	return messageView{Officer: m.From == followup.Officer, Text: m.Text,
		Datetime: m.At.UTC().Format(time.RFC3339), Ago: ago(l, now.Sub(m.At))}
}

func ago(l *catalog, d time.Duration) string {
	switch {
	case d < time.Minute:
		return l.T("ago_now")
	case d < time.Hour:
		return l.F("ago_minutes", int(d/time.Minute))
	case d < 48*time.Hour:
		return l.F("ago_hours", int(d/time.Hour))
	default:
		return l.F("ago_days", int(d/(24*time.Hour)))
	}
}
