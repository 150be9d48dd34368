package photo

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
)

// meta is the little that is read from a photo's EXIF block before the block
// is thrown away: how to turn the picture upright, and (only when the witness
// asked for it) where it was taken.
type meta struct {
	orientation int // 1..8, 0 when absent
	hasGPS      bool
	lat, lon    float64
}

var errNoExif = errors.New("no EXIF block")

// jpegExif returns the TIFF body of the first APP1 "Exif" segment of a JPEG.
// It walks the marker segments up to the start of scan and never past the
// end of data.
func jpegExif(data []byte) ([]byte, error) {
	if len(data) < 4 || data[0] != 0xFF || data[1] != 0xD8 {
		return nil, errNoExif
	}
	for i := 2; i+4 <= len(data); {
		if data[i] != 0xFF {
			return nil, errNoExif
		}
		marker := data[i+1]
		switch {
		case marker == 0xFF: // fill byte
			i++
			continue
		case marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7):
			i += 2 // markers without a length
			continue
		case marker == 0xDA || marker == 0xD9: // start of scan, end of image
			return nil, errNoExif
		}
		n := int(binary.BigEndian.Uint16(data[i+2:]))
		if n < 2 || i+2+n > len(data) {
			return nil, errNoExif
		}
		seg := data[i+4 : i+2+n]
		if marker == 0xE1 && bytes.HasPrefix(seg, []byte("Exif\x00\x00")) {
			return seg[6:], nil
		}
		i += 2 + n
	}
	return nil, errNoExif
}

// pngExif returns the body of a PNG's eXIf chunk (a TIFF block, as in JPEG).
func pngExif(data []byte) ([]byte, error) {
	const sig = "\x89PNG\r\n\x1a\n"
	if !bytes.HasPrefix(data, []byte(sig)) {
		return nil, errNoExif
	}
	for i := len(sig); i+12 <= len(data); {
		n := binary.BigEndian.Uint32(data[i:])
		typ := string(data[i+4 : i+8])
		if uint64(n) > uint64(len(data)-i-12) {
			return nil, errNoExif
		}
		if typ == "eXIf" {
			return data[i+8 : i+8+int(n)], nil
		}
		if typ == "IDAT" || typ == "IEND" {
			// eXIf must come before the image data to be honoured.
			return nil, errNoExif
		}
		i += 12 + int(n)
	}
	return nil, errNoExif
}

// TIFF tags that are read; every other tag is ignored.
const (
	tagOrientation = 0x0112
	tagGPSIFD      = 0x8825
	tagGPSLatRef   = 0x0001
	tagGPSLat      = 0x0002
	tagGPSLonRef   = 0x0003
	tagGPSLon      = 0x0004

	typeShort    = 3
	typeLong     = 4
	typeRational = 5
	typeASCII    = 2

	maxIFDEntries = 512 // far above any real IFD; bounds the work on hostile input
)

// parseTIFF reads the orientation and, when wantGPS, the GPS position from an
// EXIF TIFF block. A malformed block yields whatever was read before the
// fault: the photo is re-encoded anyway, so a bad block only costs the
// extras.
func parseTIFF(b []byte, wantGPS bool) meta {
	var m meta
	if len(b) < 8 {
		return m
	}
	var bo binary.ByteOrder
	switch string(b[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return m
	}
	if bo.Uint16(b[2:]) != 42 {
		return m
	}
	var gpsIFD uint32
	readIFD(b, bo, bo.Uint32(b[4:]), func(tag, typ uint16, count uint32, val []byte) {
		switch {
		case tag == tagOrientation && typ == typeShort && count >= 1:
			if o := int(bo.Uint16(val)); o >= 1 && o <= 8 {
				m.orientation = o
			}
		case tag == tagGPSIFD && typ == typeLong && count == 1:
			gpsIFD = bo.Uint32(val)
		}
	})
	if !wantGPS || gpsIFD == 0 {
		return m
	}
	var latRef, lonRef byte
	var lat, lon []float64
	readIFD(b, bo, gpsIFD, func(tag, typ uint16, count uint32, val []byte) {
		switch {
		case tag == tagGPSLatRef && typ == typeASCII && count >= 1:
			latRef = val[0]
		case tag == tagGPSLonRef && typ == typeASCII && count >= 1:
			lonRef = val[0]
		case tag == tagGPSLat && typ == typeRational && count == 3:
			lat = rationals(bo, val, 3)
		case tag == tagGPSLon && typ == typeRational && count == 3:
			lon = rationals(bo, val, 3)
		}
	})
	if len(lat) != 3 || len(lon) != 3 || (latRef != 'N' && latRef != 'S') || (lonRef != 'E' && lonRef != 'W') {
		return m
	}
	la := lat[0] + lat[1]/60 + lat[2]/3600
	lo := lon[0] + lon[1]/60 + lon[2]/3600
	if latRef == 'S' {
		la = -la
	}
	if lonRef == 'W' {
		lo = -lo
	}
	if math.IsNaN(la) || math.IsNaN(lo) || math.Abs(la) > 90 || math.Abs(lo) > 180 || (la == 0 && lo == 0) {
		// 0,0 is what some phones write when they had no fix.
		return m
	}
	m.hasGPS, m.lat, m.lon = true, la, lo
	return m
}

var typeSize = map[uint16]uint32{1: 1, typeASCII: 1, typeShort: 2, typeLong: 4, typeRational: 8, 7: 1, 9: 4, 10: 8}

// readIFD calls f for each entry of the IFD at off with the entry's value
// bytes (inline or at their offset), skipping entries that point outside b.
func readIFD(b []byte, bo binary.ByteOrder, off uint32, f func(tag, typ uint16, count uint32, val []byte)) {
	if uint64(off)+2 > uint64(len(b)) {
		return
	}
	n := int(bo.Uint16(b[off:]))
	if n > maxIFDEntries {
		return
	}
	for i := range n {
		e := uint64(off) + 2 + uint64(i)*12
		if e+12 > uint64(len(b)) {
			return
		}
		tag, typ, count := bo.Uint16(b[e:]), bo.Uint16(b[e+2:]), bo.Uint32(b[e+4:])
		size, ok := typeSize[typ]
		if !ok || count == 0 {
			continue
		}
		total := uint64(size) * uint64(count)
		var val []byte
		if total <= 4 {
			val = b[e+8 : e+8+total]
		} else {
			p := uint64(bo.Uint32(b[e+8:]))
			if p+total > uint64(len(b)) {
				continue
			}
			val = b[p : p+total]
		}
		f(tag, typ, count, val)
	}
}

// rationals decodes n unsigned rationals; a zero denominator makes the value
// unusable (NaN), which the caller rejects.
func rationals(bo binary.ByteOrder, val []byte, n int) []float64 {
	if len(val) < 8*n {
		return nil
	}
	out := make([]float64, n)
	for i := range n {
		num, den := bo.Uint32(val[8*i:]), bo.Uint32(val[8*i+4:])
		if den == 0 {
			out[i] = math.NaN()
			continue
		}
		out[i] = float64(num) / float64(den)
	}
	return out
}
