package web

import (
	"context"
	"errors"
	"math"
	"strconv"
	"strings"

	"github.com/hotline-org/hotline/gateway"
	"github.com/hotline-org/hotline/gateway/fault"
	"github.com/hotline-org/hotline/gateway/followup"
	"github.com/hotline-org/hotline/gateway/geo"
	"github.com/hotline-org/hotline/gateway/photo"
	"github.com/hotline-org/hotline/queue"
)

// sourcePhoto marks a location read from a photo's EXIF block, so the
// officer knows where the point came from.
const sourcePhoto geo.Source = "photo_exif"

// Report is a witness's report as the form posted it.
type Report struct {
	Message, Location, Position, Lat, Lon, Contact string
	Urgent, PhotoLocation                          bool
	// Honeypot is the hidden field only a bot fills.
	Honeypot           string
	PowToken, PowNonce string
	Photos             [][]byte
	// PhotosNotRead counts the photos the form had no memory to read
	// (handlers): the report goes without them, and says so.
	PhotosNotRead int
}

// Receipt is what the witness is shown once the report is durable.
type Receipt struct {
	Case string
	// Code opens the follow-up page; "" without one.
	Code string
	// Urgent: the witness ticked Urgent; Emergency is the number of the
	// agency (first with one) the report was routed to.
	Urgent    bool
	Emergency string
	// PhotoDropped: the report was sent without its photo.
	PhotoDropped bool
}

// Submit takes a witness's report, in the language lang of the page. It
// answers with the receipt only once the sealed tip is durable. A refused
// post counts in the network's refused bucket (and over it is answered
// ErrRateLimited), an accepted one in the accepted bucket: junk from a
// network never spends the reports of a witness on it. A post with photos
// is counted as accepted only once they are cleaned (one that is not a
// photo is refused); before that work, the bucket is only looked at. The
// photos are cleared once used.
func (c *Channel) Submit(ctx context.Context, from Origin, r Report, lang string) (*Receipt, error) {
	defer func() {
		for _, b := range r.Photos {
			clear(b)
		}
	}()
	c.guard.countSubmission(ctx)
	err := validateReport(r)
	// Only a valid post spends its challenge: a witness who fixes the text
	// sends the same form again.
	if err == nil && c.guard.powRequired(ctx) && !c.guard.checkChallenge(ctx, r.PowToken, r.PowNonce) {
		err = ErrWorkNeeded
	}
	if err != nil {
		return nil, c.refused(ctx, from, err)
	}
	if len(r.Photos) > 0 && c.guard.over(ctx, from, bucketAccepted) {
		return nil, ErrRateLimited
	}
	return c.submit(ctx, from, r, lang)
}

// ErrHoneypot: a bot filled the hidden field. It gets the generic error,
// never a fake receipt: a person whose browser autofilled it must not be
// told a report was sent when it was not. ErrCoords: the position is not
// one. ErrPhotoBad: a photo is not a JPEG or PNG image.
var (
	ErrHoneypot = fault.New(fault.Invalid, "bad request")
	ErrCoords   = fault.New(fault.Invalid, "bad coordinates")
	ErrPhotoBad = fault.New(fault.Invalid, "not a photo")
)

// validateReport checks the fields of a report, cheaply. The text the
// intake gets is the message, the location and, should photos be left out,
// a note for each saying so: all must fit, or the tip would be refused only
// after the photos' work.
func validateReport(f Report) error {
	n := len(f.Message)
	if loc := strings.TrimSpace(f.Location); loc != "" {
		n += len("\n\nLocation: ") + len(loc)
	}
	// A note for each photo, read or not: what fits does not depend on how
	// busy the gateway is.
	n += (len(f.Photos) + f.PhotosNotRead) * (2 + max(len(photoDroppedNote), len(photoNotReadNote)))
	switch {
	case f.Honeypot != "":
		return ErrHoneypot
	case strings.TrimSpace(f.Message) == "":
		return gateway.ErrEmpty
	case n > gateway.MaxTextBytes:
		return gateway.ErrTooLong
	}
	_, err := formPosition(f)
	return err
}

