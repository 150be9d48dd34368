package photo

import (
	"compress/zlib"
	"encoding/binary"
	"errors"
	"image"
	"io"
)

// decodePNGScaled decodes a non-interlaced PNG one row at a time straight
// into a dw x dh picture (box filter, premultiplied alpha), so that the
// memory it needs is two rows of the file and the small picture, whatever
// the size of the file's picture. image/png would first build the whole
// picture: 392 MB for 7000x7000 pixels of 16-bit RGBA.
func decodePNGScaled(data []byte, h header, dw, dh int) (*image.RGBA, error) {
	var palette [][4]uint8
	var trns []byte
	idat := -1
	for i := len(pngSignature); i+12 <= len(data); {
		n := binary.BigEndian.Uint32(data[i:])
		if uint64(n) > uint64(len(data)-i-12) {
			return nil, errBadPNG
		}
		body := data[i+8 : i+8+int(n)]
		switch string(data[i+4 : i+8]) {
		case "PLTE":
			if len(body)%3 != 0 || len(body) > 3*256 {
				return nil, errBadPNG
			}
			palette = make([][4]uint8, len(body)/3)
			for j := range palette {
				palette[j] = [4]uint8{body[3*j], body[3*j+1], body[3*j+2], 255}
			}
		case "tRNS":
			trns = body
		case "IDAT":
			idat = i
		}
		if idat >= 0 {
			break
		}
		i += 12 + int(n)
	}
	if idat < 0 || (h.colorType == 3 && len(palette) == 0) {
		return nil, errBadPNG
	}
	if h.colorType == 3 {
		for j := 0; j < len(trns) && j < len(palette); j++ {
			palette[j][3] = trns[j]
		}
	}
	zr, err := zlib.NewReader(&idatReader{data: data, at: idat})
	if err != nil {
		return nil, errBadPNG
	}
	defer zr.Close()

	w, hgt := h.width, h.height
	bitsPP := h.channels() * h.bitDepth
	bpp := max(1, bitsPP/8)
	rowBytes := (w*bitsPP + 7) / 8
	cur, prev := make([]byte, rowBytes+1), make([]byte, rowBytes+1)

	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	acc := make([]uint64, 4*dw)
	cols := make([]uint64, dw) // input columns that fall in each output column
	for x := range w {
		cols[x*dw/w]++
	}
	px := make([]uint8, 4)
	oy, rows := 0, uint64(0)
	flush := func() {
		out := dst.Pix[oy*dst.Stride:]
		for ox := range dw {
			n := cols[ox] * rows
			for c := range 4 {
				out[4*ox+c] = uint8((acc[4*ox+c] + n/2) / n)
			}
		}
		clear(acc)
		rows = 0
	}
	for y := range hgt {
		if _, err := io.ReadFull(zr, cur); err != nil {
			return nil, errBadPNG
		}
		if err := unfilter(cur[0], cur[1:], prev[1:], bpp); err != nil {
			return nil, err
		}
		if ny := y * dh / hgt; ny != oy {
			flush()
			oy = ny
		}
		row := cur[1:]
		for x := range w {
			if err := h.pixel(row, x, palette, trns, px); err != nil {
				return nil, err
			}
			a := uint32(px[3])
			o := 4 * (x * dw / w)
			acc[o] += uint64((uint32(px[0])*a + 127) / 255)
			acc[o+1] += uint64((uint32(px[1])*a + 127) / 255)
			acc[o+2] += uint64((uint32(px[2])*a + 127) / 255)
			acc[o+3] += uint64(a)
		}
		rows++
		cur, prev = prev, cur
	}
	flush()
	return dst, nil
}

var errBadPNG = errors.New("malformed PNG")

// idatReader reads the bodies of consecutive IDAT chunks from at.
type idatReader struct {
	data []byte
	at   int // the next chunk
	body []byte
}

