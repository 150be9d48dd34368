package photo_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"image/png"
	"math"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/hotline-org/hotline/gateway/photo"
	"github.com/hotline-org/hotline/gateway/photo/phototest"
)

const (
	limaLat, limaLon = -12.0857, -76.9397
	canaryMake       = "CanaryPhoneMaker"
)

func TestCleanDropsMetadata(t *testing.T) {
	e := phototest.EXIF{Lat: limaLat, Lon: limaLon, Orientation: 1, Make: canaryMake}
	for _, tc := range []struct {
		name     string
		in       []byte
		keepGPS  bool
		wantType string
		wantGPS  bool
	}{
		{"jpeg, location not asked", phototest.JPEG(64, 48, e), false, "image/jpeg", false},
		{"jpeg, location asked", phototest.JPEG(64, 48, e), true, "image/jpeg", true},
		{"png, location not asked", phototest.PNG(64, 48, e, "CanaryAuthor"), false, "image/png", false},
		{"png, location asked", phototest.PNG(64, 48, e, "CanaryAuthor"), true, "image/png", true},
		{"jpeg without exif, location asked", phototest.JPEG(64, 48, phototest.EXIF{}), true, "image/jpeg", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !bytes.Contains(tc.in, []byte(canaryMake)) && tc.wantGPS {
				t.Fatal("the test photo carries no metadata: the test proves nothing")
			}
			c, err := photo.Clean(t.Context(), tc.in, tc.keepGPS, photo.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if c.ContentType != tc.wantType {
				t.Errorf("content type %s, want %s", c.ContentType, tc.wantType)
			}
			for _, leak := range [][]byte{[]byte(canaryMake), []byte("CanaryAuthor"), []byte("Exif"), []byte("eXIf"), []byte("tEXt"), []byte("II*\x00")} {
				if bytes.Contains(c.Data, leak) {
					t.Errorf("cleaned photo still contains %q", leak)
				}
			}
			img, _, err := image.Decode(bytes.NewReader(c.Data))
			if err != nil || img.Bounds().Dx() != 64 || img.Bounds().Dy() != 48 {
				t.Fatalf("cleaned photo does not decode to 64x48: %v", err)
			}
			if c.HasGPS != tc.wantGPS {
				t.Fatalf("HasGPS = %v, want %v", c.HasGPS, tc.wantGPS)
			}
			if tc.wantGPS && (math.Abs(c.Lat-limaLat) > 1e-5 || math.Abs(c.Lon-limaLon) > 1e-5) {
				t.Errorf("position %f,%f, want %f,%f", c.Lat, c.Lon, limaLat, limaLon)
			}
		})
	}
}

// TestCleanOrients checks every EXIF orientation: the re-encoded picture
// has no orientation tag, so its pixels must be turned upright. The test
// image is red on the left and blue on the right when upright.
func TestCleanOrients(t *testing.T) {
	for _, tc := range []struct {
		orientation int
		w, h        int
		redAt       image.Point // a pixel that must be red once upright
	}{
		{1, 40, 20, image.Pt(2, 10)},
		{2, 40, 20, image.Pt(37, 10)}, // mirrored: red ends on the right
		{3, 40, 20, image.Pt(37, 10)},
		{6, 20, 40, image.Pt(10, 2)}, // rotated: the left half becomes the top
		{8, 20, 40, image.Pt(10, 37)},
	} {
		c, err := photo.Clean(t.Context(), phototest.JPEG(40, 20, phototest.EXIF{Orientation: tc.orientation}), false, photo.Options{})
		if err != nil {
			t.Fatal(err)
		}
		img, _, _ := image.Decode(bytes.NewReader(c.Data))
		if img.Bounds().Dx() != tc.w || img.Bounds().Dy() != tc.h {
			t.Errorf("orientation %d: size %v, want %dx%d", tc.orientation, img.Bounds().Size(), tc.w, tc.h)
			continue
		}
		r, _, b, _ := img.At(tc.redAt.X, tc.redAt.Y).RGBA()
		if r < b {
			t.Errorf("orientation %d: pixel %v is not red", tc.orientation, tc.redAt)
		}
	}
}

func TestCleanShrinks(t *testing.T) {
	c, err := photo.Clean(t.Context(), phototest.JPEG(400, 100, phototest.EXIF{}), false, photo.Options{MaxSide: 100})
	if err != nil {
		t.Fatal(err)
	}
	img, _, _ := image.Decode(bytes.NewReader(c.Data))
	if img.Bounds().Dx() != 100 || img.Bounds().Dy() != 25 {
		t.Errorf("size %v, want 100x25", img.Bounds().Size())
	}
}

