package handlers

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hotline-org/hotline/gateway"
	"github.com/hotline-org/hotline/gateway/followup"
	"github.com/hotline-org/hotline/gateway/geo"
	"github.com/hotline-org/hotline/gateway/photo"
)

// sourcePhoto marks a location read from a photo's EXIF block, so the
// officer knows where the point came from.
const sourcePhoto geo.Source = "photo_exif"

// uploadWindow replaces the server's read and write timeouts for a form
// submission: a 10 MB photo over a slow mobile link takes minutes, and the
// server-wide timeouts are cut for webhooks.
const uploadWindow = 3 * time.Minute

func (w *web) reportForm(rw http.ResponseWriter, r *http.Request, p *pageData) error {
	if w.guard.powRequired(r.Context()) {
		p.PoW = w.guard.newChallenge()
	}
	w.render(rw, http.StatusOK, "report", p)
	return nil
}

// takeSlot waits for one of the form's intake slots.
func (w *web) takeSlot(ctx context.Context) error {
	t := time.NewTimer(webSlotWait)
	defer t.Stop()
	select {
	case w.slots <- struct{}{}:
		return nil
	case <-t.C:
		return errWebUnavailable
	case <-ctx.Done():
		return errWebUnavailable
	}
}

// reportSubmit takes a witness's report. It answers with the receipt only
// once the sealed tip is durable; every failure renders the form again with
// what the witness typed (the photo must be chosen again: browsers never
// refill a file input) and a short message.
func (w *web) reportSubmit(rw http.ResponseWriter, r *http.Request, p *pageData) error {
	rc := http.NewResponseController(rw)
	rc.SetReadDeadline(time.Now().Add(uploadWindow)) // not supported by recorders: ignored
	rc.SetWriteDeadline(time.Now().Add(uploadWindow + 30*time.Second))
	ctx := r.Context()

	f, err := parseReport(rw, r, w.opt.MaxPhoto)
	p.setLang(w.locales, f.Lang)
	photos := f.Photos
	f.Photos = nil
	p.Form = f
	err = w.checkReport(r, f, len(photos), err)
	if err == nil {
		var rcpt *receiptView
		rcpt, err = w.submitReport(ctx, f, photos, p.Lang)
		for _, b := range photos {
			clear(b)
		}
		if err == nil {
			p.Receipt = rcpt
			p.Form = reportForm{}
			w.render(rw, http.StatusOK, "sent", p)
			return nil
		}
	}
	status, key := webClassify(err)
	w.refused(r, status, err)
	if key == errWebBusy.key {
		wait := w.opt.PoWWait
		if wait <= 0 {
			wait = 30 * time.Second // the work takes a moment; send again then
		}
		p.Error = p.L.F(key, int(wait.Seconds()))
	} else {
		p.Error = p.L.T(key)
	}
	// Browsers never refill a file input: say so plainly, rather than let
	// the report go without the photos the witness chose.
	p.PhotoAgain = len(photos) > 0 || errors.Is(err, errWebPhotoLarge) || errors.Is(err, errWebPhotoMany)
	if w.guard.powRequired(ctx) {
		p.PoW = w.guard.newChallenge()
	}
	w.render(rw, status, "report", p)
	return nil
}

// checkReport applies the abuse checks and validates the fields; parseErr
// is what reading the form met. A refused post counts in the network's
// refused bucket (and over it is answered 429), an accepted one in the
// accepted bucket: junk from a network never spends the reports of a
// witness on it.
func (w *web) checkReport(r *http.Request, f reportForm, photos int, parseErr error) error {
	ctx := r.Context()
	w.guard.countSubmission(ctx)
	err := parseErr
	if err == nil {
		err = validateReport(f, photos)
	}
	// Only a valid post spends its challenge: a witness who fixes the text
	// sends the same form again.
	if err == nil && w.guard.powRequired(ctx) && !w.guard.checkChallenge(ctx, f.PowToken, f.PowNonce) {
		err = errWebBusy
	}
	if err != nil {
		if !w.guard.allow(r, bucketRefused) {
			return errWebRate
		}
		return err
	}
	if !w.guard.allow(r, bucketAccepted) {
		return errWebRate
	}
	return nil
}

