// Package photo makes a witness's photo safe to pass on.
//
// A phone photo carries far more than its pixels: the GPS position where it
// was taken (often the witness's home), the phone's make, model and serial
// number, the owner's name, editing software, a thumbnail of the uncropped
// original, colour profiles naming the device, and sometimes a whole
// "motion photo" video appended after the image. Stripping these one by one
// means knowing every place a vendor hides data; instead Clean decodes the
// pixels and encodes a new file from them alone (image/jpeg and image/png
// write no metadata at all). The cost is one lossy re-encoding and some CPU,
// which the bounds below keep small. It also means that a file crafted to
// attack an officer's image viewer does not reach it as crafted.
//
// The only things read from the metadata before it is dropped are the
// orientation (so the new picture is upright) and, only when the witness
// ticks "use the photo's location", the GPS position, which then travels
// sealed inside the tip as a location hint.
package photo

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"

	"github.com/hotline-org/hotline/gateway/fault"
	"golang.org/x/image/draw"
)

// Defaults, with their reasons.
const (
	// DefaultMaxPixels bounds the pixels of a photo, whatever its format:
	// besides memory (see Budget), decoding costs CPU in proportion, about
	// a second per 50 megapixels.
	DefaultMaxPixels = 50_000_000
	// DefaultMaxSide is the longest side kept. Each sealed copy of a tip sits
	// in Redis until an officer acknowledges it; 2560 pixels keep faces,
	// number plates and signs legible at a few hundred kilobytes.
	DefaultMaxSide = 2560
	// Quality of the re-encoded JPEG.
	Quality = 85
)

// Errors callers match on.
var (
	ErrUnsupported = fault.New(fault.Invalid, "not a JPEG or PNG image")
	// ErrTooLarge is a photo with more pixels than MaxPixels, or one whose
	// decoding would cost more memory than the whole Budget.
	ErrTooLarge = fault.New(fault.TooLarge, "image too large to decode")
)

// Options bounds the work of Clean.
type Options struct {
	MaxPixels int // DefaultMaxPixels when zero
	MaxSide   int // DefaultMaxSide when zero
	// Budget is the decoding memory shared with every other Clean of the
	// process; nil gives this call a budget of its own of DefaultBudget.
	Budget *Budget
}

// Cleaned is a photo with nothing left but its pixels.
type Cleaned struct {
	Data        []byte
	ContentType string // image/jpeg or image/png
	// HasGPS is set when keepGPS was asked for and the photo had a usable
	// position; Lat and Lon are then in decimal degrees.
	HasGPS   bool
	Lat, Lon float64
}

// Clean decodes a JPEG or PNG photo and re-encodes its pixels only, upright
// and at most MaxSide pixels on its longest side. With keepGPS it also
// returns the position recorded in the photo's EXIF block.
//
// The cost of decoding is known from the header before any pixel is read:
// a photo over MaxPixels, or one that would need more than the whole
// Budget, is refused with ErrTooLarge; otherwise Clean waits, until ctx
// ends, for its share of the Budget. A large non-interlaced PNG is decoded
// row by row straight into the small picture, so that its cost is that of
// the small picture; image/jpeg offers no decoding at reduced scale, so a
// JPEG costs its full-size planes.
func Clean(ctx context.Context, data []byte, keepGPS bool, opt Options) (Cleaned, error) {
	if opt.MaxPixels <= 0 {
		opt.MaxPixels = DefaultMaxPixels
	}
	if opt.MaxSide <= 0 {
		opt.MaxSide = DefaultMaxSide
	}
	if opt.Budget == nil {
		opt.Budget = NewBudget(0)
	}
	hd, ok := readHeader(data)
	if !ok {
		return Cleaned{}, ErrUnsupported
	}
	if hd.width > opt.MaxPixels/hd.height {
		return Cleaned{}, ErrTooLarge
	}
	var tiff []byte
	if hd.png {
		tiff, _ = pngExif(data)
	} else {
		tiff, _ = jpegExif(data)
	}
	m := parseTIFF(tiff, keepGPS)

	dw, dh := fit(hd.width, hd.height, opt.MaxSide)
	scaled := hd.png && !hd.interlaced && (dw != hd.width || dh != hd.height)
	cost := hd.cost(dw, dh, scaled, m.orientation > 1)
	if cost > opt.Budget.Size() {
		return Cleaned{}, ErrTooLarge
	}
	release, err := opt.Budget.acquire(ctx, cost)
	if err != nil {
		return Cleaned{}, err
	}
	defer release()

	var img image.Image
	switch {
	case scaled:
		img, err = decodePNGScaled(data, hd, dw, dh)
	case hd.png:
		img, err = png.Decode(bytes.NewReader(data))
	default:
		img, err = jpeg.Decode(bytes.NewReader(data))
	}
	if err != nil || img.Bounds().Dx() != hd.width && !scaled || img.Bounds().Dy() != hd.height && !scaled {
		return Cleaned{}, ErrUnsupported
	}
	img = shrink(img, dw, dh)
	img = orient(img, m.orientation)

	var out bytes.Buffer
	c := Cleaned{ContentType: "image/jpeg"}
	if hd.png {
		// PNG stays PNG (screenshots, drawings); the encoder writes only
		// IHDR, PLTE, tRNS, IDAT and IEND: no text, time or eXIf chunk.
		c.ContentType = "image/png"
		err = (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&out, img)
	} else {
		err = jpeg.Encode(&out, img, &jpeg.Options{Quality: Quality})
	}
	if err != nil {
		return Cleaned{}, fmt.Errorf("failed to encode photo: %w", err)
	}
	c.Data = out.Bytes()
	if keepGPS && m.hasGPS {
		c.HasGPS, c.Lat, c.Lon = true, m.lat, m.lon
	}
	return c, nil
}

