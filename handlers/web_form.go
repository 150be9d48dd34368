package handlers

import (
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/hotline-org/hotline/gateway"
	"github.com/hotline-org/hotline/gateway/web"
)

// reportForm is the witness form as posted: the report and the page's
// language. Everything but the photos goes back into the page when the
// submission fails, so nothing typed is lost.
type reportForm struct {
	web.Report
	Lang string
}

// Limits of the form. The message is read first (the form puts it first, and
// browsers send fields in order) and up to twice what the intake accepts, so
// that an over-long text comes back to the witness to shorten rather than
// being lost; the photo is read last, so a photo over the limit costs the
// witness only the photo.
const (
	formMessageKeep = 2 * gateway.MaxTextBytes
	formFieldMax    = 2 << 10
	formMaxParts    = 24
	// formTextBudget is what all fields but the photo may take, multipart
	// framing included.
	formTextBudget = formMessageKeep + 64<<10
)

// field is where the field name goes and how long it may be; nil for a
// field that is not the form's (or not text).
func (f *reportForm) field(name string) (dst *string, limit int) {
	fields := map[string]struct {
		dst   *string
		limit int
	}{
		"message": {&f.Message, formMessageKeep}, "location": {&f.Location, formFieldMax},
		"position": {&f.Position, 256}, "lat": {&f.Lat, 64}, "lon": {&f.Lon, 64},
		"contact": {&f.Contact, formFieldMax}, "lang": {&f.Lang, 16}, "website": {&f.Honeypot, formFieldMax},
		"pow_token": {&f.PowToken, 128}, "pow_nonce": {&f.PowNonce, 32},
	}
	fl := fields[name]
	return fl.dst, fl.limit
}

func (f *reportForm) set(name, value string) (tooLong bool) {
	switch name {
	case "urgent":
		f.Urgent = value != ""
		return false
	case "photo_location":
		f.PhotoLocation = value != ""
		return false
	}
	dst, limit := f.field(name)
	if dst == nil {
		return false
	}
	value, tooLong = cut(value, limit)
	*dst = strings.ReplaceAll(value, "\r\n", "\n")
	return tooLong
}

// cut returns s cut to at most limit bytes on a character boundary, with
// invalid UTF-8 replaced, and whether anything was cut.
func cut(s string, limit int) (string, bool) {
	cutAny := len(s) > limit
	if cutAny {
		s = s[:limit]
		for i := 0; i < utf8.UTFMax && len(s) > 0 && !utf8.ValidString(s); i++ {
			s = s[:len(s)-1]
		}
	}
	return strings.ToValidUTF8(s, "\uFFFD"), cutAny
}

// parseReport reads the form, multipart (the browser's, with a photo) or
// URL-encoded (scripts, curl). It returns what it could read together with
// any error, so the page can be rendered again with the text in place:
// errTooLarge or errPhotoLarge (413) when the body or the photo is over its
// limit, gateway.ErrTooLong when a field is, errBadRequest when the body
// cannot be read at all.
//
// A photo is read only into memory h can take for it (uploads): one that
// cannot have it in time is read past, kept nowhere, and counted in
// PhotosNotRead, so that the report still goes, without it.
func parseReport(rw http.ResponseWriter, r *http.Request, maxPhoto int64, h *hold) (reportForm, error) {
	var f reportForm
	// Each photo is bounded by maxPhoto; all of them by web.MaxPhotos of it.
	total := web.MaxPhotos*maxPhoto + formTextBudget
	r.Body = http.MaxBytesReader(rw, r.Body, total)
	// A declared length over the total cannot succeed; the text fields come
	// first, so read them anyway and stop before the photo.
	declaredTooBig := r.ContentLength > total

	ctype, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ctype {
	case "application/x-www-form-urlencoded":
		return f, parseURLEncoded(&f, r.Body)
	case "multipart/form-data":
	default:
		return f, errBadRequest
	}
	if params["boundary"] == "" {
		return f, errBadRequest
	}
	mr := multipart.NewReader(r.Body, params["boundary"])
	var tooLong error
	for range formMaxParts {
		part, err := mr.NextPart()
		switch {
		case errors.Is(err, io.EOF):
			return f, tooLong
		case err != nil:
			return f, bodyError(err)
		}
		name := part.FormName()
		if name == "photo" {
			if declaredTooBig {
				return f, errPhotoLarge
			}
			b, err := readPhoto(r.Context(), part, maxPhoto, h)
			notRead := errors.Is(err, errNoUploadMemory)
			switch {
			case err != nil && !notRead:
				return f, err
			case len(b) == 0 && !notRead:
				continue // an empty file input sends an empty part
			case len(f.Photos)+f.PhotosNotRead == web.MaxPhotos:
				return f, errPhotoMany
			case notRead:
				f.PhotosNotRead++
				continue
			}
			f.Photos = append(f.Photos, b)
			continue
		}
		dst, limit := f.field(name)
		if dst == nil && name != "urgent" && name != "photo_location" {
			continue // an unknown field: skipped (NextPart discards it)
		}
		if limit == 0 {
			limit = 16
		}
		b, err := io.ReadAll(io.LimitReader(part, int64(limit)+1))
		if err != nil {
			return f, bodyError(err)
		}
		if f.set(name, string(b)) {
			tooLong = gateway.ErrTooLong
		}
	}
	return f, errBadRequest // more parts than the form has
}

// errNoUploadMemory: a photo found no memory to be read into in time.
var errNoUploadMemory = errors.New("no memory for the photo now")

// readPhoto reads a photo part of at most maxPhoto bytes into memory h
// takes for it (errPhotoLarge past it), keeping what it holds. Without the
// memory it reads past the photo and returns errNoUploadMemory.
func readPhoto(ctx context.Context, part io.Reader, maxPhoto int64, h *hold) ([]byte, error) {
	if !h.take(ctx, maxPhoto+1) {
		n, err := io.Copy(io.Discard, io.LimitReader(part, maxPhoto+1))
		switch {
		case err != nil:
			return nil, bodyError(err)
		case n > maxPhoto:
			return nil, errPhotoLarge
		case n == 0:
			return nil, nil // an empty file input
		}
		return nil, errNoUploadMemory
	}
	buf := make([]byte, maxPhoto+1)
	n, err := io.ReadFull(part, buf)
	switch {
	case err == nil:
		h.give(maxPhoto + 1)
		return nil, errPhotoLarge
	case !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF):
		h.give(maxPhoto + 1)
		return nil, bodyError(err)
	}
	// What it needs, not the largest.
	b := append([]byte(nil), buf[:n]...)
	h.give(maxPhoto + 1 - int64(n))
	return b, nil
}

// bodyError tells a body over its limit (413) from a malformed one (400),
// for every route that reads one.
func bodyError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return errTooLarge
	}
	return errBadRequest
}

// parseURLEncoded reads a URL-encoded form. A body over the limit is cut and
// what can be decoded of it is kept (its last field, cut short, included).
// URL-encoding makes each byte of text up to 3, so the budget is three
// times the multipart one.
func parseURLEncoded(f *reportForm, body io.Reader) error {
	const budget = 3 * formTextBudget
	b, err := io.ReadAll(io.LimitReader(body, budget+1))
	if err != nil {
		return bodyError(err)
	}
	var result error
	if len(b) > budget {
		b = cutEncoded(b[:budget])
		result = errTooLarge
	}
	vals, _ := url.ParseQuery(string(b)) // keeps every pair it could decode
	for name, vs := range vals {
		if len(vs) > 0 && f.set(name, vs[0]) && result == nil {
			result = gateway.ErrTooLong
		}
	}
	return result
}