// formPosition reads the exact position: the "position" box, which takes
// what people paste (decimal with a point or a comma, "lat, lon" in one box,
// degrees-minutes-seconds with hemisphere letters), or else the lat and lon
// fields (the form's earlier contract, still accepted).
func formPosition(f Report) (*geo.Point, error) {
	if pos := strings.TrimSpace(f.Position); pos != "" {
		pt, ok := geo.ParseCoordinates(pos)
		if !ok {
			return nil, ErrCoords
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
		return 0, 0, ErrCoords
	}
	return la, lo, nil
}

// submit cleans the photos and queues the tip with its follow-up thread.
func (c *Channel) submit(ctx context.Context, from Origin, f Report, lang string) (*Receipt, error) {
	t := gateway.Tip{
		Channel: gateway.ChannelWeb, Text: f.Message, Urgent: f.Urgent,
		Contact: strings.TrimSpace(f.Contact), Language: lang, ReceivedAt: c.opt.Now(),
	}
	if loc := strings.TrimSpace(f.Location); loc != "" {
		// The locator reads places from the text; the officer reads it too.
		t.Text = strings.TrimRight(t.Text, "\n ") + "\n\nLocation: " + loc
	}
	if pt, _ := formPosition(f); pt != nil {
		t.Hints = geo.Hints{Latitude: strconv.FormatFloat(pt.Lat, 'f', -1, 64), Longitude: strconv.FormatFloat(pt.Lon, 'f', -1, 64), Source: geo.SourceForm}
	}
	dropped := f.PhotosNotRead > 0
	if dropped {
		t.Text = strings.TrimRight(t.Text, "\n ") + "\n\n" + photoNotReadNote
	}
	for _, data := range f.Photos {
		// Before an intake slot is taken: a photo may wait for decoding
		// memory, and must not hold up the reports without one. Each
		// photo is cleaned on its own, within the process's budget.
		p, err := c.cleanPhoto(ctx, data, f.PhotoLocation)
		switch {
		case errors.Is(err, errPhotoDropped):
			dropped = true
			t.Text = strings.TrimRight(t.Text, "\n ") + "\n\n" + photoDroppedNote
		case errors.Is(err, ErrPhotoBad):
			return nil, c.refused(ctx, from, err)
		case err != nil:
			return nil, err
		default:
			t.Media = append(t.Media, gateway.Media{ContentType: p.ContentType, Data: p.Data})
			if p.HasGPS && t.Hints.Latitude == "" {
				t.Hints = geo.Hints{Latitude: strconv.FormatFloat(p.Lat, 'f', 6, 64), Longitude: strconv.FormatFloat(p.Lon, 'f', 6, 64), Source: sourcePhoto}
			}
		}
	}
	if !c.guard.allow(ctx, from, bucketAccepted) {
		return nil, ErrRateLimited
	}
	if err := c.takeSlot(ctx); err != nil {
		return nil, err
	}
	defer c.release()

	var code string
	var rcpt gateway.Receipt
	var err error
	if b, ok := c.opt.Intake.(Batcher); ok && b.WritesBatches() && c.opt.Followups != nil {
		code, rcpt, err = c.submitWithThread(ctx, t, f.Urgent)
	} else {
		code, rcpt, err = c.submitThenThread(ctx, t, f.Urgent)
	}
	if err != nil {
		return nil, err
	}
	v := &Receipt{Case: rcpt.Case, Code: code, PhotoDropped: dropped, Urgent: f.Urgent}
	if f.Urgent {
		// The first agency that received it and has a number: the one
		// whose area the report is in.
		for _, a := range rcpt.Agencies {
			if n := c.opt.Emergency[a]; n != "" {
				v.Emergency = n
				break
			}
		}
	}
	return v, nil
}

// submitWithThread queues the tip with its follow-up thread, made in the
// tip's batch. The receipt code is shown only if the thread was written:
// a tip that went to the spool instead is sent without one, as when the
// thread cannot be made (the report matters more than the follow-up).
func (c *Channel) submitWithThread(ctx context.Context, t gateway.Tip, urgent bool) (string, gateway.Receipt, error) {
	code := followup.NewCode()
	handle, err := c.opt.Followups.Handle(code)
	if err != nil {
		return "", gateway.Receipt{}, err
	}
	t.Followup = handle
	var batch *queue.Batch
	t.Batch = func(_, caseRef string, agencies []string) (*queue.Batch, error) {
		ops, err := c.opt.Followups.CreateOps(code, caseRef, agencies, urgent)
		if err != nil {
			c.opt.Logger.Warn("follow-up thread not made", "err", err)
			return nil, nil
		}
		batch = &queue.Batch{Ops: ops}
		return batch, nil
	}
	rcpt, err := c.opt.Intake.Submit(ctx, t)
	if err != nil {
		return "", rcpt, err
	}
	if batch == nil || !batch.Ran || batch.Failed() > 0 {
		if batch != nil {
			c.opt.Logger.Warn("follow-up thread not written with the tip: the receipt has no code", "tip", rcpt.TipID, "refused", batch.Failed())
		}
		return "", rcpt, nil
	}
	return code, rcpt, nil
}

// submitThenThread makes the follow-up thread, then queues the tip, for an
// intake that writes no batch. The thread is created first so that a
// queued tip never points to a thread that does not exist; if queuing
// fails the thread is removed.
func (c *Channel) submitThenThread(ctx context.Context, t gateway.Tip, urgent bool) (string, gateway.Receipt, error) {
	var code, handle string
	if c.opt.Followups != nil {
		newCode, caseRef := followup.NewCode(), gateway.NewCaseRef()
		h, err := c.opt.Followups.Create(ctx, newCode, caseRef)
		if err == nil {
			code, handle, t.Case, t.Followup = newCode, h, caseRef, h
		} else {
			// The report matters more than the follow-up: the intake may
			// still make it durable (the spool), so send it without a code.
			c.opt.Logger.Warn("follow-up thread not created", "err", err)
		}
	}
	rcpt, err := c.opt.Intake.Submit(ctx, t)
	if err != nil {
		if handle != "" {
			_ = c.opt.Followups.Delete(context.WithoutCancel(ctx), handle) // best effort; it expires anyway
		}
		return "", rcpt, err
	}
	if handle != "" {
		if err := c.opt.Followups.SetAgencies(context.WithoutCancel(ctx), handle, rcpt.Agencies); err != nil {
			// The tip is durable and the code works; answers will be routed
			// by their own content until then.
			c.opt.Logger.Warn("follow-up agencies not recorded", "tip", rcpt.TipID, "err", err)
		}
		if urgent {
			if err := c.opt.Followups.MarkUrgent(context.WithoutCancel(ctx), handle); err != nil {
				c.opt.Logger.Warn("follow-up urgency not recorded", "tip", rcpt.TipID, "err", err)
			}
		}
	}
	return code, rcpt, nil
}

// photoDroppedNote is added to the text of a report sent without its photo,
// so that the officer knows there was one (and can ask for it through the
// follow-up thread).
const photoDroppedNote = "[A photo was sent with this report but could not be attached: too large to process.]"

// photoNotReadNote is added to the text of a report whose photo the form
// had no memory to read (Report.PhotosNotRead).
const photoNotReadNote = "[A photo was sent with this report but could not be attached: the gateway was too busy to read it.]"

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
func (c *Channel) cleanPhoto(ctx context.Context, data []byte, keepGPS bool) (photo.Cleaned, error) {
	wctx, cancel := context.WithTimeout(ctx, c.opt.PhotoWait)
	defer cancel()
	var p photo.Cleaned
	var err error
	select {
	case c.decoders <- struct{}{}:
		p, err = photo.Clean(wctx, data, keepGPS, photo.Options{Budget: c.opt.PhotoBudget})
		<-c.decoders
	case <-wctx.Done():
		err = wctx.Err()
	}
	switch {
	case err == nil:
		return p, nil
	case ctx.Err() != nil:
		return p, ErrBusy // the witness's browser is gone
	case errors.Is(err, photo.ErrTooLarge), errors.Is(err, context.DeadlineExceeded):
		return p, errPhotoDropped
	default:
		return p, ErrPhotoBad
	}
}