// cost is the memory Clean holds for a photo with this header, shrunk to
// dw x dh (row by row when scaled), and turned upright when oriented.
func (h header) cost(dw, dh int, scaled, oriented bool) int64 {
	// What the steps after decoding hold: the small picture (or a copy of
	// the decoded one as RGBA), the turned copy, and the encoder's buffer.
	small := 4 * int64(dw) * int64(dh)
	cost := small + small/2
	if oriented {
		cost += small
	}
	if scaled {
		rowBytes := int64(h.width)*int64(h.channels()*h.bitDepth)/8 + 1
		return cost + 2*rowBytes + 40*int64(dw) + 1<<16
	}
	return cost + h.decodeCost() + small
}

// fit returns the size of a w x h picture shrunk so that its longest side
// is at most maxSide.
func fit(w, h, maxSide int) (int, int) {
	switch {
	case w <= maxSide && h <= maxSide:
		return w, h
	case w >= h:
		return maxSide, max(1, h*maxSide/w)
	default:
		return max(1, w*maxSide/h), maxSide
	}
}

// shrink scales img to w x h, unless it has that size already.
func shrink(img image.Image, w, h int) image.Image {
	b := img.Bounds()
	if b.Dx() == w && b.Dy() == h {
		return img
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	// BiLinear widens its kernel when scaling down, so it does not alias,
	// and costs a fraction of CatmullRom on a 12-megapixel photo.
	draw.BiLinear.Scale(dst, dst.Bounds(), img, b, draw.Src, nil)
	return dst
}

// orient applies an EXIF orientation (1..8) to img so that the re-encoded
// file, which carries no orientation tag, shows the picture upright.
func orient(img image.Image, o int) image.Image {
	if o <= 1 || o > 8 {
		return img
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	dw, dh := w, h
	if o >= 5 { // 5..8 swap width and height
		dw, dh = h, w
	}
	src, ok := img.(*image.RGBA)
	if !ok || b.Min != (image.Point{}) {
		src = image.NewRGBA(image.Rect(0, 0, w, h))
		draw.Draw(src, src.Bounds(), img, b.Min, draw.Src)
	}
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	for y := range h {
		row := src.Pix[y*src.Stride:]
		for x := range w {
			var dx, dy int
			switch o {
			case 2: // mirrored horizontally
				dx, dy = w-1-x, y
			case 3: // rotated 180°
				dx, dy = w-1-x, h-1-y
			case 4: // mirrored vertically
				dx, dy = x, h-1-y
			case 5: // transposed
				dx, dy = y, x
			case 6: // rotated 90° clockwise to view
				dx, dy = h-1-y, x
			case 7: // transversed
				dx, dy = h-1-y, w-1-x
			case 8: // rotated 90° counter-clockwise to view
				dx, dy = y, w-1-x
			}
			copy(dst.Pix[dy*dst.Stride+4*dx:][:4], row[4*x:][:4])
		}
	}
	return dst
}