func (r *idatReader) Read(p []byte) (int, error) {
	for len(r.body) == 0 {
		if r.at+12 > len(r.data) || string(r.data[r.at+4:r.at+8]) != "IDAT" {
			return 0, io.ErrUnexpectedEOF
		}
		n := binary.BigEndian.Uint32(r.data[r.at:])
		if uint64(n) > uint64(len(r.data)-r.at-12) {
			return 0, io.ErrUnexpectedEOF
		}
		r.body = r.data[r.at+8 : r.at+8+int(n)]
		r.at += 12 + int(n)
	}
	n := copy(p, r.body)
	r.body = r.body[n:]
	return n, nil
}

// unfilter reverses a PNG row filter in place.
func unfilter(f byte, cur, prev []byte, bpp int) error {
	switch f {
	case 0:
	case 1:
		for i := bpp; i < len(cur); i++ {
			cur[i] += cur[i-bpp]
		}
	case 2:
		for i := range cur {
			cur[i] += prev[i]
		}
	case 3:
		for i := range bpp {
			cur[i] += prev[i] / 2
		}
		for i := bpp; i < len(cur); i++ {
			cur[i] += uint8((int(cur[i-bpp]) + int(prev[i])) / 2)
		}
	case 4:
		for i := range cur {
			var a, c int
			if i >= bpp {
				a, c = int(cur[i-bpp]), int(prev[i-bpp])
			}
			b := int(prev[i])
			p := a + b - c
			pa, pb, pc := abs(p-a), abs(p-b), abs(p-c)
			switch {
			case pa <= pb && pa <= pc:
				cur[i] += uint8(a)
			case pb <= pc:
				cur[i] += uint8(b)
			default:
				cur[i] += uint8(c)
			}
		}
	default:
		return errBadPNG
	}
	return nil
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// pixel writes the x-th pixel of an unfiltered row as 8-bit, straight
// (not premultiplied) RGBA into px. 16-bit samples keep their high byte;
// tRNS is compared at full depth, as the PNG specification says.
func (h header) pixel(row []byte, x int, palette [][4]uint8, trns []byte, px []uint8) error {
	d := h.bitDepth
	switch h.colorType {
	case 0, 3:
		var v int
		if d == 16 {
			v = int(binary.BigEndian.Uint16(row[2*x:]))
		} else {
			bit := x * d
			v = int(row[bit/8]>>(8-d-bit%8)) & (1<<d - 1)
		}
		if h.colorType == 3 {
			if v >= len(palette) {
				return errBadPNG
			}
			copy(px, palette[v][:])
			return nil
		}
		g := uint8(v * 255 / (1<<d - 1))
		if d == 16 {
			g = uint8(v >> 8)
		}
		px[0], px[1], px[2], px[3] = g, g, g, 255
		if len(trns) >= 2 && int(binary.BigEndian.Uint16(trns)) == v {
			px[3] = 0
		}
	case 2:
		if d == 8 {
			px[0], px[1], px[2], px[3] = row[3*x], row[3*x+1], row[3*x+2], 255
			if len(trns) >= 6 && trns[1] == px[0] && trns[3] == px[1] && trns[5] == px[2] && trns[0]|trns[2]|trns[4] == 0 {
				px[3] = 0
			}
			return nil
		}
		s := row[6*x : 6*x+6]
		px[0], px[1], px[2], px[3] = s[0], s[2], s[4], 255
		if len(trns) >= 6 && string(trns[:6]) == string(s) {
			px[3] = 0
		}
	case 4:
		if d == 8 {
			px[0], px[1], px[2], px[3] = row[2*x], row[2*x], row[2*x], row[2*x+1]
		} else {
			px[0], px[1], px[2], px[3] = row[4*x], row[4*x], row[4*x], row[4*x+2]
		}
	case 6:
		if d == 8 {
			copy(px, row[4*x:4*x+4])
		} else {
			s := row[8*x:]
			px[0], px[1], px[2], px[3] = s[0], s[2], s[4], s[6]
		}
	}
	return nil
}
