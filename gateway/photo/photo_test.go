package photo_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"math"
	"testing"

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
			c, err := photo.Clean(tc.in, tc.keepGPS, photo.Options{})
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
		c, err := photo.Clean(phototest.JPEG(40, 20, phototest.EXIF{Orientation: tc.orientation}), false, photo.Options{})
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
	c, err := photo.Clean(phototest.JPEG(400, 100, phototest.EXIF{}), false, photo.Options{MaxSide: 100})
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
		if _, err := photo.Clean(tc.in, true, photo.Options{}); !errors.Is(err, tc.want) {
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
	f.Fuzz(func(t *testing.T, data []byte, keepGPS bool) {
		c, err := photo.Clean(data, keepGPS, photo.Options{MaxPixels: 1 << 20})
		if err != nil {
			return
		}
		if c.HasGPS && (!keepGPS || math.Abs(c.Lat) > 90 || math.Abs(c.Lon) > 180) {
			t.Fatalf("bad position %v %f %f", keepGPS, c.Lat, c.Lon)
		}
	})
}
