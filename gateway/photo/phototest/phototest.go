// Package phototest makes photos as phones write them, with an EXIF block
// holding a GPS position, an orientation and the phone's make, for tests
// that check what gateway/photo keeps and drops.
package phototest

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"math"
)

// EXIF describes the metadata to embed.
type EXIF struct {
	Lat, Lon    float64 // written when not both zero
	Orientation int     // written when non-zero
	Make        string  // written when not empty
}

// Image is a w x h picture, red on the left half and blue on the right, so
// a test can tell how it was turned.
func Image(w, h int) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.RGBA{200, 20, 20, 255}
			if x >= w/2 {
				c = color.RGBA{20, 20, 200, 255}
			}
			img.Set(x, y, c)
		}
	}
	return img
}

// JPEG returns a JPEG of Image(w, h) with e in an APP1 Exif segment.
func JPEG(w, h int, e EXIF) []byte {
	var buf bytes.Buffer
	jpeg.Encode(&buf, Image(w, h), &jpeg.Options{Quality: 90})
	b := buf.Bytes()
	tiff := TIFF(e)
	seg := append([]byte("Exif\x00\x00"), tiff...)
	app1 := []byte{0xFF, 0xE1, byte((len(seg) + 2) >> 8), byte(len(seg) + 2)}
	out := append([]byte{}, b[:2]...) // SOI
	out = append(out, app1...)
	out = append(out, seg...)
	return append(out, b[2:]...)
}

// PNG returns a PNG of Image(w, h) with a tEXt chunk and an eXIf chunk.
func PNG(w, h int, e EXIF, text string) []byte {
	var buf bytes.Buffer
	png.Encode(&buf, Image(w, h))
	b := buf.Bytes()
	// After the signature (8) and IHDR (8 + 13 + 4).
	at := 8 + 25
	out := append([]byte{}, b[:at]...)
	out = append(out, chunk("tEXt", []byte("Author\x00"+text))...)
	out = append(out, chunk("eXIf", TIFF(e))...)
	return append(out, b[at:]...)
}

func chunk(typ string, data []byte) []byte {
	out := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	out = append(out, typ...)
	out = append(out, data...)
	return binary.BigEndian.AppendUint32(out, crc(append([]byte(typ), data...)))
}

func crc(b []byte) uint32 {
	c := ^uint32(0)
	for _, x := range b {
		c ^= uint32(x)
		for range 8 {
			if c&1 == 1 {
				c = c>>1 ^ 0xEDB88320
			} else {
				c >>= 1
			}
		}
	}
	return ^c
}

// TIFF builds a little-endian EXIF TIFF block: IFD0 with Make, Orientation
// and a GPS IFD pointer; the GPS IFD with the position.
func TIFF(e EXIF) []byte {
	type entry struct {
		tag, typ uint16
		count    uint32
		data     []byte
	}
	le := binary.LittleEndian
	u16 := func(v uint16) []byte { return le.AppendUint16(nil, v) }
	u32 := func(v uint32) []byte { return le.AppendUint32(nil, v) }
	rat := func(deg float64) []byte {
		deg = math.Abs(deg)
		d := math.Floor(deg)
		m := math.Floor((deg - d) * 60)
		s := ((deg-d)*60 - m) * 60
		var out []byte
		for _, v := range [][2]uint32{{uint32(d), 1}, {uint32(m), 1}, {uint32(math.Round(s * 1000)), 1000}} {
			out = append(out, u32(v[0])...)
			out = append(out, u32(v[1])...)
		}
		return out
	}
	var ifd0, gps []entry
	if e.Make != "" {
		ifd0 = append(ifd0, entry{0x010F, 2, uint32(len(e.Make) + 1), append([]byte(e.Make), 0)})
	}
	if e.Orientation != 0 {
		ifd0 = append(ifd0, entry{0x0112, 3, 1, u16(uint16(e.Orientation))})
	}
	hasGPS := e.Lat != 0 || e.Lon != 0
	if hasGPS {
		ns, ew := "N", "E"
		if e.Lat < 0 {
			ns = "S"
		}
		if e.Lon < 0 {
			ew = "W"
		}
		gps = []entry{
			{1, 2, 2, []byte(ns + "\x00")}, {2, 5, 3, rat(e.Lat)},
			{3, 2, 2, []byte(ew + "\x00")}, {4, 5, 3, rat(e.Lon)},
		}
		ifd0 = append(ifd0, entry{0x8825, 4, 1, nil}) // offset filled below
	}
	// Layout: header (8) | IFD0 | GPS IFD | data area.
	ifdSize := func(n int) int { return 2 + 12*n + 4 }
	ifd0At := 8
	gpsAt := ifd0At + ifdSize(len(ifd0))
	dataAt := gpsAt
	if hasGPS {
		dataAt += ifdSize(len(gps))
	}
	var data []byte
	write := func(es []entry, next uint32) []byte {
		out := u16(uint16(len(es)))
		for _, en := range es {
			out = append(out, u16(en.tag)...)
			out = append(out, u16(en.typ)...)
			out = append(out, u32(en.count)...)
			switch {
			case en.tag == 0x8825:
				out = append(out, u32(uint32(gpsAt))...)
			case len(en.data) <= 4:
				v := append(append([]byte{}, en.data...), make([]byte, 4-len(en.data))...)
				out = append(out, v...)
			default:
				out = append(out, u32(uint32(dataAt+len(data)))...)
				data = append(data, en.data...)
			}
		}
		return append(out, u32(next)...)
	}
	out := []byte("II*\x00")
	out = append(out, u32(uint32(ifd0At))...)
	out = append(out, write(ifd0, 0)...)
	if hasGPS {
		out = append(out, write(gps, 0)...)
	}
	return append(out, data...)
}

