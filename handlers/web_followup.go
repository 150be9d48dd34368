package handlers

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/hotline-org/hotline/gateway"
	"github.com/hotline-org/hotline/gateway/followup"
)

// maxFollowupBody bounds a POST to /followup: a code and one answer.
const maxFollowupBody = 2*followup.MaxMessageBytes + 4<<10

// followupPage is the witness's side of the conversation. Without a code it
// asks for one. With a code (POSTed by its own form, which keeps the code out
// of the address bar and history; or given as ?code= for a link) it shows
// the officers' questions and an answer box. An answer is queued as a
// sealed tip of the same case, to the agencies that received the first one.
func (w *web) followupPage(rw http.ResponseWriter, r *http.Request, p *pageData) error {
	ctx := r.Context()
	var code, answer string
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(rw, r.Body, maxFollowupBody)
		if err := r.ParseForm(); err != nil {
			return bodyError(err)
		}
		p.setLang(w.locales, r.PostForm.Get("lang"))
		code, answer = r.PostForm.Get("code"), strings.ReplaceAll(r.PostForm.Get("answer"), "\r\n", "\n")
	} else {
		code = r.URL.Query().Get("code")
	}
	code, _ = cut(strings.TrimSpace(code), 256)
	answer, _ = cut(answer, followup.MaxMessageBytes+1)
	p.Code, p.Answer = code, answer
	fail := func(err error) error {
		status, key := webClassify(err)
		w.refused(r, status, err)
		p.Error = p.L.T(key)
		w.render(rw, status, "followup", p)
		return nil
	}
	if code == "" {
		w.render(rw, http.StatusOK, "followup", p)
		return nil
	}
	// Opening a thread costs scrypt, so it is counted before: in the
	// accepted bucket, the only one that bounds the work.
	if !w.guard.allow(r, bucketAccepted) {
		return fail(errWebRate)
	}
	// Opening a thread runs scrypt: it takes one of the form's slots.
	if err := w.takeSlot(ctx); err != nil {
		return fail(err)
	}
	defer func() { <-w.slots }()
	t, err := w.opt.Followups.Open(ctx, code)
	if err != nil {
		return fail(err)
	}
	norm, _ := followup.NormalizeCode(code)
	p.Code = norm
	p.Thread = threadOf(t)
	if r.Method != http.MethodPost || strings.TrimSpace(answer) == "" {
		w.render(rw, http.StatusOK, "followup", p)
		return nil
	}
	if len(answer) > followup.MaxMessageBytes {
		return fail(errWebTooLong)
	}
	tip := gateway.Tip{
		Channel: gateway.ChannelWeb, Text: answer, Case: t.Info.Case, Agencies: t.Info.Agencies,
		Followup: t.Handle, Language: p.Lang, ReceivedAt: w.opt.Now(),
	}
	if _, err := w.srv.opt.Intake.Submit(ctx, tip); err != nil {
		return fail(err)
	}
	if err := w.opt.Followups.AddAnswer(context.WithoutCancel(ctx), t.Handle, answer); err != nil && !errors.Is(err, followup.ErrFull) {
		// The answer reached the police; only the witness's copy is missing.
		w.srv.opt.Logger.Warn("follow-up answer not kept for display", "err", err)
	}
	p.Thread.Messages = append(p.Thread.Messages, messageView{Text: answer, At: w.opt.Now().UTC().Format(timeLayout)})
	p.Answer = ""
	p.Notice = p.L.T("fu_sent")
	w.render(rw, http.StatusOK, "followup", p)
	return nil
}

// timeLayout is how a message's time is shown: to the minute, in UTC, the
// same for everyone (the page does not know the witness's time zone, and
// must not ask).
const timeLayout = "2006-01-02 15:04 UTC"

func threadOf(t *followup.Thread) *threadView {
	v := &threadView{Case: t.Info.Case}
	for _, m := range t.Messages {
		v.Messages = append(v.Messages, messageView{Officer: m.From == followup.Officer, Text: m.Text, At: m.At.UTC().Format(timeLayout)})
	}
	return v
}
