package handlers_test

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"

	"github.com/hotline-org/hotline/gateway/gatewaytest"
	"github.com/hotline-org/hotline/gateway/photo"
	"github.com/hotline-org/hotline/gateway/photo/phototest"
)

// TestWebPhotoOverBudget: a photo too large to decode within the memory
// budget no longer costs the witness the report. It used to bring the form
// back (413) after a long upload; now the report is sent without the photo,
// the receipt page says so, and the officer reads that there was one.
func TestWebPhotoOverBudget(t *testing.T) {
	const message = "Los tienen encerrados en el galpón"
	// 30000 x 30000 pixels declared in a small JPEG's frame header.
	huge := phototest.JPEG(16, 16, phototest.EXIF{})
	i := bytes.Index(huge, []byte{0xFF, 0xC0})
	binary.BigEndian.PutUint16(huge[i+5:], 30000)
	binary.BigEndian.PutUint16(huge[i+7:], 30000)
	// A 7000 x 7000 16-bit PNG is decoded row by row within a budget far
	// smaller than its 392 MB of pixels, and attached, shrunk.
	bomb := phototest.PNG16(7000, 7000)
	h := newWebHarness(t, func(o *webConfig) {
		o.Channel.MaxPhoto = 2 << 20
		o.Channel.PhotoBudget = photo.NewBudget(48 << 20)
	})
	for _, tc := range []struct {
		name     string
		photo    []byte
		attached bool
	}{
		{"over the pixel limit", huge, false},
		{"decompression bomb", bomb, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := formOf("lang", "en", "message", message)
			f.photo = tc.photo
			r := h.post(t, f)
			receipt(t, r)
			notice := strings.Contains(r.body, `id="notice"`) && strings.Contains(r.body, "without the photo")
			if notice == tc.attached {
				t.Errorf("notice shown: %v, want %v", notice, !tc.attached)
			}
			_, rep := h.claimOne(t, gatewaytest.Lima)
			if !strings.HasPrefix(rep.Text, message) {
				t.Errorf("text %q", rep.Text)
			}
			switch {
			case tc.attached && (len(rep.Media) != 1 || rep.Media[0].ContentType != "image/png" || strings.Contains(rep.Text, "could not be attached")):
				t.Errorf("photo not attached: %d media, text %q", len(rep.Media), rep.Text)
			case !tc.attached && (len(rep.Media) != 0 || !strings.Contains(rep.Text, "could not be attached")):
				t.Errorf("dropped photo: %d media, text %q, want none and a note", len(rep.Media), rep.Text)
			}
		})
	}
}