// PNG16 returns a w x h PNG of 16-bit RGBA, red on the left half and blue
// on the right like Image, written row by row so that making one of 49
// megapixels costs the test almost no memory. Being almost uniform it
// compresses about a thousand to one: the shape of a decompression bomb
// (7000 x 7000 is under 400 KB, and 392 MB once decoded by image/png).
func PNG16(w, h int) []byte {
	row := make([]byte, 1+8*w) // filter type 0, then RGBA at 16 bits
	for x := range w {
		px := row[1+8*x:]
		if x < w/2 {
			copy(px, []byte{200, 0, 20, 0, 20, 0, 255, 255})
		} else {
			copy(px, []byte{20, 0, 20, 0, 200, 0, 255, 255})
		}
	}
	return png16(w, h, 0, func(zw io.Writer) {
		for range h {
			zw.Write(row)
		}
	})
}

// PNG16Interlaced returns a w x h PNG of 16-bit RGBA in Adam7 interlacing,
// one grey: a decompression bomb that cannot be decoded row by row into a
// small picture (image/png decodes each of its seven passes into an image
// of its own), so it costs its full size.
func PNG16Interlaced(w, h int) []byte {
	return png16(w, h, 1, func(zw io.Writer) {
		// Adam7: x start, y start, x step, y step of each pass.
		for _, p := range [7][4]int{{0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8}, {2, 0, 4, 4}, {0, 2, 2, 4}, {1, 0, 2, 2}, {0, 1, 1, 2}} {
			pw, ph := (w-p[0]+p[2]-1)/p[2], (h-p[1]+p[3]-1)/p[3]
			if pw <= 0 || ph <= 0 {
				continue
			}
			row := make([]byte, 1+8*pw) // filter type 0, then RGBA at 16 bits
			for x := range pw {
				copy(row[1+8*x:], []byte{120, 0, 120, 0, 120, 0, 255, 255})
			}
			for range ph {
				zw.Write(row)
			}
		}
	})
}

// png16 writes a w x h 16-bit RGBA PNG whose filtered rows writeRows
// gives, compressed into one IDAT chunk.
func png16(w, h int, interlace byte, writeRows func(io.Writer)) []byte {
	var buf bytes.Buffer
	buf.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := binary.BigEndian.AppendUint32(nil, uint32(w))
	ihdr = binary.BigEndian.AppendUint32(ihdr, uint32(h))
	ihdr = append(ihdr, 16, 6, 0, 0, interlace)
	buf.Write(chunk("IHDR", ihdr))
	var z bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&z, zlib.BestCompression)
	writeRows(zw)
	zw.Close()
	buf.Write(chunk("IDAT", z.Bytes()))
	buf.Write(chunk("IEND", nil))
	return buf.Bytes()
}
