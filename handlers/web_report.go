package handlers

import (
	"errors"
	"net/http"
	"time"

	"github.com/hotline-org/hotline/gateway/followup"
	"github.com/hotline-org/hotline/gateway/web"
)

// uploadWindow replaces the server's read and write timeouts for a form
// submission: a 10 MB photo over a slow mobile link takes minutes, and the
// server-wide timeouts are cut for webhooks.
const uploadWindow = 3 * time.Minute

func (w *webPages) reportForm(rw http.ResponseWriter, r *http.Request, p *pageData) error {
	p.PoW = w.ch.Challenge(r.Context())
	w.render(rw, http.StatusOK, "report", p)
	return nil
}

// reportSubmit takes a witness's report. The channel answers with the
// receipt only once the sealed tip is durable; every failure renders the
// form again with what the witness typed (the photo must be chosen again:
// browsers never refill a file input) and a short message.
func (w *webPages) reportSubmit(rw http.ResponseWriter, r *http.Request, p *pageData) error {
	if crossSite(r) {
		p.PoW = w.ch.Challenge(r.Context())
		w.renderError(rw, r, errCrossSite, "report", p)
		return nil
	}
	rc := http.NewResponseController(rw)
	rc.SetReadDeadline(time.Now().Add(uploadWindow)) // not supported by recorders: ignored
	rc.SetWriteDeadline(time.Now().Add(uploadWindow + 30*time.Second))
	ctx := r.Context()

	h := &hold{u: w.uploads}
	defer h.done() // the photos are the channel's no more
	f, err := parseReport(rw, r, w.ch.MaxPhoto(), h)
	p.setLang(w.locales, f.Lang)
	photos := len(f.Photos)
	var rcpt *web.Receipt
	if err != nil {
		err = w.ch.Refuse(ctx, w.origin(r), err)
	} else {
		rcpt, err = w.ch.Submit(ctx, w.origin(r), f.Report, p.Lang)
	}
	f.Photos = nil
	if err == nil {
		p.Receipt = &receiptView{Case: rcpt.Case, Code: rcpt.Code, Urgent: rcpt.Urgent,
			Emergency: rcpt.Emergency, PhotoDropped: rcpt.PhotoDropped}
		if rcpt.Code != "" {
			p.Receipt.CodeGroups = followup.Groups(rcpt.Code)
		}
		w.render(rw, http.StatusOK, "sent", p)
		return nil
	}
	p.Form = f
	// Browsers never refill a file input: say so plainly, rather than let
	// the report go without the photos the witness chose.
	p.PhotoAgain = photos > 0 || errors.Is(err, errPhotoLarge) || errors.Is(err, errPhotoMany)
	p.PoW = w.ch.Challenge(ctx)
	w.renderError(rw, r, err, "report", p)
	return nil
}