// validateReport checks the fields of a report, cheaply. The text the
// intake gets is the message, the location and, should photos be left out,
// a note for each saying so: all must fit, or the tip would be refused only
// after the photos' work.
func validateReport(f reportForm, photos int) error {
	n := len(f.Message)
	if loc := strings.TrimSpace(f.Location); loc != "" {
		n += len("\n\nLocation: ") + len(loc)
	}
	n += photos * (2 + len(photoDroppedNote))
	switch {
	case f.Honeypot != "":
		return errWebHoneypot
	case strings.TrimSpace(f.Message) == "":
		return errWebEmpty
	case n > gateway.MaxTextBytes:
		return errWebTooLong
	}
	_, err := formPosition(f)
	return err
}

// formPosition reads the exact position: the "position" box, which takes
// what people paste (decimal with a point or a comma, "lat, lon" in one box,
// degrees-minutes-seconds with hemisphere letters), or else the lat and lon
// fields (the form's earlier contract, still accepted).
func formPosition(f reportForm) (*geo.Point, error) {
	if pos := strings.TrimSpace(f.Position); pos != "" {
		pt, ok := geo.ParseCoordinates(pos)
		if !ok {
			return nil, errWebCoords
		}
		return &pt, nil
	}
	lat, lon := strings.TrimSpace(f.Lat), strings.TrimSpace(f.Lon)
	if lat == "" && lon == "" {
		return nil, nil
	}
	la, lo, err := parseCoords(lat, lon)
	if err != nil {
		return nil, err
	}
	return &geo.Point{Lat: la, Lon: lo}, nil
}

// parseCoords accepts both coordinates or neither, in decimal degrees (a
// decimal comma, as typed on many phones, is read as a point).
func parseCoords(lat, lon string) (float64, float64, error) {
	lat, lon = strings.TrimSpace(lat), strings.TrimSpace(lon)
	if lat == "" && lon == "" {
		return 0, 0, nil
	}
	la, err1 := strconv.ParseFloat(strings.Replace(lat, ",", ".", 1), 64)
	lo, err2 := strconv.ParseFloat(strings.Replace(lon, ",", ".", 1), 64)
	if err1 != nil || err2 != nil || math.IsNaN(la) || math.IsNaN(lo) || math.Abs(la) > 90 || math.Abs(lo) > 180 {
		return 0, 0, errWebCoords
	}
	return la, lo, nil
}

