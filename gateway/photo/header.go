package photo

import (
	"bytes"
	"encoding/binary"
)

// header is what a photo's first bytes say about the cost of decoding it.
// It is read before anything is decoded, so that a small file that expands
// to gigabytes (a "decompression bomb": a few hundred kilobytes of PNG can
// hold 49 megapixels of 16-bit colour) is priced, and refused or made to
// wait, before a byte of pixels is allocated.
type header struct {
	png    bool
	width  int
	height int

	// PNG (IHDR).
	bitDepth   int
	colorType  int
	interlaced bool

	// JPEG (SOF): the sampling factors of each component, and whether the
	// scan is progressive (the decoder then keeps every coefficient).
	samples     [][2]int
	progressive bool
}

const pngSignature = "\x89PNG\r\n\x1a\n"

// readHeader reads the IHDR of a PNG or the frame header (SOF) of a JPEG.
// It never reads past data and reports false for anything it does not
// understand.
func readHeader(data []byte) (header, bool) {
	switch {
	case bytes.HasPrefix(data, []byte(pngSignature)):
		return pngHeader(data)
	case bytes.HasPrefix(data, []byte("\xff\xd8\xff")):
		return jpegHeader(data)
	}
	return header{}, false
}

func pngHeader(data []byte) (header, bool) {
	const at = len(pngSignature)
	if len(data) < at+8+13 || binary.BigEndian.Uint32(data[at:]) != 13 || string(data[at+4:at+8]) != "IHDR" {
		return header{}, false
	}
	b := data[at+8:]
	h := header{png: true, width: int(binary.BigEndian.Uint32(b)), height: int(binary.BigEndian.Uint32(b[4:])),
		bitDepth: int(b[8]), colorType: int(b[9]), interlaced: b[12] == 1}
	if b[10] != 0 || b[11] != 0 || b[12] > 1 || h.width <= 0 || h.height <= 0 || h.width > 1<<24 || h.height > 1<<24 {
		return header{}, false
	}
	ok := false
	switch h.colorType {
	case 0:
		ok = h.bitDepth == 1 || h.bitDepth == 2 || h.bitDepth == 4 || h.bitDepth == 8 || h.bitDepth == 16
	case 3:
		ok = h.bitDepth == 1 || h.bitDepth == 2 || h.bitDepth == 4 || h.bitDepth == 8
	case 2, 4, 6:
		ok = h.bitDepth == 8 || h.bitDepth == 16
	}
	return h, ok
}

// channels is the number of samples of one PNG pixel.
func (h header) channels() int {
	switch h.colorType {
	case 2:
		return 3
	case 4:
		return 2
	case 6:
		return 4
	}
	return 1
}

func jpegHeader(data []byte) (header, bool) {
	for i := 2; i+4 <= len(data); {
		if data[i] != 0xFF {
			return header{}, false
		}
		marker := data[i+1]
		switch {
		case marker == 0xFF:
			i++
			continue
		case marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7):
			i += 2
			continue
		case marker == 0xDA || marker == 0xD9: // scan or end before a frame header
			return header{}, false
		}
		n := int(binary.BigEndian.Uint16(data[i+2:]))
		if n < 2 || i+2+n > len(data) {
			return header{}, false
		}
		seg := data[i+4 : i+2+n]
		// SOF0, SOF1 (baseline, extended) and SOF2 (progressive) are what
		// image/jpeg decodes; other frame types are refused by it anyway.
		if marker == 0xC0 || marker == 0xC1 || marker == 0xC2 {
			if len(seg) < 6 {
				return header{}, false
			}
			h := header{height: int(binary.BigEndian.Uint16(seg[1:])), width: int(binary.BigEndian.Uint16(seg[3:])),
				progressive: marker == 0xC2}
			nc := int(seg[5])
			if nc != 1 && nc != 3 && nc != 4 || len(seg) < 6+3*nc || h.width == 0 || h.height == 0 {
				return header{}, false
			}
			for c := range nc {
				hv := seg[6+3*c+1]
				hs, vs := int(hv>>4), int(hv&15)
				if hs < 1 || hs > 4 || vs < 1 || vs > 4 {
					return header{}, false
				}
				h.samples = append(h.samples, [2]int{hs, vs})
			}
			return h, true
		}
		i += 2 + n
	}
	return header{}, false
}

// decodeCost estimates the bytes image/png or image/jpeg allocate to decode
// the whole picture at full size, rounded up; for a progressive JPEG that
// includes the coefficients it keeps (64 int32 per 8x8 block).
func (h header) decodeCost() int64 {
	px := int64(h.width) * int64(h.height)
	if h.png {
		// The decoded image: Gray, Paletted (1 byte), Gray16 (2), RGBA,
		// NRGBA (4), RGBA64, NRGBA64 (8).
		per := int64(1)
		switch {
		case h.colorType == 0 && h.bitDepth == 16:
			per = 2
		case h.colorType == 2 || h.colorType == 4 || h.colorType == 6:
			per = 4
			if h.bitDepth == 16 {
				per = 8
			}
		}
		cost := px * per
		if h.interlaced {
			cost *= 2 // each pass is decoded into an image of its own
		}
		rows := 2 * (int64(h.width)*int64(h.channels()*h.bitDepth)/8 + 2)
		return cost + rows + 1<<16
	}
	hmax, vmax := 1, 1
	for _, s := range h.samples {
		hmax, vmax = max(hmax, s[0]), max(vmax, s[1])
	}
	// Planes are padded to whole MCUs.
	mw, mh := int64((h.width+8*hmax-1)/(8*hmax)*8*hmax), int64((h.height+8*vmax-1)/(8*vmax)*8*vmax)
	var planes int64
	for _, s := range h.samples {
		planes += mw * mh * int64(s[0]*s[1]) / int64(hmax*vmax)
	}
	cost := planes
	if h.progressive {
		cost += 4 * planes // int32 coefficients for every sample
	}
	if len(h.samples) == 4 {
		cost += 4 * px // CMYK: the planes are converted into a second image
	}
	return cost
}