func TestCleanRefuses(t *testing.T) {
	huge := phototest.JPEG(16, 16, phototest.EXIF{})
	// Claim 30000 x 30000 pixels in the frame header: refused before any
	// decoding, so a small file cannot make the gateway allocate gigabytes.
	if i := bytes.Index(huge, []byte{0xFF, 0xC0}); i > 0 {
		binary.BigEndian.PutUint16(huge[i+5:], 30000)
		binary.BigEndian.PutUint16(huge[i+7:], 30000)
	} else {
		t.Fatal("no SOF0 in the test JPEG")
	}
	for _, tc := range []struct {
		name string
		in   []byte
		want error
	}{
		{"text", []byte("hello, this is not a photo"), photo.ErrUnsupported},
		{"gif", []byte("GIF89a\x01\x00\x01\x00"), photo.ErrUnsupported},
		{"truncated jpeg", phototest.JPEG(16, 16, phototest.EXIF{})[:200], photo.ErrUnsupported},
		{"too many pixels", huge, photo.ErrTooLarge},
		{"empty", nil, photo.ErrUnsupported},
	} {
		if _, err := photo.Clean(t.Context(), tc.in, true, photo.Options{}); !errors.Is(err, tc.want) {
			t.Errorf("%s: err %v, want %v", tc.name, err, tc.want)
		}
	}
}

// FuzzClean feeds arbitrary bytes, and real photos with damaged EXIF
// blocks: Clean must never panic, and never return metadata it was not
// asked for.
func FuzzClean(f *testing.F) {
	f.Add(phototest.JPEG(8, 8, phototest.EXIF{Lat: 3.1, Lon: 101.6, Orientation: 6, Make: "x"}), true)
	f.Add(phototest.PNG(8, 8, phototest.EXIF{Lat: 3.1, Lon: 101.6}, "a"), false)
	f.Add([]byte("\xff\xd8\xff\xe1\x00\x10Exif\x00\x00MM\x00*\x00\x00\x00\x08"), true)
	f.Add(phototest.PNG16(40, 30), false)
	f.Add(progressiveHeader(40, 30), false)
	pal := image.NewPaletted(image.Rect(0, 0, 33, 17), color.Palette{color.NRGBA{1, 2, 3, 4}, color.Black, color.White})
	var buf bytes.Buffer
	png.Encode(&buf, pal)
	f.Add(buf.Bytes(), false)
	f.Fuzz(func(t *testing.T, data []byte, keepGPS bool) {
		// MaxSide 8: the row-by-row PNG decoder runs on anything larger.
		c, err := photo.Clean(t.Context(), data, keepGPS, photo.Options{MaxPixels: 1 << 20, MaxSide: 8, Budget: photo.NewBudget(64 << 20)})
		if err != nil {
			return
		}
		if c.HasGPS && (!keepGPS || math.Abs(c.Lat) > 90 || math.Abs(c.Lon) > 180) {
			t.Fatalf("bad position %v %f %f", keepGPS, c.Lat, c.Lon)
		}
	})
}