// submitReport cleans the photo, opens the follow-up thread and queues the
// tip. The thread is created first so that a queued tip never points to a
// thread that does not exist; if queuing fails the thread is removed.
func (w *web) submitReport(ctx context.Context, f reportForm, photos [][]byte, lang string) (*receiptView, error) {
	t := gateway.Tip{
		Channel: gateway.ChannelWeb, Text: f.Message, Urgent: f.Urgent,
		Contact: strings.TrimSpace(f.Contact), Language: lang, ReceivedAt: w.opt.Now(),
	}
	if loc := strings.TrimSpace(f.Location); loc != "" {
		// The locator reads places from the text; the officer reads it too.
		t.Text = strings.TrimRight(t.Text, "\n ") + "\n\nLocation: " + loc
	}
	if pt, _ := formPosition(f); pt != nil {
		t.Hints = geo.Hints{Latitude: strconv.FormatFloat(pt.Lat, 'f', -1, 64), Longitude: strconv.FormatFloat(pt.Lon, 'f', -1, 64), Source: geo.SourceForm}
	}
	dropped := false
	for _, data := range photos {
		// Before an intake slot is taken: a photo may wait for decoding
		// memory, and must not hold up the reports without one. Each
		// photo is cleaned on its own, within the process's budget.
		c, err := w.cleanPhoto(ctx, data, f.PhotoLocation)
		switch {
		case errors.Is(err, errPhotoDropped):
			dropped = true
			t.Text = strings.TrimRight(t.Text, "\n ") + "\n\n" + photoDroppedNote
		case err != nil:
			return nil, err
		default:
			t.Media = append(t.Media, gateway.Media{ContentType: c.ContentType, Data: c.Data})
			if c.HasGPS && t.Hints.Latitude == "" {
				t.Hints = geo.Hints{Latitude: strconv.FormatFloat(c.Lat, 'f', 6, 64), Longitude: strconv.FormatFloat(c.Lon, 'f', 6, 64), Source: sourcePhoto}
			}
		}
	}
	if err := w.takeSlot(ctx); err != nil {
		return nil, err
	}
	defer func() { <-w.slots }()

	var code, handle string
	if w.opt.Followups != nil {
		c, caseRef := followup.NewCode(), gateway.NewCaseRef()
		h, err := w.opt.Followups.Create(ctx, c, caseRef)
		if err == nil {
			code, handle, t.Case, t.Followup = c, h, caseRef, h
		} else {
			// The report matters more than the follow-up: the intake may
			// still make it durable (the spool), so send it without a code.
			w.srv.opt.Logger.Warn("follow-up thread not created", "err", err)
		}
	}
	rcpt, err := w.srv.opt.Intake.Submit(ctx, t)
	if err != nil {
		if handle != "" {
			_ = w.opt.Followups.Delete(context.WithoutCancel(ctx), handle) // best effort; it expires anyway
		}
		return nil, err
	}
	if handle != "" {
		if err := w.opt.Followups.SetAgencies(context.WithoutCancel(ctx), handle, rcpt.Agencies); err != nil {
			// The tip is durable and the code works; answers will be routed
			// by their own content until then.
			w.srv.opt.Logger.Warn("follow-up agencies not recorded", "tip", rcpt.TipID, "err", err)
		}
		if f.Urgent {
			if err := w.opt.Followups.MarkUrgent(context.WithoutCancel(ctx), handle); err != nil {
				w.srv.opt.Logger.Warn("follow-up urgency not recorded", "tip", rcpt.TipID, "err", err)
			}
		}
	}
	v := &receiptView{Case: rcpt.Case, Code: code, PhotoDropped: dropped, Urgent: f.Urgent}
	if code != "" {
		v.CodeGroups = followup.Groups(code)
	}
	if f.Urgent {
		// The first agency that received it and has a number: the one
		// whose area the report is in.
		for _, a := range rcpt.Agencies {
			if n := w.opt.Emergency[a]; n != "" {
				v.Emergency = n
				break
			}
		}
	}
	return v, nil
}

// photoDroppedNote is added to the text of a report sent without its photo,
// so that the officer knows there was one (and can ask for it through the
// follow-up thread).
const photoDroppedNote = "[A photo was sent with this report but could not be attached: too large to process.]"

// errPhotoDropped: the photo cannot be cleaned within the memory budget
// (too large, or the budget stayed taken for PhotoWait). The report is then
// sent without it rather than refused: the witness has already written and
// uploaded it, perhaps for minutes over a slow link and at some risk; the
// text is what the agency needs first; a phone's file picker offers no way
// to make a photo smaller; and the receipt page says the photo was not
// attached, so the witness can describe it in a follow-up message.
var errPhotoDropped = errors.New("photo not attached")

// cleanPhoto strips the photo's metadata within the process's decoding
// budget. A file that is not a photo brings the form back (400, the text
// kept): that is a mistake the witness can fix by choosing the right file.
func (w *web) cleanPhoto(ctx context.Context, data []byte, keepGPS bool) (photo.Cleaned, error) {
	wctx, cancel := context.WithTimeout(ctx, w.opt.PhotoWait)
	defer cancel()
	var c photo.Cleaned
	var err error
	select {
	case w.decoders <- struct{}{}:
		c, err = photo.Clean(wctx, data, keepGPS, photo.Options{Budget: w.opt.PhotoBudget})
		<-w.decoders
	case <-wctx.Done():
		err = wctx.Err()
	}
	switch {
	case err == nil:
		return c, nil
	case ctx.Err() != nil:
		return c, errWebUnavailable // the witness's browser is gone
	case errors.Is(err, photo.ErrTooLarge), errors.Is(err, context.DeadlineExceeded):
		return c, errPhotoDropped
	default:
		return c, errWebPhotoBad
	}
}