// TestCleanBoundsMemory reproduces the decompression bomb of issue 11: a
// 7000 x 7000 PNG of 16-bit colour, a few hundred kilobytes on the wire,
// made image/png allocate 392 MB for the full picture. Cleaning it must
// cost about the small picture it becomes.
func TestCleanBoundsMemory(t *testing.T) {
	bomb := phototest.PNG16(7000, 7000)
	if len(bomb) > 1<<20 {
		t.Fatalf("test PNG is %d bytes, want a small file", len(bomb))
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	c, err := photo.Clean(t.Context(), bomb, false, photo.Options{})
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("cleaning a %d KB PNG of 7000 x 7000 at 16 bits allocated %d MB", len(bomb)>>10, alloc>>20)
	if alloc > 80<<20 {
		t.Errorf("cleaning allocated %d MB, want under 80 MB (the 2560-pixel result is 26 MB)", alloc>>20)
	}
	img, err := png.Decode(bytes.NewReader(c.Data))
	if err != nil {
		t.Fatal(err)
	}
	if img.Bounds().Dx() != photo.DefaultMaxSide || img.Bounds().Dy() != photo.DefaultMaxSide {
		t.Fatalf("size %v, want %dx%[2]d", img.Bounds().Size(), photo.DefaultMaxSide)
	}
	left, right := color.NRGBAModel.Convert(img.At(10, 10)).(color.NRGBA), color.NRGBAModel.Convert(img.At(2550, 2550)).(color.NRGBA)
	if left != (color.NRGBA{200, 20, 20, 255}) || right != (color.NRGBA{20, 20, 200, 255}) {
		t.Errorf("pixels %v and %v, want the red and blue halves", left, right)
	}
}

// TestCleanScaledPNGMatches compares the row-by-row PNG decoder with
// image/png on every kind of PNG image/png writes: the same picture must
// come out, shrunk.
func TestCleanScaledPNGMatches(t *testing.T) {
	const w, h = 301, 203
	grad := func(x, y int) color.NRGBA {
		return color.NRGBA{uint8(x * 255 / w), uint8(y * 255 / h), uint8((x + y) * 255 / (w + h)), uint8(128 + x*127/w)}
	}
	pal := color.Palette{}
	for i := range 16 {
		pal = append(pal, color.NRGBA{uint8(i * 16), uint8(255 - i*16), 90, uint8(255 - i*8)})
	}
	for _, tc := range []struct {
		name string
		img  func() image.Image
	}{
		{"gray", func() image.Image { return fill(image.NewGray(image.Rect(0, 0, w, h)), grad) }},
		{"gray16", func() image.Image { return fill(image.NewGray16(image.Rect(0, 0, w, h)), grad) }},
		{"rgb", func() image.Image { return fill(image.NewRGBA(image.Rect(0, 0, w, h)), opaque(grad)) }},
		{"rgb16", func() image.Image { return fill(image.NewRGBA64(image.Rect(0, 0, w, h)), opaque(grad)) }},
		{"nrgba", func() image.Image { return fill(image.NewNRGBA(image.Rect(0, 0, w, h)), grad) }},
		{"nrgba16", func() image.Image { return fill(image.NewNRGBA64(image.Rect(0, 0, w, h)), grad) }},
		{"paletted 4-bit with alpha", func() image.Image { return fill(image.NewPaletted(image.Rect(0, 0, w, h), pal), grad) }},
		{"paletted 1-bit", func() image.Image { return fill(image.NewPaletted(image.Rect(0, 0, w, h), pal[:2]), grad) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := png.Encode(&buf, tc.img()); err != nil {
				t.Fatal(err)
			}
			c, err := photo.Clean(t.Context(), buf.Bytes(), false, photo.Options{MaxSide: 100})
			if err != nil {
				t.Fatal(err)
			}
			got, err := png.Decode(bytes.NewReader(c.Data))
			if err != nil {
				t.Fatal(err)
			}
			if got.Bounds().Dx() != 100 || got.Bounds().Dy() != 67 {
				t.Fatalf("size %v, want 100x67", got.Bounds().Size())
			}
			want, _ := png.Decode(bytes.NewReader(buf.Bytes()))
			// Compare each output pixel with the mean of the pixels of the
			// original that fall in it, premultiplied as the decoder averages.
			sums := make([][5]int, 100*67)
			for y := range h {
				for x := range w {
					r, g, b, a := want.At(x, y).RGBA()
					s := &sums[(y*67/h)*100+x*100/w]
					s[0], s[1], s[2], s[3], s[4] = s[0]+int(r), s[1]+int(g), s[2]+int(b), s[3]+int(a), s[4]+1
				}
			}
			var worst int
			for i, s := range sums {
				r, g, b, a := got.At(i%100, i/100).RGBA()
				for c, v := range []uint32{r, g, b, a} {
					worst = max(worst, abs(int(v>>8)-s[c]/s[4]>>8))
				}
			}
			if worst > 3 {
				t.Errorf("a pixel differs by %d levels from the mean of its box", worst)
			}
		})
	}
}

func fill[T interface {
	image.Image
	Set(x, y int, c color.Color)
}](img T, f func(x, y int) color.NRGBA) image.Image {
	b := img.Bounds()
	for y := range b.Dy() {
		for x := range b.Dx() {
			img.Set(x, y, f(x, y))
		}
	}
	return img
}

func opaque(f func(x, y int) color.NRGBA) func(x, y int) color.NRGBA {
	return func(x, y int) color.NRGBA { c := f(x, y); c.A = 255; return c }
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// TestCleanWaitsForBudget: while other photos hold the budget, Clean waits
// (until its context ends) instead of decoding beside them; a photo that
// could never fit in the budget is refused at once.
func TestCleanWaitsForBudget(t *testing.T) {
	b := photo.NewBudget(64 << 20)
	img := phototest.JPEG(64, 48, phototest.EXIF{})
	release := b.Hold(64 << 20)
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	if _, err := photo.Clean(ctx, img, false, photo.Options{Budget: b}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Clean with the budget spent: %v, want it to wait until its context ends", err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			_, err := photo.Clean(t.Context(), img, false, photo.Options{Budget: b})
			errs <- err
		})
	}
	release() // the waiting ones now go, in turn
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Clean after the budget was released: %v", err)
		}
	}
	// 12 megapixels of progressive 4:4:4 JPEG need about 180 MB at full
	// size: more than this whole budget, so refused without waiting.
	if _, err := photo.Clean(t.Context(), progressiveHeader(4000, 3000), false, photo.Options{Budget: b}); !errors.Is(err, photo.ErrTooLarge) {
		t.Errorf("photo over the whole budget: %v, want ErrTooLarge", err)
	}
}

// progressiveHeader is the start of a progressive 4:4:4 JPEG of w x h.
func progressiveHeader(w, h int) []byte {
	b := []byte{0xFF, 0xD8, 0xFF, 0xC2, 0, 17, 8, byte(h >> 8), byte(h), byte(w >> 8), byte(w), 3}
	for c := range 3 {
		b = append(b, byte(c+1), 0x11, 0)
	}
	return append(b, 0xFF, 0xD9)
}
